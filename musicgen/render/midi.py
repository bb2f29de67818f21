"""ABC to MIDI: a tune's melody as a standard MIDI file, written with mido."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicgen.errors import ConversionError, MusicgenError
from musicgen.limits import MAX_SOUND_SECONDS, check_tempo

if TYPE_CHECKING:
    from musicgen.abc.melody import Melody, Note

TICKS_PER_BEAT = 480
#: General MIDI programs by common name (0-based program numbers).
INSTRUMENTS = {
    "piano": 0,
    "harpsichord": 6,
    "accordion": 21,
    "harmonica": 22,
    "guitar": 24,
    "nylon-guitar": 24,
    "steel-guitar": 25,
    "harp": 46,
    "strings": 48,
    "violin": 40,
    "fiddle": 40,
    "viola": 41,
    "cello": 42,
    "trumpet": 56,
    "clarinet": 71,
    "piccolo": 72,
    "flute": 73,
    "recorder": 74,
    "whistle": 78,
    "tin-whistle": 78,
    "ocarina": 79,
    "bagpipe": 109,
    "pipes": 109,
    "banjo": 105,
    "concertina": 21,
    "bandoneon": 23,
    "organ": 19,
    "oboe": 68,
    "bassoon": 70,
    "acoustic-bass": 32,
    "bass": 32,
    "fingered-bass": 33,
}
#: Channels of the parts; 9 is General MIDI's drums, so it is never used.
MELODY_CHANNEL, BASS_CHANNEL, CHORD_CHANNEL = 0, 1, 2
VOICE_CHANNELS = (3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15)  # a tune's further voices (V:), in order


def instrument_program(name: str | int) -> int:
    """A General MIDI program number (0-127) from a name or number.

    Raises:
        ConversionError: an unknown name or a number outside 0..127.
    """
    if isinstance(name, int) or str(name).strip().isdigit():
        program = int(name)
        if not 0 <= program <= 127:
            raise ConversionError(f"instrument program must be in range 0..127, not {program}")
        return program
    key = str(name).strip().lower().replace(" ", "-")
    if key not in INSTRUMENTS:
        raise ConversionError(
            f"unknown instrument {name!r}; use a number 0..127 or one of: " + ", ".join(sorted(INSTRUMENTS))
        )
    return INSTRUMENTS[key]


def midi_text(text: str, limit: int = 100) -> str:
    """Text a MIDI meta event can hold (Latin-1, no control characters), at most ``limit`` long.

    Accents are kept where Latin-1 has them; other letters lose their marks
    ("Curly" quotes and dashes become plain ones) and the rest becomes "?".
    """
    plain = text.translate(_PUNCTUATION)
    kept = []
    for char in plain:
        if unicodedata.category(char)[0] == "C":
            continue
        if ord(char) > 255:
            char = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")[:1] or "?"
        kept.append(char)
    return "".join(kept)[:limit].strip()


_PUNCTUATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}
)


_MAJOR = dict(zip(range(-7, 8), "Cb Gb Db Ab Eb Bb F C G D A E B F# C#".split()))
_MINOR = dict(zip(range(-7, 8), "Abm Ebm Bbm Fm Cm Gm Dm Am Em Bm F#m C#m G#m D#m A#m".split()))
#: Modes written with the minor key of their signature (the rest with the major).
_MINOR_MODES = ("m", "min", "aeo", "dor", "phr", "loc")


def midi_time_signature(meter: str) -> tuple[int, int] | None:
    """(numerator, denominator) of an ABC meter for a MIDI time signature; None for a free meter or none."""
    value = meter.strip()
    if value in ("C", "C|"):
        return (4, 4) if value == "C" else (2, 2)
    match = re.fullmatch(r"(\d{1,2})/(1|2|4|8|16|32|64)", value)
    if not match or not 1 <= int(match.group(1)) <= 64:
        return None  # none, free meters, sums such as 2+3/8
    return int(match.group(1)), int(match.group(2))


def midi_key_name(key: str) -> str | None:
    """The MIDI key signature with the same sharps or flats as an ABC key (modes by their signature:
    ``Dmix`` is G, ``Ador`` is Em); None for ``K:none``, highland pipes or mixed accidentals."""
    from musicgen.abc.keys import key_signature

    match = re.match(r"\s*([A-Ga-g][#b]?)\s*([A-Za-z]*)", key)
    if not match:
        return None
    try:
        accidentals = [n for n in key_signature(key).values() if n]
    except MusicgenError:
        return None
    if len(set(accidentals)) > 1:
        return None  # sharps and flats together: no MIDI key has them
    count = sum(accidentals)
    mode = match.group(2).lower()[:3] if match.group(2).lower() != "m" else "m"
    table = _MINOR if mode in _MINOR_MODES else _MAJOR
    return table.get(count)


@dataclass(frozen=True)
class Sound:
    """How a tune is played: the melody's instrument and tempo, and its accompaniment.

    Attributes:
        instrument: General MIDI program of the melody, by name or number.
        tempo_qpm: quarter notes per minute; None keeps the tune's ``Q:`` (or 120).
        accompaniment: play chord symbols ("G", "D7", "A/c#") as bass and
            chords in abc2midi's patterns (fzczfzcz in 4/4: bass, rest, chord,
            rest...); a tune without chord symbols is melody only.
        chord_instrument: General MIDI instrument of the chords, a name or
            0-127, unless the tune says ``%%MIDI chordprog``.
        bass_instrument: General MIDI instrument of the bass, a name or 0-127,
            unless the tune says ``%%MIDI bassprog``.
    """

    instrument: str | int = "piano"
    tempo_qpm: float | None = None
    accompaniment: bool = True
    chord_instrument: str | int = "piano"
    bass_instrument: str | int = "acoustic-bass"

    def check(self) -> None:
        """Raise ConversionError for an unknown instrument or an impossible tempo, before any work."""
        for name in (self.instrument, self.chord_instrument, self.bass_instrument):
            instrument_program(name)
        try:
            check_tempo(self.tempo_qpm)
        except MusicgenError as error:
            raise ConversionError(str(error)) from None


def melody_to_midi_file(melody: Melody, sound: Sound | None = None, velocity: int = 80):
    """A ``mido.MidiFile`` of the melody, and of its accompaniment when ``sound`` asks for it.

    A melody alone is a type 0 file on channel 0; with more voices or an
    accompaniment the file is type 1 with a track per part, each named: the
    melody (with the tempo, time and key signatures), each further voice
    (``V:``, channels 3 and up, the melody's instrument), then the bass
    (channel 1) and chords (channel 2).
    """
    import mido

    sound = sound or Sound()
    sound.check()
    try:
        qpm = check_tempo(melody.tempo_qpm if sound.tempo_qpm is None else sound.tempo_qpm) or melody.tempo_qpm
    except MusicgenError as error:
        raise ConversionError(str(error)) from None
    seconds = float(melody.length) * 4 * 60 / qpm
    if seconds > MAX_SOUND_SECONDS:
        raise ConversionError(
            f"the tune plays for {seconds:,.0f} s at {qpm:g} quarter notes a minute; "
            f"musicgen makes at most {MAX_SOUND_SECONDS:g} s of sound"
        )
    melody_events = _note_events(melody.notes, MELODY_CHANNEL, velocity)
    if not melody_events:
        raise ConversionError("no note is within the MIDI range")
    head = [mido.MetaMessage("track_name", name=midi_text(melody.title) or "musicgen", time=0)]
    head.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0))
    meter = midi_time_signature(melody.meter)
    if meter is not None:
        head.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0))
    key = midi_key_name(melody.key)
    if key is not None:
        head.append(mido.MetaMessage("key_signature", key=key, time=0))
    program = instrument_program(sound.instrument)
    parts = [(head, MELODY_CHANNEL, program, melody_events)]
    for channel, voice in zip(VOICE_CHANNELS, melody.voices):
        events = _note_events(voice.notes, channel, velocity)
        parts.append(
            ([mido.MetaMessage("track_name", name=midi_text(f"Voice {voice.name}"), time=0)], channel, program, events)
        )
    parts += _accompaniment_parts(melody, sound, velocity) if sound.accompaniment else []
    midi = mido.MidiFile(type=0 if len(parts) == 1 else 1, ticks_per_beat=TICKS_PER_BEAT)
    for head, channel, program, events in parts:
        midi.tracks.append(_track(head, channel, program, events))
    return midi


def _accompaniment_parts(melody: Melody, sound: Sound, velocity: int) -> list:
    """(head, channel, program, events) of the bass and the chords, those that have notes."""
    import mido

    from musicgen.abc.accompaniment import accompany

    band = accompany(melody)
    parts = []
    for name, notes, channel, directive, instrument, level in (
        ("Bass", band.bass, BASS_CHANNEL, "bassprog", sound.bass_instrument, velocity),
        ("Chords", band.chords, CHORD_CHANNEL, "chordprog", sound.chord_instrument, velocity - 15),
    ):
        events = _note_events(notes, channel, level)
        if events:
            program = _directive_program(melody.midi.get(directive), instrument)
            parts.append(([mido.MetaMessage("track_name", name=name, time=0)], channel, program, events))
    return parts


def _directive_program(value: str | None, instrument: str | int) -> int:
    """A ``%%MIDI chordprog/bassprog`` value (0-127) where it is one, else the instrument's program."""
    if value is not None and value.isdigit() and int(value) <= 127:
        return int(value)
    return instrument_program(instrument)


def _note_events(notes: list[Note], channel: int, velocity: int) -> list:
    """(tick, order, message) for each note's on and off; offs sort before ons at the same tick."""
    import mido

    ticks_per_whole = 4 * TICKS_PER_BEAT
    events = []
    for note in notes:
        if not 0 <= note.pitch <= 127:
            continue  # beyond the MIDI range: cannot sound
        start = round(note.start * ticks_per_whole)
        end = max(start + 1, round((note.start + note.length) * ticks_per_whole))
        events.append((start, 1, mido.Message("note_on", channel=channel, note=note.pitch, velocity=velocity)))
        events.append((end, 0, mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)))
    return sorted(events, key=lambda e: (e[0], e[1]))


