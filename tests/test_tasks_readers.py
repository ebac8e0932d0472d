"""Dataset readers and split selection, on slices of the real shared data and small
hand-written files for the formats that have no real data here."""
import json
from pathlib import Path

import pytest

from torchelmo.errors import ConfigurationError, InputError
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.readers.classification import ClassificationReaderConfig
from torchelmo.tasks.readers.columns import ColumnsReaderConfig
from torchelmo.tasks.readers.conllu import ConlluReaderConfig, read_conllu
from torchelmo.tasks.readers.entities import EntityBrackets
from torchelmo.tasks.sources import read_source, source_files

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
EWT_DEV = str(DATA / "ud-english-ewt" / "en_ewt-ud-dev.conllu")
GUM = str(DATA / "gum" / "dep" / "*.conllu")
GUM_SPLITS = str(DATA / "gum" / "splits.json")


def test_conllu_reads_words_heads_and_tags_of_ewt():
    sentences = read_source(SourceConfig(path=EWT_DEV, limit=30), ConlluReaderConfig(tags="xpos"))
    assert len(sentences) == 30
    for sentence in sentences:
        n = len(sentence.tokens)
        assert len(sentence.tags) == len(sentence.heads) == len(sentence.relations) == len(sentence.pos) == n
        assert sum(h == 0 for h in sentence.heads) == 1 and all(0 <= h <= n for h in sentence.heads)
    assert sentences[0].source == f"{EWT_DEV}:{_first_token_line(EWT_DEV)}"
    assert "NN" in {t for s in sentences for t in s.tags}  # XPOS holds PTB tags


def _first_token_line(path):
    with open(path, encoding="utf-8") as f:
        return next(i for i, line in enumerate(f, 1) if line[:1].isdigit())


def test_conllu_skips_multiword_tokens():
    # EWT dev writes "didn't" as a range line 29-30 over the words "did" and "n't".
    sentences = read_source(SourceConfig(path=EWT_DEV), ConlluReaderConfig())
    with_range = [s for s in sentences if "n't" in s.tokens and "did" in s.tokens]
    assert with_range and not any("didn't" in s.tokens for s in sentences)


def test_conllu_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = a b\n1\ta\ta\tX\tX\t_\t0\troot\t_\t_\n2\tb\tb\tX\n")
    with pytest.raises(InputError, match=r"bad\.conllu:3: expected 10 tab-separated"):
        list(read_conllu(str(bad), ConlluReaderConfig()))


def test_gum_entities_become_bio_of_the_outermost_mentions():
    # GUM_news_iodine sentence 1: "Australian children" is a person (brackets (1- ... 1));
    # "iodine deficiency" an abstract entity containing the substance "iodine".
    path = str(DATA / "gum" / "dep" / "GUM_news_iodine.conllu")
    first = next(read_conllu(path, ConlluReaderConfig(tags="entity")))
    assert first.tokens == ["Australian", "children", "suffering", "from", "iodine", "deficiency"]
    assert first.tags == ["B-person", "I-person", "O", "O", "B-abstract", "I-abstract"]


def test_entity_brackets_by_hand():
    brackets = EntityBrackets("x")
    for i, value in enumerate(["(1-person-new", "1)", "", "(2-place-x(3-time-y)", "2)"]):
        brackets.add_token(i, value, i + 1)
    assert brackets.bio_tags(5) == ["B-person", "I-person", "O", "B-place", "I-place"]
    unclosed = EntityBrackets("f.conllu")
    unclosed.add_token(0, "(7-event-new", 12)
    with pytest.raises(InputError, match=r"f\.conllu:12: entity opened but not closed"):
        unclosed.bio_tags(1)
    stray = EntityBrackets("f.conllu")
    with pytest.raises(InputError, match=r"f\.conllu:3: entity '9' closed but never opened"):
        stray.add_token(0, "9)", 3)


