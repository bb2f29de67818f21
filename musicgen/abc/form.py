"""A tune's form as a folk musician counts it: its parts, the bars of each, and which are repeated.

A part ends at ``:|``, ``||``, ``|]``, where a new repeat ``|:`` begins
after bars of its own, or at the end of the tune. First and second endings
count as one bar each time round: the bars of a second ending are not
counted again. A short first bar of a part (shorter than the meter) is a
pickup and is not counted. So a reel written ``|:`` 8 bars ``:|`` ``|:`` 8
bars ``:|`` has the form ``AABB`` with parts of 8 and 8 bars, and so has
one written out in full without repeat signs only if its parts are marked
off by ``||`` (it is then ``AB``, 8 and 8, played once each).

Pure Python: no torch, no music21.
"""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.melody import read_bar
from musicgen.errors import ConversionError

#: What is not music between bar lines: quoted text (chords, annotations), decorations, inline fields, comments.
_NOT_MUSIC = re.compile(r'"[^"\n]*"|![^!\n]*!|\+[^+\n]*\+|\[[A-Za-z]:[^\]\n]*\]|%[^\n]*')
#: A field line inside the body (``P:B``, ``W:...``).
_FIELD_LINE = re.compile(r"^[A-Za-z]:[^\n]*$", re.MULTILINE)
#: A bar-line mark (``|``, ``||``, ``|]``, ``[|``, ``|:``, ``:|``, ``::``, ``:|:``) with an ending number after it,
#: or an ending alone (``[1``, ``[2``).
_MARK = re.compile(r"(\[?[|:]*\|[|:]*\]?|::+)(\d)?|\[(\d)")
_NOTE = re.compile(r"[A-Ga-gzx]")
#: Bars a dance tune's part has: 8, or 16 where a part is written in long bars' halves.
PART_BARS = (8, 16)


@dataclass
class Part:
    """One part of a tune: how many bars it has and whether it is repeated."""

    bars: int
    repeated: bool = False


@dataclass
class Form:
    """A tune's parts in order."""

    parts: list[Part] = field(default_factory=list)

    @property
    def pattern(self) -> str:
        """One letter per part, twice for a repeated part: ``AABB``, ``AB``, ``AABBCC``."""
        letters = string.ascii_uppercase
        return "".join(letters[i % 26] * (2 if part.repeated else 1) for i, part in enumerate(self.parts))

    @property
    def bars(self) -> int:
        """Bars in all, each part counted once."""
        return sum(part.bars for part in self.parts)

    @property
    def dance_form(self) -> bool:
        """Two or more parts, each of 8 or 16 bars: the shape of a reel, jig or hornpipe."""
        return len(self.parts) >= 2 and all(part.bars in PART_BARS for part in self.parts)

    def describe(self) -> str:
        """``AABB 8+8``: the pattern and the bars of each part."""
        return f"{self.pattern or '-'} {'+'.join(str(part.bars) for part in self.parts) or '0'}"


def _clean(body: str) -> str:
    return _NOT_MUSIC.sub(" ", _FIELD_LINE.sub(" ", body))


def _tokens(body: str) -> list[tuple[str, str, int]]:
    """(music before the mark, the mark, its ending number or 0) for each mark, then the rest with an empty mark."""
    text = _clean(body)
    tokens, start = [], 0
    for match in _MARK.finditer(text):
        mark = match.group(1) or "["
        number = int(match.group(2) or match.group(3) or 0)
        tokens.append((text[start : match.start()], mark, number))
        start = match.end()
    tokens.append((text[start:], "", 0))
    return tokens


