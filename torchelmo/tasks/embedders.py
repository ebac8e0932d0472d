"""Token representations for task models: learned word vectors and/or ELMo, by config.

ELMo enters a model only here. With ``num_output_representations: 2`` the second ELMo mix
is handed back separately, for the model to concatenate to its encoder's output.
"""
import logging
from typing import List, Optional, Tuple

import torch
from torch import nn

from ..elmo import Elmo
from .batching import Batch
from .config import EmbeddersConfig

logger = logging.getLogger(__name__)


class TokenEmbedder(nn.Module):
    """Concatenated word vectors and ELMo mix 0: ``(batch, time, input_dim)``.

    Parameters
    ----------
    config : the ``model.embedders`` block.
    num_words : size of the word vocabulary (ignored without word embeddings).
    """

    def __init__(self, config: EmbeddersConfig, num_words: int) -> None:
        super().__init__()
        self.words: Optional[nn.Embedding] = None
        self.elmo: Optional[Elmo] = None
        self.input_dim = 0
        self.output_dim = 0
        self.frozen_elmo = config.elmo is not None and not config.elmo.requires_grad
        if config.words is not None:
            self.words = nn.Embedding(num_words, config.words.dim, padding_idx=0)
            self.input_dim += config.words.dim
        if config.elmo is not None:
            elmo = config.elmo
            self.elmo = Elmo(elmo.options_file, elmo.weight_file,
                             num_output_representations=elmo.num_output_representations,
                             requires_grad=elmo.requires_grad, do_layer_norm=elmo.do_layer_norm,
                             dropout=elmo.dropout, state=elmo.state)
            self.input_dim += self.elmo.get_output_dim()
            if elmo.num_output_representations == 2:
                self.output_dim = self.elmo.get_output_dim()

    def forward(self, batch: Batch) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Returns the input representation ``(batch, time, input_dim)`` and, with a second
        ELMo mix, the output-side one ``(batch, time, output_dim)`` (else ``None``)."""
        parts: List[torch.Tensor] = []
        output_side = None
        if self.words is not None:
            parts.append(self.words(batch["words"]))
        if self.elmo is not None:
            representations = self.elmo(batch["characters"])["elmo_representations"]
            parts.append(representations[0])
            if len(representations) > 1:
                output_side = representations[1]
        return torch.cat(parts, dim=-1), output_side

    def frozen_prefixes(self) -> List[str]:
        """State-dict key prefixes of weights that are loaded from files, not trained
        (the frozen biLM): left out of checkpoints."""
        return ["elmo._elmo_lstm."] if self.frozen_elmo else []
