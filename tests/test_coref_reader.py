"""CoNLL-2012 coreference reading (hand-made files and real OntoGUM documents), its errors,
and the writer's round trip."""
import logging
from pathlib import Path

import pytest

from torchelmo.errors import InputError
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.coreference.reader import Conll2012ReaderConfig, read_conll2012
from torchelmo.tasks.coreference.writer import chain_columns, format_document
from torchelmo.tasks.sources import read_source

GUM = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gum"
ONTOGUM = Conll2012ReaderConfig(token_column=1, sentences=str(GUM / "dep" / "{name}.conllu"))

CONLL_2012 = """\
#begin document (bc/test/00/doc_0); part 000
bc/test/00/doc_0   0   0   John     NNP   (TOP(S(NP*)   -  -  -  Speaker#1  *  (0)
bc/test/00/doc_0   0   1   met      VBD   (VP*          -  -  -  Speaker#1  *  -
bc/test/00/doc_0   0   2   his      PRP$  (NP(NP*)      -  -  -  Speaker#1  *  (1|(0)
bc/test/00/doc_0   0   3   sister   NN    *)))          -  -  -  Speaker#1  *  1)
bc/test/00/doc_0   0   4   .        .     *))           -  -  -  Speaker#1  *  -

bc/test/00/doc_0   0   0   She      PRP   (TOP(S(NP*)   -  -  -  Speaker#1  *  (1)
bc/test/00/doc_0   0   1   smiled   VBD   (VP*)         -  -  -  Speaker#1  *  -
bc/test/00/doc_0   0   2   .        .     *))           -  -  -  Speaker#1  *  -

#end document
#begin document (bc/test/00/doc_0); part 001
bc/test/00/doc_0   1   0   Its      PRP$  *   -  -  -  Speaker#1  *  (2(3)
bc/test/00/doc_0   1   1   price    NN    *   -  -  -  Speaker#1  *  2)
bc/test/00/doc_0   1   2   rose     VBD   *   -  -  -  Speaker#1  *  -
#end document
"""


def write(tmp_path: Path, text: str, name: str = "doc.conll") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_documents_sentences_and_chains(tmp_path):
    first, second = read_conll2012(write(tmp_path, CONLL_2012), Conll2012ReaderConfig())
    assert first.tokens == ["John", "met", "his", "sister", ".", "She", "smiled", "."]
    assert first.sentence_lengths == [5, 3] and (first.name, first.part) == ("bc/test/00/doc_0", "000")
    # chain 0: John, his; chain 1: his sister, She
    assert first.clusters == [[(0, 0), (2, 2)], [(2, 3), (5, 5)]]
    assert first.source.endswith("doc.conll:1")
    # "(2(3)" opens chain 2 and is a one-token mention of chain 3 (kept although alone)
    assert second.part == "001" and second.sentence_lengths == [3]
    assert second.clusters == [[(0, 0)], [(0, 1)]]


def test_ontogum_columns_joined_brackets_and_nesting(tmp_path):
    text = "# begin document \n0\tThe\t(7(4\n1\tcat\t_\n2\tsat\t4)\n3\ton\t_\n4\tit\t(4)7)\n# end document\n"
    (document,) = read_conll2012(write(tmp_path, text, "GUM_x.conll"), Conll2012ReaderConfig(token_column=1))
    assert document.name == "GUM_x" and document.sentence_lengths == [5]  # no blank lines: one sentence
    assert document.clusters == [[(0, 2), (4, 4)], [(0, 4)]]


