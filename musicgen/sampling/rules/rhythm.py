"""Rules on rhythm abc2midi can play: a broken rhythm over notes of one length, and a hornpipe's swung
pairs marked on both notes or neither."""

from __future__ import annotations

import functools
import string
from typing import TYPE_CHECKING

from musicgen.abc.keys import parse_fraction
from musicgen.abc.melody import read_bar
from musicgen.abc.reader import hornpipe_pair_length
from musicgen.abc.tunebook import default_unit_length
from musicgen.errors import ConversionError
from musicgen.sampling.rules.base import ACCIDENTALS, NOTE_CHARS, NOTE_LETTERS, Rule
from musicgen.sampling.rules.marks import MusicReader

if TYPE_CHECKING:
    from musicgen.sampling.stream import Stream

#: What a note's written length is made of (``A3/2``), and the marks a broken rhythm takes on both notes
#: or neither (staccato and fermata, the ``broken rhythm`` fact).
LENGTH_CHARS = string.digits + "/"
BROKEN_MARKS = ".H"


class BrokenRhythm(Rule):
    """A broken rhythm (``A2>B2``, ``c<d``) is written over two notes of the same written length, and the
    second is not marked staccato or fermata where the first is plain: the ``broken rhythm`` fact
    (:mod:`musicgen.sampling.facts`), which abc2midi reports as "Cannot apply broken rhythm". The note
    after the ``>`` gets the first note's length, character by character. A chord or a rest before it
    leaves the rule out of it (abc2midi applies a chord's broken rhythm whatever the lengths); a first
    note marked, and a hornpipe's own swung pairs, are left to the bar verifier.

    Without the verifier (``--bar-tries 0``), 3 of 17 faulty tunes of 200 (seed 1) had a written broken
    rhythm over unequal notes (``d>_B8``, ``(GE)>D2``).
    """

    name = "broken_rhythm"

    def __init__(self, body: str | None = None):
        self.reader = MusicReader()
        self.note: str | None = None  # the length written so far of the note under way; None between notes
        self.note_marked = False  # ... and whether a staccato or fermata marks it
        self.need: str | None = None  # the length the note under way must have (it follows a > or <)
        self.last: tuple[str, bool] | None = None  # the last note's (length, marked); None after a chord or rest
        self.pending: tuple[str, bool] | None = None  # after > or <: the first note's (length, marked)
        self.marked = False  # a staccato or fermata waits for its note
        for char in body or "":
            self.advance(char)

    def advance(self, char: str) -> None:
        before, after, in_grace = self.reader.follow(char)
        if self.note is not None and not (char in LENGTH_CHARS + ",'" and not before and not after):
            self.last, self.note, self.need = (self.note, self.note_marked), None, None  # the note is over
        if in_grace:
            return  # grace notes take no part in a broken rhythm
        if before or after:  # texts, decorations, chords, fields
            if before == "[" and after == "chord":
                self.last = self.pending = None  # abc2midi applies a chord's broken rhythm whatever the lengths
        elif self.note is not None:
            self.note += char if char in LENGTH_CHARS else ""
        elif char in NOTE_LETTERS:
            self.note, self.note_marked, self.marked = "", self.marked, False
            self.need, self.pending = (self.pending[0] if self.pending else None), None
        elif char in "<>":
            self.pending = self.last
        elif char in "zxZX":
            self.last = self.pending = None
        elif char in BROKEN_MARKS:
            self.marked = True

    def _active(self, stream: Stream) -> bool:
        return not stream.in_header and self.reader.in_music

    def banned(self, stream: Stream) -> str:
        if not self._active(stream):
            return ""
        if self.note is not None and self.need is not None and self.note == self.need:
            return LENGTH_CHARS  # the note after the > has the first note's length
        if self.note is None and self.pending is not None and not self.pending[1]:
            return BROKEN_MARKS  # the first note is plain: so is the second
        return ""

    def allowed(self, stream: Stream) -> str | None:
        if not self._active(stream) or self.note is None or self.need is None or len(self.note) >= len(self.need):
            return None
        return self.need[len(self.note)] + ("" if self.note else ",'")  # octave marks come before a length

    def snapshot(self) -> tuple:
        return self.reader.snapshot(), self.note, self.note_marked, self.need, self.last, self.pending, self.marked

    def restore(self, snapshot: tuple) -> None:
        reader, self.note, self.note_marked, self.need, self.last, self.pending, self.marked = snapshot
        self.reader.restore(reader)


