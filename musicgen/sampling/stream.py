"""One tune being written inside a sampled batch, and the rules on what it may write next.

A :class:`Stream` holds a tune's characters, the header lines still to be
forced into it, the weight of its header draft (:func:`weigh`) and where its
body stands with repeats (:class:`Repeats`) and with its bars
(:class:`Bars`, which bars to draw again). :func:`mask_banned` takes away
the probability of what a tune may not write next; :func:`write_step`
writes one character of every tune in the batch. :mod:`musicgen.sampling.sampler`
drives them.
"""

from __future__ import annotations

import copy
import math
import re
from collections import deque
from typing import Any

import torch

from musicgen.abc.melody import read_bar
from musicgen.abc.tunebook import HEADER_ORDER
from musicgen.errors import ConversionError
from musicgen.model.vocab import END, Vocabulary

NOTE_LETTERS = frozenset("ABCDEFGabcdefg")
#: A whole K: line: where a header ends and the music begins.
KEY_LINE = re.compile(r"(?:^|\n)K:([^\n]*)\n")
#: A field line, in the header or the body.
FIELD_LINE = re.compile(r"^([A-Za-z]):(.*)$", re.MULTILINE)

#: A chord's opening ``[`` (not ``[|``, an ending ``[1`` or an inline field ``[K:``).
_CHORD_START = re.compile(r"\[(?![|\d]|[A-Za-z]:)")
#: What abc2midi will not read inside a chord: another chord, a bar line,
#: a broken rhythm, grace notes, a text.
_NOT_IN_CHORD = re.compile(r"[\[|<>{}\"]")

#: What may follow the ``|`` that ends a bar shorter than the meter (not
#: the pickup) for the bar to stand: ``||`` or ``|]`` ends a section there,
#: as ``:|`` does, or the tune ends.
SHORT_BAR_ENDS = "|]" + END
#: Bars a tune may draw again in all, which bounds what redrawing costs.
TUNE_REDRAWS = 64


#: What an ending's number follows: ``|1``, ``[1``, ``:|1``.
_ENDING_STARTS = ("|", "[", ":|")
#: Ending numbers never written after those: the corpus numbers its endings
#: 1 and 2 only, and abc2midi reads ``|3``, ``[4`` or ``|0`` without a first
#: ending before it as a repeat error.
UNUSED_ENDINGS = "03456789"

#: The meters abc2midi plays a hornpipe in (``R:hornpipe...`` with any other
#: is an error to it, ``M:C|`` and ``M:2/2`` included).
HORNPIPE_METERS = ("2/4", "4/4", "C")

#: A tune-type line that makes a tune a hornpipe to abc2midi.
HORNPIPE_LINE = re.compile(r"^R:\s*hornpipe", re.IGNORECASE | re.MULTILINE)

#: Added to a header draft's log-weight when abc2midi would refuse it (a
#: hornpipe given a meter it is not played in): another draft is kept
#: unless every draft is like it.
UNPLAYABLE_WEIGHT = -1e4

#: Characters a repeat may stay open and still keep its tune from ending:
#: longer than 99.5% of the ``|: ... :|`` spans in the training corpus.
REPEAT_SPAN_LIMIT = 350


