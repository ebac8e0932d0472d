"""Semantic role labelling: the PropBank reader (brackets -> BIO, one instance per predicate),
the CoNLL-2005 argument F1 worked by hand, BIO-constrained Viterbi against brute force, and
a tiny train / evaluate / predict run on real PropBank EWT sentences."""
import itertools
import json
from pathlib import Path

import pytest
import torch

from torchelmo.errors import ConfigurationError, InputError
from torchelmo.tasks import evaluate_archive, parse_config, predict_archive, train
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.crf import bio_transitions, transition_penalties, viterbi
from torchelmo.tasks.instance import Instance
from torchelmo.tasks.metrics import srl_arguments, srl_f1
from torchelmo.tasks.readers.propbank import PropbankReaderConfig
from torchelmo.tasks.sources import read_source

PROPBANK = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "propbank-ewt"
TINY = {"hidden_size": 8, "num_layers": 2, "dropout": 0.0}


def columns(rows):
    """CoNLL-2012 lines from (word, POS, lemma, roleset, *argument cells)."""
    return "".join("\t".join(["doc", "0", str(i), word, pos, "*", lemma, roleset, *cells]) + "\n"
                   for i, (word, pos, lemma, roleset, *cells) in enumerate(rows))


SAMPLE = ("# sent_id = one\n" + columns([
    ("The", "DT", "-", "-", "(ARG1*", "(ARG0*"),
    ("cat", "NN", "-", "-", "*)", "*"),
    ("that", "WDT", "-", "-", "(R-ARG1*)", "*"),
    ("John", "NNP", "-", "-", "(ARG0*)", "*"),
    ("saw", "VBD", "see", "see.01", "(V*)", "*)"),
    ("ran", "VBD", "run", "run.02", "*", "(V*"),
    ("away", "RB", "-", "-", "*", "*)"),
    (".", ".", "-", "-", "*", "*"),
]) + "\n# sent_id = two\n" + columns([
    ("His", "PRP$", "-", "-", "(ARG0*)", "(ARG1*"),
    ("decision", "NN", "decide", "decide.01", "(V*)", "*)"),
    (",", ",", "-", "-", "*", "*"),
    ("he", "PRP", "-", "-", "*", "(ARG0*)"),
    ("said", "VBD", "say", "say.01", "*", "(V*)"),
    (",", ",", "-", "-", "*", "*"),
    ("was", "VBD", "-", "-", "*", "(C-ARG1*"),
    ("final", "JJ", "-", "-", "*", "*)"),
    (".", ".", "-", "-", "*", "*"),
]))
SAID_GOLD = ["B-ARG1", "I-ARG1", "O", "B-ARG0", "B-V", "O", "B-C-ARG1", "I-C-ARG1", "O"]


def read(path):
    return read_source(SourceConfig(path=str(path)), PropbankReaderConfig())


def test_one_instance_per_predicate_with_bio_roles(tmp_path):
    path = tmp_path / "sample.gold_conll"
    path.write_text(SAMPLE)
    instances = read(path)
    assert [x.predicate for x in instances] == [4, 5, 1, 4]
    assert [x.source.rsplit(":", 1)[1] for x in instances] == ["6", "7", "13", "16"]  # the predicate's line
    assert instances[0].tags == ["B-ARG1", "I-ARG1", "B-R-ARG1", "B-ARG0", "B-V", "O", "O", "O"]
    assert instances[1].tags == ["B-ARG0", "I-ARG0", "I-ARG0", "I-ARG0", "I-ARG0", "B-V", "I-V", "O"]
    assert instances[2].tags == ["B-ARG0", "B-V"] + ["O"] * 7
    assert instances[3].tags == SAID_GOLD
    assert instances[2].pos[1] == "NN" and instances[3].pos[4] == "VBD"
    assert instances[0].tokens == ["The", "cat", "that", "John", "saw", "ran", "away", "."]