@pytest.mark.parametrize("text, message", [
    ("#begin document (d); part 000\nd 0 0 a 1)\n#end document\n", r"doc\.conll:2: chain '1' closed but never opened"),
    ("#begin document (d); part 000\nd 0 0 a (1\nd 0 1 b -\n#end document\n",
     r"doc\.conll:2: chain '1' opened but not closed"),
    ("d 0 0 a -\n", r"doc\.conll:1: word outside"),
    ("#begin document (d); part 000\nd 0 0 a ((1\n#end document\n", r"doc\.conll:2: cannot parse coreference '\(\(1'"),
    ("#begin document (d); part 000\nd 0 0\n#end document\n", r"doc\.conll:2: expected the word in column 3"),
    ("#begin document (d); part 000\nd 0 0 a -\n", r"doc\.conll:1: document not ended"),
    ("#begin document (d); part 000\n#end document\n", r"doc\.conll:1: document 'd' has no words"),
    ("#begin document (d); part 000\nd\t0\t0\t\t-\n#end document\n", r"doc\.conll:2: empty word"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        list(read_conll2012(write(tmp_path, text), Conll2012ReaderConfig()))


def test_unmatched_brackets_can_be_skipped_with_a_warning(tmp_path, caplog):
    text = "#begin document (d); part 000\nd 0 0 a (1)\nd 0 1 b 2)\nd 0 2 c (1)\n#end document\n"
    with caplog.at_level(logging.WARNING):
        (document,) = read_conll2012(write(tmp_path, text), Conll2012ReaderConfig(unmatched_brackets="skip"))
    assert document.clusters == [[(0, 0), (2, 2)]]
    assert "doc.conll:3: chain '2' closed but never opened; dropped" in caplog.text


def test_real_ontogum_document_with_sentences_from_conllu():
    (document,) = read_conll2012(str(GUM / "coref-ontogum" / "GUM_news_nasa.conll"), ONTOGUM)
    conllu = (GUM / "dep" / "GUM_news_nasa.conllu").read_text(encoding="utf-8")
    assert len(document.sentence_lengths) == conllu.count("# sent_id")
    assert sum(document.sentence_lengths) == len(document.tokens) == 1266
    # from the file: "0 NASA (1)", "21 NASA (5(1)", "24 Bolden 5)", "63 NASA (1)", "67 NASA (1)"
    nasa = next(c for c in document.clusters if (0, 0) in c)
    assert {(21, 21), (63, 63), (67, 67)} <= set(nasa)
    assert any((21, 24) in c for c in document.clusters)
    assert document.tokens[21:25] == ["NASA", "Administrator", "Charles", "Bolden"]


def test_sentence_file_words_must_match(tmp_path, caplog):
    # OntoGUM lost one word of GUM_news_iodine (an empty field); the CoNLL-U file has it
    with caplog.at_level(logging.WARNING):
        (document,) = read_conll2012(str(GUM / "coref-ontogum" / "GUM_news_iodine.conll"), ONTOGUM)
    assert document.tokens[379] == "|" and "empty word; taking '|'" in caplog.text
    text = (GUM / "coref-ontogum" / "GUM_news_nasa.conll").read_text(encoding="utf-8")
    sentences = Conll2012ReaderConfig(token_column=1, sentences=str(GUM / "dep" / "GUM_news_nasa.conllu"))
    with pytest.raises(InputError, match=r"doc\.conll:3: word 'celebrate' is 'celebrates'"):
        list(read_conll2012(write(tmp_path, text.replace("celebrates", "celebrate", 1)), sentences))
    with pytest.raises(InputError, match="1265 words, but .* has 1266"):
        list(read_conll2012(write(tmp_path, text.replace("1\tcelebrates\t_\n", "", 1)), sentences))
    with pytest.raises(InputError, match="no sentence file"):
        list(read_conll2012(write(tmp_path, text), Conll2012ReaderConfig(token_column=1, sentences="none/{name}.x")))


def test_gum_test_split_matches_the_data_readme():
    source = SourceConfig(path=str(GUM / "coref-ontogum" / "*.conll"), split_file=str(GUM / "splits.json"),
                          split="test")
    documents = read_source(source, ONTOGUM)
    assert len(documents) == 26  # README: test 1,285 sentences / 23,991 tokens
    assert sum(len(d.sentence_lengths) for d in documents) == 1285
    assert sum(len(d.tokens) for d in documents) == 23991


def test_writer_round_trip(tmp_path):
    (document,) = read_conll2012(str(GUM / "coref-ontogum" / "GUM_news_nasa.conll"), ONTOGUM)
    path = write(tmp_path, format_document(document, document.clusters), "out.conll")
    (again,) = read_conll2012(path, Conll2012ReaderConfig())
    assert again.tokens == document.tokens and again.sentence_lengths == document.sentence_lengths
    assert again.clusters == document.clusters and (again.name, again.part) == ("GUM_news_nasa", "000")


def test_chain_columns_nest_outer_around_inner():
    # chain 0: tokens 0-2 with tokens 1-1 inside; chain 1: tokens 1-2 ending with chain 0's outer one
    assert chain_columns(4, [[(0, 2), (1, 1)], [(1, 2)]]) == ["(0", "(1|(0)", "1)|0)", "-"]
