"""ESIM (Chen et al. 2017) for natural language inference, over the task embedders.

Premise and hypothesis go through the same embedders (word vectors and/or ELMo) and the same
BiLSTM: ``a`` ``(batch, p, d)`` and ``b`` ``(batch, h, d)``. Soft alignment: ``e = a bᵀ``;
each premise token attends over the hypothesis tokens, ``ã = softmax_j(e) b``, and each
hypothesis token over the premise tokens, ``b̃ = softmax_i(e)ᵀ a`` (padding masked out of
both softmaxes). Enhancement ``[a; ã; a − ã; a ⊙ ã]`` (and the same for ``b``), a ReLU
projection, the composition BiLSTM, then mean and max pooling of both sentences
``[v_a,mean; v_a,max; v_b,mean; v_b,max]`` and an MLP (one tanh layer) to the labels.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

import torch
from torch import nn

from ...errors import InputError
from ..batching import TaskBatch
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoder, LstmEncoderConfig
from ..instance import Instance, SentencePair
from ..registry import register_model
from ..schema import POSITIVE, PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .classifier import LabelClassifier, masked_max, masked_mean


@dataclass
class PairClassifierConfig:
    """ESIM (Chen et al. 2017) over a premise and a hypothesis, both through the same
    embedders and ``encoder``; soft alignment; ``[a; ã; a − ã; a ⊙ ã]`` projected to
    ``projection_dim`` (ReLU); the ``composition`` BiLSTM; mean and max pooling of both
    sentences; an MLP with one ``hidden_dim`` tanh layer."""

    embedders: EmbeddersConfig
    type: str = "pair_classifier"
    encoder: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=300, num_layers=1))
    composition: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=300, num_layers=1))
    projection_dim: int = check(POSITIVE, default=300)
    hidden_dim: int = check(POSITIVE, default=300)
    dropout: float = check(PROBABILITY, default=0.5)


HYPOTHESIS = "hypothesis_"  # prefix of the hypothesis tensors in a batch


def _hypotheses(instances: Sequence[Instance]) -> List[Instance]:
    for x in instances:
        if not isinstance(x, SentencePair):
            raise InputError(f"{x.source}: a pair classifier reads sentence pairs, e.g. JSON lines "
                             f"{{\"premise\": ..., \"hypothesis\": ...}} in a .jsonl file (not --text)")
    return [Instance(tokens=x.hypothesis, source=x.source) for x in instances]


@register_model(PairClassifierConfig, reads=("pair",))
class PairClassifier(LabelClassifier):
    """One label per sentence pair. ``forward`` gives ``logits`` ``(batch, num_labels)``
    and, with labels, ``loss``; :meth:`align` exposes the attention for tests."""

    def __init__(self, config: PairClassifierConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies)
        self.projection = nn.Sequential(nn.Linear(4 * self.encoded_dim, config.projection_dim), nn.ReLU())
        self.composition = LstmEncoder(config.projection_dim, config.composition)
        self.output = nn.Sequential(nn.Dropout(config.dropout),
                                    nn.Linear(4 * self.composition.output_dim, config.hidden_dim), nn.Tanh(),
                                    nn.Dropout(config.dropout), nn.Linear(config.hidden_dim, len(self.labels)))

    @classmethod
    def build_vocabularies(cls, config, instances: Sequence[Instance],
                           evaluation_instances: Sequence[Instance] = ()) -> Dict[str, TaskVocabulary]:
        """As every model's, with the hypotheses' words counted too."""
        return super().build_vocabularies(config, [*instances, *_hypotheses(instances)],
                                          [*evaluation_instances, *_hypotheses(evaluation_instances)])

    def tensorize(self, instances: Sequence[Instance]) -> TaskBatch:
        """The premises' tensors (``mask``, ``words``, ..., ``labels``) and the hypotheses'
        under the same names with the prefix ``hypothesis_``."""
        batch = super().tensorize(instances)
        batch.update({HYPOTHESIS + k: v for k, v in super().tensorize(_hypotheses(instances)).items()})
        return batch

    @staticmethod
    def align(a: torch.Tensor, b: torch.Tensor, a_mask: torch.Tensor, b_mask: torch.Tensor):
        """Soft alignment of ``a`` ``(batch, p, d)`` and ``b`` ``(batch, h, d)``: ``ã``
        ``(batch, p, d)`` (each premise token's weighted sum of hypothesis tokens) and ``b̃``
        ``(batch, h, d)``; the masks ``(batch, p)``, ``(batch, h)`` keep padding out."""
        similarity = a @ b.transpose(1, 2)  # (batch, p, h)
        to_b = similarity.masked_fill(~b_mask.unsqueeze(1), float("-inf")).softmax(dim=2)
        to_a = similarity.masked_fill(~a_mask.unsqueeze(2), float("-inf")).softmax(dim=1)
        return to_b @ b, to_a.transpose(1, 2) @ a

    def _compose(self, x: torch.Tensor, aligned: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[x; x̃; x − x̃; x ⊙ x̃]`` projected and composed, pooled: ``(batch, 2 · composition)``."""
        enhanced = torch.cat([x, aligned, x - aligned, x * aligned], dim=-1)
        composed = self.composition(self.dropout(self.projection(enhanced)), mask)
        return torch.cat([masked_mean(composed, mask), masked_max(composed, mask)], dim=-1)

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        hypothesis = {k[len(HYPOTHESIS):]: v for k, v in batch.items() if k.startswith(HYPOTHESIS)}
        a_mask, b_mask = batch["mask"], hypothesis["mask"]
        a, b = self.encode(batch), self.encode(hypothesis)
        a_aligned, b_aligned = self.align(a, b, a_mask, b_mask)
        pooled = torch.cat([self._compose(a, a_aligned, a_mask), self._compose(b, b_aligned, b_mask)], dim=-1)
        return self.logits_output(self.output(pooled), batch)
