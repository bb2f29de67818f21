"""Sampling speed: batched against one-at-a-time, and the fast LSTM step against nn.LSTM.

1. Characters per second for a single stream: musicgen's stepper (float32,
   and int8) against a per-step nn.LSTM call, all fed the same characters.
2. Tunes per second for N tunes sampled together until each ends (musicgen's
   generate, float32 and int8, one draft per tune and bars as first drawn: ``end_drafts=1``,
   ``bar_tries=0``), against
   a lab-style loop that samples as many tunes one at a time, one nn.LSTM
   call per character, with the same weights. (The CLI drafts each tune 4
   times and draws again bars that do not fill their meter, which writes
   fewer tunes per second; see the README.)
3. The int8 step's cost: bits/char of the float and int8 steppers on the
   first --valid-tunes validation tunes of the default corpus (teacher forced;
   moved to the model's tonic for a model that moves keys).

Every ratio is against a baseline measured in the same run, because the
machine is noisy.

    python benchmarks/sample_speed.py [--model PATH] [--tunes 64] [--lab-tunes 64]
"""

from __future__ import annotations

import argparse
import time

import torch

from musicgen.model.lm import load_model
from musicgen.model.stepper import make_stepper, stepper_bits_per_char
from musicgen.sampling.sampler import generate
from musicgen.training.data import encode_tunes


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


def single_stream(model, steps: int, fast: bool, int8: bool = False) -> float:
    """Characters per second stepping one stream."""
    step = make_stepper(model, fast=fast, int8=int8)
    state = model.init_hidden(1)
    ids = torch.tensor([model.vocab.start_id])
    started = time.perf_counter()
    for _ in range(steps):
        logits, state = step(ids, state)
        ids = logits.argmax(dim=1)
    return steps / (time.perf_counter() - started)


def batched(model, count: int, max_length: int, int8: bool) -> tuple[float, float]:
    """Tunes/s and characters/s of one generate call, one draft per tune, no bar drawn again."""
    started = time.perf_counter()
    tunes = generate(model, n=count, seed=0, max_length=max_length, int8=int8, end_drafts=1, bar_tries=0)
    seconds = time.perf_counter() - started
    return count / seconds, sum(len(t.text) for t in tunes) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--tunes", type=int, default=64)
    parser.add_argument("--lab-tunes", type=int, default=64, help="tunes for the one-at-a-time loop")
    parser.add_argument("--max-length", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--valid-tunes", type=int, default=200, help="validation tunes for the int8 cost")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model)
    with torch.no_grad():
        plain = single_stream(model, args.steps, fast=False)
        fast = single_stream(model, args.steps, fast=True)
        int8 = single_stream(model, args.steps, fast=True, int8=True)
    print(
        f"single stream ({torch.get_num_threads()} threads): nn.LSTM per step {plain:,.0f} chars/s; "
        f"stepper {fast:,.0f} chars/s ({fast / plain:.2f}x); int8 stepper {int8:,.0f} chars/s "
        f"({int8 / plain:.2f}x) (target 3x)",
        flush=True,
    )
    chars, seconds = lab_style(model, args.lab_tunes, 0, args.max_length)
    lab_rate = args.lab_tunes / seconds
    print(f"lab-style loop: {lab_rate:.2f} tunes/s ({chars / seconds:,.0f} chars/s over {args.lab_tunes} tunes)")
    for name, use_int8 in (("float32", False), ("int8", True)):
        rate, char_rate = batched(model, args.tunes, args.max_length, use_int8)
        print(
            f"batched generate, {name}: {rate:.2f} tunes/s ({char_rate:,.0f} chars/s over {args.tunes} tunes); "
            f"ratio {rate / lab_rate:.1f}x (target 30x)",
            flush=True,
        )
    from musicgen.abc.corpus import load_corpus
    from musicgen.abc.transpose import as_learnt

    tunes = as_learnt(load_corpus().split("valid")[: args.valid_tunes], model.tonics)  # moved to C for such a model
    valid = encode_tunes([tune.text for tune in tunes], model.vocab)
    exact, quantized = stepper_bits_per_char(model, valid), stepper_bits_per_char(model, valid, int8=True)
    print(
        f"bits/char on {len(valid)} validation tunes: float32 {exact:.4f}, int8 {quantized:.4f} "
        f"({(quantized / exact - 1) * 100:+.2f}%, bar 1%)"
    )


if __name__ == "__main__":
    main()
