"""Every bound musicgen puts on hostile input, in one place.

Each is checked before the work it bounds starts, so a tune, MIDI file,
checkpoint or request that asks for too much is refused with a one-line
error instead of taking the machine's memory, disk or time. The README's
Reliability section lists them.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from musicgen.errors import MusicgenError, OptionError

#: Longest sound made from one tune or MIDI file (MIDI, WAV, playback), in seconds:
#: a reel played AABB is about 30 s; 10 minutes of 48 kHz stereo is about 230 MB in memory as float.
MAX_SOUND_SECONDS = 600.0
#: Tempo range in quarter notes per minute (MIDI cannot store one slower than 3.6).
MIN_TEMPO_QPM, MAX_TEMPO_QPM = 4.0, 1000.0
#: Largest MIDI file read, and most notes rendered from one.
MAX_MIDI_BYTES = 4 * 1024 * 1024
MAX_MIDI_NOTES = 100_000
#: Largest ABC file read (a 103 MB tunebook of 297,275 tunes loads in 25 s).
MAX_ABC_FILE_BYTES = 128 * 1024 * 1024
#: Longest tune, header and body, in characters (the corpus's longest is about 2,600).
MAX_TUNE_CHARS = 100_000
#: Longest prime a tune may start with, in characters.
MAX_PRIME_CHARS = 1_000
#: Largest checkpoint, in bytes once unpacked (the bundled model is 7 MB; a training
#: run's last.pt with its optimizer is about 45 MB).
MAX_CHECKPOINT_BYTES = 1024 * 1024 * 1024
#: abc2midi, run by ``musicgen evaluate`` and the sampler's tests: seconds and address space per tune.
ABC2MIDI_SECONDS = 10.0
ABC2MIDI_MEMORY_BYTES = 512 * 1024 * 1024


#: verovio, engraving one tune in a child process: address space.
VEROVIO_MEMORY_BYTES = 2 * 1024 * 1024 * 1024


def child_limits(memory_bytes: int, cpu_seconds: float, file_bytes: int | None = None):
    """A ``preexec_fn`` that caps a child process's address space, CPU time and file size."""
    import resource

    def limit() -> None:  # runs in the child, before the program starts
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds) + 1, int(cpu_seconds) + 1))
        if file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))

    return limit


def check_tempo(qpm: float | None, name: str = "tempo") -> float | None:
    """A tempo in quarter notes per minute, checked (None passes: the tune's own Q: is used).

    Raises:
        OptionError: not a finite number in 4..1000.
    """
    if qpm is None:
        return None
    if (
        isinstance(qpm, bool)
        or not isinstance(qpm, (int, float))
        or not math.isfinite(qpm)
        or not MIN_TEMPO_QPM <= qpm <= MAX_TEMPO_QPM
    ):
        raise OptionError(
            f"{name} must be in range {MIN_TEMPO_QPM:g}..{MAX_TEMPO_QPM:g} quarter notes per minute, not {qpm!r}"
        )
    return float(qpm)


def check_regular_file(path: Path, max_bytes: int, what: str = "file") -> int:
    """The size of ``path``, refusing what is missing, not a regular file, or too large.

    FIFOs, devices and sockets are refused before they are opened, so reading
    never blocks or runs forever.
    ``what`` names the file in messages ("no such MIDI file"; a name that
    is not a kind of file, such as "tunebook", gives "no such file").

    Raises:
        MusicgenError: missing, not a regular file, or over ``max_bytes``.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise MusicgenError(f"{path}: no such {what if what.endswith('file') else 'file'}") from None
    except OSError as error:
        raise MusicgenError(f"{path}: cannot read ({error.strerror or error})") from None
    if stat.S_ISDIR(info.st_mode):
        raise MusicgenError(f"{path}: a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise MusicgenError(f"{path}: not a regular file")
    if info.st_size > max_bytes:
        raise MusicgenError(f"{path}: {info.st_size:,} bytes; a {what} may have at most {max_bytes:,}")
    return info.st_size


def read_bounded(path: Path, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes``.

    Raises:
        MusicgenError: as :func:`check_regular_file`, or the file cannot be read.
    """
    size = check_regular_file(path, max_bytes, what)
    try:
        with open(path, "rb") as file:
            data = file.read(size + 1)  # a file that grew since the check shows as one byte more
    except OSError as error:
        raise MusicgenError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > size:
        raise MusicgenError(f"{path}: changed while it was read")
    return data
