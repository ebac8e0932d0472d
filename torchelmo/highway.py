"""Highway layers (Srivastava et al., 2015) as in ELMo's character encoder."""
from typing import Callable

import torch
from torch import nn

from .gemm import linear


class Highway(nn.Module):
    """``y = t * g(W_t x + b_t) + (1 - t) * x`` with ``t = sigmoid(W_c x + b_c)``, stacked.

    This is the TensorFlow (bilm-tf) convention: ``t`` is the *carry* gate from the weight
    files' ``W_carry``/``b_carry`` and scales the transformed branch.

    Input and output: ``(..., dim)``.
    """

    def __init__(self, dim: int, num_layers: int,
                 activation: Callable[[torch.Tensor], torch.Tensor] = torch.relu) -> None:
        super().__init__()
        self.dim = dim
        self.activation = activation
        # One Linear per layer producing [transform | carry] pre-activations.
        self.layers = nn.ModuleList(nn.Linear(dim, 2 * dim) for _ in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            transform, carry = linear(x, layer.weight, layer.bias).chunk(2, dim=-1)
            gate = torch.sigmoid(carry)
            x = gate * self.activation(transform) + (1 - gate) * x
        return x