class Repeats:
    """Where a tune's body stands with its repeats, read as abc2midi reads them.

    ``open`` after ``|:``, ``::`` or ``:|:``; ``closed`` after ``:|`` until
    the next of those; a tune starts in neither, since its first section may
    end with ``:|`` or have endings without a ``|:``. A mark uses up its
    characters: ``|:|`` is ``|:`` then a bar line. ``first_ending``: the
    open section has a first ending; ``first_ending_in_tune``: any part of
    the tune so far has one.
    """

    def __init__(self) -> None:
        self.state = "start"
        self.last = ""  # the characters of a mark still being read
        self.length = 0  # characters followed
        self.opened_at = 0
        self.first_ending = False
        self.first_ending_in_tune = False
        self.ending_open = False  # a first ending waits for its :|
        self.second_ending = False  # in a second ending, until || or |] ends it
        self.fresh = False  # after a second ending ended: a new section may start with a first ending

    def follow(self, char: str) -> None:
        self.length += 1
        mark = self.last + char
        if char in "12" and self.last in _ENDING_STARTS:
            if char == "1":
                self.first_ending = self.first_ending_in_tune = self.ending_open = True
            self.second_ending, self.fresh = char == "2", False
        elif mark in ("||", "|]") and self.second_ending:
            self.second_ending, self.fresh = False, True
        if mark in ("|:", "::", ":|:"):
            self.state, self.last, self.opened_at, self.first_ending = "open", "", self.length, False
            self.ending_open = self.fresh = False
        elif mark == ":|":
            self.state, self.last, self.ending_open, self.fresh = "closed", ":|", False, False
        else:
            self.last = char

    @property
    def left_open(self) -> bool:
        """A repeat or a first ending waits for its ``:|``."""
        return self.state == "open" or self.ending_open

    @property
    def keeps_open(self) -> bool:
        """A repeat is open and should be closed before the tune ends.

        One left open for over :data:`REPEAT_SPAN_LIMIT` characters is a
        section the model has lost; the tune may end rather than run on. A
        first ending without its ``:|`` does not keep a tune from ending:
        made to go on until one, tunes measured worse bar lengths (the
        model had mostly written the ``1`` as a mistake); a draft that ends
        so is kept only when every draft does (see :attr:`left_open`).
        """
        return self.state == "open" and self.length - self.opened_at <= REPEAT_SPAN_LIMIT

    def banned(self) -> str:
        """What abc2midi would call a repeat error if written next.

        After a section closed with ``:|``, a first ending (``|1``, ``[1``,
        ``:|1``) or a ``::`` needs a ``|:`` first (a first ending may also
        follow a second ending ended by ``||`` or ``|]``); inside an open repeat,
        another ``|:`` needs a ``:|`` first; a second ending needs a first
        one: in its own section inside an open repeat (``|2``, ``[2``),
        anywhere before it after a ``:|`` (``:|2``, ``:| [2``). No ending
        is numbered other than 1 or 2 (:data:`UNUSED_ENDINGS`).
        """
        has_first = self.first_ending if self.state == "open" else self.first_ending_in_tune
        second = "" if has_first or self.last not in _ENDING_STARTS else "2"
        unused = UNUSED_ENDINGS if self.last in _ENDING_STARTS else ""
        if self.state == "closed":
            first = "1" if self.last in _ENDING_STARTS and not self.fresh else ""
            return second + (first or (":" if self.last == ":" else "")) + unused
        return second + (":" if self.state == "open" and self.last == "|" else "") + unused


class Bars:
    """Where a tune's body stands with its bars, to draw again a bar that does not fill its meter.

    A bar ended by a plain ``|`` is kept when its notes fill the meter; one
    shorter than that is kept only when the ``|`` turns out to end a
    section or the tune (:data:`SHORT_BAR_ENDS`), one longer never, nor one
    abc2midi reports an error in (:func:`malformed_bar`, a broken rhythm
    over unequal notes). Any other bar is drawn again from its first character, up to ``tries``
    times (then it stands as it is; 0 never draws one again) and
    :data:`TUNE_REDRAWS` times per tune. Not judged for its length: the
    pickup (before the body's first bar line), a bar ended by ``:|``,
    ``::`` or ``[|`` (a first ending or a section's last bar may be
    short), a free meter.
    A bar's length is read as :func:`musicgen.abc.melody.read_measures` reads
    it.

    ``mark`` is the stream's own state where the bar being written began;
    ``resume`` is the sampler's (logits, recurrent state) there, kept by
    the sampler when ``begun`` says a bar has just begun and put back when
    ``redrawn`` says the tune went back to it.
    """

    def __init__(self, start: int | None, tries: int, pickup: bool):
        self.start = start  # where the bar being written begins in the tune's characters; None in the header
        self.pickup = pickup  # the bar being written is the body's first
        self.mark: tuple | None = None
        self.resume: tuple[Any, tuple] | None = None  # (logits, state parts) where the bar began
        self.begun = False  # a bar has just begun: the sampler keeps its resume
        self.redrawn = False  # the tune has just gone back to its bar's start: the sampler resumes there
        self.short_pending = False  # the | about to be written ends a short bar
        self.waiting = False  # the last character written is such a |
        self.most_tries = self.tries = tries
        self.tune_redraws = TUNE_REDRAWS  # redraws this tune has left


