"""The bidirectional language model body: character encoder + stacked biLSTM.

Produces ELMo's three layers (token layer, LSTM 1, LSTM 2), each
``(batch, timesteps + 2, 2 * projection_dim)`` with ``<S>``/``</S>`` positions included.
"""
import logging
import os
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import nn

from .char_encoder import CharacterEncoder
from .characters import BOS_TOKEN, EOS_TOKEN
from .lstm import ElmoLstm
from .options import ElmoOptions
from .sentence_boundaries import add_sentence_boundaries, remove_sentence_boundaries
from .weights import check_weight_file, load_weights

logger = logging.getLogger(__name__)
PathLike = Union[str, os.PathLike]


class ElmoBiLm(nn.Module):
    """Character CNN + forward/backward LSTM language model, without the softmax.

    Parameters
    ----------
    options : the architecture.
    stateful : carry LSTM state across batches (AllenNLP's and bilm-tf's behaviour).
    requires_grad : train the biLM's own weights (fine-tuning); frozen by default.
    """

    def __init__(self, options: ElmoOptions, stateful: bool = True, requires_grad: bool = False) -> None:
        super().__init__()
        options.check_fits_in_memory()
        self.options = options
        self.char_encoder = CharacterEncoder(options.char_cnn, options.lstm.projection_dim)
        self.lstm = ElmoLstm(options.lstm, options.lstm.projection_dim, stateful=stateful)
        self.requires_grad_(requires_grad)
        # (2 + vocab, projection_dim): <S>, </S>, then the cached vocabulary (see cache_vocabulary).
        self.register_buffer("word_embedding", None, persistent=False)

    @classmethod
    def from_files(cls, options_file: PathLike, weight_file: PathLike, **kwargs) -> "ElmoBiLm":
        """Build from an ``options.json`` and load an official ``weights.hdf5``."""
        options = ElmoOptions.from_file(options_file)
        check_weight_file(weight_file, options)  # before anything is allocated
        model = cls(options, **kwargs)
        load_weights(model, weight_file)
        logger.info("Loaded ELMo weights from %s (options %s)", os.fspath(weight_file), os.fspath(options_file))
        return model

    @property
    def output_dim(self) -> int:
        return self.options.output_dim

    @property
    def num_layers(self) -> int:
        return self.options.lstm.n_layers + 1

    def reset_states(self) -> None:
        """Forget the LSTM state carried over from previous batches."""
        self.lstm.reset_states()

    def cache_vocabulary(self, tokens: Sequence[str]) -> None:
        """Precompute the token layer for ``tokens`` so ``word_inputs`` can index into it.

        Index 0 of ``tokens`` is the padding entry (word id 0 marks padding).
        """
        with torch.no_grad():
            self.word_embedding = self.char_encoder.embed_words([BOS_TOKEN, EOS_TOKEN, *tokens])

    def _token_layer(self, char_ids: torch.Tensor, word_ids: Optional[torch.Tensor]):
        table = self.word_embedding
        if table is not None and word_ids is not None and (
                word_ids.numel() == 0 or int(word_ids.max()) < table.size(0) - 2):
            mask = word_ids > 0
            return add_sentence_boundaries(table[2:][word_ids], mask, table[0], table[1])
        encoded = self.char_encoder(char_ids)
        return encoded["token_embedding"], encoded["mask"]

    def forward(self, char_ids: torch.Tensor, word_ids: Optional[torch.Tensor] = None
                ) -> Dict[str, Union[torch.Tensor, List[torch.Tensor]]]:
        """``char_ids`` ``(batch, timesteps, 50)``; optional ``word_ids`` ``(batch, timesteps)``
        into the cached vocabulary.

        Returns ``activations``: a list of ``num_layers`` tensors
        ``(batch, timesteps + 2, output_dim)`` and ``mask`` ``(batch, timesteps + 2)`` (long).
        """
        token_layer, mask = self._token_layer(char_ids, word_ids)
        lstm_outputs = self.lstm(token_layer, mask)
        activations = [torch.cat([token_layer, token_layer], dim=-1) * mask.unsqueeze(-1).to(token_layer.dtype)]
        activations.extend(lstm_outputs.unbind(0))
        return {"activations": activations, "mask": mask.long()}

    def embed_layers(self, char_ids: torch.Tensor):
        """All layers without ``<S>``/``</S>``: ``(batch, num_layers, timesteps, output_dim)``
        and mask ``(batch, timesteps)`` (bool)."""
        output = self(char_ids)
        layers, mask = [], None
        for activation in output["activations"]:
            layer, mask = remove_sentence_boundaries(activation, output["mask"])
            layers.append(layer)
        return torch.stack(layers, dim=1), mask
