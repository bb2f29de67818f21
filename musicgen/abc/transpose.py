"""Move an ABC tune to another tonic, note for note.

The model learns every tune moved to the tonic C (``K:G`` becomes ``K:C``,
``K:Ador`` becomes ``K:Cdor``), so "the tune ends on its tonic" is one
pattern to learn instead of a dozen, and the sampler moves each new tune
to a tonic afterwards. A tune is moved by whole letters (G to C is three
letters up) and by the matching number of semitones, so notes that follow
the key signature stay bare and every explicit accidental is rewritten to
sound the moved pitch; accidentals still carry to the end of the bar, on
the moved letter. Key changes inside the tune (``K:`` lines, ``[K:...]``)
move by the same interval; chord symbols move too; annotations,
decorations and other fields are left as written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from musicgen.abc.keys import ACCIDENTAL, STAFF_SETTINGS
from musicgen.abc.reader import DECORATION
from musicgen.abc.tunebook import Tune
from musicgen.errors import ConversionError
from musicgen.limits import MAX_TUNE_CHARS

_LETTERS = "CDEFGAB"
_SEMITONES = (0, 2, 4, 5, 7, 9, 11)
_ACCIDENTAL_TEXT = {value: text for text, value in ACCIDENTAL.items()}
_TONIC = re.compile(r"(\s*)([A-G])([#b]?)(.*)", re.DOTALL)
#: One token of a body: a quoted chord or annotation, a decoration, an
#: inline field, a field line, a comment, or a note (the rest is copied).
_TOKEN = re.compile(
    r'(?P<quoted>"[^"\n]*")|(?P<decoration>' + DECORATION.pattern + ")"
    r"|(?P<inline>\[[A-Za-z]:[^\]\n]*\])|(?P<line>^[KLMPQRTWw]:[^\n]*)|(?P<comment>%[^\n]*)"
    r"|(?P<note>(?:\^\^|\^|__|_|=)?[A-Ga-g][,']*)",
    re.MULTILINE,
)
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)")
_CHORD = re.compile(r'"([A-G])([#b]?)([^"/]*)(?:/([A-G])([#b]?))?"')


@dataclass(frozen=True)
class Interval:
    """A move by ``steps`` letters and ``semitones`` half steps (both may be negative)."""

    steps: int
    semitones: int


def _pitch(step: int) -> int:
    """Semitones above C0 of the natural note ``step`` letters above C0."""
    return 12 * (step // 7) + _SEMITONES[step % 7]


def tonic_of(key: str) -> str | None:
    """The tonic a K: value names (``C``, ``F#``, ``Bb``), or None when it names none.

    Keys without a tonic (``none``, highland pipes) and keys with extra
    accidentals (``D ^g``, ``exp``) have none that a move could keep right.
    """
    match = _TONIC.fullmatch(key)
    rest = STAFF_SETTINGS.sub("", match.group(4)) if match else ""
    if not match or re.search(r"[\^_=]|\bexp", rest, re.IGNORECASE):
        return None
    if key.strip().startswith(("HP", "Hp")) or key.strip().lower().startswith("none"):
        return None
    return match.group(2) + match.group(3)


def interval_between(tonic: str, target: str) -> Interval:
    """The nearest move (at most three letters either way) from one tonic to another."""
    steps = (_LETTERS.index(target[0]) - _LETTERS.index(tonic[0])) % 7
    steps = steps - 7 if steps > 3 else steps
    shift = {"#": 1, "b": -1, "": 0}
    natural = _pitch(_LETTERS.index(tonic[0]) + 28 + steps) - _pitch(_LETTERS.index(tonic[0]) + 28)
    return Interval(steps, natural + shift[target[1:]] - shift[tonic[1:]])


def _root(letter: str, sign: str, interval: Interval) -> str:
    """A tonic or chord root such as ``F#`` moved by the interval."""
    step = _LETTERS.index(letter) + 28
    moved = step + interval.steps
    sharps = _pitch(step) + {"#": 1, "b": -1, "": 0}[sign] + interval.semitones - _pitch(moved)
    if not -1 <= sharps <= 1:
        raise ConversionError(f"{letter}{sign} moved by {interval.semitones} semitones needs a double sharp or flat")
    return _LETTERS[moved % 7] + {1: "#", -1: "b", 0: ""}[sharps]


def transpose_key(key: str, interval: Interval) -> str:
    """A K: value with its tonic moved and its mode and clef kept (``Ador`` -> ``Cdor``).

    Raises:
        ConversionError: the key has no tonic to move (see :func:`tonic_of`).
    """
    if tonic_of(key) is None:
        raise ConversionError(f"K:{key}: a key without a plain tonic cannot be transposed")
    space, letter, sign, rest = _TONIC.fullmatch(key).groups()  # type: ignore[union-attr]  # it has a tonic
    return space + _root(letter, sign, interval) + rest


def _transpose_note(match: re.Match, interval: Interval) -> str:
    accidental, letter, octave_marks = match.groups()
    octave = 5 if letter.islower() else 4
    octave += octave_marks.count("'") - octave_marks.count(",")
    step = 7 * octave + _LETTERS.index(letter.upper())
    moved = step + interval.steps
    text = ""
    if accidental is not None:
        sharps = _pitch(step) + ACCIDENTAL[accidental] + interval.semitones - _pitch(moved)
        if sharps not in _ACCIDENTAL_TEXT:
            raise ConversionError(f"{match.group(0)} moved by {interval.semitones} semitones needs a triple accidental")
        text = _ACCIDENTAL_TEXT[sharps]
    new_octave, name = divmod(moved, 7)
    if new_octave >= 5:
        return text + _LETTERS[name].lower() + "'" * (new_octave - 5)
    return text + _LETTERS[name] + "," * (4 - new_octave)


def _transpose_chord(match: re.Match, interval: Interval) -> str:
    root, sign, kind, bass, bass_sign = match.groups()
    text = _root(root, sign, interval) + kind
    if bass:
        text += "/" + _root(bass, bass_sign, interval)
    return f'"{text}"'


def _transpose_token(match: re.Match, interval: Interval) -> str:
    token = match.group(0)
    if match.group("note"):
        return _transpose_note(_NOTE.fullmatch(token), interval)  # type: ignore[arg-type]  # a note token
    if match.group("quoted"):
        chord = _CHORD.fullmatch(token)
        return _transpose_chord(chord, interval) if chord else token
    if match.group("inline") and token[1] == "K":
        return f"[K:{transpose_key(token[3:-1], interval)}]"
    if match.group("line") and token[0] == "K":
        return "K:" + transpose_key(token[2:], interval)
    return token


def transpose_body(body: str, interval: Interval) -> str:
    """The body of a tune with every note, chord symbol and key change moved.

    Raises:
        ConversionError: a note or key that the move cannot spell.
    """
    return _TOKEN.sub(lambda match: _transpose_token(match, interval), body)


def transpose_tune(tune: Tune, tonic: str) -> Tune:
    """The same tune moved so that its K: names ``tonic`` (mode kept).

    Raises:
        ConversionError: the tune's key has no plain tonic, a note cannot
            be spelled after the move, or the tune is longer than
            :data:`musicgen.limits.MAX_TUNE_CHARS`.
    """
    if len(tune.body) > MAX_TUNE_CHARS:
        raise ConversionError(f"the tune is longer than {MAX_TUNE_CHARS:,} characters")
    source = tonic_of(tune.key)
    if source is None:
        raise ConversionError(f"K:{tune.key}: a key without a plain tonic cannot be transposed")
    interval = interval_between(source, tonic)
    fields = {**tune.fields, "K": transpose_key(tune.key, interval)}
    return replace(tune, fields=fields, body=transpose_body(tune.body, interval))


def mode_of(key: str) -> str:
    """The mode a K: value names, as three lower-case letters (``maj``, ``min``, ``dor``...)."""
    match = _TONIC.fullmatch(key)
    word = re.match(r"\s*([A-Za-z]*)", match.group(4) if match else "").group(1).lower()  # type: ignore[union-attr]
    if word in ("", "ion") or word.startswith("maj"):
        return "maj"
    if word in ("m", "aeo") or word.startswith(("min", "aeo")):
        return "min"
    return word[:3]


@dataclass
class TonicTable:
    """How a model moves keys: the tonic it learns every tune in, and the tonics to move new tunes to.

    Attributes:
        tonic: the tonic every training tune was moved to (``C``).
        counts: for each mode, how many training tunes had each tonic.
    """

    tonic: str
    counts: dict[str, dict[str, int]]

    @classmethod
    def from_tunes(cls, tunes: list[Tune], tonic: str) -> TonicTable:
        """Count the tonic of each tune by its mode (tunes without a plain tonic are not counted)."""
        counts: dict[str, dict[str, int]] = {}
        for tune in tunes:
            source = tonic_of(tune.key)
            if source is not None:
                by_tonic = counts.setdefault(mode_of(tune.key), {})
                by_tonic[source] = by_tonic.get(source, 0) + 1
        return cls(tonic, counts)

    def to_dict(self) -> dict:
        return {"tonic": self.tonic, "counts": self.counts}

    @classmethod
    def from_dict(cls, data: dict) -> TonicTable:
        return cls(data["tonic"], data["counts"])

    def choose(self, key: str, draw: float) -> str:
        """A tonic for a new tune in ``key``'s mode, drawn by ``draw`` in [0, 1) as often as in training.

        A mode training never saw draws from all tunes.
        """
        by_tonic = self.counts.get(mode_of(key))
        if not by_tonic:
            by_tonic = {}
            for mode_counts in self.counts.values():
                for tonic, count in mode_counts.items():
                    by_tonic[tonic] = by_tonic.get(tonic, 0) + count
        if not by_tonic:
            return self.tonic
        total = sum(by_tonic.values())
        position = draw * total
        for tonic, count in sorted(by_tonic.items()):
            position -= count
            if position < 0:
                return tonic
        return max(by_tonic, key=lambda name: by_tonic[name])

    def tonic_bits(self, key: str) -> float:
        """Bits to pick ``key``'s tonic among its mode's tonics: what moving a tune there costs.

        Counts are smoothed by one over the 21 spellings (A-G, sharp or flat),
        so a tonic training never had for the mode costs many bits, not
        infinitely many. With the bits of the tune moved to :attr:`tonic`, this
        gives the bits of the tune as written.

        Raises:
            ConversionError: a key without a plain tonic.
        """
        source = tonic_of(key)
        if source is None:
            raise ConversionError(f"K:{key}: a key without a plain tonic cannot be moved")
        by_tonic = self.counts.get(mode_of(key), {})
        chance = (by_tonic.get(source, 0) + 1) / (sum(by_tonic.values()) + _SPELLINGS)
        return -math.log2(chance)


#: Tonic spellings: seven letters, each plain, sharp or flat.
_SPELLINGS = 21


def move_tunes(tunes: list[Tune], tonic: str) -> list[Tune]:
    """Every tune moved to ``tonic``; tunes whose key has no plain tonic are left out."""
    moved = []
    for tune in tunes:
        try:
            moved.append(transpose_tune(tune, tonic))
        except ConversionError:
            continue
    return moved


def as_learnt(tunes: list[Tune], tonics: TonicTable | None) -> list[Tune]:
    """The tunes as a model learnt them: moved to its tonic, or as written when it keeps keys."""
    return move_tunes(tunes, tonics.tonic) if tonics is not None else list(tunes)
