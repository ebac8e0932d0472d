"""EFML's token layer: word embedding and character CNN, joined and projected.

The second token encoder of :class:`~torchelmo.ElmoBiLm` (the first is
:class:`~torchelmo.char_encoder.CharacterEncoder`): same interface, ids from the model's own
dictionaries (:class:`~.vocabulary.EfmlVocabulary`). Per token: the character row
``(max_characters_per_token,)`` is embedded, each convolution's maximum over all positions
(padding included, as EFML) goes through the configured activation, then the highway
layers (always relu, as EFML); ``[word embedding ; that]`` is projected to the LSTM's input.
"""
from typing import Dict, Sequence

import torch
from torch import nn

from ..char_encoder import embed_distinct, max_over_time
from ..gemm import linear
from ..highway import Highway
from ..sentence_boundaries import add_sentence_boundaries
from .options import EfmlOptions
from .vocabulary import BOS, EOS, EfmlVocabulary


class EfmlTokenEncoder(nn.Module):
    """Input ``(batch, timesteps, width)`` ids from :meth:`batch_to_ids` (+1-shifted; 0 = no
    token); output a dict with ``token_embedding`` ``(batch, timesteps + 2, projection_dim)``
    (``<bos>``, tokens, ``<eos>``) and ``mask`` ``(batch, timesteps + 2)`` (bool).

    ``word_rows``/``char_rows``: the sizes of the embedding tables (from the weight files).
    """

    boundary_tokens = (BOS, EOS)  # the strings embed_words reads as sentence markers

    def __init__(self, options: EfmlOptions, vocabulary: EfmlVocabulary, word_rows: int, char_rows: int) -> None:
        super().__init__()
        token = options.token
        self.vocabulary = vocabulary
        self.word_embedding = nn.Embedding(word_rows, token.word_dim) if token.word_dim else None
        self.char_embedding = nn.Embedding(char_rows, token.char_dim) if token.char_dim else None
        self.convolutions = nn.ModuleList(nn.Conv1d(token.char_dim, num, kernel_size=width)
                                          for width, num in (token.filters if token.char_dim else []))
        self.activation = torch.tanh if token.activation == "tanh" else torch.relu
        self.highway = Highway(token.n_filters, token.n_highway, activation=torch.relu)
        self.projection = nn.Linear(token.word_dim + token.n_filters, options.lstm.projection_dim)
        self.register_buffer("boundary_ids", vocabulary.tokens_to_ids([BOS, EOS]) + 1, persistent=False)

    @property
    def output_dim(self) -> int:
        return self.projection.out_features

    def batch_to_ids(self, batch: Sequence[Sequence[str]]) -> torch.Tensor:
        """The input of :meth:`forward`: see :meth:`EfmlVocabulary.batch_to_ids`."""
        return self.vocabulary.batch_to_ids(batch)

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """``(n, width)`` ids (word id, character row; not shifted) -> ``(n, projection_dim)``."""
        parts = [self.word_embedding(ids[:, 0])] if self.word_embedding is not None else []
        if self.char_embedding is not None:
            x = self.char_embedding(ids[:, 1:])  # (n, max_characters, char_dim)
            features = [self.activation(max_over_time(x, conv)) for conv in self.convolutions]
            parts.append(self.highway(torch.cat(features, dim=-1)))
        return linear(torch.cat(parts, dim=-1), self.projection.weight, self.projection.bias)

    def embed_words(self, words: Sequence[str]) -> torch.Tensor:
        """Token strings (``<bos>``/``<eos>`` are the markers) -> ``(len(words), projection_dim)``."""
        ids = self.vocabulary.tokens_to_ids(words).to(self.boundary_ids.device)
        return embed_distinct(self.embed_tokens, ids)

    def forward(self, ids: torch.Tensor) -> Dict[str, torch.Tensor]:
        mask = (ids > 0).any(dim=-1)
        with_boundaries, mask = add_sentence_boundaries(ids, mask, self.boundary_ids[0], self.boundary_ids[1])
        batch, timesteps, width = with_boundaries.shape
        # Positions past a sentence's end (all 0) embed row 0; the mask drops them.
        embedding = embed_distinct(self.embed_tokens, (with_boundaries - 1).clamp(min=0).view(-1, width))
        return {"token_embedding": embedding.view(batch, timesteps, -1), "mask": mask}
