"""The learning-rate schedule and the validation measure of a training run."""

from __future__ import annotations

import math

import torch

from musicgen.model.config import TrainConfig
from musicgen.model.lm import CharLM, bits_per_char
from musicgen.training.data import encoded_positions, input_windows, pad_batch, windows


def learning_rate_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps))
    return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate_bpc(model: CharLM, tunes: list, batch_size: int, seq_len: int, positions: list | None = None) -> float:
    """Mean bits per character of the model on encoded tunes.

    ``positions``: each tune's form positions (:func:`~musicgen.training.data.encode_positions`), for
    a model that reads them; None computes them from the tunes' text where the model does.
    """
    if positions is None and model.positions is not None:
        positions = encoded_positions(tunes, model.vocab)
    model.eval()
    device = next(model.parameters()).device
    total_bits, total_chars = 0.0, 0.0
    order = sorted(range(len(tunes)), key=lambda i: len(tunes[i]))
    for begin in range(0, len(order), batch_size):
        rows = order[begin : begin + batch_size]
        ids, mask = pad_batch([tunes[i] for i in rows])
        codes = None if positions is None else pad_batch([positions[i] for i in rows])[0].to(device)
        state = None
        cuts = zip(windows(ids.to(device), mask.to(device), seq_len), input_windows(codes, seq_len))
        for (inputs, targets, target_mask), input_positions in cuts:
            logits, state = model(inputs, state, input_positions)
            bits, count = bits_per_char(logits.float(), targets, target_mask)
            total_bits += bits.item()
            total_chars += count.item()
    model.train()
    return total_bits / max(total_chars, 1.0)
