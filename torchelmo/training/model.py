"""ELMo's training objective: the biLM body (:class:`~torchelmo.bilm.ElmoBiLm`) plus a softmax.

Sentences are trained whole, framed ``<S> w1 ... wn </S>`` exactly as at inference, and
without carrying LSTM state between batches. At position ``p`` of the top layer the forward
LM predicts the token at ``p + 1`` (``w1 ... wn </S>``) and the backward LM the token at
``p - 1`` (``<S> w1 ... wn``): ``n + 1`` predictions per direction. Both share the character
encoder and the softmax.
"""
from typing import Tuple

import torch
from torch import nn
from torch.nn import functional as F

from ..bilm import ElmoBiLm
from ..options import ElmoOptions
from .softmax import Softmax

HIGHWAY_CARRY_BIAS = -2.0  # bilm-tf's initial carry-gate bias: highway layers start near identity


class BidirectionalLM(nn.Module):
    """Forward and backward language models over an :class:`ElmoBiLm`.

    Parameters
    ----------
    options : the architecture.
    vocab_size : size of the word softmax.
    dropout : on each LSTM layer's input and on the top layer (bilm-tf uses 0.1).
    num_samples : negatives of the sampled softmax in training; 0 for the full softmax.
    """

    def __init__(self, options: ElmoOptions, vocab_size: int, dropout: float = 0.0, num_samples: int = 0) -> None:
        super().__init__()
        self.bilm = ElmoBiLm(options, stateful=False, requires_grad=True)
        self.bilm.set_training_dropout(dropout)
        self.softmax = Softmax(vocab_size, options.lstm.projection_dim)
        self.dropout = dropout
        self.num_samples = num_samples
        self.bilm.initialize_for_training(HIGHWAY_CARRY_BIAS)

    def token_losses(self, char_ids: torch.Tensor, targets: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Negative log-likelihoods of the forward and of the backward LM, each ``(n,)`` over the
        batch's ``n`` predictions (sentence lengths + 1), in the same order.

        ``char_ids`` ``(batch, timesteps, 50)``; ``targets`` ``(batch, timesteps + 2)`` word ids of
        ``<S> w1 ... wn </S>`` per row, ``-1`` at padding.
        """
        top = self.bilm(char_ids)["activations"][-1]  # (batch, timesteps + 2, 2 * proj)
        top = F.dropout(top, self.dropout, self.training)
        proj = top.size(-1) // 2
        valid = targets[:, 1:] >= 0  # (batch, timesteps + 1): predictions that exist
        hidden = torch.cat([top[:, :-1, :proj][valid], top[:, 1:, proj:][valid]])
        words = torch.cat([targets[:, 1:][valid], targets[:, :-1][valid]])
        losses = self.softmax.loss(hidden, words, self.num_samples)
        return losses.chunk(2)

    def forward(self, char_ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The training loss: mean over both directions' predictions (a scalar)."""
        forward_losses, backward_losses = self.token_losses(char_ids, targets)
        return 0.5 * (forward_losses.mean() + backward_losses.mean())
