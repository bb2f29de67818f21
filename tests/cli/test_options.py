"""CLI options come from the configuration dataclasses: same names, types, defaults and descriptions."""

import dataclasses

import pytest

from musicgen.cli.main import main
from musicgen.cli.options import field_help
from musicgen.model.config import ModelConfig, SampleConfig, TrainConfig


def options_of(name: str) -> dict:
    return {param.name: param for param in main.commands[name].params}


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig, SampleConfig])
def test_every_field_is_described_once_in_its_class(cls):
    helps = field_help(cls)
    assert set(helps) == {field.name for field in dataclasses.fields(cls)}
    assert all(len(text) > 10 for text in helps.values())


def test_train_options_have_the_dataclasses_defaults_and_help():
    options = options_of("train")
    helps = {**field_help(ModelConfig), **field_help(TrainConfig)}
    fields = [*dataclasses.fields(TrainConfig), *(f for f in dataclasses.fields(ModelConfig) if f.name in options)]
    assert {f.name for f in dataclasses.fields(TrainConfig)} <= set(options)
    for field in fields:
        assert options[field.name].default == field.default, field.name
        assert helps[field.name][1:] in options[field.name].help


def test_generate_has_every_sampling_setting_defaulting_to_the_models():
    options = options_of("generate")
    for field in dataclasses.fields(SampleConfig):
        assert options[field.name].default is None, field.name
        assert field_help(SampleConfig)[field.name][1:] in options[field.name].help


def test_generate_passes_only_the_settings_given(monkeypatch, tmp_path, tiny_run):
    from click.testing import CliRunner

    import musicgen.sampling.sampler as sampler

    seen = {}
    real = sampler.generate_batches

    def spy(model, n, batch_size, config=None, **options):
        seen.update(options)
        return real(model, n, batch_size, config, **options)

    monkeypatch.setattr(sampler, "generate_batches", spy)
    args = ["generate", "--model", str(tiny_run), "-n", "1", "--out", str(tmp_path / "o"), "--formats", "abc"]
    result = CliRunner().invoke(main, [*args, "--temperature", "0.7", "--max-length", "200"])
    assert result.exit_code == 0, result.output
    assert seen["temperature"] == 0.7 and seen["max_length"] == 200
    assert not {"top_k", "top_p", "end_drafts", "seed"} & set(seen)
