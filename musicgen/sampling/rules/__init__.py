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
- ``form_end`` (:class:`FormEnd`): a readable ``N:`` form code, and the parts, bars and repeats an asked-for one names.
- ``spacing`` (:class:`Spacing`): no run of more than :data:`SPACER_RUN` spaces or backquotes.
- ``open_marks`` (:class:`OpenMarks`): chords, texts, decorations and inline fields closed on their line,
  chords holding only what abc2midi takes in one.
- ``stray_signs`` (:class:`StraySigns`): no length, slash, octave mark, accidental or decoration without a
  note, no sign abc2midi does not read.
- ``broken_rhythm`` (:class:`BrokenRhythm`): a broken rhythm over notes of the same written length.
- ``hornpipe_pairs`` (:class:`HornpipePairs`): a hornpipe's swung pairs marked staccato on both notes or neither.
"""

from __future__ import annotations

from musicgen.sampling.rules.base import NOTE_LETTERS, HornpipeMeter, NoteBeforeEnd, Rule
from musicgen.sampling.rules.form import FORM_SPAN_LIMIT, REPEAT_SPAN_LIMIT, FormEnd, RepeatOrder, Repeats
from musicgen.sampling.rules.marks import OPEN_SPAN_LIMIT, SPACER_RUN, OpenMarks, Spacing, StraySigns
from musicgen.sampling.rules.rhythm import BrokenRhythm, HornpipePairs

__all__ = [
    "FORM_SPAN_LIMIT",
    "NOTE_LETTERS",
    "OPEN_SPAN_LIMIT",
    "REPEAT_SPAN_LIMIT",
    "RULES",
    "SPACER_RUN",
    "BrokenRhythm",
    "FormEnd",
    "HornpipeMeter",
    "HornpipePairs",
    "NoteBeforeEnd",
    "OpenMarks",
    "RepeatOrder",
    "Repeats",
    "Rule",
    "Spacing",
    "StraySigns",
    "make_rules",
]

#: Every rule, by the SampleConfig field that switches it.
RULES: dict[str, type[Rule]] = {
    rule.name: rule
    for rule in (
        NoteBeforeEnd,
        RepeatOrder,
        HornpipeMeter,
        FormEnd,
        Spacing,
        OpenMarks,
        StraySigns,
        BrokenRhythm,
        HornpipePairs,
    )
}


def make_rules(names: tuple[str, ...], body: str | None) -> list[Rule]:
    """The rules switched on, each started on the prime's body (None: the prime has not reached ``K:``)."""
    return [RULES[name](body) for name in names]
