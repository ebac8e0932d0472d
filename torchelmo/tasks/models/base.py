"""What every task model shares: embedders -> dropout -> encoder (+ output-side ELMo)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ...errors import ConfigurationError
from ..batching import TaskBatch, tensorize
from ..embedders.token_embedder import TokenEmbedder
from ..encoder import LstmEncoder
from ..instance import Instance
from ..vocabulary import TaskVocabulary

Prediction = Dict[str, Any]


class TaskModel(nn.Module):
    """Base of the task models.

    Subclasses set ``main_metric`` and implement ``labels_of``, ``forward`` (returning
    ``loss`` when the batch has labels), ``decode`` and ``score``.

    Parameters
    ----------
    config : the ``model`` block.
    vocabularies : ``words`` (with word embeddings) and ``labels`` (tags, classes or relations).
    extra_input_dim : width of features a subclass concatenates to the embeddings.
    """

    main_metric = "accuracy"
    sentence_label = False
    prediction_suffix: Optional[str] = None  # file suffix of the task's own prediction format (``.conll``)

    def __init__(self, config, vocabularies: Dict[str, TaskVocabulary], extra_input_dim: int = 0) -> None:
        super().__init__()
        self.config = config
        self.vocabularies = vocabularies
        self.labels = vocabularies["labels"]
        self.embedder = TokenEmbedder(config.embedders, len(vocabularies.get("words", ())),
                                      vocabularies.get("pretrained"))
        self.dropout = nn.Dropout(config.dropout)
        self.encoder = LstmEncoder(self.embedder.input_dim + extra_input_dim, config.encoder)
        self.encoded_dim = self.encoder.output_dim + self.embedder.output_dim

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        raise NotImplementedError

    @classmethod
    def check_data(cls, config, reader) -> None:
        """Raise :class:`~torchelmo.errors.ConfigurationError` when the ``model`` block
        ``config`` cannot use what the ``data.reader`` block ``reader`` gives (beyond the reader
        type, which the registry checks). Nothing by default."""

    @classmethod
    def build_vocabularies(cls, config, instances: Sequence[Instance],
                           evaluation_instances: Sequence[Instance] = ()) -> Dict[str, TaskVocabulary]:
        """``labels`` from the training instances; ``words`` when the model has learned word
        vectors (training words); ``pretrained`` with pretrained vectors: the words of the
        training and ``evaluation_instances`` (validation, test), whose vectors are fixed."""
        vocabularies = {"labels": TaskVocabulary.of_labels(l for x in instances for l in cls.labels_of(x) or ())}
        words = config.embedders.words
        if words is not None:
            tokens = (t.lower() if words.lowercase else t for x in instances for t in x.tokens)
            vocabularies["words"] = TaskVocabulary.of_words(tokens, words.min_count)
        pretrained = config.embedders.pretrained
        if pretrained is not None:
            tokens = (t.lower() if pretrained.lowercase else t
                      for x in (*instances, *evaluation_instances) for t in x.tokens)
            vocabularies["pretrained"] = TaskVocabulary.of_words(tokens)
        return vocabularies

    def tensorize(self, instances: Sequence[Instance]) -> TaskBatch:
        words, pretrained = self.config.embedders.words, self.config.embedders.pretrained
        return tensorize(instances, self.vocabularies, self.labels_of, sentence_label=self.sentence_label,
                         characters=self.embedder.needs_characters, elmo_ids=self.embedder.elmo_ids,
                         lowercase=words is not None and words.lowercase,
                         pretrained_lowercase=pretrained is not None and pretrained.lowercase, **self.tensor_options())

    def tensor_options(self) -> Dict[str, bool]:
        """Extra fields a subclass needs from :func:`~torchelmo.tasks.batching.tensorize`."""
        return {}

    def encode(self, batch: TaskBatch, extra: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Contextual token vectors ``(batch, time, encoded_dim)``; ``extra``
        ``(batch, time, extra_input_dim)`` joins the embeddings."""
        return self.embed_and_encode(batch, extra)[1]

    def embed_and_encode(self, batch: TaskBatch, extra: Optional[torch.Tensor] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The embeddings after dropout ``(batch, time, input_dim + extra_input_dim)`` and
        the contextual vectors :meth:`encode` gives, for models that use both."""
        embedded, output_side = self.embedder(batch)
        if extra is not None:
            embedded = torch.cat([embedded, extra], dim=-1)
        embedded = self.dropout(embedded)
        encoded = self.encoder(embedded, batch["mask"])
        if output_side is not None:
            encoded = torch.cat([encoded, output_side], dim=-1)
        return embedded, self.dropout(encoded)

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        """One prediction dict per instance of the batch (JSON-ready)."""
        raise NotImplementedError

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        """Metrics of ``predictions`` against the gold annotations of ``instances``."""
        raise NotImplementedError

    def prediction_record(self, instance: Instance, prediction: Prediction) -> Dict[str, Any]:
        """One JSON-lines record of ``predictions.jsonl`` and ``task predict``: by default where
        the instance came from, its tokens (see :meth:`Instance.record`) and the prediction."""
        return {**instance.record(), **prediction}

    def format_predictions(self, instances: Sequence[Instance], predictions: Sequence[Prediction]) -> str:
        """``predictions`` as text in the task's own format (models with a ``prediction_suffix``)."""
        raise NotImplementedError

    def checkpoint_state(self) -> Dict[str, torch.Tensor]:
        """The state dict without weights loaded from files and kept frozen (the biLM)."""
        skip = tuple("embedder." + p for p in self.embedder.frozen_prefixes())
        return {k: v for k, v in self.state_dict().items() if not (skip and k.startswith(skip))}

    def load_checkpoint_state(self, state: Dict[str, torch.Tensor]) -> None:
        """Load what :meth:`checkpoint_state` saved; anything else missing is an error."""
        skip = tuple("embedder." + p for p in self.embedder.frozen_prefixes())
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not (skip and k.startswith(skip))]
        if missing or unexpected:
            raise ConfigurationError(f"the saved weights do not fit the configured model (missing {missing[:5]}, "
                                     f"unexpected {unexpected[:5]}); was config.json edited?")
