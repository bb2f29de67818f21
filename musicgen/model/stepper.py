"""One-character-at-a-time inference for sampling, faster than ``nn.LSTM`` per step.

Calling ``nn.LSTM`` on a single time step pays its full set-up cost every
character. For an LSTM, :class:`LSTMStepper` runs the same arithmetic with
plain matrix products: the first layer's input projection is precomputed for
every character (embedding times input weights plus both biases, one row per
character), and each further layer multiplies the concatenated
``[input, hidden]`` by its stacked weights once. The results equal the
module's within float rounding (tests check the logits). Other cells use the
module itself.

With ``int8=True`` the recurrent and output weights are stored as int8 (one
scale per output channel) and multiplied by dynamically quantized inputs
(PyTorch's x86/fbgemm ``quantized::linear_dynamic``), which reads a quarter of
the bytes and uses the CPU's integer dot-product units. It no longer gives the
float path's samples; ``benchmarks/sample_speed.py`` measures its bits/char
cost on validation tunes (the bar is 1%).
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import torch
from torch.nn import functional as F

from musicgen.errors import SamplingError
from musicgen.model.core import State
from musicgen.model.lm import CharLM
from musicgen.training.data import encoded_positions, pad_batch


class _FloatLinear:
    """``x @ weight.T + bias`` in float32, weight (out, in)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.weight = weight.T.contiguous()  # (in, out)
        self.bias = None if bias is None else bias.contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight if self.bias is None else torch.addmm(self.bias, x, self.weight)


class _Int8Linear:
    """``x @ weight.T + bias`` with int8 weights (per output channel) and int8-quantized inputs."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        scales = (weight.abs().amax(dim=1) / 127).clamp_min(1e-12).double()
        zeros = torch.zeros(weight.shape[0], dtype=torch.long)
        with warnings.catch_warnings():  # PyTorch marks quantized tensors deprecated; the kernels remain
            warnings.simplefilter("ignore")
            quantized = torch.quantize_per_channel(weight.float().contiguous(), scales, zeros, 0, torch.qint8)
            self.packed = torch.ops.quantized.linear_prepack(quantized, None if bias is None else bias.float())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.quantized.linear_dynamic(x, self.packed, True)  # reduce_range: 7-bit inputs, no overflow


@functools.cache
def int8_available() -> bool:
    """Whether this PyTorch build has the x86/fbgemm dynamic int8 linear kernels."""
    try:
        _Int8Linear(torch.ones(2, 2), torch.zeros(2))(torch.ones(1, 2))
    except (RuntimeError, AttributeError, NotImplementedError):
        return False
    return True


class LSTMStepper:
    """Next-character logits for a batch of single characters, with LSTM state.

    Args:
        model: a unidirectional LSTM language model.
        int8: int8 weights for the recurrent and output products (see the module docstring).
    """

    def __init__(self, model: CharLM, int8: bool = False):
        if model.config.cell != "lstm" or model.config.bidirectional:
            raise ValueError("LSTMStepper needs a unidirectional LSTM")
        rnn = model.core.rnn

        def param(name: str) -> torch.Tensor:
            return getattr(rnn, name)

        linear = _Int8Linear if int8 else _FloatLinear
        with torch.no_grad():
            embedding = model.core.embedding.weight  # (V, E)
            self.input_table = (
                embedding @ param("weight_ih_l0").T + param("bias_ih_l0") + param("bias_hh_l0")
            ).contiguous()  # (V, 4H)
            # A form position's share of the first layer's gates (its embedding times the input weights).
            positions = model.positions
            self.position_table = (
                None if positions is None else (positions.weight @ param("weight_ih_l0").T).contiguous()
            )
            self.hidden_product = linear(param("weight_hh_l0"), None)  # (B, H) -> (B, 4H)
            self.stacked = []  # layer >= 1: [input; hidden] (B, 2H) -> (B, 4H)
            for layer in range(1, model.config.num_layers):
                weight = torch.cat([param(f"weight_ih_l{layer}"), param(f"weight_hh_l{layer}")], dim=1)
                bias = param(f"bias_ih_l{layer}") + param(f"bias_hh_l{layer}")
                self.stacked.append(linear(weight, bias))
            self.head = linear(model.head.weight, model.head.bias)  # (B, H) -> (B, V)

    @staticmethod
    def _cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    @torch.no_grad()
    def step(
        self, ids: torch.Tensor, state: State, positions: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, State]:
        """Logits (B, V) after reading ids (B,) at form positions (B,; None: none), from state ((L, B, H) each)."""
        h_all, c_all = state
        hs, cs = [], []
        gates = self.input_table[ids] + self.hidden_product(h_all[0])
        if self.position_table is not None:
            gates = gates + self.position_table[torch.zeros_like(ids) if positions is None else positions]
        h, c = self._cell(gates, c_all[0])
        hs.append(h)
        cs.append(c)
        for layer, product in enumerate(self.stacked, start=1):
            gates = product(torch.cat([h, h_all[layer]], dim=1))
            h, c = self._cell(gates, c_all[layer])
            hs.append(h)
            cs.append(c)
        return self.head(h), (torch.stack(hs), torch.stack(cs))


def make_stepper(model: CharLM, fast: bool = True, int8: bool = False):
    """A function ``(ids (B,), state, positions (B,) or None) -> (logits (B, V), state)`` for the model.

    ``fast=False`` always uses the module (the reference the fast path is tested against);
    ``int8`` asks for int8 weights (an LSTM on a CPU; others ignore it).
    """
    if fast and model.config.cell == "lstm" and not model.config.bidirectional:
        on_cpu = next(model.parameters()).device.type == "cpu"
        if int8 and on_cpu and not int8_available():
            raise SamplingError("int8 sampling needs PyTorch's x86/fbgemm int8 kernels, which this build lacks")
        return LSTMStepper(model, int8=int8 and on_cpu).step

    def module_step(ids: torch.Tensor, state: State, positions: torch.Tensor | None = None):
        logits, state = model(ids.unsqueeze(1), state, None if positions is None else positions.unsqueeze(1))
        return logits[:, -1], state

    return module_step


@torch.no_grad()
def stepper_bits_per_char(model: CharLM, tunes: list[np.ndarray], int8: bool = False) -> float:
    """Bits/char of :func:`make_stepper`'s step, one character at a time through encoded tunes.

    Teacher forced over padded tunes (see :func:`musicgen.training.data.encode_tunes`);
    measures what a sampling path costs, e.g. int8 weights against float32.
    """
    step = make_stepper(model, int8=int8)
    ids, mask = pad_batch(tunes)  # (B, T)
    positions = None
    if model.positions is not None:
        positions = pad_batch(encoded_positions(tunes, model.vocab))[0]
    state, bits = model.init_hidden(len(tunes)), 0.0
    for position in range(ids.shape[1] - 1):
        logits, state = step(ids[:, position], state, None if positions is None else positions[:, position])
        loss = F.cross_entropy(logits, ids[:, position + 1], reduction="none")
        bits += float((loss * mask[:, position + 1]).sum()) / math.log(2)
    return bits / float(mask[:, 1:].sum())
