"""A two-sample test: how well a classifier tells held-out real tunes of a type from generated ones.

For each tune type (reel, jig), the real tunes of that type in the valid and test splits (never trained
on) are set against as many tunes each model writes for ``--type T`` at the CLI's defaults. Each tune
becomes features (character 1-3-gram counts of its body moved to C, hashed into 4,096 slots, plus its
form: parts, bars in all, two parts of 8/16 bars, repeat signs, bars repeated within it, length), and
an L2 logistic regression is cross-validated (5 folds, stratified). 50% accuracy means the two kinds
cannot be told apart; higher is easier to tell.

    python benchmarks/two_sample.py --model NEW [--model OLD ...] [--seed 5]
"""

from __future__ import annotations

import argparse
import zlib

import numpy as np

from musicgen.abc.corpus import load_corpus
from musicgen.abc.form import tune_form
from musicgen.abc.transpose import transpose_tune
from musicgen.errors import MusicgenError
from musicgen.evaluation.evaluate import repeated_bars
from musicgen.model.lm import load_model
from musicgen.model.stepper import int8_available
from musicgen.sampling.sampler import generate_batches, header_fields

SLOTS = 4096
TYPES = ("reel", "jig")


def features(tune) -> np.ndarray:
    try:
        tune = transpose_tune(tune, "C")
    except MusicgenError:
        pass
    body = tune.body
    grams = np.zeros(SLOTS)
    for n in (1, 2, 3):
        for i in range(len(body) - n + 1):
            grams[zlib.crc32(body[i : i + n].encode()) % SLOTS] += 1
    grams = np.log1p(grams) / max(1.0, np.log1p(grams).sum()) * 20
    form = tune_form(body, tune.fields)
    bars, repeated = repeated_bars(body)
    shape = [
        len(form.parts) / 4,
        form.bars / 32,
        float(form.dance_form),
        float(":|" in body or "|:" in body),
        repeated / max(1, bars),
        len(body) / 1000,
    ]
    return np.concatenate([grams, shape])


def cross_validated_accuracy(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=int)
    for label in (0, 1):
        where = rng.permutation(np.flatnonzero(y == label))
        fold_of[where] = np.arange(len(where)) % folds
    correct = 0
    for fold in range(folds):
        train, test = fold_of != fold, fold_of == fold
        mean, scale = x[train].mean(0), x[train].std(0) + 1e-6
        weights = fit((x[train] - mean) / scale, y[train])
        predicted = ((x[test] - mean) / scale) @ weights[:-1] + weights[-1] > 0
        correct += int((predicted == y[test]).sum())
    return correct / len(y)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 300) -> np.ndarray:
    """L2 logistic regression by gradient descent; the last weight is the bias."""
    weights = np.zeros(x.shape[1] + 1)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ weights[:-1] + weights[-1])))
        grad = np.append(x.T @ (p - y), (p - y).sum()) / len(y)
        grad[:-1] += l2 * weights[:-1] / len(y)
        weights -= 0.5 * grad
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a model to test (give several)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    corpus = load_corpus()
    held_out = corpus.split("valid") + corpus.split("test")
    print("| model | type | real tunes | accuracy (50% = indistinguishable) |\n|---|---|---|---|")
    for path in args.model:
        model = load_model(path)
        for kind in TYPES:
            real = [t for t in held_out if t.fields.get("R", "").lower() == kind]
            fake = []
            for batch in generate_batches(
                model, len(real), 64, header=header_fields(tune_type=kind), seed=args.seed, int8=int8_available()
            ):
                fake += [t.tune for t in batch if t.tune is not None]
            x = np.array([features(t) for t in real + fake])
            y = np.array([0] * len(real) + [1] * len(fake))
            print(f"| {path} | {kind} | {len(real)} | {cross_validated_accuracy(x, y):.1%} |", flush=True)


if __name__ == "__main__":
    main()
