"""Which process this is: rank, world size and device, from ``torchrun``'s environment.

Under ``torchrun --nproc-per-node N`` (``WORLD_SIZE`` > 1) a process group is started: NCCL
on GPUs (each process's group bound to its GPU), gloo on CPUs. Without it, the context is a
single process and every collective below is a no-op.
"""
import datetime
import gc
import os
from dataclasses import dataclass
from typing import Any, List, Optional

import torch
import torch.distributed as dist

from .devices import resolve_device
from .errors import HardwareError

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
        """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; ``device`` is ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``None`` (a GPU when there is one). A single process uses GPU N
        (default 0) and no other; under ``torchrun`` each process uses the GPU of its local
        rank, bound to its NCCL process group."""
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        chosen = resolve_device(device)
        if chosen.type == "cuda":
            index = local_rank if world_size > 1 else (chosen.index or 0)
            if index >= torch.cuda.device_count():
                raise HardwareError(f"process {rank} wants GPU {index}, but only "
                                    f"{torch.cuda.device_count()} are visible")
            chosen = torch.device("cuda", index)
            torch.cuda.set_device(chosen)
        owns_group = False
        if world_size > 1 and not dist.is_initialized():
            if chosen.type == "cuda":  # bound to its GPU: no collective has to guess the device
                dist.init_process_group("nccl", timeout=COLLECTIVE_TIMEOUT, device_id=chosen)
            else:
                dist.init_process_group("gloo", timeout=COLLECTIVE_TIMEOUT)
            owns_group = True
        return cls(rank=rank, world_size=world_size, device=chosen, owns_group=owns_group)

    def barrier(self) -> None:
        if self.world_size > 1:
            if self.device.type == "cuda":
                dist.barrier(device_ids=[self.device.index])
            else:
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
                self.barrier()
            gc.collect()  # objects in reference cycles (e.g. a finished DistributedDataParallel) hold the group
            dist.destroy_process_group()
