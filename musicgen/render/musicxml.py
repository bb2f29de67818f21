"""One ABC tune as MusicXML, for notation programs (MuseScore, Finale, Sibelius, Dorico).

The notes are those of :func:`musicgen.abc.melody.abc_to_melody`, the same as
the MIDI file's: repeats are written out in play order, chords stay chords.
The score keeps the tune's title, meter, key signature, tempo and pickup bar.
music21 (the ``corpus`` extra) writes the file.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

from musicgen.abc.keys import key_signature
from musicgen.abc.melody import Melody, abc_to_melody, read_measures
from musicgen.abc.tunebook import parse_tune
from musicgen.errors import ConversionError, MusicgenError
from musicgen.extras import need
from musicgen.render.midi import midi_key_name, midi_time_signature

__all__ = ["abc_to_musicxml", "melody_to_score"]


def abc_to_musicxml(abc: str) -> bytes:
    """The first tune of ``abc`` as a MusicXML document (UTF-8 bytes).

    Raises:
        ConversionError: the tune cannot be read (see :func:`abc_to_melody`)
            or music21 cannot write it.
        MissingExtraError: music21 is not installed.
    """
    melody = abc_to_melody(abc)  # raises ConversionError for a tune that cannot be read
    tune = parse_tune(abc, voices=True)
    score = melody_to_score(melody, _pickup(tune), show_tempo="Q" in tune.fields)
    exporter = need("music21.musicxml.m21ToXml").GeneralObjectExporter(score)
    try:
        return bytes(exporter.parse())
    except Exception as error:  # music21 raises its own exception types from deep inside
        raise ConversionError(f"cannot write MusicXML ({type(error).__name__}: {error})") from None


def _pickup(tune) -> Fraction:
    """Whole notes before the first full bar (0 without a pickup or for a free meter)."""
    try:
        reader = read_measures(tune)
    except MusicgenError:
        return Fraction(0)
    first = next((part[0] for part in reader.parts.values() if part), None)
    bar = reader.bar_length
    if first is None or bar is None or not 0 < first.length < bar:
        return Fraction(0)
    return first.length


def melody_to_score(melody: Melody, pickup: Fraction = Fraction(0), show_tempo: bool = True):
    """A ``music21.stream.Score`` with a part for the melody and one for each further voice (``V:``).

    Args:
        melody: the notes (start and length in whole notes).
        pickup: whole notes of the pickup bar before the first full bar.
        show_tempo: mark the melody's tempo (a tune without ``Q:`` has none to show).

    Raises:
        ConversionError: music21 cannot lay the notes out in bars.
    """
    music21 = need("music21")
    score = music21.stream.Score()
    score.metadata = music21.metadata.Metadata(title=melody.title or "Untitled")
    voices = [melody] + [replace(melody, notes=voice.notes, voices=[]) for voice in melody.voices]
    for number, voice in enumerate(voices):
        score.insert(0, _part(music21, voice, pickup, show_tempo and number == 0))
    return score


def _part(music21, melody: Melody, pickup: Fraction, show_tempo: bool):
    """One part playing ``melody``'s notes, barred, in the clef that suits them."""
    part = music21.stream.Part()
    meter = midi_time_signature(melody.meter)
    bar = Fraction(meter[0], meter[1]) if meter else None
    # A pickup is laid out as a full first bar with rests in front, then shortened.
    shift = bar - pickup if bar and pickup else Fraction(0)
    flats = _flat_key(melody.key)
    for start, length, pitches in _chords(melody):
        offset, duration = (start + shift) * 4, length * 4  # quarter notes
        spelled = [_pitch(music21, number, flats) for number in pitches]
        element = music21.note.Note(spelled[0]) if len(spelled) == 1 else music21.chord.Chord(spelled)
        element.duration = music21.duration.Duration(duration)
        part.insert(offset, element)
    for start, figure in _chord_figures(melody):
        part.insert((start + shift) * 4, music21.harmony.ChordSymbol(figure))
    try:
        if _overlaps(melody):
            # A held note under moving ones: one voice of chords, tied across.
            part = part.chordify()
        part.insert(0, music21.clef.bestClef(part, recurse=True))
        _lay_out(music21, part, melody, meter, shift * 4)
        if show_tempo:
            first = part.getElementsByClass("Measure").first()
            first.insert(0, music21.tempo.MetronomeMark(number=round(melody.tempo_qpm)))
    except Exception as error:  # music21's layout raises many exception types
        raise ConversionError(f"cannot lay the tune out in bars ({type(error).__name__}: {error})") from None
    return part


