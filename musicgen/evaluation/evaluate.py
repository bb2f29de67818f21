"""Score a tunebook: well-formed, bar lengths, key, structure, novelty, population.

Every metric is computed per tune and summarised over the book; see
:func:`evaluate_tunes`. Novelty compares against a reference corpus (by
default the training split of the default corpus).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from musicgen.abc.form import tune_form
from musicgen.abc.keys import LETTER_SEMITONES, key_signature, parse_meter
from musicgen.abc.melody import MAX_BODY_CHARS, Melody
from musicgen.abc.transpose import move_tunes
from musicgen.abc.tunebook import Tune
from musicgen.errors import MusicgenError

logger = logging.getLogger(__name__)

_BAR_SPLIT = re.compile(r":*\|[\]|:]*[0-9]?|:*\[\|:*|::+|\[[0-9]")
MIN_BAR_CHARS = 6


@dataclass
class TuneScore:
    """The figures for one tune (None where a figure does not apply)."""

    number: int
    title: str
    has_headers: bool = False
    converts: bool = False
    error: str = ""
    abc2midi_errors: int | None = None
    bars_checked: int = 0
    bar_consistency: float | None = None  # share of bars_checked exactly of the meter's length
    bars_filled: float | None = None  # the same, a part's short last bar counted when a pickup completes it
    ends_on_tonic: bool = False
    in_scale: float | None = None
    repeats: bool = False
    sections: int = 0
    bars_per_section: float | None = None
    ends_cleanly: bool = False
    form: str = ""  # parts and bars of each, as musicgen.abc.form counts them: "AABB 8+8"
    parts: int = 0
    bars_in_all: int = 0
    dance_form: bool = False  # two or more parts, each of 8 or 16 bars
    bars_written: int = 0  # bars with notes, as written (repeats not unfolded)
    bars_repeated: int = 0  # of those, bars that are an earlier bar of the same tune, note for note
    tune_type: str = ""
    verbatim_bars: float | None = None
    longest_shared_run: int = 0
    nearest: str = ""
    nearest_distance: float | None = None


#: An ABC meter: none, C, C|, N/D, or a sum such as 2+3/8 or (2+3)/8.
METER = re.compile(r"none|C\|?|\(?\d{1,3}(?:\+\d{1,3})*\)?/\d{1,3}", re.IGNORECASE)


def valid_header(fields: dict[str, str]) -> bool:
    """Whether a tune has M: and K: fields with values ABC can read (and L:, when given).

    ``M:rone`` or ``L:hirten - lied`` (a song's text in the wrong field) is not a header a player can use.
    """
    from musicgen.abc.keys import key_signature, parse_fraction

    if "M" not in fields or "K" not in fields or not METER.fullmatch(fields["M"].strip()):
        return False
    try:
        key_signature(fields["K"])
        if "L" in fields:
            parse_fraction(fields["L"], "L")
    except MusicgenError:
        return False
    return True


def bar_texts(body: str) -> list[str]:
    """The bars of a body as written, whitespace removed, in order."""
    lines = [line for line in body.split("\n") if not re.match(r"[A-Za-z]:", line)]
    text = re.sub(r"\s+", "", " ".join(lines).replace("\\", ""))
    return [bar for bar in _BAR_SPLIT.split(text) if bar]


def _tonic_pitch_class(key: str) -> int | None:
    match = re.match(r"\s*([A-G])([#b]?)", key)
    if not match:
        return None
    return (LETTER_SEMITONES[match.group(1)] + {"#": 1, "b": -1, "": 0}[match.group(2)]) % 12


def last_note_is_tonic(melody: Melody, key: str) -> bool:
    """Whether a melody's last note played is the tonic of ``key`` (False without notes or a tonic)."""
    return bool(melody.notes) and melody.notes[-1].pitch % 12 == _tonic_pitch_class(key)


def _scale(key: str) -> set[int]:
    signature = key_signature(key)
    return {(LETTER_SEMITONES[letter] + shift) % 12 for letter, shift in signature.items()}


def _measures(tune: Tune):
    """Written measures with their lengths, via the melody reader."""
    from musicgen.abc.melody import read_measures

    reader = read_measures(tune)
    return [m for part in reader.parts.values() for m in part if m.events or m.length]


def _ends_part(measure) -> bool:
    """Whether a measure's bar line ends a part or a repeat (``:|``, ``::``, ``||``, ``|]``, a first ending)."""
    return ":" in measure.bar or "||" in measure.bar or "]" in measure.bar or measure.ending == 1


def _completed(measures, at: int, bar_length, pickup) -> bool:
    """Whether a short measure at a part's edge is made whole by the pickup on the other side.

    ``EFG G2 :| G | GAG ...`` in 6/8: the last bar of a part and the next
    part's pickup (or, for a repeat or a first ending, the tune's own pickup)
    sound as one bar, as real tunebooks write them.
    """
    measure, before, after = measures[at], measures[at - 1], measures[at + 1]
    if _ends_part(measure) and bar_length in (measure.length + after.length, measure.length + pickup):
        return True
    return _ends_part(before) and before.length + measure.length == bar_length


def _bar_consistency(tune: Tune) -> tuple[int, float | None, float | None]:
    """Bars judged (all but the first and last), the share of the meter's length, and the share counting pickups."""
    bar_length = parse_meter(tune.fields.get("M", ""))
    measures = _measures(tune)
    if bar_length is None or len(measures) < 3:
        return 0, None, None
    pickup = measures[0].length if measures[0].length < bar_length else 0
    inner = range(1, len(measures) - 1)  # not the pickup and not the last bar
    exact = [measures[at].length == bar_length for at in inner]
    filled = [full or _completed(measures, at, bar_length, pickup) for at, full in zip(inner, exact)]
    return len(exact), sum(exact) / len(exact), sum(filled) / len(filled)


def _structure(tune: Tune, score: TuneScore) -> None:
    body = tune.body
    score.repeats = ":|" in body or "|:" in body or "::" in body
    ends = re.findall(r":\||\|\]|\|\||::", body)
    score.sections = max(1, len(ends))
    score.bars_per_section = len(bar_texts(body)) / score.sections
    score.ends_cleanly = bool(re.search(r"(:\||\|\]|\|\|)[\s!\\]*$", body))
    form = tune_form(body, tune.fields)
    score.form, score.parts, score.bars_in_all, score.dance_form = (
        form.describe(),
        len(form.parts),
        form.bars,
        form.dance_form,
    )
    score.tune_type = " ".join(tune.fields.get("R", "").lower().split()) or "none"
    score.bars_written, score.bars_repeated = repeated_bars(body)


def repeated_bars(body: str) -> tuple[int, int]:
    """(bars with notes, how many of them repeat an earlier bar of the tune note for note).

    Real tunebooks repeat 13-24% of their bars within a tune (a phrase comes back, a part ends as the
    last did); bars are compared as written, so a repeat sign is not counted as repeated bars.
    """
    seen: set[str] = set()
    bars = repeated = 0
    for bar in bar_texts(body):
        music = re.sub(r'"[^"]*"|![^!]*!', "", bar)
        if not re.search(r"[A-Ga-g]", music):
            continue
        bars += 1
        repeated += music in seen
        seen.add(music)
    return bars, repeated


def abc2midi_error_count(abc: str) -> int | None:
    """Errors abc2midi reports for a tune, or None where abc2midi is not installed.

    abc2midi runs bounded (see :mod:`musicgen.evaluation.abc2midi`); a crash or a
    time-out counts as an error of the tune.
    """
    from musicgen.evaluation.abc2midi import available, run_abc2midi

    if not available():
        return None
    run = run_abc2midi(abc, "-c")
    if run.failure:
        logger.warning("%s", run.failure)
    return run.errors


def score_tune(tune: Tune, use_abc2midi: bool = True) -> TuneScore:
    """Every per-tune figure except novelty (see :class:`NoveltyIndex`)."""
    from musicgen.abc.melody import abc_to_melody

    score = TuneScore(tune.number, tune.title)
    score.has_headers = valid_header(tune.fields)
    try:
        melody = abc_to_melody(tune.abc)
        score.converts = True
    except MusicgenError as error:
        score.error = str(error)
        melody = None
    if use_abc2midi:
        score.abc2midi_errors = abc2midi_error_count(tune.abc)
    if len(tune.body) > MAX_BODY_CHARS:
        return score  # too long to read: counted as not converting
    try:
        score.bars_checked, score.bar_consistency, score.bars_filled = _bar_consistency(tune)
        scale = _scale(tune.key)
    except MusicgenError:
        scale = None
    if melody is not None and melody.notes and scale is not None:
        score.ends_on_tonic = last_note_is_tonic(melody, tune.key)
        score.in_scale = sum(n.pitch % 12 in scale for n in melody.notes) / len(melody.notes)
    _structure(tune, score)
    return score


class NoveltyIndex:
    """The bars of reference tunes, to find what a tune copies."""

    def __init__(self, tunes: list[Tune], progress: bool = False):
        from tqdm import tqdm

        self.tunes = tunes
        self.bars, self.grams = [], []
        self.where: dict[str, list[tuple[int, int]]] = {}
        for index, tune in enumerate(
            tqdm(tunes, desc="indexing training tunes", unit="tune", disable=not progress, dynamic_ncols=True)
        ):
            bars = bar_texts(tune.body)
            self.bars.append(bars)
            for position, bar in enumerate(bars):
                if len(bar) >= MIN_BAR_CHARS:
                    self.where.setdefault(bar, []).append((index, position))
            self.grams.append(_grams(tune.body))

    def score(self, tune: Tune, score: TuneScore) -> None:
        bars = bar_texts(tune.body)
        long_bars = [b for b in bars if len(b) >= MIN_BAR_CHARS]
        score.verbatim_bars = (sum(b in self.where for b in long_bars) / len(long_bars)) if long_bars else None
        score.longest_shared_run = self._longest_run(bars)
        if len(tune.body) > MAX_BODY_CHARS:
            return
        nearest, distance = self._nearest(tune)
        if nearest is not None:
            score.nearest = f"{nearest.source} X:{nearest.number} {nearest.title}".strip()
            score.nearest_distance = distance

    def _longest_run(self, bars: list[str]) -> int:
        best = 0
        runs: dict[tuple[int, int], int] = {}  # (training tune, bar position) -> shared bars ending there
        for bar in bars:
            new_runs = {}
            for index, position in self.where.get(bar, []) if len(bar) >= MIN_BAR_CHARS else []:
                new_runs[(index, position)] = runs.get((index, position - 1), 0) + 1
            runs = new_runs
            best = max([best, *runs.values()])
        return best

    def _nearest(self, tune: Tune) -> tuple[Tune | None, float | None]:
        grams = _grams(tune.body)
        if not grams or not self.tunes:
            return None, None
        ranked = sorted(
            range(len(self.tunes)), key=lambda i: -len(grams & self.grams[i]) / (len(grams | self.grams[i]) or 1)
        )[:3]
        scored = [
            (_edit_distance(tune.body, self.tunes[i].body) / max(len(tune.body), len(self.tunes[i].body), 1), i)
            for i in ranked
        ]
        distance, index = min(scored)
        return self.tunes[index], distance


def _grams(text: str, size: int = 4) -> set[str]:
    text = re.sub(r"\s+", "", text)
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, row by row."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


@dataclass
class Population:
    """Histograms of a tunebook, for comparing with a reference."""

    meters: Counter = field(default_factory=Counter)
    keys: Counter = field(default_factory=Counter)
    note_lengths: Counter = field(default_factory=Counter)
    pitch_ranges: Counter = field(default_factory=Counter)
    forms: Counter = field(default_factory=Counter)

    def add(self, tune: Tune) -> None:
        from musicgen.abc.melody import abc_to_melody

        self.meters[tune.fields.get("M", "none")] += 1
        # a body too long to score is left unread here too (as by score_tune): bounded time per tune
        self.forms[
            tune_form(tune.body, tune.fields).describe() if len(tune.body) <= MAX_BODY_CHARS else "too long"
        ] += 1
        self.keys[tune.key.split()[0] if tune.key.split() else "none"] += 1
        try:
            melody = abc_to_melody(tune.abc)
        except MusicgenError:
            return
        for note in melody.notes:
            self.note_lengths[str(note.length)] += 1
        pitches = [n.pitch for n in melody.notes]
        self.pitch_ranges[(max(pitches) - min(pitches)) // 3 * 3] += 1


def overlap(a: Counter, b: Counter) -> float | None:
    """Histogram overlap: the sum of the smaller share of each value (1 is identical)."""
    total_a, total_b = sum(a.values()), sum(b.values())
    if not total_a or not total_b:
        return None
    return sum(min(a[k] / total_a, b[k] / total_b) for k in set(a) | set(b))


def evaluate_tunes(
    tunes: list[Tune],
    reference: list[Tune] | None = None,
    novelty: NoveltyIndex | None = None,
    use_abc2midi: bool = True,
    progress: bool = False,
) -> dict:
    """Per-tune scores and the book's summary.

    Args:
        tunes: the tunes to score.
        reference: tunes for the population comparison (``--against``).
        novelty: an index of training tunes for the novelty figures.
        use_abc2midi: count abc2midi errors where it is installed.
        progress: show a progress bar of scored tunes on stderr.

    Returns:
        ``{"tunes": [TuneScore as dict...], "summary": {...}}``.
    """
    from tqdm import tqdm

    scores = []
    for tune in tqdm(tunes, desc="scoring", unit="tune", disable=not progress, dynamic_ncols=True):
        score = score_tune(tune, use_abc2midi)
        if novelty is not None:
            novelty.score(tune, score)
        scores.append(score)
    summary = summarise(scores)
    if reference is not None:
        mine, theirs = Population(), Population()
        for tune in tunes:
            mine.add(tune)
        for tune in reference:
            theirs.add(tune)
        for name in ("meters", "keys", "note_lengths", "pitch_ranges", "forms"):
            summary[f"overlap_{name}"] = overlap(getattr(mine, name), getattr(theirs, name))
    return {"tunes": [asdict(s) for s in scores], "summary": summary}


def any_key_index(training: list[Tune]) -> NoveltyIndex:
    """A novelty index of the training tunes moved to C, for :func:`novelty_in_any_key`."""
    return NoveltyIndex(move_tunes(training, "C"))


def novelty_in_any_key(tunes: list[Tune], index: NoveltyIndex) -> dict:
    """Verbatim bars, tunes sharing 4+ bars and whole copies with every tune moved to C.

    A bar copied into another key counts as copied here, unlike in
    :func:`evaluate_tunes`. ``index`` comes from :func:`any_key_index`;
    tunes whose key has no plain tonic are left out.
    """
    summary = evaluate_tunes(move_tunes(tunes, "C"), None, index, use_abc2midi=False)["summary"]
    return {key: summary[key] for key in ("verbatim_bars", "shares_4_bars", "copies_whole_tune")}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def summarise(scores: list[TuneScore]) -> dict:
    """Book-level figures: shares of tunes and means of per-tune figures."""
    count = len(scores)
    checked = [s for s in scores if s.abc2midi_errors is not None]
    bars = sum(s.bars_checked for s in scores)
    consistent = sum(s.bar_consistency * s.bars_checked for s in scores if s.bar_consistency is not None)
    filled = sum(s.bars_filled * s.bars_checked for s in scores if s.bars_filled is not None)
    verbatim = [s for s in scores if s.verbatim_bars is not None]
    return {
        "tunes": count,
        "well_formed": sum(s.has_headers and s.converts for s in scores) / count if count else None,
        "converts": sum(s.converts for s in scores) / count if count else None,
        "no_abc2midi_errors": sum(s.abc2midi_errors == 0 for s in checked) / len(checked) if checked else None,
        "bar_consistency": consistent / bars if bars else None,
        "bars_filled": filled / bars if bars else None,
        "ends_on_tonic": sum(s.ends_on_tonic for s in scores) / count if count else None,
        "in_scale": _mean(s.in_scale for s in scores),
        "repeats": sum(s.repeats for s in scores) / count if count else None,
        "bars_per_section": _mean(s.bars_per_section for s in scores),
        "ends_cleanly": sum(s.ends_cleanly for s in scores) / count if count else None,
        "bars_repeated": (
            sum(s.bars_repeated for s in scores) / sum(s.bars_written for s in scores)
            if any(s.bars_written for s in scores)
            else None
        ),
        "verbatim_bars": _mean(s.verbatim_bars for s in verbatim) if verbatim else None,
        "shares_4_bars": (sum(s.longest_shared_run >= 4 for s in verbatim) / len(verbatim)) if verbatim else None,
        "copies_whole_tune": (sum(s.nearest_distance == 0 for s in verbatim) / len(verbatim)) if verbatim else None,
        "nearest_distance": _mean(s.nearest_distance for s in verbatim) if verbatim else None,
        **form_summary(scores),
    }


def form_summary(scores: list[TuneScore]) -> dict:
    """Shares of forms: dance form (two or more parts of 8 or 16 bars), one part, under 8 bars; by tune type."""
    count = len(scores)
    if not count:
        return {"dance_form": None, "one_part": None, "under_8_bars": None, "forms": {}, "dance_form_by_type": {}}
    forms = Counter(s.form for s in scores)
    types = Counter(s.tune_type for s in scores)
    return {
        "dance_form": sum(s.dance_form for s in scores) / count,
        "one_part": sum(s.parts == 1 for s in scores) / count,
        "under_8_bars": sum(s.bars_in_all < 8 for s in scores) / count,
        "forms": {form: n / count for form, n in forms.most_common(8)},
        "dance_form_by_type": {
            kind: sum(s.dance_form for s in scores if s.tune_type == kind) / n for kind, n in types.most_common(8)
        },
    }
