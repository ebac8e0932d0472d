"""Sequence tagger: encoder, then per-token softmax, a linear-chain CRF, or softmax with
BIO-constrained Viterbi decoding.

POS tagging and chunking use ``tag_scheme: plain`` or ``bio``; NER uses ``bio``; SRL uses
``srl`` (``predicate_dim`` > 0: an embedded 0/1 predicate indicator joins the input; He et
al. 2017 train a per-token softmax and decode with ``decoder: viterbi``).
"""
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Sequence

import torch
from torch import nn

from ...errors import ConfigurationError
from ..batching import IGNORE, TaskBatch
from ..crf import ConditionalRandomField, bio_transitions, transition_penalties, viterbi
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoderConfig
from ..instance import Instance
from ..metrics import accuracy, span_f1, srl_f1
from ..registry import register_model
from ..schema import NON_NEGATIVE, PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .base import Prediction, TaskModel


@dataclass
class TaggerConfig:
    """Sequence tagger: encoder, then per-token ``softmax``, a linear-chain ``crf``, or
    ``viterbi`` (softmax training, BIO-constrained Viterbi decoding: He et al. 2017).

    ``tag_scheme``: ``bio`` scores exact spans (and constrains the CRF to valid BIO);
    ``srl`` is BIO scored as the CoNLL-2005 SRL scorer does (``V`` left out, ``C-X``
    joined to its ``X``; also over verbal predicates when the reader keeps POS);
    ``plain`` scores token accuracy. ``predicate_dim`` > 0 adds an embedded predicate
    indicator (SRL as BIO tagging); the reader must mark the predicate.
    """

    embedders: EmbeddersConfig
    type: str = "tagger"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    decoder: Literal["softmax", "crf", "viterbi"] = "softmax"
    tag_scheme: Literal["plain", "bio", "srl"] = "plain"
    predicate_dim: int = check(NON_NEGATIVE, default=0)

    def __post_init__(self) -> None:
        if self.decoder == "viterbi" and self.tag_scheme == "plain":
            raise ValueError("decoder: 'viterbi' constrains BIO tags; give tag_scheme 'bio' or 'srl'")


@register_model(TaggerConfig, reads=("conllu", "columns", "propbank"))
class SequenceTagger(TaskModel):
    """One tag per token. ``forward`` gives ``logits`` ``(batch, time, num_tags)`` and ``loss``
    (mean token cross-entropy, or the CRF's mean negative log-likelihood per sentence)."""

    def __init__(self, config: TaggerConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies, extra_input_dim=config.predicate_dim)
        spans = config.tag_scheme != "plain"
        self.main_metric = "f1" if spans else "accuracy"
        self.predicate = nn.Embedding(2, config.predicate_dim) if config.predicate_dim else None
        self.output = nn.Linear(self.encoded_dim, len(self.labels))
        self.crf = None
        if config.decoder == "crf":
            self.crf = ConditionalRandomField(len(self.labels), bio_transitions(self.labels.items) if spans else None)
        elif config.decoder == "viterbi":  # fixed scores, not trained: only keep the tags valid BIO
            for name, penalty in zip(("transitions", "start", "end"),
                                     transition_penalties(bio_transitions(self.labels.items))):
                self.register_buffer(f"viterbi_{name}", penalty, persistent=False)

    @classmethod
    def check_data(cls, config: TaggerConfig, reader) -> None:
        marks_predicates = reader.type == "propbank" or getattr(reader, "predicate_column", None) is not None
        if config.predicate_dim and not marks_predicates:
            raise ConfigurationError("model.predicate_dim: the predicate indicator needs a 'propbank' reader, or a "
                                     "'columns' reader with data.reader.predicate_column")

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        return instance.tags

    def tensor_options(self) -> Dict[str, bool]:
        return {"predicate": self.predicate is not None}

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
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

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        if self.crf is not None:
            paths = self.crf.viterbi(output["logits"], batch["mask"])
        elif self.config.decoder == "viterbi":
            paths = viterbi(output["logits"].log_softmax(dim=-1), batch["mask"], self.viterbi_transitions,
                            self.viterbi_start, self.viterbi_end)
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
        elif self.config.tag_scheme == "srl":
            metrics.update(srl_f1(predicted, gold))
            verbal = [i for i, x in enumerate(instances)
                      if x.pos is not None and x.predicate is not None and x.pos[x.predicate].startswith("VB")]
            if verbal:
                scores = srl_f1([predicted[i] for i in verbal], [gold[i] for i in verbal])
                metrics.update({f"verbal_{k}": scores[k] for k in ("precision", "recall", "f1")})
                metrics["verbal_predicates"] = len(verbal)
        return metrics
