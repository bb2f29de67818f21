"""Where a model runs: the device a user names, or the best one this machine has."""

from __future__ import annotations

import torch

from musicgen.errors import MusicgenError


def pick_device(name: str = "auto") -> torch.device:
    """The device to train on: ``auto`` prefers cuda, then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MusicgenError("--device cuda: no CUDA GPU is available (use --device cpu)")
    if name not in ("cpu", "cuda", "mps"):
        raise MusicgenError(f"--device must be auto, cpu, cuda or mps, not {name!r}")
    return torch.device(name)
