"""The learning-rate schedule and the validation measure of a training run."""

from __future__ import annotations

import math

import torch

from musicgen.model.config import TrainConfig
from musicgen.model.lm import CharLM, bits_per_char
from musicgen.training.data import pad_batch, windows


def learning_rate_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps))
    return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate_bpc(model: CharLM, tunes: list, batch_size: int, seq_len: int) -> float:
    """Mean bits per character of the model on encoded tunes."""
    model.eval()
    device = next(model.parameters()).device
    total_bits, total_chars = 0.0, 0.0
    order = sorted(range(len(tunes)), key=lambda i: len(tunes[i]))
    for begin in range(0, len(order), batch_size):
        ids, mask = pad_batch([tunes[i] for i in order[begin : begin + batch_size]])
        state = None
        for inputs, targets, target_mask in windows(ids.to(device), mask.to(device), seq_len):
            logits, state = model(inputs, state)
            bits, count = bits_per_char(logits.float(), targets, target_mask)
            total_bits += bits.item()
            total_chars += count.item()
    model.train()
    return total_bits / max(total_chars, 1.0)
