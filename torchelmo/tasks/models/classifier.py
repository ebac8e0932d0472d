"""Text classifier: encoder, pooling over time, linear layer, softmax; and what every model
with one label per instance shares (labels, loss, decoding, accuracy)."""
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Sequence

import torch
from torch import nn

from ..batching import IGNORE, TaskBatch
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoderConfig
from ..instance import Instance
from ..metrics import accuracy
from ..registry import register_model
from ..schema import PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .base import Prediction, TaskModel


@dataclass
class ClassifierConfig:
    """Text classifier: encoder, then ``pooling`` over time, then a linear layer."""

    embedders: EmbeddersConfig
    type: str = "classifier"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    pooling: Literal["max", "mean"] = "max"


def masked_max(vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(batch, time, dim)`` -> ``(batch, dim)``: the maximum over the tokens ``mask``
    ``(batch, time)`` keeps (every row has one)."""
    return vectors.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values


def masked_mean(vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(batch, time, dim)`` -> ``(batch, dim)``: the mean over the tokens ``mask`` keeps."""
    mask = mask.unsqueeze(-1)
    return (vectors * mask).sum(dim=1) / mask.sum(dim=1)


class LabelClassifier(TaskModel):
    """Base of models with one label per instance: a subclass's ``forward`` computes
    ``logits`` ``(batch, num_labels)`` and hands them to :meth:`logits_output`."""

    main_metric = "accuracy"
    sentence_label = True

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        return None if instance.label is None else [instance.label]

    @staticmethod
    def logits_output(logits: torch.Tensor, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        """``logits`` and, when the batch has labels, their mean cross-entropy ``loss``."""
        output = {"logits": logits}
        if "labels" in batch:
            output["loss"] = nn.functional.cross_entropy(logits, batch["labels"], ignore_index=IGNORE)
        return output

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        probabilities = output["logits"].softmax(dim=-1).tolist()
        return [{"label": self.labels.items[max(range(len(p)), key=p.__getitem__)],
                 "probabilities": dict(zip(self.labels.items, p))} for p in probabilities]

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        return {"accuracy": accuracy([p["label"] for p in predictions], [x.label for x in instances])}


@register_model(ClassifierConfig, reads=("classification", "sentiment_trees"))
class TextClassifier(LabelClassifier):
    """One label per text. ``forward`` gives ``logits`` ``(batch, num_labels)`` and ``loss``."""

    def __init__(self, config: ClassifierConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies)
        self.output = nn.Linear(self.encoded_dim, len(self.labels))

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        encoded = self.encode(batch)
        pooled = (masked_max if self.config.pooling == "max" else masked_mean)(encoded, batch["mask"])
        return self.logits_output(self.output(pooled), batch)