def _chord_figures(melody: Melody) -> list[tuple[Fraction, str]]:
    """The melody's chord symbols (not annotations, nor names that are no chord) as music21
    figures: ``"D7/f#"`` is ``D7/F#``, ``"Bb"`` is ``B-``."""
    from musicgen.abc.chords import parse_chord_symbol

    figures = []
    for start, text in melody.chords:
        chord = parse_chord_symbol(text)
        match = _FIGURE.fullmatch(text.strip())
        if chord is None or chord.bass_only or match is None:
            continue
        letter, accidental, kind, bass, bass_accidental = match.groups()
        figure = letter.upper() + accidental.replace("b", "-") + kind
        if bass:
            figure += "/" + bass.upper() + (bass_accidental or "").replace("b", "-")
        figures.append((start, figure))
    return figures


_FIGURE = re.compile(r"\(?([A-Ga-g])([#b]?)([^/)]*)(?:/([A-Ga-g])([#b]?))?\)?")


def _flat_key(key: str) -> bool:
    """Whether black keys are spelled as flats: in keys whose signature has flats."""
    try:
        return any(shift < 0 for shift in key_signature(key).values())
    except MusicgenError:
        return False


def _pitch(music21, number: int, flats: bool):
    """A music21 pitch for a MIDI number, spelled with sharps or with flats, with no accidental forced."""
    pitch = music21.pitch.Pitch(midi=number)
    if pitch.accidental is not None and pitch.accidental.name == "natural":
        pitch.accidental = None
    if pitch.accidental is None:
        return pitch
    if flats and pitch.accidental.name == "sharp":
        return pitch.getHigherEnharmonic()  # C# -> D-
    if not flats and pitch.accidental.name == "flat":
        return pitch.getLowerEnharmonic()  # E- -> D#
    return pitch


def _chords(melody: Melody):
    """(start, length, MIDI pitches) for each group of notes that start and stop together."""
    groups: dict[tuple[Fraction, Fraction], list[int]] = {}
    for note in melody.notes:
        groups.setdefault((note.start, note.length), []).append(note.pitch)
    return [(start, length, sorted(pitches)) for (start, length), pitches in sorted(groups.items())]


def _overlaps(melody: Melody) -> bool:
    """Whether some note sounds on past the start of a note that does not start with it."""
    ends: dict[Fraction, Fraction] = {}
    for note in melody.notes:
        ends[note.start] = max(ends.get(note.start, note.start), note.start + note.length)
    starts = sorted(ends)
    return any(ends[a] > b for a, b in zip(starts, starts[1:]))


def _lay_out(music21, part, melody: Melody, meter, shift_quarters: Fraction) -> None:
    """Signatures, bars, ties and accidentals; the first and last bars as short as written."""
    signature = music21.meter.TimeSignature(f"{meter[0]}/{meter[1]}" if meter else "4/4")
    # A free meter has no signature to show; the notes are still barred in 4/4.
    signature.style.hideObjectOnPrint = not meter
    part.insert(0, signature)
    key_name = midi_key_name(melody.key)
    if key_name:
        part.insert(0, _key(music21, key_name))
    part.makeRests(fillGaps=True, inPlace=True)
    part.makeMeasures(inPlace=True)
    part.makeTies(inPlace=True)
    measures = list(part.getElementsByClass("Measure"))
    _end_last_bar(music21, measures[-1], max(melody.end, melody.length) * 4 + shift_quarters)
    # Accidentals as a musician writes them: none that the key signature gives, each once per bar.
    part.makeAccidentals(inPlace=True, overrideStatus=True, cautionaryPitchClass=False)
    if shift_quarters:
        _shorten_pickup(measures[0], shift_quarters)
        for number, measure in enumerate(measures):
            measure.number = number


def _end_last_bar(music21, last, end_quarters: Fraction) -> None:
    """The rests that end the tune, and no more: a last bar the pickup completes stays short."""
    written = last.offset + last.highestTime
    if end_quarters > written:
        last.append(music21.note.Rest(quarterLength=end_quarters - written))
    missing = last.barDuration.quarterLength - last.highestTime
    if missing > 0:
        last.paddingRight = missing


def _shorten_pickup(first, shift_quarters: Fraction) -> None:
    """The first bar laid out full with rests in front becomes a pickup bar of its notes."""
    for rest in [r for r in first.notesAndRests if r.isRest and r.offset < shift_quarters]:
        first.remove(rest)
    for element in first.notesAndRests:
        element.offset -= shift_quarters
    first.padAsAnacrusis()


def _key(music21, name: str):
    """A music21 key from a MIDI key name (``Bb``, ``F#m``)."""
    tonic, minor = (name[:-1], True) if name.endswith("m") else (name, False)
    tonic = tonic.replace("b", "-") if len(tonic) > 1 else tonic
    return music21.key.Key(tonic.lower() if minor else tonic)