@pytest.mark.parametrize("cell_a, cell_b, message", [
    ("(ARG0*", "*", r"sample\.gold_conll:2: argument 'ARG0' opened but not closed"),
    ("*", "*)", r"sample\.gold_conll:3: argument closed but never opened"),
    ("(ARG0*", "(ARG1*))", r"sample\.gold_conll:3: argument 'ARG1' opens inside another one"),
    ("(ARG0(ARG1*", "*))", r"sample\.gold_conll:2: argument 'ARG1' opens inside another one"),
    ("ARG0", "*", r"sample\.gold_conll:2: cannot read argument brackets 'ARG0'"),
])
def test_unbalanced_or_malformed_brackets_name_the_line(tmp_path, cell_a, cell_b, message):
    path = tmp_path / "sample.gold_conll"
    path.write_text("# sent_id = x\n" + columns([("a", "NN", "-", "-", cell_a), ("b", "VB", "b", "b.01", cell_b)]))
    with pytest.raises(InputError, match=message):
        read(path)


def test_malformed_columns_name_the_line(tmp_path):
    path = tmp_path / "sample.gold_conll"
    good = columns([("a", "NN", "-", "-", "(ARG0*)"), ("b", "VB", "b", "b.01", "(V*)")])
    path.write_text(good + "\n" + good.replace("(V*)", "(V*)\textra", 1))
    with pytest.raises(InputError, match=r"sample\.gold_conll:5: 10 columns, but the sentence's first line has 9"):
        read(path)
    path.write_text("doc\t0\t0\ta\tNN\n")
    with pytest.raises(InputError, match=r"sample\.gold_conll:1: expected at least 8 tab-separated columns"):
        read(path)
    path.write_text(columns([("a", "NN", "-", "-", "(ARG0*)"), ("b", "VB", "-", "-", "(V*)")]))
    with pytest.raises(InputError, match=r"sample\.gold_conll:1: 0 token\(s\) with a roleset but 1 argument column"):
        read(path)


def test_real_propbank_ewt_predicates_match_the_data_readme():
    counts = {split: read(PROPBANK / f"ewt.{split}.gold_conll") for split in ("dev", "test")}
    assert [len(counts["dev"]), len(counts["test"])] == [4913, 4795]
    roles = {tag[2:] for x in counts["dev"] + counts["test"] for tag in x.tags if tag != "O"}
    assert {"ARG0", "ARGM-TMP", "C-ARG1", "R-ARG0", "V"} <= roles
    assert all(x.tags[x.predicate] in ("B-V", "I-V", "B-C-V", "I-C-V") for x in counts["dev"])


