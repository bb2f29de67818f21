"""Training throughput of the default model against the machine's matrix-multiply peak.

Measures, in the same run: fp32 matrix-multiply GFLOP/s (2048 x 2048, the
peak), then full training steps of the default music model (2 x 512 LSTM,
embedding 64, 107 symbols; batch 64 x 128 characters; forward, loss,
backward, clipping, Adam). Achieved FLOP/s count the matrix multiplies only:
per character and layer 2 * 4H * (I + H) forward (I: the layer's input
width), 2 * H * V for the head, and three times the forward for a training
step. Prints characters/s, GFLOP/s and the fraction of the peak.

    python benchmarks/train_speed.py [--steps 20] [--batch-size 64] [--seq-len 128] [--device cpu|cuda] [--bf16]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

from musicgen.model.config import ModelConfig
from musicgen.model.lm import CharLM
from musicgen.model.vocab import Vocabulary


def matmul_peak(device: torch.device, size: int = 2048, repeats: int = 10, dtype=torch.float32) -> float:
    """GFLOP/s of a square matrix multiply (the best of ``repeats``)."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        started = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def flops_per_char(config: ModelConfig) -> float:
    """Matrix-multiply FLOPs of one training step per character."""
    hidden, forward = config.hidden_size, 0
    for layer in range(config.num_layers):
        inputs = config.embedding_size if layer == 0 else hidden
        forward += 2 * 4 * hidden * (inputs + hidden)
    forward += 2 * hidden * config.vocab_size
    return 3 * forward


def training_rate(
    config: ModelConfig, batch_size: int, seq_len: int, steps: int, device: torch.device, bf16: bool = False
) -> float:
    """Characters per second of full training steps (after two warm-up steps)."""
    torch.manual_seed(0)
    vocab = Vocabulary(chr(32 + i) for i in range(config.vocab_size - 2))
    model = CharLM(config, vocab).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ids = torch.randint(0, config.vocab_size, (batch_size, seq_len + 1), device=device)
    started = 0.0
    for step in range(steps + 2):
        if step == 2:
            _sync(device)
            started = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits, _ = model(ids[:, :-1])
            loss = F.cross_entropy(logits.flatten(0, 1).float(), ids[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    _sync(device)
    return steps * batch_size * seq_len / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (on CUDA)")
    args = parser.parse_args()
    device = torch.device(args.device)
    config = ModelConfig(vocab_size=107, embedding_size=64, hidden_size=512, num_layers=2, dropout=0.2)
    peak = matmul_peak(device, dtype=torch.bfloat16 if args.bf16 else torch.float32)
    rate = training_rate(config, args.batch_size, args.seq_len, args.steps, device, args.bf16)
    achieved = rate * flops_per_char(config) / 1e9
    print(f"device {device} ({torch.get_num_threads()} threads), torch {torch.__version__}")
    print(f"matrix-multiply peak ({'bf16' if args.bf16 else 'fp32'} 2048^2): {peak:,.0f} GFLOP/s")
    print(
        f"training, default model, batch {args.batch_size} x {args.seq_len}: {rate:,.0f} characters/s, "
        f"{achieved:,.0f} GFLOP/s = {achieved / peak:.0%} of the peak"
    )


if __name__ == "__main__":
    main()
