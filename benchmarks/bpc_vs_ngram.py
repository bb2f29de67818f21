"""Held-out bits/char of a musicgen model against an interpolated character n-gram.

Both are trained on the train split of the default corpus (the model already
was) and scored on the test split, each tune framed by start and end markers,
the end marker predicted too, so the units are the same. For a model that
learnt its tunes moved to one tonic (``musicgen train --tonic C``), both
read the tunes moved to that tonic; and both are scored on the tunes as
written, the model paying for each tune moved to its tonic plus the bits of
picking that tune's tonic (``TonicTable.tonic_bits``): the move is exact
both ways, so that is the model's cost of the tune as written.

The baseline is an interpolated absolute-discounting (Ney) model of order 5:
P(c | h) = max(C(h c) - D, 0) / C(h) + D * N(h) / C(h) * P(c | shorter h),
with D = 0.75 and an add-one unigram at the bottom.

    python benchmarks/bpc_vs_ngram.py [--model PATH] [--order 5] [--split test]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict

from musicgen.abc.corpus import load_corpus
from musicgen.model.vocab import END, START

DISCOUNT = 0.75


class NGram:
    """An interpolated absolute-discounting character model."""

    def __init__(self, texts: list[str], order: int):
        self.order = order
        self.counts = [defaultdict(lambda: defaultdict(int)) for _ in range(order)]
        chars = set()
        for text in texts:
            framed = START * (order - 1) + text + END
            chars.update(framed)
            for i in range(order - 1, len(framed)):
                for n in range(order):
                    self.counts[n][framed[i - n : i]][framed[i]] += 1
        self.vocab_size = len(chars) + 1
        self.totals = [{h: sum(c.values()) for h, c in level.items()} for level in self.counts]

    def probability(self, history: str, char: str) -> float:
        unigram = self.counts[0][""]
        p = (unigram.get(char, 0) + 1) / (self.totals[0][""] + self.vocab_size)
        for n in range(1, self.order):
            h = history[len(history) - n :]
            following = self.counts[n].get(h)
            if not following:
                continue
            total = self.totals[n][h]
            p = max(following.get(char, 0) - DISCOUNT, 0) / total + DISCOUNT * len(following) / total * p
        return p

    def bits_per_char(self, texts: list[str]) -> float:
        bits, chars = 0.0, 0
        for text in texts:
            framed = START * (self.order - 1) + text + END
            for i in range(self.order - 1, len(framed)):
                bits -= math.log2(self.probability(framed[i - self.order + 1 : i], framed[i]))
                chars += 1
        return bits / chars


def model_bits_per_char(model, texts: list[str]) -> float:
    from musicgen.training.data import encode_tunes
    from musicgen.training.measures import evaluate_bpc

    return evaluate_bpc(model, encode_tunes(texts, model.vocab), batch_size=64, seq_len=256)


def print_as_written(model, train: list, held_out: list, args) -> None:
    """Both models on the tunes as written; the moving model pays for each tune's tonic."""
    from musicgen.abc.transpose import tonic_of, transpose_tune

    held_out = [t for t in held_out if tonic_of(t.key) is not None]
    moved = [transpose_tune(t, model.tonics.tonic).text for t in held_out]
    bits = model_bits_per_char(model, moved) * sum(len(text) + 1 for text in moved)
    bits += sum(model.tonics.tonic_bits(t.key) for t in held_out)
    ours = bits / sum(len(t.text) + 1 for t in held_out)
    baseline = NGram([t.text for t in train], args.order).bits_per_char([t.text for t in held_out])
    print(
        f"on the tunes as written ({len(held_out)} with a tonic): {args.order}-gram {baseline:.4f}, "
        f"musicgen {ours:.4f} bits/char ({1 - ours / baseline:.1%} lower)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint or run folder [default: bundled model]")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--split", default="test", choices=["valid", "test"])
    args = parser.parse_args()
    from musicgen.abc.transpose import as_learnt
    from musicgen.model.lm import load_model

    model = load_model(args.model)
    corpus = load_corpus()
    train, held_out = corpus.split("train"), corpus.split(args.split)
    if model.tonics is not None:
        print_as_written(model, train, held_out, args)
        train, held_out = as_learnt(train, model.tonics), as_learnt(held_out, model.tonics)
        print(f"the model moves tunes to {model.tonics.tonic}: both read every tune moved to it")
    train, held_out = [t.text for t in train], [t.text for t in held_out]
    started = time.perf_counter()
    ngram = NGram(train, args.order)
    baseline = ngram.bits_per_char(held_out)
    print(
        f"{args.order}-gram baseline: {baseline:.4f} bits/char on the {args.split} split "
        f"({len(held_out)} tunes, {time.perf_counter() - started:.0f} s)"
    )
    ours = model_bits_per_char(model, held_out)
    print(f"musicgen model:   {ours:.4f} bits/char")
    print(f"improvement:      {1 - ours / baseline:.1%} lower than the n-gram (target: at least 15%)")


if __name__ == "__main__":
    main()
