"""BLEU table for a translation model: greedy against beam search, with sacreBLEU's signature.

Scores a checkpoint on Multi30k's validation set in ``../shared/data/``
(or any aligned pair of files), cased and detokenised with sacreBLEU's
defaults, and draws one attention picture. Train the model first, e.g.::

    musicgen translate train --source ../shared/data/translation/multi30k/train.de \\
        --target ../shared/data/translation/multi30k/train.en --languages de en \\
        --valid-fraction 0.035 --hidden-size 384 --epochs 40 --patience 4 --time-limit 58 \\
        --threads 1 --out outputs/translate-de-en/model.pt

then::

    python benchmarks/translate_bleu.py outputs/translate-de-en/model.pt [--beams 1 5] [--attention out.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from musicgen.tasks.translate import corpus_bleu, load_translation_model, plot_attention, read_parallel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "translation" / "multi30k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--source", type=Path, default=DATA / "val.de")
    parser.add_argument("--target", type=Path, default=DATA / "val.en")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--attention", type=Path, default=None, help="Draw the first sentence's attention here.")
    args = parser.parse_args()
    model = load_translation_model(args.model)
    pairs = read_parallel(args.source, args.target)
    print(f"{model!r}\n{len(pairs)} sentence pairs from {args.source.name} / {args.target.name}")
    if model.metrics.get("history"):
        print(
            "training: "
            + ", ".join(
                f"epoch {h['epoch']} {h['valid_bleu']:.1f} ({h['seconds'] / 60:.0f} min)"
                for h in model.metrics["history"]
            )
        )
    print("\n| decoding | BLEU | chrF | seconds |\n|---|---|---|---|")
    signature = None
    for beam in args.beams:
        started = time.monotonic()
        bleu, chrf, signature = corpus_bleu(model, pairs, beam=beam)
        name = "greedy" if beam == 1 else f"beam {beam}"
        print(f"| {name} | {bleu.score:.2f} | {chrf.score:.2f} | {time.monotonic() - started:.0f} |", flush=True)
    print(f"\nsacreBLEU signature: {signature}")
    if args.attention:
        result = model.translate([pairs[0].source], beam=max(args.beams))[0]
        plot_attention(result, args.attention)
        print(f"attention for {pairs[0].source!r} -> {result.text!r} in {args.attention}")


if __name__ == "__main__":
    main()
