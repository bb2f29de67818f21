"""Choosing among drafts: header drafts by importance weight, whole-tune drafts by an ending ranker.

**Header drafts.** With header options given, the lines the model writes
before a fixed one (a title, ``R:reel``) are drafted ``header_drafts``
times per tune, and one draft is kept, drawn in proportion to how likely
the model finds the fixed lines after it (:func:`weigh`): ``--meter 9/8``
then keeps a header that suits a slip jig, not a reel cut to 9/8.

**Ending drafts.** Each tune has ``end_drafts`` drafts and
:class:`EndingRanker` keeps one, by its named criteria in order, each
deciding only where the drafts still level differ. A tune held to an
``N:`` form code given before sampling is written once and split into its
drafts for its last bars (:func:`~musicgen.sampling.stream.splits_late`);
any other tune is drafted whole.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import torch

from musicgen.abc.codes import FORM_FIELD, read_form_code
from musicgen.abc.form import tune_form
from musicgen.abc.melody import abc_to_melody
from musicgen.abc.tunebook import HEADER_ORDER
from musicgen.errors import MusicgenError
from musicgen.evaluation.evaluate import last_note_is_tonic
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.facts import abc2midi_refuses, ends_on_tie, malformed_bars, parts_defined
from musicgen.sampling.rules import Repeats
from musicgen.sampling.stream import Stream, body_of


def weigh(stream: Stream, char: str, log_probs: torch.Tensor, vocab: Vocabulary) -> None:
    """Add to a stream's weight how likely the model found a forced character.

    A forced line starts where the model began a line that comes at or after
    it in the header order; the chance of that is divided out, so the weight
    is the model's probability of the forced line given the lines before it.
    """
    if stream.started_rank is not None:
        earlier = [vocab.index[c] for c in HEADER_ORDER[: stream.started_rank] if c in vocab.index]
        later = 1.0 - float(log_probs[earlier].exp().sum()) if earlier else 1.0
        stream.log_weight -= math.log(max(later, 1e-12))
    if stream.last_forced:
        stream.log_weight += float(log_probs[vocab.index[char]])


def written_before(fixed: dict[str, str]) -> bool:
    """Whether the model writes header lines before a fixed one (which are then drafted and weighed).

    Lines come in :data:`~musicgen.abc.tunebook.HEADER_ORDER`; fixed lines that are its first
    letters (``N:`` alone, ``N:`` and ``O:``) need no drafts.
    """
    if not fixed:
        return False
    last = max(HEADER_ORDER.index(letter) for letter in fixed)
    return any(letter not in fixed for letter in HEADER_ORDER[:last])


def draw_drafts(streams: list[Stream], drafts: int, generator: torch.Generator) -> list[int]:
    """For each tune, the index of the header draft kept, drawn by the drafts' weights."""
    weights = torch.tensor([s.log_weight for s in streams], dtype=torch.float64).view(-1, drafts)
    picks = torch.multinomial(torch.softmax(weights, dim=-1), 1, generator=generator).squeeze(1)
    return [tune * drafts + pick for tune, pick in enumerate(picks.tolist())]


def keep_drafts(streams: list[Stream], active: list[int], drafts: int, generator: torch.Generator):
    """Keep one header draft per tune: the streams, the active streams and their batch rows."""
    kept = draw_drafts(streams, drafts, generator)
    row_of = {index: row for row, index in enumerate(active)}
    rows = torch.tensor([row_of[index] for index in kept if index in row_of], dtype=torch.long)
    active = [tune for tune, index in enumerate(kept) if index in row_of]
    return [streams[index] for index in kept], active, rows


#: Marks that send the player back (da capo, dal segno), as the corpus writes them.
JUMP_MARK = re.compile(r"D\.\s?[CS]\.|segno|da ?capo", re.IGNORECASE)


def ends_on_jump(text: str) -> bool:
    """Whether the last bar of a tune holds a jump back (``"^D.C."``, ``!D.S.!``, ``"^Segno"``)."""
    last_bar = text.rstrip(" \n|]:").rsplit("|", 1)[-1]
    return bool(JUMP_MARK.search(last_bar))


