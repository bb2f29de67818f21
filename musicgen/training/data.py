"""Batches of whole tunes, cut into windows for truncated backpropagation.

Each batch row holds one tune from its start marker to its end marker, so
the model sees where tunes begin and end, and the hidden state is carried
from one window to the next within the same tune. Tunes of similar length
are batched together, so little of a batch is padding.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from musicgen.abc.position import form_positions
from musicgen.model.vocab import Vocabulary

#: Tunes shuffled together before sorting by length (in batches).
_BUCKET_BATCHES = 50


def encode_tunes(texts: list[str], vocab: Vocabulary) -> list[np.ndarray]:
    """Each text as start marker + characters + end marker, as int64 arrays."""
    return [np.array([vocab.start_id, *vocab.encode(text), vocab.end_id], dtype=np.int64) for text in texts]


def encode_positions(texts: list[str]) -> list[np.ndarray]:
    """Each text's form positions (:mod:`musicgen.abc.position`), one per symbol :func:`encode_tunes`
    gives it: none for the start marker, each character's, and the last again for the end marker."""
    arrays = []
    for text in texts:
        codes = form_positions(text)
        arrays.append(np.array([0, *codes, codes[-1] if codes else 0], dtype=np.int64))
    return arrays


def encoded_positions(tunes: list[np.ndarray], vocab: Vocabulary) -> list[np.ndarray]:
    """:func:`encode_positions` of tunes already encoded by :func:`encode_tunes` (their text read back)."""
    return encode_positions([vocab.decode(tune[1:-1].tolist()) for tune in tunes])


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Tune indices for each batch of one epoch, the same for the same arguments.

    Tunes are shuffled, sorted by length within buckets of a few dozen
    batches, cut into batches, and the batches shuffled again.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    bucket = batch_size * _BUCKET_BATCHES
    batches = []
    for begin in range(0, len(order), bucket):
        chunk = sorted(order[begin : begin + bucket], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def shuffled_batches(sort_keys: list, batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Indices in batches of neighbours by ``sort_keys`` (e.g. lengths), the batches in random order.

    Used by the sentence tasks, whose batches are small enough to sort whole.
    """
    order = sorted(range(len(sort_keys)), key=sort_keys.__getitem__)
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [chunks[c] for c in torch.randperm(len(chunks), generator=generator).tolist()]


def window_counts(lengths: list[int], seq_len: int) -> list[int]:
    """Target characters in each window that :func:`windows` cuts from a batch of these lengths."""
    total = max(lengths) - 1
    return [
        sum(max(0, min(length - 1, begin + seq_len) - begin) for length in lengths)
        for begin in range(0, total, seq_len)
    ]


def pad_batch(tunes: list[np.ndarray], width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack encoded tunes into (B, L) ids and a (B, L) mask of real positions.

    ``width`` sets L (at least the longest tune); an empty list gives one
    all-padding row, so every process of a distributed run takes its steps.
    """
    longest = max([width or 0, *(len(t) for t in tunes)])
    if not tunes:
        return torch.zeros(1, longest, dtype=torch.int64), torch.zeros(1, longest, dtype=torch.bool)
    ids = np.zeros((len(tunes), longest), dtype=np.int64)
    mask = np.zeros((len(tunes), longest), dtype=bool)
    for row, tune in enumerate(tunes):
        ids[row, : len(tune)] = tune
        mask[row, : len(tune)] = True
    return torch.from_numpy(ids), torch.from_numpy(mask)


def windows(
    ids: torch.Tensor, mask: torch.Tensor, seq_len: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Consecutive ``(inputs, targets, target_mask)`` windows of one batch.

    Inputs are positions ``t`` and targets ``t + 1``; each is (B, <= seq_len).
    """
    total = ids.shape[1] - 1
    for begin in range(0, total, seq_len):
        end = min(begin + seq_len, total)
        yield ids[:, begin:end], ids[:, begin + 1 : end + 1], mask[:, begin + 1 : end + 1]


def input_windows(positions: torch.Tensor | None, seq_len: int) -> Iterator[torch.Tensor | None]:
    """The inputs' part of each window :func:`windows` cuts, of a (B, L) tensor read beside the
    symbols (form positions); None for each window where there is none."""
    if positions is None:
        while True:
            yield None
    for begin in range(0, positions.shape[1] - 1, seq_len):
        yield positions[:, begin : min(begin + seq_len, positions.shape[1] - 1)]
