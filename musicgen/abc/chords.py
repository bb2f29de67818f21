"""Chord symbols (``"G"``, ``"Em"``, ``"D7"``, ``"A/c#"``) and the accompaniment they ask for.

A lead sheet's chord symbols are played the way abc2midi plays them, so a
tune sounds the same in musicgen as in the ABC player a musician already
uses: each bar repeats a *gchord pattern* chosen by the meter (``fzczfzcz``
in 4/4: bass, rest, chord, rest...), its steps spread evenly over the bar; a
step plays the chord that is current at its start, the pattern starts again
at every bar line, and the steps that would start after a short bar ends are
not played. ``f`` is the bass note (the root, or the note after ``/``), ``c``
the chord, ``b`` both, ``z`` a rest, ``g h i j`` the chord's notes one at a
time (``G H I J`` an octave lower); a digit after a step lengthens it. The
bass sounds in the octave from C2, the chord from C3 upwards, turned over so
that a ``/`` note in the chord is its lowest.

A symbol musicgen cannot read as a chord (``"Gd"``, ``"H"``) is skipped with
a warning and the chord before it goes on, as in abc2midi; annotations
(``"^text"``, ``"_text"``, ``"<"``, ``">"``, ``"@"``) are not chords.

Where musicgen differs from abc2midi 4.84 on purpose: ``sus4`` is played as
a suspended fourth (abc2midi plays a major triad), and 3/2 has a default
pattern (``fzczcz``; abc2midi plays nothing without ``%%MIDI gchord``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from musicgen.abc.keys import LETTER_SEMITONES, parse_meter

__all__ = [
    "ChordSymbol",
    "Step",
    "default_gchord",
    "parse_chord_symbol",
    "parse_gchord",
]

#: Semitones above the root of each chord type abc2midi knows, by its name.
CHORD_TYPES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "M7": (0, 4, 7, 11),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "aug": (0, 4, 8),
    "+": (0, 4, 8),
    "aug7": (0, 4, 8, 10),
    "dim": (0, 3, 6),
    "dim7": (0, 3, 6, 9),
    "m7b5": (0, 3, 6, 10),
    "9": (0, 4, 7, 10, 14),
    "m9": (0, 3, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "M9": (0, 4, 7, 11, 14),
    "11": (0, 4, 7, 10, 14, 17),
    "dim9": (0, 3, 6, 9, 13),
    "sus": (0, 5, 7),
    "sus4": (0, 5, 7),
    "sus2": (0, 2, 7),
    "sus9": (0, 2, 7),
    "7sus4": (0, 5, 7, 10),
    "7sus2": (0, 2, 7, 10),
    "7sus9": (0, 2, 7, 10),
    "5": (0, 7),
}
_SYMBOL = re.compile(r"([A-Ga-g])([#b]?)(.*?)(?:/([A-Ga-g])([#b]?)\+?)?")
BASS_FROM = 36  # C2: the bass note is in the octave from here
CHORD_FROM = 48  # C3: the chord's root is in the octave from here
#: abc2midi's gchord pattern for each meter it knows (3/2 is musicgen's own).
DEFAULT_GCHORDS = {
    (4, 4): "fzczfzcz",
    (2, 2): "fzczfzcz",
    (2, 4): "fzcz",
    (3, 4): "fzczcz",
    (3, 8): "fzczcz",
    (3, 2): "fzczcz",
    (6, 8): "fzcfzc",
    (9, 8): "fzcfzcfzc",
    (12, 8): "fzcfzcfzcfzc",
    (6, 4): "fzczfzczfzcz",
}
#: The longest gchord pattern read, in steps.
MAX_GCHORD_STEPS = 64


@dataclass(frozen=True)
class ChordSymbol:
    """A chord symbol read: root and bass as pitch classes (0 = C), the chord's intervals.

    ``bass_only`` is a symbol written in lower case (``"g"``): abc2midi plays
    its bass note on every step, and no chord.
    """

    text: str
    root: int
    intervals: tuple[int, ...]
    bass: int
    bass_only: bool = False

    def bass_pitch(self) -> int:
        """MIDI pitch of the bass note (octave from C2)."""
        return BASS_FROM + self.bass

    def chord_pitches(self) -> tuple[int, ...]:
        """MIDI pitches of the chord (root from C3), turned over so that the ``/`` note is lowest."""
        pitches = [CHORD_FROM + self.root + step for step in self.intervals]
        lowest = next((p for p in pitches if p % 12 == self.bass), None)
        if lowest is None or self.bass == self.root:
            return tuple(pitches)
        return tuple(p + 12 if p < lowest else p for p in pitches)


def parse_chord_symbol(text: str) -> ChordSymbol | None:
    """The chord a symbol names, or None for an annotation or a name that is not a chord.

    >>> parse_chord_symbol("D7/f#").chord_pitches()
    (62, 66, 69, 72)
    """
    name = text.strip()
    if not name or name[0] in "^_<>@":
        return None  # an annotation placed by the text, not a chord
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]  # an optional chord, played as written
    match = _SYMBOL.fullmatch(name)
    if not match or match.group(3) not in CHORD_TYPES:
        return None
    letter, accidental, kind, bass_letter, bass_accidental = match.groups()
    root = _pitch_class(letter, accidental)
    bass = _pitch_class(bass_letter, bass_accidental) if bass_letter else root
    return ChordSymbol(text, root, CHORD_TYPES[kind], bass, letter.islower())


def _pitch_class(letter: str, accidental: str) -> int:
    return (LETTER_SEMITONES[letter.upper()] + {"#": 1, "b": -1}.get(accidental, 0)) % 12


@dataclass(frozen=True)
class Step:
    """One step of a gchord pattern: what it plays (``f c b z g h i j G H I J``) and its length in steps."""

    code: str
    length: int = 1


def parse_gchord(pattern: str) -> tuple[Step, ...]:
    """The steps of a gchord pattern such as ``fzczfzcz`` or ``f2c2``.

    Raises:
        ValueError: a character that is not a step, or a pattern longer
            than :data:`MAX_GCHORD_STEPS`.
    """
    steps = []
    for code, digits in re.findall(r"(.)(\d*)", pattern.strip()):
        if code not in "fcbzghijGHIJ":
            raise ValueError(f"gchord pattern {pattern!r}: {code!r} is not one of f c b z g h i j G H I J")
        steps.append(Step(code, int(digits[:2]) if digits else 1))
    if not steps or sum(s.length for s in steps) > MAX_GCHORD_STEPS:
        raise ValueError(f"gchord pattern {pattern!r} must have 1 to {MAX_GCHORD_STEPS} steps")
    return tuple(steps)


def default_gchord(meter: str) -> str | None:
    """abc2midi's gchord pattern for a meter, or None for a free meter.

    A meter without a pattern of its own gets abc2midi's: ``fzbc`` and
    then ``zc`` over and over, one step per beat of the numerator (5/4:
    ``fzbcz``).
    """
    value = {"C": "4/4", "C|": "2/2"}.get(meter.strip(), meter.strip())
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})", value)
    if not match or parse_meter(value) is None:
        return None
    numerator, denominator = int(match.group(1)), int(match.group(2))
    if (numerator, denominator) in DEFAULT_GCHORDS:
        return DEFAULT_GCHORDS[(numerator, denominator)]
    return ("fzbc" + "zc" * numerator)[:numerator] if 0 < numerator <= MAX_GCHORD_STEPS else None


def step_length(bar_length: Fraction, steps: tuple[Step, ...]) -> Fraction:
    """Whole notes per step: the pattern spread over one bar of the meter."""
    return bar_length / sum(step.length for step in steps)
