"""SQuAD reader: offsets between tokens and characters, gold spans, bad records, skips."""
import json
import logging
from pathlib import Path

import pytest

from torchelmo.errors import InputError
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.qa.question import character_span, token_offsets, token_span
from torchelmo.tasks.qa.reader import SquadReaderConfig
from torchelmo.tasks.sources import read_source
from torchelmo.tokenizer import tokenize_with_offsets

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "squad"


@pytest.mark.parametrize("text", [
    "Hello,   world!  It's 3.5km (approx.) from the U.S.A.'s border.",
    "Unicode: été, naïve café — “quotes”, emoji 🙂 and 東京 too.",
    "  Tabs\tand\nnew\r\nlines\u00a0and no-break spaces  ",
    "((nested)) ... !!! ?!",
])
def test_token_and_character_spans_round_trip(text):
    offsets = token_offsets(tokenize_with_offsets(text))
    assert len(offsets) > 3
    for first in range(len(offsets)):
        for last in range(first, len(offsets)):
            start, end = character_span(offsets, first, last)
            assert token_span(offsets, start, end) == (first, last)
            piece = text[start:end]
            assert piece == piece.strip() and piece.startswith(text[slice(*offsets[first])])
            assert piece.endswith(text[slice(*offsets[last])])


def test_partial_tokens_and_spaces_map_to_the_tokens_they_touch():
    text = "In the 1990s,  Denver's team won."
    offsets = token_offsets(tokenize_with_offsets(text))
    words = [text[s:e] for s, e in offsets]
    assert words == ["In", "the", "1990s", ",", "Denver", "'s", "team", "won", "."]
    start = text.index("1990")
    assert token_span(offsets, start, start + 4) == (2, 2)  # "1990" inside "1990s": the whole token
    start = text.index(" Denver")
    assert token_span(offsets, start, start + len(" Denver")) == (4, 4)  # a leading space is no token
    assert token_span(offsets, text.index(",  ") + 1, text.index(",  ") + 3) is None  # whitespace only


def squad_file(path: Path, paragraphs) -> str:
    path.write_text(json.dumps({"version": "test", "data": [{"title": "t", "paragraphs": paragraphs}]}),
                    encoding="utf-8")
    return str(path)


def read(path: str):
    return read_source(SourceConfig(path=path), SquadReaderConfig())


def test_reads_the_official_dev_set_with_every_gold_span_on_its_answer():
    questions = read_source(SourceConfig(path=str(DATA / "dev-v1.1.json"), limit=300), SquadReaderConfig())
    assert len(questions) == 300
    first = questions[0]
    assert first.question_id == "56be4db0acb8001400a502ec" and first.answers[0] == "Denver Broncos"
    assert first.question[-1] == "?" and first.source.endswith("dev-v1.1.json#56be4db0acb8001400a502ec")
    for q in questions:
        start, end = character_span(q.offsets, *q.span)
        assert q.answers[0].strip() in q.context[start:end]  # the span covers the first answer
        assert q.tokens == [q.context[s:e] for s, e in q.offsets]
    assert questions[1].tokens is first.tokens  # one tokenization per passage


def test_train_questions_get_positional_ids_and_unlocated_answers_are_skipped(caplog):
    path = str(DATA / "train-v1.0.json")
    questions = read_source(SourceConfig(path=path, limit=5), SquadReaderConfig())
    assert [q.question_id for q in questions[:2]] == ["0.0.0", "0.0.1"]
    assert questions[0].tokens[questions[0].span[0]] == "2008"  # its answer text is " 2008"


def test_a_question_with_no_located_answer_is_skipped_and_counted(tmp_path, caplog):
    path = squad_file(tmp_path / "s.json", [{"context": "Paris is in France.", "qas": [
        {"id": "a", "question": "Where?", "answers": [{"text": "x²", "answer_start": -1}]},
        {"id": "b", "question": "What?", "answers": [{"text": "Paris", "answer_start": 0}]}]}])
    with caplog.at_level(logging.WARNING):
        questions = read(path)
    assert [q.question_id for q in questions] == ["b"] and questions[0].span == (0, 0)
    assert "skipped 1 question(s)" in caplog.text and "s.json" in caplog.text


def test_located_answer_after_an_unlocated_one_gives_the_span(tmp_path):
    path = squad_file(tmp_path / "s.json", [{"context": "Paris is in France.", "qas": [
        {"id": "a", "question": "Where?", "answers": [{"text": "x", "answer_start": -1},
                                                      {"text": "France", "answer_start": 12}]}]}])
    (question,) = read(path)
    assert question.span == (3, 3) and question.answers == ["x", "France"]


@pytest.mark.parametrize("paragraph, message", [
    ({"qas": [{"id": "q1", "question": "Q?", "answers": []}]}, r"data\[0\]\.paragraphs\[0\]: missing 'context' text"),
    ({"context": "   ", "qas": [{"id": "q1", "question": "Q?", "answers": []}]}, r"paragraphs\[0\]: empty passage"),
    ({"context": "Paris.", "qas": [{"id": "q1", "answers": [{"text": "Paris", "answer_start": 0}]}]},
     r"question q1: missing 'question' text"),
    ({"context": "Paris.", "qas": [{"id": "q1", "question": " \t", "answers": [{"text": "Paris", "answer_start": 0}]}]},
     r"question q1: empty question"),
    ({"context": "Paris is nice.", "qas": [{"id": "q1", "question": "Q?", "answers": [{"text": "Paris",
                                                                                       "answer_start": 3}]}]},
     r"question q1: answer 0 'Paris' is not the passage's text at answer_start 3"),
    ({"context": "Paris.", "qas": [{"id": "q1", "question": "Q?", "answers": [{"text": "Paris"}]}]},
     r"question q1: answer 0 needs 'text' \(a string\) and 'answer_start'"),
    ({"context": "Paris.", "qas": [{"id": "q1", "question": "Q?", "answers": []}]},
     r"question q1: 'answers' must be a non-empty list"),
    ({"context": "Paris.", "qas": [{"question": "Q?", "answers": [{"text": "Paris", "answer_start": 99}]}]},
     r"question 0\.0\.0: answer 0 'Paris' is not the passage's text"),
    ({"context": "Paris is.", "qas": [{"id": "q1", "question": "Q?", "answers": [{"text": " ", "answer_start": 5}]}]},
     r"question q1: answer 0 ' ' covers no token"),
    ({"context": "Paris."}, r"paragraphs\[0\]: missing 'qas' list"),
])
def test_bad_records_fail_naming_the_file_and_question(tmp_path, paragraph, message):
    path = squad_file(tmp_path / "bad.json", [paragraph])
    with pytest.raises(InputError, match=r"bad\.json: .*" + message):
        read(path)


def test_json_lines_to_predict_on(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": 7, "context": "Ann met Bob.", "question": "Who met Bob?"}) + "\n\n"
                    + json.dumps({"id": "x", "context": "Ann met Bob.", "question": "Who?",
                                  "answers": [{"text": "Bob", "answer_start": 8}]}) + "\n", encoding="utf-8")
    first, second = read(str(path))
    assert first.question_id == "7" and first.answers == [] and first.span is None
    assert second.span == (2, 2) and first.source.endswith("q.jsonl#7")
    path.write_text(json.dumps({"id": 1, "context": "c", "question": "q"}) + "\n{\"context\": \"c\"}\n")
    with pytest.raises(InputError, match=r"q\.jsonl:2: missing 'id'"):
        read(str(path))
    path.write_text("not json\n")
    with pytest.raises(InputError, match=r"q\.jsonl:1: neither SQuAD JSON"):
        read(str(path))
