"""The one decoder loop: the only code that touches tensors, batch rows and saved states while tunes are written.

Every step it turns the batch's logits into probabilities (temperature,
top-k, top-p), mixes in each tune's echo of its earlier bars
(:func:`mix_echo`), takes away what each tune's rules ban
(:func:`mask_banned`), samples one character per row, lets each
:class:`~musicgen.sampling.stream.Stream` write it (:func:`write_step`:
forced header text, the bar verifier's redraws, the end), drops finished
rows, steps the model (with each tune's form position, for a model that
reads them), and keeps or puts back the state where a bar began
(:func:`resume_bars`). Header drafts are settled with
:func:`~musicgen.sampling.selectors.keep_drafts` once every draft is past
its forced lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from musicgen.model.config import SampleConfig
from musicgen.model.core import State, select_state
from musicgen.model.vocab import END, Vocabulary
from musicgen.sampling.selectors import draw_drafts, keep_drafts, weigh
from musicgen.sampling.stream import Stream

#: Steps the sampler may take per character of ``max_length``: a tune
#: that draws bars again takes more steps than it keeps characters.
MAX_STEPS_PER_CHAR = 3


@dataclass
class Batch:
    """What the loop works on: the streams, the live rows' stream indices, and the model's outputs for them."""

    streams: list[Stream]
    active: list[int]
    logits: torch.Tensor  # (B, V) for the active rows
    state: State
    positions: bool = False  # the model reads each tune's form position beside its characters


def filter_logits(logits: torch.Tensor, config: SampleConfig) -> torch.Tensor:
    """Temperature, top-k and top-p applied to (B, V) logits."""
    logits = logits / config.temperature
    if config.top_k and config.top_k < logits.shape[-1]:
        kth = torch.topk(logits, config.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if config.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= config.top_p
        logits = logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))
    return logits


def mask_banned(probs: torch.Tensor, streams: list[Stream], active: list[int], vocab: Vocabulary) -> None:
    """Zero (in place) the probability of what each tune's rules ban next.

    Where the banned characters are all the probability a row has (top-k of 1), they stay.
    """
    ids_of: dict[str, list[int]] = {}  # banned characters -> their ids, once per distinct set
    row_list: list[int] = []
    id_list: list[int] = []
    for row, index in enumerate(active):
        banned = banned_in(streams[index], vocab)
        if banned:
            known = ids_of.get(banned)
            if known is None:
                known = ids_of[banned] = [vocab.index[char] for char in banned if char in vocab.index]
            row_list.extend([row] * len(known))
            id_list.extend(known)
    if not id_list:
        return
    rows, ids = torch.tensor(row_list, dtype=torch.long), torch.tensor(id_list, dtype=torch.long)
    kept = probs[rows, ids].clone()
    probs[rows, ids] = 0.0
    nothing_left = probs[rows].sum(dim=-1) == 0
    probs[rows[nothing_left], ids[nothing_left]] = kept[nothing_left]


def mix_echo(probs: torch.Tensor, streams: list[Stream], active: list[int], vocab: Vocabulary) -> None:
    """Mix (in place) each row's probabilities with its tune's echo, where it has a guess
    (:meth:`~musicgen.sampling.stream.Stream.echo_guess`): ``(1 - w) * p + w * echo``."""
    rows: list[int] = []
    keeps: list[float] = []
    put_rows: list[int] = []
    put_ids: list[int] = []
    put_values: list[float] = []
    for row, index in enumerate(active):
        guess = streams[index].echo_guess()
        if guess is None:
            continue
        weight, counts = guess
        total = sum(counts.values())
        rows.append(row)
        keeps.append(1.0 - weight)
        for char, count in counts.items():
            if char in vocab.index:
                put_rows.append(row)
                put_ids.append(vocab.index[char])
                put_values.append(weight * count / total)
    if not rows:
        return
    probs[rows] *= torch.tensor(keeps, dtype=probs.dtype)[:, None]
    probs.index_put_(
        (torch.tensor(put_rows, dtype=torch.long), torch.tensor(put_ids, dtype=torch.long)),
        torch.tensor(put_values, dtype=probs.dtype),
        accumulate=True,
    )


def banned_in(stream: Stream, vocab: Vocabulary) -> str:
    """What a tune may not write next, out of the vocabulary's characters."""
    allowed = stream.allowed()
    if allowed is None:
        return stream.banned()
    return stream.banned() + "".join(char for char in vocab.chars if char not in allowed)


