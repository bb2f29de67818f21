"""Writing files safely: atomic replacement, and clearing what a killed write left behind."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

_TEMPORARY_SUFFIX = ".tmp"  # atomic_write's temporaries: .NAME.RANDOM.tmp beside NAME


def current_umask() -> int:
    """The process's file-mode creation mask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMPORARY_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def clear_cut_short_writes(path: Path) -> None:
    """Delete the temporaries a kill left beside ``path`` in the middle of :func:`atomic_write`.

    Only that function's own temporaries for ``path`` go; call it when no write to ``path`` is under way.
    """
    path = Path(path)
    for temporary in path.parent.glob(f".{glob.escape(path.name)}.*{_TEMPORARY_SUFFIX}"):
        temporary.unlink(missing_ok=True)
