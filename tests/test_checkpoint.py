"""Checkpoints: one safe, self-describing file."""

import pytest
import torch

from musicgen.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from musicgen.errors import CheckpointError
from musicgen.sample import load_model


class _WritesMarker:
    """Unpickling this would create a file: the attack a safe loader must refuse."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_round_trip_keeps_everything(tmp_path, tiny_run):
    data = load_checkpoint(tiny_run / "last.pt")
    for key in ("model_config", "train_config", "vocab", "step", "model", "optimizer", "progress"):
        assert key in data
    model = load_model(tiny_run)
    assert model.vocab.chars == data["vocab"]


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "version": 1, "model_config": {}, "vocab": [], "model": _WritesMarker(marker)}, path)
    with pytest.raises(CheckpointError, match="holds objects other than weights and settings"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "flipped"])
def test_damaged_files_give_one_line_errors(tmp_path, tiny_run, damage):
    original = (tiny_run / "model.pt").read_bytes()
    path = tmp_path / "bad.pt"
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(original[: len(original) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a checkpoint" * 100)
    else:
        middle = len(original) // 3
        path.write_bytes(original[:middle] + bytes(256) + original[middle + 256 :])
    with pytest.raises(CheckpointError) as error:
        load_model(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_wrong_format_and_version(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a musicgen checkpoint"):
        load_checkpoint(path)
    save_checkpoint(path, {"model_config": {}, "vocab": [], "model": {}})
    data = torch.load(path, weights_only=True)
    data["version"] = 99
    torch.save(data, path)
    with pytest.raises(CheckpointError, match="version 99 is not supported"):
        load_checkpoint(path)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_model(tmp_path / "missing.pt")


def test_failed_write_leaves_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(path, {"model_config": {}, "vocab": ["a"], "model": {}})
    before = path.read_bytes()

    def broken_save(obj, file):
        file.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save_checkpoint(path, {"model_config": {}, "vocab": ["b"], "model": {}})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]
