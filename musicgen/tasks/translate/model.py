"""Encoder-decoder with attention, both halves built from the shared recurrent core.

- The encoder is a bidirectional :class:`~musicgen.model.core.RecurrentCore` over
  the source's subword pieces (packed, so padding is never read).
- A bridge turns the encoder's final states into the decoder's first state.
- The decoder is a one-way :class:`~musicgen.model.core.RecurrentCore` over the
  target pieces. At each step its output attends to every encoder state:
  additive scores (Bahdanau et al., 2015) by default, ``dot`` or ``general``
  (Luong et al., 2015) as options; padded source positions get no weight.
  Attention is read from the decoder's state after its step (Luong's
  placement), which lets teacher-forced training run all target positions
  in one call of the recurrent core.
- The context and the decoder state are mixed by a tanh layer and projected
  onto the target vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.model.config import CELLS, ModelConfig, Settings, check_choice, check_positive
from musicgen.model.core import RecurrentCore, State, padding_mask

ATTENTIONS = ("additive", "dot", "general")


@dataclass
class TranslatorConfig(Settings):
    """Shape of the encoder-decoder.

    Attributes:
        source_vocab_size, target_vocab_size: subword pieces per language (specials included).
        embedding_size: width of both piece embeddings.
        hidden_size: encoder units per direction; the decoder has twice this.
        num_layers: stacked layers in encoder and decoder.
        cell: ``lstm``, ``gru`` or ``rnn``.
        attention: ``additive`` (Bahdanau), ``dot`` or ``general`` (Luong).
        dropout: dropout on recurrent features and before the output layer.
        embedding_dropout: dropout on the piece embeddings.
    """

    source_vocab_size: int
    target_vocab_size: int
    embedding_size: int = 256
    hidden_size: int = 256
    num_layers: int = 1
    cell: str = "gru"
    attention: str = "additive"
    dropout: float = 0.3
    embedding_dropout: float = 0.2

    def __post_init__(self) -> None:
        check_choice("cell", self.cell, CELLS)
        check_choice("attention", self.attention, ATTENTIONS)
        for name in ("source_vocab_size", "target_vocab_size", "embedding_size", "hidden_size", "num_layers"):
            check_positive(name, getattr(self, name))

    def core(self, vocab_size: int, hidden_size: int, bidirectional: bool) -> ModelConfig:
        return ModelConfig(
            vocab_size=vocab_size,
            embedding_size=self.embedding_size,
            hidden_size=hidden_size,
            num_layers=self.num_layers,
            cell=self.cell,
            dropout=self.dropout,
            bidirectional=bidirectional,
            embedding_dropout=self.embedding_dropout,
        )


class Attention(nn.Module):
    """Scores every source position for each decoder state; padding gets zero weight."""

    def __init__(self, kind: str, query_size: int, key_size: int):
        super().__init__()
        self.kind = kind
        if kind == "additive":
            self.keys = nn.Linear(key_size, query_size, bias=False)
            self.query = nn.Linear(query_size, query_size)
            self.score = nn.Linear(query_size, 1, bias=False)
        elif kind == "general":
            self.keys = nn.Linear(key_size, query_size, bias=False)
        elif key_size != query_size:
            raise ValueError("dot attention needs keys as wide as queries")

    def prepare(self, memory: torch.Tensor) -> torch.Tensor:
        """What the scores need from the encoder states, computed once per sentence."""
        return memory if self.kind == "dot" else self.keys(memory)  # (B, S, Q)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, source_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Contexts (B, T, K) and weights (B, T, S) for queries (B, T, Q)."""
        if self.kind == "additive":
            scores = self.score(torch.tanh(self.query(queries)[:, :, None, :] + keys[:, None, :, :])).squeeze(3)
        else:
            scores = queries @ keys.transpose(1, 2)  # (B, T, S)
        scores = scores.masked_fill(~source_mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=2)
        return weights @ memory, weights


class Translator(nn.Module):
    """Sequence to sequence with attention; see the module docstring."""

    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.config = config
        hidden = config.hidden_size
        self.encoder = RecurrentCore(config.core(config.source_vocab_size, hidden, bidirectional=True))
        self.decoder = RecurrentCore(config.core(config.target_vocab_size, 2 * hidden, bidirectional=False))
        self.bridge = nn.Linear(2 * hidden, 2 * hidden)
        self.attention = Attention(config.attention, 2 * hidden, 2 * hidden)
        self.combine = nn.Linear(4 * hidden, config.embedding_size)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.embedding_size, config.target_vocab_size)
        self.output.weight = self.decoder.embedding.weight  # tied input and output embeddings

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Encoder states (B, S, 2H), their attention keys and the decoder's first state."""
        memory, final = self.encoder(source, lengths=lengths)
        return memory, self.attention.prepare(memory), self._bridge(final)

    def _bridge(self, final: State) -> State:
        def join(states: torch.Tensor) -> torch.Tensor:  # (L*2, B, H) -> (L, B, 2H)
            layers, batch, hidden = states.shape
            both = states.view(layers // 2, 2, batch, hidden).transpose(1, 2).reshape(layers // 2, batch, 2 * hidden)
            return torch.tanh(self.bridge(both))

        if isinstance(final, tuple):
            return (join(final[0]), join(final[1]))
        return join(final)

    def decode(
        self, target_in: torch.Tensor, state: State, memory: torch.Tensor, keys: torch.Tensor, source_mask: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Logits (B, T, V), the new state and attention weights (B, T, S) for target pieces (B, T)."""
        queries, state = self.decoder(target_in, state)
        context, weights = self.attention(queries, keys, memory, source_mask)
        mixed = torch.tanh(self.combine(torch.cat([queries, context], dim=2)))
        return self.output(self.dropout(mixed)), state, weights

    def forward(
        self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced logits (B, T, V) and attention (B, T, S)."""
        memory, keys, state = self.encode(source, lengths)
        logits, _, weights = self.decode(target_in, state, memory, keys, padding_mask(lengths, source.shape[1]))
        return logits, weights

    def __repr__(self) -> str:
        c = self.config
        params = sum(p.numel() for p in self.parameters())
        return (
            f"Translator({c.cell} {c.num_layers}x{c.hidden_size} bidirectional encoder, {c.attention} "
            f"attention, {c.source_vocab_size}->{c.target_vocab_size} pieces, {params:,} parameters)"
        )
