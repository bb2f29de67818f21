"""Convert tunes and tunebooks to MIDI, WAV, MusicXML and pictures, one file of each per tune.

Tunebooks are converted on every core (a process pool); a tune that cannot be
converted is reported with its reason and the rest still convert.
"""

from __future__ import annotations

import io
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.errors import ConversionError, MusicgenError
from musicgen.extras import require

if TYPE_CHECKING:
    from musicgen.render.midi import Sound

#: ``svg``, ``png`` and ``pdf`` are sheet music; ``musicxml`` is for notation programs;
#: ``roll`` is a piano roll, written as ``.roll.png``.
FORMATS = ("abc", "mid", "wav", "musicxml", "svg", "png", "pdf", "roll")


@dataclass
class Rendered:
    """One tune's files as bytes, by format, or the reason it failed."""

    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""
    renderer: str = ""


def check_formats(formats) -> tuple[str, ...]:
    """Validate a list of formats (abc, mid, wav, musicxml, svg, png, roll).

    Raises:
        MusicgenError: an unknown format.
        MissingExtraError: a format whose extra is not installed (before any work).
    """
    formats = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in formats if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise MusicgenError(f"formats must be among {', '.join(FORMATS)}, not {', '.join(unknown) or 'none'}")
    for name in formats:
        if name in FORMAT_EXTRAS:
            require(FORMAT_EXTRAS[name], f".{name} files")
    return formats


#: The extra each format needs (abc and mid need none).
FORMAT_EXTRAS = {"wav": "audio", "musicxml": "corpus", "svg": "sheet", "png": "sheet", "pdf": "sheet", "roll": "plots"}


def render_tune(
    abc: str,
    formats: tuple[str, ...] = ("abc", "mid", "wav"),
    sound: Sound | None = None,
    renderer: str = "auto",
) -> Rendered:
    """Files for one tune; a conversion failure is returned, not raised.

    ``sound``: instruments, tempo and accompaniment of the MIDI and audio
    (:class:`musicgen.render.midi.Sound`; None: its defaults).
    """
    result = Rendered()
    if "abc" in formats:
        result.files["abc"] = abc.encode("utf-8")
    try:
        if "mid" in formats or "wav" in formats:
            _render_sound(abc, formats, sound, renderer, result)
        if "musicxml" in formats:
            from musicgen.render.musicxml import abc_to_musicxml

            result.files["musicxml"] = abc_to_musicxml(abc)
        _render_pictures(abc, formats, result.files)
    except ConversionError as error:
        result.error = str(error)
    return result


def _render_sound(abc: str, formats: tuple[str, ...], sound: Sound | None, renderer: str, result: Rendered) -> None:
    """MIDI (and WAV) into ``result``."""
    from musicgen.abc.melody import abc_to_melody
    from musicgen.render.midi import melody_to_midi_file

    midi = melody_to_midi_file(abc_to_melody(abc), sound)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    if "mid" in formats:
        result.files["mid"] = buffer.getvalue()
    if "wav" in formats:
        from musicgen.render.audio import render_wav

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "tune.mid"
            path.write_bytes(buffer.getvalue())
            result.files["wav"], result.renderer = render_wav(path, renderer)


def _render_pictures(abc: str, formats: tuple[str, ...], files: dict[str, bytes]) -> None:
    """Sheet music (svg, png, pdf) and piano roll (roll -> .roll.png) into ``files``."""
    from musicgen import pictures

    if {"svg", "png", "pdf"} & set(formats):
        svg = pictures.abc_to_svg(abc)
        if "svg" in formats:
            files["svg"] = svg.encode("utf-8")
        if "png" in formats:
            files["png"] = pictures.svg_to_png(svg)
        if "pdf" in formats:
            files["pdf"] = pictures.svg_to_pdf(svg)
    if "roll" in formats:
        files["roll.png"] = pictures.piano_roll_png(abc)


def _render_job(job) -> Rendered:
    return render_tune(*job)


class RenderPool:
    """Processes that render tunes (default: one per core), shared by every batch of a run.

    Fewer than 4 tunes at a time are rendered in this process. Use it as a context manager.
    """

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs or os.cpu_count() or 1
        self.pool = ProcessPoolExecutor(max_workers=self.jobs) if self.jobs > 1 else None

    def render(self, abcs: list[str], formats: tuple[str, ...], sound: Sound | None = None, renderer="auto"):
        """Render each tune (see :func:`render_tune`); yields the results in order."""
        work = [(abc, formats, sound, renderer) for abc in abcs]
        if self.pool is None or len(work) < 4:
            yield from map(_render_job, work)
            return
        yield from self.pool.map(_render_job, work, chunksize=4)

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def render_tunes(
    abcs: list[str],
    formats: tuple[str, ...],
    sound: Sound | None = None,
    renderer="auto",
    jobs: int | None = None,
):
    """Render many tunes, on ``jobs`` processes (default: every core); yields in order."""
    with RenderPool(jobs) as pool:
        yield from pool.render(abcs, formats, sound, renderer)
