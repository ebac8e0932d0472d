"""SQuAD v1.1 exact match and F1, against values worked out by hand from the official
definitions (lower-case, drop ASCII punctuation, drop a/an/the, collapse whitespace)."""
import pytest

from torchelmo.tasks.qa.metrics import exact_match, normalize_answer, squad_scores, token_f1


@pytest.mark.parametrize("text, normalised", [
    ("The  Denver Broncos!", "denver broncos"),
    ("an apple, a pear & the-end", "apple pear theend"),  # "the-end" loses its hyphen first: no article left
    ("Thethe a.n", "thethe"),  # "a.n" becomes the article "an"
    ("  Mixed\tCASE\nlines ", "mixed case lines"),
    ("\u201cDenver\u201d", "\u201cdenver\u201d"),  # curly quotes are not in string.punctuation
    ("The", ""),
])
def test_normalisation(text, normalised):
    assert normalize_answer(text) == normalised


def test_exact_match_compares_normalised_texts():
    assert exact_match("Broncos.", "the broncos") == 1.0
    assert exact_match("Denver Broncos", "Broncos") == 0.0


def test_f1_counts_shared_tokens_with_multiplicity():
    assert token_f1("the Denver Broncos team", "Denver Broncos") == pytest.approx(0.8)  # P 2/3, R 1
    assert token_f1("x y y", "y y z") == pytest.approx(2 / 3)  # y shared twice: P = R = 2/3
    assert token_f1("x y y", "y z") == pytest.approx(0.4)  # y shared once: P 1/3, R 1/2
    assert token_f1("cat", "dog") == 0.0
    assert token_f1("", "dog") == 0.0


def test_only_articles_is_an_exact_match_but_no_f1():
    # v1.1 behaviour: both sides normalise to "", equal for EM, no shared token for F1
    assert exact_match("The", "a") == 1.0 and token_f1("The", "a") == 0.0


def test_set_scores_take_the_best_gold_answer_and_average_in_percent():
    scores = squad_scores(["Denver Broncos", "in 1990"],
                          [["The Broncos", "Denver Broncos"], ["1990", "the year 1990"]])
    # q1: EM 1, F1 1. q2: EM 0; F1 against "1990" is 2/3 (P 1/2, R 1), against "year 1990" 1/2
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_set_scores_need_one_prediction_per_question():
    with pytest.raises(ValueError, match="2 predictions for 1 questions"):
        squad_scores(["a", "b"], [["a"]])
