"""Harmonise a melody: chord symbols chosen for each half bar, written into the tune.

The chords are those a folk accompanist reaches for first: the major and
minor triads of the key's scale (its mode's, for ``K:Dmix`` or ``K:Ador``),
the dominant seventh, and in minor modes the major dominant (``E7`` in A
minor). Each stretch of the bar (a half bar in 4/4 and 6/8, a bar in 3/4
and 2/4, a third of a 9/8 bar) scores every chord by how much of its melody
the chord holds, notes on the stretch's first beat counting double; a
Viterbi search then chooses the sequence that also moves as tunes do: it
starts and ends on the tonic, prefers dominant to tonic and subdominant to
dominant, and keeps a chord rather than change it for a passing note. The
progression weights are set by hand from the harmony textbook, not fitted
to any tunes (``benchmarks/harmonize.py`` measures them on the Nottingham
Music Database's human chords).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from musicgen.abc.keys import LETTER_SEMITONES, key_signature, parse_meter
from musicgen.abc.melody import read_measures
from musicgen.abc.tunebook import Tune, parse_tune
from musicgen.errors import ConversionError

__all__ = ["Chord", "chord_fit", "harmonize", "harmonize_tune", "key_chords", "stretches_per_bar"]

_LETTERS = "CDEFGAB"
_MINOR_MODES = ("m", "min", "aeo", "dor", "phr")
#: Scores of the search (log-scale): moves between chord functions, and staying.
STAY = 0.35
MOVES = {
    ("T", "S"): 0.0,
    ("T", "D"): 0.0,
    ("S", "D"): 0.3,
    ("S", "T"): -0.1,
    ("D", "T"): 0.4,
    ("D", "S"): -0.6,
    ("T", "T"): -0.3,
    ("S", "S"): -0.3,
    ("D", "D"): -0.2,
}
START_ON_TONIC, END_ON_TONIC = 0.6, 1.5
NON_CHORD_TONE = 0.6
SECONDARY_PRIOR = -0.3  # what a melody note outside the chord costs, per unit of weight


@dataclass(frozen=True)
class Chord:
    """A chord the harmoniser may choose: its symbol, pitch classes, root and function (T, S or D)."""

    symbol: str
    tones: frozenset[int]
    root: int
    function: str
    prior: float = 0.0  # a small preference for the common chords


def key_chords(key: str) -> tuple[list[Chord], Chord]:
    """The chords offered in a key, and its tonic chord.

    Raises:
        ConversionError: an unknown key, or one without a tonic (``K:none``, highland pipes).
    """
    match = re.match(r"\s*([A-G])([#b]?)\s*([A-Za-z]*)", key)
    if not match:
        raise ConversionError(f"K:{key}: a key with a tonic is needed to harmonise")
    signature = key_signature(key)
    mode = match.group(3).lower()
    minor = (mode if mode == "m" else mode[:3]) in _MINOR_MODES
    start = _LETTERS.index(match.group(1))
    letters = [_LETTERS[(start + i) % 7] for i in range(7)]
    pcs = [(LETTER_SEMITONES[letter] + signature[letter]) % 12 for letter in letters]
    names = [letter + {1: "#", -1: "b", 2: "##", -2: "bb"}.get(signature[letter], "") for letter in letters]
    functions = "TSTSDTD"  # I ii iii IV V vi vii
    chords = []
    for degree in range(7):
        third, fifth = (pcs[(degree + 2) % 7] - pcs[degree]) % 12, (pcs[(degree + 4) % 7] - pcs[degree]) % 12
        if fifth != 7 or third not in (3, 4):
            continue  # a diminished or augmented triad: not a folk chord
        tones = frozenset((pcs[degree], pcs[(degree + 2) % 7], pcs[(degree + 4) % 7]))
        prior = 0.15 if degree in (0, 3, 4) else 0.0
        chords.append(Chord(names[degree] + ("m" if third == 3 else ""), tones, pcs[degree], functions[degree], prior))
    dominant = pcs[4]
    leading = (dominant + 4) % 12  # the major dominant's third (G# in A minor)
    seventh = (dominant + 10) % 12
    dominant_name = names[4]
    chords = [c for c in chords if not (minor and c.root == dominant)]  # the minor v gives way to V
    chords.append(Chord(dominant_name, frozenset((dominant, leading, pcs[1])), dominant, "D", 0.1))
    chords.append(Chord(dominant_name + "7", frozenset((dominant, leading, pcs[1], seventh)), dominant, "D", 0.0))
    if not minor:  # the dominant's own dominant (E7 in D, A7 in G), on its way to V
        second = pcs[1]
        tones = frozenset((second, (second + 4) % 12, (second + 7) % 12, (second + 10) % 12))
        chords.append(Chord(names[1] + "7", tones, second, "S", SECONDARY_PRIOR))
    tonic = next(c for c in chords if c.root == pcs[0])
    return chords, tonic


def stretches_per_bar(meter: str) -> int:
    """How many chords a bar may have: 2 in 4/4, 2/2 and 6/8, 3 in 9/8, 4 in 12/8, else 1."""
    value = {"C": "4/4", "C|": "2/2"}.get(meter.strip(), meter.strip())
    return {"4/4": 2, "2/2": 2, "6/8": 2, "6/4": 2, "9/8": 3, "12/8": 4, "3/2": 3}.get(value, 1)


def harmonize(abc: str, replace: bool = False) -> str:
    """One tune's ABC with chord symbols added (see :func:`harmonize_tune`)."""
    return harmonize_tune(parse_tune(abc), replace).abc


