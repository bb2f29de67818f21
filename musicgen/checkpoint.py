"""One self-describing checkpoint file per model.

A checkpoint holds the weights, the model and training configuration, the
vocabulary, the training step, the optimizer state and what resuming needs.
It is written with ``torch.save`` and read with ``torch.load(weights_only=True)``,
which refuses to run code hidden in the file. Writes are atomic: a temporary
file in the same folder is renamed over the target, so a crash never leaves a
half-written checkpoint behind.
"""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from musicgen.errors import CheckpointError

FORMAT = "musicgen-checkpoint"
VERSION = 1
#: The bundled default model, inside the package.
BUNDLED_MODEL = "default.pt"
_TEMPORARY_SUFFIX = ".tmp"  # atomic_write's temporaries: .NAME.RANDOM.tmp beside NAME


def _umask() -> int:
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
        os.chmod(temporary, 0o666 & ~_umask())
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


def weights_digest(state_dict: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names and bytes of the weights, to detect corruption."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint atomically; ``payload`` gets the format, version and digest."""
    data = {"format": FORMAT, "version": VERSION, **payload}
    data["model_sha256"] = weights_digest(data["model"])
    try:
        atomic_write(Path(path), lambda file: torch.save(data, file))
    except OSError as error:
        raise CheckpointError(f"{path}: cannot write checkpoint ({error.strerror or error})") from error


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint without executing anything stored in it.

    Raises:
        CheckpointError: the file is missing, empty, truncated, corrupt, holds
            code or other objects, or is of another format or version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: checkpoint file is empty")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: not a readable musicgen checkpoint ({reason[:160]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a musicgen checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {data.get('version')!r} is not supported "
            f"(this musicgen reads version {VERSION})"
        )
    for key in ("model_config", "vocab", "model"):
        if key not in data:
            raise CheckpointError(f"{path}: checkpoint lacks {key!r}")
    if "model_sha256" in data and weights_digest(data["model"]) != data["model_sha256"]:
        raise CheckpointError(f"{path}: checkpoint is corrupt (its weights do not match their checksum)")
    return data


def load_task_checkpoint(path: Path, task: str, what: str) -> dict[str, Any]:
    """:func:`load_checkpoint`, refusing a checkpoint made for another task.

    Raises:
        CheckpointError: as :func:`load_checkpoint`, or the file holds a
            ``task`` other than ``task`` (``what`` names the wanted kind).
    """
    data = load_checkpoint(path)
    if data.get("task", "lm") != task:
        raise CheckpointError(f"{path}: a {data.get('task', 'lm')} checkpoint, not a {what}")
    return data


def bundled_model_path(name: str = BUNDLED_MODEL) -> Path:
    """Where a bundled model (by default the music model) lives inside the installed package."""
    return Path(str(resources.files("musicgen") / "models" / name))
