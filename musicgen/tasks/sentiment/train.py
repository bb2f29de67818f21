"""Training and scoring sentence classifiers, with the music model's conventions.

A progress bar, a seed, Adam with gradient clipping, the best weights by
validation accuracy, early stopping, device choice and one checkpoint file
written atomically.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from musicgen.errors import CorpusError
from musicgen.model.config import Settings, check_positive
from musicgen.model.device import pick_device
from musicgen.tasks.sentiment.classifier import SentimentModel
from musicgen.tasks.sentiment.data import Example
from musicgen.tasks.sentiment.model import SentimentConfig, build_classifier
from musicgen.tasks.text import WordVocab, tokenize_words
from musicgen.training.data import shuffled_batches

logger = logging.getLogger(__name__)


@dataclass
class SentimentTrainConfig(Settings):
    """How a sentence classifier is trained.

    Attributes:
        batch_size: sentences per step.
        learning_rate: Adam's learning rate.
        weight_decay: L2 penalty (AdamW's decoupled form).
        epochs: passes over the training sentences at most.
        patience: epochs without a better validation accuracy before stopping
            (0 never stops early).
        clip_norm: gradient-norm clipping threshold.
        min_freq: words seen fewer times in training become ``<unk>``.
        word_dropout: share of training words replaced by ``<unk>`` in each
            batch, so the model learns to cope with words it never saw.
        time_limit: stop after this many minutes (0: no limit).
        seed: seed for weights, batch order and dropout.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
    """

    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    epochs: int = 15
    patience: int = 4
    clip_norm: float = 5.0
    min_freq: int = 1
    word_dropout: float = 0.0
    time_limit: float = 0.0
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("batch_size", "learning_rate", "epochs", "clip_norm", "min_freq"):
            check_positive(name, getattr(self, name))
        if self.patience < 0 or self.time_limit < 0 or self.weight_decay < 0:
            raise ValueError("patience, time_limit and weight_decay must be 0 or more")
        if not 0 <= self.word_dropout < 1:
            raise ValueError(f"word_dropout must be in range 0..1 (excluding 1), not {self.word_dropout}")


@dataclass
class Metrics:
    """Binary classification scores; positive is the positive class."""

    accuracy: float
    precision: float
    recall: float
    f1: float
    confusion: list[list[int]]  # rows: true negative/positive; columns: predicted

    @classmethod
    def from_predictions(cls, truth: list[int], predicted: list[int]) -> Metrics:
        counts = [[0, 0], [0, 0]]
        for t, p in zip(truth, predicted):
            counts[t][p] += 1
        tp, fp, fn = counts[1][1], counts[0][1], counts[1][0]
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        accuracy = (tp + counts[0][0]) / max(len(truth), 1)
        return cls(accuracy, precision, recall, f1, counts)


@dataclass
class TrainedClassifier:
    """A finished run: the model with the best validation accuracy and its history."""

    model: SentimentModel
    best_valid_accuracy: float
    epochs: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    stopped: str = "epochs"


def _batches(
    model: SentimentModel, examples: list[tuple[list[int], list, int]], batch_size: int, generator: torch.Generator
):
    """Batches of similar-length sentences, in random order: (ids, lengths, subwords), labels."""
    for chunk in shuffled_batches([len(ids) for ids, _, _ in examples], batch_size, generator):
        inputs = model.batch([examples[i][:2] for i in chunk])
        yield inputs, torch.tensor([examples[i][2] for i in chunk], dtype=torch.float32)


def evaluate_classifier(model: SentimentModel, examples: list[Example], batch_size: int = 256) -> Metrics:
    """Accuracy, precision, recall, F1 and confusion matrix on labelled sentences."""
    probabilities = model.predict([e.text for e in examples], batch_size=batch_size)
    return Metrics.from_predictions([e.label for e in examples], [int(p > 0.5) for p in probabilities])


def train_classifier(
    train: list[Example],
    valid: list[Example],
    config: SentimentConfig | None = None,
    train_config: SentimentTrainConfig | None = None,
    progress: bool = True,
) -> TrainedClassifier:
    """Train a classifier on ``train``, keeping the weights best on ``valid``.

    ``config.vocab_size`` is set from the vocabulary built on ``train``.
    """
    from tqdm import tqdm

    train_config = train_config or SentimentTrainConfig()
    if not train or not valid:
        raise CorpusError(
            f"training needs sentences in both splits (train {len(train)}, validation {len(valid)}): "
            "give more sentences, or a validation file"
        )
    torch.manual_seed(train_config.seed)
    vocab = WordVocab.build((tokenize_words(e.text) for e in train), min_freq=train_config.min_freq)
    settings = (config or SentimentConfig(vocab_size=len(vocab))).to_dict()
    config = SentimentConfig.from_dict({**settings, "vocab_size": len(vocab)})
    device = pick_device(train_config.device)
    model = SentimentModel(build_classifier(config).to(device), vocab)
    encoded = [(*model.encode(e.text)[1:], e.label) for e in train]
    optimizer = torch.optim.AdamW(
        model.net.parameters(), lr=train_config.learning_rate, weight_decay=train_config.weight_decay
    )
    generator = torch.Generator().manual_seed(train_config.seed)
    best, best_state, waited, history = -1.0, None, 0, []
    started, stopped = time.monotonic(), "epochs"
    bar = tqdm(
        total=train_config.epochs * math.ceil(len(encoded) / train_config.batch_size),
        disable=not progress,
        unit="batch",
        desc=f"{config.kind} classifier",
    )
    for epoch in range(1, train_config.epochs + 1):
        model.net.train()
        for (ids, lengths, subwords), labels in _batches(model, encoded, train_config.batch_size, generator):
            if train_config.word_dropout:
                dropped = torch.rand(ids.shape, generator=generator) < train_config.word_dropout
                ids = ids.masked_fill(dropped & (ids != vocab.pad_id), vocab.unk_id)
            subwords = None if subwords is None else subwords.to(device)
            logits = model.net(ids.to(device), lengths.to(device), subwords)
            loss = F.binary_cross_entropy_with_logits(logits, labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.net.parameters(), train_config.clip_norm)
            optimizer.step()
            bar.update()
        accuracy = evaluate_classifier(model, valid).accuracy
        history.append({"epoch": epoch, "loss": loss.item(), "valid_accuracy": accuracy})
        bar.set_postfix(valid=f"{accuracy:.3f}", best=f"{max(best, accuracy):.3f}")
        if accuracy > best:
            best, waited = accuracy, 0
            best_state = {k: v.detach().clone() for k, v in model.net.state_dict().items()}
        else:
            waited += 1
        if train_config.patience and waited >= train_config.patience:
            stopped = "early stopping"
            break
        if train_config.time_limit and time.monotonic() - started > train_config.time_limit * 60:
            stopped = "time limit"
            break
    bar.close()
    if best_state is not None:
        model.net.load_state_dict(best_state)
    model.net.eval()
    model.train_config = train_config
    return TrainedClassifier(model, best, epoch, time.monotonic() - started, history, stopped)


def cross_validate(
    examples: list[Example],
    k: int = 10,
    config: SentimentConfig | None = None,
    train_config: SentimentTrainConfig | None = None,
    seed: int = 0,
) -> list[float]:
    """Accuracy on each of ``k`` folds, training on the rest.

    Within the training folds, a tenth (by hash) is held out to pick the
    best epoch, so the scored fold is never seen before it is scored.
    """
    from musicgen.tasks.sentiment.data import folds, split_examples

    parts = folds(examples, k, seed)
    scores = []
    for i, test in enumerate(parts):
        rest = [e for j, part in enumerate(parts) if j != i for e in part]
        fit, valid = split_examples(rest, 0.1, seed + 1)
        result = train_classifier(fit, valid, config, train_config, progress=False)
        scores.append(evaluate_classifier(result.model, test).accuracy)
    return scores
