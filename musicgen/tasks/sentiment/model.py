"""Sentence classifiers: the recurrent model and the two baselines.

All three read padded word indices with their lengths and return one logit
per sentence (positive when above zero):

- :class:`RecurrentClassifier`: embedding + the shared
  :class:`~musicgen.model.core.RecurrentCore` (packed, so padding is never read) +
  pooling over time + a linear head. Order matters to it.
- :class:`BagOfWords`: logistic regression on word counts, the lecture's
  "set of counts": it cannot tell "good, not bad" from "bad, not good".
- :class:`WindowModel`: a feed-forward layer over each fixed window of
  ``window`` words, averaged over the sentence: it sees order inside a window
  and nothing beyond.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.model.config import CELLS, ModelConfig, Settings, check_choice, check_positive
from musicgen.model.core import RecurrentCore, padding_mask

KINDS = ("rnn", "bow", "window")
POOLINGS = ("max", "mean", "last")


@dataclass
class SentimentConfig(Settings):
    """Shape of a sentence classifier.

    Attributes:
        vocab_size: words in the vocabulary (specials included).
        kind: ``rnn`` (the recurrent core), ``bow`` or ``window`` (baselines).
        cell: ``lstm``, ``gru`` or ``rnn`` for kind ``rnn``.
        embedding_size: width of the word embedding.
        hidden_size: recurrent units per direction (or window-layer width).
        num_layers: stacked recurrent layers.
        bidirectional: read the sentence both ways.
        pooling: ``max`` (default: each feature takes its strongest word, so
            one decisive phrase anywhere in a long sentence counts fully, and
            every logit splits exactly into per-word contributions),
            ``mean`` or ``last`` (the final states).
        window: words per window for kind ``window``.
        subword_buckets: hashed character n-gram embeddings added to each
            word's (fastText style), so unseen words still carry meaning;
            0 turns them off.
        dropout: dropout on the features before the head.
        embedding_dropout: dropout on the word embeddings.
    """

    vocab_size: int
    kind: str = "rnn"
    cell: str = "lstm"
    embedding_size: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "max"
    window: int = 3
    subword_buckets: int = 0
    dropout: float = 0.5
    embedding_dropout: float = 0.3

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("cell", self.cell, CELLS)
        check_choice("pooling", self.pooling, POOLINGS)
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers", "window"):
            check_positive(name, getattr(self, name))
        if self.subword_buckets < 0:
            raise ValueError(f"subword_buckets must be 0 or more, not {self.subword_buckets}")
        for name in ("dropout", "embedding_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in range 0..1 (excluding 1), not {getattr(self, name)}")

    def core_config(self) -> ModelConfig:
        """The shared core's configuration for kind ``rnn``."""
        return ModelConfig(
            vocab_size=self.vocab_size,
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            embedding_dropout=self.embedding_dropout,
        )


class Subwords(nn.Module):
    """The mean embedding of each word's hashed n-grams: (B, T, G) ids -> (B, T, D); id 0 pads."""

    def __init__(self, buckets: int, size: int):
        super().__init__()
        self.embedding = nn.Embedding(buckets + 1, size, padding_idx=0)
        nn.init.normal_(self.embedding.weight, std=0.1)
        with torch.no_grad():
            self.embedding.weight[0].zero_()

    def forward(self, subwords: torch.Tensor) -> torch.Tensor:
        counts = (subwords > 0).sum(dim=2, keepdim=True).clamp(min=1)
        return self.embedding(subwords).sum(dim=2) / counts


def _subwords(config: SentimentConfig, size: int) -> Subwords | None:
    return Subwords(config.subword_buckets, size) if config.subword_buckets else None


