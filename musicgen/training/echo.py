"""Fitting the echo's weights (:mod:`musicgen.sampling.echo`) to real tunes, by maximum likelihood.

For every character of each tune's body the model's probability of it and
the echo's are gathered, by how much of the bar was written before it; each
weight is then the one under which the mixture gives the real characters
the highest likelihood (a grid of 200 steps: one weight per length, so the
fit is exact to half a percent). Tunes are read as the model was trained
on them (moved to its tonic, codes written in).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from musicgen.abc.corpus import Corpus
from musicgen.abc.transpose import move_tunes
from musicgen.model.lm import CharLM, text_positions
from musicgen.sampling.echo import BAR_LINE, ECHO_LENGTHS, bar_prefix, earlier_bars, echo_counts, weight_index
from musicgen.sampling.stream import body_of

#: Candidate weights tried for each length.
GRID = np.linspace(0.0, 0.995, 200)


@dataclass
class EchoFit:
    """Fitted weights, and what they buy: bits/char of the tunes' bodies without and with the echo."""

    weights: tuple[float, ...]
    bits_alone: float
    bits_with_echo: float
    characters: int
    echoed: tuple[int, ...]  # characters with an echo guess, by length

    def __str__(self) -> str:
        shown = " ".join(f"{w:.3f}" for w in self.weights)
        return (
            f"echo weights {shown}; bits/char of {self.characters:,} body characters "
            f"{self.bits_alone:.4f} alone, {self.bits_with_echo:.4f} with the echo"
        )


@dataclass
class TuneColumns:
    """What one tune's body says of the echo: for each character the echo has a guess for (as the
    sampler would make it, :class:`~musicgen.sampling.echo.Echo`), its weight index, the model's
    probability of it and the echo's; and the bits the model spends on the whole body."""

    indices: list[int]
    ours: list[float]
    echoed: list[float]
    bits: float = 0.0
    characters: int = 0


def tune_columns(model: CharLM, text: str) -> TuneColumns:
    """The :class:`TuneColumns` of one tune (whole, as the model reads it), from one pass of the model."""
    vocab = model.vocab
    ids = torch.tensor([vocab.start_id, *vocab.encode(text)])[None]
    positions = torch.tensor(text_positions(text))[None] if model.positions is not None else None
    with torch.no_grad():
        logits, _ = model(ids, None, positions)
    log_probs = torch.log_softmax(logits[0].float(), dim=-1)  # (T, V): row i predicts text[i]
    target_log_probs = log_probs[torch.arange(len(text)), torch.tensor(vocab.encode(text))]
    columns = TuneColumns([], [], [])
    body = body_of(text)
    if not body:
        return columns
    body_start = bar_start = len(text) - len(body)
    columns.bits = -target_log_probs[body_start:].sum().item() / math.log(2)
    columns.characters = len(body)
    model_probs = target_log_probs.exp().tolist()
    bars: list[str] = []
    for position in range(body_start, len(text)):
        prefix = bar_prefix(text[:position]) if position > bar_start else ""
        counts = echo_counts(bars, prefix) if bars else None
        if counts:
            columns.indices.append(weight_index(prefix))
            columns.ours.append(model_probs[position])
            columns.echoed.append(counts[text[position]] / sum(counts.values()))
        if text[position] == BAR_LINE:
            bar_start = position + 1
            bars = earlier_bars(text[body_start:bar_start])
    return columns


def fit_echo(model: CharLM, texts: list[str], progress: Callable[[int], None] | None = None) -> EchoFit:
    """Echo weights for ``model`` fitted on ``texts`` (whole tunes as the model reads them).

    ``progress(n)`` is told of each tune read. Tunes with characters the model does not know are left out.
    """
    model.eval()
    texts = [text for text in texts if not model.vocab.unknown(text)]  # a tune it cannot read tells it nothing
    columns: list[TuneColumns] = []
    for text in texts:
        columns.append(tune_columns(model, text))
        if progress:
            progress(1)
    indices = np.array([i for column in columns for i in column.indices], dtype=np.int64)
    ours = np.array([p for column in columns for p in column.ours])
    echoed = np.array([q for column in columns for q in column.echoed])
    weights, gained = [], 0.0
    for length in range(ECHO_LENGTHS):
        chosen = indices == length
        if not chosen.any():
            weights.append(0.0)
            continue
        p, q = ours[chosen][:, None], echoed[chosen][:, None]
        likelihood = np.log(np.maximum((1 - GRID) * p + GRID * q, 1e-30)).sum(axis=0)
        best = int(likelihood.argmax())
        weights.append(round(float(GRID[best]), 4))
        gained += (likelihood[best] - likelihood[0]) / math.log(2)
    bits, count = sum(column.bits for column in columns), sum(column.characters for column in columns)
    counts = tuple(int((indices == length).sum()) for length in range(ECHO_LENGTHS))
    return EchoFit(tuple(weights), bits / max(count, 1), (bits - gained) / max(count, 1), count, counts)


def echo_texts(model: CharLM, corpus: Corpus) -> list[str]:
    """The corpus's valid split as ``model`` reads tunes: codes written in, moved to its tonic if it has one."""
    tunes = corpus.coded("valid")
    if model.tonics is not None:
        tunes = move_tunes(tunes, model.tonics.tonic)
    return [tune.text for tune in tunes]


def fit_model_echo(model: CharLM, texts: list[str], progress: bool = False) -> EchoFit:
    """Fit ``model``'s echo on ``texts`` and set ``model.echo`` (None where no weight is above 0)."""
    from tqdm import tqdm

    with tqdm(total=len(texts), disable=not progress, unit="tune", desc="fitting the echo", leave=False) as bar:
        fit = fit_echo(model, texts, bar.update)
    model.echo = fit.weights if any(fit.weights) else None
    return fit


def add_echo(checkpoint: Path, texts: list[str], progress: bool = False) -> EchoFit:
    """Fit the echo of the model in a training checkpoint (``model.pt``) on ``texts`` and save it in."""
    from musicgen.model.checkpoint import load_checkpoint, save_checkpoint
    from musicgen.model.lm import load_model

    model = load_model(checkpoint)
    fit = fit_model_echo(model, texts, progress)
    data = load_checkpoint(checkpoint)
    data["echo"] = list(model.echo) if model.echo else None
    save_checkpoint(checkpoint, {key: value for key, value in data.items() if key not in ("format", "version")})
    return fit
