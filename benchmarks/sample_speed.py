"""Sampling speed: batched against one-at-a-time, and the fast LSTM step against nn.LSTM.

1. Tunes per second for N tunes sampled together until each ends (musicgen's
   generate), against a lab-style loop that samples the same number of tunes
   one at a time, one nn.LSTM call per character, with the same weights.
2. Characters per second for a single stream: musicgen's stepper against a
   per-step nn.LSTM call, both fed the same characters.

Both ratios are measured in the same run, because the machine is noisy.

    python benchmarks/sample_speed.py [--model PATH] [--tunes 64] [--lab-tunes 8]
"""

from __future__ import annotations

import argparse
import time

import torch

from musicgen.sample import generate, load_model
from musicgen.stepper import make_stepper


def lab_style(model, count: int, seed: int, max_length: int) -> tuple[int, float]:
    """One tune at a time, one module call per character; returns (characters, seconds)."""
    generator = torch.Generator().manual_seed(seed)
    end, chars, started = model.vocab.end_id, 0, time.perf_counter()
    with torch.no_grad():
        for _ in range(count):
            ids = torch.tensor([[model.vocab.start_id]])
            state = None
            for _ in range(max_length):
                logits, state = model(ids, state)
                ids = torch.multinomial(torch.softmax(logits[:, -1], dim=-1), 1, generator=generator)
                chars += 1
                if ids.item() == end:
                    break
    return chars, time.perf_counter() - started


def single_stream(model, steps: int, fast: bool) -> float:
    """Characters per second stepping one stream."""
    step = make_stepper(model, fast=fast)
    state = model.init_hidden(1)
    ids = torch.tensor([model.vocab.start_id])
    started = time.perf_counter()
    for _ in range(steps):
        logits, state = step(ids, state)
        ids = logits.argmax(dim=1)
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=64)
    parser.add_argument("--lab-tunes", type=int, default=8, help="tunes for the one-at-a-time loop (its rate is per tune)")
    parser.add_argument("--max-length", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    model = load_model(args.model)
    with torch.no_grad():
        plain = single_stream(model, args.steps, fast=False)
        fast = single_stream(model, args.steps, fast=True)
    print(f"single stream: nn.LSTM per step {plain:,.0f} chars/s; musicgen stepper {fast:,.0f} chars/s; "
          f"ratio {fast / plain:.2f}x (target 3x)")
    chars, seconds = lab_style(model, args.lab_tunes, 0, args.max_length)
    lab_rate = args.lab_tunes / seconds
    started = time.perf_counter()
    tunes = generate(model, n=args.tunes, seed=0, max_length=args.max_length)
    batched = time.perf_counter() - started
    batched_rate = args.tunes / batched
    print(f"lab-style loop: {lab_rate:.2f} tunes/s ({chars / seconds:,.0f} chars/s over {args.lab_tunes} tunes)")
    print(f"batched generate: {batched_rate:.2f} tunes/s ({sum(len(t.text) for t in tunes) / batched:,.0f} chars/s "
          f"over {args.tunes} tunes); ratio {batched_rate / lab_rate:.1f}x (target 30x)")


if __name__ == "__main__":
    main()
