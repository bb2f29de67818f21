"""Fuzz every path that reads ABC with hostile input, counting failures and hangs.

Each case goes through tunebook splitting and normalising, conversion to notes
and MIDI, and the evaluation metrics; with --pictures also the piano roll and
verovio's sheet music (a child process per tune, so run fewer cases). Only MusicgenError may escape; a case
that takes longer than --bound seconds counts as a hang. Prints the number of
cases, unhandled exceptions, hangs, the slowest case and peak memory.

    python fuzz/run.py [--cases 100000] [--bound 2.0] [--seed 0] [--pictures]
"""

from __future__ import annotations

import argparse
import gc
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).parents[1]))
from fuzz.strategies import hostile_abc  # noqa: E402
from musicgen.abc.melody import abc_to_melody  # noqa: E402
from musicgen.abc.tunebook import parse_tunebook  # noqa: E402
from musicgen.errors import MusicgenError  # noqa: E402
from musicgen.evaluation.evaluate import score_tune  # noqa: E402
from musicgen.render.midi import melody_to_midi_file  # noqa: E402


class Hang(Exception):
    pass


def exercise(text: str, pictures: bool = False) -> None:
    tunes, _ = parse_tunebook(text, "fuzz")
    for tune in tunes:
        try:
            melody_to_midi_file(abc_to_melody(tune.abc))
        except MusicgenError:
            pass
        score_tune(tune, use_abc2midi=False)
        if pictures:
            _pictures(tune.abc)


def _pictures(abc: str) -> None:
    from musicgen.render.pictures import abc_to_svg, piano_roll_png

    for draw in (piano_roll_png, abc_to_svg):
        try:
            draw(abc)
        except MusicgenError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--bound", type=float, default=2.0, help="seconds a case may take")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pictures", action="store_true", help="also piano rolls and sheet music")
    args = parser.parse_args()
    stats = {"cases": 0, "crashes": 0, "hangs": 0, "slowest": 0.0}
    examples: list[str] = []

    def on_alarm(signum, frame):
        raise Hang

    signal.signal(signal.SIGALRM, on_alarm)

    @seed(args.seed)
    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_abc())
    def case(text):
        stats["cases"] += 1
        gc.disable()  # an alarm raised inside a GC callback is swallowed; collect outside the clock
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, args.bound)
        try:
            exercise(text, args.pictures)
        except Hang:
            stats["hangs"] += 1
            examples.append(f"HANG: {text[:300]!r}")
        except Exception:
            stats["crashes"] += 1
            examples.append(f"CRASH: {text[:300]!r}\n{traceback.format_exc(limit=3)}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            gc.enable()
        stats["slowest"] = max(stats["slowest"], time.perf_counter() - started)
        if stats["cases"] % 10_000 == 0:
            print(f"  {stats['cases']:,} cases ...", flush=True)

    started = time.perf_counter()
    case()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for example in examples[:10]:
        print(example)
    print(
        f"{stats['cases']:,} cases in {time.perf_counter() - started:.0f} s: {stats['crashes']} unhandled "
        f"exceptions, {stats['hangs']} hangs (bound {args.bound} s); slowest case "
        f"{stats['slowest'] * 1000:.0f} ms; peak memory {peak_mb:.0f} MB"
    )
    sys.exit(1 if stats["crashes"] or stats["hangs"] else 0)


if __name__ == "__main__":
    main()
