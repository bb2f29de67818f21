"""Pictures of tunes and runs: sheet music (SVG, PNG), piano rolls and training curves.

Sheet music is engraved by verovio, which reads ABC directly; cairosvg turns
its SVG into PNG. Piano rolls and training curves are drawn with matplotlib.
All functions return bytes, so callers decide where (and how safely) to
write them.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from musicgen.errors import ConversionError, MusicgenError
from musicgen.extras import need
from musicgen.limits import VEROVIO_MEMORY_BYTES, child_limits

#: verovio's page width in its units (tenths of a millimetre at scale 100).
PAGE_WIDTH = 2100
#: Tall enough that a tune of the corpus's length fits one page.
PAGE_HEIGHT = 60000


def abc_to_svg(abc: str, scale: int = 40, timeout_s: float = 30.0) -> str:
    """One tune's sheet music as an SVG document (one page, as tall as needed).

    The tune must first read cleanly with musicgen's own ABC reader. verovio
    then engraves it (a tune of several voices from its MusicXML, a staff per
    voice, which needs music21) in a child process: verovio is C++ and crashes on some
    malformed ABC, and a crash there must not take this process with it.

    Raises:
        ConversionError: the tune cannot be read, or verovio fails, crashes
            or takes longer than ``timeout_s``.
    """
    from musicgen.abc.melody import abc_to_melody

    melody = abc_to_melody(abc)  # raises ConversionError for what musicgen cannot read
    if melody.voices:
        # verovio's ABC reader runs voices one after another on one staff: a staff each comes from MusicXML
        from musicgen.render.musicxml import abc_to_musicxml

        text, input_from = abc_to_musicxml(abc).decode("utf-8"), "musicxml"
    else:
        # verovio writes control characters as &#01; (which no XML reader takes), drops a last bar no bar line
        # ends, and engraves M:none as a 0 time signature: the text it gets is mended for each
        text, input_from = _no_meter_for_none(_with_final_bar_line(_printable(abc))), "abc"
    try:
        child = subprocess.run(
            [sys.executable, "-m", "musicgen.render.pictures", str(scale), input_from],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=timeout_s,
            check=False,
            preexec_fn=child_limits(VEROVIO_MEMORY_BYTES, timeout_s),
        )
    except subprocess.TimeoutExpired:
        raise ConversionError(f"verovio took longer than {timeout_s:.0f} s to engrave this tune") from None
    if child.returncode != 0:
        reason = child.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {child.returncode}"]
        if child.returncode < 0:
            reason = [f"verovio crashed (signal {-child.returncode})"]
        raise ConversionError(f"cannot engrave this tune: {reason[0][:200]}")
    svg = child.stdout.decode("utf-8", "replace")
    try:
        ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise ConversionError(f"verovio wrote an SVG that is not well-formed ({error})") from None
    return svg


def _with_final_bar_line(abc: str) -> str:
    """The tune with a bar line after its last note: verovio drops a last bar that no bar line ends
    (``CDEF|GABc`` drew 4 of its 8 notes)."""
    lines = abc.rstrip("\n").split("\n")
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].split("%", 1)[0].rstrip()
        if not line or (len(line) > 1 and line[1] == ":" and line[0].isalpha()):
            continue  # a blank, comment or field line (W:, K:...) after the music
        if not (line.endswith("|") or line.endswith("|]") or line.endswith("::")):
            lines[index] = line.rstrip("\\ ") + " |"
        break
    return "\n".join(lines) + "\n"


def _no_meter_for_none(abc: str) -> str:
    """``M:none`` as an empty ``M:``: verovio engraves ``none`` as a time signature of 0."""
    abc = re.sub(r"^M:\s*none\s*$", "M:", abc, flags=re.MULTILINE | re.IGNORECASE)
    return re.sub(r"\[M:\s*none\s*\]", "[M:]", abc, flags=re.IGNORECASE)


def _printable(abc: str) -> str:
    """The tune without control characters (tabs become spaces; line breaks stay)."""
    return "".join(
        " " if c == "\t" else c for c in abc if c == "\n" or c == "\t" or unicodedata.category(c) not in ("Cc", "Cs")
    )


def engrave(abc: str, scale: int = 40, input_from: str = "abc") -> str:
    """verovio in this process: ABC (or MusicXML, ``input_from="musicxml"``) in, SVG out.

    Use :func:`abc_to_svg`, which isolates it.

    Raises:
        ConversionError: verovio cannot read the tune.
    """
    verovio = need("verovio")

    verovio.enableLog(verovio.LOG_OFF)  # its warnings would go straight to the terminal
    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "inputFrom": input_from,
            "pageWidth": PAGE_WIDTH,
            "pageHeight": PAGE_HEIGHT,
            "adjustPageHeight": True,
            "footer": "none",
            "scale": scale,
            "breaks": "auto",
        }
    )
    if not abc.strip() or not toolkit.loadData(abc) or toolkit.getPageCount() < 1:
        raise ConversionError("verovio cannot read this tune")
    svg = toolkit.renderToSVG(1)
    if "<svg" not in svg:
        raise ConversionError("verovio wrote no SVG for this tune")
    return svg


def svg_to_png(svg: str, width: int = 1200) -> bytes:
    """An SVG document rendered as a PNG ``width`` pixels wide, on white."""
    cairosvg = need("cairosvg")

    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width, background_color="white")


def svg_to_pdf(svg: str) -> bytes:
    """An SVG document as a one-page PDF of its size (vector, for printing), on white."""
    cairosvg = need("cairosvg")

    return cairosvg.svg2pdf(bytestring=svg.encode("utf-8"), background_color="white")


def piano_roll_png(abc: str, width_inches: float = 10.0) -> bytes:
    """The tune's notes as bars over time (beats across, pitch up), as PNG bytes.

    Raises:
        ConversionError: the tune cannot be read (see :func:`musicgen.abc_to_melody`).
    """
    from musicgen.abc.melody import abc_to_melody

    melody = abc_to_melody(abc)
    if not melody.notes:
        raise ConversionError("the tune has no notes to draw")
    figure, axes = _figure(width_inches, 3.2)
    rows: dict[int, list] = {}
    for note in melody.notes:  # start and length in whole notes, drawn in quarter notes
        rows.setdefault(note.pitch, []).append((float(note.start) * 4, float(note.length) * 4))
    for pitch, spans in rows.items():  # one call per pitch: long tunes stay quick to draw
        axes.broken_barh(spans, (pitch - 0.4, 0.8), facecolors="#3b6ea5", edgecolors="#1d3a5c", linewidth=0.5)
    pitches = [note.pitch for note in melody.notes]
    axes.set_ylim(min(pitches) - 2, max(pitches) + 2)
    axes.set_xlim(0, max(float(n.start + n.length) for n in melody.notes) * 4)
    axes.set_xlabel("quarter notes")
    axes.set_ylabel("MIDI pitch")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def training_curves_png(log_path: Path | str) -> bytes:
    """Training and validation bits/char against steps, from a run's ``log.jsonl``.

    Raises:
        MusicgenError: the log is missing, unreadable or has no validations.
    """
    records = read_training_log(log_path)
    steps = [r["step"] for r in records]
    figure, axes = _figure(7.0, 4.0)
    for key, label in (("train_bpc", "training"), ("valid_bpc", "validation")):
        points = [(s, r[key]) for s, r in zip(steps, records) if _finite(r.get(key))]
        if points:
            axes.plot(*zip(*points), marker="o", markersize=3, label=label)
    axes.set_xlabel("step")
    axes.set_ylabel("bits per character")
    run = Path(log_path) if Path(log_path).is_dir() else Path(log_path).parent
    axes.set_title(run.resolve().name or "training")
    axes.grid(alpha=0.3)
    axes.legend()
    return _png(figure)


def read_training_log(log_path: Path | str) -> list[dict]:
    """The validation records of a run's ``log.jsonl``, in order; bad lines are skipped.

    Raises:
        MusicgenError: the log is missing, unreadable or has no usable records.
    """
    path = Path(log_path)
    if path.is_dir():
        path = path / "log.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise MusicgenError(f"{path}: no such training log") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MusicgenError(f"{path}: cannot read training log ({error})") from None
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
    if not records:
        raise MusicgenError(f"{path}: no validation records to plot")
    return records


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _figure(width: float, height: float):
    matplotlib = need("matplotlib")

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt.subplots(figsize=(width, height))


def _png(figure) -> bytes:
    from matplotlib import pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _engrave_stdin() -> int:
    """Child-process entry: ABC on stdin, SVG on stdout (see :func:`abc_to_svg`)."""
    try:
        scale, input_from = (int(sys.argv[1]), sys.argv[2]) if len(sys.argv) > 2 else (40, "abc")
        svg = engrave(sys.stdin.buffer.read().decode("utf-8"), scale, input_from)
        sys.stdout.buffer.write(svg.encode("utf-8"))
    except ConversionError as error:
        print(error, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_engrave_stdin())
