"""How often musicgen's harmoniser names the chord root a human arranger wrote, beat by beat.

Reads tunebooks with chord symbols (the Nottingham Music Database:
``../shared/data/abc/nottingham/``, GPL-3, used here to measure only),
drops each tune's chords, harmonises its melody and compares, on every beat
the human harmony covers (in play order), the root of the chord sounding
there. Two baselines get the same melody: the tonic chord everywhere, and
the best-fitting chord of the key in each bar (the harmoniser's own chord
fit, with no progression). The tunes are split by their place in the files:
even places were looked at while setting the harmoniser's weights (dev),
odd places were not (test); the test half is the figure to report.

    python benchmarks/harmonize.py ../shared/data/abc/nottingham/*.abc [--split test]
"""

from __future__ import annotations

import argparse
import statistics
from fractions import Fraction
from pathlib import Path

from musicgen.abc.chords import parse_chord_symbol
from musicgen.abc.harmony import chord_fit, harmonize_tune, key_chords
from musicgen.abc.keys import is_compound, parse_meter
from musicgen.abc.melody import Melody, abc_to_melody
from musicgen.abc.tunebook import parse_tunebook, read_abc_file
from musicgen.errors import MusicgenError


def roots_by_beat(melody: Melody) -> list[int | None]:
    """The root (pitch class) of the chord sounding on each beat, None before the first chord."""
    beat = Fraction(3, 8) if is_compound(melody.meter) else Fraction(1, 4)
    symbols = sorted(
        ((start, chord) for start, text in melody.chords if (chord := parse_chord_symbol(text)) is not None),
        key=lambda item: item[0],
    )
    roots, index, current, time = [], 0, None, Fraction(0)
    while time < melody.end:
        while index < len(symbols) and symbols[index][0] <= time:
            current, index = symbols[index][1].root, index + 1
        roots.append(current)
        time += beat
    return roots


def bar_baseline(melody: Melody) -> list[int | None]:
    """The best-fitting chord of the key in each bar, as roots by beat."""
    chords, _ = key_chords(melody.key)
    beat = Fraction(3, 8) if is_compound(melody.meter) else Fraction(1, 4)
    roots = []
    for bar in melody.bars:
        weights: dict[int, float] = {}
        for note in melody.notes:
            overlap = min(note.start + note.length, bar.start + bar.length) - max(note.start, bar.start)
            if overlap > 0:
                weights[note.pitch % 12] = weights.get(note.pitch % 12, 0.0) + float(overlap)
        best = max(chords, key=lambda c: chord_fit(c, weights)).root if weights else None
        count = round(bar.length / beat) if parse_meter(bar.meter) else 0
        roots.extend([best] * count)
    return roots


def agreement(ours: list[int | None], theirs: list[int | None]) -> tuple[int, int]:
    """(beats that agree, beats the human harmony covers)."""
    pairs = [(a, b) for a, b in zip(ours, theirs) if b is not None]
    return sum(a == b for a, b in pairs), len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    args = parser.parse_args()
    tunes = [t for path in args.files for t in parse_tunebook(read_abc_file(Path(path)), path)[0]]
    keep = {"dev": 0, "test": 1}.get(args.split)
    chosen = [t for i, t in enumerate(tunes) if keep is None or i % 2 == keep]
    totals = {"musicgen": [0, 0], "tonic": [0, 0], "best chord per bar": [0, 0]}
    per_tune, skipped = [], 0
    for tune in chosen:
        try:
            human = abc_to_melody(tune.abc)
            theirs = roots_by_beat(human)
            if not any(r is not None for r in theirs):
                skipped += 1
                continue
            ours = roots_by_beat(abc_to_melody(harmonize_tune(tune, replace=True).abc))
            _, tonic = key_chords(human.key)
            bars = bar_baseline(human)
        except MusicgenError:
            skipped += 1
            continue
        for name, roots in (("musicgen", ours), ("tonic", [tonic.root] * len(theirs)), ("best chord per bar", bars)):
            agree, count = agreement(roots, theirs)
            totals[name][0] += agree
            totals[name][1] += count
        agree, count = agreement(ours, theirs)
        per_tune.append(agree / count)
    print(f"{len(per_tune)} tunes ({args.split} split), {skipped} without chords or unreadable")
    print(f"{'harmony':<20}{'root agreement per beat':>26}")
    for name, (agree, count) in totals.items():
        print(f"{name:<20}{agree / count:>26.1%}")
    print(f"median tune (musicgen) {statistics.median(per_tune):.1%}")


if __name__ == "__main__":
    main()
