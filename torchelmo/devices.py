"""Which device a run uses: a name checked against this machine, GPU capabilities, and a
GPU's out-of-memory error as one line.

Every check asks torch's CUDA probes (``torch.cuda.is_available``, ``device_count``,
``get_device_capability``, ``get_device_name``) about the device itself, never about the
current device, so that naming GPU N does not touch GPU 0.
"""
from typing import Optional, Union

import torch

from .errors import ConfigurationError, HardwareError

# bfloat16 matrix products run natively from compute capability 8.0 (Ampere) on; torch's
# is_bf16_supported() also says yes for older GPUs that only emulate them.
BF16_MIN_CAPABILITY = (8, 0)

DeviceLike = Union[str, torch.device]


def cuda_problem(device: torch.device) -> Optional[str]:
    """Why the CUDA ``device`` cannot be used here (a sentence), or None."""
    if not torch.cuda.is_available():
        return f"device {device} needs a CUDA GPU and a CUDA build of torch; none is available"
    count = torch.cuda.device_count()
    if device.index is not None and not 0 <= device.index < count:
        return f"device {device} does not exist ({count} GPU(s) visible, cuda:0 to cuda:{count - 1})"
    return None


def bf16_problem(device: torch.device) -> Optional[str]:
    """Why the CUDA ``device`` has no native bfloat16 matrix products (a sentence), or None."""
    capability = torch.cuda.get_device_capability(device)
    if tuple(capability) >= BF16_MIN_CAPABILITY:
        return None
    return (f"bfloat16 needs a GPU of compute capability {BF16_MIN_CAPABILITY[0]}.{BF16_MIN_CAPABILITY[1]} or "
            f"newer; {torch.cuda.get_device_name(device)} ({device}) has {capability[0]}.{capability[1]}")


def resolve_device(name: DeviceLike, where: str = "device") -> torch.device:
    """``name`` (``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a :class:`torch.device`) checked against
    this machine. Raises :class:`ConfigurationError` for another name and
    :class:`HardwareError` for a GPU that is missing or does not exist."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigurationError(f"{where}: expected 'cpu', 'cuda' or 'cuda:N', got {name!r}") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigurationError(f"{where}: expected 'cpu', 'cuda' or 'cuda:N', got {name!r}")
    problem = cuda_problem(device) if device.type == "cuda" else None
    if problem is not None:
        raise HardwareError(problem if where == "device" else f"{where}: {problem}")
    return device


def out_of_memory_line(error: BaseException) -> str:
    """The first sentence of torch's out-of-memory message (what it tried to allocate and on
    which GPU), without the allocator advice that follows."""
    sentences = str(error).strip().split(". ")
    return ". ".join(sentences[:3]).rstrip(".")
