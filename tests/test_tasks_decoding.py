"""Tree and sequence decoding against brute-force enumeration of every candidate."""
import itertools

import numpy as np
import pytest
import torch

from torchelmo.tasks.crf import ConditionalRandomField, bio_transitions
from torchelmo.tasks.mst import greedy_heads, mst_heads


def is_tree_with_one_root(heads) -> bool:
    n = len(heads) - 1
    if sum(1 for h in heads[1:] if h == 0) != 1:
        return False
    for word in range(1, n + 1):
        seen, node = set(), word
        while node != 0:
            if node in seen:
                return False
            seen.add(node)
            node = heads[node]
    return True


def best_tree_by_enumeration(scores):
    n = scores.shape[0] - 1
    best, best_score = None, -np.inf
    for choice in itertools.product(range(n + 1), repeat=n):
        heads = (-1, *choice)
        if any(h == i for i, h in enumerate(heads)) or not is_tree_with_one_root(heads):
            continue
        score = sum(scores[i, heads[i]] for i in range(1, n + 1))
        if score > best_score:
            best, best_score = heads, score
    return list(best), best_score


def test_mst_breaks_the_cycle_that_greedy_keeps():
    # scores[dependent, head]: words 1 and 2 prefer each other (a cycle); 3 prefers 1.
    scores = np.full((4, 4), -10.0)
    scores[1, 2], scores[2, 1], scores[3, 1] = 5.0, 5.0, 4.0
    scores[1, 0], scores[2, 0] = 1.0, 3.0
    assert list(greedy_heads(scores))[1:] == [2, 1, 1]
    # best tree: 2 <- root (3), 1 <- 2 (5), 3 <- 1 (4): total 12 (root->1 gives 1 + 5 + 4 = 10)
    assert list(mst_heads(scores))[1:] == [2, 0, 1]


def test_mst_keeps_a_single_root_child_even_when_two_are_better():
    scores = np.full((3, 3), -5.0)
    scores[1, 0], scores[2, 0] = 2.0, 2.0  # both words want the root
    scores[1, 2], scores[2, 1] = 1.0, 0.5
    assert list(mst_heads(scores))[1:] == [2, 0]  # 2 + 1 = 3 beats 2 + 0.5


@pytest.mark.parametrize("seed", range(25))
def test_mst_matches_enumeration_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    scores = rng.normal(size=(n + 1, n + 1))
    heads = list(mst_heads(scores))
    expected, expected_score = best_tree_by_enumeration(scores)
    assert is_tree_with_one_root(heads)
    assert sum(scores[i, heads[i]] for i in range(1, n + 1)) == pytest.approx(expected_score)
    assert heads[1:] == expected[1:]


def test_mst_decodes_a_sentence_needing_more_contractions_than_the_recursion_limit():
    # Word i prefers head i + 1, the last word prefers the one before it: the greedy heads hold
    # one 2-cycle, and every contraction makes a new one with the word before, so a sentence of
    # n words needs n - 1 nested contractions. Only word 1 may attach to the root and heads are
    # neighbours, so the chain i <- i - 1 is the only tree.
    n = 1100
    scores = np.full((n + 1, n + 1), -np.inf)
    words = np.arange(1, n)
    scores[words, words + 1] = 10.0
    scores[np.arange(2, n + 1), np.arange(1, n)] = 5.0
    scores[n, n - 1] = 10.0
    scores[1, 0] = 1.0
    assert list(mst_heads(scores)) == [-1, *range(n)]


def crf_with_random_weights(num_labels, allowed=None, seed=0):
    torch.manual_seed(seed)
    crf = ConditionalRandomField(num_labels, allowed)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


def path_score(crf, emissions, path):
    transitions, start, end = crf._scores()
    score = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
    return score + sum(transitions[a, b] for a, b in zip(path, path[1:]))


def test_crf_likelihood_and_viterbi_match_enumeration():
    crf = crf_with_random_weights(3)
    emissions = torch.randn(2, 4, 3)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    labels = torch.tensor([[0, 2, 1, 1], [2, 0, 0, 0]])
    expected_ll, expected_paths = 0.0, []
    for row, length in enumerate([4, 2]):
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([path_score(crf, emissions[row], p) for p in paths])
        expected_ll += path_score(crf, emissions[row], labels[row, :length].tolist()) - torch.logsumexp(scores, 0)
        expected_paths.append(list(paths[int(scores.argmax())]))
    with torch.no_grad():
        assert crf.log_likelihood(emissions, labels, mask).item() == pytest.approx(expected_ll.item(), abs=1e-4)
        assert crf.viterbi(emissions, mask) == expected_paths


def test_bio_constraints_forbid_i_without_its_b():
    labels = ["B-PER", "I-PER", "O"]
    allowed = bio_transitions(labels)
    assert allowed[0, 1] and allowed[1, 1] and not allowed[2, 1]
    assert not allowed[3, 1]  # start -> I-PER
    crf = crf_with_random_weights(3, allowed)
    emissions = torch.zeros(1, 3, 3)
    emissions[0, :, 1] = 5.0  # I-PER everywhere is what the emissions want
    assert crf.viterbi(emissions, torch.ones(1, 3, dtype=torch.bool))[0][0] != 1
