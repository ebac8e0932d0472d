"""Natural language inference: the pair readers (SNLI TSV, SICK with its own split, JSON
lines), ESIM's shapes and masks (padding changes nothing), and a tiny train / evaluate /
predict run on real SNLI pairs, with and without ELMo."""
import json
from pathlib import Path

import pytest
import torch

from torchelmo.cli import main
from torchelmo.errors import ConfigurationError, InputError
from torchelmo.tasks import evaluate_archive, parse_config, predict_archive, train
from torchelmo.tasks.archive import build_model
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.models.pair_classifier import PairClassifier
from torchelmo.tasks.readers.pairs import PairReaderConfig
from torchelmo.tasks.registry import model_class
from torchelmo.tasks.sources import read_source

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SNLI_DEV = DATA / "snli" / "dev.tsv"
SICK = DATA / "sick" / "SICK.txt"
TINY = {"hidden_size": 6, "num_layers": 1, "dropout": 0.0}
SICK_HEADER = "pair_ID\tsentence_A\tsentence_B\tentailment_label\trelatedness_score\tSemEval_set\n"


def read(path, **reader):
    return read_source(SourceConfig(path=str(path)), PairReaderConfig(**reader))


def test_snli_tsv_pairs_skip_the_header(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("label\tpremise\thypothesis\nentailment\tA man sleeps .\tA man rests .\n\n"
                    "CONTRADICTION\tTwo  dogs run\tNo dogs\n")
    pairs = read(path)
    assert [(x.label, x.tokens, x.hypothesis) for x in pairs] == [
        ("entailment", ["A", "man", "sleeps", "."], ["A", "man", "rests", "."]),
        ("contradiction", ["Two", "dogs", "run"], ["No", "dogs"])]
    assert pairs[1].source.endswith("pairs.tsv:4")
    assert read(path, lowercase=True)[0].tokens == ["a", "man", "sleeps", "."]
    assert pairs[0].record() == {"source": pairs[0].source, "premise": pairs[0].tokens,
                                 "hypothesis": pairs[0].hypothesis}


@pytest.mark.parametrize("text, message", [
    ("entailment\tA man sleeps .\n", r"pairs\.tsv:1: expected 'label<TAB>premise<TAB>hypothesis', got 2 field"),
    ("neutral\ta\tb\nmaybe\ta\tb\n", r"pairs\.tsv:2: unknown label 'maybe' \(expected one of entailment, neutral, "),
    ("neutral\t \tb\n", r"pairs\.tsv:1: empty premise"),
])
def test_tsv_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read(path)


def test_sick_raw_text_is_tokenized_and_split_by_semeval_set(tmp_path):
    path = tmp_path / "SICK.txt"
    path.write_text(SICK_HEADER + "1\tThe man's jumper is wet\tA man isn't dry\tENTAILMENT\t4.0\tTRAIN\n"
                    "2\tA dog runs\tA cat sleeps\tNEUTRAL\t1.0\tTEST\n3\tKids play\tNobody plays\tCONTRADICTION\t2\tTRAIN\n")
    train_pairs = read_source(SourceConfig(path=str(path), split="TRAIN"), PairReaderConfig(format="sick"))
    assert [x.source.rsplit(":", 1)[1] for x in train_pairs] == ["2", "4"]
    assert train_pairs[0].tokens == ["The", "man", "'s", "jumper", "is", "wet"]  # spaCy's rules, not a regex
    assert train_pairs[0].hypothesis == ["A", "man", "is", "n't", "dry"]
    assert [x.label for x in train_pairs] == ["entailment", "contradiction"]
    test_pairs = read_source(SourceConfig(path=str(path), split="TEST"), PairReaderConfig(format="sick"))
    assert [x.tokens for x in test_pairs] == [["A", "dog", "runs"]]
    path.write_text(SICK_HEADER.replace("SemEval_set", "set") + "1\ta\tb\tNEUTRAL\t1\tTRAIN\n")
    with pytest.raises(InputError, match=r"SICK\.txt:1: a SICK header needs the columns SemEval_set"):
        read(path, format="sick")
    path.write_text(SICK_HEADER + "1\ta\tb\tNEUTRAL\tTRAIN\n")
    with pytest.raises(InputError, match=r"SICK\.txt:2: expected 6 tab-separated fields as in the header, got 5"):
        read(path, format="sick")


def test_real_sick_official_split_and_snli_folds():
    sizes = {split: len(read_source(SourceConfig(path=str(SICK), split=split), PairReaderConfig(format="sick")))
             for split in ("TRAIN", "TRIAL", "TEST")}
    assert sizes == {"TRAIN": 4439, "TRIAL": 495, "TEST": 4906}  # the data README's counts
    train_folds = read_source(SourceConfig(path=str(SNLI_DEV), num_folds=10, folds=list(range(9))), PairReaderConfig())
    held_out = read_source(SourceConfig(path=str(SNLI_DEV), num_folds=10, folds=[9]), PairReaderConfig())
    assert len(train_folds) + len(held_out) == 9842 and len(held_out) == 984
    assert not {x.source for x in train_folds} & {x.source for x in held_out}
    with pytest.raises(ConfigurationError, match=r"dev\.tsv:2: split 'TRAIN' without split_file needs a file"):
        read_source(SourceConfig(path=str(SNLI_DEV), split="TRAIN"), PairReaderConfig())


def test_pair_config_rules_name_the_key():
    data = {"data": {"reader": {"type": "conllu"}, "train": {"path": "x"}, "validation": {"path": "x"}},
            "model": {"type": "pair_classifier", "embedders": {"words": {"dim": 4}}}}
    with pytest.raises(ConfigurationError, match=r"data\.reader\.type: a pair_classifier reads 'pair' data"):
        parse_config(data)
    data["data"]["reader"] = {"type": "pair", "labels": ["Yes", "yes"]}
    with pytest.raises(ConfigurationError, match=r"data\.reader\.labels: expected distinct labels"):
        parse_config(data)
    data["data"]["reader"] = {"type": "pair"}
    data["data"]["train"]["split_file"] = "splits.json"
    with pytest.raises(ConfigurationError, match=r"data\.train\.split: a split_file needs the split to keep"):
        parse_config(data)


def test_jsonl_pairs_for_prediction(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"premise": "A dog\'s bone.", "hypothesis": ["A", "bone"]}\n'
                    '{"premise": "x", "hypothesis": "y", "label": "Neutral"}\n')
    pairs = read(path, format="sick")  # the suffix decides, whatever the format
    assert pairs[0].tokens == ["A", "dog", "'s", "bone", "."] and pairs[0].label is None
    assert pairs[1].label == "neutral"
    path.write_text('{"premise": "x"}\n')
    with pytest.raises(InputError, match=r"pairs\.jsonl:1: expected an object with 'premise' and 'hypothesis'"):
        read(path)