def _track(head: list, channel: int, program: int, events: list):
    import mido

    track = mido.MidiTrack(head)
    track.append(mido.Message("program_change", channel=channel, program=program, time=0))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=TICKS_PER_BEAT // 2))
    return track


def abc_to_midi(abc_text: str, midi_path: str | Path, sound: Sound | None = None, **options: Any) -> Path:
    """Write one tune as a MIDI file: its melody, and its chord symbols played as an accompaniment.

    ``abc_to_midi(abc, "tune.mid", instrument="fiddle", accompaniment=False)``
    is short for passing ``Sound(instrument="fiddle", accompaniment=False)``.

    Args:
        abc_text: one tune's ABC text.
        midi_path: the ``.mid`` file to write (replaced atomically).
        sound: instruments, tempo and accompaniment (:class:`Sound`; None: its defaults).
        options: :class:`Sound` fields, when ``sound`` is not given.

    Returns:
        The path written.

    Raises:
        ConversionError: the tune cannot be converted, or ``sound`` names an
            unknown instrument; nothing is written.
    """
    from musicgen.abc.melody import abc_to_melody  # the reader is not needed for --help's options
    from musicgen.files import atomic_write

    midi = melody_to_midi_file(abc_to_melody(abc_text), sound or Sound(**options))
    path = Path(midi_path)
    try:
        atomic_write(path, lambda file: midi.save(file=file))
    except OSError as error:
        raise ConversionError(f"{path}: cannot write ({error.strerror or error})") from None
    return path
