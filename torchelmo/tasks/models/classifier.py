"""Text classifier: encoder, pooling over time, linear layer, softmax."""
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from ..batching import IGNORE, Batch
from ..config import ClassifierConfig
from ..instance import Instance
from ..metrics import accuracy
from ..vocabulary import Vocabulary
from . import register_model
from .base import Prediction, TaskModel


@register_model("classifier")
class TextClassifier(TaskModel):
    """One label per text. ``forward`` gives ``logits`` ``(batch, num_labels)`` and ``loss``."""

    main_metric = "accuracy"
    sentence_label = True

    def __init__(self, config: ClassifierConfig, vocabularies: Dict[str, Vocabulary]) -> None:
        super().__init__(config, vocabularies)
        self.output = nn.Linear(self.encoded_dim, len(self.labels))

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        return None if instance.label is None else [instance.label]

    def forward(self, batch: Batch) -> Dict[str, torch.Tensor]:
        encoded = self.encode(batch)
        mask = batch["mask"].unsqueeze(-1)
        if self.config.pooling == "max":
            pooled = encoded.masked_fill(~mask, float("-inf")).max(dim=1).values
        else:
            pooled = (encoded * mask).sum(dim=1) / mask.sum(dim=1)
        output = {"logits": self.output(pooled)}
        if "labels" in batch:
            output["loss"] = nn.functional.cross_entropy(output["logits"], batch["labels"], ignore_index=IGNORE)
        return output

    def decode(self, batch: Batch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        probabilities = output["logits"].softmax(dim=-1).tolist()
        return [{"label": self.labels.items[max(range(len(p)), key=p.__getitem__)],
                 "probabilities": dict(zip(self.labels.items, p))} for p in probabilities]

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        return {"accuracy": accuracy([p["label"] for p in predictions], [x.label for x in instances])}
