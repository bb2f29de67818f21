"""The ABC reader: one tune body, character by character, into measures of timed notes.

:mod:`musicgen.abc.melody` drives it and unfolds the measures into play order.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.keys import (
    ACCIDENTAL,
    LETTER_SEMITONES,
    is_compound,
    key_signature,
    parse_fraction,
    parse_meter,
)
from musicgen.abc.tunebook import default_unit_length
from musicgen.errors import ConversionError

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


@dataclass
class Measure:
    events: list[list] = field(default_factory=list)  # [offset, length, pitch], mutable for ties
    length: Fraction = Fraction(0)
    bar: str = ""  # the bar line that ends it
    ending: int = 0  # 1 or 2+ inside a numbered ending
    meter: str = ""  # the M: in force where the measure starts
    chords: list[tuple[Fraction, str]] = field(default_factory=list)  # (offset, chord symbol as written)
    onsets: list[tuple[Fraction, int, int]] = field(default_factory=list)  # (offset, line, column) of new notes


@functools.lru_cache(maxsize=1024)
def note_length(numerator: str, slashes: str, denominator: str) -> Fraction:
    """A note's written length in units of ``L:`` (``3/2``, ``/``, ``//``); cached, as tunes repeat a few."""
    if len(numerator) > 6 or len(denominator) > 6 or len(slashes) > 16:
        raise ConversionError(f"note length {numerator}{slashes}{denominator} is out of range")
    value = Fraction(int(numerator)) if numerator else Fraction(1)
    if slashes:
        if denominator and int(denominator) == 0:
            raise ConversionError(f"note length {numerator}/{denominator} divides by zero")
        value /= int(denominator) if denominator else 2 ** len(slashes)
    return value


