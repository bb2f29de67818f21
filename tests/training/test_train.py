"""Training: checkpoints, logs, determinism, resuming, stopping."""

import json
import math

import pytest
import torch

from musicgen.abc.corpus import load_corpus
from musicgen.errors import MusicgenError
from musicgen.model.checkpoint import load_checkpoint
from musicgen.model.config import ModelConfig, TrainConfig
from musicgen.training.loop import Trainer
from musicgen.training.measures import learning_rate_factor

SMALL = ModelConfig(vocab_size=1, hidden_size=32, num_layers=1, embedding_size=8, dropout=0.1)


def quick(**changes) -> TrainConfig:
    settings = dict(
        batch_size=16, seq_len=48, max_steps=24, eval_interval=8, warmup_steps=3, learning_rate=1e-2, seed=3, tonic=""
    )
    return TrainConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def corpus(small_corpus):
    return load_corpus([small_corpus])


def test_run_writes_best_and_last_checkpoints_and_a_log(tiny_run):
    assert (tiny_run / "model.pt").is_file() and (tiny_run / "last.pt").is_file()
    records = [json.loads(line) for line in (tiny_run / "log.jsonl").read_text().splitlines()]
    # validation waits for the batch under way to end, so the first lands at or after step 20
    assert len(records) == 2 and 20 <= records[0]["step"] < 40 and records[1]["step"] == 40
    vocab_size = len(load_checkpoint(tiny_run / "model.pt")["vocab"])
    assert records[-1]["valid_bpc"] < records[0]["valid_bpc"] < math.log2(vocab_size)


def test_same_seed_gives_the_same_weights(corpus, tmp_path):
    first = Trainer(corpus, tmp_path / "a", SMALL, quick())
    first.run(progress=False)
    second = Trainer(corpus, tmp_path / "b", SMALL, quick())
    second.run(progress=False)
    for name, weight in first.model.state_dict().items():
        assert torch.equal(weight, second.model.state_dict()[name])


def test_interrupted_and_resumed_run_ends_with_the_same_weights(corpus, tmp_path, monkeypatch):
    straight = Trainer(corpus, tmp_path / "straight", SMALL, quick())
    straight.run(progress=False)

    interrupted = Trainer(corpus, tmp_path / "cut", SMALL, quick())
    real_batch = interrupted._train_batch

    def batch_then_ctrl_c(tunes, *rest):
        result = real_batch(tunes, *rest)
        if interrupted.step >= 10:
            interrupted.stop_requested = True  # what the SIGINT handler sets
        return result

    monkeypatch.setattr(interrupted, "_train_batch", batch_then_ctrl_c)
    assert interrupted.run(progress=False).stopped == "interrupted"
    assert 10 <= interrupted.step < 24

    resumed = Trainer(corpus, tmp_path / "cut", None, quick(), resume=load_checkpoint(tmp_path / "cut" / "last.pt"))
    assert resumed.run(progress=False).step == straight.step
    for name, weight in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], weight, rtol=0, atol=0)


def test_early_stopping_when_validation_stops_improving(corpus, tmp_path):
    result = Trainer(corpus, tmp_path, SMALL, quick(learning_rate=1e-9, patience=1, max_steps=200)).run(progress=False)
    assert result.stopped == "early stopping"
    assert result.step < 200


def test_diverging_loss_stops_with_a_clear_error(corpus, tmp_path, monkeypatch):
    trainer = Trainer(corpus, tmp_path, SMALL, quick())
    monkeypatch.setattr("musicgen.training.loop.bits_per_char", lambda *a: (torch.tensor(math.nan), torch.tensor(1.0)))
    with pytest.raises(MusicgenError, match="diverged at step 0"):
        trainer.run(progress=False)


def test_corpus_too_small_to_split(tmp_path, tiny_book):
    with pytest.raises(MusicgenError, match="needs tunes in both splits"):
        Trainer(load_corpus([tiny_book]), tmp_path, SMALL, quick())


def test_learning_rate_warms_up_then_decays():
    config = quick(max_steps=100, warmup_steps=10)
    factors = [learning_rate_factor(step, config) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] > factors[50] > factors[99] >= 0.1


