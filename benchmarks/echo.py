"""Why the echo, and what it buys: bits/char of real tunes' bars, and of their bodies with and without it.

1. The model's bits/char on the characters of held-out tunes' bars that repeat an earlier bar of the
   same tune note for note, against those of other bars (a model that had learned that tunes repeat
   themselves would be far surer of the first).
2. The echo fitted on the valid split (as ``musicgen export --fit-echo`` fits it) and the bits/char
   of the test split's tune bodies without and with it, by those weights.

Tunes are read as the model was trained (codes written in, moved to its tonic)::

    python benchmarks/echo.py [--model PATH] [--tunes 300]
"""

from __future__ import annotations

import argparse
import math
import re

import numpy as np
import torch

from musicgen.abc.corpus import load_corpus
from musicgen.abc.transpose import move_tunes
from musicgen.model.lm import load_model, text_positions
from musicgen.sampling.stream import body_of
from musicgen.training.echo import fit_echo, tune_columns


def repeated_and_new(model, texts: list[str]) -> dict[str, tuple[float, int]]:
    """Bits and characters of the bodies' bars that repeat an earlier bar, and of the other bars."""
    totals = {"repeated": [0.0, 0], "new": [0.0, 0]}
    for text in texts:
        body = body_of(text)
        if not body or model.vocab.unknown(text):
            continue
        ids = torch.tensor([model.vocab.start_id, *model.vocab.encode(text)])[None]
        positions = torch.tensor([text_positions(text)]) if model.positions is not None else None
        with torch.no_grad():
            logits, _ = model(ids, None, positions)
        bits = (-torch.log_softmax(logits[0].float(), dim=-1) / math.log(2))[
            torch.arange(len(text)), torch.tensor(model.vocab.encode(text))
        ].tolist()
        position, seen = len(text) - len(body), set()
        for piece in re.split(r"(\|)", body):
            music = re.sub(r'"[^"]*"|![^!]*!|\s|^[:\]]+|:+$', "", piece)
            if piece != "|" and re.search(r"[A-Ga-g]", music):
                kind = "repeated" if music in seen else "new"
                seen.add(music)
                totals[kind][0] += sum(bits[position : position + len(piece)])
                totals[kind][1] += len(piece)
            position += len(piece)
    return {kind: (bits_, int(count)) for kind, (bits_, count) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a saved model or run [default: the bundled one]")
    parser.add_argument("--tunes", type=int, default=300, help="test tunes for part 1")
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = load_model(args.model).float().eval()
    corpus = load_corpus()
    tonic = model.tonics.tonic if model.tonics is not None else None

    def texts(split: str) -> list[str]:
        tunes = corpus.coded(split)
        return [tune.text for tune in (move_tunes(tunes, tonic) if tonic else tunes)]

    test = texts("test")
    for kind, (bits, count) in repeated_and_new(model, test[: args.tunes]).items():
        print(f"{kind:8} bars of {args.tunes} test tunes: {count:,} characters, {bits / max(count, 1):.3f} bits/char")
    fit = fit_echo(model, texts("valid"))
    print(f"fitted on the valid split: {fit}")
    columns = [tune_columns(model, text) for text in test if not model.vocab.unknown(text)]
    index = np.array([i for column in columns for i in column.indices], dtype=np.int64)
    ours = np.array([p for column in columns for p in column.ours])
    echoed = np.array([q for column in columns for q in column.echoed])
    weights = np.array(fit.weights)[index]
    gained = (np.log((1 - weights) * ours + weights * echoed).sum() - np.log(ours).sum()) / math.log(2)
    bits, count = sum(column.bits for column in columns), sum(column.characters for column in columns)
    print(
        f"test split ({len(test)} tunes, {count:,} body characters): {bits / count:.4f} bits/char alone, "
        f"{(bits - gained) / count:.4f} with the echo"
    )


if __name__ == "__main__":
    main()
