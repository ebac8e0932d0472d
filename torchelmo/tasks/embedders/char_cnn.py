"""A character CNN token embedder (the ELMo paper's baselines use one beside GloVe)."""
import torch
from torch import nn

from ...characters import PADDING_CHARACTER
from .config import CharacterCnnConfig

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


class CharacterCnn(nn.Module):
    """Character ids ``(batch, time, 50)`` from :func:`torchelmo.batch_to_ids` → token
    vectors ``(batch, time, output_dim)``: embeddings, one 1-d convolution per filter
    width, max over character positions, activation. Padding tokens (all ids 0) give zeros.
    """

    def __init__(self, config: CharacterCnnConfig) -> None:
        super().__init__()
        # ids are shifted by one: 0 is a padding token, PADDING_CHARACTER + 1 the highest
        self.embedding = nn.Embedding(PADDING_CHARACTER + 2, config.embedding_dim, padding_idx=0)
        self.convolutions = nn.ModuleList(nn.Conv1d(config.embedding_dim, count, width)
                                          for width, count in config.filters)
        self.activation = ACTIVATIONS[config.activation]
        self.output_dim = sum(count for _, count in config.filters)

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        batch, time, length = char_ids.shape
        embedded = self.embedding(char_ids.view(-1, length)).transpose(1, 2)  # (batch * time, dim, 50)
        pooled = [conv(embedded).max(dim=-1).values for conv in self.convolutions]
        tokens = self.activation(torch.cat(pooled, dim=-1))
        mask = (char_ids.view(-1, length) > 0).any(dim=-1, keepdim=True)
        return (tokens * mask).view(batch, time, self.output_dim)
