"""Coreference metrics: MUC, B³ and CEAFe, and their average F1 (the CoNLL-2012 score).

Definitions follow the CoNLL reference scorer (Pradhan et al. 2014). Over a data set,
numerators and denominators are summed across documents before dividing (micro-average),
as the scorer does. A cluster is any collection of hashable mentions (e.g. ``(first,
last)`` token spans); the key (gold) and response (predicted) may hold different mentions.
"""
from dataclasses import dataclass
from typing import Dict, Hashable, List, Sequence

from .assignment import max_weight_matching

Clusters = Sequence[Sequence[Hashable]]


@dataclass
class Tally:
    """Recall and precision as numerator/denominator pairs, summable over documents."""

    recall_numerator: float = 0.0
    recall_denominator: float = 0.0
    precision_numerator: float = 0.0
    precision_denominator: float = 0.0

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.recall_numerator + other.recall_numerator,
                     self.recall_denominator + other.recall_denominator,
                     self.precision_numerator + other.precision_numerator,
                     self.precision_denominator + other.precision_denominator)

    def scores(self) -> Dict[str, float]:
        """``precision``, ``recall`` and ``f1`` (0 where a denominator is 0)."""
        recall = self.recall_numerator / self.recall_denominator if self.recall_denominator else 0.0
        precision = self.precision_numerator / self.precision_denominator if self.precision_denominator else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}


def _sets(clusters: Clusters) -> List[frozenset]:
    return [frozenset(cluster) for cluster in clusters if cluster]


def _muc_side(key: List[frozenset], response: List[frozenset]) -> Tally:
    """Recall counts of MUC: for each key cluster ``K``, ``|K| - |p(K)|`` over ``|K| - 1``,
    where ``p(K)`` is ``K`` split by the response clusters (a mention in none is alone)."""
    cluster_of = {mention: i for i, cluster in enumerate(response) for mention in cluster}
    numerator = denominator = 0
    for cluster in key:
        parts = {cluster_of.get(mention, ("alone", mention)) for mention in cluster}
        numerator += len(cluster) - len(parts)
        denominator += len(cluster) - 1
    return Tally(numerator, denominator)


def muc(key: Clusters, response: Clusters) -> Tally:
    """MUC (Vilain et al. 1995): links kept and links added."""
    key, response = _sets(key), _sets(response)
    recall, precision = _muc_side(key, response), _muc_side(response, key)
    return Tally(recall.recall_numerator, recall.recall_denominator,
                 precision.recall_numerator, precision.recall_denominator)


def _b3_side(key: List[frozenset], response: List[frozenset]) -> Tally:
    """Recall counts of B³: every key mention scores ``|K ∩ R| / |K|`` with ``R`` the
    response cluster holding it (0 when none does)."""
    cluster_of = {mention: cluster for cluster in response for mention in cluster}
    numerator = 0.0
    for cluster in key:
        for mention in cluster:
            numerator += len(cluster & cluster_of.get(mention, frozenset())) / len(cluster)
    return Tally(numerator, sum(len(cluster) for cluster in key))


def b_cubed(key: Clusters, response: Clusters) -> Tally:
    """B³ (Bagga and Baldwin 1998): per-mention overlap of its key and response clusters."""
    key, response = _sets(key), _sets(response)
    recall, precision = _b3_side(key, response), _b3_side(response, key)
    return Tally(recall.recall_numerator, recall.recall_denominator,
                 precision.recall_numerator, precision.recall_denominator)


def ceafe(key: Clusters, response: Clusters) -> Tally:
    """Entity-based CEAF (Luo 2005): the best one-to-one alignment of key and response
    clusters under ``φ4(K, R) = 2 |K ∩ R| / (|K| + |R|)``; its total over the number of key
    (recall) or response (precision) clusters."""
    key, response = _sets(key), _sets(response)
    similarity = [[2 * len(k & r) / (len(k) + len(r)) for r in response] for k in key]
    best, _ = max_weight_matching(similarity)
    return Tally(best, len(key), best, len(response))


METRIC_FUNCTIONS = {"muc": muc, "b3": b_cubed, "ceafe": ceafe}


def coreference_scores(predicted: Sequence[Clusters], gold: Sequence[Clusters]) -> Dict[str, float]:
    """Micro-averaged ``{metric}_{precision,recall,f1}`` for MUC, B³, CEAFe over documents
    (``predicted[i]`` and ``gold[i]`` are document ``i``'s clusters), and ``conll_f1``: the
    mean of the three F1 scores."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted documents for {len(gold)} gold ones")
    scores: Dict[str, float] = {}
    for name, metric in METRIC_FUNCTIONS.items():
        total = Tally()
        for response, key in zip(predicted, gold):
            total = total + metric(key, response)
        scores.update({f"{name}_{k}": v for k, v in total.scores().items()})
    scores["conll_f1"] = sum(scores[f"{name}_f1"] for name in METRIC_FUNCTIONS) / len(METRIC_FUNCTIONS)
    return scores
