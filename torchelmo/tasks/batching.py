"""Mini-batches: instances grouped by length, then turned into padded tensors."""
import random
from typing import Callable, Dict, List, Optional, Sequence

import torch

from ..characters import batch_to_ids
from .instance import Instance
from .vocabulary import TaskVocabulary

TaskBatch = Dict[str, torch.Tensor]
IGNORE = -100  # label id of padding and of labels unseen in training (skipped by the loss)


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: Optional[random.Random] = None) -> List[List[int]]:
    """Index lists of at most ``batch_size`` instances of similar length.

    With ``rng`` (training) lengths are jittered by up to 10% before sorting and the batch
    order is shuffled, so batches differ between epochs; without it the order is fixed.
    """
    if rng is None:
        keys = list(lengths)
    else:
        keys = [length * (1 + rng.uniform(-0.1, 0.1)) for length in lengths]
    order = sorted(range(len(lengths)), key=lambda i: keys[i])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def _pad(rows: List[List[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def _label_ids(labels: Sequence[str], vocabulary: TaskVocabulary) -> List[int]:
    ids = (vocabulary.id(label) for label in labels)
    return [IGNORE if i is None else i for i in ids]


def tensorize(instances: Sequence[Instance], vocabularies: Dict[str, TaskVocabulary],
              labels_of: Callable[[Instance], Optional[List[str]]], *, sentence_label: bool = False,
              characters: bool = False, lowercase: bool = False, pretrained_lowercase: bool = False,
              predicate: bool = False, heads: bool = False,
              elmo_ids: Optional[Callable[[List[List[str]]], torch.Tensor]] = None) -> TaskBatch:
    """The tensors of one batch (``time`` = its longest sentence):

    ``mask`` (batch, time) bool; ``words`` and ``pretrained`` (batch, time) when there is
    such a word vocabulary (lowercased as asked); ``characters`` (batch, time, 50) for ELMo
    and the character CNN; ``labels`` (batch, time), or (batch,) with
    ``sentence_label``, from ``labels_of`` (padding and unseen labels are ``IGNORE``), when
    every instance has them;
    ``predicate`` (batch, time) 0/1 indicator; ``heads`` (batch, time); ``elmo_ids`` from
    ``elmo_ids`` when given (an ELMoForManyLangs model's ids, (batch, time, width)).
    """
    batch: TaskBatch = {"mask": _pad([[1] * len(x.tokens) for x in instances], 0).bool()}
    for name, lower in (("words", lowercase), ("pretrained", pretrained_lowercase)):
        if name in vocabularies:
            table = vocabularies[name]
            batch[name] = _pad([[table.id(t.lower() if lower else t) for t in x.tokens] for x in instances], 0)
    if characters:
        batch["characters"] = batch_to_ids([x.tokens for x in instances])
    if elmo_ids is not None:
        batch["elmo_ids"] = elmo_ids([x.tokens for x in instances])
    gold = [labels_of(x) for x in instances]
    if all(g is not None for g in gold):
        rows = [_label_ids(g, vocabularies["labels"]) for g in gold]
        batch["labels"] = torch.tensor([r[0] for r in rows]) if sentence_label else _pad(rows, IGNORE)
    if predicate:
        batch["predicate"] = _pad([[int(i == x.predicate) for i in range(len(x.tokens))] for x in instances], 0)
    if heads and all(x.heads is not None for x in instances):
        batch["heads"] = _pad([x.heads for x in instances], 0)
    return batch
