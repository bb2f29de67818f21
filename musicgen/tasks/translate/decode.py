"""Greedy and beam-search decoding, batched.

Both stop a sentence at ``<eos>`` or at its own maximum length
(``max_ratio`` times the source length plus ``max_extra`` pieces), and return
for each sentence its piece indices (without ``<bos>``/``<eos>``) and the
attention weights that produced them (one row of source weights per piece).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from musicgen.model.core import padding_mask, select_state
from musicgen.tasks.translate.model import Translator
from musicgen.tasks.translate.subword import SubwordVocab


@dataclass
class Hypothesis:
    """One decoded sentence: piece indices, attention (pieces x source) and score."""

    ids: list[int]
    attention: torch.Tensor
    score: float


def _limits(lengths: torch.Tensor, max_ratio: float, max_extra: int) -> torch.Tensor:
    return (lengths.float() * max_ratio).long() + max_extra


@torch.no_grad()
def greedy_decode(
    model: Translator, source: torch.Tensor, lengths: torch.Tensor, max_ratio: float = 2.0, max_extra: int = 10
) -> list[Hypothesis]:
    """The most likely piece at each step, for every sentence of the batch at once."""
    model.eval()
    memory, keys, state = model.encode(source, lengths)
    mask = padding_mask(lengths, source.shape[1])
    limits = _limits(lengths, max_ratio, max_extra)
    batch = source.shape[0]
    previous = torch.full((batch, 1), SubwordVocab.bos_id, dtype=torch.long, device=source.device)
    words, weights, scores = [], [], torch.zeros(batch)
    done = torch.zeros(batch, dtype=torch.bool)
    for step in range(int(limits.max())):
        logits, state, attention = model.decode(previous, state, memory, keys, mask)
        log_probs = F.log_softmax(logits[:, 0].float(), dim=1).cpu()
        best = log_probs.argmax(dim=1)
        scores += torch.where(done, 0.0, log_probs.gather(1, best[:, None]).squeeze(1))
        words.append(best)
        weights.append(attention[:, 0].cpu())
        done |= (best == SubwordVocab.eos_id) | (step + 1 >= limits.cpu())
        if done.all():
            break
        previous = best[:, None].to(source.device)
    return [
        _finish(torch.stack(words, 1)[row].tolist(), torch.stack(weights, 1)[row], scores[row].item())
        for row in range(batch)
    ]


def _finish(ids: list[int], attention: torch.Tensor, score: float) -> Hypothesis:
    """Cut at the first ``<eos>`` (kept out of the words)."""
    end = ids.index(SubwordVocab.eos_id) if SubwordVocab.eos_id in ids else len(ids)
    return Hypothesis(ids[:end], attention[:end], score)


@torch.no_grad()
def beam_decode(
    model: Translator,
    source: torch.Tensor,
    lengths: torch.Tensor,
    beam: int = 5,
    length_penalty: float = 1.0,
    max_ratio: float = 2.0,
    max_extra: int = 10,
) -> list[Hypothesis]:
    """Beam search: keep the ``beam`` best partial translations of each sentence.

    Finished translations are ranked by their summed log-probability divided
    by ``length ** length_penalty`` (1 gives the mean per piece; 0 turns the
    normalisation off, which favours short output). Only an ending among the
    ``beam`` best candidates of a step finishes a translation (as in
    fairseq), and a sentence is done when its best candidate ends (as in
    OpenNMT) or it reaches its maximum length.
    """
    if beam < 1:
        raise ValueError(f"beam must be 1 or more, not {beam}")
    model.eval()
    batch, device = source.shape[0], source.device
    memory, keys, state = model.encode(source, lengths)
    rows = torch.arange(batch, device=device).repeat_interleave(beam)  # row b*beam+k belongs to sentence b
    memory, keys, state = memory[rows], keys[rows], select_state(state, rows)
    mask = padding_mask(lengths, source.shape[1])[rows]
    limits = _limits(lengths, max_ratio, max_extra).tolist()
    scores = torch.full((batch, beam), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis to start with
    history = torch.full((batch * beam, 1), SubwordVocab.bos_id, dtype=torch.long)
    attention_history = torch.zeros(batch * beam, 0, source.shape[1])
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    done = [False] * batch

    def normalised(score: float, length: int) -> float:
        return score / max(length, 1) ** length_penalty

    for step in range(max(limits)):
        logits, state, attention = model.decode(history[:, -1:].to(device), state, memory, keys, mask)
        log_probs = F.log_softmax(logits[:, 0].float(), dim=1).cpu()  # (B*K, V)
        vocab = log_probs.shape[1]
        totals = (scores.view(-1, 1) + log_probs).view(batch, beam * vocab)
        top_scores, top_index = totals.topk(2 * beam, dim=1)
        new_rows, new_words, new_scores = [], [], torch.full((batch, beam), float("-inf"))
        for b in range(batch):
            kept = 0
            for rank, (score, index) in enumerate(zip(top_scores[b].tolist(), top_index[b].tolist())):
                source_row, word = b * beam + index // vocab, index % vocab
                if done[b] or score == float("-inf") or kept == beam:
                    break
                if word == SubwordVocab.eos_id and rank >= beam:
                    continue  # an ending outside the top `beam` candidates is not final (as in fairseq)
                if word == SubwordVocab.eos_id or step + 1 >= limits[b]:
                    ids = history[source_row, 1:].tolist() + ([] if word == SubwordVocab.eos_id else [word])
                    weights = torch.cat([attention_history[source_row], attention[source_row, :, :].cpu()])
                    finished[b].append(Hypothesis(ids, weights[: len(ids)], normalised(score, len(ids) + 1)))
                    done[b] = rank == 0 or step + 1 >= limits[b]  # the best candidate ends: stop here
                    continue
                new_rows.append(source_row)
                new_words.append(word)
                new_scores[b, kept] = score
                kept += 1
            while kept < beam:  # pad with dead hypotheses
                new_rows.append(b * beam)
                new_words.append(SubwordVocab.pad_id)
                kept += 1
        if all(done):
            break
        index = torch.tensor(new_rows)
        history = torch.cat([history[index], torch.tensor(new_words)[:, None]], dim=1)
        attention_history = torch.cat([attention_history[index], attention[index.to(device), :, :].cpu()], dim=1)
        state = select_state(state, index.to(device))
        scores = new_scores
    return [
        max(f, key=lambda h: h.score) if f else Hypothesis([], torch.zeros(0, source.shape[1]), float("-inf"))
        for f in finished
    ]
