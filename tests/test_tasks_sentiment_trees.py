"""The sentiment-tree reader (SST): root labels, every phrase, SST-2 labels, file:line errors;
and a per-split reader (train on phrases, score sentences)."""
from pathlib import Path

import pytest

from torchelmo.errors import InputError
from torchelmo.tasks import parse_config
from torchelmo.tasks.readers.sentiment_trees import SentimentTreeReaderConfig
from torchelmo.tasks.registry import reader_for
from torchelmo.tasks.sources import read_source

SST = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sst"
TREES = "(3 (2 It) (4 (2 's) (4 good)))\n\n(1 (2 8\u00a01\\/2) (0 bad))\n(2 (2 Just) (2 fine))\n"


def read(path, **settings):
    return list(reader_for("sentiment_trees")(str(path), SentimentTreeReaderConfig(**settings)))


def test_root_labels_are_the_sentence_labels(tmp_path):
    path = tmp_path / "trees.txt"
    path.write_text(TREES, encoding="utf-8")
    instances = read(path)
    assert [(x.tokens, x.label) for x in instances] == [
        (["It", "'s", "good"], "3"), (["8\u00a01\\/2", "bad"], "1"), (["Just", "fine"], "2")]
    assert instances[1].source == f"{path}:3"
    binary = read(path, labels="binary")
    assert [(x.tokens, x.label) for x in binary] == [(["It", "'s", "good"], "positive"),
                                                     (["8\u00a01\\/2", "bad"], "negative")]


def test_every_labelled_phrase_with_subtrees(tmp_path):
    path = tmp_path / "trees.txt"
    path.write_text(TREES, encoding="utf-8")
    phrases = [(x.tokens, x.label) for x in read(path, phrases=True)]
    assert phrases[:5] == [(["It", "'s", "good"], "3"), (["It"], "2"), (["'s", "good"], "4"), (["'s"], "2"),
                           (["good"], "4")]
    assert len(phrases) == 5 + 3 + 3
    binary = [(x.tokens, x.label) for x in read(path, phrases=True, labels="binary")]
    assert binary == [(["It", "'s", "good"], "positive"), (["'s", "good"], "positive"), (["good"], "positive"),
                      (["8\u00a01\\/2", "bad"], "negative"), (["bad"], "negative")]


@pytest.mark.parametrize("line, message", [
    ("(3 (2 It) (4 good)", "expected ')' closing a (3 node, got the end of the line"),
    ("(3 (2 It) (4 good)))", "text after the tree's closing bracket"),
    ("(7 (2 It) (4 good))", "expected a sentiment label 0-4 after '(', got '7'"),
    ("(3 (2 It) (4))", "a (4 node has no words"),
    ("3 (2 It)", "expected '(' at atom 1, got '3'"),
    ("(3 (2 It too) (4 good))", "expected ')' closing a (2 node, got 'too'"),
])
def test_malformed_trees_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.txt"
    path.write_text("(2 (2 Fine) (2 .))\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"bad\.txt:2: "):
        read(path)
    with pytest.raises(InputError) as caught:
        read(path)
    assert message in str(caught.value)


def test_the_shipped_treebank_and_a_phrase_trained_split():
    config = parse_config({
        "data": {"reader": {"type": "sentiment_trees"},
                 "train": {"path": str(SST / "dev.txt"), "reader": {"type": "sentiment_trees", "phrases": True}},
                 "validation": {"path": str(SST / "dev.txt")}},
        "model": {"type": "classifier", "embedders": {"words": {"dim": 8}}}})
    sentences = read_source(config.data.validation, config.data.reader)
    phrases = read_source(config.data.train, config.data.reader)
    assert len(sentences) == 1101  # the SST dev set
    assert len(phrases) > 30 * len(sentences) and {x.label for x in phrases} == {"0", "1", "2", "3", "4"}
    assert len(read(SST / "dev.txt", labels="binary")) == 872  # the SST-2 dev set
