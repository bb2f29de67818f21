"""Time to quality: training minutes until validation bits/char reaches a target.

Two recipes train the same model (the default 2 x 512 LSTM, embedding 64) on
the default corpus's training split and are scored the same way, on whole
validation tunes framed by start and end markers (``evaluate_bpc``), every
``--eval-every`` steps; validation time is not counted.

- musicgen: whole tunes batched by length, 64 x 128-character windows with
  the state carried across windows, Adam 3e-3 with warm-up and cosine decay
  over 5,000 steps, clipping at 1.0 (the ``musicgen train`` defaults);
- lab-style: random 100-character windows of the joined training text,
  batch 8, Adam 5e-3, fresh state for every window (MIT 6.S191 lab 1).

Prints each recipe's training minutes to the target and their ratio; a
recipe that misses the target within ``--minutes`` is reported as such.
Run the two at once on two cores with ``--recipe musicgen`` and
``--recipe lab`` and ``--threads 1``, or both in turn (the default).

    python benchmarks/time_to_quality.py [--target 2.2] [--minutes 20] [--recipe both|musicgen|lab] [--precision bf16]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from musicgen.abc.corpus import load_corpus
from musicgen.model.config import ModelConfig, TrainConfig
from musicgen.model.lm import CharLM
from musicgen.model.vocab import END, START, Vocabulary
from musicgen.training.data import encode_tunes
from musicgen.training.measures import evaluate_bpc


def musicgen_recipe(target: float, minutes: float, eval_every: int, out: Path, precision: str = "fp32") -> float | None:
    """Minutes of training until the validation target, with ``musicgen train``'s defaults."""
    import shutil

    from musicgen.training.loop import train

    shutil.rmtree(out, ignore_errors=True)  # a fresh run, not a continued log
    config = TrainConfig(
        batch_size=64,
        seq_len=128,
        learning_rate=3e-3,
        max_steps=5000,
        warmup_steps=200,
        eval_interval=eval_every,
        patience=0,
        time_limit=minutes,
        device="cpu",
        precision=precision,
    )
    train(None, out, ModelConfig(vocab_size=1, dropout=0.2), config, progress=False)
    for line in (out / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        print(
            f"  musicgen step {record['step']}: valid {record['valid_bpc']:.3f} after "
            f"{record['elapsed_s'] / 60:.1f} min",
            flush=True,
        )
        if record["valid_bpc"] <= target:
            return record["elapsed_s"] / 60
    return None


def lab_step(model: CharLM, optimizer: torch.optim.Optimizer, data: torch.Tensor, rng: np.random.Generator) -> float:
    """One step of the MIT lab's loop: 8 random 100-character windows of ``data``; returns the loss in nats."""
    starts = rng.integers(0, len(data) - 101, size=8)
    batch = torch.stack([data[s : s + 101] for s in starts])  # (8, 101)
    logits, _ = model(batch[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def lab_recipe(target: float, minutes: float, eval_every: int, seed: int = 0) -> float | None:
    """Minutes of training until the validation target, lab style."""
    corpus = load_corpus()
    vocab = Vocabulary.from_texts(corpus.texts())
    text = "\n\n".join(corpus.texts("train"))
    data = torch.tensor(vocab.encode(text))
    valid = encode_tunes(corpus.texts("valid"), vocab)
    torch.manual_seed(seed)
    model = CharLM(ModelConfig(vocab_size=len(vocab), dropout=0.2), vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    rng = np.random.default_rng(seed)
    elapsed, step = 0.0, 0
    while elapsed < minutes * 60:
        started = time.perf_counter()
        lab_step(model, optimizer, data, rng)
        step += 1
        elapsed += time.perf_counter() - started
        if step % eval_every == 0:
            bpc = evaluate_bpc(model, valid, 64, 128)
            print(f"  lab step {step}: valid {bpc:.3f} after {elapsed / 60:.1f} min", flush=True)
            if bpc <= target:
                return elapsed / 60
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=2.2, help="validation bits/char to reach")
    parser.add_argument("--minutes", type=float, default=20.0, help="training minutes allowed per recipe")
    parser.add_argument("--recipe", choices=["both", "musicgen", "lab"], default="both")
    parser.add_argument("--eval-every-musicgen", type=int, default=50)
    parser.add_argument("--eval-every-lab", type=int, default=250)
    parser.add_argument("--out", type=Path, default=Path("outputs/time-to-quality"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        default="fp32",
        help="musicgen recipe: bf16 autocast (fast on CPUs with AMX)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    assert START and END  # the markers frame every validation tune for both recipes
    results = {}
    if args.recipe in ("both", "musicgen"):
        results["musicgen"] = musicgen_recipe(
            args.target, args.minutes, args.eval_every_musicgen, args.out, args.precision
        )
    if args.recipe in ("both", "lab"):
        results["lab"] = lab_recipe(args.target, args.minutes, args.eval_every_lab)
    for name, value in results.items():
        shown = f"after {value:.1f} min" if value is not None else f"not reached in {args.minutes:g} min"
        print(f"{name}: validation {args.target} bits/char {shown} of training ({torch.get_num_threads()} threads)")
    if results.get("musicgen") and results.get("lab"):
        print(f"musicgen reaches it {results['lab'] / results['musicgen']:.1f}x faster")


if __name__ == "__main__":
    main()
