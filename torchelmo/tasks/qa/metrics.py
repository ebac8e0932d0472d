"""Exact match and F1 of extractive answers, as SQuAD v1.1's official evaluation defines them.

Both compare *normalised* texts: lower-cased, punctuation characters (``string.punctuation``)
removed, the articles ``a``/``an``/``the`` removed as whole words, whitespace runs
collapsed to one space (in that order). F1 is over the bag of normalised tokens (split on
whitespace). A question scores its best value over its gold answers; a set scores the mean
over its questions, times 100.
"""
import re
import string
from collections import Counter
from typing import Dict, Sequence

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """``"The  Denver Broncos!"`` -> ``"denver broncos"``."""
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of the precision and recall of the normalised tokens (0 with none shared)."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: Sequence[str], gold: Sequence[Sequence[str]]) -> Dict[str, float]:
    """``exact_match`` and ``f1`` in percent: each prediction against its question's gold
    answers (the best one counts), averaged over the questions."""
    if len(predictions) != len(gold):
        raise ValueError(f"{len(predictions)} predictions for {len(gold)} questions")
    if not gold:
        return {"exact_match": 0.0, "f1": 0.0}
    em = sum(max(exact_match(p, g) for g in answers) for p, answers in zip(predictions, gold))
    f1 = sum(max(token_f1(p, g) for g in answers) for p, answers in zip(predictions, gold))
    return {"exact_match": 100 * em / len(gold), "f1": 100 * f1 / len(gold)}
