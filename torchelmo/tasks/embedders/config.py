"""The ``model.embedders`` block: which token representations a task model concatenates."""
from dataclasses import dataclass
from typing import List, Literal, Optional

from ...states import resolve_state_mode
from ..schema import POSITIVE, PROBABILITY, check


@dataclass
class WordEmbeddingConfig:
    """Word vectors learned from scratch: tokens seen fewer than ``min_count`` times in
    train map to the unknown word."""

    dim: int = check(POSITIVE, default=100)
    min_count: int = check(POSITIVE, default=1)
    lowercase: bool = False


@dataclass
class PretrainedEmbeddingConfig:
    """Pretrained word vectors: a GloVe/word2vec text file (``.gz`` allowed) or a known name
    (``glove-6b-50d``). Only the vectors of words in the data are kept; other words share
    one learned unknown vector. ``trainable``: fine-tune the vectors too."""

    path: str
    trainable: bool = False
    lowercase: bool = False


@dataclass
class CharacterCnnConfig:
    """A character CNN per token over :func:`torchelmo.batch_to_ids` ids: character
    embeddings, one convolution per ``[width, count]`` filter, max-pooled over the
    characters, then the activation; the output has ``sum(count)`` features."""

    embedding_dim: int = check(POSITIVE, default=16)
    filters: List[List[int]] = check(POSITIVE, default_factory=lambda: [[3, 50]])
    activation: Literal["relu", "tanh"] = "relu"

    def __post_init__(self) -> None:
        if not self.filters or any(len(f) != 2 for f in self.filters):
            raise ValueError(f"filters: expected a non-empty list of [width, count] pairs, got {self.filters}")


@dataclass
class ElmoConfig:
    """ELMo through :class:`torchelmo.Elmo`. Leave both files out for the bundled default.

    ``num_output_representations``: 1 puts ELMo at the encoder's input; 2 also concatenates
    a second mix to the encoder's output (the paper's "input and output" setting).
    ``state``: where each sentence's LSTM state starts (see :mod:`torchelmo.states`):
    ``zero`` (default here, so that a sentence's prediction does not depend on the batches
    before it), ``warm`` (a fixed state the biLM reaches on real English; also
    batch-independent) or ``carry`` (AllenNLP's carried state). ``stateful``, the former
    switch, is still accepted: ``true`` is ``carry``, ``false`` is ``zero``.
    ``cache``: a frozen, deterministic (``zero`` or ``warm``) biLM's three layers are computed
    once per distinct sentence and kept in memory (``float32`` or ``float16``); ``none``
    recomputes them. ``model``: a model name or folder instead of the two files (AllenNLP's
    ``options.json`` + ``weights.hdf5``, or an ELMoForManyLangs model; see
    :func:`torchelmo.hub.resolve_model`); ``warmup_text``: the warm-up text of ``warm`` in
    the model's language (needed for ELMoForManyLangs models).
    """

    options_file: Optional[str] = None
    weight_file: Optional[str] = None
    model: Optional[str] = None
    warmup_text: Optional[str] = None
    dropout: float = check(PROBABILITY, default=0.5)
    do_layer_norm: bool = False
    requires_grad: bool = False
    num_output_representations: Literal[1, 2] = 1
    state: Optional[Literal["carry", "zero", "warm"]] = None
    stateful: Optional[bool] = None
    cache: Literal["none", "float32", "float16"] = "float32"

    def __post_init__(self) -> None:
        if (self.options_file is None) != (self.weight_file is None):
            raise ValueError("weight_file: give both options_file and weight_file, or neither "
                             "(the bundled default model)")
        if self.model is not None and self.options_file is not None:
            raise ValueError("model: give either model or options_file and weight_file, not both")
        if self.state is None:
            self.state = "zero" if self.stateful is None else resolve_state_mode(None, self.stateful)
        elif self.stateful is not None and resolve_state_mode(None, self.stateful) != self.state:
            raise ValueError(f"state: {self.state!r} contradicts stateful: {self.stateful}; give only state")

    @property
    def deterministic(self) -> bool:
        """Whether a sentence's biLM layers depend on nothing but the sentence."""
        return self.state != "carry"

    @property
    def cached(self) -> bool:
        """Whether the biLM layers are cached: asked for, frozen and deterministic."""
        return self.cache != "none" and not self.requires_grad and self.deterministic


@dataclass
class EmbeddersConfig:
    words: Optional[WordEmbeddingConfig] = None
    pretrained: Optional[PretrainedEmbeddingConfig] = None
    characters: Optional[CharacterCnnConfig] = None
    elmo: Optional[ElmoConfig] = None

    def __post_init__(self) -> None:
        if self.words is None and self.pretrained is None and self.characters is None and self.elmo is None:
            raise ValueError("words: give at least one of words, pretrained, characters and elmo")