class Reader:
    """Walks a tune body in written order, building measures."""

    def __init__(self, fields: dict[str, str]):
        self.unit = parse_fraction(fields.get("L") or default_unit_length(fields.get("M", "")), "L")
        self.meter = fields.get("M", "")
        self.bar_length = parse_meter(self.meter)
        self.key = key_signature(fields.get("K", ""))
        self.parts: dict[str, list[Measure]] = {}
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
        self.pending_chords: list[str] = []  # symbols written before the next note
        # A staccato or fermata read before the next note; the last note had one. abc2midi plays either by
        # changing the note's length before it applies a broken rhythm, so it may not mark one note of a pair.
        self.marked = self.last_marked = False
        self.hornpipe_length = hornpipe_pair_length(fields)
        self.last_single: tuple[Fraction, bool] | None = None  # (length, marked) of the last lone note
        self.paired = False  # the last note was swung with the one before it, as abc2midi plays a hornpipe
        self.line, self.column = 0, 0  # where in the body the reader is (line index, character)

    # -- structure ---------------------------------------------------------------
    def _start_part(self, label: str) -> None:
        self.measures: list[Measure] = []
        self.parts.setdefault(label, self.measures)
        self.measures = self.parts[label]
        self.order.append(label)
        self.measures.append(Measure(meter=self.meter))

    @property
    def measure(self) -> Measure:
        return self.measures[-1]

    def _end_measure(self, bar: str) -> None:
        self._place_chords()
        self.measure.bar = bar
        if self.ending == 1 and bar.startswith(":"):
            self.ending = 0
        elif self.ending > 1 and (bar.startswith(":") or "||" in bar or "]" in bar or bar.endswith(":")):
            self.ending = 0
        self.measures.append(Measure(ending=self.ending, meter=self.meter))
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
            if self.measure.length == 0:
                self.measure.meter = value  # a new meter at a bar line rules that bar
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
        return 60 + 12 * octave + LETTER_SEMITONES[letter.upper()] + shift, place

    def _in_tuplet(self, length: Fraction) -> Fraction:
        """A note's length inside the tuplet under way, without counting it off (see :meth:`_scale`)."""
        return length * self.tuplet[0] if self.tuplet else length

    def _scale(self, length: Fraction) -> Fraction:
        """A note's length inside the tuplet under way (counting it off), or as it is outside one."""
        if self.tuplet is None:
            return length
        ratio, remaining = self.tuplet
        self.tuplet = (ratio, remaining - 1) if remaining > 1 else None
        return length * ratio

    def _place(self, notes: list[tuple[int, tuple[str, int]]], length: Fraction) -> None:
        """Put a note, chord (several pitches) or rest (none) at the cursor."""
        if length > MAX_NOTE_LENGTH:
            raise ConversionError(f"bar {len(self.measures)}: a note of {length} whole notes is too long")
        self._place_chords()
        measure, placed, new = self.measure, [], len(self.measure.events)
        for pitch, place in notes:
            tied = self.ties.get(place)
            if tied is not None and tied[2] == pitch:
                tied[1] += length  # a tie lengthens the earlier note
                placed.append(tied)
                continue
            event = [measure.length, length, pitch, place]
            measure.events.append(event)
            placed.append(event)
        if self.ties and len(measure.events) - new == len(notes):  # no tied pitch goes on: abc2midi's error
            self.warnings.append(f"bar {len(self.measures)}: tie to a note that does not go on with its pitch")
        if len(measure.events) > new:  # a note starts here (not only tied ones going on)
            measure.onsets.append((measure.length, self.line, self.column))
        self.ties = {}  # a tie reaches only the next note or chord
        measure.length += length
        self.last, self.last_length = placed, length

    def chord_symbol(self, text: str) -> None:
        """A ``"G"`` written before a note: it sounds where that note starts."""
        self.pending_chords.append(text)

    def _place_chords(self) -> None:
        if self.pending_chords:
            self.measure.chords.extend((self.measure.length, text) for text in self.pending_chords)
            self.pending_chords = []

    def note_or_chord(self, pitches: list[tuple[int, tuple[str, int]]], length: Fraction) -> None:
        marked, self.marked = self.marked, False
        self.paired = False
        if self.pending_broken is not None:
            length = self._apply_broken(length, marked)
        elif self.hornpipe_length is not None:
            self._hornpipe_pair(pitches, self._in_tuplet(length), marked)
        if pitches:
            self.last_marked = marked
        self._place(pitches, self._scale(length))

    def _hornpipe_pair(self, pitches: list, length: Fraction, marked: bool) -> None:
        """abc2midi plays a hornpipe's equal notes of :func:`hornpipe_pair_length` as ``a>b`` where the second
        falls off the beat; a staccato or fermata on one of the two only is a broken rhythm error to it."""
        if len(pitches) != 1:  # a rest leaves the last note as it was; a chord ends the pairing
            self.last_single = None if pitches else self.last_single
            return
        last, self.last_single = self.last_single, (length, marked)
        off_beat = self.measure.length.denominator == self.hornpipe_length.denominator  # type: ignore[union-attr]
        self.paired = last is not None and last[0] == length == self.hornpipe_length and off_beat
        if self.paired and last[1] != marked:  # type: ignore[index]  # paired only after a last note
            self.warnings.append(f"bar {len(self.measures)}: hornpipe broken rhythm over a marked note and a plain one")

    def tie(self) -> None:
        if not self.last:  # abc2midi: "Cannot find note before tie"
            self.warnings.append(f"bar {len(self.measures)}: tie after a rest or nothing, with no note to tie")
        for event in self.last:
            self.ties[event[3]] = event

    def broken_rhythm(self, marks: str) -> None:
        """``a>b``: applied when the next note comes, if both are written equally long or the first is a
        chord (abc2midi lengthens a chord and shortens the note after it whatever their lengths)."""
        if self.last_length is None:
            self.warnings.append(f"bar {len(self.measures)}: broken rhythm after nothing")
            return
        if self.paired:  # abc2midi has already shortened the note as the second of a hornpipe pair
            self.warnings.append(f"bar {len(self.measures)}: hornpipe broken rhythm after a note it pairs already")
        self.pending_broken = (marks, self.last, self.last_length)

    def _apply_broken(self, length: Fraction, marked: bool) -> Fraction:
        """Lengthen or shorten the previous note and return this one's length."""
        assert self.pending_broken is not None  # only called with a broken rhythm pending
        marks, previous, previous_length = self.pending_broken
        self.pending_broken = None
        after_chord = len(previous) > 1
        if not after_chord and previous_length != self._in_tuplet(length):
            self.warnings.append(f"bar {len(self.measures)}: broken rhythm over unequal notes ignored")
            return length
        if not after_chord and marked != self.last_marked:
            self.warnings.append(
                f"bar {len(self.measures)}: broken rhythm over a marked note (staccato, fermata) and a plain one"
            )
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
        if self.tuplet is not None:  # abc2midi refuses it; the new one is read in its place
            self.warnings.append(f"bar {len(self.measures)}: nested tuplet ({p} inside one under way")
        q = q or _DEFAULT_TUPLET_Q.get(p, 3 if is_compound(self.meter) else 2)
        self.tuplet = (Fraction(q, p), r or p)


#: A tune-type line abc2midi plays as a hornpipe, and the note length it pairs there in each meter.
_HORNPIPE = re.compile(r"\s*hornpipe", re.IGNORECASE)
_HORNPIPE_PAIRS = {"2/4": Fraction(1, 16), "4/4": Fraction(1, 8), "C": Fraction(1, 8)}


def hornpipe_pair_length(fields: dict[str, str]) -> Fraction | None:
    """The notes (in whole notes) abc2midi plays in swung pairs for a tune's ``R:`` and ``M:``, or None.

    ``R:hornpipe`` in 4/4 pairs eighth notes, in 2/4 sixteenths (in any other meter it is an
    error to abc2midi and nothing is paired).
    """
    if not _HORNPIPE.match(fields.get("R", "")):
        return None
    return _HORNPIPE_PAIRS.get(fields.get("M", "").strip())


