"""Read one ABC tune into timed notes, the way ABC 2.1 says it sounds.

The written melody is played: chord symbols, grace notes and decorations
take no time and add no notes. Repeats are unfolded (a ``:|`` without ``|:``
repeats from the last double bar or end of the previous repeat), first and
second endings are honoured, ``P:`` in the header orders the parts,
accidentals carry to the end of the bar, ties join notes (across bar lines
too), and broken rhythm, tuplets, chords, inline fields and multi-bar rests
are understood. Time is counted in whole notes as exact fractions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.keys import (
    parse_fraction,
    parse_tempo,
)
from musicgen.abc.reader import MAX_BODY_CHARS, MAX_TUNE_LENGTH, Measure, Reader, read_line
from musicgen.abc.tunebook import parse_tune
from musicgen.errors import ConversionError

__all__ = [
    "MAX_BODY_CHARS",
    "Bar",
    "Melody",
    "Voice",
    "read_voices",
    "Note",
    "abc_to_melody",
    "expand_parts",
    "read_bar",
    "read_measures",
]


@dataclass(frozen=True)
class Note:
    """One sounding note: start and length in whole notes, MIDI pitch."""

    start: Fraction
    length: Fraction
    pitch: int


@dataclass(frozen=True)
class Bar:
    """One bar in play order: start and length in whole notes, the M: it is written in, the bar line ending it."""

    start: Fraction
    length: Fraction
    meter: str
    line: str = "|"
    repeat: bool = False  # play goes back to the repeat's start after this bar


@dataclass
class Voice:
    """A further voice of a tune (``V:``): its name and notes in play order."""

    name: str
    notes: list[Note]


@dataclass
class Melody:
    """A tune as notes in play order.

    Attributes:
        notes: sorted by start, then pitch.
        tempo_qpm: quarter notes per minute (from Q:, default 120).
        title: the tune's title.
        meter: the M: field as written.
        warnings: what was skipped on the way (stray characters and such).
        key: the K: field as written.
        end: whole notes from the start to the end of the last bar, rests
            included (0 when unknown: then :attr:`length` is the end).
        chords: the chord symbols in play order, as ``(start, text)``
            (annotations too; :mod:`musicgen.abc.chords` reads them).
        bars: the bars in play order (the accompaniment follows them).
        parts: the header's ``P:`` play order, expanded (``AAB``), when the
            tune's parts are played by it; else empty.
        midi: the tune's ``%%MIDI`` accompaniment directives (see
            :class:`musicgen.abc.tunebook.Tune`).
        voices: the tune's further voices (``V:``) after the first, which
            is :attr:`notes`; empty for a tune of one voice.
    """

    notes: list[Note]
    tempo_qpm: float = 120.0
    title: str = ""
    meter: str = ""
    warnings: list[str] = field(default_factory=list)
    key: str = ""
    end: Fraction = Fraction(0)
    chords: list[tuple[Fraction, str]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    parts: str = ""
    midi: dict[str, str] = field(default_factory=dict)
    voices: list[Voice] = field(default_factory=list)

    @property
    def length(self) -> Fraction:
        """Whole notes from the start to the end of the last note."""
        return max((n.start + n.length for n in self.notes), default=Fraction(0))

    def seconds(self, whole_notes: Fraction) -> float:
        """Convert a time in whole notes to seconds at this tempo."""
        return float(whole_notes) * 4 * 60.0 / self.tempo_qpm


def _unfold(measures: list[Measure]) -> list[tuple[Measure, bool]]:
    """Measures in play order, each with whether play goes back after it: repeats taken once,
    first endings skipped on the repeat."""
    played: list[tuple[Measure, bool]] = []
    taken: set[int] = set()
    position, section_start, repeating, skipped_ending = 0, 0, False, False
    while position < len(measures):
        measure = measures[position]
        if repeating and measure.ending == 1:
            position, skipped_ending = position + 1, True
            continue
        if skipped_ending:
            repeating, skipped_ending = False, False
        bar = measure.bar
        goes_back = bar.startswith(":") and position not in taken
        played.append((measure, goes_back))
        if goes_back:
            taken.add(position)
            position, repeating = section_start, True
            continue
        if bar.startswith(":") or bar.endswith(":"):
            # a repeat goes back to the last |: or :|, not to a plain double bar
            section_start, repeating = position + 1, False
        elif measure.ending > 1 and ("||" in bar or "]" in bar):
            # a second ending closed by || or |] ends its part: a later :| repeats the next part only, as a
            # musician plays |:A|1..:|2..||B:| (abc2midi 4.84 goes back to A's |: instead)
            section_start, repeating = position + 1, False
        position += 1
    return played


def expand_parts(order: str) -> str:
    """Expand a P: play order such as ``A2B`` or ``(AB)2C`` into ``AABC`` / ``ABABC``.

    Repeat counts are capped at 16 and the result at 256 parts; unbalanced
    parentheses are dropped.
    """
    text = re.sub(r"[^A-Za-z0-9()]", "", order)[:256]
    group = re.compile(r"\(([A-Za-z0-9]*)\)(\d*)")
    while group.search(text):
        text = group.sub(lambda m: _repeat_parts(m.group(1)) * min(int(m.group(2) or 1), 16), text)[:1024]
    return _repeat_parts(text.replace("(", "").replace(")", ""))[:256]


def _repeat_parts(text: str) -> str:
    return re.sub(r"([A-Za-z])(\d+)", lambda m: m.group(1) * min(int(m.group(2)), 16), text)


def abc_to_melody(abc: str) -> Melody:
    """The notes of one ABC tune in play order.

    Args:
        abc: one tune's ABC text (a tunebook's first tune is used).

    Returns:
        A :class:`Melody`.

    Raises:
        ConversionError: the tune has no notes, or asks for something
            impossible (an unknown key, L:0, M:0/0, absurd lengths); the
            message names the tune and, where it can, the bar.
    """
    from musicgen.errors import MusicgenError

    try:
        tune = parse_tune(abc, voices=True)
    except MusicgenError as error:
        raise ConversionError(str(error)) from None
    name = f"X:{tune.number}" + (f" ({tune.title})" if tune.title else "")
    if len(tune.body) > MAX_BODY_CHARS:
        raise ConversionError(f"{name}: the tune is longer than {MAX_BODY_CHARS:,} characters")
    try:
        return _melody(tune)
    except ConversionError as error:
        raise ConversionError(f"{name}: {error}") from None
    except (ValueError, ZeroDivisionError, OverflowError, RecursionError) as error:
        raise ConversionError(f"{name}: cannot read the tune ({error})") from None


#: What reading impossible ABC can raise (absurd lengths, deep nesting), turned into ConversionError.
_READ_ERRORS = (ValueError, ZeroDivisionError, OverflowError, RecursionError)


def read_measures(tune) -> Reader:
    """Read a tune's body; the reader's ``parts`` hold its measures in written order.

    For a tune of several voices this is the first voice with notes (see :func:`read_voices`).

    Raises:
        ConversionError: the body asks for something impossible.
    """
    return next(iter(read_voices(tune).values()))


def read_voices(tune) -> dict[str, Reader]:
    """Each voice's reader by its ``V:`` name, in the order the voices first sound.

    Music before any ``V:`` line is the voice ``""``. Each voice starts from
    the header's key, meter and unit length. At most :data:`MAX_VOICES`.

    Raises:
        ConversionError: the body asks for something impossible, or has too many voices.
    """
    try:
        readers = {"": Reader(tune.fields)}
        _read_text(readers[""], tune.body, readers, tune.fields)
    except _READ_ERRORS as error:
        raise ConversionError(f"cannot read the tune ({error})") from None
    sounding = {name: reader for name, reader in readers.items() if any(m.events for m in reader.measures)}
    return sounding or {"": readers[""]}


#: The most voices a tune may have (the MIDI channels left for them: 16, less drums, bass and chords).
MAX_VOICES = 13


def _read_text(reader: Reader, text: str, voices: dict[str, Reader] | None = None, fields=None) -> None:
    """Read the lines of ``text``; a ``V:`` line (or a line starting ``[V:..]``) moves to that voice's reader."""
    part = None  # a P: line starts that part in every voice, and in voices that begin later
    for number, line in enumerate(text.split("\n")):
        voice = _VOICE_LINE.match(line)
        if voice and voices is not None:
            name = voice.group(1) or voice.group(2)
            if name not in voices:
                if len(voices) > MAX_VOICES:  # the voice "" and MAX_VOICES named ones
                    raise ConversionError(f"more than {MAX_VOICES} voices")
                voices[name] = Reader(fields or {})
                if part is not None:
                    voices[name].field("P", part)
            reader, line = voices[name], line[voice.end() :] if voice.group(2) else ""
        reader.line = number
        field_line = re.match(r"([A-Za-z]):(.*)", line)
        if field_line and not (field_line.group(1) in "ABCDEFGabcdefg" and field_line.group(2)[:1] in "|:]"):
            letter, value = field_line.groups()
            for each in voices.values() if voices is not None and letter == "P" else [reader]:
                each.field(letter, value)
            part = value if letter == "P" else part
        else:
            read_line(reader, line)


