"""One self-describing checkpoint file per model.

A checkpoint holds the weights, the model and training configuration, the
vocabulary, the training step, the optimizer state and what resuming needs.
It is written with ``torch.save`` and read with ``torch.load(weights_only=True)``,
which refuses to run code hidden in the file. Writes are atomic: a temporary
file in the same folder is renamed over the target, so a crash never leaves a
half-written checkpoint behind.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import torch

from musicgen.errors import CheckpointError, MusicgenError
from musicgen.files import atomic_write
from musicgen.limits import MAX_CHECKPOINT_BYTES, check_regular_file

M = TypeVar("M", bound=torch.nn.Module)
FORMAT = "musicgen-checkpoint"
VERSION = 1


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
        raise CheckpointError(f"{path}: cannot write checkpoint ({error.strerror or error})") from None
    except RuntimeError as error:  # torch's zip writer reports a full disk this way
        reason = "no space left on the disk?" if "write" in str(error).lower() else str(error).splitlines()[0][:120]
        raise CheckpointError(f"{path}: cannot write checkpoint ({reason})") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint without executing anything stored in it.

    Before anything is unpacked the file must be a regular file whose
    contents, unpacked, stay under :data:`musicgen.limits.MAX_CHECKPOINT_BYTES`;
    after, its parts must have the types a checkpoint has, and its weights
    must be floating-point tensors with finite values.

    Raises:
        CheckpointError: the file is missing, not a regular file, empty,
            too large, truncated, corrupt, holds code or other objects, has
            parts of the wrong type or non-finite weights, or is of another
            format or version.
    """
    path = Path(path)
    try:
        size = check_regular_file(path, MAX_CHECKPOINT_BYTES, "checkpoint file")
    except MusicgenError as error:
        raise CheckpointError(str(error)) from None
    if size == 0:
        raise CheckpointError(f"{path}: checkpoint file is empty")
    _check_unpacked_size(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file
        raise CheckpointError(f"{path}: {_unreadable_reason(path, error)}") from None
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
    check_parts(path, data)
    if "model_sha256" in data and weights_digest(data["model"]) != data["model_sha256"]:
        raise CheckpointError(f"{path}: checkpoint is corrupt (its weights do not match their checksum)")
    return data


#: The type each part of a checkpoint must have (None allowed where the tuple says so).
_PARTS = {
    "model_config": (dict,),
    "model": (dict,),
    "vocab": (list, dict),
    "train_config": (dict, type(None)),
    "task": (str,),
    "step": (int,),
    "tonics": (dict, type(None)),
    "sampling": (dict, type(None)),
    "echo": (list, type(None)),
    "header_counts": (dict, type(None)),
    "metrics": (dict, type(None)),
    "optimizer": (dict, type(None)),
    "progress": (dict, type(None)),
    "corpus_paths": (list, type(None)),
    "model_sha256": (str,),
    "languages": (list, tuple),
}


def check_parts(path: Path, data: dict) -> None:
    """Refuse parts of the wrong type and weights that are not finite floating-point tensors."""
    for key, kinds in _PARTS.items():
        if key in data and (not isinstance(data[key], kinds) or isinstance(data[key], bool)):
            names = " or ".join("None" if kind is type(None) else kind.__name__ for kind in kinds)
            raise CheckpointError(f"{path}: its {key!r} is a {type(data[key]).__name__}, not a {names}")
    for name, tensor in data["model"].items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{path}: its weights hold {type(tensor).__name__} {str(name)[:40]!r}, not tensors")
        if not tensor.is_floating_point():
            raise CheckpointError(f"{path}: weight {name!r} is {tensor.dtype}, not floating-point")
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: weight {name!r} holds NaN or infinite values (a diverged run?)")


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip checkpoint whose contents would unpack past the bound (a zip bomb)."""
    if not zipfile.is_zipfile(path):
        return  # torch.load says what it is
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable checkpoint (a damaged archive: {error})") from None
    if unpacked > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{path}: unpacks to {unpacked:,} bytes; a checkpoint may hold at most {MAX_CHECKPOINT_BYTES:,}"
        )


def _unreadable_reason(path: Path, error: Exception) -> str:
    """What is wrong with a file torch.load refused, in a user's words (from the file's own shape)."""
    text = str(error)
    if "weights_only" in text or "Unsupported global" in text or "Weights only load failed" in text:
        return (
            "holds objects other than weights and settings (it could run code), so it was not loaded; "
            "only load checkpoints from people you trust, with musicgen's own tools"
        )
    with open(path, "rb") as file:
        start = file.read(4)
    if zipfile.is_zipfile(path):
        return "a damaged checkpoint (its archive opens but its contents do not read)"
    if start == b"PK\x03\x04":
        return "not a readable checkpoint (truncated, or not a file torch.save wrote: its archive's end is missing)"
    if start[:1] == b"\x80":
        return "a damaged checkpoint in PyTorch's old format"
    return "not a checkpoint (another kind of file: musicgen checkpoints are written by 'musicgen train')"


def build_from_checkpoint(path: Path, data: dict, build: Callable[[], M], may_lack: tuple[str, ...] = ()) -> M:
    """The module a checkpoint describes, with its weights, checked before any memory is spent.

    ``build()`` makes the module from the checkpoint's settings. It is first
    called on PyTorch's meta device, which allocates nothing, so that a
    checkpoint declaring sizes its weights do not have (a 3 KB file with
    ``hidden_size`` 9000) is refused before a real module is built.
    ``may_lack``: weight names the module may miss (tied weights).

    Raises:
        CheckpointError: the settings cannot build a module, or the weights
            do not fit the module they build.
    """
    try:
        with torch.device("meta"):
            shell = build()
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RuntimeError) as error:
        raise CheckpointError(f"{path}: its model settings are not valid ({str(error)[:160]})") from None
    expected = {name: tuple(t.shape) for name, t in shell.state_dict().items()}
    given = {name: tuple(t.shape) for name, t in data["model"].items()}
    missing = sorted(set(expected) - set(given) - set(may_lack))
    unexpected = sorted(set(given) - set(expected))
    wrong = sorted(name for name in set(expected) & set(given) if expected[name] != given[name])
    if missing or unexpected or wrong:
        first = (
            f"{wrong[0]} is {given[wrong[0]]}, the settings say {expected[wrong[0]]}"
            if wrong
            else f"missing {missing[0]}"
            if missing
            else f"unexpected {unexpected[0]}"
        )
        raise CheckpointError(f"{path}: its weights do not fit the model its settings describe ({first})")
    module = build()
    module.load_state_dict({name: t.float() for name, t in data["model"].items()}, strict=not may_lack)
    return module


def bundled_model_path(name: str) -> Path:
    """Where a bundled model (a saved folder, see :mod:`musicgen.model.persistence`) lives in the installed package."""
    return Path(str(resources.files("musicgen") / "models" / name))
