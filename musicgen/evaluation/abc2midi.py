"""abc2midi, the reference ABC player, run as a bounded child process.

``musicgen evaluate`` counts the errors abc2midi reports for each tune. A
hostile tune can make abc2midi grow without end (``Z999999|`` repeated took
it to 8.7 GB) or crash, so each run is limited in address space, CPU time,
wall time, file size and output read; a crash or a time-out is reported as
the tune's failure, never as "no errors".
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from musicgen.limits import ABC2MIDI_MEMORY_BYTES, ABC2MIDI_SECONDS, child_limits

#: Most of abc2midi's report read, and largest file it may write.
MAX_REPORT_BYTES = 1024 * 1024
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class Abc2midiRun:
    """What one abc2midi run printed, and why it failed (empty when it finished)."""

    report: str
    failure: str = ""

    @property
    def errors(self) -> int:
        """Errors reported; a crash or time-out counts as one more."""
        return len(re.findall(r"^Error", self.report, re.MULTILINE)) + bool(self.failure)


def available() -> bool:
    """True where abc2midi is installed."""
    return shutil.which("abc2midi") is not None


def run_abc2midi(abc: str, *options: str, work: Path | None = None) -> Abc2midiRun:
    """Run ``abc2midi tune.abc OPTIONS`` on one tune in ``work`` (a temporary folder if None).

    Returns:
        Its report (stdout and stderr, at most 1 MB) and, if it was killed,
        crashed or ran past :data:`musicgen.limits.ABC2MIDI_SECONDS`, why.
    """
    if work is None:
        with tempfile.TemporaryDirectory() as folder:
            return run_abc2midi(abc, *options, work=Path(folder))
    source, report = Path(work) / "tune.abc", Path(work) / "abc2midi.txt"
    source.write_text(abc, encoding="utf-8", errors="replace")
    failure = ""
    with open(report, "wb") as output:
        try:
            result = subprocess.run(
                ["abc2midi", source.name, *options],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=work,
                timeout=ABC2MIDI_SECONDS,
                preexec_fn=child_limits(ABC2MIDI_MEMORY_BYTES, ABC2MIDI_SECONDS, MAX_FILE_BYTES),
            )
            if result.returncode < 0:
                failure = f"abc2midi was killed by signal {-result.returncode}"
            elif result.returncode > 0:
                failure = f"abc2midi failed (exit {result.returncode})"
        except subprocess.TimeoutExpired:
            failure = f"abc2midi ran past {ABC2MIDI_SECONDS:g} s"
    with open(report, "rb") as output:
        text = output.read(MAX_REPORT_BYTES).decode("utf-8", "replace")
    if not failure and _OUT_OF_MEMORY.search(text):  # abc2midi says so and exits 0
        failure = f"abc2midi ran out of its {ABC2MIDI_MEMORY_BYTES // 2**20} MB of memory"
    return Abc2midiRun(text, failure)


_OUT_OF_MEMORY = re.compile(r"out of memory|malloc failed", re.IGNORECASE)