class Stream:
    """One tune being written: its characters and the header lines still to force.

    ``log_weight`` sums, over the forced header lines, how likely the model
    found each one after what it had written itself (see :func:`weigh`),
    plus :data:`UNPLAYABLE_WEIGHT` for a hornpipe given a meter abc2midi
    does not play one in.
    """

    def __init__(self, prime: str, fixed: dict[str, str], bar_tries: int = 0):
        self.chars: list[str] = list(prime)
        self.pending = [(HEADER_ORDER.index(k), f"{k}:{v}\n") for k, v in fixed.items()]
        self.pending.sort()
        self.forced: deque[str] = deque()
        header_end = KEY_LINE.search(prime)
        self.in_header = not header_end
        self.has_notes = header_end is not None and not NOTE_LETTERS.isdisjoint(prime[header_end.end() :])
        body = prime[header_end.end() :] if header_end else ""
        self.repeats = Repeats()
        for char in body:
            self.repeats.follow(char)
        self.line_start = len(prime) - len(prime.rsplit("\n", 1)[-1])  # where the line being written starts
        self.hornpipe = bool(HORNPIPE_LINE.search(prime))
        self.fields = _fields(prime[: header_end.end()]) if header_end else {}  # M, L, K, for bar lengths
        body_start = len(prime) - len(body) if header_end else None
        last_bar = body_start + body.rindex("|") + 1 if body_start is not None and "|" in body else body_start
        self.bars = Bars(last_bar, bar_tries, "|" not in body)
        self.done = False
        self.log_weight = 0.0
        self.last_forced = False
        self.started_rank: int | None = None  # rank of the forced line begun on the last step
        self.end_log_prob = -math.inf  # the model's log-probability (temperature 1) of the end where it ended

    @property
    def settled(self) -> bool:
        """No forced header line is still to come."""
        return self.done or (not self.forced and (not self.pending or not self.in_header))

    def choose(self, sampled: str) -> str:
        """The character to write next, given the one the model sampled."""
        self.started_rank = None
        self.last_forced = bool(self.forced)
        if self.forced:
            return self.forced.popleft()
        at_line_start = not self.chars or self.chars[-1] == "\n"
        if self.in_header and at_line_start and self.pending:
            rank = HEADER_ORDER.index(sampled) if sampled in HEADER_ORDER else len(HEADER_ORDER)
            if rank >= self.pending[0][0]:
                self.started_rank, line = self.pending.pop(0)
                if self.hornpipe and line.startswith("M:") and line[2:-1] not in HORNPIPE_METERS:
                    self.log_weight += UNPLAYABLE_WEIGHT
                self.forced.extend(line)
                self.last_forced = True
                return self.forced.popleft()
        return sampled

    def banned(self) -> str:
        """Characters this tune may not write next (END for the end marker).

        It cannot end before its body has a note, nor with a repeat open
        (for up to :data:`REPEAT_SPAN_LIMIT` characters), and keeps its
        repeat marks in an order abc2midi reads (:class:`Repeats`).
        """
        chars = self.repeats.banned()
        if not self.has_notes or self.repeats.keeps_open:
            chars += END
        return chars

    def allowed(self) -> str | None:
        """The only characters this tune may write next, or None for no limit.

        A hornpipe's own ``M:`` line keeps to :data:`HORNPIPE_METERS`.
        """
        if not (self.hornpipe and self.in_header) or self.forced:
            return None
        line = "".join(self.chars[self.line_start :])
        if not line.startswith("M:"):
            return None
        ways_on = [f"M:{meter}\n"[len(line)] for meter in HORNPIPE_METERS if f"M:{meter}\n".startswith(line)]
        return "".join(ways_on) or None

    def bar_fault(self) -> str | None:
        """What is wrong with the bar a ``|`` written now would end, or None.

        ``"malformed"``: abc2midi reports an error in it (a chord, text,
        decoration or grace notes left open, something a chord may not
        hold, a broken rhythm over unequal notes); ``"short"`` or
        ``"long"``: its notes do not fill the meter. None when it is sound.
        Not judged for its length (see :class:`Bars`): the pickup, a bar
        whose ``|`` ends a mark such as ``:|`` or ``[|`` (written after
        ``|``, ``:`` or ``[``), an empty bar, a free meter.
        """
        if self.in_header or self.bars.start is None:
            return None
        ends_mark = self.chars[-1] in "|:["
        text = "".join(self.chars[self.bars.start :])
        text = text.rstrip(":[") if ends_mark else text
        try:
            length, bar_length, warnings = read_bar(self.fields, text)
        except ConversionError:
            return "malformed"
        if malformed_bar(text) or any("broken rhythm" in warning for warning in warnings):
            return "malformed"
        if ends_mark or self.bars.pickup or bar_length is None or length in (0, bar_length):
            return None
        return "short" if length < bar_length else "long"

    def redraws(self, char: str) -> bool:
        """Whether writing ``char`` would keep a bar that does not fill its meter, and the bar can be drawn again."""
        bars = self.bars
        if bars.mark is None or bars.resume is None or not bars.tries or not bars.tune_redraws:
            return False
        if bars.waiting:
            return char not in SHORT_BAR_ENDS
        if char != "|":
            return False
        fault = self.bar_fault()
        bars.short_pending = fault == "short"
        return fault in ("long", "malformed")

    def redraw(self) -> None:
        """Go back to where the bar being written began (the sampler resumes from ``bars.resume``)."""
        bars = self.bars
        assert bars.mark is not None  # only redrawn where bar_fault found a marked bar
        length, repeats, self.has_notes, self.line_start, fields, pickup = bars.mark
        self.repeats, self.fields = copy.copy(repeats), dict(fields)  # the mark stays as it was, for another redraw
        del self.chars[length:]
        bars.start, bars.pickup, bars.short_pending, bars.waiting = length, pickup, False, False
        bars.tries -= 1
        bars.tune_redraws -= 1
        bars.redrawn = True

    def write(self, char: str) -> None:
        self.chars.append(char)
        if not self.in_header:
            self.repeats.follow(char)
            self.has_notes = self.has_notes or char in NOTE_LETTERS
            self._follow_bars(char)
        if char == "\n":
            line = "".join(self.chars[self.line_start : -1])
            self.fields.update(_fields(line))
            if self.in_header:
                self.in_header = not line.startswith("K:")
                self.hornpipe = self.hornpipe or bool(HORNPIPE_LINE.match(line))
                if not self.in_header:  # the body begins: its pickup may be drawn again
                    self.bars.start = len(self.chars)
                    self._mark()
            self.line_start = len(self.chars)

    def _follow_bars(self, char: str) -> None:
        """Move the bar's start past a bar line; mark where a kept bar's successor begins."""
        bars = self.bars
        ends_bar = char == "|" or (char == ":" and self.chars[-2] == ":")
        if ends_bar:
            bars.start, bars.pickup = len(self.chars), False
        if bars.short_pending:  # the | of a short bar: kept if what follows ends a section
            bars.short_pending, bars.waiting = False, True
            return
        if not (ends_bar or bars.waiting):
            return
        bars.waiting = False
        self._mark()

    def _mark(self) -> None:
        """A bar begins here: keep what to go back to if it is drawn again (nothing when bars are never redrawn)."""
        bars = self.bars
        if not bars.most_tries:
            return
        bars.mark = (
            len(self.chars),
            copy.copy(self.repeats),
            self.has_notes,
            self.line_start,
            dict(self.fields),
            bars.pickup,
        )
        bars.begun, bars.tries = True, bars.most_tries


