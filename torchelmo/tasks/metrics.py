"""Task metrics over whole evaluation sets: accuracy, exact BIO span F1, SRL argument F1
(CoNLL-2005), UAS/LAS."""
from collections import Counter
from typing import Dict, Hashable, List, Optional, Sequence, Set, Tuple

Span = Tuple[int, int, str]  # first token, last token (inclusive), type
Argument = Tuple[str, Tuple[Tuple[int, int], ...]]  # role, its pieces (first, last), in order


def _same_length(predicted: Sequence, gold: Sequence) -> None:
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold items")


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """Share of positions where ``predicted`` equals ``gold`` (0 for empty input)."""
    _same_length(predicted, gold)
    return sum(p == g for p, g in zip(predicted, gold)) / len(gold) if gold else 0.0


def bio_spans(tags: Sequence[str]) -> Set[Span]:
    """The chunks of a BIO sequence, read as conlleval does: a chunk starts at ``B-X`` and at
    an ``I-X`` that does not continue an ``X`` chunk, and runs over the following ``I-X``."""
    spans: Set[Span] = set()
    start, kind = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, tag_kind = tag.partition("-")
        continues = prefix == "I" and kind == tag_kind
        if start is not None and not continues:
            spans.add((start, i - 1, kind))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = i, tag_kind
    return spans


def _prf(correct: int, predicted: int, gold: int) -> Dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def span_f1(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> Dict[str, float]:
    """Micro precision/recall/F1 of exact (boundaries and type) BIO chunks over sentences,
    plus ``f1-TYPE`` for every type seen in gold or predictions."""
    _same_length(predicted, gold)
    return _micro_f1([(bio_spans(p), bio_spans(g)) for p, g in zip(predicted, gold)], lambda span: span[2])


def srl_arguments(tags: Sequence[str]) -> Set[Argument]:
    """The arguments of one predicate's BIO tags, as the CoNLL-2005 scorer (srl-eval.pl)
    reads them: a ``C-X`` chunk continues the latest ``X`` argument before it (one
    argument of several pieces; without an ``X`` before it, it is an ``X`` argument);
    ``R-X`` is a role of its own; the predicate's ``V`` (with its ``C-V`` pieces) is left out."""
    arguments: List[Tuple[str, List[Tuple[int, int]]]] = []
    latest: Dict[str, int] = {}
    for first, last, role in sorted(bio_spans(tags)):
        if role.startswith("C-") and role[2:] in latest:
            arguments[latest[role[2:]]][1].append((first, last))
            continue
        role = role[2:] if role.startswith("C-") else role
        latest[role] = len(arguments)
        arguments.append((role, [(first, last)]))
    return {(role, tuple(pieces)) for role, pieces in arguments if role != "V"}


def srl_f1(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> Dict[str, float]:
    """Micro precision/recall/F1 of SRL arguments over predicates, counted as the CoNLL-2005
    scorer counts them (see :func:`srl_arguments`): an argument is right when its role and
    every piece's boundaries are; plus ``f1-ROLE`` for every role seen."""
    _same_length(predicted, gold)
    return _micro_f1([(srl_arguments(p), srl_arguments(g)) for p, g in zip(predicted, gold)],
                     lambda argument: argument[0])


def _micro_f1(pairs: Sequence[Tuple[Set[Hashable], Set[Hashable]]], kind_of) -> Dict[str, float]:
    """Micro precision/recall/F1 over ``(predicted, gold)`` sets of items, and ``f1-KIND``."""
    counts: Dict[str, Counter] = {"correct": Counter(), "predicted": Counter(), "gold": Counter()}
    for p_items, g_items in pairs:
        counts["correct"].update(kind_of(s) for s in p_items & g_items)
        counts["predicted"].update(kind_of(s) for s in p_items)
        counts["gold"].update(kind_of(s) for s in g_items)
    total = {name: sum(c.values()) for name, c in counts.items()}
    result = _prf(total["correct"], total["predicted"], total["gold"])
    for kind in sorted(set(counts["predicted"]) | set(counts["gold"])):
        result[f"f1-{kind}"] = _prf(counts["correct"][kind], counts["predicted"][kind], counts["gold"][kind])["f1"]
    return result


def attachment_scores(predicted_heads: Sequence[Sequence[int]], predicted_relations: Sequence[Sequence[str]],
                      gold_heads: Sequence[Sequence[int]], gold_relations: Sequence[Sequence[str]],
                      gold_pos: Optional[Sequence[Sequence[str]]] = None) -> Dict[str, float]:
    """UAS (head right) and LAS (head and relation right) over words. With ``gold_pos``,
    words whose gold UPOS is ``PUNCT`` are left out (the "exclude punctuation" policy)."""
    scored = heads_right = both_right = 0
    _same_length(predicted_heads, gold_heads)
    for i, (p_heads, p_rels, g_heads, g_rels) in enumerate(
            zip(predicted_heads, predicted_relations, gold_heads, gold_relations)):
        _same_length(p_heads, g_heads)
        for j, (p_head, p_rel, g_head, g_rel) in enumerate(zip(p_heads, p_rels, g_heads, g_rels)):
            if gold_pos is not None and gold_pos[i][j] == "PUNCT":
                continue
            scored += 1
            heads_right += p_head == g_head
            both_right += p_head == g_head and p_rel == g_rel
    return {"uas": heads_right / scored if scored else 0.0, "las": both_right / scored if scored else 0.0}
