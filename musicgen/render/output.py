"""Write generated files safely: sanitised names, atomic writes, no clobbering."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from musicgen.errors import MusicgenError
from musicgen.files import atomic_write, current_umask

if TYPE_CHECKING:
    from musicgen.render.midi import Sound

#: Longest file-name stem made from a title.
MAX_STEM = 48


def slugify(title: str, fallback: str = "tune") -> str:
    """A safe file-name stem: ASCII letters, digits and hyphens, bounded length."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_STEM].rstrip("-") or fallback


def new_run_dir(root: Path, prefix: str) -> Path:
    """A fresh folder name under ``root``: ``<prefix>-YYYYmmdd-HHMMSS[-N]``."""
    stem = f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, count = Path(root) / stem, 1
    while candidate.exists():
        count += 1
        candidate = Path(root) / f"{stem}-{count}"
    return candidate


class OutputFolder:
    """Files written into one folder, all or nothing.

    Use as a context manager. Files are written into a hidden staging folder
    and appear under their names only when the block ends without error:
    a new folder is the staging folder renamed, an existing one gets each
    file moved in. Files and folders are fsynced first, so a crash or a
    SIGKILL leaves either the finished folder or only a hidden
    ``.NAME.partial-*`` folder, never complete-looking files; if the block
    raises, the staging folder is removed. Files that were there before are
    never touched unless ``force`` is set, and an identical file already in
    place is not an error (so a second run can add formats).
    """

    def __init__(self, path: Path, force: bool = False):
        self.path = Path(path)
        self.force = force
        self.written: list[Path] = []
        self.streams: list = []
        self.created = False
        self.staging: Path  # made by __enter__

    def __enter__(self) -> OutputFolder:
        if self.path.exists() and not self.path.is_dir():
            raise MusicgenError(f"{self.path}: exists and is not a folder")
        self.created = not self.path.exists()
        home = self.path.parent if self.created else self.path
        try:
            home.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.partial-", dir=home))
            if self.created:  # it becomes the folder: the permissions a plain mkdir gives, not mkdtemp's 0700
                self.staging.chmod(0o777 & ~current_umask())
        except OSError as error:
            raise MusicgenError(f"{self.path}: cannot create folder ({error.strerror or error})") from None
        return self

    def _check_new(self, name: str, payload: bytes | None = None) -> Path:
        target = self.path / name
        if target in self.written:
            return target
        if not self.created and target.exists() and not self.force:
            if payload is None or not target.is_file() or target.read_bytes() != payload:
                raise MusicgenError(f"{target}: already exists (use --force to overwrite)")
        return target

    def write(self, name: str, data: bytes | str) -> Path:
        """Stage one file; refuses to replace a different one unless forced."""
        payload = data.encode("utf-8") if isinstance(data, str) else data
        target = self._check_new(name, payload)
        try:
            atomic_write(self.staging / name, lambda file: file.write(payload))
        except OSError as error:
            raise MusicgenError(f"{target}: cannot write ({error.strerror or error})") from None
        if target not in self.written:
            self.written.append(target)
        return target

    def open_stream(self, name: str):
        """A text file written bit by bit, appearing under ``name`` when the folder is finished.

        A file already under ``name`` is checked when the stream closes: the
        same text is no error, another is refused (without ``force``).
        """
        target = self.path / name
        try:
            handle = open(self.staging / name, "w", encoding="utf-8")
        except OSError as error:
            raise MusicgenError(f"{target}: cannot write ({error.strerror or error})") from None
        self.streams.append((handle, target))
        return handle

    def close_stream(self, handle) -> Path:
        target = next(t for h, t in self.streams if h is handle)
        try:
            handle.flush()
            os.fsync(handle.fileno())
        except OSError as error:
            raise MusicgenError(f"{target}: cannot write ({error.strerror or error})") from None
        finally:
            handle.close()
        self.streams = [(h, t) for h, t in self.streams if h is not handle]
        self._check_new(target.name, (self.staging / target.name).read_bytes() if target.exists() else None)
        self.written.append(target)
        return target

    def __exit__(self, kind, error, trace) -> None:
        for handle, _ in self.streams:
            handle.close()
        if error is None:
            try:
                self._commit()
                return
            except OSError as failure:
                shutil.rmtree(self.staging, ignore_errors=True)
                raise MusicgenError(f"{self.path}: cannot write ({failure.strerror or failure})") from None
        shutil.rmtree(self.staging, ignore_errors=True)

    def _commit(self) -> None:
        """Move the staged files into place, durably."""
        fsync_folder(self.staging)
        if self.created:
            os.rename(self.staging, self.path)
            fsync_folder(self.path.parent)
            return
        for staged in sorted(self.staging.iterdir()):
            os.replace(staged, self.path / staged.name)
        fsync_folder(self.path)
        self.staging.rmdir()


