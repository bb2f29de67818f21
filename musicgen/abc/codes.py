"""Control codes a model learns from its training tunes: each tune's form and style, written in its header.

Like ``R:``, ``M:`` and ``K:``, two header lines tell the model what kind
of tune follows, so that a user can ask for one (``--form``, ``--style``):

- ``N:AABB 8`` (**form**): the tune's parts as :func:`musicgen.abc.form.tune_form`
  counts them, a letter per part and twice for a repeated part, then the bars
  of each part: one number when every part has it (``AABB 8``), else each
  part's (``AB 8+12``). ABC's ``N:`` (notes) field, which every player ignores.
- ``O:irish`` (**style**): the tradition, from the tunebook's own ``O:``
  (origin) field, its collection or its file name (:data:`STYLE_WORDS`); none
  is written when nothing names one. ABC's ``O:`` (origin) field.

Training writes both into every tune (:func:`with_codes`); the sampler forces
them when asked (:func:`form_request`). Pure Python: no torch, no music21.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import replace
from itertools import groupby
from typing import TYPE_CHECKING

from musicgen.abc.tunebook import Tune
from musicgen.errors import OptionError

if TYPE_CHECKING:
    from musicgen.abc.form import Form

FORM_FIELD = "N"
STYLE_FIELD = "O"
CODE_FIELDS = (FORM_FIELD, STYLE_FIELD)

#: Words that name each style, looked for in a tune's ``O:`` field, then its collection and file name,
#: in this order (``Deutschland / Niederlande`` is German). Essen's regions are in German.
STYLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("irish", ("irland", "ireland", "irish", "oneills")),
    ("scottish", ("schottland", "scotland", "scottish", "scots", "airdsairs")),
    ("english", ("england", "english", "northumbrian")),
    ("american", ("amerika", "america", "american", "usa", "ryansmammoth", "americanfife")),
    ("chinese", ("china", "chinese")),
    ("german", ("deutschland", "germany", "german", "lothringen", "luxemburg", "schweiz", "österreich")),
    ("dutch", ("niederlande", "netherlands", "dutch", "flandern", "flanders")),
    ("european", ("europa", "europe", "ungarn", "island")),
)
#: Every style a model can be asked for, as the default corpus has them.
STYLES = tuple(style for style, _ in STYLE_WORDS)
#: Most parts a form code names; longer forms (a medley written as one tune) get no code.
MAX_PARTS = 8
#: Tune types (``R:`` words) danced to: of the 1,640 reels, jigs, hornpipes, slip jigs and strathspeys
#: in the training split, one has under :data:`DANCE_BARS` bars in all (songs often do: 1 in 8 lieder).
DANCE_TYPES = frozenset(
    ("reel", "jig", "slipjig", "hornpipe", "strathspey", "polka", "slide", "fling", "clog", "barndance", "march")
)
#: Fewest bars (each part once) a dance tune's form code names.
DANCE_BARS = 8
#: Most digits in a part's bar count: no training tune has a part of 100 bars or more.
MAX_BAR_DIGITS = 2


def is_pattern(pattern: str) -> bool:
    """Whether a text is a parts pattern: A, B, C... in order, each once or twice (``AABB``, ``ABC``)."""
    runs = [(letter, len(list(group))) for letter, group in groupby(pattern)]
    letters = "".join(letter for letter, _ in runs)
    return (
        0 < len(runs) <= MAX_PARTS and letters == string.ascii_uppercase[: len(runs)] and all(n <= 2 for _, n in runs)
    )


def style_of(origin: str = "", collection: str = "", source: str = "") -> str:
    """The style a tune's origin, collection or file name names, or an empty string.

    >>> style_of("Europa, Mitteleuropa, Deutschland")
    'german'
    >>> style_of(collection="oneills1850")
    'irish'
    """
    for text in (origin, collection, source):
        words = re.sub(r"[^a-zäöü]+", " ", text.lower().replace("'", ""))
        for style, names in STYLE_WORDS:
            if any(re.search(rf"\b{name}", words) for name in names):
                return style
    return ""


def form_code(form: Form) -> str:
    """A form's code: ``AABB 8``, ``AB 8+12``, ``A 9``; empty for no parts or more than :data:`MAX_PARTS`."""
    if not form.parts or len(form.parts) > MAX_PARTS:
        return ""
    bars = {part.bars for part in form.parts}
    counts = str(bars.pop()) if len(bars) == 1 else "+".join(str(part.bars) for part in form.parts)
    return f"{form.pattern} {counts}"


def with_codes(tune: Tune, style: str = "") -> Tune:
    """The tune with its form (``N:``) and style (``O:``) written into its header, as training learns them."""
    from musicgen.abc.form import tune_form  # the reader behind it is not needed for --help's styles

    codes = {FORM_FIELD: form_code(tune_form(tune.body, tune.fields)), STYLE_FIELD: style}
    fields = {**{k: v for k, v in codes.items() if v}, **{k: v for k, v in tune.fields.items() if k not in codes}}
    return replace(tune, fields=fields)


def read_codes(text: str) -> dict[str, str]:
    """The ``N:`` and ``O:`` codes in a tune's header (the lines before its first ``K:``), by letter."""
    codes: dict[str, str] = {}
    for line in text.split("\n"):
        if line.startswith("K:"):
            break
        if line[:1] in CODE_FIELDS and line[1:2] == ":" and line[2:].strip():
            codes.setdefault(line[0], " ".join(line[2:].split()))
    return codes


