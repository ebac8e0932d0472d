"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint (``checkpoint.pt``, rewritten atomically) holds the step, the model and optimizer
states, the settings, the architecture, and for every rank its data position and random-number
generator states (dropout and negative sampling draw from them).
"""
import os
from typing import Any, Dict

import torch

from ..errors import ConfigurationError
from ..files import PathLike, save_tensors

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_KEYS = ("step", "tokens_seen", "elapsed", "world_size", "model", "optimizer", "config", "options",
                   "vocab", "train_files", "ranks")


def rng_state(device: torch.device) -> Dict[str, Any]:
    """This process's random-number generator states (CPU, and the GPU's when on one)."""
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def restore_rng_state(state: Dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and state["cuda"] is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(state: Dict[str, Any], path: PathLike) -> None:
    """Write ``state`` atomically (temporary file, then rename)."""
    save_tensors(path, state)


def load_checkpoint(path: PathLike) -> Dict[str, Any]:
    """Read a checkpoint onto the CPU; clear errors when missing, unreadable or incomplete."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for truncated or foreign files
        reason = str(error).split(". ")[0] or type(error).__name__
        raise ConfigurationError(f"{path}: not a readable checkpoint, truncated or damaged? ({reason})") from None
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise ConfigurationError(f"{path}: not a complete torchelmo checkpoint (missing {', '.join(missing)})")
    return state