def harmonize_tune(tune: Tune, replace: bool = False) -> Tune:
    """The tune with a chord symbol at each change of chord, as :mod:`musicgen.abc.harmony` chooses them.

    A tune that already has chord symbols is returned as it is, unless
    ``replace``: then its own symbols are dropped first.

    Raises:
        ConversionError: the tune cannot be read, or its key has no tonic.
    """
    if _has_chords(tune.body) and not replace:
        return tune
    body = _without_chords(tune.body)
    plain = Tune(tune.number, tune.fields, body, tune.source, tune.origin, tune.midi)
    chords, tonic = key_chords(tune.fields.get("K", ""))
    stretches = _stretches(plain)
    if not stretches:
        return plain
    choice = _viterbi(stretches, chords, tonic)
    lines = body.split("\n")
    previous = None
    inserts = []
    for (_, _, place), chord in zip(stretches, choice):
        if chord != previous and place is not None:
            inserts.append((place, chord.symbol))
            previous = chord
    for (line, column), symbol in sorted(inserts, reverse=True):
        lines[line] = f'{lines[line][:column]}"{symbol}"{lines[line][column:]}'
    return Tune(tune.number, tune.fields, "\n".join(lines), tune.source, tune.origin, tune.midi)


_QUOTED_CHORD = re.compile(r'"[A-Ga-g(][^"\n]*"')


def _has_chords(body: str) -> bool:
    return bool(_QUOTED_CHORD.search(body))


def _without_chords(body: str) -> str:
    return _QUOTED_CHORD.sub("", body)


def _stretches(tune: Tune) -> list[tuple[dict[int, float], bool, tuple[int, int] | None]]:
    """Each stretch of each written bar: melody weight by pitch class, whether it ends the tune, where
    its first note is written (line, column; None when no note starts in it)."""
    reader = read_measures(tune)
    result = []
    for label in reader.order:
        for measure in reader.parts[label]:
            bar = parse_meter(measure.meter) if measure.meter else None
            if not measure.events or bar is None:
                continue
            count = stretches_per_bar(measure.meter)
            size = bar / count
            if measure.length < size:
                continue  # a pickup: played over the chord before it, or none
            starts = [size * k for k in range(count) if size * k < measure.length]
            for index, start in enumerate(starts):
                end = starts[index + 1] if index + 1 < len(starts) else max(measure.length, start + size)
                result.append((_weights(measure, start, end), False, _first_onset(measure, start, end)))
    if result:
        weights, _, place = result[-1]
        result[-1] = (weights, True, place)
    return result


def _weights(measure, start: Fraction, end: Fraction) -> dict[int, float]:
    """Melody time by pitch class in [start, end), a note sounding at ``start`` counting double."""
    weights: dict[int, float] = {}
    for offset, length, pitch, _ in measure.events:
        overlap = min(offset + length, end) - max(offset, start)
        if overlap <= 0:
            continue
        strong = 2.0 if offset <= start < offset + length else 1.0
        weights[pitch % 12] = weights.get(pitch % 12, 0.0) + float(overlap) * strong
    return weights


def _first_onset(measure, start: Fraction, end: Fraction) -> tuple[int, int] | None:
    return next(((line, column) for offset, line, column in measure.onsets if start <= offset < end), None)


def chord_fit(chord: Chord, weights: dict[int, float]) -> float:
    """How well a chord fits the pitch classes sounding (``{pitch class: whole notes}``).

    The share of time on chord tones, less a penalty for the rest, plus the chord's prior.
    """
    total = sum(weights.values())
    if not total:
        return 0.0
    held = sum(w for pc, w in weights.items() if pc in chord.tones)
    return (held - NON_CHORD_TONE * (total - held)) / total + chord.prior


def _viterbi(stretches, chords: list[Chord], tonic: Chord) -> list[Chord]:
    """The best-scoring chord for every stretch."""
    scores = [chord_fit(c, stretches[0][0]) + (START_ON_TONIC if c == tonic else 0.0) for c in chords]
    back: list[list[int]] = []
    for weights, last, place in stretches[1:]:
        step, row = [], []
        for chord in chords:
            best = max(range(len(chords)), key=lambda i: scores[i] + _move(chords[i], chord, place is None))
            row.append(best)
            bonus = END_ON_TONIC if last and chord == tonic else 0.0
            step.append(scores[best] + _move(chords[best], chord, place is None) + chord_fit(chord, weights) + bonus)
        scores, back = step, [*back, row]
    best = max(range(len(chords)), key=lambda i: scores[i])
    path = [best]
    for row in reversed(back):
        path.append(row[path[-1]])
    return [chords[i] for i in reversed(path)]


def _move(before: Chord, after: Chord, held: bool) -> float:
    """The score of going from one chord to the next (no change is possible without a new note)."""
    if before == after:
        return STAY
    if held:
        return -100.0  # nowhere to write the symbol
    return MOVES.get((before.function, after.function), 0.0)
