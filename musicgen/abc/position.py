"""Where a tune stands in its form code, character by character: what a model is told as it reads and writes.

An LSTM told ``N:AABB 8`` in a tune's header must count bars for itself to
know where a part ends, and rarely knows; a tune held to its code then
closes at a bar it did not see coming, seldom on a cadence. A model trained
with form positions (``ModelConfig.form_positions``) reads beside each
character a code from :func:`position_code`: the bars its part has left by
the code (the bar under way counted once it has a note, so 0 in a part's
last bar), whether that part is the tune's last, or that every part is
closed. Training computes the codes from each tune's text
(:func:`form_positions`); the sampler keeps a :class:`FormClock` per tune
and gives the model the same codes as it writes.

Parts and bars are counted as :func:`musicgen.abc.form.form_so_far` counts
them (pickups, endings, ``::``). Pure Python: no torch.
"""

from __future__ import annotations

import re

from musicgen.abc.codes import FORM_FIELD, read_form_code
from musicgen.abc.form import FormSoFar, WalkMemo, form_so_far

#: Bars left in a part above which the codes are the same (a part of 16 bars reads 16 at its start).
MOST_BARS_LEFT = 16
#: No position: the header, or a tune whose ``N:`` line is no form code.
NO_POSITION = 0
#: Every part the code names is closed.
FINISHED = 1 + 2 * (MOST_BARS_LEFT + 1)
#: How many codes there are (the rows of a model's form-position table).
POSITION_CODES = FINISHED + 1

#: A whole ``K:`` line: where a header ends and the music begins.
_KEY_LINE = re.compile(r"(?:^|\n)K:[^\n]*\n")
#: A header field line.
_FIELD_LINE = re.compile(r"^([A-Za-z]):(.*)$", re.MULTILINE)
#: Bar-line characters: the parts are counted again at the first character after them.
_MARKS = frozenset("|:[]")
_NOTES = frozenset("ABCDEFGabcdefg")


def position_code(wanted: tuple[str, tuple[int, ...]], so_far: FormSoFar, bar_notes: int) -> int:
    """The code for a tune held to ``wanted`` (a :func:`~musicgen.abc.codes.read_form_code` result) that
    stands at ``so_far``, plus ``bar_notes`` (1: the bar under way has a note ``so_far`` did not count)."""
    bars = wanted[1]
    done = len(so_far.closed)
    if done >= len(bars):
        return FINISHED
    left = max(0, min(MOST_BARS_LEFT, bars[done] - so_far.open_bars - bar_notes))
    return 1 + (done == len(bars) - 1) * (MOST_BARS_LEFT + 1) + left


def header_fields(header: str) -> dict[str, str]:
    """The fields bars are read by (M, L, K, R) and the form code (N) of a header, the last of each."""
    return {m.group(1): m.group(2) for m in _FIELD_LINE.finditer(header) if m.group(1) in "MLKNR"}


class FormClock:
    """A tune's position in its form code (:func:`position_code`) as its body is written.

    Args:
        fields: the tune's header fields (:func:`header_fields`); without a readable ``N:`` form
            code every position is :data:`NO_POSITION`.

    The parts are counted again at the first character after a bar line, and the bar under way is
    counted at its first note; in between, the count stands. :meth:`snapshot` and :meth:`restore`
    let a sampler go back to a bar's start.
    """

    def __init__(self, fields: dict[str, str]):
        self.wanted = read_form_code(fields.get(FORM_FIELD, ""))
        self.fields = dict(fields)
        self.body: list[str] = []
        self.memo = WalkMemo()  # what form_so_far read of the body last time
        self.so_far: FormSoFar | None = None
        self.recount = True  # a bar line since the last count
        self.bar_notes = 0  # 1 once the bar under way has a note the last count did not see
        self.new_bar = True  # no note since the last bar line
        self.in_mark = False  # the last character was part of a bar line
        self.known: int | None = None  # the code, while nothing has changed it

    def advance(self, char: str) -> None:
        """Follow one more character of the body."""
        self.body.append(char)
        first_note = self.new_bar and char in _NOTES
        closes = "".join(self.body[-2:]) in (":|", "||", "|]")
        self.recount = self.recount or closes or (char not in _MARKS and self.in_mark)
        self.in_mark = char in _MARKS
        if first_note and not self.recount:
            self.bar_notes = 1
        if self.recount or first_note:
            self.known = None
        self.new_bar = char in _MARKS or (self.new_bar and char not in _NOTES)
        self.code()  # counted after every character, so the code never depends on when it is asked for

    def code(self) -> int:
        """The position after the body so far."""
        if self.wanted is None:
            return NO_POSITION
        if self.known is None:
            if self.recount or self.so_far is None:
                self.so_far = form_so_far("".join(self.body), self.fields, self.memo)
                self.bar_notes, self.recount = 0, False
            self.known = position_code(self.wanted, self.so_far, self.bar_notes)
        return self.known

    def snapshot(self) -> tuple:
        """What :meth:`restore` goes back to."""
        return len(self.body), self.so_far, self.recount, self.bar_notes, self.new_bar, self.in_mark, self.known

    def restore(self, snapshot: tuple) -> None:
        """Go back to a :meth:`snapshot` (which stays usable)."""
        length, self.so_far, self.recount, self.bar_notes, self.new_bar, self.in_mark, self.known = snapshot
        del self.body[length:]


def form_positions(text: str) -> list[int]:
    """The position after each character of a tune's text, as a :class:`FormClock` gives it to a
    sampled tune: :data:`NO_POSITION` in the header, then from the line break that ends ``K:``.

    >>> codes = form_positions("N:AB 2\\nM:2/4\\nL:1/8\\nK:C\\nCD EF|GA Bc||de fg|ab c'2|]")
    >>> codes[:4], codes[22:26], codes[-1]
    ([0, 0, 0, 0], [3, 2, 2, 2], 35)
    """
    match = _KEY_LINE.search(text)
    if match is None:
        return [NO_POSITION] * len(text)
    clock = FormClock(header_fields(text[: match.end()]))
    codes = [NO_POSITION] * (match.end() - 1) + [clock.code()]
    for char in text[match.end() :]:
        clock.advance(char)
        codes.append(clock.code())
    return codes