class _Counter:
    """Walks a tune's bars and marks, closing parts as a musician would."""

    def __init__(self, measure: Callable[[str], tuple[Fraction, Fraction | None]]):
        self.measure = measure  # music -> (its length, the meter's), in whole notes
        self.carry = Fraction(0)  # length of the short bar just counted, which the next short one may complete
        self.parts: list[Part] = []
        self.bars = 0
        self.first_bar = True
        self.repeated = False
        self.ending = 0
        self.first_ending_bars = 0
        self.second_ending_bars = 0

    def copy(self) -> _Counter:
        """The count as it stands (parts are never changed once closed, so the list is copied, not them)."""
        twin = copy.copy(self)
        twin.parts = list(self.parts)
        return twin

    def bar(self, music: str) -> None:
        if not _NOTE.search(music):
            return
        length, bar_length = self.measure(music)
        short = bar_length is not None and 0 < length < bar_length
        if self.ending == 2:
            self.second_ending_bars += 1  # the second time round: the first ending's bars stand for these
        elif self.first_bar and short:
            self.carry = Fraction(0)  # a pickup: it completes the part's last bar, not a bar of its own
        elif short and self.carry and bar_length is not None and self.carry + length <= bar_length:
            # the rest of a bar split by a line's end or an ending mark
            self.carry = Fraction(0) if self.carry + length == bar_length else self.carry + length
        else:
            self.bars += 1
            self.first_ending_bars += self.ending == 1
            self.carry = length if short else Fraction(0)
        self.first_bar = False

    def close(self) -> None:
        if self.bars:
            self.parts.append(Part(self.bars, self.repeated))
        self.bars, self.first_bar, self.repeated, self.ending = 0, True, False, 0
        self.first_ending_bars = self.second_ending_bars = 0
        self.carry = Fraction(0)

    def mark(self, mark: str, number: int, second_follows: bool) -> None:
        if self.ending == 2 and number == 0 and self.second_ending_bars >= max(1, self.first_ending_bars):
            if mark in ("|", "[|"):  # the second ending has run its length with no double bar: the part ends
                self.close()
                return
        closes, opens = mark.startswith(":"), mark.endswith(":") and mark != ":"
        if mark == "::":
            closes = opens = True
        if closes:
            self.repeated = True
            if number == 2 or second_follows:
                self.ending = 2
            else:
                self.close()
        elif mark.rstrip(":") in ("||", "|]", "[|]") or (mark.endswith("]") and "|" in mark):
            self.close()
        if opens and not closes and self.bars:
            self.close()  # a new repeat after bars of its own: a new part
        if number in (1, 2) and not (closes and number == 2):
            self.ending = number


@dataclass
class WalkMemo:
    """What :func:`form_so_far` read of a growing body last time, so the next call reads only what is new.

    ``states[i]`` is the count after the first ``i`` bars and marks, which stands while the body's
    first ``i + 1`` of them are unchanged (a mark is read with the music after it: is it a second ending?).
    """

    lengths: dict = field(default_factory=dict)  # each bar's measured lengths, by its text
    tokens: list = field(default_factory=list)
    states: list = field(default_factory=list)


def _walk(body: str, fields: dict[str, str] | None, memo: WalkMemo | None = None) -> _Counter:
    """A counter that has read every bar and mark of ``body``, its last part left open.

    ``memo`` is kept by a caller that counts a growing body: each bar is measured once, and the bars
    and marks it read last time, unchanged, are not read again.
    """
    fields = fields or {}
    keep = memo is not None  # a one-off reading keeps no counts to go back to
    memo = memo or WalkMemo()
    lengths = memo.lengths

    def measure(music: str) -> tuple[Fraction, Fraction | None]:
        if music not in lengths:
            try:
                length, bar_length, _ = read_bar(fields, music)
                lengths[music] = (length, bar_length)
            except ConversionError:
                lengths[music] = (Fraction(0), None)
        return lengths[music]

    tokens = _tokens(body)
    same = 0
    while same < min(len(tokens), len(memo.tokens)) and tokens[same] == memo.tokens[same]:
        same += 1
    start = max(0, min(len(memo.states) - 1, same - 1))
    counter = memo.states[start].copy() if start else _Counter(measure)
    memo.tokens, memo.states = tokens, memo.states[: start + 1] or [counter.copy()]
    for index in range(start, len(tokens)):
        music, mark, number = tokens[index]
        counter.bar(music)
        following = tokens[index + 1] if index + 1 < len(tokens) else ("", "", 0)
        second_follows = not _NOTE.search(following[0]) and following[2] == 2
        if mark:
            counter.mark(mark, number, second_follows)
        if keep:
            memo.states.append(counter.copy())
    return counter


def tune_form(body: str, fields: dict[str, str] | None = None) -> Form:
    """The form of a tune's body (the music after ``K:``); ``fields`` (M, L, K) tell a pickup by its length."""
    counter = _walk(body, fields)
    counter.close()
    return Form(counter.parts)


@dataclass
class FormSoFar:
    """Where a tune being written stands in its form: the parts it has closed, and the part under way."""

    closed: list[Part]
    open_bars: int  # bars of the part under way, the bar being written counted once it has a note
    in_second_ending: bool  # the part under way is in its second ending (it has been played twice)


def form_so_far(body: str, fields: dict[str, str] | None = None, memo: WalkMemo | None = None) -> FormSoFar:
    """The parts closed so far in an unfinished body, and the bars of the one under way.

    ``memo``: a :class:`WalkMemo` kept between calls on the same tune (same M:, L:, K:), so each
    call reads only the bars written (or written again) since the last.
    """
    counter = _walk(body, fields, memo)
    return FormSoFar(list(counter.parts), counter.bars, counter.ending == 2)
