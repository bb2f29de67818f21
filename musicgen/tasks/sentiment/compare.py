"""The recurrent classifier against the baselines, trained the same way on the same split."""

from __future__ import annotations

from dataclasses import dataclass, replace

from musicgen.tasks.sentiment.data import Example
from musicgen.tasks.sentiment.model import SentimentConfig
from musicgen.tasks.sentiment.train import Metrics, SentimentTrainConfig, evaluate_classifier, train_classifier

#: The lecture's word-order pair: the same words, opposite meanings.
ORDER_PAIR = ("The food was good, not bad at all.", "The food was bad, not good at all.")


@dataclass
class Comparison:
    """One model's row of the comparison table."""

    kind: str
    valid_accuracy: float
    test: Metrics
    seconds: float
    order_pair: tuple[float, float]  # probability positive for ORDER_PAIR

    @property
    def order_pair_opposite(self) -> bool:
        """True when the two sentences of the pair get opposite labels."""
        return (self.order_pair[0] > 0.5) != (self.order_pair[1] > 0.5)


def compare_models(
    train: list[Example],
    valid: list[Example],
    test: list[Example],
    config: SentimentConfig | None = None,
    train_config: SentimentTrainConfig | None = None,
    kinds: tuple[str, ...] = ("bow", "window", "rnn"),
    progress: bool = False,
) -> list[Comparison]:
    """Train each kind of classifier on ``train`` (choosing epochs on ``valid``) and score it on ``test``."""
    config = config or SentimentConfig(vocab_size=1)
    train_config = train_config or SentimentTrainConfig()
    rows = []
    for kind in kinds:
        run = train_classifier(train, valid, replace(config, kind=kind), train_config, progress=progress)
        probabilities = run.model.predict(list(ORDER_PAIR))
        rows.append(
            Comparison(
                kind,
                run.best_valid_accuracy,
                evaluate_classifier(run.model, test),
                run.seconds,
                (probabilities[0], probabilities[1]),
            )
        )
    return rows


def comparison_table(rows: list[Comparison]) -> str:
    """A Markdown table of the comparison."""
    lines = [
        "| model | valid acc | test acc | F1 | train s | 'good, not bad' | 'bad, not good' |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.kind} | {row.valid_accuracy:.3f} | {row.test.accuracy:.3f} | {row.test.f1:.3f} | "
            f"{row.seconds:.0f} | {row.order_pair[0]:.2f} | {row.order_pair[1]:.2f} |"
        )
    return "\n".join(lines)
