"""MIDI to audio: 44.1 kHz WAV through a SoundFont synthesizer.

The renderer is midirenderer (a pip wheel wrapping a SoundFont synthesizer)
with the General MIDI SoundFont that pretty_midi ships (TimGM6mb.sf2). Where
it is missing or fails, pretty_midi's pure-numpy additive synthesis is used,
so audio never fails; :func:`midi_to_wav` says which renderer made the file.
Levels are normalised to a peak of -1 dBFS without clipping.
"""

from __future__ import annotations

import functools
import io
import logging
import wave
from pathlib import Path

import numpy as np

from musicgen.errors import ConversionError, MusicgenError
from musicgen.extras import need
from musicgen.files import atomic_write
from musicgen.limits import MAX_MIDI_BYTES, MAX_MIDI_NOTES, MAX_SOUND_SECONDS, read_bounded

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100
PEAK = 10 ** (-1 / 20)  # -1 dBFS


def soundfont_path() -> Path:
    """The General MIDI SoundFont shipped with pretty_midi."""
    pretty_midi = need("pretty_midi")

    return Path(str(pretty_midi.__file__)).parent / "TimGM6mb.sf2"


@functools.cache
def soundfont_bytes() -> bytes:
    """The SoundFont's bytes, read once per process (6 MB)."""
    return soundfont_path().read_bytes()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples as float (frames, channels) in -1..1, and the sample rate."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise ConversionError(f"renderer wrote {8 * width}-bit audio; expected 16-bit")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768
    return samples.reshape(-1, channels), rate


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Linear-interpolation resampling of (frames, channels) audio."""
    if rate == target or len(samples) == 0:
        return samples
    count = int(round(len(samples) * target / rate))
    old = np.arange(len(samples)) / rate
    new = np.arange(count) / target
    return np.stack([np.interp(new, old, samples[:, c]) for c in range(samples.shape[1])], axis=1)


def render_soundfont(midi_path: Path) -> np.ndarray:
    """Render with midirenderer and the General MIDI SoundFont: (frames, 2) at 44.1 kHz."""
    midirenderer = need("midirenderer")

    data = midirenderer.render_wave_from(soundfont_bytes(), Path(midi_path).read_bytes())
    samples, rate = read_wav(bytes(data))
    return resample(samples, rate)


def render_additive(midi_path: Path, seconds: float) -> np.ndarray:
    """pretty_midi's numpy synthesis (sine tones): (frames, 1) at 44.1 kHz, ``seconds`` long."""
    pretty_midi = need("pretty_midi")

    audio = pretty_midi.PrettyMIDI(str(midi_path)).synthesize(fs=SAMPLE_RATE)
    # synthesize() pads a second of silence; keep the file as long as the MIDI
    return audio[: int(round(seconds * SAMPLE_RATE))].astype(np.float32).reshape(-1, 1)


def normalise(samples: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Scale so the loudest sample sits at ``peak``; silence stays silent."""
    loudest = float(np.max(np.abs(samples))) if samples.size else 0.0
    return samples if loudest == 0 else samples * (peak / loudest)


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV file contents."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(samples.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def check_midi(midi_path: Path):
    """Read a MIDI file with mido, refusing one that is not a MIDI file or would sound too long.

    The file's size, note count and duration are bounded (see
    :mod:`musicgen.limits`) before anything is rendered or played.

    Raises:
        ConversionError: not a regular, readable MIDI file, or over a bound.
    """
    import mido

    try:
        data = read_bounded(Path(midi_path), MAX_MIDI_BYTES, "MIDI file")
    except MusicgenError as error:
        raise ConversionError(str(error)) from None
    _check_chunks(midi_path, data)
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
        seconds = midi.length
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError, ZeroDivisionError) as error:
        raise ConversionError(f"{midi_path}: not a readable MIDI file ({error})") from None
    notes = sum(message.type == "note_on" for track in midi.tracks for message in track)
    if notes > MAX_MIDI_NOTES:
        raise ConversionError(f"{midi_path}: {notes:,} notes; musicgen plays at most {MAX_MIDI_NOTES:,}")
    if seconds > MAX_SOUND_SECONDS:
        raise ConversionError(
            f"{midi_path}: plays for {seconds:,.0f} s; musicgen makes at most {MAX_SOUND_SECONDS:g} s of sound"
        )
    return midi


def _check_chunks(midi_path: Path, data: bytes) -> None:
    """Refuse a MIDI file whose chunks claim more bytes than it has, before any reader allocates them.

    A reader given a path (pretty_midi, mido) allocates what a chunk header
    claims: 16 bytes saying ``MThd`` of 3.8 GB ran a capped process out of memory.
    """
    if data[:4] != b"MThd" or len(data) < 14 or int.from_bytes(data[4:8], "big") != 6:
        raise ConversionError(f"{midi_path}: not a readable MIDI file (no 6-byte MThd header)")
    kind, _, division = (int.from_bytes(data[i : i + 2], "big") for i in (8, 10, 12))
    if kind > 2 or division == 0 or division & 0x8000:
        raise ConversionError(f"{midi_path}: not a readable MIDI file (type {kind}, time division {division:#06x})")
    offset = 14
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4 : offset + 8], "big")
        if offset + 8 + size > len(data):
            raise ConversionError(
                f"{midi_path}: not a readable MIDI file (a chunk of {size:,} bytes in a file of {len(data):,})"
            )
        offset += 8 + size


def render_wav(midi_path: Path, renderer: str = "auto") -> tuple[bytes, str]:
    """WAV file contents for a MIDI file, and the renderer used (see :func:`midi_to_wav`)."""
    midi_path = Path(midi_path)
    if renderer not in ("auto", "soundfont", "additive"):
        raise ConversionError(f"renderer must be auto, soundfont or additive, not {renderer!r}")
    seconds = check_midi(midi_path).length
    samples, used = None, "additive"
    if renderer in ("auto", "soundfont"):
        try:
            samples, used = render_soundfont(midi_path), "soundfont"
        except ImportError:
            if renderer == "soundfont":
                raise ConversionError("SoundFont audio needs midirenderer: pip install midirenderer") from None
        except Exception as error:  # a renderer failure falls back to additive synthesis
            if renderer == "soundfont":
                raise ConversionError(f"{midi_path}: SoundFont rendering failed ({error})") from None
            logger.warning("SoundFont rendering failed (%s); using additive synthesis", error)
    if samples is None:
        try:
            samples = render_additive(midi_path, seconds)
        except (OSError, ValueError, EOFError, KeyError, IndexError) as error:
            raise ConversionError(f"{midi_path}: not a readable MIDI file ({error})") from None
    return wav_bytes(normalise(samples)), used


def midi_to_wav(midi_path: str | Path, wav_path: str | Path, *, renderer: str = "auto") -> str:
    """Render a MIDI file to a 44.1 kHz 16-bit WAV file.

    Args:
        midi_path: the MIDI file to render.
        wav_path: the WAV file to write (replaced atomically).
        renderer: ``auto`` (SoundFont, else additive), ``soundfont`` or ``additive``.

    Returns:
        The renderer used: ``soundfont`` or ``additive``.

    Raises:
        ConversionError: the MIDI file is missing or unreadable, the renderer
            asked for is unavailable, or the WAV cannot be written.
    """
    data, used = render_wav(Path(midi_path), renderer)
    try:
        atomic_write(Path(wav_path), lambda file: file.write(data))
    except OSError as error:
        raise ConversionError(f"{wav_path}: cannot write ({error.strerror or error})") from None
    return used
