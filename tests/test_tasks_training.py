"""Each task model trains for a few steps on a tiny slice of real data; metrics are computed,
the best checkpoint reloads, predictions are written. ELMo is the small allennlp test model."""
import json
from pathlib import Path

import pytest
import torch

from torchelmo.cli import main
from torchelmo.errors import ConfigurationError, OutputExistsError
from torchelmo.tasks import evaluate_archive, parse_config, predict_archive, train

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
EWT = DATA / "ud-english-ewt"
GUM_DEV_DOCUMENT = DATA / "gum" / "dep" / "GUM_news_iodine.conllu"  # listed under "dev" in splits.json
TINY_ENCODER = {"hidden_size": 8, "num_layers": 1, "dropout": 0.0}
QUICK = {"epochs": 2, "batch_size": 8, "max_batches_per_epoch": 3, "patience": 2}


def conllu_slice(source: Path, sentences: int, target: Path) -> str:
    """The first ``sentences`` sentences of a real CoNLL-U file, copied to ``target``."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")[:sentences]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return str(target)


def elmo_block(options_file, weight_file, **settings):
    return {"options_file": options_file, "weight_file": weight_file, "dropout": 0.1, **settings}


def read_lines(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_run_folder(folder: Path, metric: str, epochs: int = QUICK["epochs"]) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["validation_metric"] == metric
    assert 0.0 <= metrics["validation"][metric] <= 1.0
    assert len(metrics["history"]) == epochs and metrics["best_epoch"] in range(1, epochs + 1)
    assert metrics["seconds"] > 0 and metrics["machine"]["cpu_count"]
    assert (folder / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return metrics


def test_entity_tagger_with_crf_and_elmo_at_input_and_output(tmp_path, options_file, weight_file):
    gum_train = conllu_slice(DATA / "gum" / "dep" / "GUM_academic_discrimination.conllu", 40, tmp_path / "train.conllu")
    config = parse_config({
        "data": {"reader": {"type": "conllu", "tags": "entity"}, "train": {"path": gum_train},
                 "validation": {"path": str(GUM_DEV_DOCUMENT), "limit": 16}},
        "model": {"type": "tagger", "decoder": "crf", "tag_scheme": "bio", "encoder": TINY_ENCODER,
                  "embedders": {"words": {"dim": 8},
                                "elmo": elmo_block(options_file, weight_file, num_output_representations=2)}},
        "trainer": QUICK})
    folder = tmp_path / "run"
    train(config, str(folder))
    metrics = check_run_folder(folder, "f1")
    assert {"precision", "recall", "accuracy"} <= set(metrics["validation"])
    predictions = read_lines(folder / "predictions.jsonl")
    assert len(predictions) == 16 and all(len(p["tags"]) == len(p["tokens"]) for p in predictions)
    assert all(not tag.startswith("I-") or (i and p["tags"][i - 1][2:] == tag[2:])  # the CRF keeps BIO valid
               for p in predictions for i, tag in enumerate(p["tags"]))
    saved = torch.load(folder / "model.pt", weights_only=True)
    assert any(k.startswith("embedder.elmo.scalar_mix_1") for k in saved)
    assert not any(k.startswith("embedder.elmo._elmo_lstm") for k in saved)  # the frozen biLM stays in its file
    evaluated = evaluate_archive(str(folder), str(GUM_DEV_DOCUMENT))
    assert 0.0 <= evaluated["f1"] <= 1.0 and evaluated["loss"] > 0


def test_pos_tagger_words_only_through_the_cli(tmp_path, capsys):
    config = {"data": {"reader": {"type": "conllu", "tags": "upos"},
                       "train": {"path": str(EWT / "en_ewt-ud-train.conllu"), "limit": 48},
                       "validation": {"path": conllu_slice(EWT / "en_ewt-ud-dev.conllu", 20, tmp_path / "dev.conllu")}},
              "model": {"type": "tagger", "encoder": TINY_ENCODER, "embedders": {"words": {"dim": 8}}},
              "trainer": QUICK}
    (tmp_path / "pos.json").write_text(json.dumps(config))
    folder = tmp_path / "run"
    assert main(["task", "train", str(tmp_path / "pos.json"), "--output-dir", str(folder)]) == 0
    metrics = check_run_folder(folder, "accuracy")
    assert main(["task", "train", str(tmp_path / "pos.json"), "--output-dir", str(folder)]) == 2
    assert "run: already holds files; pass --overwrite to replace it" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["task", "evaluate", str(folder), str(tmp_path / "dev.conllu"), "--output",
                 str(tmp_path / "scores.json")]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the reloaded best checkpoint scores the validation file exactly as during training
    assert printed["accuracy"] == pytest.approx(metrics["validation"]["accuracy"])
    assert json.loads((tmp_path / "scores.json").read_text()) == printed
    (tmp_path / "input.txt").write_text("I like it .\nThe cat sat\n")
    assert main(["task", "predict", str(folder), str(tmp_path / "input.txt"), "--text"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [len(x["tags"]) for x in lines] == [4, 3]
    assert set(lines[0]["tags"]) <= set(json.loads((folder / "vocabularies.json").read_text())["labels"]["items"])
    assert main(["task", "predict", str(folder), str(tmp_path / "dev.conllu"), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    assert len(read_lines(tmp_path / "out.jsonl")) == 20


def test_parser_with_elmo(tmp_path, options_file, weight_file):
    config = parse_config({
        "data": {"reader": {"type": "conllu"}, "train": {"path": str(EWT / "en_ewt-ud-train.conllu"), "limit": 40},
                 "validation": {"path": str(EWT / "en_ewt-ud-dev.conllu"), "limit": 12},
                 "test": {"path": str(EWT / "en_ewt-ud-test.conllu"), "limit": 12}},
        "model": {"type": "parser", "arc_dim": 16, "label_dim": 8, "encoder": TINY_ENCODER,
                  "embedders": {"elmo": elmo_block(options_file, weight_file)}},
        "trainer": QUICK})
    folder = tmp_path / "run"
    metrics = train(config, str(folder))
    check_run_folder(folder, "las")
    assert 0.0 <= metrics["test"]["las"] <= metrics["test"]["uas"] <= 1.0
    for prediction in read_lines(folder / "predictions.jsonl"):  # test-set predictions: MST trees
        heads = prediction["heads"]
        assert len(heads) == len(prediction["relations"]) == len(prediction["tokens"])
        assert heads.count(0) == 1 and all(_reaches_root(heads, i) for i in range(len(heads)))


def _reaches_root(heads, word):
    seen = set()
    while word + 1 not in seen:
        seen.add(word + 1)
        if heads[word] == 0:
            return True
        word = heads[word] - 1
    return False


def genre_classification_tsv(source: Path, per_genre: int, target: Path) -> str:
    """Real labels without extra downloads: each EWT sentence's web genre (answers, email,
    newsgroup, reviews, weblog), read from its sent_id, with the sentence's words."""
    counts, lines, genre, words = {}, [], None, []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id = "):
            genre = line.split("= ", 1)[1].split("-", 1)[0]
        elif line and line[0].isdigit():
            columns = line.split("\t")
            if columns[0].isdigit():
                words.append(columns[1])
        elif not line and words:
            if counts.get(genre, 0) < per_genre:
                counts[genre] = counts.get(genre, 0) + 1
                lines.append(f"{genre}\t{' '.join(words)}")
            words = []
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(target)


