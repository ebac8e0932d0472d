"""Span bookkeeping for span-ranking coreference: candidates, distance buckets, clusters."""
from typing import Dict, List, Sequence, Tuple

import torch

from .document import Cluster, Mention

NUM_DISTANCE_BUCKETS = 10


def candidate_spans(sentence: torch.Tensor, width: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every span of 1 to ``width`` tokens, in ``(start, end)`` order: start ``s`` and
    length ``w + 1`` is candidate ``s * width + w``.

    ``sentence`` ``(n,)``: the sentence number of each token. Returns ``starts``, ``ends``
    (inclusive, clamped to ``n - 1``) and ``valid`` (the span ends inside the document and in
    its start's sentence), each ``(n * width,)``.
    """
    n = sentence.size(0)
    starts = torch.arange(n, device=sentence.device).repeat_interleave(width)
    ends = starts + torch.arange(width, device=sentence.device).repeat(n)
    valid = ends < n
    ends = ends.clamp(max=n - 1)
    return starts, ends, valid & (sentence[ends] == sentence[starts])


def distance_buckets(distances: torch.Tensor) -> torch.Tensor:
    """Buckets of positive distances, as Lee et al. (2017): 1, 2, 3, 4 keep their value
    (0 for 0), then 5-7, 8-15, 16-31, 32-63 and 64+ get 5 to 9."""
    logarithmic = torch.log2(distances.clamp(min=1).float()).floor().long() + 3
    return torch.where(distances <= 4, distances, logarithmic).clamp(max=NUM_DISTANCE_BUCKETS - 1)


def clusters_from_antecedents(mentions: Sequence[Mention], antecedents: Sequence[int]) -> List[Cluster]:
    """Clusters from each mention's chosen antecedent (an index of an earlier mention, or
    a negative number for none): a mention joins its antecedent's cluster. Mentions must be
    in text order, antecedents before the mentions that pick them."""
    cluster_of: Dict[Mention, int] = {}
    clusters: List[Cluster] = []
    for mention, antecedent in zip(mentions, antecedents):
        if antecedent < 0:
            continue
        target = mentions[antecedent]
        if target not in cluster_of:
            cluster_of[target] = len(clusters)
            clusters.append([target])
        if mention not in cluster_of:
            cluster_of[mention] = cluster_of[target]
            clusters[cluster_of[target]].append(mention)
    return clusters
