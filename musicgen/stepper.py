"""One-character-at-a-time inference for sampling, faster than ``nn.LSTM`` per step.

Calling ``nn.LSTM`` on a single time step pays its full set-up cost every
character. For an LSTM, :class:`LSTMStepper` runs the same arithmetic with
plain matrix products: the first layer's input projection is precomputed for
every character (embedding times input weights plus both biases, one row per
character), and each further layer multiplies the concatenated
``[input, hidden]`` by its stacked weights once. The results equal the
module's within float rounding (tests check the logits). Other cells use the
module itself.
"""

from __future__ import annotations

import torch

from musicgen.core import State
from musicgen.lm import CharLM


class LSTMStepper:
    """Next-character logits for a batch of single characters, with LSTM state."""

    def __init__(self, model: CharLM):
        if model.config.cell != "lstm" or model.config.bidirectional:
            raise ValueError("LSTMStepper needs a unidirectional LSTM")
        rnn = model.core.rnn
        with torch.no_grad():
            embedding = model.core.embedding.weight  # (V, E)
            self.input_table = (embedding @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + rnn.bias_hh_l0).contiguous()  # (V, 4H)
            self.hidden_weights = [rnn.weight_hh_l0.T.contiguous()]  # (H, 4H)
            self.stacked = []  # layer >= 1: ([input; hidden] (2H, 4H), bias (4H,))
            for layer in range(1, model.config.num_layers):
                weight = torch.cat([getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")], dim=1)
                bias = getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")
                self.stacked.append((weight.T.contiguous(), bias.contiguous()))
            self.head_weight = model.head.weight.T.contiguous()  # (H, V)
            self.head_bias = model.head.bias.contiguous()

    @staticmethod
    def _cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    @torch.no_grad()
    def step(self, ids: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Logits (B, V) after reading ids (B,), from state ((L, B, H), (L, B, H))."""
        h_all, c_all = state
        hs, cs = [], []
        gates = torch.addmm(self.input_table[ids], h_all[0], self.hidden_weights[0])
        h, c = self._cell(gates, c_all[0])
        hs.append(h)
        cs.append(c)
        for layer, (weight, bias) in enumerate(self.stacked, start=1):
            gates = torch.addmm(bias, torch.cat([h, h_all[layer]], dim=1), weight)
            h, c = self._cell(gates, c_all[layer])
            hs.append(h)
            cs.append(c)
        logits = torch.addmm(self.head_bias, h, self.head_weight)
        return logits, (torch.stack(hs), torch.stack(cs))


def make_stepper(model: CharLM, fast: bool = True):
    """A function ``(ids (B,), state) -> (logits (B, V), state)`` for the model.

    ``fast=False`` always uses the module (the reference the fast path is tested against).
    """
    if fast and model.config.cell == "lstm" and not model.config.bidirectional:
        return LSTMStepper(model).step

    def module_step(ids: torch.Tensor, state: State):
        logits, state = model(ids.unsqueeze(1), state)
        return logits[:, -1], state

    return module_step
