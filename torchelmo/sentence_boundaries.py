"""Adding and removing the ``<S>``/``</S>`` positions around each sentence."""
from typing import Tuple

import torch


def add_sentence_boundaries(tensor: torch.Tensor, mask: torch.Tensor, begin: torch.Tensor,
                            end: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Put ``begin`` before and ``end`` after each sentence.

    ``tensor`` is ``(batch, timesteps, dim)``, ``mask`` ``(batch, timesteps)`` marks real
    tokens (a contiguous prefix), ``begin``/``end`` are ``(dim,)``. Returns
    ``(batch, timesteps + 2, dim)`` and the new bool mask ``(batch, timesteps + 2)``; an empty
    sentence becomes ``<S> </S>``.
    """
    batch, timesteps = mask.shape
    lengths = mask.sum(dim=1)
    out = tensor.new_zeros(batch, timesteps + 2, *tensor.shape[2:])
    out[:, 1:-1] = tensor
    out[:, 0] = begin
    rows = torch.arange(batch, device=tensor.device)
    out[rows, lengths + 1] = end.to(out.dtype)
    positions = torch.arange(timesteps + 2, device=tensor.device)
    new_mask = positions.unsqueeze(0) < (lengths + 2).unsqueeze(1)
    return out, new_mask


def remove_sentence_boundaries(tensor: torch.Tensor,
                               mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Drop the ``<S>``/``</S>`` positions added by :func:`add_sentence_boundaries`.

    ``tensor`` ``(batch, timesteps + 2, dim)``, ``mask`` ``(batch, timesteps + 2)``; returns
    ``(batch, timesteps, dim)`` with zeros past each sentence, and the bool mask
    ``(batch, timesteps)``.
    """
    lengths = mask.sum(dim=1) - 2
    positions = torch.arange(tensor.size(1) - 2, device=tensor.device)
    new_mask = positions.unsqueeze(0) < lengths.unsqueeze(1)
    return tensor[:, 1:-1].masked_fill(~new_mask.unsqueeze(-1), 0.0), new_mask
