"""One way to save and load every model kind: a folder of safetensors weights, JSON settings and vocabulary.

A saved model is a folder::

    config.json        format, version, task, model and training settings, step, metrics...
    vocab.json         the characters or words it reads and writes
    model.safetensors  the weights (safetensors: tensors only, so loading never runs code)
    README.md          the model card, where one is given

The three model kinds (:class:`~musicgen.model.lm.CharLM` through
:func:`~musicgen.model.lm.load_model`, the sentiment and translation
models) save with ``save_pretrained(folder)`` and load with
``from_pretrained(path)``; :func:`load_model_data` also reads the older
single-file ``.pt`` checkpoints (and a training run folder's ``model.pt``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from musicgen.errors import CheckpointError, MusicgenError
from musicgen.files import current_umask
from musicgen.limits import MAX_CHECKPOINT_BYTES, check_regular_file, read_bounded
from musicgen.model.checkpoint import check_parts, load_checkpoint, save_checkpoint, weights_digest

FORMAT = "musicgen-pretrained"
VERSION = 1
CONFIG_FILE = "config.json"
VOCAB_FILE = "vocab.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
#: Largest config.json or vocab.json read (the bundled translator's vocabulary is about 140 KB).
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Checkpoint parts that only resuming needs: a saved model leaves them out.
_RESUME_ONLY = ("optimizer", "progress", "corpus_paths", "format", "version", "model_sha256")


def is_pretrained(path: Path) -> bool:
    """True for a folder :func:`save_pretrained` wrote (it has a config.json)."""
    return Path(path).is_dir() and (Path(path) / CONFIG_FILE).is_file()


def save_pretrained(folder: Path | str, payload: dict[str, Any], card: str | None = None) -> Path:
    """Write a model folder from a checkpoint-shaped ``payload`` (weights under ``"model"``), atomically.

    The files are written to a hidden folder beside ``folder`` and renamed into
    place, so a crash leaves the old folder or the new one, never a mixture. A
    ``folder`` that exists must be a saved model (it is replaced).

    Raises:
        CheckpointError: ``folder`` is a file or a folder of something else, or cannot be written.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    if folder.exists() and not is_pretrained(folder):
        raise CheckpointError(f"{folder}: exists and is not a saved musicgen model; choose another folder")
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in payload["model"].items()}
    settings = {k: v for k, v in payload.items() if k not in ("model", "vocab", *_RESUME_ONLY)}
    config = {"format": FORMAT, "version": VERSION, **settings, "model_sha256": weights_digest(weights)}
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
        try:
            save_file(weights, str(staging / WEIGHTS_FILE))
            _write_json(staging / CONFIG_FILE, config)
            _write_json(staging / VOCAB_FILE, payload["vocab"])
            if card:
                (staging / CARD_FILE).write_text(card, encoding="utf-8")
            for file in staging.iterdir():
                os.chmod(file, 0o666 & ~current_umask())
            os.chmod(staging, 0o777 & ~current_umask())
            _swap_in(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        raise CheckpointError(f"{folder}: cannot write the model ({error.strerror or error})") from None
    except ValueError as error:  # json: a value that is not finite
        raise CheckpointError(f"{folder}: cannot write the model ({error})") from None
    return folder


def _write_json(path: Path, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(value, file, ensure_ascii=False, allow_nan=False, indent=1)
        file.flush()
        os.fsync(file.fileno())


def _swap_in(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``; an old ``folder`` is moved aside first and deleted after."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        os.rmdir(old)
        os.rename(folder, old)
    os.rename(staging, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def load_pretrained(folder: Path | str) -> dict[str, Any]:
    """A saved model folder as a checkpoint-shaped dict (weights under ``"model"``), checked.

    Each file is read bounded; the JSON must hold finite numbers only; the
    weights must be finite floating-point tensors whose digest matches the one
    in config.json.

    Raises:
        CheckpointError: a file is missing, too large, unreadable or of the
            wrong shape, or the weights do not match their digest.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    folder = Path(folder)
    config = _read_json(folder / CONFIG_FILE, "model settings (config.json)")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{folder}: not a saved musicgen model (its config.json is of another format)")
    if config.get("version") != VERSION:
        raise CheckpointError(f"{folder}: saved-model version {config.get('version')!r} is not supported")
    vocab = _read_json(folder / VOCAB_FILE, "vocabulary (vocab.json)")
    path = folder / WEIGHTS_FILE
    try:
        check_regular_file(path, MAX_CHECKPOINT_BYTES, "weights file")
        weights = load_safetensors(read_bounded(path, MAX_CHECKPOINT_BYTES))
    except MusicgenError as error:
        raise CheckpointError(str(error)) from None
    except (SafetensorError, ValueError, RuntimeError, OSError) as error:
        raise CheckpointError(f"{path}: not readable safetensors weights ({str(error)[:120]})") from None
    data = {**config, "vocab": vocab, "model": weights}
    for key in ("task", "model_config", "vocab"):
        if key not in data:
            raise CheckpointError(f"{folder}: its config.json lacks {key!r}")
    check_parts(folder, data)
    if weights_digest(weights) != config.get("model_sha256"):
        raise CheckpointError(f"{folder}: the weights are corrupt (they do not match their checksum)")
    return data


def _read_json(path: Path, what: str) -> Any:
    try:
        check_regular_file(path, MAX_JSON_BYTES, what)
        text = read_bounded(path, MAX_JSON_BYTES).decode("utf-8")
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite, object_pairs_hook=_no_repeats)
    except MusicgenError as error:
        raise CheckpointError(str(error)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(f"{path}: not valid JSON ({str(error)[:120]})") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice")
    return dict(pairs)


def load_model_data(path: Path | str, task: str, what: str) -> dict[str, Any]:
    """A model's parts from a saved folder, a training run folder (its model.pt) or a ``.pt`` checkpoint.

    Raises:
        CheckpointError: as :func:`load_pretrained` or
            :func:`~musicgen.model.checkpoint.load_checkpoint`, or the model
            is of a task other than ``task`` (``what`` names the wanted kind).
    """
    path = Path(path)
    if is_pretrained(path):
        data = load_pretrained(path)
    else:
        data = load_checkpoint(path / "model.pt" if path.is_dir() else path)
    if data.get("task", "lm") != task:
        raise CheckpointError(f"{path}: a {data.get('task', 'lm')} checkpoint, not a {what}")
    return data


class Saves:
    """``save`` and ``save_pretrained`` for a model kind, from its :meth:`payload` (one way for all three kinds)."""

    def payload(self, half: bool = False) -> dict[str, Any]:
        """The model's parts, shaped as a checkpoint (weights under ``"model"``); ``half``: float16 weights."""
        raise NotImplementedError

    def save_pretrained(self, folder: Path | str, half: bool = False, card: str | None = None) -> Path:
        """Write the model as a saved folder; ``card``: its README.md.

        Raises:
            CheckpointError: the folder cannot be written or holds something else.
        """
        return save_pretrained(folder, self.payload(half), card)

    def save(self, path: Path | str, half: bool = False, card: str | None = None) -> Path:
        """Write the model: a ``.pt`` path gets one checkpoint file (no card), any other a saved folder.

        Raises:
            CheckpointError: the file or folder cannot be written.
        """
        if Path(path).suffix == ".pt":
            save_checkpoint(Path(path), self.payload(half))
            return Path(path)
        return self.save_pretrained(path, half, card)


def float_weights(state_dict: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    """Weights on the CPU, in float16 when ``half`` (floating-point ones only)."""
    return {
        name: (t.detach().cpu().half() if half and t.is_floating_point() else t.detach().cpu())
        for name, t in state_dict.items()
    }
