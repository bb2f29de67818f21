"""The model card's figures: generated tunes against held-out real tunes.

1. Scores the test split of the default corpus (real tunes the model never
   saw) with `musicgen evaluate`'s metrics, novelty measured against the
   train split, as the bar to meet.
2. Samples --tunes tunes at the CLI's default temperature, weights (int8
   where available; --float32 for the model exactly) and form (a plain
   `musicgen generate` asks for --form AABB --part-bars 8; `--form any` asks for
   none) and a fixed seed and scores them the same way, with the population
   compared to the test split.
3. For each (key, meter) pair, samples --tunes-per-pair tunes conditioned on
   them and reports the share that come out in that key and meter, and their
   figures.
4. Measures novelty again with every tune (training, held-out, generated)
   moved to C, so a bar copied into another key counts as copied: the fair
   figure for a model that moves its tunes to drawn keys.
5. Times a plain `musicgen generate` in a fresh process.

    python benchmarks/model_card.py [--model PATH] [--tunes 200] [--seed 1]
        [--tunes-per-pair 50] [--header-drafts 16] [--end-drafts N] [--pairs-only] [--no-pairs]
        [--form AABB|any] [--no-rules]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from musicgen.abc.codes import form_option
from musicgen.abc.corpus import load_corpus
from musicgen.evaluation.evaluate import (
    NoveltyIndex,
    any_key_index,
    evaluate_tunes,
    novelty_in_any_key,
)
from musicgen.model.lm import load_model
from musicgen.model.stepper import int8_available
from musicgen.sampling.rules import RULES
from musicgen.sampling.sampler import generate, header_fields

KEYS = [
    "well_formed",
    "converts",
    "no_abc2midi_errors",
    "bar_consistency",
    "bars_filled",
    "ends_on_tonic",
    "in_scale",
    "repeats",
    "bars_repeated",
    "dance_form",
    "verbatim_bars",
    "shares_4_bars",
    "copies_whole_tune",
    "overlap_meters",
    "overlap_keys",
    "overlap_note_lengths",
    "overlap_pitch_ranges",
]
PAIRS = [("Dmix", "6/8"), ("G", "4/4"), ("Ador", "9/8"), ("D", "3/4")]


def row(name: str, summary: dict) -> str:
    cells = [f"{summary.get(k):.3f}" if isinstance(summary.get(k), float) else "n/a" for k in KEYS]
    return f"| {name} | " + " | ".join(cells) + " |"


def tunes_of(generated) -> list:
    return [t.tune for t in generated if t.tune is not None]


def print_novelty_in_any_key(corpus, held_out: list, generated: list) -> None:
    """Novelty with every tune moved to C: bars copied into another key count as copied."""
    index = any_key_index(corpus.split("train"))
    novelty_keys = ("verbatim_bars", "shares_4_bars", "copies_whole_tune")
    print("\n| moved to C | " + " | ".join(novelty_keys) + " |\n|---|---|---|---|")
    for name, tunes in (("held-out real", held_out), ("generated", generated)):
        figures = novelty_in_any_key(tunes, index)
        print(f"| {name} | " + " | ".join(f"{figures[k]:.3f}" for k in novelty_keys) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=200)
    parser.add_argument("--tunes-per-pair", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.85, help="the CLI's default")
    parser.add_argument("--skip-held-out", action="store_true", help="do not score the real test tunes")
    parser.add_argument("--float32", action="store_true", help="sample with float32 weights, not the CLI's int8")
    parser.add_argument("--header-drafts", type=int, default=16, help="for the key/meter pairs (the CLI's default)")
    parser.add_argument("--end-drafts", type=int, default=4, help="ending drafts per tune (the CLI's default)")
    parser.add_argument(
        "--bar-tries",
        type=int,
        default=8,
        help="times a bar that does not fill its meter is redrawn (the CLI's default)",
    )
    parser.add_argument("--pairs-only", action="store_true", help="only the key/meter pairs")
    parser.add_argument("--no-pairs", action="store_true", help="leave out the key/meter pairs")
    parser.add_argument("--form", default=None, help="as generate's --form [default: the CLI's, AABB of 8 bars]")
    parser.add_argument("--no-rules", action="store_true", help="switch off every sampler rule")
    args = parser.parse_args()
    int8 = not args.float32 and int8_available()
    model = load_model(args.model)
    if not args.pairs_only:
        print_unconditioned(args, model, int8)
    if not args.no_pairs:
        print_pairs(args, model, int8)
    if not args.pairs_only:
        print_cli_time(args)


def print_unconditioned(args, model, int8: bool) -> None:
    corpus = load_corpus()
    index = NoveltyIndex(corpus.split("train"))
    held_out = corpus.split("test")
    print("| tunebook | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 1) + "|")
    if not args.skip_held_out:
        print(row(f"held-out real ({len(held_out)})", evaluate_tunes(held_out, held_out, index)["summary"]), flush=True)
    started = time.perf_counter()
    form = form_option(args.form, None, kind_given=False)
    rules = {name: False for name in RULES} if args.no_rules else {}
    sampled = generate(
        model,
        n=args.tunes,
        seed=args.seed,
        temperature=args.temperature,
        int8=int8,
        end_drafts=args.end_drafts,
        bar_tries=args.bar_tries,
        header=header_fields(form=form),
        **rules,
    )
    seconds = time.perf_counter() - started
    parsed = tunes_of(sampled)
    summary = evaluate_tunes(parsed, held_out, index)["summary"]
    readable = len(parsed) / len(sampled)
    for key in ("well_formed", "converts", "no_abc2midi_errors"):
        if summary.get(key) is not None:
            summary[key] *= readable  # unreadable tunes count as failures
    weights = "int8" if int8 else "float32"
    asked = f"N:{form.strip()}" if form else "no form"
    name = f"generated ({len(sampled)}, seed {args.seed}, T {args.temperature}, {weights}, {asked})"
    print(row(name, summary), flush=True)
    print(f"\n{len(sampled)} tunes sampled in {seconds:.1f} s; {sum(t.complete for t in sampled)} ended by the model")
    print_novelty_in_any_key(corpus, held_out, parsed)


def print_pairs(args, model, int8: bool) -> None:
    print(f"\nheader drafts: {args.header_drafts}, end drafts: {args.end_drafts}, bar tries: {args.bar_tries}")
    print("\n| key, meter | in key and meter | " + " | ".join(KEYS[:7]) + " |")
    print("|---" * 9 + "|")
    for key, meter in PAIRS:
        sampled = generate(
            model,
            n=args.tunes_per_pair,
            seed=args.seed,
            temperature=args.temperature,
            header=header_fields(key=key, meter=meter),
            header_drafts=args.header_drafts,
            end_drafts=args.end_drafts,
            bar_tries=args.bar_tries,
            int8=int8,
        )
        parsed = tunes_of(sampled)
        hits = sum(t.key == key and t.fields.get("M") == meter for t in parsed) / len(sampled)
        pair_summary = evaluate_tunes(parsed, None, None)["summary"]
        cells = [f"{pair_summary.get(k):.3f}" if isinstance(pair_summary.get(k), float) else "n/a" for k in KEYS[:7]]
        print(f"| {key} {meter} | {hits:.1%} | " + " | ".join(cells) + " |", flush=True)


def print_cli_time(args) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        command = [sys.executable, "-m", "musicgen", "generate", "--out", f"{folder}/out"]
        if args.model:
            command += ["--model", args.model]
        subprocess.run(command, check=True, capture_output=True)
        print(f"\nplain `musicgen generate` in a fresh process: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