def _skip_to(body: str, index: int, closer: str) -> int:
    end = body.find(closer, index + 1)
    return len(body) if end < 0 else end + 1


def _read_chord(reader: Reader, body: str, index: int) -> int:
    """Read ``[CEG]2`` starting at the ``[``; returns the index after it."""
    pitches, first_length, i = [], None, index + 1
    while i < len(body) and body[i] != "]":
        match = _NOTE.match(body, i)
        if match:
            pitches.append(reader._pitch(match.group(1), match.group(2), match.group(3)))
            if first_length is None:
                first_length = note_length(match.group(4), match.group(5), match.group(6))
            i = match.end()
        elif body[i] in "!+" and (decoration := DECORATION.match(body, i)):
            i = decoration.end()
        elif body[i] == '"':
            i = _skip_to(body, i, '"')
        else:
            i += 1  # ties, decorations and spaces inside a chord
    tied_inside = "-" in body[index:i]
    multiplier = _REST_LENGTH.match(body, i + 1)
    factor = note_length(*multiplier.groups()) if multiplier and multiplier.group() else Fraction(1)
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


def read_line(reader: Reader, line: str) -> None:
    """Read one line of music."""
    i = 0
    while i < len(line):
        reader.column = i
        i = _read_at(reader, line, i)


def _read_at(reader: Reader, line: str, i: int) -> int:
    """Read what starts at ``i`` (a bar line, a bracket, a note, a rest or a sign); the index after it."""
    char = line[i]
    match = _BAR.match(line, i) if char in "|:[" else None
    if match and (char != "[" or line.startswith("[|", i)):
        reader._end_measure(match.group())
        i = match.end()
        ending = _ENDING.match(line, i)
        if ending and not line.startswith("[", i) or (ending and line[i : i + 1] == "["):
            reader._set_ending(int(ending.group(1)))
            i = ending.end()
        return i
    if char == "[":
        return _read_bracket(reader, line, i)
    note = _NOTE.match(line, i)
    if note:
        pitch = reader._pitch(note.group(1), note.group(2), note.group(3))
        reader.note_or_chord([pitch], reader.unit * note_length(*note.groups()[3:]))
        return note.end()
    rest = _REST.match(line, i)
    if rest:
        count = note_length(*rest.groups()[1:])
        whole_bars = rest.group(1) in "ZX"
        reader.note_or_chord([], ((reader.bar_length or reader.unit) if whole_bars else reader.unit) * count)
        return rest.end()
    return _read_sign(reader, line, i)


def _read_bracket(reader: Reader, line: str, i: int) -> int:
    """An inline field ``[K:D]``, an ending ``[2`` or a chord ``[CEG]``."""
    field_match = _INLINE_FIELD.match(line, i)
    if field_match:
        reader.field(field_match.group(1), field_match.group(2))
        return field_match.end()
    ending = _ENDING.match(line, i)
    if ending and ending.group().startswith("["):
        reader._set_ending(int(ending.group(1)))
        return ending.end()
    return _read_chord(reader, line, i)


def _read_sign(reader: Reader, line: str, i: int) -> int:
    """Broken rhythm, a tuplet, a tie, or what takes no time (text, decorations, grace notes, overlays)."""
    char = line[i]
    if char in "<>":
        marks = re.match(r"<+|>+", line[i:]).group()  # type: ignore[union-attr]  # char is < or >
        reader.broken_rhythm(marks)
        return i + len(marks)
    if char == "(":
        tuplet = _TUPLET.match(line, i)
        if not tuplet:
            return i + 1
        _, q, r = (int(g) if g else None for g in tuplet.groups())
        reader.start_tuplet(int(tuplet.group(1)), q, r)
        return tuplet.end()
    if char == "-":
        reader.tie()
        return i + 1
    if char == '"':
        end = _skip_to(line, i, '"')
        if line[end - 1 : end] == '"' and end - 1 > i:
            reader.chord_symbol(line[i + 1 : end - 1])
        return end
    if char in "!+":
        decoration = DECORATION.match(line, i)
        if decoration and "fermata" in decoration.groups():
            reader.marked = True
        return decoration.end() if decoration else i + 1  # a lone "!" is an old line break
    if char == "{":
        reader.last_single = None  # abc2midi pairs no hornpipe note with one before grace notes
        return _skip_to(line, i, "}")
    if char in ".H":  # a staccato, a fermata
        reader.marked = True
    if char == "~" and reader.ties:  # abc2midi plays a roll as grace notes, which a tie cannot reach across
        reader.warnings.append(f"bar {len(reader.measures)}: tie to a note with a roll, which abc2midi cannot tie")
    if char == "&":
        next_bar = line.find("|", i)
        return len(line) if next_bar < 0 else next_bar  # overlaid voices are not played
    if not (char in _DECORATION_CHARS or char in " \t\\)`y$*;"):
        reader.warnings.append(f"bar {len(reader.measures)}: skipped {char!r}")
    return i + 1
