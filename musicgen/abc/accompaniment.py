"""A melody's chord symbols as bass and chord notes, bar by bar (see :mod:`musicgen.abc.chords`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from musicgen.abc.chords import ChordSymbol, Step, default_gchord, parse_chord_symbol, parse_gchord, step_length
from musicgen.abc.keys import parse_meter
from musicgen.abc.melody import Melody, Note
from musicgen.errors import ConversionError
from musicgen.limits import MAX_MIDI_NOTES

__all__ = ["Accompaniment", "accompany"]


@dataclass
class Accompaniment:
    """The notes that chord symbols ask for, as two parts.

    Attributes:
        bass: bass notes (``f`` steps, and every step of a lower-case symbol).
        chords: chord notes (``c`` steps, and ``g h i j`` one note at a time).
        warnings: symbols that are not chords musicgen can play, and bad patterns.
    """

    bass: list[Note] = field(default_factory=list)
    chords: list[Note] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.bass or self.chords)


def accompany(melody: Melody) -> Accompaniment:
    """The accompaniment abc2midi plays for a melody's chord symbols.

    The gchord pattern is the tune's ``%%MIDI gchord`` or the meter's
    default. It starts again after every plain bar line (``|``); after a
    repeat sign, double bar or end bar it starts again only if the bar was
    complete (or is the tune's first), so that a short last bar and the
    pickup played after the repeat share one pattern, as in abc2midi (which
    starts again at the first repeat of a tune played by a header's ``P:``). A
    pattern that runs out before its bar ends is silent until it starts
    again. A tune without chord symbols gets an empty accompaniment.

    Raises:
        ConversionError: the accompaniment would have more notes than
            :data:`musicgen.limits.MAX_MIDI_NOTES` (a tiny meter over a long tune).
    """
    result = Accompaniment()
    symbols = _symbols(melody, result.warnings)
    if not symbols:
        return result
    written = _written_pattern(melody, result.warnings)
    pattern, parts, repeated = _Pattern(), bool(melody.parts), False
    current, index = None, 0
    for bar in melody.bars:
        if bar.meter != pattern.meter:
            pattern.restart(bar.start, bar.meter, written)
        end = bar.start + bar.length
        while (step := pattern.next_step(end)) is not None:
            time, length, code = step
            while index < len(symbols) and symbols[index][0] <= time:
                current, index = symbols[index][1], index + 1
            if current is not None:
                _play(result, code, current, time, length)
                if len(result.bass) + len(result.chords) > MAX_MIDI_NOTES:
                    raise ConversionError(f"the accompaniment would have more than {MAX_MIDI_NOTES:,} notes")
        pattern.played += bar.length
        first_repeat = bar.repeat and parts and not repeated
        repeated = repeated or bar.repeat
        if bar.line == "|" or pattern.played >= pattern.bar_length or not pattern.restarts or first_repeat:
            pattern.restart(end, bar.meter, written)
    return result


class _Pattern:
    """Where the gchord pattern is: its steps, the next one's index and time, and what was played since it began."""

    def __init__(self) -> None:
        self.meter: str | None = None
        self.steps: tuple[Step, ...] = ()
        self.bar_length = Fraction(0)
        self.index, self.time, self.played, self.restarts = 0, Fraction(0), Fraction(0), 0

    def restart(self, time: Fraction, meter: str, written: tuple[Step, ...] | None) -> None:
        if meter != self.meter:
            self.meter = meter
            self.bar_length = (parse_meter(meter) if meter else None) or Fraction(0)
            self.steps = (written or _meter_pattern(meter) or ()) if self.bar_length else ()
        self.restarts += self.played > 0
        self.index, self.time, self.played = 0, time, Fraction(0)

    def next_step(self, end: Fraction) -> tuple[Fraction, Fraction, str] | None:
        """(time, length, code) of the next step that starts before ``end``, or None."""
        if self.index >= len(self.steps) or self.time >= end:
            return None
        step = self.steps[self.index]
        length = step_length(self.bar_length, self.steps) * step.length
        time, self.index, self.time = self.time, self.index + 1, self.time + length
        return time, length, step.code


def _symbols(melody: Melody, warnings: list[str]) -> list[tuple[Fraction, ChordSymbol]]:
    """The melody's chord symbols that name chords, by start (the later of two at one time wins)."""
    chords = []
    for start, text in melody.chords:
        chord = parse_chord_symbol(text)
        if chord is not None:
            chords.append((start, chord))
        elif text.strip()[:1] not in ("^", "_", "<", ">", "@", ""):
            warnings.append(f'chord symbol "{text}" is not a chord musicgen can play; skipped')
    return sorted(chords, key=lambda item: item[0])


def _written_pattern(melody: Melody, warnings: list[str]) -> tuple[Step, ...] | None:
    pattern = melody.midi.get("gchord")
    if pattern is None:
        return None
    try:
        return parse_gchord(pattern)
    except ValueError as error:
        warnings.append(f"%%MIDI gchord: {error}; the meter's default is played")
        return None


def _meter_pattern(meter: str) -> tuple[Step, ...] | None:
    pattern = default_gchord(meter)
    return parse_gchord(pattern) if pattern else None


def _play(result: Accompaniment, code: str, chord: ChordSymbol, time: Fraction, length: Fraction) -> None:
    if code == "z":
        return
    if chord.bass_only:
        result.bass.append(Note(time, length, chord.bass_pitch()))
        return
    if code in "fb":
        result.bass.append(Note(time, length, chord.bass_pitch()))
    if code in "cb":
        result.chords.extend(Note(time, length, pitch) for pitch in chord.chord_pitches())
    elif code in "ghijGHIJ":
        pitches = chord.chord_pitches()
        place = "ghij".index(code.lower())
        if place < len(pitches):
            result.chords.append(Note(time, length, pitches[place] - (12 if code.isupper() else 0)))
