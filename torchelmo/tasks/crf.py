"""Linear-chain conditional random field: sequence log-likelihood and Viterbi decoding;
BIO transition constraints, also for decoding per-token scores without a CRF."""
from typing import List, Optional, Tuple

import torch
from torch import nn

_FORBIDDEN = -1e4


def bio_transitions(labels: List[str]) -> torch.Tensor:
    """Allowed-transition mask ``(num_labels + 2, num_labels + 2)`` for BIO tags: ``I-X``
    only after ``B-X`` or ``I-X``. Rows/columns ``num_labels`` and ``num_labels + 1`` are
    the start and end states."""
    n = len(labels)
    allowed = torch.ones(n + 2, n + 2, dtype=torch.bool)
    for j, label in enumerate(labels):
        if label.startswith("I-"):
            kind = label[2:]
            for i in range(n + 2):
                previous = labels[i] if i < n else ""
                allowed[i, j] = previous in (f"B-{kind}", f"I-{kind}")
    allowed[:, n] = False  # nothing goes back to start
    allowed[n + 1, :] = False  # nothing leaves end
    return allowed


def transition_penalties(allowed: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An allowed mask ``(num_labels + 2, num_labels + 2)`` (see :func:`bio_transitions`) as
    additive scores: 0 where allowed, a large negative number where not; returned as the
    label-to-label ``(num_labels, num_labels)``, start ``(num_labels,)`` and end
    ``(num_labels,)`` parts."""
    n = allowed.size(0) - 2
    penalty = torch.where(allowed, 0.0, _FORBIDDEN)
    return penalty[:n, :n], penalty[n, :n], penalty[:n, n + 1]


def viterbi(emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
            end: torch.Tensor) -> List[List[int]]:
    """The best label sequence of each row under ``emissions`` ``(batch, time, num_labels)``
    plus ``transitions`` ``(num_labels, num_labels)`` and ``start``/``end`` ``(num_labels,)``
    scores, as lists of each row's length (``mask`` ``(batch, time)``, tokens first).

    Backtracking follows every row at once on the scores' device; the paths are read once at
    the end (reading one label at a time would wait for a GPU once per token)."""
    lengths = mask.sum(dim=1).tolist()
    score = start + emissions[:, 0]
    backpointers = []
    for t in range(1, emissions.size(1)):
        best, index = (score.unsqueeze(2) + transitions).max(dim=1)
        step = mask[:, t].unsqueeze(1)
        score = torch.where(step, best + emissions[:, t], score)
        backpointers.append(index)
    # labels[t]: each row's label at t; past a row's end, its last label (the pointers of
    # padded steps are not followed).
    label = (score + end).argmax(dim=1)
    labels = [label]
    for t in range(emissions.size(1) - 1, 0, -1):
        label = torch.where(mask[:, t], backpointers[t - 1].gather(1, label.unsqueeze(1)).squeeze(1), label)
        labels.append(label)
    table = torch.stack(labels[::-1], dim=1).tolist()  # (batch, time)
    return [row[:max(length, 1)] for row, length in zip(table, lengths)]


class ConditionalRandomField(nn.Module):
    """Transition scores between labels, learned; optionally constrained by an allowed mask.

    Emissions are ``(batch, time, num_labels)``, labels ``(batch, time)``, mask
    ``(batch, time)`` bool with every row's tokens first.
    """

    def __init__(self, num_labels: int, allowed: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(num_labels, num_labels))
        self.start = nn.Parameter(torch.zeros(num_labels))
        self.end = nn.Parameter(torch.zeros(num_labels))
        if allowed is None:
            allowed = torch.ones(num_labels + 2, num_labels + 2, dtype=torch.bool)
        transition_penalty, start_penalty, end_penalty = transition_penalties(allowed)
        self.register_buffer("transition_penalty", transition_penalty)
        self.register_buffer("start_penalty", start_penalty)
        self.register_buffer("end_penalty", end_penalty)

    def _scores(self):
        return (self.transitions + self.transition_penalty, self.start + self.start_penalty,
                self.end + self.end_penalty)

    def log_likelihood(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Sum over the batch of ``log p(labels | emissions)`` (a scalar)."""
        transitions, start, end = self._scores()
        labels = labels.clamp(min=0)  # unseen labels (IGNORE) only occur in held-out data
        lengths = mask.sum(dim=1)
        rows = torch.arange(labels.size(0), device=labels.device)
        gold = start[labels[:, 0]] + emissions[rows, 0, labels[:, 0]]
        alpha = start + emissions[:, 0]
        for t in range(1, emissions.size(1)):
            step = mask[:, t]
            gold = gold + torch.where(step, transitions[labels[:, t - 1], labels[:, t]]
                                      + emissions[rows, t, labels[:, t]], torch.zeros_like(gold))
            candidate = torch.logsumexp(alpha.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(step.unsqueeze(1), candidate, alpha)
        gold = gold + end[labels[rows, lengths - 1]]
        return (gold - torch.logsumexp(alpha + end, dim=1)).sum()

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> List[List[int]]:
        """The best label sequence of each row, as lists of each row's length."""
        return viterbi(emissions, mask, *self._scores())
