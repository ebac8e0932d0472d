"""Sequence tagger: encoder, then per-token softmax or a linear-chain CRF.

POS tagging and chunking use ``tag_scheme: plain`` or ``bio``; NER and SRL use ``bio``
(SRL with ``predicate_dim`` > 0: an embedded 0/1 predicate indicator joins the input).
"""
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from ..batching import IGNORE, Batch
from ..config import TaggerConfig
from ..crf import ConditionalRandomField, bio_transitions
from ..instance import Instance
from ..metrics import accuracy, span_f1
from ..vocabulary import Vocabulary
from . import register_model
from .base import Prediction, TaskModel


@register_model("tagger")
class SequenceTagger(TaskModel):
    """One tag per token. ``forward`` gives ``logits`` ``(batch, time, num_tags)`` and ``loss``
    (mean token cross-entropy, or the CRF's mean negative log-likelihood per sentence)."""

    def __init__(self, config: TaggerConfig, vocabularies: Dict[str, Vocabulary]) -> None:
        super().__init__(config, vocabularies, extra_input_dim=config.predicate_dim)
        self.main_metric = "f1" if config.tag_scheme == "bio" else "accuracy"
        self.predicate = nn.Embedding(2, config.predicate_dim) if config.predicate_dim else None
        self.output = nn.Linear(self.encoded_dim, len(self.labels))
        self.crf = None
        if config.decoder == "crf":
            allowed = bio_transitions(self.labels.items) if config.tag_scheme == "bio" else None
            self.crf = ConditionalRandomField(len(self.labels), allowed)

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        return instance.tags

    def tensor_options(self) -> Dict[str, bool]:
        return {"predicate": self.predicate is not None}

    def forward(self, batch: Batch) -> Dict[str, torch.Tensor]:
        extra = self.predicate(batch["predicate"]) if self.predicate is not None else None
        logits = self.output(self.encode(batch, extra))
        output = {"logits": logits}
        if "labels" in batch:
            if self.crf is not None:
                output["loss"] = -self.crf.log_likelihood(logits, batch["labels"], batch["mask"]) / logits.size(0)
            else:
                output["loss"] = nn.functional.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten(),
                                                             ignore_index=IGNORE)
        return output

    def decode(self, batch: Batch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        if self.crf is not None:
            paths = self.crf.viterbi(output["logits"], batch["mask"])
        else:
            lengths = batch["mask"].sum(dim=1).tolist()
            best = output["logits"].argmax(dim=-1).tolist()
            paths = [row[:n] for row, n in zip(best, lengths)]
        return [{"tags": [self.labels.items[i] for i in path]} for path in paths]

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        predicted = [p["tags"] for p in predictions]
        gold = [x.tags for x in instances]
        metrics = {"accuracy": accuracy([t for tags in predicted for t in tags], [t for tags in gold for t in tags])}
        if self.config.tag_scheme == "bio":
            metrics.update(span_f1(predicted, gold))
        return metrics