def tiny_esim(embedders=None):
    config = parse_config({
        "data": {"reader": {"type": "pair"}, "train": {"path": "x"}, "validation": {"path": "x"}},
        "model": {"type": "pair_classifier", "embedders": embedders or {"words": {"dim": 5}}, "encoder": TINY,
                  "composition": TINY, "projection_dim": 7, "hidden_dim": 4}})
    pairs = read(SNLI_DEV)[:6]
    model = build_model(config, model_class("pair_classifier").build_vocabularies(config.model, pairs))
    return model.eval(), pairs


def test_esim_shapes_and_the_hypothesis_words_in_the_vocabulary():
    model, pairs = tiny_esim()
    batch = model.tensorize(pairs)
    assert batch["mask"].shape == batch["words"].shape == (6, max(len(x.tokens) for x in pairs))
    assert batch["hypothesis_mask"].shape == (6, max(len(x.hypothesis) for x in pairs))
    assert batch["labels"].shape == (6,) and "hypothesis_labels" not in batch
    assert model.vocabularies["words"].id("sisters") != model.vocabularies["words"].id("@@UNKNOWN@@")
    output = model(batch)
    assert output["logits"].shape == (6, 3) and output["loss"].ndim == 0
    a, b = torch.randn(2, 4, 3), torch.randn(2, 5, 3)
    a_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
    b_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)
    a_aligned, b_aligned = PairClassifier.align(a, b, a_mask, b_mask)
    assert a_aligned.shape == a.shape and b_aligned.shape == b.shape
    garbage_a, garbage_b = a.clone(), b.clone()
    garbage_a[1, 2:] = 1e3  # padding of the second pair
    garbage_b[1, 3:] = 1e3
    again_a, again_b = PairClassifier.align(garbage_a, garbage_b, a_mask, b_mask)
    assert torch.allclose(again_a[1, :2], a_aligned[1, :2]) and torch.allclose(again_b[1, :3], b_aligned[1, :3])