#: The reader's warning for a hornpipe's swung pair with a staccato or fermata on one note only.
PAIR_WARNING = "hornpipe broken rhythm over a marked note and a plain one"


@functools.lru_cache(maxsize=64)
def pair_note(unit: str, meter: str) -> str | None:
    """A note as long as the notes abc2midi swings in pairs under ``L:unit`` and ``M:meter``, or None where
    it swings none.

    >>> pair_note("1/16", "2/4"), pair_note("1/16", "4/4"), pair_note("1/4", "4/4"), pair_note("1/8", "6/8")
    ('A', 'A2', 'A/2', None)
    >>> pair_note("", "2/4"), pair_note("", "4/4")  # without L:, the reader's default unit for the meter
    ('A', 'A')
    """
    pair = hornpipe_pair_length({"R": "hornpipe", "M": meter})
    if pair is None:
        return None
    try:
        ratio = pair / parse_fraction(unit or default_unit_length(meter), "L")
    except ConversionError:
        return None
    if ratio.denominator == 1:
        return "A" + ("" if ratio == 1 else str(ratio.numerator))
    return "A" + ("" if ratio.numerator == 1 else str(ratio.numerator)) + f"/{ratio.denominator}"


class HornpipePairs(Rule):
    """In a tune abc2midi plays as a hornpipe, the two notes of a swung pair are both marked staccato or
    fermata, or neither: the ``broken rhythm`` fact for a hornpipe's own pairs ("Cannot apply broken
    rhythm"). Before each note may begin, the bar so far is read (:func:`~musicgen.abc.melody.read_bar`)
    with a pair-length note after it, marked and plain: where one would pair a marked note with a plain
    one, that start is banned (a staccato where the note before is plain; a plain note where it is marked,
    which a longer note or a mark mends).

    The rule masks only where bars are not drawn again (``--bar-tries 0``): reading the bar two or three
    times a character cost 17% of the sampling time of 64 tunes, and where bars are drawn again the bar
    verifier judges the same pairs once per bar. Without the verifier, 7 of 15 faulty tunes of 200
    (seed 1) had such a pair (``.c(GEG)`` under ``R:hornpipe``, ``M:2/4``, ``L:1/16``); 95 of the 233
    hornpipes abc2midi swings in the train split mark notes so, so the marks themselves stay.
    """

    name = "hornpipe_pairs"

    def banned(self, stream: Stream) -> str:
        start = stream.bars.start
        if stream.in_header or not stream.hornpipe or start is None or stream.bars.most_tries:
            return ""  # where bars are drawn again, the verifier judges the pairs once per bar, for less
        probe = pair_note(stream.fields.get("L", ""), stream.fields.get("M", ""))
        text = "".join(stream.chars[start:])
        if probe is None or text.count('"') % 2 or text[-1:] in '[{!+"\\.H' or text.count("[") > text.count("]"):
            return ""
        has_marks = any(mark in text for mark in BROKEN_MARKS)  # else no pair so far, and no marked note
        try:
            before = _pair_warnings(stream.fields, text) if has_marks else 0
            marked = _pair_warnings(stream.fields, f"{text}.{probe} ") > before
            plain = has_marks and _pair_warnings(stream.fields, f"{text}{probe} ") > before
        except ConversionError:
            return ""
        return (BROKEN_MARKS if marked else "") + (NOTE_CHARS + ACCIDENTALS if plain else "")


def _pair_warnings(fields: dict[str, str], text: str) -> int:
    return sum(PAIR_WARNING in warning for warning in read_bar(fields, text)[2])
