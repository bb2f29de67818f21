"""The lecture's experiments, with tiny settings: each writes its files and its figures have the right shape."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from musicgen.cli.main import main
from musicgen.lab import EXPERIMENTS, run_experiment
from musicgen.lab.gradients import gradient_norms, reach


def _files_written(result):
    plot, table = result.files
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000
    assert table.read_text().startswith(f"# {result.name}")


def test_gradients_vanish_slower_through_gates_and_not_at_all_with_identity(tmp_path):
    steps = 60
    tanh = gradient_norms({"cell": "rnn", "nonlinearity": "tanh"}, steps)
    lstm = gradient_norms({"cell": "lstm"}, steps)
    identity = gradient_norms({"cell": "rnn", "nonlinearity": "relu", "identity_init": True}, steps)
    assert reach(lstm) > reach(tanh) and reach(identity) == steps
    assert lstm[30] / lstm[0] > tanh[30] / tanh[0]
    result = run_experiment("gradients", tmp_path / "g", steps=steps, train_steps=20)
    assert [row["cell"] for row in result.table] == ["rnn-tanh", "rnn-relu", "rnn-relu-identity", "gru", "lstm"]
    assert any("exploded" in line for line in result.findings)  # the unclipped ReLU run blows up
    _files_written(result)


def test_memory_accuracy_against_distance(tmp_path):
    bodies = ["|:GABc dBGB|c2ec BGBd:|", "|A2FA DAFA|GBeg fedB|"] * 20
    result = run_experiment("memory", tmp_path / "m", distances=(1, 4), steps=80, bodies=bodies)
    assert [(row["task"], row["k"]) for row in result.table] == [("symbols", 1), ("symbols", 4), ("key", 1), ("key", 4)]
    assert all(0 <= row[cell] <= 1 for row in result.table for cell in ("rnn", "gru", "lstm"))
    for near in (result.table[0], result.table[2]):  # one step back is learnable in both tasks
        assert max(near[cell] for cell in ("rnn", "gru", "lstm")) > 0.5
    _files_written(result)


def test_order_bag_of_words_cannot_read_order(tmp_path):
    result = run_experiment("order", tmp_path / "o", epochs=6)
    rows = {row["model"]: row for row in result.table}
    bag, lstm = rows["bag of words"], rows["BiLSTM"]
    assert bag["good_not_bad"] == pytest.approx(bag["bad_not_good"], abs=1e-6)
    assert lstm["test_accuracy"] > bag["test_accuracy"] + 0.2 and lstm["opposite_labels"]
    _files_written(result)


def test_temperature_makes_samples_less_likely(tmp_path, tiny_run, tiny_book):
    from musicgen.abc.tunebook import parse_tunebook

    reference, _ = parse_tunebook(tiny_book.read_text())
    result = run_experiment(
        "temperature", tmp_path / "t", temperatures=(0.3, 2.0), tunes=4, model_path=tiny_run, novelty_tunes=reference
    )
    cold, hot = result.table
    assert cold["bits_per_char"] < hot["bits_per_char"]
    _files_written(result)


def test_cli_runs_an_experiment_and_refuses_nonsense(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["lab", "gradients", "--quick", "--out", str(tmp_path / "g")])
    assert result.exit_code == 0 and "reach" in result.output and (tmp_path / "g" / "plot.png").is_file()
    before = (tmp_path / "g" / "table.md").read_text()
    result = runner.invoke(main, ["lab", "gradients", "--quick", "--out", str(tmp_path / "g")])
    assert result.exit_code == 1 and "--force" in result.output and (tmp_path / "g" / "table.md").read_text() == before
    assert runner.invoke(main, ["lab", "gradients", "--quick", "--out", str(tmp_path / "g"), "--force"]).exit_code == 0
    assert runner.invoke(main, ["lab", "telepathy"]).exit_code == 2
    result = runner.invoke(main, ["lab", "memory", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "--data is for the order experiment" in result.output
    with pytest.raises(ValueError):
        run_experiment("telepathy")
    assert EXPERIMENTS == ("order", "gradients", "memory", "temperature")
