"""Sample new tunes from a trained language model: the public entry points.

All tunes are sampled as one batch; a tune that writes its end marker leaves
the batch, so finished tunes stop costing compute. The sampler is made of
named parts, each described once, in its own module:

- :mod:`musicgen.sampling.stream`: one tune being written, and the header
  options (form and style codes, key, meter, title, type; see
  :mod:`musicgen.abc.codes`) written into it as the model reaches them, so
  ``--key Dmix`` alone still lets the model choose a title and meter.
- :mod:`musicgen.sampling.rules`: what a tune may write next (no end before
  a note, repeat marks in abc2midi's order, hornpipe meters, no end before
  the parts its form code asks for, no long runs of spaces, marks closed on
  their line, no length, accidental or decoration without a note, broken
  rhythms and a hornpipe's swung pairs over notes of one length and
  marking), each switched by a
  :class:`~musicgen.model.config.SampleConfig` field.
- :mod:`musicgen.sampling.bars`: the verifier that draws a bar again when it
  does not fill its meter or abc2midi would report an error in it, and
  starts a tune again that has thrown away too much so.
- :mod:`musicgen.sampling.selectors`: header drafts kept by importance weight,
  ending drafts kept by an ending ranker with named criteria (a tune held to
  a form code given before sampling is written once and split into its
  drafts for its last bars, see :func:`~musicgen.sampling.stream.splits_late`;
  any other tune is drafted whole).
- :mod:`musicgen.sampling.echo`: the tune's own earlier bars that begin as
  the bar being written has so far, as a second guess at the next character,
  mixed with the model's by weights fitted to real tunes and saved with the
  model (``echo``), so bars come back as they do in real tunes.
- :mod:`musicgen.sampling.facts`: what abc2midi accepts, in one table.
- :mod:`musicgen.sampling.decoder`: the one loop that touches tensors.

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
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from musicgen.abc.codes import read_codes
from musicgen.abc.keys import key_signature
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
from musicgen.limits import MAX_PRIME_CHARS
from musicgen.model.config import SampleConfig
from musicgen.model.lm import CharLM, recommended_config, text_positions
from musicgen.model.stepper import make_stepper
from musicgen.model.vocab import Vocabulary
from musicgen.sampling.decoder import MAX_STEPS_PER_CHAR, Batch, decode
from musicgen.sampling.rules import RULES
from musicgen.sampling.selectors import EndingRanker, written_before
from musicgen.sampling.stream import KEY_LINE, Stream, splits_late

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

    def harmonized(self) -> GeneratedTune:
        """The tune with chord symbols (:func:`musicgen.abc.harmony.harmonize_tune`); as it is when unreadable."""
        from musicgen.abc.harmony import harmonize_tune
        from musicgen.errors import MusicgenError

        if self.tune is None:
            return self
        try:
            return replace(self, tune=harmonize_tune(self.tune))
        except MusicgenError:
            return self  # a key without a tonic (K:none): left without chords


def header_fields(
    key: str | None = None,
    meter: str | None = None,
    title: str | None = None,
    tune_type: str | None = None,
    style: str | None = None,
    form: str | None = None,
) -> dict[str, str]:
    """Header lines to force, by field letter, from the CLI's header options.

    ``style`` is the ``O:`` code (``irish``); ``form`` the ``N:`` code or its start, as
    :func:`musicgen.abc.codes.form_request` gives it (``AABB 8``, or ``AABB `` ending in a
    space for the model to write the bars). See :mod:`musicgen.abc.codes`.

    Raises:
        SamplingError: a value that is not one line of text, a key ABC does
            not know, or a meter that is not ``C``, ``C|``, ``none`` or N/D
            (N 1..64, D a power of two up to 64).
    """
    fields = {"T": title, "R": tune_type, "M": meter, "K": key, "O": style, "N": form}
    for letter, value in fields.items():
        if value is not None and (not value.strip() or any(not c.isprintable() for c in value)):
            raise SamplingError(f"{letter}: value must be one non-empty line of text, not {value!r}")
    chosen = {k: " ".join(v.split()) for k, v in fields.items() if v is not None}
    if "O" in chosen:
        chosen["O"] = chosen["O"].lower()
    if form is not None and form.endswith(" "):
        chosen["N"] += " "  # a prefix: the model writes the bars
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
    drafts = config.header_drafts if written_before(fixed) else 1
    rows = n * config.end_drafts * drafts
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
    endings = config.end_drafts
    rules = tuple(name for name in RULES if getattr(config, name))
    echo = model.echo if config.echo else None
    # A tune held to a form code given before sampling is written once and split into its ending
    # drafts for its last bars; any other is drafted whole (see splits_late).
    whole = 1 if splits_late(prime, fixed, rules) else endings
    reads_positions = model.positions is not None
    streams = [
        Stream(
            prime,
            fixed,
            config.bar_tries,
            rules,
            slot=row // (whole * drafts),
            splits=endings - whole,
            echo=echo,
            positions=reads_positions,
        )
        for row in range(n * whole * drafts)
    ]
    start = torch.tensor([[vocab.start_id, *vocab.encode(prime)]], device=device).repeat(len(streams), 1)
    positions = (
        torch.tensor([text_positions(prime)], device=device).repeat(len(streams), 1) if reads_positions else None
    )
    logits, state = model(start, None, positions)
    batch = Batch(streams, list(range(len(streams))), logits[:, -1], state, reads_positions)  # logits (B, V)
    from tqdm import tqdm

    bar = tqdm(
        total=n * endings,
        disable=not progress,
        unit="tune" if endings == 1 else "draft",
        desc=f"composing {first_number}-{first_number + n - 1}",
        dynamic_ncols=True,
        leave=False,
    )
    steps = MAX_STEPS_PER_CHAR * (config.max_length - len(prime))
    streams = decode(step, batch, config, vocab, generator, drafts, steps, bar.update)
    bar.close()
    draws = torch.rand(n, generator=generator).tolist()  # one tonic draw per tune, from the seed
    drafts_of_tune: list[list[Stream]] = [[] for _ in range(n)]
    for stream in streams:
        drafts_of_tune[stream.slot].append(stream)
    ranker = EndingRanker()
    return [
        ranker.best([_finish(first_number + tune, s, tonics, tonic, draws[tune]) for s in group], group)
        for tune, group in enumerate(drafts_of_tune)
    ]


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
    names = SampleConfig.field_names()
    unknown = sorted(set(settings) - set(names))
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
        tune.fields.update(read_codes(text))  # the form and style it was written to, kept in its header
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
