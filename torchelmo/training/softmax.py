"""The word softmax shared by the forward and backward language models.

``weight`` ``(vocab, dim)`` and ``bias`` ``(vocab,)`` as in bilm-tf. Training may use a
*sampled* softmax (Jean et al., 2015): each batch draws negatives from a log-uniform
(Zipfian) distribution over ids, which suits a vocabulary sorted by decreasing frequency,
and corrects every logit by the log of its expected sample count, so that its gradient
approximates the full softmax's (its value does not). Evaluation always uses the full softmax.
"""
import math
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

FULL_SOFTMAX_CHUNK_ELEMENTS = 2 ** 24  # logits computed at once by the full softmax


def log_uniform_probabilities(ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """``P(k) = log((k + 2) / (k + 1)) / log(vocab_size + 1)`` for each id in ``ids``."""
    ids = ids.to(torch.float64)
    return (torch.log1p(1.0 / (ids + 1.0)) / math.log(vocab_size + 1.0)).to(torch.float32)


def sample_log_uniform(vocab_size: int, num_samples: int, device: torch.device) -> torch.Tensor:
    """``num_samples`` ids ``(num_samples,)`` drawn with replacement from the log-uniform law."""
    uniform = torch.rand(num_samples, device=device, dtype=torch.float64)
    ids = torch.floor(torch.exp(uniform * math.log(vocab_size + 1.0))).long() - 1
    return ids.clamp_(0, vocab_size - 1)


class Softmax(nn.Module):
    """Output layer over the vocabulary: ``logits = hidden @ weight.T + bias``."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.weight = nn.Parameter(torch.empty(vocab_size, dim))
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.normal_(self.weight, std=dim ** -0.5)

    def full_loss(self, hidden: torch.Tensor, targets: torch.Tensor, chunk_size: Optional[int] = None) -> torch.Tensor:
        """Negative log-likelihood ``(n,)`` of ``targets`` ``(n,)`` given ``hidden`` ``(n, dim)``,
        over the whole vocabulary; ``chunk_size`` rows at a time (default: logits of about 64 MB)."""
        chunk_size = chunk_size or max(1, FULL_SOFTMAX_CHUNK_ELEMENTS // self.vocab_size)
        losses = [F.cross_entropy(F.linear(h, self.weight, self.bias).float(), t, reduction="none")
                  for h, t in zip(hidden.split(chunk_size), targets.split(chunk_size))]
        return torch.cat(losses) if losses else hidden.new_zeros(0)

    def sampled_loss(self, hidden: torch.Tensor, targets: torch.Tensor, num_samples: int) -> torch.Tensor:
        """Sampled-softmax loss ``(n,)``: each target against ``num_samples`` shared negatives.

        Negatives equal to a row's own target ("accidental hits") are left out of that row.
        """
        samples = sample_log_uniform(self.vocab_size, num_samples, hidden.device)
        log_expected_target = torch.log(num_samples * log_uniform_probabilities(targets, self.vocab_size))
        log_expected_sample = torch.log(num_samples * log_uniform_probabilities(samples, self.vocab_size))
        true_logits = (hidden * self.weight[targets]).sum(-1) + self.bias[targets]
        sampled_logits = F.linear(hidden, self.weight[samples], self.bias[samples])
        true_logits = true_logits.float() - log_expected_target
        sampled_logits = sampled_logits.float() - log_expected_sample
        sampled_logits.masked_fill_(targets.unsqueeze(1) == samples.unsqueeze(0), float("-inf"))
        # Column 0 holds each row's true word: one fused log-softmax over (n, 1 + num_samples).
        logits = torch.cat([true_logits.unsqueeze(1), sampled_logits], dim=1)
        return F.cross_entropy(logits, targets.new_zeros(targets.shape), reduction="none")

    def loss(self, hidden: torch.Tensor, targets: torch.Tensor, num_samples: int = 0) -> torch.Tensor:
        """Per-token loss ``(n,)``: sampled when ``0 < num_samples < vocab_size`` and in training
        mode, full otherwise."""
        if self.training and 0 < num_samples < self.vocab_size:
            return self.sampled_loss(hidden, targets, num_samples)
        return self.full_loss(hidden, targets)