_VOICE_LINE = re.compile(r"V:\s*(\S+).*|\[V:\s*([^\]\s]+)[^\]]*\]")


def read_bar(fields: dict[str, str], text: str) -> tuple[Fraction, Fraction | None, list[str]]:
    """How long a bar that begins with ``text`` is so far, how long the meter's bars are, and what was skipped.

    Lengths in whole notes, read as :func:`read_measures` reads a tune; the
    second is None for a free meter; the warnings are the reader's (a
    broken rhythm over unequal notes, a stray character). ``fields``: the
    tune's header fields (M, L and K are read); field lines and inline
    fields in ``text`` apply.

    Raises:
        ConversionError: the fields or text ask for something impossible.
    """
    meter, unit, key, rhythm = (fields.get(letter, "") for letter in _BAR_FIELDS)
    read = _read_bar_cached if len(text + meter + unit + key + rhythm) <= _CACHED_TEXT else _read_bar
    length, bar_length, warnings = read(meter, unit, key, rhythm, text)
    return length, bar_length, list(warnings)


#: The fields a bar's reading depends on (see :class:`~musicgen.abc.reader.Reader`).
_BAR_FIELDS = "MLKR"

#: A bar whose text and fields are at most this long is read once and remembered (8,192 of them: a few MB
#: at most): the sampler's bar verifier, its form count and its ending ranker read the same bars.
_CACHED_TEXT = 256


