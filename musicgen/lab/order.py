"""Order and windows: bag of words, fixed window and recurrent classifiers side by side.

Reuses :mod:`musicgen.tasks.sentiment`. By default the data is made here: short
reviews whose label depends on word order ("The room was good, not bad at
all." is positive, "... bad, not good ..." negative), which a bag of words
cannot separate; ``data`` points at a real labelled file instead (UCI,
SST-2 or CSV), split by hash into train, validation and test.
"""

from __future__ import annotations

import random
from pathlib import Path

from musicgen.lab.report import LabResult, figure, save

SUBJECTS = ("the food", "the service", "the film", "the room", "the plot", "the music", "this phone", "the hotel")
GOOD = ("good", "great", "fine", "lovely", "excellent")
BAD = ("bad", "awful", "poor", "terrible", "dull")


def order_examples(count: int, seed: int = 0) -> list:
    """Sentences whose label depends on the order of their words."""
    from musicgen.tasks.sentiment.data import Example

    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        positive = rng.random() < 0.5
        first, second = (rng.choice(GOOD), rng.choice(BAD)) if positive else (rng.choice(BAD), rng.choice(GOOD))
        ending = rng.choice((" at all", "", " really"))
        examples.append(
            Example(f"{rng.choice(SUBJECTS).capitalize()} was {first}, not {second}{ending}.", int(positive))
        )
    return examples


def run(out_dir: Path, data: Path | None = None, epochs: int = 10, seed: int = 0) -> LabResult:
    """Accuracy of each model kind, and its reading of the lecture's pair."""
    from musicgen.tasks.sentiment import SentimentConfig, SentimentTrainConfig, read_examples, split_examples
    from musicgen.tasks.sentiment.compare import ORDER_PAIR, compare_models

    examples = read_examples(data) if data else order_examples(1200, seed)
    rest, test = split_examples(examples, 0.2, seed)
    train, valid = split_examples(rest, 0.125, seed + 1)
    small = data is None
    config = SentimentConfig(vocab_size=1, embedding_size=32 if small else 128, hidden_size=32 if small else 128)
    rows = compare_models(
        train,
        valid,
        test,
        config,
        SentimentTrainConfig(epochs=epochs, seed=seed, learning_rate=5e-3 if small else 2e-3),
    )
    table = [
        {
            "model": {"bow": "bag of words", "window": "fixed window (3)", "rnn": "BiLSTM"}[row.kind],
            "test_accuracy": row.test.accuracy,
            "good_not_bad": row.order_pair[0],
            "bad_not_good": row.order_pair[1],
            "opposite_labels": row.order_pair_opposite,
        }
        for row in rows
    ]
    fig, axes = figure()
    axes.bar([row["model"] for row in table], [row["test_accuracy"] for row in table], color="#3b6ea5")
    axes.set_ylim(0, 1)
    axes.set_ylabel("test accuracy")
    source = "word-order sentences (made here)" if data is None else Path(data).name
    axes.set_title(f"{source}: {len(test)} test sentences")
    findings = [
        f"{row['model']}: accuracy {row['test_accuracy']:.3f}; P(positive) {row['good_not_bad']:.2f} for "
        f"'{ORDER_PAIR[0]}' and {row['bad_not_good']:.2f} for '{ORDER_PAIR[1]}'"
        for row in table
    ]
    bag = next(row for row in table if row["model"] == "bag of words")
    findings.append(
        f"The bag of words gives both sentences the same score ({bag['good_not_bad']:.3f}): the same "
        f"words in another order are the same bag."
    )
    return save(LabResult("order", table, findings), fig, out_dir)
