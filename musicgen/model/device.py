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


def check_bf16(device: torch.device, cell: str = "lstm") -> None:
    """Check, in a few milliseconds, that this device trains a ``cell`` under bfloat16 autocast.

    Raises:
        MusicgenError: it cannot (oneDNN has no bf16 recurrent kernels on CPUs
            without bf16 units, for example); the message says to use fp32.
    """
    layer = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](4, 4, batch_first=True).to(device)
    try:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            features, _ = layer(torch.zeros(1, 2, 4, device=device))
        features.float().sum().backward()
    except RuntimeError as error:
        reason = str(error).split("\n")[0][:120]
        raise MusicgenError(
            f"--precision bf16: this {device.type} cannot run a bf16 {cell.upper()} ({reason}); use --precision fp32"
        ) from None
