"""Span QA: best-span decoding, training windows, and a tiny train / evaluate / predict run
on hand-made paragraphs through the command line."""
import itertools
import json
import random
import re
from pathlib import Path

import pytest
import torch
from training_support import one_thread  # noqa: F401 (a fixture)

from torchelmo.cli import main
from torchelmo.tasks import parse_config
from torchelmo.tasks.archive import build_model
from torchelmo.tasks.qa.model import best_spans
from torchelmo.tasks.qa.question import Question
from torchelmo.tasks.vocabulary import TaskVocabulary


def brute_force(start, end, length, max_length):
    pairs = [(start[i] + end[j], i, j) for i, j in itertools.product(range(length), repeat=2)
             if i <= j < i + max_length]
    best = max(pairs)
    return best[1], best[2], best[0]


def test_best_spans_match_brute_force_and_respect_the_length_limit():
    generator = torch.Generator().manual_seed(0)
    lengths = [9, 4, 1, 7]
    for max_length in (1, 2, 3, 30):
        scores = [torch.randn(4, 9, generator=generator).masked_fill(torch.arange(9) >= torch.tensor(lengths)
                                                                      .unsqueeze(1), float("-inf")) for _ in range(2)]
        first, last, best = best_spans(scores[0], scores[1], max_length)
        for row, length in enumerate(lengths):
            expected = brute_force(scores[0][row].tolist(), scores[1][row].tolist(), length, max_length)
            assert (first[row].item(), last[row].item()) == expected[:2]
            assert best[row].item() == pytest.approx(expected[2])
            assert 0 <= last[row] - first[row] < max_length and last[row] < length


def test_best_spans_prefer_a_shorter_span_over_an_overlong_better_one():
    start = torch.tensor([[0.0, -9, -1, -9, -9]])
    end = torch.tensor([[-9.0, -9, -9, -9, 0]])  # the unconstrained best is (0, 4): five tokens
    first, last, best = best_spans(start, end, 3)
    assert (first.item(), last.item(), best.item()) == (2, 4, -1.0)
    first, last, best = best_spans(start, end, 5)
    assert (first.item(), last.item(), best.item()) == (0, 4, 0.0)


PARAGRAPHS = [
    ("Ada Lovelace wrote the first program in 1843. She worked with Charles Babbage in London.",
     [("Who wrote the first program?", "Ada Lovelace"), ("When was the first program written?", "1843"),
      ("Where did she work with Babbage?", "London")]),
    ("The Nile flows north through Egypt and ends in the Mediterranean Sea, about 6,650 km from its source.",
     [("Where does the Nile end?", "the Mediterranean Sea"), ("How long is the Nile?", "about 6,650 km"),
      ("Which country does the Nile flow through?", "Egypt")]),
    ("Café Müller opened in Zürich in 1921; its owner, Renée Dubois, baked croissants every morning.",
     [("Who owned Café Müller?", "Renée Dubois"), ("In which city did the café open?", "Zürich"),
      ("What did the owner bake?", "croissants")]),
]


def write_squad(path: Path) -> str:
    paragraphs = [{"context": context, "qas": [
        {"id": f"p{p}q{q}", "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
        for q, (question, answer) in enumerate(qas)]} for p, (context, qas) in enumerate(PARAGRAPHS)]
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}),
                    encoding="utf-8")
    return str(path)


def qa_config(data: str, embedders=None, **model):
    return {"data": {"reader": {"type": "squad"}, "train": {"path": data}, "validation": {"path": data}},
            "model": {"type": "span_qa", "embedders": embedders or {"words": {"dim": 16}},
                      "encoder": {"hidden_size": 16, "num_layers": 1, "dropout": 0.0},
                      "modelling": {"hidden_size": 16, "num_layers": 1, "dropout": 0.0}, "dropout": 0.0, **model},
            "trainer": {"epochs": 12, "patience": 12, "batch_size": 3, "optimizer": {"lr": 0.02}}}


