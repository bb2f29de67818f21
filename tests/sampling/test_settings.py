"""One source of sampling settings: SampleConfig, a model's recommended settings, and overrides."""

import dataclasses

import pytest
import torch

from musicgen.errors import CheckpointError, SamplingError
from musicgen.model.checkpoint import load_checkpoint, save_checkpoint
from musicgen.model.config import SampleConfig, recommended_sampling
from musicgen.model.lm import export_model, load_model, recommended_config
from musicgen.sampling.sampler import generate, generate_batches


@pytest.fixture()
def model(tiny_run):
    return load_model(tiny_run)


def texts(tunes):
    return [tune.abc for tune in tunes]


def test_a_trained_model_carries_the_configs_defaults_without_a_seed(tiny_run, model):
    assert load_checkpoint(tiny_run / "model.pt")["sampling"] == recommended_sampling()
    assert "seed" not in model.sampling and model.sampling["temperature"] == SampleConfig().temperature
    assert recommended_config(model) == SampleConfig()


def test_the_models_recommended_settings_are_the_default(model):
    model.sampling = {"temperature": 0.5, "end_drafts": 1}
    plain = texts(generate(model, n=3, seed=4, max_length=200))
    assert plain == texts(generate(model, n=3, seed=4, max_length=200, temperature=0.5, end_drafts=1))
    assert plain != texts(generate(model, n=3, seed=4, max_length=200, temperature=1.5, end_drafts=1))


def test_a_config_replaces_the_recommended_settings_and_keywords_replace_its_fields(model):
    model.sampling = {"temperature": 0.5}
    config = SampleConfig(temperature=1.2, max_length=200, seed=3, end_drafts=1)
    given = texts(generate(model, n=2, config=config))
    assert given == texts(generate(model, n=2, temperature=1.2, max_length=200, seed=3, end_drafts=1))
    assert texts(generate(model, n=2, config=config, seed=4)) == texts(
        generate(model, n=2, config=dataclasses.replace(config, seed=4))
    )


def test_batches_take_the_same_config(model):
    config = SampleConfig(max_length=120, seed=1, end_drafts=1)
    batched = [t.abc for batch in generate_batches(model, 4, batch_size=2, config=config) for t in batch]
    assert batched[:2] == texts(generate(model, n=2, config=config))


@pytest.mark.parametrize(
    "settings, message",
    [({"temprature": 1.0}, "unknown sampling setting 'temprature'"), ({"top_p": 0}, "top_p must be in range")],
)
def test_unknown_or_bad_settings_are_refused_before_sampling(model, settings, message):
    with pytest.raises(SamplingError, match=message):
        generate(model, n=1, **settings)
    with pytest.raises(SamplingError, match=message):
        generate_batches(model, 3, batch_size=2, **settings)


def test_a_checkpoint_with_bad_recommended_settings_is_refused(tiny_run, tmp_path):
    data = load_checkpoint(tiny_run / "model.pt")
    data["sampling"] = {"temperature": -1.0}
    save_checkpoint(tmp_path / "bad.pt", data)
    with pytest.raises(CheckpointError, match="recommended sampling settings are not valid"):
        load_model(tmp_path / "bad.pt")


def test_export_keeps_the_recommended_settings(tiny_run, tmp_path):
    data = load_checkpoint(tiny_run / "model.pt")
    data["sampling"] = {"temperature": 0.7}
    save_checkpoint(tmp_path / "tuned.pt", data)
    export_model(tmp_path / "tuned.pt", tmp_path / "shared.pt")
    assert load_model(tmp_path / "shared.pt").sampling == {"temperature": 0.7}
    assert torch.equal(
        load_model(tmp_path / "shared.pt").head.weight, load_model(tmp_path / "tuned.pt").head.weight.half().float()
    )
