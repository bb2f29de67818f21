"""The CLI's default job, timed against a baseline checkout in the same run.

Runs ``musicgen generate -n 64 --seed S`` (every other option at its
default: ABC, MIDI and WAV files, int8 weights where available) in a fresh
process, alternating this tree and ``--baseline`` (another checkout of
musicgen, e.g. ``git worktree add /tmp/base COMMIT``), and prints each
run, the medians, their ratio, and whether both wrote the same tunebook::

    python benchmarks/cli_speed.py --baseline /tmp/base [--rounds 3] [--tunes 64] [--seed 1] [--extra='--form any']
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def run(tree: Path, tunes: int, seed: int, extra: tuple[str, ...] = ()) -> tuple[float, str]:
    """Seconds for one generate in a fresh process from ``tree``, and its tunebook's digest."""
    check = subprocess.run(
        [sys.executable, "-c", "import musicgen; print(musicgen.__file__)"],
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    if not check.stdout.startswith(str(tree.resolve())):
        raise SystemExit(f"{tree}: python imports musicgen from {check.stdout.strip()}, not from this checkout")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "tunes"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, "-m", "musicgen", "generate", "-n", str(tunes), "--seed", str(seed), *extra]
        start = time.perf_counter()
        # run from the temporary folder: `python -m` puts the working folder first on the import path
        subprocess.run([*command, "--out", str(out)], env=env, check=True, capture_output=True, cwd=folder)
        seconds = time.perf_counter() - start
        return seconds, hashlib.sha256((out / "tunebook.abc").read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another musicgen checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tunes", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--extra",
        default="",
        help="options for this tree's generate only, to ask it for the baseline's job "
        "(--extra='--form any': the model draws its form, as a tree from before form codes does)",
    )
    args = parser.parse_args()
    times: dict[str, list[float]] = {"baseline": [], "this tree": []}
    digests: dict[str, set[str]] = {"baseline": set(), "this tree": set()}
    for round_ in range(args.rounds):
        for name, tree in (("baseline", args.baseline), ("this tree", HERE)):
            extra = tuple(args.extra.split()) if name == "this tree" else ()
            seconds, digest = run(tree, args.tunes, args.seed, extra)
            times[name].append(seconds)
            digests[name].add(digest)
            print(f"round {round_ + 1}  {name:9}  {seconds:6.2f} s  tunebook {digest}", flush=True)
    base, this = statistics.median(times["baseline"]), statistics.median(times["this tree"])
    print(f"median: baseline {base:.2f} s, this tree {this:.2f} s: {base / this:.2f}x faster")
    print("same tunebook:", digests["baseline"] == digests["this tree"] and len(digests["baseline"]) == 1)


if __name__ == "__main__":
    main()
