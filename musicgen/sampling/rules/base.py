"""The rule every sampler rule is: what a tune may write next, followed one character at a time;
and the two smallest rules (a note before the end, a hornpipe's meters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicgen.model.vocab import END
from musicgen.sampling.facts import HORNPIPE_METERS

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

NOTE_CHARS = "ABCDEFGabcdefg"
NOTE_LETTERS = frozenset(NOTE_CHARS)
#: What raises, lowers or restores the note after it (:data:`~musicgen.sampling.facts.LOOSE_ACCIDENTAL`).
ACCIDENTALS = "^_="


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
        """The only characters the tune may write next, or None for no limit."""
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


class HornpipeMeter(Rule):
    """A hornpipe's own ``M:`` line keeps to the meters abc2midi plays one in
    (:data:`~musicgen.sampling.facts.HORNPIPE_METERS`); under a forced meter it is not played
    in, a hornpipe header draft weighs :data:`~musicgen.sampling.stream.UNPLAYABLE_WEIGHT` less."""

    name = "hornpipe_meters"

    def allowed(self, stream: Stream) -> str | None:
        if not (stream.hornpipe and stream.in_header) or stream.forced:
            return None
        line = stream.line
        if not line.startswith("M:"):
            return None
        ways_on = [f"M:{meter}\n"[len(line)] for meter in HORNPIPE_METERS if f"M:{meter}\n".startswith(line)]
        return "".join(ways_on) or None
