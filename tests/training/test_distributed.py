"""Distributed training: two CPU processes with gloo, launched by torchrun, train like one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

TORCHRUN = shutil.which("torchrun")
pytestmark = pytest.mark.skipif(
    TORCHRUN is None or not torch.distributed.is_available(), reason="torchrun / torch.distributed is not available"
)

SETTINGS = [
    "--hidden-size",
    "32",
    "--num-layers",
    "1",
    "--embedding-size",
    "8",
    "--dropout",
    "0",
    "--batch-size",
    "8",
    "--seq-len",
    "64",
    "--eval-interval",
    "3",
    "--warmup-steps",
    "1",
    "--quiet",
    "--device",
    "cpu",
]


def _train(command: list[str], *arguments: str) -> None:
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [*command, "train", *arguments, *SETTINGS], capture_output=True, text=True, env=environment, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _weights(run) -> dict:
    return torch.load(run / "last.pt", weights_only=True)["model"]


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path, small_corpus):
    single, double = (
        [sys.executable, "-m", "musicgen"],
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "-m", "musicgen"],
    )
    _train(single, str(small_corpus), "--out", str(tmp_path / "one"), "--max-steps", "6")
    _train(double, str(small_corpus), "--out", str(tmp_path / "two"), "--max-steps", "6")
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert max((one[k] - two[k]).abs().max().item() for k in one) < 1e-4
    assert sorted(p.name for p in (tmp_path / "two").iterdir() if p.suffix == ".pt") == ["last.pt", "model.pt"]
    # Rank 0 logs its own share's bits/char: it differs from the whole batch's only if the tunes were split.
    logged = [(run / "log.jsonl").read_text().splitlines()[-1] for run in (tmp_path / "one", tmp_path / "two")]
    assert logged[0] != logged[1] and '"valid_bpc"' in logged[1]
    # Resuming under torchrun continues exactly like the single process does.
    _train(single, str(small_corpus), "--resume", str(tmp_path / "one"), "--max-steps", "9")
    _train(double, str(small_corpus), "--resume", str(tmp_path / "two"), "--max-steps", "9")
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert torch.load(tmp_path / "two" / "last.pt", weights_only=True)["step"] == 9
    assert max((one[k] - two[k]).abs().max().item() for k in one) < 1e-4
