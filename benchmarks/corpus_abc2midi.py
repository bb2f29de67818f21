"""How many corpus tunes abc2midi reads without error, before and after cleaning.

For every tune of the default corpus (or the given files) this runs
``abc2midi -c`` on the raw tune text (as split from its file on ``X:``) and on
musicgen's normalised tune, counts the tunes with at least one error per
collection, and checks that cleaning left the melody unchanged: both versions
are converted to MIDI by abc2midi (without chord accompaniment) and their
(onset, pitch) lists compared, for the tunes abc2midi reads cleanly before.

    python benchmarks/corpus_abc2midi.py [--limit N] [PATH ...]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import mido

from musicgen.abc.corpus import abc_files, default_sources
from musicgen.abc.tunebook import decode_abc, parse_tunebook


def abc2midi(text: str, work: Path, name: str, check: bool) -> tuple[list[str], list]:
    """Error lines reported by abc2midi, and the notes it writes (when not checking)."""
    source = work / f"{name}.abc"
    source.write_text(text, encoding="utf-8")
    midi = work / f"{name}.mid"
    # The melody only: chord symbols' accompaniment (-NGUI) is not compared.
    args = ["abc2midi", str(source), "-o", str(midi)] + (["-c"] if check else ["-NGUI"])
    result = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=30, cwd=work)
    errors = re.findall(r"^Error.*$", result.stdout + result.stderr, re.MULTILINE)
    notes = []
    if not check and midi.exists():
        ticks = 0
        for message in mido.merge_tracks(mido.MidiFile(midi).tracks):
            ticks += message.time
            if message.type == "note_on" and message.velocity > 0:
                notes.append((ticks, message.note))
        midi.unlink()
    return errors, sorted(notes)


def check_pair(job: tuple[str, str, str]) -> tuple[str, int, int, int, bool]:
    """(collection, raw errors, clean errors, clean errors other than the hornpipe rule, same melody)."""
    collection, raw, clean = job
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        raw_errors, _ = abc2midi(raw, work, "raw", check=True)
        clean_errors, _ = abc2midi(clean, work, "clean", check=True)
        same = abc2midi(raw, work, "raw", False)[1] == abc2midi(clean, work, "clean", False)[1]
    # abc2midi refuses to swing an R:hornpipe that is not in 2/4 or 4/4: a style rule, not a notation error
    other = [e for e in clean_errors if "Hornpipe must be in" not in e]
    return collection, len(raw_errors), len(clean_errors), len(other), same


def jobs(paths: list[Path], limit: int | None) -> list[tuple[str, str, str]]:
    found = []
    for root, path in abc_files(paths):
        text = decode_abc(path.read_bytes())
        starts = [m.start() for m in re.finditer(r"^X:", text, re.MULTILINE)]
        per_file = 0
        for begin, end in zip(starts, starts[1:] + [len(text)]):
            raw = text[begin:end]
            tunes, _ = parse_tunebook(raw, path.name)
            if tunes and (limit is None or per_file < limit):
                found.append((root.name, raw, tunes[0].abc))
                per_file += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--limit", type=int, help="at most this many tunes per file")
    args = parser.parse_args()
    if not shutil.which("abc2midi"):
        sys.exit("abc2midi is not installed (Debian package abcmidi)")
    work = jobs(args.paths or default_sources(), args.limit)
    totals = defaultdict(lambda: [0, 0, 0, 0, 0])
    with Pool() as pool:
        for collection, raw, clean, other, same in pool.imap_unordered(check_pair, work, chunksize=16):
            row = totals[collection]
            row[0] += 1
            row[1] += raw == 0
            row[2] += clean == 0
            row[3] += other == 0
            row[4] += same and raw == 0
    print(f"{'collection':<16}{'tunes':>7}{'raw ok':>9}{'clean ok':>10}{'but swing':>11}{'same notes':>12}")
    print("(but swing: clean ok when abc2midi's hornpipe-swing rule is set aside;")
    print(" same notes: share of the tunes abc2midi reads without error before cleaning)")
    for collection, (count, raw_ok, clean_ok, other_ok, same) in sorted(totals.items()):
        print(
            f"{collection:<16}{count:>7}{raw_ok / count:>9.1%}{clean_ok / count:>10.1%}"
            f"{other_ok / count:>11.1%}{same / max(raw_ok, 1):>12.1%}"
        )


if __name__ == "__main__":
    main()