class RecurrentClassifier(nn.Module):
    """Embedding + shared recurrent core + pooling + linear head."""

    def __init__(self, config: SentimentConfig):
        super().__init__()
        self.config = config
        self.core = RecurrentCore(config.core_config())
        self.subwords = _subwords(config, config.embedding_size)
        self.head = nn.Linear(self.core.output_size, 1)

    def features(
        self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-word features (B, T, F) with padding masked out, and the mask (B, T)."""
        extra = self.subwords(subwords) if self.subwords is not None else None
        features, _ = self.core(ids, lengths=lengths, extra=extra)
        return features, padding_mask(lengths, ids.shape[1])

    def pool(self, features: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """One vector per sentence (B, F)."""
        if self.config.pooling == "max":
            return features.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
        if self.config.pooling == "mean":
            return (features * mask[..., None]).sum(dim=1) / lengths[:, None].to(features.dtype)
        return self._last(features, lengths)

    def _last(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        hidden = self.config.hidden_size
        rows = torch.arange(features.shape[0], device=features.device)
        forward = features[rows, lengths - 1, :hidden]  # the forward pass ends at the last word
        if not self.config.bidirectional:
            return forward
        return torch.cat([forward, features[:, 0, hidden:]], dim=1)  # the backward pass ends at the first

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B,) for padded word indices (B, T), lengths (B,) and subword ids (B, T, G)."""
        features, mask = self.features(ids, lengths, subwords)
        return self.head(self.pool(features, mask, lengths)).squeeze(1)

    def contributions(
        self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Each word's share of the logit (B, T), summing to logit minus bias.

        Exact for max and mean pooling (the head is linear); for ``last``
        pooling, each word's share is how much the logit drops without it.
        """
        features, mask = self.features(ids, lengths, subwords)
        weight = self.head.weight[0]  # (F,)
        if self.config.pooling == "mean":
            shares = features @ weight / lengths[:, None].to(features.dtype)
        elif self.config.pooling == "max":
            masked = features.masked_fill(~mask[..., None], float("-inf"))
            winners = masked == masked.amax(dim=1, keepdim=True)  # (B, T, F)
            winners = winners & (winners.cumsum(dim=1) == 1)  # first winner only on ties
            shares = (features * winners * weight).sum(dim=2)
        else:
            return _occlusion(self, ids, lengths, subwords)
        return shares * mask


def _occlusion(
    model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None
) -> torch.Tensor:
    """Logit minus the logit with each word removed, per word (B, T)."""
    full = model(ids, lengths, subwords)
    shares = torch.zeros(ids.shape, dtype=full.dtype)
    for t in range(ids.shape[1]):
        keep = torch.ones(ids.shape[1], dtype=torch.bool)
        keep[t] = False
        shorter = (lengths - (lengths > t).long()).clamp(min=1)
        has_word = lengths > t
        dropped = model(ids[:, keep], shorter, None if subwords is None else subwords[:, keep])
        shares[:, t] = torch.where(has_word & (lengths > 1), full - dropped, torch.zeros_like(full))
    return shares


class BagOfWords(nn.Module):
    """Logistic regression on word counts: order-blind by construction."""

    def __init__(self, config: SentimentConfig):
        super().__init__()
        self.config = config
        self.weights = nn.Embedding(config.vocab_size, 1)
        nn.init.zeros_(self.weights.weight)
        self.subwords = _subwords(config, 1)
        self.bias = nn.Parameter(torch.zeros(1))

    def contributions(
        self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None
    ) -> torch.Tensor:
        weights = self.weights(ids)
        if self.subwords is not None:
            weights = weights + self.subwords(subwords)
        return weights.squeeze(2) * padding_mask(lengths, ids.shape[1])

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None) -> torch.Tensor:
        return self.contributions(ids, lengths, subwords).sum(dim=1) + self.bias


class WindowModel(nn.Module):
    """A tanh layer over every window of ``window`` words, averaged, then a linear head."""

    def __init__(self, config: SentimentConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size)
        self.subwords = _subwords(config, config.embedding_size)
        self.window = nn.Conv1d(config.embedding_size, config.hidden_size, config.window)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, subwords: torch.Tensor | None = None) -> torch.Tensor:
        embedded = self.embedding(ids)  # (B, T, E)
        if self.subwords is not None:
            embedded = embedded + self.subwords(subwords)
        embedded = embedded * padding_mask(lengths, ids.shape[1])[..., None]  # padding reads as zeros
        pad = self.config.window - 1  # short sentences still fill one window
        embedded = nn.functional.pad(embedded, (0, 0, 0, pad))  # (B, T+pad, E), zeros after the end
        windows = torch.tanh(self.window(embedded.transpose(1, 2)))  # (B, H, T)
        mask = padding_mask(lengths, ids.shape[1])[:, None, :]
        pooled = (windows * mask).sum(dim=2) / lengths[:, None].to(windows.dtype)
        return self.head(self.dropout(pooled)).squeeze(1)


def build_classifier(config: SentimentConfig) -> nn.Module:
    """The model ``config.kind`` names."""
    return {"rnn": RecurrentClassifier, "bow": BagOfWords, "window": WindowModel}[config.kind](config)