def test_gum_split_file_selects_documents():
    splits = json.loads(Path(GUM_SPLITS).read_text())
    dev = source_files(SourceConfig(path=GUM, split_file=GUM_SPLITS, split="dev"))
    train = source_files(SourceConfig(path=GUM, split_file=GUM_SPLITS, split="train"))
    everything = source_files(SourceConfig(path=GUM))
    assert sorted(Path(f).stem for f in dev) == sorted(splits["dev"])
    assert len(train) == len(everything) - len(splits["dev"]) - len(splits["test"])
    assert not {Path(f).stem for f in train} & (set(splits["dev"]) | set(splits["test"]))
    with pytest.raises(ConfigurationError, match="no such data file"):
        source_files(SourceConfig(path=str(DATA / "missing" / "*.conllu")))


def test_folds_and_limit_select_by_position():
    every = read_source(SourceConfig(path=EWT_DEV, limit=20), ConlluReaderConfig())
    fold = read_source(SourceConfig(path=EWT_DEV, num_folds=4, folds=[1, 3], limit=5), ConlluReaderConfig())
    assert [s.tokens for s in fold] == [every[i].tokens for i in (1, 3, 5, 7, 9)]


def test_columns_reader_with_predicate_indicator(tmp_path):
    # SRL as BIO tagging, one predicate per sentence (no real SRL data is available here).
    path = tmp_path / "srl.txt"
    path.write_text("-DOCSTART- -X- O\n\nThe - B-A0\ncat - I-A0\nate ate B-V\nfish - B-A1\n\n"
                    "# comment\nIt - B-A0\nrains rain B-V\n")
    sentences = list(read_source(SourceConfig(path=str(path)),
                                 ColumnsReaderConfig(token_column=0, tag_column=2, predicate_column=1)))
    assert [s.tokens for s in sentences] == [["The", "cat", "ate", "fish"], ["It", "rains"]]
    assert [s.predicate for s in sentences] == [2, 1]
    assert sentences[0].tags == ["B-A0", "I-A0", "B-V", "B-A1"]
    path.write_text("a - O\nb - O\n")
    with pytest.raises(InputError, match=r"srl\.txt:1: expected one predicate"):
        list(read_source(SourceConfig(path=str(path)), ColumnsReaderConfig(predicate_column=1)))
    path.write_text("a O\nb\n")
    with pytest.raises(InputError, match=r"srl\.txt:2: tag_column 1 does not exist in a line of 1 columns"):
        list(read_source(SourceConfig(path=str(path)), ColumnsReaderConfig(tag_column=1)))


@pytest.mark.parametrize("fmt, text", [
    ("tsv", "pos\tgood film .\nneg\tbad , bad film\n"),
    ("jsonl", '{"label": "pos", "text": "good film ."}\n{"label": "neg", "text": ["bad", ",", "bad", "film"]}\n'),
    ("csv", '"pos","good film ."\n"neg","bad , bad\nfilm"\n'),
])
def test_classification_formats(tmp_path, fmt, text):
    path = tmp_path / f"data.{fmt}"
    path.write_text(text)
    instances = read_source(SourceConfig(path=str(path)), ClassificationReaderConfig(format=fmt))
    assert [(x.label, x.tokens) for x in instances] == [("pos", ["good", "film", "."]),
                                                         ("neg", ["bad", ",", "bad", "film"])]
    assert instances[1].source.endswith(":2")


def test_classification_errors_name_file_and_line(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("pos\tfine\nno tab here\n")
    with pytest.raises(InputError, match=r"data\.tsv:2: expected 'label<TAB>text'"):
        read_source(SourceConfig(path=str(path)), ClassificationReaderConfig())
    path.write_text('{"label": "pos"}\n')
    with pytest.raises(InputError, match=r"data\.tsv:1: expected an object with 'text'"):
        read_source(SourceConfig(path=str(path)), ClassificationReaderConfig(format="jsonl"))
