"""Metrics on hand-made cases; the expected scores are worked out in the comments."""
import pytest

from torchelmo.tasks.metrics import accuracy, attachment_scores, bio_spans, span_f1


def test_accuracy():
    assert accuracy(["a", "b", "c", "d"], ["a", "x", "c", "y"]) == 0.5
    with pytest.raises(ValueError):
        accuracy(["a"], ["a", "b"])


def test_bio_spans_read_like_conlleval():
    assert bio_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {(0, 1, "PER"), (3, 3, "LOC")}
    # an I- tag that does not continue a chunk of its type starts one
    assert bio_spans(["I-PER", "I-PER", "O", "I-LOC"]) == {(0, 1, "PER"), (3, 3, "LOC")}
    assert bio_spans(["B-PER", "I-LOC", "I-LOC"]) == {(0, 0, "PER"), (1, 2, "LOC")}
    # B- after I- of the same type starts a new chunk
    assert bio_spans(["B-ORG", "I-ORG", "B-ORG"]) == {(0, 1, "ORG"), (2, 2, "ORG")}
    assert bio_spans(["O", "O"]) == set()


def test_span_f1_counts_exact_chunks_only():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"],   # PER right; LOC labelled ORG
                 ["B-ORG", "I-ORG", "O", "B-PER"]]   # ORG cut short (wrong); spurious PER
    # gold chunks: PER, LOC, ORG(0-2) = 3; predicted: PER, ORG(3,3), ORG(0-1), PER(3,3) = 4; correct: 1
    scores = span_f1(predicted, gold)
    assert scores["precision"] == pytest.approx(1 / 4)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))  # = 2/7
    # per type: PER 1 correct of 2 predicted, 1 gold -> P 1/2, R 1 -> F 2/3; LOC and ORG 0
    assert scores["f1-PER"] == pytest.approx(2 / 3)
    assert scores["f1-LOC"] == 0.0 and scores["f1-ORG"] == 0.0


def test_span_f1_perfect_and_empty():
    tags = [["B-X", "I-X", "O"]]
    assert span_f1(tags, tags)["f1"] == 1.0
    assert span_f1([["O", "O", "O"]], tags) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "f1-X": 0.0}


def test_attachment_scores_with_and_without_punctuation():
    gold_heads, gold_relations = [[2, 0, 2, 2]], [["nsubj", "root", "obj", "punct"]]
    pos = [["PRON", "VERB", "NOUN", "PUNCT"]]
    predicted_heads, predicted_relations = [[2, 0, 1, 3]], [["nsubj", "root", "iobj", "punct"]]
    # words: 1 right/right, 2 right/right, 3 head wrong, 4 (punct) head wrong -> UAS 2/4, LAS 2/4
    assert attachment_scores(predicted_heads, predicted_relations, gold_heads, gold_relations) == \
        {"uas": 0.5, "las": 0.5}
    # without punctuation: 3 words, 2 right
    scores = attachment_scores(predicted_heads, predicted_relations, gold_heads, gold_relations, pos)
    assert scores == {"uas": pytest.approx(2 / 3), "las": pytest.approx(2 / 3)}
    # right head, wrong label counts for UAS only
    scores = attachment_scores([[2, 0, 2, 2]], [["nsubj", "root", "iobj", "punct"]], gold_heads, gold_relations)
    assert scores == {"uas": 1.0, "las": 0.75}
