"""ABC to MIDI: a tune's melody as a standard MIDI file, written with mido."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from musicgen.abc.melody import Melody, abc_to_melody
from musicgen.errors import ConversionError, MusicgenError
from musicgen.limits import MAX_SOUND_SECONDS, check_tempo

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
}


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


def melody_to_midi_file(melody: Melody, program: int = 0, tempo_qpm: float | None = None, velocity: int = 80):
    """A ``mido.MidiFile`` (type 0) playing the melody on one channel."""
    import mido

    try:
        qpm = check_tempo(melody.tempo_qpm if tempo_qpm is None else tempo_qpm) or melody.tempo_qpm
    except MusicgenError as error:
        raise ConversionError(str(error)) from None
    seconds = float(melody.length) * 4 * 60 / qpm
    if seconds > MAX_SOUND_SECONDS:
        raise ConversionError(
            f"the tune plays for {seconds:,.0f} s at {qpm:g} quarter notes a minute; "
            f"musicgen makes at most {MAX_SOUND_SECONDS:g} s of sound"
        )
    ticks_per_whole = 4 * TICKS_PER_BEAT
    events = []  # (tick, order, message): note-offs sort before note-ons at the same tick
    for note in melody.notes:
        if not 0 <= note.pitch <= 127:
            continue  # beyond the MIDI range: cannot sound
        start = round(note.start * ticks_per_whole)
        end = max(start + 1, round((note.start + note.length) * ticks_per_whole))
        events.append((start, 1, mido.Message("note_on", note=note.pitch, velocity=velocity)))
        events.append((end, 0, mido.Message("note_off", note=note.pitch, velocity=0)))
    if not events:
        raise ConversionError("no note is within the MIDI range")
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=midi_text(melody.title) or "musicgen", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0))
    meter = midi_time_signature(melody.meter)
    if meter is not None:
        track.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1], time=0))
    key = midi_key_name(melody.key)
    if key is not None:
        track.append(mido.MetaMessage("key_signature", key=key, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    now = 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=TICKS_PER_BEAT // 2))
    midi = mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(track)
    return midi


def abc_to_midi(
    abc_text: str, midi_path: str | Path, *, instrument: str | int = "piano", tempo_qpm: float | None = None
) -> Path:
    """Write one tune's melody as a MIDI file.

    Args:
        abc_text: one tune's ABC text.
        midi_path: the ``.mid`` file to write (replaced atomically).
        instrument: General MIDI program, by name (``fiddle``) or number.
        tempo_qpm: quarter notes per minute; None uses the tune's Q: (or 120).

    Returns:
        The path written.

    Raises:
        ConversionError: the tune cannot be converted; nothing is written.
    """
    from musicgen.files import atomic_write

    midi = melody_to_midi_file(abc_to_melody(abc_text), instrument_program(instrument), tempo_qpm)
    path = Path(midi_path)
    try:
        atomic_write(path, lambda file: midi.save(file=file))
    except OSError as error:
        raise ConversionError(f"{path}: cannot write ({error.strerror or error})") from None
    return path