#: The form the CLI and the web page ask for when nothing else says what kind of tune to write: a dance
#: tune's two parts of 8 bars, each repeated (what a folk musician means by a tune).
DEFAULT_FORM, DEFAULT_PART_BARS = "AABB", 8


def form_option(form: str | None, part_bars: int | None, kind_given: bool) -> str | None:
    """The ``N:`` value to force for the ``--form`` and ``--part-bars`` options (see :func:`form_request`).

    ``form`` ``any`` forces nothing (the model draws the form). Left out, it is ``AABB`` with parts of
    ``part_bars`` bars, or of :data:`DEFAULT_PART_BARS` when ``kind_given`` is False (no type, meter,
    style or prime says what kind of tune to write); with ``kind_given`` and no ``part_bars`` nothing is
    forced and the model writes the ``N:`` line as training had it for the rest (the ``form_end`` rule
    holds a tune to that line where a tune type was asked for; see :class:`~musicgen.sampling.rules.FormEnd`).

    Raises:
        OptionError: see :func:`form_request`; ``any`` with ``part_bars``.
    """
    if form is not None and form.strip().lower() == "any":
        if part_bars is not None:
            raise OptionError("--part-bars needs a form: give --form AABB (or another) instead of --form any")
        return None
    if form is None and part_bars is None:
        return None if kind_given else form_request(DEFAULT_FORM, DEFAULT_PART_BARS)
    return form_request(form or DEFAULT_FORM, part_bars)


def form_request(form: str | None, part_bars: int | None) -> str | None:
    """What to force of the ``N:`` line for ``--form`` and ``--part-bars``: ``AABB 8``, or ``AABB `` for the
    model to give the bars; None for neither.

    Raises:
        OptionError: a pattern that is not part letters A-H in order, each once or twice (``AABB``,
            ``ABC``; see :func:`is_pattern`), or bars outside 1..64, or bars without a form.
    """
    if form is None:
        if part_bars is not None:
            raise OptionError("--part-bars needs --form (e.g. --form AABB --part-bars 8)")
        return None
    pattern = form.strip().upper()
    if not is_pattern(pattern):
        raise OptionError(
            f"--form {form!r}: give the parts in order, each once or twice repeated: AABB, AB, AABBCC, ABC, AA"
        )
    if part_bars is None:
        return f"{pattern} "
    if not 1 <= part_bars <= 64:
        raise OptionError(f"--part-bars must be in range 1..64, not {part_bars}")
    return f"{pattern} {part_bars}"


@functools.lru_cache(maxsize=256)
def read_form_code(value: str) -> tuple[str, tuple[int, ...]] | None:
    """The parts pattern and the bars of each part that an ``N:`` value names; None if it is no form code.

    Cached: the sampler's form rule asks for its tune's code at every step.

    >>> read_form_code("AABB 8")
    ('AABB', (8, 8))
    >>> read_form_code("AB 8+12")
    ('AB', (8, 12))
    """
    match = re.fullmatch(r"([A-Z]+) (\d+(?:\+\d+)*)", value.strip())
    if not match or not is_pattern(match.group(1)):
        return None
    pattern = match.group(1)
    parts = len(dict.fromkeys(pattern))
    bars = tuple(int(b) for b in match.group(2).split("+"))
    if len(bars) == 1:
        bars *= parts
    return (pattern, bars) if len(bars) == parts else None


def form_code_next(value: str) -> str:
    """The characters that may follow a part-written ``N:`` value and keep it a form code
    :func:`read_form_code` reads, with a line break once it is one; empty where it can no longer be one.

    The model writes its own code for ``--type reel`` (or with no request at all); a code it wrote
    that named bars for more parts than its pattern has (``AABBCC 4+8+4+8``) or a part of 0 bars held
    its tune to nothing, and the tune ended after 4 bars.

    >>> form_code_next("AAB")
    'BC '
    >>> form_code_next("AB 8+")
    '123456789'
    >>> form_code_next("AB 8+12")
    '\\n'
    """
    pattern, space, counts = value.partition(" ")
    if not space:
        if pattern and not is_pattern(pattern):
            return ""
        if not pattern:
            return "A"
        run = len(pattern) - len(pattern.rstrip(pattern[-1]))
        again = pattern[-1] if run < 2 else ""
        parts = len(set(pattern))
        following = string.ascii_uppercase[parts] if parts < MAX_PARTS else ""
        return again + following + " "
    if not is_pattern(pattern) or not re.fullmatch(r"(?:[1-9]\d*\+)*(?:[1-9]\d*)?", counts):
        return ""
    numbers = counts.split("+")
    last, written = numbers[-1], len(numbers)
    if not last:
        return "123456789"
    parts = len(set(pattern))
    more = ("0123456789" if len(last) < MAX_BAR_DIGITS else "") + ("+" if written < parts else "")
    return more + ("\n" if written in (1, parts) else "")


def too_short_for(tune_type: str, value: str) -> bool:
    """Whether an ``N:`` value names fewer than :data:`DANCE_BARS` bars for a dance (:data:`DANCE_TYPES`).

    >>> too_short_for("reel", "A 6"), too_short_for("reel", "AABB 8"), too_short_for("lied", "A 6")
    (True, False, False)
    """
    code = read_form_code(value)
    dance = any(word in DANCE_TYPES for word in re.split(r"[^a-z]+", tune_type.lower()))
    return dance and code is not None and sum(code[1]) < DANCE_BARS
