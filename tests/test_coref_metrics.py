"""Coreference metrics on hand-made cases whose scores are worked out below, and the
Hungarian matching against brute force."""
import itertools
import random

import pytest

from torchelmo.tasks.coreference.assignment import max_weight_matching
from torchelmo.tasks.coreference.metrics import b_cubed, ceafe, coreference_scores, muc

# The running example of Pradhan et al. (2014), "Scoring Coreference Partitions of Predicted
# Mentions: A Reference Implementation": key K1 = {a b c}, K2 = {d e f g};
# response R1 = {a b}, R2 = {c d}, R3 = {f g h i} (e is missed, h and i are invented).
KEY = [["a", "b", "c"], ["d", "e", "f", "g"]]
RESPONSE = [["a", "b"], ["c", "d"], ["f", "g", "h", "i"]]


def scores_of(tally):
    return tally.scores()


def test_muc_worked_example():
    # Recall: K1 split by the response is {a b}{c}: 3 - 2 = 1 link kept of 3 - 1 = 2;
    # K2 is {d}{e}{f g}: 4 - 3 = 1 of 3. R = (1 + 1) / (2 + 3) = 2/5.
    # Precision: R1 in the key is {a b}: 2 - 1 = 1 of 1; R2 is {c}{d}: 0 of 1;
    # R3 is {f g}{h}{i}: 4 - 3 = 1 of 3. P = 2/5.
    s = scores_of(muc(KEY, RESPONSE))
    assert s["recall"] == pytest.approx(2 / 5) and s["precision"] == pytest.approx(2 / 5)
    assert s["f1"] == pytest.approx(2 / 5)


def test_b_cubed_worked_example():
    # Recall, per key mention |K ∩ R(m)| / |K|: a, b: 2/3 each; c: 1/3; d: 1/4; e: 0 (in no
    # response cluster); f, g: 2/4 each. Sum 5/3 + 5/4 = 35/12 over 7 mentions: R = 35/84.
    # Precision, per response mention |R ∩ K(m)| / |R|: a, b: 1 each; c, d: 1/2 each;
    # f, g: 2/4 each; h, i: 0. Sum 4 over 8 mentions: P = 1/2.
    s = scores_of(b_cubed(KEY, RESPONSE))
    assert s["recall"] == pytest.approx(35 / 84) and s["precision"] == pytest.approx(1 / 2)
    assert s["f1"] == pytest.approx(2 * (35 / 84) * 0.5 / (35 / 84 + 0.5))


def test_ceafe_worked_example():
    # φ4(K, R) = 2|K ∩ R| / (|K| + |R|): K1-R1 = 4/5, K1-R2 = 2/5, K1-R3 = 0,
    # K2-R1 = 0, K2-R2 = 2/6, K2-R3 = 4/8. Best one-to-one alignment: K1-R1 + K2-R3 = 1.3
    # (the others: K1-R1 + K2-R2 = 1.133, K1-R2 + K2-R3 = 0.9, ...).
    # R = 1.3 / 2 key entities, P = 1.3 / 3 response entities.
    s = scores_of(ceafe(KEY, RESPONSE))
    assert s["recall"] == pytest.approx(0.65) and s["precision"] == pytest.approx(1.3 / 3)


def test_conll_score_is_the_mean_f1_and_documents_are_micro_averaged():
    # Document 2: key {x y}, response {x y} (perfect). Summing numerators and denominators:
    # MUC R = (2 + 1) / (5 + 1) = 1/2, P = (2 + 1) / (5 + 1) = 1/2;
    # B³ R = (35/12 + 2) / (7 + 2) = 59/108, P = (4 + 2) / (8 + 2) = 3/5;
    # CEAFe R = (1.3 + 1) / (2 + 1), P = (1.3 + 1) / (3 + 1).
    scores = coreference_scores([RESPONSE, [["x", "y"]]], [KEY, [["x", "y"]]])
    expected = {"muc_recall": 1 / 2, "muc_precision": 1 / 2, "b3_recall": 59 / 108, "b3_precision": 3 / 5,
                "ceafe_recall": 2.3 / 3, "ceafe_precision": 2.3 / 4}
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value), key
    f1 = lambda p, r: 2 * p * r / (p + r)  # noqa: E731
    assert scores["b3_f1"] == pytest.approx(f1(3 / 5, 59 / 108))
    assert scores["conll_f1"] == pytest.approx((scores["muc_f1"] + scores["b3_f1"] + scores["ceafe_f1"]) / 3)


def test_perfect_and_empty_responses():
    perfect = coreference_scores([KEY], [KEY])
    assert all(value == pytest.approx(1.0) for value in perfect.values())
    empty = coreference_scores([[]], [KEY])
    assert all(value == 0.0 for value in empty.values())
    # Response {a b c d e f g}: one big cluster. MUC R = (2 + 3) / 5 = 1, P = (7 - 2) / 6 = 5/6.
    merged = scores_of(muc(KEY, [["a", "b", "c", "d", "e", "f", "g"]]))
    assert merged["recall"] == pytest.approx(1.0) and merged["precision"] == pytest.approx(5 / 6)
    # Spans as mentions: key {(0, 1) (5, 5)}, response {(0, 1) (5, 6)}: one mention matches,
    # no link does (MUC 0). B³ R: (0, 1) scores |{(0, 1)}| / 2 = 1/2, (5, 5) is in no
    # response cluster: 0; (1/2 + 0) / 2 mentions = 1/4. P likewise: (1/2 + 0) / 2 = 1/4.
    spans = scores_of(b_cubed([[(0, 1), (5, 5)]], [[(0, 1), (5, 6)]]))
    assert spans["recall"] == pytest.approx(1 / 4) and spans["precision"] == pytest.approx(1 / 4)
    assert scores_of(muc([[(0, 1), (5, 5)]], [[(0, 1), (5, 6)]]))["f1"] == 0.0
    with pytest.raises(ValueError, match="1 predicted documents for 2"):
        coreference_scores([KEY], [KEY, KEY])


def test_max_weight_matching_agrees_with_brute_force():
    rng = random.Random(3)
    for _ in range(200):
        rows, columns = rng.randint(1, 5), rng.randint(1, 5)
        weights = [[rng.choice([0.0, 0.5, round(rng.random(), 3)]) for _ in range(columns)] for _ in range(rows)]
        total, pairs = max_weight_matching(weights)
        if rows <= columns:
            best = max(sum(weights[r][c] for r, c in enumerate(p)) for p in itertools.permutations(range(columns), rows))
        else:
            best = max(sum(weights[r][c] for c, r in enumerate(p)) for p in itertools.permutations(range(rows), columns))
        assert total == pytest.approx(best)
        assert len(pairs) == min(rows, columns) == len({r for r, _ in pairs}) == len({c for _, c in pairs})
        assert total == pytest.approx(sum(weights[r][c] for r, c in pairs))
    assert max_weight_matching([]) == (0.0, [])
