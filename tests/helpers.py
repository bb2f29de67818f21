"""Test helpers: abc2midi as an independent oracle."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

needs_abc2midi = pytest.mark.skipif(
    shutil.which("abc2midi") is None, reason="abc2midi is not installed (Debian package abcmidi)"
)


def abc2midi_report(abc: str, work: Path) -> str:
    """What abc2midi prints checking a tune (``-c``): its errors and warnings."""
    source = work / "check.abc"
    source.write_text(abc, encoding="utf-8")
    result = subprocess.run(
        ["abc2midi", str(source), "-c"], capture_output=True, text=True, errors="replace", cwd=work, timeout=30
    )
    return result.stdout + result.stderr


def abc2midi_messages(abc: str, work: Path) -> list[str]:
    """The errors abc2midi reports for a tune, a line each."""
    return re.findall(r"^Error.*$", abc2midi_report(abc, work), re.MULTILINE)


def abc2midi_errors(abc: str, work: Path) -> int:
    """How many errors abc2midi reports for a tune."""
    return len(abc2midi_messages(abc, work))


def abc2midi_notes(abc: str, work: Path, chords: bool = True) -> list[tuple[int, int]]:
    """(onset tick, pitch) of every note abc2midi plays for a tune, sorted.

    With ``chords=False`` the accompaniment of chord symbols is left out.
    """
    import mido

    source, midi = work / "notes.abc", work / "notes.mid"
    source.write_text(abc, encoding="utf-8")
    flags = [] if chords else ["-NGUI"]
    subprocess.run(
        ["abc2midi", str(source), "-o", str(midi), *flags], capture_output=True, cwd=work, timeout=30, check=True
    )
    ticks, notes = 0, []
    for message in mido.merge_tracks(mido.MidiFile(midi).tracks):
        ticks += message.time
        if message.type == "note_on" and message.velocity > 0:
            notes.append((ticks, message.note))
    return sorted(notes)
