"""Which process this is: rank, world size and device, from ``torchrun``'s environment.

Under ``torchrun --nproc-per-node N`` (``WORLD_SIZE`` > 1) a process group is started: NCCL
on GPUs, gloo on CPUs. Without it, the context is a single process and every collective
below is a no-op.
"""
import datetime
import gc
import os
from dataclasses import dataclass
from typing import Any, List, Optional

import torch
import torch.distributed as dist

from .errors import ConfigurationError

# Rank 0 alone builds the vocabulary and evaluates; the others wait this long for it.
COLLECTIVE_TIMEOUT = datetime.timedelta(hours=2)


def process_cuda_device(cuda_device: int) -> int:
    """The GPU this process uses: ``cuda_device`` (-1: the CPU), except under ``torchrun``
    (``WORLD_SIZE`` > 1) on GPUs, where each process takes the one of its ``LOCAL_RANK``."""
    if cuda_device < 0 or int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return cuda_device
    return int(os.environ.get("LOCAL_RANK", "0"))


@dataclass
class DistributedContext:
    """This process's place in a (possibly single-process) run."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool = False  # this context started the process group and ends it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls, device: Optional[str] = None) -> "DistributedContext":
        """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; ``device`` is ``"cpu"``, ``"cuda"`` or
        ``None`` (a GPU when there is one)."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device not in (None, "cpu", "cuda"):
            raise ConfigurationError(f"device: expected 'cpu' or 'cuda', got {device!r}")
        use_cuda = torch.cuda.is_available() if device is None else device == "cuda"
        if use_cuda and not torch.cuda.is_available():
            raise ConfigurationError("device cuda was asked for, but PyTorch sees no GPU")
        if use_cuda:
            if local_rank >= torch.cuda.device_count():
                raise ConfigurationError(f"process {rank} wants GPU {local_rank}, but only "
                                         f"{torch.cuda.device_count()} are visible")
            torch.cuda.set_device(local_rank)
            chosen = torch.device("cuda", local_rank)
        else:
            chosen = torch.device("cpu")
        owns_group = False
        if world_size > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if use_cuda else "gloo", timeout=COLLECTIVE_TIMEOUT)
            owns_group = True
        return cls(rank=rank, world_size=world_size, device=chosen, owns_group=owns_group)

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def gather(self, obj: Any) -> List[Any]:
        """Every rank's ``obj`` (picklable), in rank order, on every rank."""
        if self.world_size == 1:
            return [obj]
        objects: List[Any] = [None] * self.world_size
        dist.all_gather_object(objects, obj)
        return objects

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (a new tensor)."""
        tensor = tensor.clone()
        if self.world_size > 1:
            dist.all_reduce(tensor)
        return tensor

    def close(self, completed: bool = True) -> None:
        """Leave the process group this context started. After a completed run every rank
        first meets at a barrier, so no rank tears down its connections while a peer still
        uses them (gloo aborts the process then); after an error the barrier is skipped,
        since the other ranks may never reach it."""
        if self.owns_group and dist.is_initialized():
            if completed:
                dist.barrier()
            gc.collect()  # objects in reference cycles (e.g. a finished DistributedDataParallel) hold the group
            dist.destroy_process_group()
