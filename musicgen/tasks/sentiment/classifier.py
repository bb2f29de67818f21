"""A trained sentence classifier with its vocabulary: predict, explain, save, load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from musicgen.errors import CheckpointError
from musicgen.model.checkpoint import build_from_checkpoint, bundled_model_path
from musicgen.model.core import pad_sequences
from musicgen.model.persistence import Saves, float_weights, load_model_data
from musicgen.tasks.text import WordVocab, subword_ids, tokenize_words

TASK = "sentiment"
#: The bundled sentiment model, inside the package.
BUNDLED_SENTIMENT_MODEL = "sentiment"


@dataclass
class Explanation:
    """Why a sentence got its score: each word's share of the logit."""

    text: str
    probability: float
    words: list[str]
    contributions: list[float]
    known: list[bool]

    def __str__(self) -> str:
        label = "positive" if self.probability > 0.5 else "negative"
        parts = [f"{w}{'' if k else '?'}({c:+.2f})" for w, c, k in zip(self.words, self.contributions, self.known)]
        return f"{self.probability:.3f} {label}: " + " ".join(parts)


class SentimentModel(Saves):
    """A classifier network, the vocabulary it reads and how it was made.

    Attributes:
        net: the network (:mod:`musicgen.tasks.sentiment.model`), in eval mode.
        vocab: its word vocabulary.
        train_config: how it was trained (None if unknown).
        metrics: scores recorded with it, e.g. on its validation set.
    """

    def __init__(self, net: nn.Module, vocab: WordVocab, train_config=None, metrics: dict | None = None):
        self.net, self.vocab = net, vocab
        self.train_config, self.metrics = train_config, dict(metrics or {})

    @property
    def config(self):
        return self.net.config

    def encode(self, sentence: str) -> tuple[list[str], list[int], list[list[int]]]:
        """The sentence's words, their indices and (if the model reads them) their subword ids.

        A sentence with no words reads as one unknown word: a defined score
        (the model's prior), not an error.
        """
        words = tokenize_words(sentence)
        ids = self.vocab.encode(words) or [self.vocab.unk_id]
        buckets = self.config.subword_buckets
        subwords = [subword_ids(word, buckets) for word in words or [""]] if buckets else []
        return words, ids, subwords

    def batch(self, encoded: list[tuple[list[int], list[list[int]]]]):
        """Network inputs for (ids, subwords) pairs: ids (B, T), lengths (B,), subwords (B, T, G) or None."""
        ids, lengths = pad_sequences([sequence for sequence, _ in encoded])
        if not self.config.subword_buckets:
            return ids, lengths, None
        grams = max(len(g) for _, subwords in encoded for g in subwords)
        subwords = torch.zeros(*ids.shape, max(grams, 1), dtype=torch.long)
        for row, (_, word_grams) in enumerate(encoded):
            for column, gram_ids in enumerate(word_grams):
                subwords[row, column, : len(gram_ids)] = torch.tensor(gram_ids, dtype=torch.long)
        return ids, lengths, subwords

    def _inputs(self, encoded):
        device = next(self.net.parameters()).device
        return tuple(None if t is None else t.to(device) for t in self.batch(encoded))

    @torch.no_grad()
    def predict(self, sentences: list[str], batch_size: int = 256) -> list[float]:
        """Probability that each sentence is positive."""
        self.net.eval()
        probabilities = []
        for start in range(0, len(sentences), batch_size):
            encoded = [self.encode(s)[1:] for s in sentences[start : start + batch_size]]
            probabilities += torch.sigmoid(self.net(*self._inputs(encoded))).tolist()
        return probabilities

    @torch.no_grad()
    def explain(self, sentence: str) -> Explanation:
        """Each word's contribution to the sentence's logit (see the networks' ``contributions``)."""
        self.net.eval()
        words, ids, subwords = self.encode(sentence)
        if not hasattr(self.net, "contributions"):
            raise ValueError(f"a {self.config.kind} classifier cannot explain its scores")
        shares = self.net.contributions(*self._inputs([(ids, subwords)]))[0].tolist()  # type: ignore[operator]
        probability = self.predict([sentence])[0]
        words = words or ["<empty>"]
        return Explanation(sentence, probability, words, shares[: len(words)], [w in self.vocab for w in words])

    @classmethod
    def from_pretrained(cls, path: Path | str | None = None):
        """:func:`load_sentiment_model`: a saved folder or a ``.pt`` checkpoint; None loads the bundled model."""
        return load_sentiment_model(path)

    def payload(self, half: bool = False) -> dict:
        """The model's parts, shaped as a checkpoint (weights under ``"model"``)."""
        return {
            "task": TASK,
            "model_config": self.config.to_dict(),
            "train_config": self.train_config.to_dict() if self.train_config else {},
            "vocab": self.vocab.words,
            "metrics": self.metrics,
            "model": float_weights(self.net.state_dict(), half),
        }

    def __repr__(self) -> str:
        c = self.config
        params = sum(p.numel() for p in self.net.parameters())
        return f"SentimentModel({c.kind}/{c.cell}, {len(self.vocab)} words, {params:,} parameters)"


def load_sentiment_model(path: Path | str | None = None) -> SentimentModel:
    """Load a sentiment checkpoint; None loads the bundled model.

    Raises:
        CheckpointError: the file is missing, corrupt or not a sentiment model.
    """
    from musicgen.tasks.sentiment.model import SentimentConfig, build_classifier
    from musicgen.tasks.sentiment.train import SentimentTrainConfig

    path = Path(path) if path is not None else bundled_model_path(BUNDLED_SENTIMENT_MODEL)
    data = load_model_data(path, TASK, "sentiment model")
    net = build_from_checkpoint(path, data, lambda: build_classifier(SentimentConfig.from_dict(data["model_config"])))
    try:
        vocab = WordVocab(data["vocab"])
        train_config = SentimentTrainConfig.from_dict(data["train_config"]) if data.get("train_config") else None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CheckpointError(f"{path}: its vocabulary or settings are not valid ({str(error)[:160]})") from None
    net.eval()
    return SentimentModel(net, vocab, train_config, data.get("metrics"))