def plays(tune: Any) -> tuple[bool, bool, bool]:
    """Whether a draft's tune converts to notes, whether its last note is its key's tonic, and whether
    its bars are sound: none is a :func:`~musicgen.sampling.facts.malformed_bar` or holds what the
    reader warns of and abc2midi refuses (:func:`~musicgen.sampling.facts.abc2midi_refuses`)."""
    if tune is None:
        return False, False, False
    try:
        melody = abc_to_melody(tune.abc)
    except MusicgenError:
        return False, False, False
    refused = any(abc2midi_refuses(warning) for warning in melody.warnings)
    sound = not refused and not malformed_bars(tune.body) and not ends_on_tie(tune.body)
    return True, last_note_is_tonic(melody, tune.key), sound


def parts_played(tune: Any) -> bool:
    """Whether every part a draft's header ``P:`` plays is defined in its body, as abc2midi needs."""
    return tune is not None and parts_defined(tune.fields.get("P", ""), tune.body)


def keeps_form(tune: Any, stream: Stream) -> bool:
    """Whether a draft's tune has the parts, repeats and bars its ``N:`` form code names (True without a code).

    Counted on the draft as its stream wrote it, before it moved key: the bars the sampler has read already.
    """
    if tune is None:
        return False
    wanted = read_form_code(tune.fields.get(FORM_FIELD, ""))
    if wanted is None:
        return True
    form = tune_form(body_of(stream.text) or "", stream.fields)
    return (form.pattern, tuple(part.bars for part in form.parts)) == wanted


def repeats_closed(text: str) -> bool:
    """No repeat or first ending of the tune waits for its ``:|`` (read as abc2midi reads them)."""
    return not Repeats(body_of(text) or "").left_open


class EndingRanker:
    """Keeps one whole-tune draft of each tune, by named criteria taken in order.

    A draft reads as a tune (``readable``), converts to notes
    (``converts``) and defines every part its header ``P:`` plays
    (``parts defined``: abc2midi reports an error for a part it cannot
    find); no bar holds what the bar verifier redraws as an abc2midi error
    (``bars sound``: a bar may stand once its redraws run out), nor does it end
    on a tie abc2midi finds no note for; the model ended it, not ``max_length`` (``complete``);
    it leaves no repeat or first ending waiting for its ``:|``
    (``repeats closed``); its last bar does not send the player back
    (``no jump back``: ``"^D.C."``, ``!D.S.!``, a segno: neither abc2midi nor
    musicgen's converter jumps, so such a tune stops mid-form); it has the
    parts, repeats and bars its ``N:`` form code names (``form kept``); it ends on
    its key's tonic (``on tonic``); and among the drafts still level, it is
    the one the model is surest has ended where it ended (``surest end``:
    the likeliest end marker, at temperature 1), so tunes close their last
    section instead of stopping mid-phrase.
    """

    #: (name, what it reads from a draft and its stream), best first.
    CRITERIA: tuple[tuple[str, Callable[[Any, Stream, tuple[bool, bool, bool]], Any]], ...] = (
        ("readable", lambda draft, stream, play: draft.tune is not None),
        ("converts", lambda draft, stream, play: play[0]),
        ("parts defined", lambda draft, stream, play: parts_played(draft.tune)),
        ("bars sound", lambda draft, stream, play: play[2]),
        ("complete", lambda draft, stream, play: draft.complete),
        ("repeats closed", lambda draft, stream, play: repeats_closed(stream.text)),
        ("no jump back", lambda draft, stream, play: not ends_on_jump(draft.text)),
        ("form kept", lambda draft, stream, play: keeps_form(draft.tune, stream)),
        ("on tonic", lambda draft, stream, play: play[1]),
        ("surest end", lambda draft, stream, play: stream.end_log_prob),
    )

    def scores(self, draft: Any, stream: Stream) -> tuple:
        """The draft's value on each criterion, in order (compared as a tuple)."""
        play = plays(draft.tune)
        return tuple(criterion(draft, stream, play) for _, criterion in self.CRITERIA)

    def best(self, drafts: list, streams: list[Stream]) -> Any:
        """The draft to keep (the first of the best, where several tie)."""
        if len(drafts) == 1:
            return drafts[0]
        ranks = [self.scores(draft, stream) for draft, stream in zip(drafts, streams)]
        return drafts[max(range(len(drafts)), key=ranks.__getitem__)]