def write_step(
    streams: list[Stream],
    active: list[int],
    sampled: list[int],
    log_probs: torch.Tensor | None,
    vocab: Vocabulary,
    end_log_probs: dict[int, float] | None = None,
    max_length: int = 10**9,
    may_restart: bool = True,
) -> tuple[list[int], list[int]]:
    """Write each active tune's next character: the ids to feed on and the batch rows still writing.

    ``log_probs`` (B, V), while header drafts are weighed, else None;
    ``end_log_probs``: for batch rows that sampled the end marker, its
    log-probability at temperature 1, kept by the stream as it ends. A
    tune whose bar verifier sends it back stays in the batch; the loop
    resumes it from ``stream.bars.resume``; one that is lost
    (:attr:`~musicgen.sampling.bars.Bars.lost`) is put back as it began
    (:meth:`~musicgen.sampling.stream.Stream.restarted`) while
    ``may_restart``. A tune of ``max_length`` characters stops, cut.
    """
    next_ids, keep = [], []
    for row, index in enumerate(active):
        stream = streams[index]
        char = stream.choose(vocab.chars[sampled[row]])
        if log_probs is not None:
            weigh(stream, char, log_probs[row], vocab)
        if stream.bars.rejects(char, stream):
            stream.bars.go_back(stream)
            if stream.bars.lost and may_restart:
                streams[index] = stream.restarted(lost=True)
            next_ids.append(vocab.index[stream.chars[-1]])  # any character: the loop resumes at the bar's start
            keep.append(row)
            continue
        if len(stream.chars) >= max_length:
            continue  # cut: not done
        if char == END:
            stream.done = True
            stream.end_log_prob = (end_log_probs or {}).get(row, -math.inf)
            continue
        stream.write(char)
        next_ids.append(vocab.index[char])
        keep.append(row)
    return next_ids, keep


def row_of(logits: torch.Tensor, state, row: int) -> tuple:
    """A copy of one batch row's logits and state parts, to :func:`put_row` back later."""
    parts = state if isinstance(state, tuple) else (state,)
    return logits[row].clone(), tuple(part[:, row].clone() for part in parts)


def put_row(logits: torch.Tensor, state, row: int, saved: tuple) -> None:
    """Write a row kept by :func:`row_of` into batch row ``row`` of ``logits`` and ``state`` (in place)."""
    parts = state if isinstance(state, tuple) else (state,)
    saved_logits, saved_state = saved
    logits[row] = saved_logits
    for part, saved_part in zip(parts, saved_state):
        part[:, row] = saved_part


def resume_bars(streams: list[Stream], logits: torch.Tensor, state, start: tuple) -> None:
    """Keep, per tune, the logits and state where a bar has just begun; put them back where one is drawn again.

    ``streams``: the tune of each batch row; ``logits`` (B, V) and
    ``state`` are changed in place for tunes that went back to a bar's start,
    or to ``start`` (where every tune begins) for tunes that started again.
    """
    for row, stream in enumerate(streams):
        bars = stream.bars
        if stream.restarting:
            stream.restarting = False
            put_row(logits, state, row, start)
        elif bars.begun:
            bars.resume = row_of(logits, state, row)
            bars.begun = False
            if bars.body_resume is None:
                bars.body_resume = bars.resume
        elif bars.redrawn:
            bars.redrawn = False
            assert bars.resume is not None  # kept when the bar began
            put_row(logits, state, row, bars.resume)