def test_conll2005_scoring_worked_by_hand():
    assert srl_arguments(SAID_GOLD) == {("ARG1", ((0, 1), (6, 7))), ("ARG0", ((3, 3),))}  # V left out
    head_only = ["B-ARG1", "I-ARG1", "O", "B-ARG0", "B-V", "O", "O", "O", "O"]  # misses the C-ARG1 piece
    moved_verb = ["B-ARG1", "I-ARG1", "O", "B-ARG0", "O", "O", "B-C-ARG1", "I-C-ARG1", "B-V"]  # V is not scored
    # 4 gold arguments, 4 predicted, 3 right: ARG1 as one piece is wrong, the rest right.
    scores = srl_f1([head_only, moved_verb], [SAID_GOLD, SAID_GOLD])
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.75
    assert scores["f1-ARG1"] == 0.5 and scores["f1-ARG0"] == 1.0
    assert "f1-V" not in scores and "f1-C-ARG1" not in scores
    # A C-X with no X before it is an X argument; R-X is a role of its own.
    assert srl_f1([["B-C-ARG2", "B-V"]], [["B-ARG2", "B-V"]])["f1"] == 1.0
    reference = srl_f1([["B-ARG1", "B-V"]], [["B-R-ARG1", "B-V"]])
    assert reference["f1"] == 0.0 and reference["f1-R-ARG1"] == 0.0 and reference["f1-ARG1"] == 0.0
    # A predicate with no arguments but V counts nothing either way.
    assert srl_f1([["O", "B-V"]], [["O", "B-V"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_bio_constrained_viterbi_is_the_best_valid_sequence():
    labels = ["B-A", "I-A", "B-V", "O"]
    transitions, start, end = transition_penalties(bio_transitions(labels))
    generator = torch.Generator().manual_seed(0)
    emissions = torch.randn(3, 4, len(labels), generator=generator).log_softmax(dim=-1)
    emissions[0, 0, 1] = 5.0  # the unconstrained best would start with I-A
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool)
    paths = viterbi(emissions, mask, transitions, start, end)

    def valid(path):
        return all(labels[t] != "I-A" or (i and labels[path[i - 1]] in ("B-A", "I-A")) for i, t in enumerate(path))

    for row, path in enumerate(paths):
        n = int(mask[row].sum())
        best = max((p for p in itertools.product(range(len(labels)), repeat=n) if valid(p)),
                   key=lambda p: sum(float(emissions[row, i, t]) for i, t in enumerate(p)))
        assert tuple(path) == best
    assert labels[paths[0][0]] != "I-A"


def block_slice(source: Path, sentences: int, target: Path) -> str:
    """The first ``sentences`` sentences of a real PropBank file, copied to ``target``."""
    blocks = source.read_text(encoding="utf-8").split("\n\n")[:sentences]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return str(target)


@pytest.mark.parametrize("with_elmo", [False, True])
def test_srl_tagger_trains_evaluates_and_predicts(tmp_path, with_elmo, options_file, weight_file):
    train_file = block_slice(PROPBANK / "ewt.train.gold_conll", 20, tmp_path / "train.gold_conll")
    dev_file = block_slice(PROPBANK / "ewt.dev.gold_conll", 8, tmp_path / "dev.gold_conll")
    embedders = {"words": {"dim": 8}}
    if with_elmo:
        embedders["elmo"] = {"options_file": options_file, "weight_file": weight_file, "dropout": 0.0}
    config = parse_config({
        "data": {"reader": {"type": "propbank"}, "train": {"path": train_file}, "validation": {"path": dev_file}},
        "model": {"type": "tagger", "decoder": "viterbi", "tag_scheme": "srl", "predicate_dim": 4,
                  "encoder": TINY, "embedders": embedders},
        "trainer": {"epochs": 2, "batch_size": 16, "patience": 2, "optimizer": {"lr": 0.01}}})
    folder = tmp_path / "run"
    train(config, str(folder))
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["validation_metric"] == "f1"
    assert {"precision", "recall", "f1", "verbal_f1", "verbal_precision", "verbal_recall"} <= set(metrics["validation"])
    evaluated = evaluate_archive(str(folder), dev_file)
    dev = read(dev_file)
    assert evaluated["verbal_predicates"] == sum(x.pos[x.predicate].startswith("VB") for x in dev) < len(dev)
    assert evaluated["f1"] == pytest.approx(metrics["validation"]["f1"])
    output = tmp_path / "predicted.jsonl"
    assert predict_archive(str(folder), dev_file, str(output)) == len(dev)
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["source"] for r in records] == [x.source for x in dev]
    assert all(not tag.startswith("I-") or (i and r["tags"][i - 1][2:] == tag[2:])  # Viterbi keeps BIO valid
               for r in records for i, tag in enumerate(r["tags"]))


def test_srl_scores_split_verbal_predicates():
    config = parse_config({"data": {"reader": {"type": "propbank"}, "train": {"path": "x"}, "validation": {"path": "x"}},
                           "model": {"type": "tagger", "tag_scheme": "srl", "predicate_dim": 2, "encoder": TINY,
                                     "embedders": {"words": {"dim": 4}}}})
    from torchelmo.tasks.archive import build_model
    from torchelmo.tasks.vocabulary import TaskVocabulary
    model = build_model(config, {"labels": TaskVocabulary.of_labels(["B-ARG0", "B-V", "O"]),
                                 "words": TaskVocabulary.of_words(["a"])})
    noun = Instance(tokens=["a", "b"], tags=["B-ARG0", "B-V"], pos=["DT", "NN"], predicate=1)
    verb = Instance(tokens=["a", "b"], tags=["B-ARG0", "B-V"], pos=["DT", "VBZ"], predicate=1)
    scores = model.score([{"tags": ["O", "B-V"]}, {"tags": ["B-ARG0", "B-V"]}], [noun, verb])
    assert scores["f1"] == pytest.approx(2 / 3) and scores["verbal_f1"] == 1.0 and scores["verbal_predicates"] == 1


def test_srl_config_rules_name_the_key():
    data = {"data": {"reader": {"type": "propbank"}, "train": {"path": "x"}, "validation": {"path": "x"}},
            "model": {"type": "tagger", "decoder": "viterbi", "embedders": {"words": {"dim": 4}}}}
    with pytest.raises(ConfigurationError, match=r"model\.decoder: 'viterbi' constrains BIO tags"):
        parse_config(data)
    data["model"]["tag_scheme"] = "srl"
    data["model"]["predicate_dim"] = 4
    assert parse_config(data).model.predicate_dim == 4  # the propbank reader marks the predicate
