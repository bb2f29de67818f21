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

import re
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.keys import (
    ACCIDENTAL,
    is_compound,
    key_signature,
    parse_fraction,
    parse_meter,
    parse_tempo,
)
from musicgen.abc.tunebook import default_unit_length, parse_tune
from musicgen.errors import ConversionError

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)(\d*)(/*)(\d*)")
_REST = re.compile(r"([zxZX])(\d*)(/*)(\d*)")
_BAR = re.compile(r":*\|[\]|:]*|:*\[\|:*|::+")
_ENDING = re.compile(r"\[?([1-9])(?:[,-][1-9])*")
_DECORATION_CHARS = set("~.HLMOPSTuvJR")
#: The longest note or tune (in whole notes) a tune may ask for.
MAX_NOTE_LENGTH = Fraction(64)
MAX_TUNE_LENGTH = Fraction(20000)
#: The longest tune body read, in characters (the corpus's longest is about 2,300):
#: it keeps every tune's conversion and scoring well under a second.
MAX_BODY_CHARS = 10_000
_DEFAULT_TUPLET_Q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}


@dataclass(frozen=True)
class Note:
    """One sounding note: start and length in whole notes, MIDI pitch."""

    start: Fraction
    length: Fraction
    pitch: int


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
    """

    notes: list[Note]
    tempo_qpm: float = 120.0
    title: str = ""
    meter: str = ""
    warnings: list[str] = field(default_factory=list)
    key: str = ""

    @property
    def length(self) -> Fraction:
        """Whole notes from the start to the end of the last note."""
        return max((n.start + n.length for n in self.notes), default=Fraction(0))

    def seconds(self, whole_notes: Fraction) -> float:
        """Convert a time in whole notes to seconds at this tempo."""
        return float(whole_notes) * 4 * 60.0 / self.tempo_qpm


@dataclass
class _Measure:
    events: list[list] = field(default_factory=list)  # [offset, length, pitch], mutable for ties
    length: Fraction = Fraction(0)
    bar: str = ""  # the bar line that ends it
    ending: int = 0  # 1 or 2+ inside a numbered ending


def _length(numerator: str, slashes: str, denominator: str) -> Fraction:
    if len(numerator) > 6 or len(denominator) > 6 or len(slashes) > 16:
        raise ConversionError(f"note length {numerator}{slashes}{denominator} is out of range")
    value = Fraction(int(numerator)) if numerator else Fraction(1)
    if slashes:
        if denominator and int(denominator) == 0:
            raise ConversionError(f"note length {numerator}/{denominator} divides by zero")
        value /= int(denominator) if denominator else 2 ** len(slashes)
    return value


class _Reader:
    """Walks a tune body in written order, building measures."""

    def __init__(self, fields: dict[str, str]):
        self.unit = parse_fraction(fields.get("L") or default_unit_length(fields.get("M", "")), "L")
        self.meter = fields.get("M", "")
        self.bar_length = parse_meter(self.meter)
        self.key = key_signature(fields.get("K", ""))
        self.parts: dict[str, list[_Measure]] = {}
        self.order: list[str] = []
        self.warnings: list[str] = []
        self._start_part("")
        self.bar_accidentals: dict[str, int] = {}
        self.ties: dict[tuple[str, int], list] = {}
        self.pending_broken: tuple | None = None
        self.tuplet: tuple[Fraction, int] | None = None
        self.ending = 0
        self.last: list[list] = []
        self.last_length: Fraction | None = None

    # -- structure ---------------------------------------------------------------
    def _start_part(self, label: str) -> None:
        self.measures: list[_Measure] = []
        self.parts.setdefault(label, self.measures)
        self.measures = self.parts[label]
        self.order.append(label)
        self.measures.append(_Measure())

    @property
    def measure(self) -> _Measure:
        return self.measures[-1]

    def _end_measure(self, bar: str) -> None:
        self.measure.bar = bar
        if self.ending == 1 and bar.startswith(":"):
            self.ending = 0
        elif self.ending > 1 and (bar.startswith(":") or "||" in bar or "]" in bar or bar.endswith(":")):
            self.ending = 0
        self.measures.append(_Measure(ending=self.ending))
        self.bar_accidentals = {}

    def _set_ending(self, number: int) -> None:
        self.ending = number
        self.measure.ending = number

    # -- fields --------------------------------------------------------------------
    def field(self, letter: str, value: str) -> None:
        if letter == "K":
            self.key = key_signature(value)
        elif letter == "L":
            self.unit = parse_fraction(value, "L")
        elif letter == "M":
            self.meter, self.bar_length = value, parse_meter(value)
        elif letter == "P":
            self._start_part(value.strip()[:1])

    # -- notes -----------------------------------------------------------------------
    def _pitch(self, accidental: str | None, letter: str, octaves: str) -> tuple[int, tuple[str, int]]:
        octave = (1 if letter.islower() else 0) + octaves.count("'") - octaves.count(",")
        place = (letter.upper(), octave)
        # an accidental holds for that letter in every octave to the end of the bar, as in abc2midi
        if accidental:
            self.bar_accidentals[letter.upper()] = ACCIDENTAL[accidental]
        shift = self.bar_accidentals.get(letter.upper(), self.key[letter.upper()])
        tied = self.ties.get(place)
        if tied is not None and not accidental:
            return tied[2], place
        return 60 + 12 * octave + _STEP[letter.upper()] + shift, place

    def _scale(self) -> Fraction:
        factor = Fraction(1)
        if self.tuplet is not None:
            ratio, remaining = self.tuplet
            factor *= ratio
            self.tuplet = (ratio, remaining - 1) if remaining > 1 else None
        return factor

    def _place(self, notes: list[tuple[int, tuple[str, int]]], length: Fraction) -> None:
        """Put a note, chord (several pitches) or rest (none) at the cursor."""
        if length > MAX_NOTE_LENGTH:
            raise ConversionError(f"bar {len(self.measures)}: a note of {length} whole notes is too long")
        measure, placed = self.measure, []
        for pitch, place in notes:
            tied = self.ties.get(place)
            if tied is not None and tied[2] == pitch:
                tied[1] += length  # a tie lengthens the earlier note
                placed.append(tied)
                continue
            event = [measure.length, length, pitch, place]
            measure.events.append(event)
            placed.append(event)
        self.ties = {}  # a tie reaches only the next note or chord
        measure.length += length
        self.last, self.last_length = placed, length

    def note_or_chord(self, pitches: list[tuple[int, tuple[str, int]]], length: Fraction) -> None:
        if self.pending_broken is not None:
            length = self._apply_broken(length)
        self._place(pitches, length * self._scale())

    def tie(self) -> None:
        for event in self.last:
            self.ties[event[3]] = event

    def broken_rhythm(self, marks: str) -> None:
        """``a>b``: applied when the next note comes, if both are written equally long or the first is a
        chord (abc2midi lengthens a chord and shortens the note after it whatever their lengths)."""
        if self.last_length is None:
            self.warnings.append(f"bar {len(self.measures)}: broken rhythm after nothing")
            return
        self.pending_broken = (marks, self.last, self.last_length)

    def _apply_broken(self, length: Fraction) -> Fraction:
        """Lengthen or shorten the previous note and return this one's length."""
        assert self.pending_broken is not None  # only called with a broken rhythm pending
        marks, previous, previous_length = self.pending_broken
        self.pending_broken = None
        after_chord = len(previous) > 1
        if not after_chord and previous_length != length * (self.tuplet[0] if self.tuplet else 1):
            self.warnings.append(f"bar {len(self.measures)}: broken rhythm over unequal notes ignored")
            return length
        short = Fraction(1, 2 ** len(marks))
        first, second = (2 - short, short) if marks[0] == ">" else (short, 2 - short)
        change = previous_length * first - previous_length
        self.measure.length += change
        for event in previous:
            event[1] += change
        return length * second

    def start_tuplet(self, p: int, q: int | None, r: int | None) -> None:
        if p < 2 or p > 9:
            self.warnings.append(f"bar {len(self.measures)}: tuplet ({p} ignored")
            return
        q = q or _DEFAULT_TUPLET_Q.get(p, 3 if is_compound(self.meter) else 2)
        self.tuplet = (Fraction(q, p), r or p)


def _skip_to(body: str, index: int, closer: str) -> int:
    end = body.find(closer, index + 1)
    return len(body) if end < 0 else end + 1


def _read_chord(reader: _Reader, body: str, index: int) -> int:
    """Read ``[CEG]2`` starting at the ``[``; returns the index after it."""
    pitches, first_length, i = [], None, index + 1
    while i < len(body) and body[i] != "]":
        match = _NOTE.match(body, i)
        if match:
            pitches.append(reader._pitch(match.group(1), match.group(2), match.group(3)))
            if first_length is None:
                first_length = _length(match.group(4), match.group(5), match.group(6))
            i = match.end()
        elif body[i] in "!+" and (decoration := DECORATION.match(body, i)):
            i = decoration.end()
        elif body[i] == '"':
            i = _skip_to(body, i, '"')
        else:
            i += 1  # ties, decorations and spaces inside a chord
    tied_inside = "-" in body[index:i]
    multiplier = _REST_LENGTH.match(body, i + 1)
    factor = _length(*multiplier.groups()) if multiplier and multiplier.group() else Fraction(1)
    i = multiplier.end() if multiplier else i + 1
    if pitches:
        reader.note_or_chord(pitches, reader.unit * (first_length or 1) * factor)
        if tied_inside:
            reader.tie()
    return i


#: A decoration such as ``!trill!`` or ``+fermata+``; a lone ``!`` is an old line break.
DECORATION = re.compile(r"!([^!\s|]*)!|\+([^+\s|]*)\+")
_REST_LENGTH = re.compile(r"(\d*)(/*)(\d*)")
_INLINE_FIELD = re.compile(r"\[([KLMPQIVNRTmrw]):([^\]\n]*)\]")
_TUPLET = re.compile(r"\((\d)(?::(\d*))?(?::(\d*))?")


def _read_line(reader: _Reader, line: str) -> None:
    """Read one line of music."""
    i = 0
    while i < len(line):
        char = line[i]
        match = _BAR.match(line, i) if char in "|:[" else None
        if match and (char != "[" or line.startswith("[|", i)):
            bar = match.group()
            reader._end_measure(bar)
            i = match.end()
            ending = _ENDING.match(line, i)
            if ending and not line.startswith("[", i) or (ending and line[i : i + 1] == "["):
                reader._set_ending(int(ending.group(1)))
                i = ending.end()
            continue
        if char == "[":
            field_match = _INLINE_FIELD.match(line, i)
            ending = _ENDING.match(line, i)
            if field_match:
                reader.field(field_match.group(1), field_match.group(2))
                i = field_match.end()
            elif ending and ending.group().startswith("["):
                reader._set_ending(int(ending.group(1)))
                i = ending.end()
            else:
                i = _read_chord(reader, line, i)
            continue
        note = _NOTE.match(line, i)
        if note:
            pitch = reader._pitch(note.group(1), note.group(2), note.group(3))
            reader.note_or_chord([pitch], reader.unit * _length(*note.groups()[3:]))
            i = note.end()
            continue
        rest = _REST.match(line, i)
        if rest:
            count = _length(*rest.groups()[1:])
            if rest.group(1) in "ZX":
                length = (reader.bar_length or reader.unit) * count
            else:
                length = reader.unit * count
            reader.note_or_chord([], length)
            i = rest.end()
            continue
        if char in "<>":
            marks = re.match(r"<+|>+", line[i:]).group()  # type: ignore[union-attr]  # char is < or >
            reader.broken_rhythm(marks)
            i += len(marks)
        elif char == "(":
            tuplet = _TUPLET.match(line, i)
            if tuplet:
                _, q, r = (int(g) if g else None for g in tuplet.groups())
                reader.start_tuplet(int(tuplet.group(1)), q, r)
                i = tuplet.end()
            else:
                i += 1
        elif char == "-":
            reader.tie()
            i += 1
        elif char == '"':
            i = _skip_to(line, i, '"')
        elif char in "!+":
            decoration = DECORATION.match(line, i)
            i = decoration.end() if decoration else i + 1  # a lone "!" is an old line break
        elif char == "{":
            i = _skip_to(line, i, "}")
        elif char == "&":
            next_bar = line.find("|", i)
            i = len(line) if next_bar < 0 else next_bar  # overlaid voices are not played
        elif char in _DECORATION_CHARS or char in " \t\\)`y$*;":
            i += 1
        else:
            reader.warnings.append(f"bar {len(reader.measures)}: skipped {char!r}")
            i += 1


def _unfold(measures: list[_Measure]) -> list[_Measure]:
    """Measures in play order: repeats taken once, first endings skipped on the repeat."""
    played, taken = [], set()
    position, section_start, repeating, skipped_ending = 0, 0, False, False
    while position < len(measures):
        measure = measures[position]
        if repeating and measure.ending == 1:
            position, skipped_ending = position + 1, True
            continue
        if skipped_ending:
            repeating, skipped_ending = False, False
        played.append(measure)
        bar = measure.bar
        if bar.startswith(":") and position not in taken:
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
        tune = parse_tune(abc)
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


def read_measures(tune) -> _Reader:
    """Read a tune's body; the reader's ``parts`` hold its measures in written order.

    Raises:
        ConversionError: the body asks for something impossible.
    """
    try:
        return _read_body(tune)
    except _READ_ERRORS as error:
        raise ConversionError(f"cannot read the tune ({error})") from None


def _read_body(tune) -> _Reader:
    reader = _Reader(tune.fields)
    _read_text(reader, tune.body)
    return reader


def _read_text(reader: _Reader, text: str) -> None:
    for line in text.split("\n"):
        field_line = re.match(r"([A-Za-z]):(.*)", line)
        if field_line and not (field_line.group(1) in "ABCDEFGabcdefg" and field_line.group(2)[:1] in "|:]"):
            reader.field(field_line.group(1), field_line.group(2))
        else:
            _read_line(reader, line)


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
    try:
        reader = _Reader(fields)
        _read_text(reader, text)
    except _READ_ERRORS as error:
        raise ConversionError(f"cannot read the bar ({error})") from None
    return reader.measure.length, reader.bar_length, reader.warnings


def _melody(tune) -> Melody:
    reader = read_measures(tune)
    order = list(reader.parts)
    header_order = expand_parts(tune.fields.get("P", ""))
    if header_order and len(order) > 1:
        order = [label for label in header_order if label in reader.parts]
    notes, time = [], Fraction(0)
    for label in order:
        for measure in _unfold(reader.parts[label]):
            for offset, length, pitch, _ in measure.events:
                notes.append(Note(time + offset, length, pitch))
            time += measure.length
            if time > MAX_TUNE_LENGTH:
                raise ConversionError(f"the tune is longer than {MAX_TUNE_LENGTH} whole notes")
    if not notes:
        raise ConversionError("the tune has no notes")
    notes.sort(key=lambda n: (n.start, n.pitch))
    unit = parse_fraction(tune.fields.get("L") or "1/8", "L")
    tempo = parse_tempo(tune.fields["Q"], unit) if "Q" in tune.fields else 120.0
    return Melody(notes, tempo, tune.title, tune.fields.get("M", ""), reader.warnings, tune.fields.get("K", ""))