def split_endings(streams: list[Stream], active: list[int], logits: torch.Tensor, state, start: tuple) -> tuple:
    """Split each tune whose ending drafts are due (:meth:`~musicgen.sampling.stream.Stream.split_due`)
    into its drafts: new streams at the end of ``streams`` and of the batch, each with a copy of its
    tune's logits and state. A tune whose drafts would all share an abc2midi error
    (:meth:`~musicgen.sampling.stream.Stream.retake_due`) goes back first, to its body's first bar or
    to its start (``start``: the logits and state every tune begins from), so that its drafts are
    each written from there. Returns the active streams, logits and state."""
    rows: list[int] = []
    resumes: dict[int, tuple] = {}  # new batch row -> the (logits, state parts) it goes on from
    for row, index in enumerate(list(active)):
        stream = streams[index]
        if not stream.split_due():
            continue
        retake, resume = stream.retake_due(), None
        if retake == "tune":
            stream = streams[index] = stream.restarted()
            resume = start
        elif retake == "body":
            stream.bars.retake(stream)
            resume = stream.bars.body_resume
        splits, stream.splits = stream.splits, 0
        if resume is not None:  # the tune's row, and the rows its drafts are about to take
            for new_row in (row, *range(len(active), len(active) + splits)):
                resumes[new_row] = resume
        for _ in range(splits):
            streams.append(stream.split())
            active.append(len(streams) - 1)
            rows.append(row)
    if not rows:
        return active, logits, state
    order = torch.tensor(list(range(len(active) - len(rows))) + rows, device=logits.device)
    logits, state = logits[order], select_state(state, order)
    for row, resume in resumes.items():
        put_row(logits, state, row, resume)
    return active, logits, state


def drafts_of(streams: list[Stream], indices: list[int]) -> int:
    """How many ending drafts the streams ``indices`` stand for (one still to split stands for all of its)."""
    return sum(1 + streams[index].splits for index in indices)


def end_log_probs(logits: torch.Tensor, sampled: list[int], end_id: int) -> dict[int, float]:
    """For the batch rows that sampled the end marker, its log-probability at temperature 1."""
    rows = [row for row, index in enumerate(sampled) if index == end_id]
    if not rows:
        return {}
    return dict(zip(rows, torch.log_softmax(logits[rows].float(), dim=-1)[:, end_id].tolist()))


def decode(
    step: Callable,
    batch: Batch,
    config: SampleConfig,
    vocab: Vocabulary,
    generator: torch.Generator,
    drafts: int,
    steps: int,
    finished: Callable[[int], None],
) -> list[Stream]:
    """Write every stream of ``batch`` to its end (or ``config.max_length``); the streams kept, in tune order.

    ``drafts``: header drafts per tune (1: none); ``steps``: the most steps to
    take; ``finished(count)`` is told how many drafts ended at each step.
    """
    device = batch.logits.device
    endings = config.end_drafts
    streams, active, logits, state = batch.streams, batch.active, batch.logits, batch.state
    start = row_of(logits, state, 0)  # every tune begins alike
    for taken in range(steps):
        if drafts > 1 and all(streams[index].settled for index in active):
            streams, active, rows = keep_drafts(streams, active, drafts, generator)
            logits, state = logits[rows.to(device)], select_state(state, rows.to(device))
            finished(drafts_of(streams, [index for index, stream in enumerate(streams) if stream.done]))
            drafts = 1
            if not active:
                break
        probs = torch.softmax(filter_logits(logits.float(), config), dim=-1).cpu()
        mix_echo(probs, streams, active, vocab)
        mask_banned(probs, streams, active, vocab)
        sampled = torch.multinomial(probs, 1, generator=generator).squeeze(1).tolist()
        log_probs = torch.log_softmax(logits.float() / config.temperature, dim=-1).cpu() if drafts > 1 else None
        ends = end_log_probs(logits, sampled, vocab.end_id) if endings > 1 else None
        # a lost tune starts again only while the steps left could write it twice over
        may_restart = steps - taken >= 2 * config.max_length
        next_ids, keep = write_step(streams, active, sampled, log_probs, vocab, ends, config.max_length, may_restart)
        kept = set(keep)
        finished(0 if drafts > 1 else drafts_of(streams, [i for row, i in enumerate(active) if row not in kept]))
        if not keep:
            break
        if len(keep) < len(active):
            state = select_state(state, torch.tensor(keep, device=device))
            active = [active[row] for row in keep]
        positions = None
        if batch.positions:
            positions = torch.tensor([streams[index].form_position() for index in active], device=device)
        logits, state = step(torch.tensor(next_ids, device=device), state, positions)
        resume_bars([streams[index] for index in active], logits, state, start)
        if drafts == 1:
            active, logits, state = split_endings(streams, active, logits, state, start)
    if drafts > 1:  # cut at max_length while still writing the header
        streams = [streams[index] for index in draw_drafts(streams, drafts, generator)]
    return streams
