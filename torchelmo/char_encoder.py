"""The context-insensitive token layer: characters -> CNN -> highway -> projection."""
from typing import Callable, Sequence

import torch
from torch import nn

from .characters import BOS_CHAR_IDS, BOS_TOKEN, EOS_CHAR_IDS, EOS_TOKEN, MAX_WORD_LENGTH, batch_to_ids
from .gemm import linear
from .highway import Highway
from .options import CharCNNOptions
from .sentence_boundaries import add_sentence_boundaries

# Tokens per CNN call: bounds the convolutions' memory (about 180 KB per token for the
# original model's 1024 filters of width 7).
CNN_CHUNK_TOKENS = 1024


def max_over_time(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """Each filter's largest response over a token's characters, ``x`` ``(n, 50, dim)`` ->
    ``(n, filters)``: the convolution as one GEMM over all windows (faster than ``conv1d``
    for these narrow inputs, same sums)."""
    width = conv.kernel_size[0]
    windows = x.unfold(1, width, 1).transpose(2, 3).flatten(2)  # (n, 50 - width + 1, width * dim)
    weight = conv.weight.permute(0, 2, 1).flatten(1)  # (filters, width * dim), same order
    return linear(windows, weight, conv.bias).amax(dim=1)


def embed_distinct(embed: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
    """``embed`` ``(n, width)`` ids -> ``(n, dim)`` vectors, run on each distinct row of ``ids``
    once, ``CNN_CHUNK_TOKENS`` rows at a time."""
    distinct, inverse = torch.unique(ids, dim=0, return_inverse=True)
    vectors = [embed(distinct[i:i + CNN_CHUNK_TOKENS]) for i in range(0, distinct.size(0), CNN_CHUNK_TOKENS)]
    return torch.cat(vectors)[inverse]


class CharacterEncoder(nn.Module):
    """Embeds each token from its 50 character ids; adds ``<S>``/``</S>`` around sentences.

    Input ``(batch, timesteps, 50)`` character ids (0 = padding token); output a dict with
    ``token_embedding`` ``(batch, timesteps + 2, projection_dim)`` and ``mask``
    ``(batch, timesteps + 2)`` (bool). Each distinct token of a batch is embedded once.
    """

    def __init__(self, options: CharCNNOptions, projection_dim: int) -> None:
        super().__init__()
        self.options = options
        # Row 0 is the padding id and stays zero; 261 rows come from the weight file.
        self.char_embedding = nn.Embedding(262, options.embedding_dim, padding_idx=0)
        self.convolutions = nn.ModuleList(
            nn.Conv1d(options.embedding_dim, num, kernel_size=width) for width, num in options.filters)
        self.activation = torch.tanh if options.activation == "tanh" else torch.relu
        self.highway = Highway(options.n_filters, options.n_highway, activation=torch.relu)
        self.projection = nn.Linear(options.n_filters, projection_dim)
        self.register_buffer("bos_ids", torch.tensor(BOS_CHAR_IDS), persistent=False)
        self.register_buffer("eos_ids", torch.tensor(EOS_CHAR_IDS), persistent=False)

    @property
    def output_dim(self) -> int:
        return self.projection.out_features

    boundary_tokens = (BOS_TOKEN, EOS_TOKEN)  # the strings embed_words reads as sentence markers

    @staticmethod
    def batch_to_ids(batch: Sequence[Sequence[str]]) -> torch.Tensor:
        """The input of :meth:`forward`: :func:`torchelmo.batch_to_ids`."""
        return batch_to_ids(batch)

    def embed_tokens(self, char_ids: torch.Tensor) -> torch.Tensor:
        """``(n, 50)`` character ids -> ``(n, projection_dim)`` token vectors."""
        x = self.char_embedding(char_ids)  # (n, 50, embedding_dim)
        features = [self.activation(max_over_time(x, conv)) for conv in self.convolutions]
        return linear(self.highway(torch.cat(features, dim=-1)), self.projection.weight, self.projection.bias)

    def embed_distinct(self, char_ids: torch.Tensor) -> torch.Tensor:
        """As :meth:`embed_tokens`, computing each distinct row once, in chunks."""
        return embed_distinct(self.embed_tokens, char_ids)

    def embed_words(self, words: Sequence[str]) -> torch.Tensor:
        """Token strings (``<S>``/``</S>`` allowed) -> ``(len(words), projection_dim)``."""
        char_ids = batch_to_ids([[w] for w in words]).reshape(len(words), MAX_WORD_LENGTH)
        return self.embed_distinct(char_ids.to(self.bos_ids.device))

    def forward(self, char_ids: torch.Tensor) -> dict:
        mask = (char_ids > 0).any(dim=-1)
        with_boundaries, mask = add_sentence_boundaries(char_ids, mask, self.bos_ids, self.eos_ids)
        batch, timesteps, width = with_boundaries.shape
        embedding = self.embed_distinct(with_boundaries.reshape(-1, width))
        return {"token_embedding": embedding.view(batch, timesteps, -1), "mask": mask}
