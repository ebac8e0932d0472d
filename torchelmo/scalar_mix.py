"""ScalarMix: a learned, softmax-normalised weighted sum of ELMo's layers, times a scale."""
from typing import List, Optional, Sequence

import torch
from torch import nn


class ScalarMix(nn.Module):
    """``gamma * sum_k softmax(s)_k * layer_k``, optionally layer-normalising each layer first.

    Parameters
    ----------
    mixture_size : number of layers mixed.
    do_layer_norm : normalise each layer over its unmasked elements before mixing.
    initial_scalar_parameters : starting values of ``s`` (default zeros: equal weights).
    trainable : whether ``s`` and ``gamma`` are learned.
    """

    def __init__(self, mixture_size: int, do_layer_norm: bool = False,
                 initial_scalar_parameters: Optional[Sequence[float]] = None, trainable: bool = True) -> None:
        super().__init__()
        self.mixture_size = mixture_size
        self.do_layer_norm = do_layer_norm
        if initial_scalar_parameters is None:
            initial_scalar_parameters = [0.0] * mixture_size
        if len(initial_scalar_parameters) != mixture_size:
            raise ValueError(f"initial_scalar_parameters has {len(initial_scalar_parameters)} values "
                             f"but mixture_size is {mixture_size}")
        self.scalar_parameters = nn.ParameterList(
            nn.Parameter(torch.tensor([float(v)]), requires_grad=trainable) for v in initial_scalar_parameters)
        self.gamma = nn.Parameter(torch.tensor([1.0]), requires_grad=trainable)

    def forward(self, tensors: List[torch.Tensor], mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``tensors``: ``mixture_size`` tensors ``(batch, timesteps, dim)``; ``mask``
        ``(batch, timesteps)`` is required with ``do_layer_norm``. Returns ``(batch, timesteps, dim)``."""
        if len(tensors) != self.mixture_size:
            raise ValueError(f"ScalarMix expected {self.mixture_size} tensors, got {len(tensors)}")
        weights = torch.softmax(torch.cat(list(self.scalar_parameters)), dim=0)
        if self.do_layer_norm:
            if mask is None:
                raise ValueError("ScalarMix with do_layer_norm=True needs a mask")
            broadcast_mask = mask.unsqueeze(-1).to(tensors[0].dtype)
            count = broadcast_mask.sum() * tensors[0].size(-1)
            tensors = [_masked_layer_norm(t, broadcast_mask, count) for t in tensors]
        mixed = sum(w * t for w, t in zip(weights.split(1), tensors))
        return self.gamma * mixed


def _masked_layer_norm(tensor: torch.Tensor, broadcast_mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    masked = tensor * broadcast_mask
    mean = masked.sum() / count
    variance = (((masked - mean) * broadcast_mask) ** 2).sum() / count
    return (tensor - mean) / torch.sqrt(variance + 1e-12)
