"""Sample new tunes from a trained language model.

All tunes are sampled as one batch; a tune that writes its end marker leaves
the batch, so finished tunes stop costing compute. Header options (key,
meter, title, type) are written into each tune as the model reaches them:
when the model starts a header line whose field comes at or after a fixed
field in the normalised order (T, R, M, L, Q, P, K), the fixed line is
written instead. So ``--key Dmix`` alone still lets the model choose a title
and meter, and conditions everything after K: on D mixolydian. Lines the
model writes before a fixed one (a title, ``R:reel``) are drafted several
times per tune and one draft is kept, drawn in proportion to how likely the
model finds the fixed lines after it: ``--meter 9/8`` then keeps a header
that suits a slip jig, not a reel cut to 9/8.

Each tune is also drafted whole 4 times (``end_drafts``) and one draft is
kept. A draft that is unreadable, does not convert to notes (``K:Fz``),
is cut at ``max_length`` or ends with a repeat or first ending that waits
for its ``:|`` loses to any that is not; then one
whose last bar sends the player back (``D.C.``, ``D.S.``, a segno: abc2midi
and musicgen's converter stop there, mid-form) loses to one that ends;
then one whose last note is not its key's tonic loses to one that closes
on it; among the rest, the one kept is the one the model is surest has
ended where it ended: the highest probability, at temperature 1, of the end
marker it wrote (a draft that stops mid-phrase, where the sampler drew an
unlikely end, loses to one that closes its last section).

Two rules keep the tunes readable: a tune cannot end before its body has a
note (conditioned on a rare key and meter, a model may otherwise stop right
after K:), and its repeat marks follow the order abc2midi reads (it cannot
end with a ``|:`` still open, unless it has been open for longer than
99.5% of the corpus's repeats, open another inside it, start a first
ending or ``::`` after a ``:|`` without a new ``|:``, a second ending
without a first, or an ending numbered other than 1 or 2). Each rule takes the banned
characters' probability away and lets the model choose among the rest. A
hornpipe keeps to the meters abc2midi plays one in (``M:2/4``, ``4/4``,
``C``); under a ``--meter`` it is not played in, a hornpipe header draft
is kept only when every draft is one.

Bars fill their meter: a bar whose notes come to less or more than the
meter, or that abc2midi reports an error in (a chord, text or grace notes
left open, a broken rhythm over unequal notes), is drawn again from its first character (``bar_tries``, 8 times at
most, then it stands), the model resuming from its own state where the bar
began. A short bar stands where its ``|`` turns out to end a section or
the tune (``||``, ``|]``, the end marker) and where ``:|`` ends it (a
first ending, a section's last bar); the pickup is never judged (see
:class:`musicgen.sampling.stream.Bars`).

A model trained with its tunes moved to one tonic (``musicgen train
--tonic C``, the default) reads the key options and the prime moved to that
tonic (``Dmix`` as ``Cmix``), and each tune it writes is moved to the key
asked for, or else to a tonic drawn as often as training had it for the
tune's mode (see :mod:`musicgen.abc.transpose`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any

import torch

from musicgen.abc.keys import key_signature
from musicgen.abc.melody import abc_to_melody
from musicgen.abc.transpose import (
    TonicTable,
    interval_between,
    tonic_of,
    transpose_body,
    transpose_key,
    transpose_tune,
)
from musicgen.abc.tunebook import Tune, parse_tune
from musicgen.errors import (
    ConversionError,
    MusicgenError,
    SamplingError,
)
from musicgen.evaluation.evaluate import last_note_is_tonic
from musicgen.limits import MAX_PRIME_CHARS
from musicgen.model.config import SampleConfig
from musicgen.model.core import select_state
from musicgen.model.lm import CharLM, recommended_config
from musicgen.model.stepper import make_stepper
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.stream import (
    KEY_LINE,
    Stream,
    draw_drafts,
    keep_drafts,
    mask_banned,
    write_step,
)

logger = logging.getLogger(__name__)


@dataclass
class GeneratedTune:
    """A sampled tune.

    Attributes:
        number: its X: number (1-based within the batch).
        text: what the model wrote after the start marker, without the end marker
            (in the model's own tonic, for a model that moves keys).
        complete: True when the model ended the tune itself (not cut at max_length).
        tune: the normalised tune in its final key, or None when the text is not
            a readable tune.
        moved_text: for an unreadable tune from a model that moves keys, its
            text moved to the final key (notes and K: lines), where it can be.
    """

    number: int
    text: str
    complete: bool
    tune: Tune | None = field(default=None, repr=False)
    moved_text: str | None = field(default=None, repr=False)

    @property
    def abc(self) -> str:
        """The tune as standard ABC text, starting with its X: line."""
        if self.tune is not None:
            return self.tune.abc
        return f"X:{self.number}\n{(self.moved_text or self.text).rstrip()}\n"

    @property
    def title(self) -> str:
        return self.tune.title if self.tune is not None else ""


def _filter_logits(logits: torch.Tensor, config: SampleConfig) -> torch.Tensor:
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


def header_fields(
    key: str | None = None, meter: str | None = None, title: str | None = None, tune_type: str | None = None
) -> dict[str, str]:
    """Header lines to force, by field letter, from the CLI's header options.

    Raises:
        SamplingError: a value that is not one line of text, a key ABC does
            not know, or a meter that is not ``C``, ``C|``, ``none`` or N/D
            (N 1..64, D a power of two up to 64).
    """
    fields = {"T": title, "R": tune_type, "M": meter, "K": key}
    for letter, value in fields.items():
        if value is not None and (not value.strip() or any(not c.isprintable() for c in value)):
            raise SamplingError(f"{letter}: value must be one non-empty line of text, not {value!r}")
    chosen = {k: " ".join(v.split()) for k, v in fields.items() if v is not None}
    if "M" in chosen and not _METER_OPTION.fullmatch(chosen["M"]):
        raise SamplingError(f"M:{chosen['M']}: a meter is C, C|, none or N/D with N 1..64 and D 1, 2, 4, ... 64")
    if "K" in chosen:
        try:
            key_signature(chosen["K"])
        except ConversionError:
            raise SamplingError(f"K:{chosen['K']}: unknown key; give one such as D, Em, Ador or Gmix") from None
    return chosen


_METER_OPTION = re.compile(r"C\|?|none|([1-9]|[1-5][0-9]|6[0-4])/(1|2|4|8|16|32|64)")


def _to_model_tonic(tonics: TonicTable | None, prime: str, fixed: dict[str, str]):
    """The prime and header options moved to the model's tonic, and the tonic to move tunes to.

    The key is the prime's K: line, else the key option; the tonic returned
    is None when neither names one (a tonic is then drawn for each tune).
    """
    match = KEY_LINE.search(prime)
    key = match.group(1) if match else fixed.get("K")
    if tonics is None or key is None:
        return prime, fixed, None
    tonic = tonic_of(key)
    if tonic is None:
        raise SamplingError(
            f"K:{key}: this model writes every tune in {tonics.tonic} and moves it to its key; "
            "give a key with a tonic, such as D, Em or Ador"
        )
    interval = interval_between(tonic, tonics.tonic)
    try:
        prime = transpose_body(prime, interval)
        if "K" in fixed:
            fixed = {**fixed, "K": transpose_key(fixed["K"], interval)}
    except ConversionError as error:
        raise SamplingError(str(error)) from None
    return prime, fixed, tonic


def _prepare_prime(model: CharLM, prime: str | None, header: dict[str, str] | None):
    """The prime and header options as the model reads them, and the tonic to move tunes to.

    Raises:
        SamplingError: a prime that is too long, has characters the model
            never saw, or already ends its header while header options are given.
    """
    if prime is not None and len(prime) > MAX_PRIME_CHARS:
        raise SamplingError(f"the prime has {len(prime):,} characters; at most {MAX_PRIME_CHARS:,}")
    prime = re.sub(r"^X:[^\n]*\n", "", prime or "")
    if header and KEY_LINE.search(prime):
        fields = ", ".join(f"{letter}:" for letter in header)
        raise SamplingError(
            f"the prime already ends its header with a K: line, so {fields} cannot be "
            "written for you: put those lines in the prime"
        )
    prime, fixed, tonic = _to_model_tonic(model.tonics, prime, header or {})
    _check_prime(model.vocab, prime, "prime")
    _check_prime(model.vocab, "".join(f"{k}:{v}\n" for k, v in fixed.items()), "header options")
    return prime, fixed, tonic


def _check_prime(vocab: Vocabulary, text: str, what: str) -> None:
    unknown = vocab.unknown(text)
    if unknown:
        shown = ", ".join(repr(c) for c in unknown)
        raise SamplingError(f"the {what} has characters the model never saw: {shown}")


#: Rows sampled together at most (tunes x their drafts), and tunes per batch of :func:`generate_batches`.
MAX_ROWS = 65_536
MAX_BATCH_SIZE = 1024


@torch.no_grad()
def generate(
    model: CharLM,
    n: int = 1,
    config: SampleConfig | None = None,
    *,
    prime: str | None = None,
    header: dict[str, str] | None = None,
    progress: bool = False,
    fast: bool = True,
    int8: bool = False,
    first_number: int = 1,
    **settings: Any,
) -> list[GeneratedTune]:
    """Sample ``n`` tunes together as one batch.

    Args:
        model: a language model (see :func:`load_model`).
        n: how many tunes.
        config: how to sample; None starts from the model's recommended
            settings (see :func:`recommended_config`).
        settings: :class:`SampleConfig` fields that replace the config's
            (``temperature=0.9``, ``seed=1``, ``end_drafts=1``...).
        prime: text each tune starts with (header lines, a first bar...).
        header: header fields to force, by letter (see :func:`header_fields`).
        progress: show a progress bar of finished tunes on stderr.
        fast: step an LSTM with plain matrix products (:mod:`musicgen.model.stepper`);
            False calls the module each step. Both give the same tunes.
        int8: int8 weights in the LSTM step on a CPU (faster; different
            tunes for a seed, at a small measured bits/char cost).
        first_number: the X: number of the first tune.

    Returns:
        The tunes in order, each with ``.abc``.

    Raises:
        SamplingError: impossible options or settings, a prime with unknown
            characters, or header fields for a prime whose header is already over.
    """
    if n < 1:
        raise SamplingError(f"n must be at least 1, not {n}")
    config = sampling_config(model, config, settings)
    seed = config.seed
    prime, fixed, tonic = _prepare_prime(model, prime, header)
    rows = n * config.end_drafts * (config.header_drafts if fixed else 1)
    if rows > MAX_ROWS:
        raise SamplingError(
            f"{n} tunes with their drafts are {rows:,} rows sampled together; at most "
            f"{MAX_ROWS:,} (use generate_batches, or fewer drafts)"
        )
    vocab, tonics = model.vocab, model.tonics
    generator = torch.Generator().manual_seed(seed if seed is not None else torch.seed())
    device = next(model.parameters()).device
    model.eval()

    step = make_stepper(model, fast=fast, int8=int8)
    drafts = config.header_drafts if fixed else 1
    endings = config.end_drafts
    streams = [Stream(prime, fixed, config.bar_tries) for _ in range(n * endings * drafts)]
    start = torch.tensor([[vocab.start_id, *vocab.encode(prime)]], device=device).repeat(len(streams), 1)
    logits, state = model(start)
    logits = logits[:, -1]  # (B, V)
    active = list(range(len(streams)))  # stream index of each batch row
    from tqdm import tqdm

    bar = tqdm(
        total=n * endings,
        disable=not progress,
        unit="tune" if endings == 1 else "draft",
        desc=f"composing {first_number}-{first_number + n - 1}",
        dynamic_ncols=True,
        leave=False,
    )
    for _ in range(MAX_STEPS_PER_CHAR * (config.max_length - len(prime))):
        if drafts > 1 and all(streams[index].settled for index in active):
            streams, active, rows = keep_drafts(streams, active, drafts, generator)
            logits, state = logits[rows.to(device)], select_state(state, rows.to(device))
            bar.update(sum(stream.done for stream in streams))
            drafts = 1
            if not active:
                break
        probs = torch.softmax(_filter_logits(logits.float(), config), dim=-1).cpu()
        mask_banned(probs, streams, active, vocab)
        sampled = torch.multinomial(probs, 1, generator=generator).squeeze(1).tolist()
        log_probs = torch.log_softmax(logits.float() / config.temperature, dim=-1).cpu() if drafts > 1 else None
        next_ids, keep = write_step(
            streams,
            active,
            sampled,
            log_probs,
            vocab,
            _end_log_probs(logits, sampled, vocab.end_id) if endings > 1 else None,
            config.max_length,
        )
        bar.update(0 if drafts > 1 else len(active) - len(keep))
        if not keep:
            break
        if len(keep) < len(active):
            state = select_state(state, torch.tensor(keep, device=device))
            active = [active[row] for row in keep]
        logits, state = step(torch.tensor(next_ids, device=device), state)
        _resume_bars([streams[index] for index in active], logits, state)
    if drafts > 1:  # cut at max_length while still writing the header
        streams = [streams[index] for index in draw_drafts(streams, drafts, generator)]
    bar.close()
    draws = torch.rand(n, generator=generator).tolist()  # one tonic draw per tune, from the seed
    finished = [
        _finish(first_number + slot // endings, stream, tonics, tonic, draws[slot // endings])
        for slot, stream in enumerate(streams)
    ]
    return [
        _best_ending(finished[tune * endings : (tune + 1) * endings], streams[tune * endings : (tune + 1) * endings])
        for tune in range(n)
    ]


#: Steps the sampler may take per character of ``max_length``: a tune
#: that draws bars again (:class:`~musicgen.sampling.stream.Bars`) takes more steps
#: than it keeps characters.
MAX_STEPS_PER_CHAR = 3


def _resume_bars(streams: list[Stream], logits: torch.Tensor, state) -> None:
    """Keep, per tune, the logits and state where a bar has just begun; put them back where one is drawn again.

    ``streams``: the tune of each batch row; ``logits`` (B, V) and
    ``state`` are changed in place for tunes that went back to a bar's start.
    """
    parts = state if isinstance(state, tuple) else (state,)
    for row, stream in enumerate(streams):
        bars = stream.bars
        if bars.begun:
            bars.resume = (logits[row].clone(), tuple(part[:, row].clone() for part in parts))
            bars.begun = False
        elif bars.redrawn:
            bars.redrawn = False
            assert bars.resume is not None  # kept when the bar began
            saved_logits, saved_state = bars.resume
            logits[row] = saved_logits
            for part, saved in zip(parts, saved_state):
                part[:, row] = saved


def _best_ending(drafts: list[GeneratedTune], streams: list[Stream]) -> GeneratedTune:
    """The draft of one tune to keep.

    In order: readable, converts to notes, ended by the model, no repeat
    left open, not ended on a jump back, last note on the tonic, surest of
    its end.
    """
    if len(drafts) == 1:
        return drafts[0]
    ranks = [_rank(draft, stream) for draft, stream in zip(drafts, streams)]
    return drafts[max(range(len(drafts)), key=ranks.__getitem__)]


def _rank(draft: GeneratedTune, stream: Stream) -> tuple:
    plays, on_tonic = _plays(draft.tune)
    return (
        draft.tune is not None,
        plays,
        draft.complete,
        not stream.repeats.left_open,
        not _ends_on_jump(draft.text),
        on_tonic,
        stream.end_log_prob,
    )


def _plays(tune: Tune | None) -> tuple[bool, bool]:
    """Whether a draft converts to notes, and whether its last note is its key's tonic."""
    if tune is None:
        return False, False
    try:
        melody = abc_to_melody(tune.abc)
    except MusicgenError:
        return False, False
    return True, last_note_is_tonic(melody, tune.key)


#: Marks that send the player back (da capo, dal segno), as the corpus writes them.
JUMP_MARK = re.compile(r"D\.\s?[CS]\.|segno|da ?capo", re.IGNORECASE)


def _ends_on_jump(text: str) -> bool:
    """Whether the last bar of a tune holds a jump back (``"^D.C."``, ``!D.S.!``, ``"^Segno"``)."""
    last_bar = text.rstrip(" \n|]:").rsplit("|", 1)[-1]
    return bool(JUMP_MARK.search(last_bar))


def _end_log_probs(logits: torch.Tensor, sampled: list[int], end_id: int) -> dict[int, float]:
    """For the batch rows that sampled the end marker, its log-probability at temperature 1."""
    rows = [row for row, index in enumerate(sampled) if index == end_id]
    if not rows:
        return {}
    return dict(zip(rows, torch.log_softmax(logits[rows].float(), dim=-1)[:, end_id].tolist()))


def generate_batches(
    model: CharLM, n: int, batch_size: int = 64, config: SampleConfig | None = None, **options
) -> Iterator[list[GeneratedTune]]:
    """Sample ``n`` tunes ``batch_size`` at a time, yielding each batch as a list.

    Memory stays bounded for any ``n``. Batch ``i`` uses seed ``seed + i``, so a
    seed gives the same tunes for the same ``n`` and ``batch_size``. ``config``
    and the other options are those of :func:`generate`.

    Raises:
        SamplingError: impossible options, at the call, before any batch is sampled.
    """
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise SamplingError(f"batch_size must be in range 1..{MAX_BATCH_SIZE}, not {batch_size}")
    if n < 1:
        raise SamplingError(f"n must be at least 1, not {n}")
    settings = {k: v for k, v in options.items() if k not in _GENERATE_OPTIONS}
    config = sampling_config(model, config, settings)
    options = {k: v for k, v in options.items() if k in _GENERATE_OPTIONS}
    _prepare_prime(model, options.get("prime"), options.get("header"))
    return _batches(model, n, batch_size, config, options)


#: generate()'s keyword options that are not sampling settings (each batch gets them as they are).
_GENERATE_OPTIONS = ("prime", "header", "progress", "fast", "int8")


def _batches(model: CharLM, n: int, batch_size: int, config: SampleConfig, options: dict):
    for index, first in enumerate(range(0, n, batch_size)):
        count = min(batch_size, n - first)
        batch_seed = None if config.seed is None else config.seed + index
        yield generate(model, n=count, config=replace(config, seed=batch_seed), first_number=first + 1, **options)


def sampling_config(model: CharLM, config: SampleConfig | None, settings: dict) -> SampleConfig:
    """``config`` (None: the model's recommended one) with ``settings`` replacing its fields, checked.

    Raises:
        SamplingError: a setting that is not a :class:`SampleConfig` field, or a bad value.
    """
    names = {f.name for f in fields(SampleConfig)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise SamplingError(f"unknown sampling setting {unknown[0]!r}; the settings are {', '.join(sorted(names))}")
    base = config if config is not None else recommended_config(model)
    if not isinstance(base, SampleConfig):
        raise SamplingError(f"config must be a SampleConfig, not {type(base).__name__}")
    return SampleConfig.checked(**{**base.to_dict(), **settings})


def _finish(number: int, stream: Stream, tonics: TonicTable | None, tonic: str | None, draw: float) -> GeneratedTune:
    """The tune as written, read and moved to ``tonic`` (or a drawn one) when the model moves keys."""
    text = "".join(stream.chars)
    try:
        tune = parse_tune(text, source="generated")
        tune.number = number
        if tonics is not None:
            tune = transpose_tune(tune, tonic or tonics.choose(tune.key, draw))
    except ConversionError:
        pass  # a key or note the move cannot spell: the tune stays in the model's tonic
    except MusicgenError:
        return GeneratedTune(number, text, stream.done, None, _moved_text(text, tonics, tonic, draw))
    return GeneratedTune(number=number, text=text, complete=stream.done, tune=tune)


def _moved_text(text: str, tonics: TonicTable | None, tonic: str | None, draw: float) -> str | None:
    """An unreadable tune's text moved as well as it can be to its final key, or None."""
    match = KEY_LINE.search(text)
    if tonics is None or match is None:
        return None
    try:
        return transpose_body(text, interval_between(tonics.tonic, tonic or tonics.choose(match.group(1), draw)))
    except ConversionError:
        return None
