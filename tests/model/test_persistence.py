"""Saved model folders: safetensors weights, JSON settings and vocabulary, for all three model kinds."""

import json

import pytest
import torch

from musicgen.errors import CheckpointError
from musicgen.model.lm import export_model, load_model
from musicgen.model.persistence import CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE, load_pretrained, save_pretrained
from musicgen.sampling.sampler import generate


@pytest.fixture()
def saved(tiny_run, tmp_path):
    return load_model(tiny_run).save_pretrained(tmp_path / "saved")


def test_a_music_model_round_trips_and_writes_the_same_tunes(tiny_run, saved):
    old, new = load_model(tiny_run), load_model(saved)
    assert sorted(p.name for p in saved.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE, VOCAB_FILE]
    for (name, a), b in zip(old.state_dict().items(), new.state_dict().values()):
        assert torch.equal(a, b), name
    assert new.sampling == old.sampling and new.provenance["step"] == old.provenance["step"]
    assert [t.abc for t in generate(old, n=2, seed=3, max_length=200)] == [
        t.abc for t in generate(new, n=2, seed=3, max_length=200)
    ]


def test_the_text_models_round_trip(tmp_path):
    from musicgen.tasks.sentiment.classifier import load_sentiment_model
    from musicgen.tasks.translate.translator import load_translation_model

    sentences = ["A warm, funny film.", "Dull and far too long."]
    sentiment = load_sentiment_model()
    again = type(sentiment).from_pretrained(sentiment.save_pretrained(tmp_path / "s"))
    assert again.predict(sentences) == sentiment.predict(sentences)
    translator = load_translation_model()
    again_t = type(translator).from_pretrained(translator.save_pretrained(tmp_path / "t"))
    assert [t.text for t in again_t.translate(sentences)] == [t.text for t in translator.translate(sentences)]


def test_export_writes_a_folder_or_a_pt_file_with_its_card(tiny_run, tmp_path):
    folder = export_model(tiny_run, tmp_path / "shared", card="# A test model\n")
    assert (folder / "README.md").read_text() == "# A test model\n"
    assert load_pretrained(folder)["model"]["head.weight"].dtype == torch.float16
    single = export_model(tiny_run, tmp_path / "shared.pt")
    assert torch.equal(load_model(single).head.weight, load_model(folder).head.weight)


def test_saving_replaces_a_saved_model_but_never_another_folder(tiny_run, saved, tmp_path):
    model = load_model(tiny_run)
    model.sampling = {"temperature": 0.5}
    model.save_pretrained(saved)
    assert load_model(saved).sampling == {"temperature": 0.5}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing staged left behind
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(CheckpointError, match="not a saved musicgen model"):
        model.save_pretrained(other)
    assert (other / "cat.jpg").read_bytes() == b"\xff\xd8"


def _edit_config(folder, change):
    path = folder / CONFIG_FILE
    path.write_text(change(path.read_text()))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / WEIGHTS_FILE).unlink(), "no such weights file"),
        (lambda f: (f / VOCAB_FILE).write_text("[1, 2"), "not valid JSON"),
        (lambda f: _edit_config(f, lambda t: t.replace('"step": ', '"step": NaN, "x": ')), "not valid JSON"),
        (lambda f: _edit_config(f, lambda t: t.replace('"dropout": 0.0', '"dropout": 1e999')), "too large a number"),
        (lambda f: _edit_config(f, lambda t: t.replace("{", '{"task": "lm",', 1)), "a key is given twice"),
        (lambda f: _edit_config(f, lambda t: t.replace("musicgen-pretrained", "other")), "another format"),
        (lambda f: (f / WEIGHTS_FILE).write_bytes((f / WEIGHTS_FILE).read_bytes()[:300]), "not readable safetensors"),
        (lambda f: (f / WEIGHTS_FILE).write_bytes(b"\xff" * 8 + b"{}"), "not readable safetensors"),
        (lambda f: _edit_config(f, lambda t: t.replace('"hidden_size": 48', '"hidden_size": 9000')), "do not fit"),
        (lambda f: _edit_config(f, lambda t: t.replace('"model_sha256": "', '"model_sha256": "0')), "corrupt"),
        (lambda f: _edit_config(f, lambda t: t.replace('"task": "lm"', '"task": "sentiment"')), "not a music model"),
    ],
)
def test_damaged_folders_are_one_line_errors(saved, damage, message):
    damage(saved)
    with pytest.raises(CheckpointError, match=message) as error:
        load_model(saved)
    assert "\n" not in str(error.value)


def test_weights_of_another_kind_than_float_are_refused(saved):
    from safetensors.torch import save_file

    data = load_pretrained(saved)
    weights = {**data["model"], "head.bias": torch.zeros(data["model"]["head.bias"].shape, dtype=torch.int64)}
    save_file(weights, str(saved / WEIGHTS_FILE))
    with pytest.raises(CheckpointError, match="not floating-point"):
        load_model(saved)


def test_a_config_that_is_not_json_data_cannot_be_saved(tiny_run, tmp_path):
    payload = load_model(tiny_run).payload()
    with pytest.raises(CheckpointError, match="cannot write"):
        save_pretrained(tmp_path / "m", {**payload, "metrics": {"bpc": float("nan")}})
    assert not (tmp_path / "m").exists() and list(tmp_path.iterdir()) == []
    json.dumps(payload["sampling"])  # the real payload is plain JSON data