def malformed_bar(text: str) -> bool:
    """Whether a bar's text leaves a chord, text or grace notes open, or puts in a chord what abc2midi refuses there."""
    if text.count('"') % 2:
        return True
    text = re.sub(r'"[^"]*"', "", text)
    if text.count("{") != text.count("}"):
        return True
    if re.search(r"!(?!\n)", re.sub(r"![^!\s|]*!", "", text)):  # a ! left open (a lone ! ends a line)
        return True
    for chord in _CHORD_START.finditer(text):
        end = text.find("]", chord.end())
        if end < 0 or _NOT_IN_CHORD.search(text, chord.end(), end):
            return True
    return False


def _fields(header: str) -> dict[str, str]:
    """The M, L and K fields of a header, the last of each."""
    return {m.group(1): m.group(2) for m in FIELD_LINE.finditer(header) if m.group(1) in "MLK"}


def weigh(stream: Stream, char: str, log_probs: torch.Tensor, vocab: Vocabulary) -> None:
    """Add to a stream's weight how likely the model found a forced character.

    A forced line starts where the model began a line that comes at or after
    it in the header order; the chance of that is divided out, so the weight
    is the model's probability of the forced line given the lines before it.
    """
    if stream.started_rank is not None:
        earlier = [vocab.index[c] for c in HEADER_ORDER[: stream.started_rank] if c in vocab.index]
        later = 1.0 - float(log_probs[earlier].exp().sum()) if earlier else 1.0
        stream.log_weight -= math.log(max(later, 1e-12))
    if stream.last_forced:
        stream.log_weight += float(log_probs[vocab.index[char]])


