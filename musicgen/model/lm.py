"""The character language model: the recurrent core plus a linear head."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from musicgen.abc.transpose import TonicTable
from musicgen.model.config import ModelConfig
from musicgen.model.core import RecurrentCore, State
from musicgen.model.vocab import Vocabulary


class CharLM(nn.Module):
    """Predicts the next character of ABC text.

    Attributes:
        config: the model's shape.
        vocab: the characters it reads and writes.
        tonics: for a model trained on tunes moved to one tonic, that tonic and
            the tonics to move new tunes to (None: keys as written).
        sampling: the sampling settings recommended for this model, by
            :class:`~musicgen.model.config.SampleConfig` field (saved with it;
            empty: the config's defaults).
    """

    def __init__(self, config: ModelConfig, vocab: Vocabulary):
        super().__init__()
        if config.vocab_size != len(vocab):
            raise ValueError(f"vocab_size {config.vocab_size} != vocabulary of {len(vocab)}")
        if config.bidirectional:
            raise ValueError("a language model reads left to right: bidirectional must be False")
        self.config = config
        self.vocab = vocab
        self.tonics: TonicTable | None = None
        self.sampling: dict = {}
        self.core = RecurrentCore(config)
        self.head = nn.Linear(self.core.output_size, config.vocab_size)

    def init_hidden(self, batch_size: int) -> State:
        return self.core.init_hidden(batch_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Next-character logits (B, T, V) for ids (B, T), and the final state."""
        features, state = self.core(ids, state)
        return self.head(features), state

    def __repr__(self) -> str:
        c = self.config
        params = sum(p.numel() for p in self.parameters())
        return f"CharLM({c.cell} {c.num_layers}x{c.hidden_size}, vocab {c.vocab_size}, {params:,} parameters)"


def bits_per_char(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy in bits over the unmasked positions, and their count.

    Args:
        logits: (B, T, V); targets and mask: (B, T), mask true where counted.
    """
    loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
    weights = mask.flatten().to(loss.dtype)
    return (loss * weights).sum() / math.log(2), weights.sum()
