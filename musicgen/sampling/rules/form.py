"""Rules that keep a tune's repeats in abc2midi's order and hold it to its form code."""

from __future__ import annotations

import copy
import string
from typing import TYPE_CHECKING

from musicgen.abc.codes import FORM_FIELD, form_code_next, read_form_code
from musicgen.abc.form import FormSoFar, WalkMemo, form_so_far
from musicgen.model.vocab import END
from musicgen.sampling.facts import ENDING_STARTS, UNUSED_ENDINGS
from musicgen.sampling.rules.base import NOTE_LETTERS, Rule

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

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
    the tune so far has one; ``after_both``: the open section began with
    ``:|:``, after which abc2midi takes no first ending ("found [1 or like
    before |:", where ``::`` and ``:||:`` are fine).
    """

    def __init__(self, body: str = "") -> None:
        self.state = "start"
        self.last = ""  # the characters of a mark still being read
        self.length = 0  # characters followed
        self.opened_at = 0
        self.first_ending = False
        self.first_ending_in_tune = False
        self.ending_open = False  # a first ending waits for its :|
        self.second_ending = False  # in a second ending, until || or |] ends it
        self.fresh = False  # after a second ending ended: a new section may start with a first ending
        self.after_both = False  # the open section began with :|:
        for char in body:
            self.follow(char)

    def follow(self, char: str) -> None:
        self.length += 1
        mark = self.last + char
        if char in "12" and self.last in ENDING_STARTS:
            if char == "1":
                self.first_ending = self.first_ending_in_tune = self.ending_open = True
            self.second_ending, self.fresh = char == "2", False
        elif mark in ("||", "|]") and self.second_ending:
            self.second_ending, self.fresh = False, True
        if mark in ("|:", "::", ":|:"):
            self.state, self.last, self.opened_at, self.first_ending = "open", "", self.length, False
            self.ending_open = self.fresh = False
            self.after_both = mark == ":|:"
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
        anywhere before it after a ``:|`` (``:|2``, ``:| [2``), and not
        after the ``:|`` of a second ending (``:|2 C4 :|2 E4``, whose
        last ending abc2midi finds no bar line to close); no first ending
        while one waits for its ``:|`` (``|1 B2 | C2 |1``), nor in a section
        begun with ``:|:``. No ending
        is numbered other than 1 or 2 (:data:`~musicgen.sampling.facts.UNUSED_ENDINGS`).
        """
        has_first = self.first_ending if self.state == "open" else self.first_ending_in_tune
        second_again = self.state == "closed" and self.second_ending
        second = "" if (has_first and not second_again) or self.last not in ENDING_STARTS else "2"
        unused = UNUSED_ENDINGS if self.last in ENDING_STARTS else ""
        if self.state == "closed":
            first = "1" if self.last in ENDING_STARTS and not self.fresh else ""
            return second + (first or (":" if self.last == ":" else "")) + unused
        first = "1" if (self.ending_open or self.after_both) and self.last in ENDING_STARTS else ""
        return second + first + (":" if self.state == "open" and self.last == "|" else "") + unused


class RepeatOrder(Rule):
    """Repeat marks in the order abc2midi reads them (:meth:`Repeats.banned`), and no end with a
    repeat open (for up to :data:`REPEAT_SPAN_LIMIT` characters)."""

    name = "repeat_order"

    def __init__(self, body: str | None = None):
        self.repeats = Repeats(body or "")

    def advance(self, char: str) -> None:
        self.repeats.follow(char)

    def banned(self, stream: Stream) -> str:
        return self.repeats.banned() + (END if self.repeats.keeps_open else "")

    def snapshot(self) -> Repeats:
        return copy.copy(self.repeats)

    def restore(self, snapshot: Repeats) -> None:
        self.repeats = copy.copy(snapshot)


#: Body characters past which a tune may end whatever its form code asks: four times the 99th
#: percentile of an 8-bar part in the training corpus, so a tune the model has lost stops.
FORM_SPAN_LIMIT = 1000


class FormEnd(Rule):
    """An ``N:`` line the model writes is a form code (:func:`~musicgen.abc.codes.form_code_next`; for
    an asked dance, a header draft whose code is too short for one is weighed down, see
    :data:`~musicgen.sampling.stream.UNPLAYABLE_WEIGHT`), and a tune keeps the parts its code names
    (``N:AABB 8``: two parts of 8 bars, each repeated) when the form was asked for (``--form``, or an
    ``N:`` line in the prime) or drawn for an asked tune type (``--type reel``: the code the model wrote
    under ``R:reel`` is held; a code it wrote with no type asked is left to it: held to it, A-dorian slip
    jigs ended on the tonic less often), for up to :data:`FORM_SPAN_LIMIT` characters of body. Parts
    are counted as :func:`musicgen.abc.form.tune_form` counts them:

    - no end before the last part is closed (a last part played once may end at any bar line once
      it has its bars), and nothing but the end (or a second ending) once it is;
    - no part closed (``:|``, ``||``, ``|]``, or a ``|:`` after bars of its own) before its bars;
    - once a part's last bar is under way, its next bar line closes it: with ``:|`` for a part the code
      repeats (no plain ``|``, no first ending, no run of spaces or line breaks, where a model that
      would not close the part runs on), with ``||`` or ``|]`` for one it does not.
    """

    name = "form_end"

    #: What may follow once every part is closed: the end (and, right after ``:|``, a second ending's
    #: ``2``); spaces or a longer bar line would only put off the end the model did not choose.
    AFTER_LAST_PART = END

    #: Bar-line characters: the parts are counted again at the first character after them (and the
    #: bar under way counted at its first note); in between, what was counted stands.
    MARKS = frozenset("|:[]")

    #: Spaces and line breaks: one at a time while a repeated part's last bar waits for its ``:|``.
    SPACES = " \n\\"

    def __init__(self, body: str | None = None):
        self.body = list(body or "")
        self.state: tuple[str, str, bool] = ("", "", False)  # (banned, allowed or "", closes_tune) for the body so far
        self.closing = False  # set by _count: the bar under way is the tune's last
        self.dirty = True
        self.new_bar = True  # no note yet since the last bar line
        self.memo = WalkMemo()  # what form_so_far read of the body last time
        self.so_far: FormSoFar | None = None  # the parts as counted at the last bar line
        self.recount = True  # a bar line since: count the parts again
        self.bar_notes = 0  # 1 once the bar under way (after the last count) has a note
        self.in_mark = False  # the last character was part of a bar line

    def advance(self, char: str) -> None:
        self.body.append(char)
        first_note = self.new_bar and char in NOTE_LETTERS
        # The parts are counted again once a bar line closes a part or is over (at the character after
        # it); inside one, the count before it stands: the count that says whether it may close a part.
        closes = "".join(self.body[-2:]) in (":|", "||", "|]")
        self.recount = self.recount or closes or (char not in self.MARKS and self.in_mark)
        self.in_mark = char in self.MARKS
        self.bar_notes = 1 if first_note and not self.recount else self.bar_notes
        # counted again where what it bans may change: at a mark, a first note, a space and the character after it
        after = self.body[-2:-1]
        self.dirty = self.dirty or self.recount or char in self.MARKS or char in self.SPACES or first_note
        self.dirty = self.dirty or after == ["["] or (after != [] and after[0] in self.SPACES)
        self.new_bar = char in self.MARKS or (self.new_bar and char not in NOTE_LETTERS)

    def _count(self, stream: Stream) -> tuple[str, str]:
        self.closing = False
        wanted = read_form_code(stream.fields.get(FORM_FIELD, "")) if stream.form_asked else None
        if wanted is None or len(self.body) > FORM_SPAN_LIMIT:
            return "", ""
        if self.recount or self.so_far is None:  # at a bar line: read the parts again
            self.so_far = form_so_far("".join(self.body), stream.fields, self.memo)
            self.bar_notes = 0
        pattern, bars = wanted
        done = len(self.so_far.closed)
        have = self.so_far.open_bars + self.bar_notes  # the bar under way counts once it has a note
        if done >= len(bars):
            second = "2" if "".join(self.body[-2:]) == ":|" else ""
            return ("", self.AFTER_LAST_PART + second) if have == 0 else ("", "")
        need = bars[done]
        repeated = pattern.count(string.ascii_uppercase[done]) == 2
        last, before = (self.body[-1:] or [""])[0], "".join(self.body[-2:-1])
        colon_ok = have == 0 or (last.isalpha() and before == "[")  # a |: that starts the part; an [M: field
        self.closing = done == len(bars) - 1 and have >= need  # the tune's last bar is under way
        # The last part, played once, may end with the tune at any bar line once it has its bars.
        ends_here = done == len(bars) - 1 and not repeated and have >= need and last in "|]"
        banned = "" if ends_here else END
        if have and have < need:  # too soon to close the part
            banned += "" if colon_ok else ":"
            banned += "|]" if last == "|" else ""
        elif have >= need and not self.so_far.in_second_ending:
            # The bar under way is the part's last: its bar line closes the part.
            if repeated:
                banned += self._closing_a_repeat(last)
            elif last == "|":  # with || or |] (or the tune's end, where the part may end it)
                return "", "|]" + (END if ends_here else "")
            elif not colon_ok:
                banned += ":"
        return banned, ""

    def _closing_a_repeat(self, last: str) -> str:
        """What a repeated part's last bar may not write: a bar line without its colon (``:|`` closes
        it), a first ending, or a second space or line break in a row (where a model that wanted a
        plain ``|`` goes instead; a line continued with a backslash keeps its line break)."""
        banned = ("|" if last != ":" else "") + ("12" if last == "[" else "")
        if last == "\\":
            return banned + " \\"
        return banned + (self.SPACES if last in self.SPACES else "")

    def _state(self, stream: Stream) -> tuple[str, str, bool]:
        if self.dirty:
            self.state, self.dirty, self.recount = (*self._count(stream), self.closing), False, False
        return self.state

    def banned(self, stream: Stream) -> str:
        return self._state(stream)[0]

    def allowed(self, stream: Stream) -> str | None:
        if stream.in_header:
            return self._code_next(stream)
        return self._state(stream)[1] or None

    @staticmethod
    def _code_next(stream: Stream) -> str | None:
        """On an ``N:`` line the model writes, what keeps it a form code this rule can hold a tune to."""
        line = stream.line
        if stream.forced or not line.startswith(f"{FORM_FIELD}:"):
            return None
        return form_code_next(line[2:]) or None

    def closes_tune(self, stream: Stream) -> bool:
        """Whether the bar under way is the tune's last by its form code (the last part's last bar)."""
        return self._state(stream)[2]

    def snapshot(self) -> tuple:
        return (
            len(self.body),
            self.state,
            self.dirty,
            self.new_bar,
            self.so_far,
            self.recount,
            self.bar_notes,
            self.in_mark,
        )

    def restore(self, snapshot: tuple) -> None:
        length, self.state, self.dirty, self.new_bar, self.so_far, self.recount, self.bar_notes, self.in_mark = snapshot
        del self.body[length:]
