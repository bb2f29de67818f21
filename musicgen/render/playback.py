"""Play a tune: to a MIDI output port through mido, or to the sound card.

MIDI ports need mido's python-rtmidi backend (the ``play`` extra).
Without a port, the tune is rendered to audio and played with sounddevice
(``pip install sounddevice``) or a system player (aplay, paplay, afplay).
Ctrl-C stops at once and silences every channel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from musicgen.errors import MusicgenError

_PLAYERS = (["paplay"], ["aplay", "-q"], ["afplay"])


#: Where Linux's MIDI ports live; without it (containers, servers) ALSA has none to offer.
ALSA_SEQUENCER = Path("/dev/snd/seq")


def list_ports() -> list[str]:
    """Names of the MIDI output ports (needs python-rtmidi).

    Raises:
        MusicgenError: python-rtmidi is missing, or this computer has no
            MIDI system (on Linux, no ALSA sequencer at /dev/snd/seq).
    """
    import mido

    if sys.platform.startswith("linux") and not ALSA_SEQUENCER.exists():
        raise MusicgenError(
            f"this computer has no MIDI system ({ALSA_SEQUENCER} is missing, as in most "
            "containers and servers): play with --audio"
        )
    try:
        return mido.get_output_names()
    except ImportError:
        raise MusicgenError("MIDI ports need python-rtmidi: pip install 'musicgen[play]'") from None
    except OSError as error:  # rtmidi's errors: no MIDI system it can open
        raise MusicgenError(f"cannot reach this computer's MIDI system ({error}): play with --audio") from None


def all_notes_off(port) -> None:
    """Silence every channel: all-notes-off and all-sound-off on channels 0-15."""
    import mido

    for channel in range(16):
        port.send(mido.Message("control_change", channel=channel, control=123, value=0))
        port.send(mido.Message("control_change", channel=channel, control=120, value=0))


def send_midi(
    midi, port, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Send a MidiFile's messages to a port at their times; returns seconds played.

    Meta messages are not sent. Ctrl-C silences the port and re-raises.
    """
    start = clock()
    elapsed = 0.0
    try:
        for message in midi:  # mido yields messages with .time in seconds
            elapsed += message.time
            wait = start + elapsed - clock()
            if wait > 0:
                sleep(wait)
            if not message.is_meta:
                port.send(message)
    except KeyboardInterrupt:
        all_notes_off(port)
        raise
    return elapsed


def _midi_file(path: Path, work: Path) -> Path:
    if path.suffix.lower() in (".abc", ".txt"):
        from musicgen.abc.tunebook import read_abc_file
        from musicgen.render.midi import abc_to_midi

        target = work / "tune.mid"
        abc_to_midi(read_abc_file(path), target)
        return target
    return path


def play(
    path: str | Path,
    port: str | None = None,
    *,
    use_port: bool | None = None,
    on_start: Callable[[str, float], None] | None = None,
) -> float:
    """Play an ABC tune (its first tune) or a MIDI file.

    Args:
        path: a ``.abc`` or ``.mid`` file.
        port: a MIDI output port name; None picks the first port if any.
        use_port: force (True) or forbid (False) a MIDI port; None decides.
        on_start: called with (where it plays, duration in seconds) before playing.

    Returns:
        The tune's duration in seconds.

    Raises:
        MusicgenError: a missing file, an unconvertible tune, no way to make sound.
    """
    from musicgen.render.audio import check_midi

    path = Path(path)
    if not path.is_file():
        raise MusicgenError(f"{path}: no such file")
    with tempfile.TemporaryDirectory() as folder:
        midi_path = _midi_file(path, Path(folder))
        midi = check_midi(midi_path)
        names = [] if use_port is False else _port_names(required=use_port is True or port is not None)
        if port is not None and port not in names:
            raise MusicgenError(f"no MIDI output port {port!r}; ports: {', '.join(names) or 'none'}")
        if names:
            return _play_port(midi, port or names[0], on_start)
        return _play_audio(midi_path, Path(folder), midi.length, on_start)


def _port_names(required: bool) -> list[str]:
    try:
        return list_ports()
    except MusicgenError:
        if required:
            raise
        return []


def _play_port(midi, name: str, on_start) -> float:
    import mido

    try:
        port = mido.open_output(name)
    except OSError as error:
        raise MusicgenError(f"cannot open MIDI port {name!r} ({error})") from None
    with port:
        if on_start:
            on_start(f"MIDI port {name}", midi.length)
        send_midi(midi, port)
        all_notes_off(port)
    return midi.length


def _play_audio(midi_path: Path, work: Path, seconds: float, on_start) -> float:
    from musicgen.render.audio import midi_to_wav, read_wav

    wav = work / "tune.wav"
    midi_to_wav(midi_path, wav)
    player = next((p for p in _PLAYERS if shutil.which(p[0])), None)
    missing = ""
    try:
        import sounddevice
    except ImportError:
        sounddevice, missing = None, "pip install 'musicgen[play]'"
    except OSError:  # sounddevice is there; the PortAudio library it needs is not
        sounddevice, missing = None, "install the PortAudio library (apt-get install libportaudio2)"
    if sounddevice is None and player is None:
        raise MusicgenError(
            f"no MIDI port and no audio player: {missing}, or install aplay (alsa-utils); "
            "or open the .wav with any player"
        )
    if on_start:
        on_start("the sound card", seconds)
    if sounddevice is not None:
        samples, rate = read_wav(wav.read_bytes())
        try:
            sounddevice.play(samples, rate)
            sounddevice.wait()
        except KeyboardInterrupt:
            sounddevice.stop()
            raise
        return seconds
    assert player is not None  # without sounddevice, a player was found above
    try:
        subprocess.run([*player, str(wav)], check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        raise MusicgenError(f"{player[0]} failed (exit {error.returncode}): is there a sound card?") from None
    return seconds
