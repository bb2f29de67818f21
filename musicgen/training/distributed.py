"""Training on several processes with PyTorch's DistributedDataParallel, launched by torchrun.

``torchrun --nproc_per_node=N -m musicgen train ...`` starts N copies of the
same command. Each reads the same corpus and computes the same batches (the
batch order depends only on the seed and the epoch), then keeps its own
share of each batch's tunes (every N-th); gradients are averaged across
processes in the backward pass. Each process scales its loss so that the
average is the gradient of the whole batch's mean bits/char, so N processes
train like one with the same global batch. Only rank 0 writes logs and
checkpoints. NCCL is used on GPUs and gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Placement:
    """Where this process stands: its rank among ``world`` processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        """True for the one process that writes files and shows progress."""
        return self.rank == 0


def placement() -> Placement:
    """This process's place, starting the process group under torchrun (once)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Placement()
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Placement(dist.get_rank(), dist.get_world_size(), local_rank)


def wrap(model: torch.nn.Module, where: Placement, device: torch.device) -> torch.nn.Module:
    """The model to call in training: itself alone, or wrapped in DDP."""
    if where.world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[where.local_rank] if device.type == "cuda" else None)


def device_for(where: Placement, device: torch.device) -> torch.device:
    """One GPU per process under torchrun; the CPU stays the CPU."""
    if where.world > 1 and device.type == "cuda":
        return torch.device("cuda", where.local_rank)
    return device


def any_rank(flag: bool, where: Placement) -> bool:
    """True on every process when ``flag`` is true on any of them (so they stop together)."""
    if where.world == 1:
        return flag
    import torch.distributed as dist

    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
