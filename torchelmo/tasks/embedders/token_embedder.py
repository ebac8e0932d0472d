"""Token representations for task models, by config: learned word vectors, pretrained word
vectors, a character CNN and/or ELMo, concatenated.

ELMo enters a model only here. With ``num_output_representations: 2`` the second ELMo mix
is handed back separately, for the model to concatenate to its encoder's output. A frozen,
deterministic biLM's layers are cached per sentence (:mod:`.elmo_cache`).
"""
import logging
from typing import Callable, List, Optional, Tuple

import torch
from torch import nn

from ...char_encoder import CharacterEncoder
from ...elmo import Elmo
from ..batching import TaskBatch
from ..vocabulary import TaskVocabulary
from .char_cnn import CharacterCnn
from .config import EmbeddersConfig
from .elmo_cache import ElmoLayerCache
from .pretrained import PretrainedWordEmbedding

logger = logging.getLogger(__name__)


class TokenEmbedder(nn.Module):
    """Concatenated word vectors, pretrained vectors, character CNN and ELMo mix 0:
    ``(batch, time, input_dim)``.

    Parameters
    ----------
    config : the ``model.embedders`` block.
    num_words : size of the word vocabulary (ignored without word embeddings).
    pretrained_words : the ``pretrained`` vocabulary (the data's words), with pretrained vectors.
    """

    def __init__(self, config: EmbeddersConfig, num_words: int,
                 pretrained_words: Optional[TaskVocabulary] = None) -> None:
        super().__init__()
        self.words: Optional[nn.Embedding] = None
        self.pretrained: Optional[PretrainedWordEmbedding] = None
        self.characters: Optional[CharacterCnn] = None
        self.elmo: Optional[Elmo] = None
        self.elmo_cache: Optional[ElmoLayerCache] = None
        self.input_dim = 0
        self.output_dim = 0
        self.frozen_elmo = config.elmo is not None and not config.elmo.requires_grad
        self.frozen_pretrained = config.pretrained is not None and not config.pretrained.trainable
        if config.words is not None:
            self.words = nn.Embedding(num_words, config.words.dim, padding_idx=0)
            self.input_dim += config.words.dim
        if config.pretrained is not None:
            if pretrained_words is None:
                raise ValueError("pretrained vectors need the 'pretrained' vocabulary")
            self.pretrained = PretrainedWordEmbedding(config.pretrained, pretrained_words)
            self.input_dim += self.pretrained.output_dim
        if config.characters is not None:
            self.characters = CharacterCnn(config.characters)
            self.input_dim += self.characters.output_dim
        if config.elmo is not None:
            elmo = config.elmo
            self.elmo = Elmo(elmo.options_file, elmo.weight_file,
                             num_output_representations=elmo.num_output_representations,
                             requires_grad=elmo.requires_grad, do_layer_norm=elmo.do_layer_norm,
                             dropout=elmo.dropout, state=elmo.state, model=elmo.model, warmup_text=elmo.warmup_text)
            if elmo.cached:
                self.elmo_cache = ElmoLayerCache(self.elmo.bilm, elmo.cache)
                logger.info("ELMo layers cached per distinct sentence (%s, state %s)", elmo.cache, elmo.state)
            self.input_dim += self.elmo.get_output_dim()
            if elmo.num_output_representations == 2:
                self.output_dim = self.elmo.get_output_dim()

    @property
    def elmo_ids(self) -> Optional[Callable[[List[List[str]]], torch.Tensor]]:
        """What makes ELMo's input ``elmo_ids`` from tokenized sentences, when ELMo does not
        read ``characters`` (an ELMoForManyLangs model reads its own ids); else None."""
        if self.elmo is None or isinstance(self.elmo.bilm.char_encoder, CharacterEncoder):
            return None
        return self.elmo.bilm.batch_to_ids

    @property
    def needs_characters(self) -> bool:
        """Whether batches must carry ``characters`` ``(batch, time, 50)``."""
        return self.characters is not None or self.elmo is not None

    def forward(self, batch: TaskBatch) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Returns the input representation ``(batch, time, input_dim)`` and, with a second
        ELMo mix, the output-side one ``(batch, time, output_dim)`` (else ``None``)."""
        parts: List[torch.Tensor] = []
        output_side = None
        if self.words is not None:
            parts.append(self.words(batch["words"]))
        if self.pretrained is not None:
            parts.append(self.pretrained(batch["pretrained"]))
        if self.characters is not None:
            parts.append(self.characters(batch["characters"]))
        if self.elmo is not None:
            representations = self._elmo(batch["elmo_ids"] if "elmo_ids" in batch else batch["characters"])
            parts.append(representations[0])
            if len(representations) > 1:
                output_side = representations[1]
        return torch.cat(parts, dim=-1), output_side

    def _elmo(self, char_ids: torch.Tensor) -> List[torch.Tensor]:
        if self.elmo_cache is None:
            return self.elmo(char_ids)["elmo_representations"]
        return self.elmo.mix(*self.elmo_cache.layers(char_ids))[0]

    def frozen_prefixes(self) -> List[str]:
        """State-dict key prefixes of weights that are loaded from files, not trained
        (the frozen biLM, frozen pretrained vectors): left out of checkpoints."""
        return ([f"elmo.{Elmo.bilm_state_prefix()}"] if self.frozen_elmo else []) + \
            (["pretrained.vectors"] if self.frozen_pretrained else [])
