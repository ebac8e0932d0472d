"""Contextual encoder of a task model: a (bi)LSTM over the embedded tokens."""
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .schema import POSITIVE, PROBABILITY, check


@dataclass
class LstmEncoderConfig:
    """A (bi)LSTM over the embedded tokens."""

    type: str = "lstm"
    hidden_size: int = check(POSITIVE, default=200)
    num_layers: int = check(POSITIVE, default=2)
    dropout: float = check(PROBABILITY, default=0.5)
    bidirectional: bool = True


class LstmEncoder(nn.Module):
    """``(batch, time, input_dim)`` -> ``(batch, time, output_dim)``; padding stays zero."""

    def __init__(self, input_dim: int, config: LstmEncoderConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_dim, config.hidden_size, num_layers=config.num_layers, batch_first=True,
                            bidirectional=config.bidirectional,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.output_dim = config.hidden_size * (2 if config.bidirectional else 1)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``mask`` ``(batch, time)`` bool; every row has at least one token."""
        lengths = mask.sum(dim=1).cpu()
        packed = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=inputs.size(1))
        return output
