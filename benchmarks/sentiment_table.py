"""Sentiment accuracy table: the recurrent model against the baselines.

Reads the real datasets in ``../shared/data/sentiment/`` (not shipped):

- SST-2: each model trains on ``stsa.binary.train`` (a tenth held out by
  hash to choose the best epoch) and is scored on ``stsa.binary.dev``, with
  its training time; plus the lecture's word-order pair.
- UCI Sentiment Labelled Sentences: 10-fold cross-validation accuracy per
  source (amazon, imdb, yelp) for each model.

    python benchmarks/sentiment_table.py [--data ../shared/data/sentiment] [--skip-uci] [--threads N]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from statistics import mean, stdev

import torch

from musicgen.tasks.sentiment import (
    SentimentConfig,
    SentimentTrainConfig,
    cross_validate,
    read_examples,
    split_examples,
)
from musicgen.tasks.sentiment.compare import compare_models, comparison_table

KINDS = ("bow", "window", "rnn")
#: Learning rates per kind: the linear bag of words needs a larger step.
LEARNING_RATES = {"bow": 1e-2, "window": 2e-3, "rnn": 2e-3}


def sst_table(folder: Path, config: SentimentConfig, train_config: SentimentTrainConfig) -> str:
    train = read_examples(folder / "sst2" / "stsa.binary.train")
    dev = read_examples(folder / "sst2" / "stsa.binary.dev")
    fit, valid = split_examples(train, 0.1, train_config.seed)
    rows = []
    for kind in KINDS:
        settings = replace(train_config, learning_rate=LEARNING_RATES[kind])
        rows += compare_models(fit, valid, dev, config, settings, kinds=(kind,))
    return comparison_table(rows)


def uci_table(folder: Path, config: SentimentConfig, train_config: SentimentTrainConfig) -> str:
    lines = ["| source | " + " | ".join(KINDS) + " |", "|---|" + "---|" * len(KINDS)]
    for source in ("amazon_cells", "imdb", "yelp"):
        examples = read_examples(folder / "uci" / f"{source}_labelled.txt")
        cells = []
        for kind in KINDS:
            settings = replace(train_config, learning_rate=LEARNING_RATES[kind])
            scores = cross_validate(examples, 10, replace(config, kind=kind), settings, train_config.seed)
            cells.append(f"{mean(scores):.3f} +- {stdev(scores):.3f}")
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"
    )
    parser.add_argument("--skip-uci", action="store_true")
    parser.add_argument("--skip-sst", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = SentimentConfig(vocab_size=1)
    train_config = SentimentTrainConfig(seed=args.seed)
    print(f"model: {config}\ntraining: {train_config}\n")
    started = time.monotonic()
    if not args.skip_sst:
        print("SST-2 (train on stsa.binary.train less a tenth for epoch choice; score on stsa.binary.dev)")
        print(sst_table(args.data, config, train_config), f"\n({time.monotonic() - started:.0f} s)\n", flush=True)
    if not args.skip_uci:
        print("UCI Sentiment Labelled Sentences, 10-fold cross-validation accuracy (mean +- sd over folds)")
        print(uci_table(args.data, config, train_config), f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
