"""MIDI to audio: 16-bit WAV through a SoundFont synthesizer.

The renderer is midirenderer (a pip wheel wrapping a SoundFont synthesizer)
with the General MIDI SoundFont that pretty_midi ships (TimGM6mb.sf2), at
its own rate (48 kHz). Where
it is missing or fails, pretty_midi's pure-numpy additive synthesis is used,
so audio never fails (at :data:`SAMPLE_RATE`); :func:`midi_to_wav` says which
renderer made the file.
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

#: The rate of additive synthesis, the same as the SoundFont synthesizer's.
SAMPLE_RATE = 48000
PEAK = 10 ** (-1 / 20)  # -1 dBFS


def soundfont_path() -> Path:
    """The General MIDI SoundFont shipped with pretty_midi."""
    pretty_midi = need("pretty_midi")

    return Path(str(pretty_midi.__file__)).parent / "TimGM6mb.sf2"


@functools.cache
def soundfont_bytes() -> bytes:
    """The SoundFont's bytes, read once per process (6 MB)."""
    return soundfont_path().read_bytes()


def read_pcm(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit samples as (frames, channels), and the sample rate, of WAV file contents."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise ConversionError(f"renderer wrote {8 * width}-bit audio; expected 16-bit")
    return np.frombuffer(frames, dtype="<i2").reshape(-1, channels), rate


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples as float (frames, channels) in -1..1, and the sample rate."""
    pcm, rate = read_pcm(data)
    return pcm.astype(np.float32) / 32768, rate


def render_soundfont(midi_path: Path) -> tuple[np.ndarray, int]:
    """Render with midirenderer and the General MIDI SoundFont: 16-bit (frames, 2) at the synthesizer's rate.

    The rate is kept (48 kHz): resampling to another would cost more than the synthesis itself.
    """
    midirenderer = need("midirenderer")

    data = midirenderer.render_wave_from(soundfont_bytes(), Path(midi_path).read_bytes())
    return read_pcm(bytes(data))


def render_additive(midi_path: Path, seconds: float) -> tuple[np.ndarray, int]:
    """pretty_midi's numpy synthesis (sine tones): (frames, 1) at :data:`SAMPLE_RATE`, ``seconds`` long."""
    pretty_midi = need("pretty_midi")

    audio = pretty_midi.PrettyMIDI(str(midi_path)).synthesize(fs=SAMPLE_RATE)
    # synthesize() pads a second of silence; keep the file as long as the MIDI
    return audio[: int(round(seconds * SAMPLE_RATE))].astype(np.float32).reshape(-1, 1), SAMPLE_RATE


def normalise(samples: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """16-bit samples scaled so the loudest sits at ``peak`` of full scale; silence stays silent.

    ``samples``: float in -1..1 or 16-bit integers (scaled in one pass, with no float copy kept).
    """
    if not samples.size:
        return samples.astype("<i2")
    loudest = max(float(samples.max()), -float(samples.min()))
    if loudest == 0:
        return np.zeros(samples.shape, dtype="<i2")
    scaled = np.multiply(samples, np.float32(peak * 32767 / loudest), dtype=np.float32)
    return np.rint(scaled, out=scaled).astype("<i2")


def wav_bytes(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV file contents of (frames, channels) 16-bit samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(pcm.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.astype("<i2", copy=False).tobytes())
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
    rendered, used = None, "additive"
    if renderer in ("auto", "soundfont"):
        try:
            rendered, used = render_soundfont(midi_path), "soundfont"
        except ImportError:
            if renderer == "soundfont":
                raise ConversionError("SoundFont audio needs midirenderer: pip install midirenderer") from None
        except Exception as error:  # a renderer failure falls back to additive synthesis
            if renderer == "soundfont":
                raise ConversionError(f"{midi_path}: SoundFont rendering failed ({error})") from None
            logger.warning("SoundFont rendering failed (%s); using additive synthesis", error)
    if rendered is None:
        try:
            rendered = render_additive(midi_path, seconds)
        except (OSError, ValueError, EOFError, KeyError, IndexError) as error:
            raise ConversionError(f"{midi_path}: not a readable MIDI file ({error})") from None
    samples, rate = rendered
    return wav_bytes(normalise(samples), rate), used


def midi_to_wav(midi_path: str | Path, wav_path: str | Path, *, renderer: str = "auto") -> str:
    """Render a MIDI file to a 48 kHz 16-bit WAV file.

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