def test_classifier_with_elmo_on_ewt_genres(tmp_path, options_file, weight_file):
    train_file = genre_classification_tsv(EWT / "en_ewt-ud-train.conllu", 8, tmp_path / "train.tsv")
    dev_file = genre_classification_tsv(EWT / "en_ewt-ud-dev.conllu", 3, tmp_path / "dev.tsv")
    config = parse_config({
        "data": {"reader": {"type": "classification", "format": "tsv"}, "train": {"path": train_file},
                 "validation": {"path": dev_file}},
        "model": {"type": "classifier", "pooling": "mean", "encoder": TINY_ENCODER,
                  "embedders": {"words": {"dim": 8, "lowercase": True}, "elmo": elmo_block(options_file, weight_file)}},
        "trainer": QUICK})
    folder = tmp_path / "run"
    train(config, str(folder))
    check_run_folder(folder, "accuracy")
    assert predict_archive(str(folder), dev_file, str(tmp_path / "out.jsonl")) == 15
    predictions = read_lines(tmp_path / "out.jsonl")
    labels = {"answers", "email", "newsgroup", "reviews", "weblog"}
    assert all(p["label"] in labels and set(p["probabilities"]) == labels for p in predictions)
    assert all(sum(p["probabilities"].values()) == pytest.approx(1.0) for p in predictions)


def test_same_seed_same_run_and_no_silent_overwrite(tmp_path):
    data = {"reader": {"type": "conllu"}, "train": {"path": str(EWT / "en_ewt-ud-train.conllu"), "limit": 24},
            "validation": {"path": str(EWT / "en_ewt-ud-dev.conllu"), "limit": 8}}
    config = {"data": data, "model": {"type": "tagger", "encoder": TINY_ENCODER, "embedders": {"words": {"dim": 4}}},
              "trainer": {**QUICK, "seed": 7}}
    first = train(parse_config(config), str(tmp_path / "a"))
    second = train(parse_config(config), str(tmp_path / "b"))
    strip = lambda h: {k: v for k, v in h.items() if k != "seconds"}  # noqa: E731
    assert [strip(h) for h in first["history"]] == [strip(h) for h in second["history"]]
    with pytest.raises(OutputExistsError, match="already holds files"):
        train(parse_config(config), str(tmp_path / "a"))


def test_srl_style_tagger_uses_the_predicate_indicator(tmp_path):
    # A format example only (no SRL data is available here): this checks the code path.
    lines = ["The - B-A0", "cat - I-A0", "ate eat B-V", "fish - B-A1", "", "It - B-A0", "rains rain B-V", "",
             "Dogs - B-A0", "chase chase B-V", "cats - B-A1", ""]
    (tmp_path / "srl.txt").write_text("\n".join(lines) + "\n")
    config = parse_config({
        "data": {"reader": {"type": "columns", "predicate_column": 1, "tag_column": 2},
                 "train": {"path": str(tmp_path / "srl.txt")}, "validation": {"path": str(tmp_path / "srl.txt")}},
        "model": {"type": "tagger", "decoder": "crf", "tag_scheme": "bio", "predicate_dim": 2,
                  "encoder": TINY_ENCODER, "embedders": {"words": {"dim": 4}}},
        "trainer": {**QUICK, "epochs": 1}})
    folder = tmp_path / "run"
    train(config, str(folder))
    assert "predicate.weight" in torch.load(folder / "model.pt", weights_only=True)
    assert [len(p["tags"]) for p in read_lines(folder / "predictions.jsonl")] == [4, 2, 3]
