"""Shared fixtures: small real data and a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture()
def run():
    """``run(*args)``: invoke the musicgen CLI with the arguments as strings (exceptions propagate)."""
    from click.testing import CliRunner

    from musicgen.cli.main import main

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def tiny_book() -> Path:
    """A hand-made tunebook with duplicates, a tune without K: and one without notes."""
    return DATA / "tiny.abc"


@pytest.fixture(scope="session")
def small_corpus() -> Path:
    """A real collection of 177 tunes shipped with music21 (American fife tunes and more)."""
    from musicgen.abc.corpus import music21_corpus_dir

    return music21_corpus_dir() / "miscFolk"


def _train_small(run_dir: Path, corpus: Path, **changes) -> Path:
    """A one-layer model of 48 units trained for 40 steps: a few seconds."""
    from musicgen.model.config import ModelConfig, TrainConfig
    from musicgen.training.loop import train

    train(
        [corpus],
        run_dir,
        ModelConfig(vocab_size=1, hidden_size=48, num_layers=1, embedding_size=16, dropout=0.0),
        TrainConfig(
            batch_size=16, seq_len=64, max_steps=40, eval_interval=20, warmup_steps=5, learning_rate=1e-2, **changes
        ),
        progress=False,
    )
    return run_dir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, small_corpus) -> Path:
    """A run folder with a small model trained for a few seconds, keys as written."""
    return _train_small(tmp_path_factory.mktemp("tiny-run"), small_corpus, tonic="")


@pytest.fixture(scope="session")
def tonic_run(tmp_path_factory, small_corpus) -> Path:
    """Like ``tiny_run``, trained the way ``musicgen train`` trains: every tune moved to C."""
    return _train_small(tmp_path_factory.mktemp("tonic-run"), small_corpus, tonic="C")


def _mounted(folder: Path, options: str):
    """A small tmpfs mounted at ``folder`` with ``options``; skips where mounting is not allowed."""
    import subprocess

    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture()
def full_disk(tmp_path):
    """A 64 KB file system (tmpfs), for writes that run out of space."""
    yield from _mounted(tmp_path / "full", "size=64k")


@pytest.fixture()
def read_only_disk(tmp_path):
    """A read-only file system (tmpfs), for writes that are refused even to root."""
    yield from _mounted(tmp_path / "read-only", "ro,size=64k")