def _read_bar(meter: str, unit: str, key: str, rhythm: str, text: str) -> tuple[Fraction, Fraction | None, tuple]:
    """:func:`read_bar` of the fields by letter (``"MLKR"``, empty where not given)."""
    fields = {letter: value for letter, value in zip(_BAR_FIELDS, (meter, unit, key, rhythm)) if value}
    try:
        reader = Reader(fields)
        _read_text(reader, text)
    except _READ_ERRORS as error:
        raise ConversionError(f"cannot read the bar ({error})") from None
    return reader.measure.length, reader.bar_length, tuple(reader.warnings)


_read_bar_cached = functools.lru_cache(maxsize=8192)(_read_bar)


def _part_order(reader: Reader, header_order: str) -> list[str]:
    """The parts a voice plays: the header's ``P:`` order when it names parts, else as written."""
    order = list(reader.parts)
    if header_order and len(order) > 1:
        order = [label for label in header_order if label in reader.parts]
    return order


def _play_order(reader: Reader, order: list[str]) -> Iterator[tuple[Fraction, Measure, bool]]:
    """Each measure as played, with its start in whole notes and whether play goes back after it."""
    time = Fraction(0)
    for label in order:
        for measure, goes_back in _unfold(reader.parts[label]):
            yield time, measure, goes_back
            time += measure.length
            if time > MAX_TUNE_LENGTH:
                raise ConversionError(f"the tune is longer than {MAX_TUNE_LENGTH} whole notes")


def _melody(tune) -> Melody:
    voices = read_voices(tune)
    reader = next(iter(voices.values()))
    header_order = expand_parts(tune.fields.get("P", ""))
    order = _part_order(reader, header_order)
    parts = "".join(order) if header_order and len(reader.parts) > 1 else ""
    notes: list[Note] = []
    bars: list[Bar] = []
    time = Fraction(0)
    chords: list[tuple[Fraction, str]] = []
    for start, measure, goes_back in _play_order(reader, order):
        notes.extend(Note(start + offset, length, pitch) for offset, length, pitch, _ in measure.events)
        chords.extend((start + offset, text) for offset, text in measure.chords)
        bars.append(Bar(start, measure.length, measure.meter, measure.bar, goes_back))
        time = start + measure.length
    if not notes:
        raise ConversionError("the tune has no notes")
    notes.sort(key=lambda n: (n.start, n.pitch))
    unit = parse_fraction(tune.fields.get("L") or "1/8", "L")
    tempo = parse_tempo(tune.fields["Q"], unit) if "Q" in tune.fields else 120.0
    fields = tune.fields
    meter, key = fields.get("M", ""), fields.get("K", "")
    others = [Voice(name, _voice_notes(voice, header_order)) for name, voice in list(voices.items())[1:]]
    melody = Melody(notes, tempo, tune.title, meter, reader.warnings, key, time, chords, bars, parts, dict(tune.midi))
    melody.voices = [voice for voice in others if voice.notes]
    return melody


def _voice_notes(reader: Reader, header_order: str) -> list[Note]:
    """A further voice's notes in play order (its own repeats; the header's P: order if it has parts)."""
    notes = [
        Note(start + offset, length, pitch)
        for start, measure, _ in _play_order(reader, _part_order(reader, header_order))
        for offset, length, pitch, _ in measure.events
    ]
    return sorted(notes, key=lambda n: (n.start, n.pitch))