def test_training_windows_hold_the_gold_answer(tmp_path):
    config = parse_config(qa_config(write_squad(tmp_path / "s.json"), max_train_passage_tokens=6))
    model = build_model(config, {"words": TaskVocabulary.of_words(["a"]), "labels": TaskVocabulary([])})
    tokens = [f"w{i}" for i in range(20)]
    offsets = [(3 * i, 3 * i + 2) for i in range(20)]
    random.seed(1)
    # span -> the window starts that hold it; a span longer than the window starts it
    for span, starts in [((8, 10), {5, 6, 7, 8}), ((0, 0), {0}), ((19, 19), {14}), ((2, 12), {2})]:
        question = Question(tokens=tokens, question=["q"], offsets=offsets, span=span)
        seen = set()
        for _ in range(40):
            window = model._training_view(question)
            start = int(window.tokens[0][1:])
            seen.add(start)
            assert window.tokens == tokens[start:start + 6] and window.offsets == offsets[start:start + 6]
            assert window.span == (span[0] - start, min(span[1] - start, 5))
        assert seen == starts
    model.eval()
    assert model._training_view(question) is question  # evaluation reads whole passages


def test_tiny_train_evaluate_predict_through_the_cli(one_thread, tmp_path, capsys):
    data = write_squad(tmp_path / "s.json")
    (tmp_path / "qa.json").write_text(json.dumps(qa_config(data)))
    folder = tmp_path / "run"
    assert main(["task", "train", str(tmp_path / "qa.json"), "--output-dir", str(folder)]) == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["validation_metric"] == "f1" and metrics["validation"]["f1"] > 80  # it fits its 9 questions
    official = json.loads((folder / "predictions.json").read_text())
    assert sorted(official) == sorted(f"p{p}q{q}" for p in range(3) for q in range(3))
    capsys.readouterr()
    predictions_file = tmp_path / "dev.predictions.json"
    assert main(["task", "evaluate", str(folder), data, "--predictions", str(predictions_file)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["f1"] == pytest.approx(metrics["validation"]["f1"]) and 0 <= printed["exact_match"] <= 100
    assert json.loads(predictions_file.read_text()) == official

    questions = tmp_path / "questions.jsonl"
    records = [{"id": f"p{p}q{q}", "context": context, "question": question}
               for p, (context, qas) in enumerate(PARAGRAPHS) for q, (question, _) in enumerate(qas)]
    records.append({"id": "new", "context": "  Grace Hopper   built the COBOL compiler in 1959.  ",
                    "question": "Who built the compiler?"})
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    output = tmp_path / "answers.jsonl"
    assert main(["task", "predict", str(folder), str(questions), "--output", str(output)]) == 0
    answers = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [a["id"] for a in answers] == [r["id"] for r in records]
    for answer, record in zip(answers, records):
        assert set(answer) == {"id", "answer", "start", "end", "score"}
        assert record["context"][answer["start"]:answer["end"]] == answer["answer"] != ""
        assert 0 < answer["score"] <= 1
    assert {a["id"]: a["answer"] for a in answers[:-1]} == official
    (tmp_path / "unlabelled.json").write_text(json.dumps(qa_config(str(questions))))
    assert main(["task", "train", str(tmp_path / "unlabelled.json"), "--output-dir", str(tmp_path / "u")]) == 2
    assert re.search(r"questions\.jsonl#\w+: no gold answer to train on", capsys.readouterr().err)
    (tmp_path / "s.txt").write_text("a tokenized sentence\n")
    assert main(["task", "predict", str(folder), str(tmp_path / "s.txt"), "--text"]) == 2
    assert "span_qa model reads questions on passages" in capsys.readouterr().err


def test_elmo_at_input_and_output_trains_and_saves_its_second_mix(one_thread, tmp_path, options_file, weight_file):
    data = write_squad(tmp_path / "s.json")
    embedders = {"words": {"dim": 8}, "elmo": {"options_file": options_file, "weight_file": weight_file,
                                               "dropout": 0.0, "num_output_representations": 2}}
    config = qa_config(data, embedders)
    config["trainer"].update(epochs=1)
    (tmp_path / "qa.json").write_text(json.dumps(config))
    folder = tmp_path / "run"
    assert main(["task", "train", str(tmp_path / "qa.json"), "--output-dir", str(folder)]) == 0
    saved = torch.load(folder / "model.pt", weights_only=True)
    assert any(k.startswith("embedder.elmo.scalar_mix_1") for k in saved)
    assert not any(k.startswith("embedder.elmo._elmo_lstm") for k in saved)
    assert saved["attention.product_weight"].numel() == 16 * 2 + 32  # BiLSTM 2×16 + ELMo's second mix (32)
