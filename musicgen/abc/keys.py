"""Key signatures, note lengths, meters and tempi from ABC header fields."""

from __future__ import annotations

import re
from fractions import Fraction

from musicgen.errors import ConversionError

_SHARPS_OF_MAJOR = {
    "C": 0,
    "G": 1,
    "D": 2,
    "A": 3,
    "E": 4,
    "B": 5,
    "F#": 6,
    "C#": 7,
    "F": -1,
    "Bb": -2,
    "Eb": -3,
    "Ab": -4,
    "Db": -5,
    "Gb": -6,
    "Cb": -7,
}
#: Sharps a mode has relative to the major key on the same tonic.
_MODE_SHIFT = {"maj": 0, "ion": 0, "mix": -1, "dor": -2, "min": -3, "aeo": -3, "m": -3, "phr": -4, "loc": -5, "lyd": 1}
_SHARP_ORDER = "FCGDAEB"
#: Semitones from C up to each natural note letter.
LETTER_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
#: Semitones each ABC accidental sets a note to, from its natural.
ACCIDENTAL = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
#: Staff settings a K: field may carry besides the key (clef=bass...).
STAFF_SETTINGS = re.compile(r"\b(clef|middle|transpose|octave|stafflines)=\S*")
_KEY = re.compile(r"\s*([A-G])([#b]?)\s*([A-Za-z]*)")


def key_signature(value: str) -> dict[str, int]:
    """Semitone shift of each note letter (upper case) under a K: field.

    Understands tonic, mode (``Dmix``, ``A dorian``, ``Em``), ``none``,
    highland pipes (``HP``, ``Hp``) and explicit accidentals (``D ^c _b``).

    Raises:
        ConversionError: an unknown key or mode.
    """
    text = STAFF_SETTINGS.sub("", value).strip()
    signature = dict.fromkeys("ABCDEFG", 0)
    if not text or text.lower().startswith("none"):
        return _explicit(signature, text[4:] if text.lower().startswith("none") else "")
    if text.startswith("HP"):
        return signature
    if text.startswith("Hp"):
        return {**signature, "F": 1, "C": 1}
    match = _KEY.match(text)
    if not match:
        raise ConversionError(f"K:{value}: unknown key")
    tonic = match.group(1) + match.group(2)
    mode = match.group(3).lower()
    if mode.startswith("exp"):
        return _explicit(signature, text[match.end() :])  # only the accidentals that follow
    shift = _MODE_SHIFT.get(mode[:3] if mode not in ("m",) else "m")
    if shift is None and mode:
        raise ConversionError(f"K:{value}: unknown mode {match.group(3)!r}")
    if tonic not in _SHARPS_OF_MAJOR:
        raise ConversionError(f"K:{value}: unknown tonic {tonic!r}")
    sharps = _SHARPS_OF_MAJOR[tonic] + (shift or 0)
    if not -7 <= sharps <= 7:
        raise ConversionError(f"K:{value}: a key with more than 7 sharps or flats")
    letters = _SHARP_ORDER[:sharps] if sharps > 0 else _SHARP_ORDER[::-1][:-sharps]
    for letter in letters:
        signature[letter] = 1 if sharps > 0 else -1
    return _explicit(signature, text[match.end() :])


def _explicit(signature: dict[str, int], rest: str) -> dict[str, int]:
    """Apply explicit accidentals such as ``^f _b =c`` after the key."""
    for accidental, letter in re.findall(r"(\^\^|\^|__|_|=)([A-Ga-g])", rest):
        signature[letter.upper()] = ACCIDENTAL[accidental]
    return signature


def parse_fraction(value: str, field: str) -> Fraction:
    """A length such as ``1/8`` (L:) as a fraction of a whole note.

    Raises:
        ConversionError: not a positive fraction.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value) or re.fullmatch(r"\s*(\d+)\s*", value)
    if not match or int(match.group(1)) == 0 or (match.lastindex == 2 and int(match.group(2)) == 0):
        raise ConversionError(f"{field}:{value}: expected a positive fraction such as 1/8")
    if match.lastindex == 2:
        return Fraction(int(match.group(1)), int(match.group(2)))
    return Fraction(int(match.group(1)))


def parse_meter(value: str) -> Fraction | None:
    """A meter's bar length in whole notes; None for free meter.

    Raises:
        ConversionError: a meter with a zero part.
    """
    value = value.strip()
    if value in ("C", ""):
        return Fraction(1) if value else None
    if value == "C|":
        return Fraction(1)
    if value.lower() in ("none", "free"):
        return None
    match = re.fullmatch(r"\(?([\d+ ]+)\)?\s*/\s*(\d+)", value)
    if not match:
        return None
    numerator = sum(int(part) for part in re.split(r"[+ ]+", match.group(1).strip()) if part)
    if numerator == 0 or int(match.group(2)) == 0:
        raise ConversionError(f"M:{value}: a meter cannot have a zero part")
    return Fraction(numerator, int(match.group(2)))


def is_compound(value: str) -> bool:
    """True for compound meters (6/8, 9/8, 12/8...), which triple tuplets group by 3."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    return match is not None and int(match.group(1)) % 3 == 0 and int(match.group(1)) > 3


def parse_tempo(value: str, unit: Fraction) -> float:
    """Quarter notes per minute from a Q: field (``1/4=120``, ``3/8=80``, ``120``).

    A bare number counts unit notes (L:) per minute, as in ABC 1.6.

    Raises:
        ConversionError: a zero or negative tempo.
    """
    text = re.sub(r'"[^"]*"', "", value)
    match = re.search(r"((?:\d+/\d+\s*)+)=\s*(\d+(?:\.\d+)?)", text)
    if match:
        beat = sum(Fraction(b) for b in match.group(1).split())
        per_minute = float(match.group(2))
    else:
        number = re.search(r"\d+(?:\.\d+)?", text)
        if not number:
            return 120.0
        beat, per_minute = unit, float(number.group())
    if per_minute <= 0 or beat <= 0:
        raise ConversionError(f"Q:{value}: the tempo must be positive")
    return per_minute * float(beat) * 4
