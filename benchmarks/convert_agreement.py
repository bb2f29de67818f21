"""How often musicgen's ABC -> MIDI agrees with abc2midi, note for note.

Samples tunes evenly across music21's five ABC collections (or from the
tunebooks given with ``--files``), converts each with musicgen and with
abc2midi, and compares the notes: every note's pitch, onset and duration in
beats, within 0.02 beat. Markings that abc2midi plays in its own style are
removed from its input first (rolls, trills and other decorations, fermatas,
hornpipe swing, grace notes: flags -NGRA -NFER -NFNP), as musicgen plays the
written melody. Chord symbols are left unplayed by both (abc2midi -NGUI,
musicgen without accompaniment) unless ``--chords`` asks both to play them:
then the bass and chord notes are compared too.

    python benchmarks/convert_agreement.py [--tunes 600] [--seed 0] [--show 5]
    python benchmarks/convert_agreement.py --chords --files ../shared/data/abc/nottingham/*.abc --tunes 300
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import mido

from musicgen.abc.corpus import load_corpus
from musicgen.errors import MusicgenError
from musicgen.render.midi import Sound, abc_to_midi

TOLERANCE = 0.02  # beats


def plain_for_abc2midi(abc: str) -> str:
    """Remove what abc2midi would play in its own style."""
    lines = []
    for line in abc.split("\n"):
        if line.startswith("K:") and "%%MIDI chordattack" not in "\n".join(lines):
            lines.append("%%MIDI chordattack 0")  # play chord notes together, not staggered
        if line.startswith("R:"):
            continue  # R:hornpipe makes abc2midi swing
        if not re.match(r"[A-Za-z]:|%%", line):
            line = re.sub(r"![^!\n]*!|\+[a-z]+\+", "", line)
            line = re.sub(r'"[^"\n]*"', lambda m: m.group(0), line)
            line = _strip_decorations(line)
        lines.append(line)
    return "\n".join(lines)


def _strip_decorations(line: str) -> str:
    out, quoted = [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        if not quoted and char in "~.HTuvMPSOLJR":
            continue
        out.append(char)
    return "".join(out)


def midi_notes(path: Path) -> list[tuple[float, int, float]]:
    """(onset, pitch, duration) in beats of every note in a MIDI file."""
    midi = mido.MidiFile(path)
    ticks, sounding, notes = 0, {}, []
    for message in mido.merge_tracks(midi.tracks):
        ticks += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault((message.channel, message.note), []).append(ticks)
        elif message.type in ("note_off", "note_on") and sounding.get((message.channel, message.note)):
            start = sounding[(message.channel, message.note)].pop(0)
            notes.append((start / midi.ticks_per_beat, message.note, (ticks - start) / midi.ticks_per_beat))
    return sorted(notes)


def note_f1(ours: list, theirs: list) -> float:
    """F1 of notes matched on pitch, onset and duration (within TOLERANCE)."""
    if not ours and not theirs:
        return 1.0
    remaining, matched = list(theirs), 0
    for onset, pitch, length in ours:
        for index, (o, p, other_length) in enumerate(remaining):
            if p == pitch and abs(o - onset) <= TOLERANCE and abs(other_length - length) <= TOLERANCE:
                matched += 1
                del remaining[index]
                break
    return 2 * matched / (len(ours) + len(theirs))


def compare(abc: str, work: Path, chords: bool = False) -> tuple[str, float, float, str]:
    """(outcome, F1, seconds, message) for one tune; ``chords``: both play the chord symbols."""
    ours_path, theirs_path, source = work / "ours.mid", work / "theirs.mid", work / "tune.abc"
    started = time.perf_counter()
    try:
        abc_to_midi(abc, ours_path, Sound(accompaniment=chords))
    except MusicgenError as error:
        return "error", 0.0, time.perf_counter() - started, str(error)
    except Exception as error:  # an unhandled exception is what we count
        return "crash", 0.0, time.perf_counter() - started, f"{type(error).__name__}: {error}"
    seconds = time.perf_counter() - started
    source.write_text(plain_for_abc2midi(abc), encoding="utf-8")
    flags = ["-NGRA", "-NFER", "-NFNP", "-silent"] + ([] if chords else ["-NGUI"])
    subprocess.run(
        ["abc2midi", str(source), "-o", str(theirs_path), *flags],
        capture_output=True,
        cwd=work,
        timeout=30,
    )
    if not theirs_path.exists():
        return "abc2midi failed", 0.0, seconds, ""
    ours, theirs = midi_notes(ours_path), midi_notes(theirs_path)
    theirs_path.unlink()
    f1 = note_f1(ours, theirs)
    return ("agree" if f1 == 1.0 else "differ"), f1, seconds, f"{len(ours)} vs {len(theirs)} notes"


def sample_files(paths: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` tunes drawn at random from the tunebooks, as (file name, ABC)."""
    from musicgen.abc.tunebook import parse_tunebook, read_abc_file

    tunes = [(Path(p).name, tune.abc) for p in paths for tune in parse_tunebook(read_abc_file(Path(p)), p)[0]]
    return random.Random(seed).sample(tunes, min(count, len(tunes)))


def sample_tunes(count: int, seed: int) -> list[tuple[str, str]]:
    corpus = load_corpus()
    by_collection = defaultdict(list)
    for collection, tune in zip(corpus.collections, corpus.tunes):
        by_collection[collection].append(tune)
    rng, chosen = random.Random(seed), []
    for collection, tunes in sorted(by_collection.items()):
        for tune in rng.sample(tunes, min(len(tunes), count // len(by_collection))):
            chosen.append((collection, tune.abc))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=0, help="print this many disagreeing tunes")
    parser.add_argument("--files", nargs="+", help="tunebooks to sample from instead of music21's corpus")
    parser.add_argument("--chords", action="store_true", help="both play chord symbols (accompaniment)")
    args = parser.parse_args()
    if not shutil.which("abc2midi"):
        sys.exit("abc2midi is not installed (Debian package abcmidi)")
    rows = defaultdict(lambda: defaultdict(int))
    f1s, times, shown = [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        sample = sample_files(args.files, args.tunes, args.seed) if args.files else sample_tunes(args.tunes, args.seed)
        for collection, abc in sample:
            outcome, f1, seconds, message = compare(abc, Path(folder), args.chords)
            rows[collection][outcome] += 1
            rows[collection]["tunes"] += 1
            f1s.append(f1)
            times.append(seconds)
            if outcome != "agree" and shown < args.show:
                shown += 1
                print(f"--- {collection}: {outcome} (F1 {f1:.2f}) {message}\n{abc}")
    total = defaultdict(int)
    print(f"{'collection':<16}{'tunes':>6}{'agree':>8}{'differ':>8}{'errors':>8}{'crashes':>8}")
    for collection, row in sorted(rows.items()):
        for key, value in row.items():
            total[key] += value
        print(
            f"{collection:<16}{row['tunes']:>6}{row['agree'] / row['tunes']:>8.1%}{row['differ']:>8}"
            f"{row['error']:>8}{row['crash']:>8}"
        )
    print(
        f"{'all':<16}{total['tunes']:>6}{total['agree'] / total['tunes']:>8.1%}{total['differ']:>8}"
        f"{total['error']:>8}{total['crash']:>8}"
    )
    print(
        f"mean note F1 {statistics.mean(f1s):.3f}; median conversion time "
        f"{statistics.median(times) * 1000:.1f} ms per tune (p90 {sorted(times)[int(len(times) * 0.9)] * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