@pytest.mark.parametrize("with_elmo", [False, True])
def test_padding_does_not_change_esim_results(with_elmo, options_file, weight_file):
    embedders = {"words": {"dim": 5}}
    if with_elmo:
        embedders["elmo"] = {"options_file": options_file, "weight_file": weight_file, "dropout": 0.0}
    model, pairs = tiny_esim(embedders)
    shortest = min(range(len(pairs)), key=lambda i: len(pairs[i].tokens) + len(pairs[i].hypothesis))
    with torch.no_grad():
        alone = model(model.tensorize([pairs[shortest]]))["logits"]
        together = model(model.tensorize(pairs))["logits"]
    assert torch.allclose(alone[0], together[shortest], atol=1e-5)


@pytest.mark.parametrize("with_elmo", [False, True])
def test_esim_trains_evaluates_and_predicts_json_lines(tmp_path, capsys, with_elmo, options_file, weight_file):
    embedders = {"words": {"dim": 8}}
    if with_elmo:
        embedders["elmo"] = {"options_file": options_file, "weight_file": weight_file, "dropout": 0.0,
                             "num_output_representations": 2}
    config = {"data": {"reader": {"type": "pair"},
                       "train": {"path": str(SNLI_DEV), "num_folds": 10, "folds": list(range(9)), "limit": 48},
                       "validation": {"path": str(SNLI_DEV), "num_folds": 10, "folds": [9], "limit": 12},
                       "test": {"path": str(DATA / "snli" / "test.tsv"), "limit": 12}},
              "model": {"type": "pair_classifier", "embedders": embedders, "encoder": TINY, "composition": TINY,
                        "projection_dim": 8, "hidden_dim": 8},
              "trainer": {"epochs": 2, "batch_size": 16, "patience": 2}}
    folder = tmp_path / "run"
    metrics = train(parse_config(config), str(folder))
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0 and metrics["instances"] == {"train": 48, "validation": 12,
                                                                                    "test": 12}
    records = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert len(records) == 12 and {"premise", "hypothesis", "label", "probabilities"} <= set(records[0])
    test_slice = tmp_path / "test.tsv"
    test_slice.write_text("".join((DATA / "snli" / "test.tsv").read_text(encoding="utf-8").splitlines(True)[:13]))
    evaluated = evaluate_archive(str(folder), str(test_slice))
    assert evaluated["accuracy"] == pytest.approx(metrics["test"]["accuracy"])  # the same 12 pairs
    inputs = tmp_path / "pairs.jsonl"
    inputs.write_text('{"premise": "A man is sleeping.", "hypothesis": "Nobody sleeps."}\n'
                      '{"premise": "Two dogs run.", "hypothesis": "Animals move."}\n')
    assert main(["task", "predict", str(folder), str(inputs)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["hypothesis"] for line in lines] == [["Nobody", "sleeps", "."], ["Animals", "move", "."]]
    assert all(line["label"] in ("entailment", "neutral", "contradiction") for line in lines)
    text = tmp_path / "sentences.txt"
    text.write_text("just one sentence\n")
    assert main(["task", "predict", str(folder), str(text), "--text"]) == 2
    assert "a pair classifier reads sentence pairs" in capsys.readouterr().err