def draw_drafts(streams: list[Stream], drafts: int, generator: torch.Generator) -> list[int]:
    """For each tune, the index of the header draft kept, drawn by the drafts' weights."""
    weights = torch.tensor([s.log_weight for s in streams], dtype=torch.float64).view(-1, drafts)
    picks = torch.multinomial(torch.softmax(weights, dim=-1), 1, generator=generator).squeeze(1)
    return [tune * drafts + pick for tune, pick in enumerate(picks.tolist())]


def mask_banned(probs: torch.Tensor, streams: list[Stream], active: list[int], vocab: Vocabulary) -> None:
    """Zero (in place) the probability of what each tune may not write next (:meth:`Stream.banned`).

    A tune that ends in its header or right after K: has no music; one that
    ends with a repeat open, or writes a first ending after a closed section,
    is one abc2midi reports an error in. Where the banned characters are all
    the probability a row has (top-k of 1), they stay.
    """
    pairs = [
        (row, vocab.index[char])
        for row, index in enumerate(active)
        for char in _banned_in(streams[index], vocab)
        if char in vocab.index
    ]
    if not pairs:
        return
    rows, ids = torch.tensor(pairs, dtype=torch.long).T
    kept = probs[rows, ids].clone()
    probs[rows, ids] = 0.0
    nothing_left = probs[rows].sum(dim=-1) == 0
    probs[rows[nothing_left], ids[nothing_left]] = kept[nothing_left]


def _banned_in(stream: Stream, vocab: Vocabulary) -> str:
    """What a tune may not write next, out of the vocabulary's characters."""
    allowed = stream.allowed()
    if allowed is None:
        return stream.banned()
    return stream.banned() + "".join(char for char in vocab.chars if char not in allowed)


def keep_drafts(streams: list[Stream], active: list[int], drafts: int, generator: torch.Generator):
    """Keep one header draft per tune: the streams, the active streams and their batch rows."""
    kept = draw_drafts(streams, drafts, generator)
    row_of = {index: row for row, index in enumerate(active)}
    rows = torch.tensor([row_of[index] for index in kept if index in row_of], dtype=torch.long)
    active = [tune for tune, index in enumerate(kept) if index in row_of]
    return [streams[index] for index in kept], active, rows


def write_step(
    streams: list[Stream],
    active: list[int],
    sampled: list[int],
    log_probs: torch.Tensor | None,
    vocab: Vocabulary,
    end_log_probs: dict[int, float] | None = None,
    max_length: int = 10**9,
) -> tuple[list[int], list[int]]:
    """Write each active tune's next character: the ids to feed on and the batch rows still writing.

    ``log_probs`` (B, V), while header drafts are weighed, else None;
    ``end_log_probs``: for batch rows that sampled the end marker, its
    log-probability at temperature 1, kept by the stream as it ends. A
    tune that goes back to draw a bar again (:meth:`Stream.redraws`)
    stays in the batch; the sampler resumes it from ``stream.bars.resume``.
    A tune of ``max_length`` characters stops, cut.
    """
    next_ids, keep = [], []
    for row, index in enumerate(active):
        stream = streams[index]
        char = stream.choose(vocab.chars[sampled[row]])
        if log_probs is not None:
            weigh(stream, char, log_probs[row], vocab)
        if stream.redraws(char):
            stream.redraw()
            next_ids.append(vocab.index[stream.chars[-1]])  # any character: the sampler resumes at the bar's start
            keep.append(row)
            continue
        if len(stream.chars) >= max_length:
            continue  # cut: not done
        if char == END:
            stream.done = True
            stream.end_log_prob = (end_log_probs or {}).get(row, -math.inf)
            continue
        stream.write(char)
        next_ids.append(vocab.index[char])
        keep.append(row)
    return next_ids, keep