def test_sigkill_after_a_checkpoint_leaves_a_loadable_one_and_resume_finishes(tmp_path, small_corpus):
    import random
    import signal
    import subprocess
    import sys
    import time

    run_dir = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "musicgen",
        "train",
        str(small_corpus),
        "--out",
        str(run_dir),
        "--hidden-size",
        "32",
        "--num-layers",
        "1",
        "--batch-size",
        "8",
        "--seq-len",
        "32",
        "--max-steps",
        "400",
        "--eval-interval",
        "4",
        "--patience",
        "0",
        "--quiet",
        "--seed",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (run_dir / "last.pt").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(random.uniform(0.0, 0.5))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run_dir / "last.pt").exists()
    checkpoint = load_checkpoint(run_dir / "last.pt")  # never half-written
    assert 0 < checkpoint["step"] < 400
    resumed = subprocess.run([*command[:5], "--resume", str(run_dir), "--quiet"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert load_checkpoint(run_dir / "last.pt")["step"] == 400
    assert not list(run_dir.glob(".*.tmp"))  # a write cut short by the kill is cleared on resume


def _bf16_train(run_dir, corpus):
    from musicgen.training.loop import train

    return train(
        [corpus],
        run_dir,
        ModelConfig(vocab_size=1, hidden_size=32, num_layers=1, embedding_size=8, dropout=0.0),
        TrainConfig(
            batch_size=8,
            seq_len=64,
            max_steps=30,
            eval_interval=15,
            warmup_steps=2,
            learning_rate=1e-2,
            precision="bf16",
            device="cpu",
        ),
        progress=False,
    )


def _cpu_runs_bf16_lstm() -> bool:
    """Whether torch on this CPU runs an LSTM under bf16 autocast (oneDNN needs bf16 units)."""
    layer = torch.nn.LSTM(4, 4, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            layer(torch.zeros(1, 2, 4))
    except RuntimeError:
        return False
    return True


def test_bf16_mixed_precision_trains_and_keeps_float32_weights(tmp_path, small_corpus):
    if not _cpu_runs_bf16_lstm():
        pytest.skip("this CPU has no bf16 LSTM kernels (the next test checks the error instead)")
    result = _bf16_train(tmp_path / "bf16", small_corpus)
    log = [json.loads(line) for line in (tmp_path / "bf16" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["valid_bpc"] < log[0]["valid_bpc"] < 7 and math.isfinite(result.best_valid_bpc)
    weights = load_checkpoint(tmp_path / "bf16" / "last.pt")["model"]
    assert all(w.dtype == torch.float32 for w in weights.values())


def test_bf16_on_a_cpu_without_bf16_kernels_is_a_one_line_error_before_training(tmp_path, small_corpus):
    if _cpu_runs_bf16_lstm():
        pytest.skip("this CPU runs bf16 LSTMs (the test before trains with it)")
    with pytest.raises(MusicgenError, match="use --precision fp32") as error:
        _bf16_train(tmp_path / "bf16", small_corpus)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "bf16" / "last.pt").exists()


def test_time_limit_stops_after_validating_and_saving(tmp_path, small_corpus):
    from musicgen.model.config import ModelConfig, TrainConfig
    from musicgen.training.loop import train

    result = train(
        [small_corpus],
        tmp_path / "timed",
        ModelConfig(vocab_size=1, hidden_size=32, num_layers=1, embedding_size=8, dropout=0.0),
        TrainConfig(batch_size=8, seq_len=64, max_steps=100_000, eval_interval=100_000, time_limit=0.02, device="cpu"),
        progress=False,
    )
    assert result.stopped == "time limit" and 0 < result.step < 100_000
    log = [json.loads(line) for line in (tmp_path / "timed" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == result.step and log[-1]["elapsed_s"] >= 1.2
    assert (tmp_path / "timed" / "model.pt").is_file() and (tmp_path / "timed" / "last.pt").is_file()


def test_window_counts_are_the_target_mask_sums_of_windows():
    import numpy as np

    from musicgen.training.data import pad_batch, window_counts, windows

    lengths = [5, 130, 257, 2, 129]
    ids, mask = pad_batch([np.arange(n) for n in lengths])
    assert window_counts(lengths, 64) == [int(m.sum()) for _, _, m in windows(ids, mask, 64)]


def test_a_run_clears_the_temporaries_of_writes_cut_short_and_keeps_other_files(corpus, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cut_short = [run_dir / f".{name}.x1y2z3.tmp" for name in ("model.pt", "last.pt", "curves.png")]
    for path in cut_short:
        path.write_bytes(b"half a file")  # what a SIGKILL during atomic_write leaves
    someone_elses = run_dir / ".notes.txt.tmp"
    someone_elses.write_text("not ours")
    Trainer(corpus, run_dir, SMALL, quick(max_steps=2, eval_interval=2)).run(progress=False)
    assert not any(path.exists() for path in cut_short)
    assert someone_elses.read_text() == "not ours"


def test_moving_to_a_tonic_trains_on_every_tune_in_it_and_stores_the_tonics_it_had(corpus, tmp_path, tonic_run):
    import re

    from musicgen.abc.transpose import TonicTable, tonic_of

    trainer = Trainer(corpus, tmp_path / "c", SMALL, quick(tonic="C"))
    texts = [trainer.model.vocab.decode(ids[1:-1]) for ids in trainer.train_tunes + trainer.valid_tunes]
    keys = [re.search(r"^K:(.*)$", text, re.MULTILINE).group(1) for text in texts]
    assert {tonic_of(key) for key in keys} == {"C"}
    with_tonic = [t for t in corpus.split("train") if tonic_of(t.key)]
    assert len(trainer.train_tunes) == len(with_tonic)
    assert (
        load_checkpoint(tonic_run / "model.pt")["tonics"] == TonicTable.from_tunes(corpus.split("train"), "C").to_dict()
    )


def test_a_run_resumes_only_with_the_tonic_it_started_with(corpus, tmp_path, tonic_run):
    with pytest.raises(MusicgenError, match="moved its tunes to tonic 'C'"):
        Trainer(corpus, tmp_path, SMALL, quick(tonic=""), resume=load_checkpoint(tonic_run / "last.pt"))
    with pytest.raises(ValueError, match="tonic must be a note name"):
        quick(tonic="H")


def _cli_train(*args):
    from click.testing import CliRunner

    from musicgen.cli.main import main

    return CliRunner().invoke(main, ["train", *map(str, args)], catch_exceptions=False)


TINY = (
    "--hidden-size",
    16,
    "--num-layers",
    1,
    "--embedding-size",
    8,
    "--batch-size",
    4,
    "--seq-len",
    16,
    "--quiet",
    "--patience",
    0,
)


def test_an_existing_run_is_refused_without_resume_or_force(tmp_path, small_corpus):
    import json

    run_dir = tmp_path / "run"
    assert _cli_train(small_corpus, "--out", run_dir, "--max-steps", 10, "--eval-interval", 5, *TINY).exit_code == 0
    before = {name: (run_dir / name).read_bytes() for name in ("model.pt", "last.pt", "log.jsonl")}
    again = _cli_train(small_corpus, "--out", run_dir, "--max-steps", 10, "--eval-interval", 5, *TINY)
    assert again.exit_code == 1 and "already holds a run" in again.output and "--force" in again.output
    assert {name: (run_dir / name).read_bytes() for name in before} == before
    forced = _cli_train(small_corpus, "--out", run_dir, "--max-steps", 6, "--eval-interval", 3, "--force", *TINY)
    assert forced.exit_code == 0, forced.output
    steps = [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert steps == [3, 6]  # a fresh log, not the old one appended to


def test_validation_runs_at_exact_multiples_and_resume_keeps_the_runs_corpus(tmp_path, small_corpus):
    import json

    run_dir = tmp_path / "run"
    # seq-len 16 splits a batch into several windows: steps advance several per batch
    assert _cli_train(small_corpus, "--out", run_dir, "--max-steps", 30, "--eval-interval", 10, *TINY).exit_code == 0
    steps = [json.loads(line)["step"] for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30]
    resumed = _cli_train("--resume", run_dir, "--max-steps", 40, "--quiet")  # no paths: the run's own corpus
    assert resumed.exit_code == 0, resumed.output
    assert load_checkpoint(run_dir / "last.pt")["step"] == 40


def test_training_writes_each_tunes_form_and_style_codes_into_its_header(tmp_path, small_corpus):
    from musicgen.model.config import TrainConfig
    from musicgen.training.loop import Trainer

    trainer = Trainer(load_corpus([small_corpus]), tmp_path / "run", None, TrainConfig(max_steps=1))
    texts = [trainer.model.vocab.decode(ids[1:-1]) for ids in trainer.train_tunes]
    assert sum(text.startswith("N:") for text in texts) > 0.95 * len(texts)
    assert sum("\nO:american\n" in text for text in texts) > 30  # the American fife book
    assert sum("\nO:english\n" in text for text in texts) > 30  # the Northumbrian book
    assert trainer.header_counts["O"]["american"] > 30 and "AABB" in trainer.header_counts["N"]
