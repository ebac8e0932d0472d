"""Graph-based dependency parser (Dozat & Manning 2017): biaffine arcs, bilinear labels.

A learned root vector is put before the encoded words; each word scores every node as its
head. Training uses the gold heads for the label loss; decoding picks heads (MST or
greedy, see :mod:`..mst`), then each word's best relation given its predicted head.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Sequence

import torch
from torch import nn

from ..batching import IGNORE, TaskBatch
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoderConfig
from ..instance import Instance
from ..metrics import attachment_scores
from ..mst import greedy_heads, mst_heads
from ..registry import register_model
from ..schema import POSITIVE, PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .base import Prediction, TaskModel


@dataclass
class ParserConfig:
    """Graph-based dependency parser: biaffine arc scores and bilinear label scores.

    ``decoding``: ``mst`` (Chu-Liu-Edmonds, exactly one root: always a tree) or ``greedy``
    (each token's best head; may give cycles). ``punctuation``: whether UAS/LAS count
    tokens whose UPOS is ``PUNCT`` (``include``, the CoNLL 2018 convention) or not.
    """

    embedders: EmbeddersConfig
    type: str = "parser"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.33)
    arc_dim: int = check(POSITIVE, default=500)
    label_dim: int = check(POSITIVE, default=100)
    decoding: Literal["mst", "greedy"] = "mst"
    punctuation: Literal["include", "exclude"] = "include"


def _mlp(input_dim: int, output_dim: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Linear(input_dim, output_dim), nn.ELU(), nn.Dropout(dropout))


@register_model(ParserConfig, reads=("conllu",))
class DependencyParser(TaskModel):
    """``forward`` gives ``arc_scores`` ``(batch, time, time + 1)`` (word, head; head 0 is
    the root), ``relation_vectors`` for the label scorer, and ``loss`` (arc + label
    cross-entropy per word)."""

    main_metric = "las"

    def __init__(self, config: ParserConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies)
        dim = self.encoded_dim
        self.root = nn.Parameter(torch.randn(dim) * 0.1)
        self.arc_dependent = _mlp(dim, config.arc_dim, config.dropout)
        self.arc_head = _mlp(dim, config.arc_dim, config.dropout)
        self.label_dependent = _mlp(dim, config.label_dim, config.dropout)
        self.label_head = _mlp(dim, config.label_dim, config.dropout)
        self.arc_weight = nn.Parameter(torch.zeros(config.arc_dim, config.arc_dim))
        self.arc_bias = nn.Parameter(torch.zeros(config.arc_dim))
        self.label_weight = nn.Parameter(torch.zeros(len(self.labels), config.label_dim, config.label_dim))
        self.label_linear = nn.Linear(2 * config.label_dim, len(self.labels))

    @staticmethod
    def labels_of(instance: Instance) -> Optional[List[str]]:
        return instance.relations

    def tensor_options(self) -> Dict[str, bool]:
        return {"heads": True}

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        encoded = self.encode(batch)
        nodes = torch.cat([self.root.expand(encoded.size(0), 1, -1), encoded], dim=1)  # (batch, time + 1, dim)
        dependents, heads = self.arc_dependent(encoded), self.arc_head(nodes)
        arc_scores = dependents @ self.arc_weight @ heads.transpose(1, 2) + (heads @ self.arc_bias).unsqueeze(1)
        node_mask = torch.cat([batch["mask"].new_ones(encoded.size(0), 1), batch["mask"]], dim=1)
        arc_scores = arc_scores.masked_fill(~node_mask.unsqueeze(1), float("-inf"))
        output = {"arc_scores": arc_scores, "label_dependents": self.label_dependent(encoded),
                  "label_heads": self.label_head(nodes)}
        if "heads" in batch and "labels" in batch:
            mask = batch["mask"]
            gold_heads = batch["heads"].masked_fill(~mask, IGNORE)
            arc_loss = nn.functional.cross_entropy(arc_scores.flatten(0, 1), gold_heads.flatten(), ignore_index=IGNORE)
            label_logits = self._label_logits(output, batch["heads"])
            label_loss = nn.functional.cross_entropy(label_logits.flatten(0, 1), batch["labels"].flatten(),
                                                     ignore_index=IGNORE)
            output["loss"] = arc_loss + label_loss
        return output

    def _label_logits(self, output: Dict[str, torch.Tensor], heads: torch.Tensor) -> torch.Tensor:
        """``(batch, time, num_labels)`` for each word attached to ``heads`` ``(batch, time)``."""
        dependents = output["label_dependents"]
        head_vectors = output["label_heads"].gather(1, heads.unsqueeze(-1).expand(-1, -1, dependents.size(-1)))
        bilinear = torch.einsum("btd,lde,bte->btl", dependents, self.label_weight, head_vectors)
        return bilinear + self.label_linear(torch.cat([dependents, head_vectors], dim=-1))

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        lengths = batch["mask"].sum(dim=1).tolist()
        scores = output["arc_scores"].log_softmax(dim=-1).detach().cpu().numpy()
        decode = mst_heads if self.config.decoding == "mst" else greedy_heads
        heads = torch.zeros_like(batch["mask"], dtype=torch.long)
        for row, n in enumerate(lengths):
            square = scores[row, :n, : n + 1]
            full = torch.full((n + 1, n + 1), float("-inf")).numpy()
            full[1:] = square
            heads[row, :n] = torch.from_numpy(decode(full)[1:])
        relations = self._label_logits(output, heads.to(output["arc_scores"].device)).argmax(dim=-1).tolist()
        heads = heads.tolist()
        return [{"heads": heads[row][:n], "relations": [self.labels.items[i] for i in relations[row][:n]]}
                for row, n in enumerate(lengths)]

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        exclude = self.config.punctuation == "exclude"
        return attachment_scores([p["heads"] for p in predictions], [p["relations"] for p in predictions],
                                 [x.heads for x in instances], [x.relations for x in instances],
                                 [x.pos for x in instances] if exclude else None)
