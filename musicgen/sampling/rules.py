"""Rules on what a tune may write next: each takes characters away, and the model chooses among the rest.

A rule follows the body of its tune (:meth:`Rule.advance`, one character at
a time), says what may not come next (:meth:`Rule.banned`) or what alone may
(:meth:`Rule.allowed`), and can be put back to an earlier point
(:meth:`Rule.snapshot`, :meth:`Rule.restore`) when a bar is drawn again.
Rules are pure Python: the decoder (:mod:`musicgen.sampling.decoder`) turns
what they say into masked probabilities. Each is switched on or off by a
:class:`~musicgen.model.config.SampleConfig` field of the same name:

- ``note_before_end`` (:class:`NoteBeforeEnd`): no end before the body has a note.
- ``repeat_order`` (:class:`RepeatOrder`): repeat marks in the order abc2midi reads them.
- ``hornpipe_meters`` (:class:`HornpipeMeter`): a hornpipe's meter one abc2midi plays it in.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from musicgen.model.vocab import END
from musicgen.sampling.facts import ENDING_STARTS, HORNPIPE_METERS, UNUSED_ENDINGS

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

NOTE_LETTERS = frozenset("ABCDEFGabcdefg")

#: Characters a repeat may stay open and still keep its tune from ending:
#: longer than 99.5% of the ``|: ... :|`` spans in the training corpus.
REPEAT_SPAN_LIMIT = 350


class Rule:
    """What a tune may write next. The base class bans nothing and keeps no state."""

    #: The :class:`~musicgen.model.config.SampleConfig` field that switches the rule.
    name = ""

    def __init__(self, body: str | None = None):
        """Start on the prime's body (None: the prime has not reached ``K:``)."""

    def advance(self, char: str) -> None:
        """Follow one character written in the tune's body."""

    def banned(self, stream: Stream) -> str:
        """Characters the tune may not write next (``END`` for the end marker)."""
        return ""

    def allowed(self, stream: Stream) -> str | None:
        """The only characters the tune may write next, or None for no limit (asked in the header only)."""
        return None

    def snapshot(self) -> Any:
        """The rule's state, for :meth:`restore`."""
        return None

    def restore(self, snapshot: Any) -> None:
        """Go back to a state :meth:`snapshot` returned (it stays usable for another restore)."""


class NoteBeforeEnd(Rule):
    """A tune cannot end before its body has a note (conditioned on a rare key and meter,
    a model may otherwise stop right after ``K:``)."""

    name = "note_before_end"

    def __init__(self, body: str | None = None):
        self.has_notes = body is not None and not NOTE_LETTERS.isdisjoint(body)

    def advance(self, char: str) -> None:
        self.has_notes = self.has_notes or char in NOTE_LETTERS

    def banned(self, stream: Stream) -> str:
        return "" if self.has_notes else END

    def snapshot(self) -> bool:
        return self.has_notes

    def restore(self, snapshot: bool) -> None:
        self.has_notes = snapshot


class Repeats:
    """Where a tune's body stands with its repeats, read as abc2midi reads them.

    ``open`` after ``|:``, ``::`` or ``:|:``; ``closed`` after ``:|`` until
    the next of those; a tune starts in neither, since its first section may
    end with ``:|`` or have endings without a ``|:``. A mark uses up its
    characters: ``|:|`` is ``|:`` then a bar line. ``first_ending``: the
    open section has a first ending; ``first_ending_in_tune``: any part of
    the tune so far has one.
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
        is numbered other than 1 or 2 (:data:`~musicgen.sampling.facts.UNUSED_ENDINGS`).
        """
        has_first = self.first_ending if self.state == "open" else self.first_ending_in_tune
        second = "" if has_first or self.last not in ENDING_STARTS else "2"
        unused = UNUSED_ENDINGS if self.last in ENDING_STARTS else ""
        if self.state == "closed":
            first = "1" if self.last in ENDING_STARTS and not self.fresh else ""
            return second + (first or (":" if self.last == ":" else "")) + unused
        return second + (":" if self.state == "open" and self.last == "|" else "") + unused


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


class HornpipeMeter(Rule):
    """A hornpipe's own ``M:`` line keeps to the meters abc2midi plays one in
    (:data:`~musicgen.sampling.facts.HORNPIPE_METERS`); under a forced meter it is not played
    in, a hornpipe header draft weighs :data:`~musicgen.sampling.stream.UNPLAYABLE_WEIGHT` less."""

    name = "hornpipe_meters"

    def allowed(self, stream: Stream) -> str | None:
        if not (stream.hornpipe and stream.in_header) or stream.forced:
            return None
        line = "".join(stream.chars[stream.line_start :])
        if not line.startswith("M:"):
            return None
        ways_on = [f"M:{meter}\n"[len(line)] for meter in HORNPIPE_METERS if f"M:{meter}\n".startswith(line)]
        return "".join(ways_on) or None


#: Every rule, by the SampleConfig field that switches it.
RULES: dict[str, type[Rule]] = {rule.name: rule for rule in (NoteBeforeEnd, RepeatOrder, HornpipeMeter)}


def make_rules(names: tuple[str, ...], body: str | None) -> list[Rule]:
    """The rules switched on, each started on the prime's body (None: the prime has not reached ``K:``)."""
    return [RULES[name](body) for name in names]
