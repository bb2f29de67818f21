"""Checkpoints: one safe, self-describing file."""

import pytest
import torch

from musicgen.errors import CheckpointError
from musicgen.model.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from musicgen.model.lm import load_model


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


def _hostile(tmp_path, tiny_run, name, change):
    """The tiny run's model.pt with one part replaced, saved with a fresh checksum."""
    data = load_checkpoint(tiny_run / "model.pt")
    data.pop("model_sha256", None)
    change(data)
    path = tmp_path / f"{name}.pt"
    if isinstance(data.get("model"), dict) and all(isinstance(v, torch.Tensor) for v in data["model"].values()):
        save_checkpoint(path, {k: v for k, v in data.items() if k not in ("format", "version")})
    else:
        torch.save(data, path)
    return path


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("config-list", lambda d: d.update(model_config=[1, 2]), "'model_config' is a list"),
        ("config-none", lambda d: d.update(model_config=None), "'model_config' is a NoneType"),
        ("model-str", lambda d: d.update(model="weights"), "'model' is a str"),
        ("model-list", lambda d: d.update(model=[torch.zeros(2)]), "'model' is a list"),
        ("train-config", lambda d: d.update(train_config="fast"), "'train_config' is a str"),
        ("step", lambda d: d.update(step="12"), "'step' is a str"),
        ("config-values", lambda d: d["model_config"].update(hidden_size=-4), "settings are not valid"),
        ("config-cell", lambda d: d["model_config"].update(cell="quantum"), "settings are not valid"),
        (
            "int-weights",
            lambda d: d["model"].update({"head.bias": torch.zeros(3, dtype=torch.int64)}),
            "not floating-point",
        ),
        ("nan", lambda d: d["model"]["head.bias"].fill_(float("nan")), "NaN or infinite"),
        ("inf", lambda d: d["model"]["head.weight"].fill_(float("inf")), "NaN or infinite"),
        ("declared-huge", lambda d: d["model_config"].update(hidden_size=9000), "do not fit the model"),
        ("vocab", lambda d: d.update(vocab=[1, 2, 3]), "vocabulary"),
    ],
)
def test_hostile_but_safe_checkpoints_are_one_line_errors(tmp_path, tiny_run, name, change, message):
    import resource

    path = _hostile(tmp_path, tiny_run, name, change)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=message) as error:
        load_model(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KB: no 3.9 GB model built


def test_nan_weights_never_reach_the_text_tasks(tmp_path):
    from musicgen.model.checkpoint import bundled_model_path
    from musicgen.model.persistence import load_pretrained
    from musicgen.tasks.sentiment.classifier import BUNDLED_SENTIMENT_MODEL, load_sentiment_model

    data = load_pretrained(bundled_model_path(BUNDLED_SENTIMENT_MODEL))
    name = next(iter(data["model"]))
    data["model"][name] = torch.full_like(data["model"][name], float("nan"))
    data.pop("model_sha256")
    path = tmp_path / "nan.pt"
    save_checkpoint(path, {k: v for k, v in data.items() if k not in ("format", "version")})
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_sentiment_model(path)


def test_fifos_devices_and_zip_bombs_are_refused_unread(tmp_path, monkeypatch):
    import os
    import zipfile

    import musicgen.model.checkpoint as checkpoint

    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(CheckpointError, match="not a regular file"):
            load_checkpoint(path)
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\0" * (3 * 1024 * 1024))
    assert bomb.stat().st_size < 100_000
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 1024 * 1024)
    with pytest.raises(CheckpointError, match="unpacks to 3,145,728 bytes"):
        load_checkpoint(bomb)


def test_messages_say_what_is_wrong_with_the_file(tmp_path, tiny_run):
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes((tiny_run / "model.pt").read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated, or not a file torch.save wrote"):
        load_checkpoint(truncated)
    text = tmp_path / "notes.pt"
    text.write_text("these are my notes, not a model\n" * 20)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(text)
    assert "torch." not in str(error.value) and "not a" in str(error.value)