def fsync_folder(path: Path) -> None:
    """Make a folder's entries (new, renamed files) durable."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


class _StemMaker:
    """Unique stems ``NN-title`` for tunes numbered in order."""

    def __init__(self, width: int):
        self.width, self.count = width, 0
        self.seen: set[str] = set()

    def __call__(self, title: str) -> str:
        self.count += 1
        stem = f"{self.count:0{self.width}d}-{slugify(title)}"
        while stem in self.seen:
            stem += "-x"
        self.seen.add(stem)
        return stem


def tune_file_names(titles: list[str], width: int) -> list[str]:
    """Unique stems ``NN-title`` for numbered tunes."""
    make = _StemMaker(width)
    return [make(title) for title in titles]


@dataclass
class Saved:
    """What :func:`save_tunes` wrote.

    Attributes:
        paths: every file written, tunebook last.
        failed: ``(file stem, reason)`` for tunes that could not become MIDI/WAV.
        renderer: the audio renderer used (``soundfont`` or ``additive``), if any.
    """

    paths: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    renderer: str = ""


def save_tunes(
    tunes: list,
    out_dir: Path,
    force: bool = False,
    formats: tuple[str, ...] = ("abc",),
    sound: Sound | None = None,
    progress: bool = False,
) -> Saved:
    """Write each tune as ``NN-title.abc`` (and ``.mid``, ``.wav``) plus ``tunebook.abc``.

    Args:
        tunes: objects with ``.abc`` and ``.title`` (generated or parsed tunes).
        out_dir: the folder, created if needed.
        force: replace files that already exist.
        formats: any of ``abc``, ``mid``, ``wav``, ``musicxml``, ``svg``, ``png``, ``roll``.
        sound: instruments, tempo and accompaniment of the MIDI and audio
            (:class:`musicgen.render.midi.Sound`; None: its defaults).
        progress: show a progress bar on stderr.

    Returns:
        A :class:`Saved`. A tune that cannot be converted keeps its ``.abc``
        and is listed in ``failed``; the others are still converted.

    Raises:
        MusicgenError: a file exists (without ``force``), cannot be written,
            or a format is unknown; then nothing from this call is left behind.
    """
    return save_tune_stream([tunes], len(tunes), out_dir, force, formats, sound, progress)


def save_tune_stream(
    batches,
    total: int,
    out_dir: Path,
    force: bool = False,
    formats: tuple[str, ...] = ("abc",),
    sound: Sound | None = None,
    progress: bool = False,
) -> Saved:
    """:func:`save_tunes` for tunes that arrive in batches (an iterable of lists).

    Each batch is written and dropped before the next is asked for, and the
    tunebook is appended to a temporary file, so memory stays bounded however
    many tunes there are. ``total`` sizes the file numbers and progress bar.
    """
    from tqdm import tqdm

    from musicgen.render.convert import RenderPool, check_formats

    formats = check_formats(formats)
    make_stem = _StemMaker(max(2, len(str(total))))
    saved = Saved()
    with (
        OutputFolder(out_dir, force=force) as folder,
        RenderPool(jobs=None if total >= 4 else 1) as pool,
        tqdm(total=total, disable=not progress, unit="tune", desc="writing") as bar,
    ):
        book = folder.open_stream("tunebook.abc")
        for tunes in batches:
            rendered = pool.render([t.abc for t in tunes], formats, sound)
            for tune, result in zip(tunes, rendered):
                stem = make_stem(tune.title)
                for extension, data in result.files.items():
                    folder.write(f"{stem}.{extension}", data)
                if result.error:
                    saved.failed.append((stem, result.error))
                saved.renderer = saved.renderer or result.renderer
                book.write(tune.abc + "\n")
                bar.update(1)
        folder.close_stream(book)
    saved.paths = folder.written
    return saved
