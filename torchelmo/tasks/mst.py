"""Decoding dependency trees from arc scores: greedy heads or the maximum spanning tree.

Scores are ``(n + 1, n + 1)`` arrays, ``scores[dependent, head]``, node 0 the root.
"""
from typing import List, Optional

import numpy as np


def greedy_heads(scores: np.ndarray) -> np.ndarray:
    """Each word's best head other than itself: ``(n + 1,)``, entry 0 unused (-1).
    Fast, but the result may contain cycles or several root children."""
    scores = _masked(scores)
    heads = scores.argmax(axis=1)
    heads[0] = -1
    return heads


def mst_heads(scores: np.ndarray) -> np.ndarray:
    """The highest-scoring tree with exactly one word attached to the root (Chu-Liu-Edmonds).

    The single-root constraint is exact: every root arc is lowered by a constant larger
    than any tree's score spread, so the best tree uses as few root arcs (one) as possible
    and, among those, has the highest original score.
    """
    scores = _masked(scores)
    finite = scores[np.isfinite(scores)]
    if finite.size:
        spread = float(finite.max() - finite.min())
        scores[1:, 0] -= (spread + 1.0) * scores.shape[0]
    return _chu_liu_edmonds(scores)


def _masked(scores: np.ndarray) -> np.ndarray:
    scores = np.array(scores, dtype=np.float64)
    np.fill_diagonal(scores, -np.inf)
    scores[0, :] = -np.inf
    return scores


def _find_cycle(heads: np.ndarray) -> Optional[List[int]]:
    n = len(heads)
    state = [0] * n  # 0 unvisited, 1 on the current path, 2 done
    state[0] = 2
    for begin in range(1, n):
        path = []
        node = begin
        while state[node] == 0:
            state[node] = 1
            path.append(node)
            node = int(heads[node])
        if state[node] == 1:
            return path[path.index(node):]
        for visited in path:
            state[visited] = 2
    return None


def _chu_liu_edmonds(scores: np.ndarray) -> np.ndarray:
    """Contract cycles until the greedy heads form a tree, then expand the contractions.

    Iterative (a sentence of n words can need n contractions, beyond Python's recursion limit);
    only the current scores are kept, so memory stays that of one ``(n + 1, n + 1)`` array.
    """
    contractions = []  # (greedy heads, cycle, rest, best_entry, best_exit) of each contraction
    while True:
        heads = scores.argmax(axis=1)
        heads[0] = -1
        cycle = _find_cycle(heads)
        if cycle is None:
            break
        scores, contraction = _contract(scores, heads, cycle)
        contractions.append((heads, *contraction))
    for contracted_heads, cycle, rest, best_entry, best_exit in reversed(contractions):
        heads = _expand(heads, contracted_heads, cycle, rest, best_entry, best_exit)
    return heads


def _contract(scores: np.ndarray, heads: np.ndarray, cycle_nodes: List[int]):
    """Merge ``cycle_nodes`` into one node: the reduced ``(rest + 1, rest + 1)`` scores (the
    merged node last) and ``(cycle, rest, best_entry, best_exit)``, what :func:`_expand` needs."""
    in_cycle = np.zeros(len(heads), dtype=bool)
    in_cycle[cycle_nodes] = True
    rest = np.flatnonzero(~in_cycle)  # includes the root, at position 0
    cycle = np.array(cycle_nodes)
    contracted = len(rest)
    # Entering the cycle at v from h costs v's current cycle arc.
    entering = scores[cycle][:, rest] - scores[cycle, heads[cycle]][:, None]  # (cycle, rest)
    best_entry = entering.argmax(axis=0)  # for each outside head: which cycle node it enters
    leaving = scores[rest][:, cycle]  # (rest, cycle): outside dependent, cycle head
    best_exit = leaving.argmax(axis=1)
    reduced = np.full((contracted + 1, contracted + 1), -np.inf)
    reduced[:contracted, :contracted] = scores[np.ix_(rest, rest)]
    reduced[contracted, :contracted] = entering[best_entry, np.arange(contracted)]
    reduced[:contracted, contracted] = leaving[np.arange(contracted), best_exit]
    return reduced, (cycle, rest, best_entry, best_exit)


def _expand(heads: np.ndarray, contracted_heads: np.ndarray, cycle: np.ndarray, rest: np.ndarray,
            best_entry: np.ndarray, best_exit: np.ndarray) -> np.ndarray:
    """Heads of the graph before a contraction, given ``heads`` of the reduced graph
    (its last node the merged cycle) and ``contracted_heads``, the greedy heads before it."""
    contracted = len(rest)
    result = contracted_heads.copy()
    for position, node in enumerate(rest[1:], 1):
        head = heads[position]
        result[node] = cycle[best_exit[position]] if head == contracted else rest[head]
    outside_head = heads[contracted]
    result[cycle[best_entry[outside_head]]] = rest[outside_head]
    return result
