"""The recurrent core shared by every task: embedding + stacked RNN.

Each task puts its own head on top: the language model a linear layer over
characters (:mod:`musicgen.model.lm`), later tasks their own heads and losses.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from musicgen.model.config import ModelConfig

#: Hidden state: a tensor (GRU, RNN) or an (h, c) pair (LSTM), each (L*D, B, H).
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentCore(nn.Module):
    """Embedding followed by a stacked LSTM, GRU or vanilla RNN.

    ``forward`` returns hidden features for every position and the final
    state; it never knows what task it serves.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = embedding(config.vocab_size, config.embedding_size)
        kwargs = dict(
            input_size=config.embedding_size,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            bidirectional=config.bidirectional,
            batch_first=True,
        )
        self.rnn: nn.RNNBase
        if config.cell == "lstm":
            self.rnn = nn.LSTM(**kwargs)
        elif config.cell == "gru":
            self.rnn = nn.GRU(**kwargs)
        elif config.cell == "rnn":
            self.rnn = nn.RNN(nonlinearity=config.nonlinearity, **kwargs)
        else:
            raise ValueError(f"unknown cell type {config.cell!r}")
        self.dropout = nn.Dropout(config.dropout)
        # Word models overfit through their embeddings; characters need none.
        self.dropout_input = nn.Dropout(config.embedding_dropout)
        if config.identity_init and config.cell == "rnn":
            self._identity_init()

    def _identity_init(self) -> None:
        """Recurrent weights start as the identity (Le et al., 2015, IRNN)."""
        with torch.no_grad():
            for name, weight in self.rnn.named_parameters():
                if name.startswith("weight_hh"):
                    weight.copy_(torch.eye(weight.shape[0]))
                elif name.startswith("bias"):
                    weight.zero_()

    @property
    def output_size(self) -> int:
        """Width of the features ``forward`` returns."""
        return self.config.hidden_size * (2 if self.config.bidirectional else 1)

    def init_hidden(self, batch_size: int) -> State:
        """A zero state for ``batch_size`` sequences, on the weights' device."""
        weight = self.embedding.weight
        layers = self.config.num_layers * (2 if self.config.bidirectional else 1)
        zeros = weight.new_zeros(layers, batch_size, self.config.hidden_size)
        if self.config.cell == "lstm":
            return (zeros, zeros.clone())
        return zeros

    def forward(
        self,
        ids: torch.Tensor,
        state: State | None = None,
        lengths: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, State]:
        """Features for each position.

        Args:
            ids: symbol indices, (B, T).
            state: the state to start from; None starts from zeros.
            lengths: true length of each row (B,) when rows are padded at the
                end; the padding is then never read, so features and final
                states do not depend on how much padding a batch has.
            extra: vectors (B, T, embedding_size) added to the embedded
                symbols, e.g. a word's subword embedding.

        Returns:
            ``(features, state)``: features (B, T, output_size) after dropout
            (zero at padded positions), and the final state (each row's state
            after its last real symbol).
        """
        embedded = self.embedding(ids)  # (B, T, E)
        if extra is not None:
            embedded = embedded + extra
        embedded = self.dropout_input(embedded)
        if lengths is None:
            features, state = self.rnn(embedded, state)  # (B, T, H*D)
        else:
            packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
            features, state = self.rnn(packed, state)
            features, _ = pad_packed_sequence(features, batch_first=True, total_length=ids.shape[1])
        return self.dropout(features), state


def pad_sequences(sequences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded indices (B, T), padding 0, and each row's length (B,): what ``forward`` reads."""
    lengths = torch.tensor([len(s) for s in sequences])
    ids = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
    return ids, lengths


def padding_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """True at the real (unpadded) positions: (B, width) from lengths (B,)."""
    return torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]


def detach_state(state: State) -> State:
    """Cut the graph behind a state (truncated backpropagation through time)."""
    if isinstance(state, tuple):
        return (state[0].detach(), state[1].detach())
    return state.detach()


def select_state(state: State, rows: torch.Tensor) -> State:
    """Keep only the given batch rows of a state."""
    if isinstance(state, tuple):
        return (state[0].index_select(1, rows), state[1].index_select(1, rows))
    return state.index_select(1, rows)


def scale_state(state: State, keep: torch.Tensor) -> State:
    """Multiply each batch row of a state by ``keep`` (B,), e.g. to reset rows."""
    factor = keep.view(1, -1, 1).to(state[0].dtype if isinstance(state, tuple) else state.dtype)
    if isinstance(state, tuple):
        return (state[0] * factor, state[1] * factor)
    return state * factor


def embedding(rows: int, width: int) -> nn.Embedding:
    """``nn.Embedding(rows, width)`` with the same N(0, 1) start, not drawn on the meta device.

    On the meta device (where a checkpoint's shapes are checked before a model
    is built) ``normal_`` would load PyTorch's compiler stack, nearly a second;
    a meta tensor has no values to draw.
    """
    weight = torch.empty(rows, width)
    if not weight.is_meta:
        nn.init.normal_(weight)
    return nn.Embedding(rows, width, _weight=weight)
