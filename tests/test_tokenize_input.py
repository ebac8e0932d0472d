"""Raw-text input (``torchelmo embed --tokenize``, ``embed_file(tokenize=True)``): lines are
tokenized by spaCy's English rules, ``sentence_to_index`` keeps the lines, datasets keep their tokens."""
import json
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_embed_job import ENV, interrupted_run, listing
from torchelmo import ElmoEmbedder, InputError
from torchelmo.embed_job import EmbedSettings, embed_shard, merge_segments, run_embedding_job
from torchelmo.errors import ResumeError
from torchelmo.sentences import InputPolicy, open_sentence_file
from torchelmo.tokenizer import tokenize

# Raw lines and spaCy's tokens for them (its English tokenizer exceptions and punctuation rules).
RAW = {
    "Don't stop, Mr. Smith!": ["Do", "n't", "stop", ",", "Mr.", "Smith", "!"],
    "  Hello,   world!  ": ["Hello", ",", "world", "!"],
    "naïve café — “quotes” 🙂": ["naïve", "café", "—", "“", "quotes", "”", "🙂"],
    "She paid $3.50 (cash).": ["She", "paid", "$", "3.50", "(", "cash", ")", "."],
}


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def tokens_of(path):
    """``{key: (tokens, token_offsets)}`` of every sentence dataset, read by plain h5py."""
    with h5py.File(path, "r") as f:
        return {k: (list(f[k].attrs["tokens"]), f[k].attrs["token_offsets"].tolist())
                for k in f if k != "sentence_to_index"}


def vectors_of(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in f if k != "sentence_to_index"}


def index_of(path):
    with h5py.File(path, "r") as f:
        return json.loads(f["sentence_to_index"][0])


def test_cli_tokenizes_stdin_keeps_the_lines_and_records_tokens(options_file, weight_file, tmp_path):
    output = tmp_path / "out.hdf5"
    spool = tmp_path / "spool"
    spool.mkdir()
    result = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", "-", str(output), "--top",
                             "--tokenize", "--options-file", options_file, "--weight-file", weight_file],
                            input="\r\n".join(RAW).encode("utf-8"), capture_output=True,
                            env={**ENV, "TMPDIR": str(spool)})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.strip() for line in RAW]
    assert index_of(output) == {line: str(i) for i, line in enumerate(lines)}
    found = tokens_of(output)
    for i, (line, expected) in enumerate(zip(lines, RAW.values())):
        tokens, offsets = found[str(i)]
        assert tokens == expected
        assert [line[start:end] for start, end in offsets] == expected
    with h5py.File(output, "r") as f:
        assert f["2"].shape[0] == 7 and f.attrs["torchelmo_tokenizer"].startswith("spacy ")
    assert list(spool.iterdir()) == []  # the spooled input and the tokens file are gone


def test_vectors_equal_embedding_the_same_tokens_pretokenized(options_file, weight_file, tmp_path):
    lines = list(RAW) * 3
    raw = write(tmp_path / "raw.txt", lines)
    split = write(tmp_path / "split.txt", [" ".join(RAW[line]) for line in lines])
    ElmoEmbedder(options_file, weight_file).embed_file(raw, tmp_path / "raw.hdf5", batch_size=5, tokenize=True,
                                                       progress=False)
    ElmoEmbedder(options_file, weight_file).embed_file(split, tmp_path / "split.hdf5", batch_size=5,
                                                       progress=False)
    tokenized, pretokenized = vectors_of(tmp_path / "raw.hdf5"), vectors_of(tmp_path / "split.hdf5")
    assert tokenized.keys() == pretokenized.keys() and len(tokenized) == 12
    for key in tokenized:
        assert np.array_equal(tokenized[key], pretokenized[key]), key


def test_default_layout_is_unchanged(options_file, weight_file, tmp_path):
    source = write(tmp_path / "in.txt", ["Don't stop , Mr. Smith !", "a b"])
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "out.hdf5", progress=False)
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        assert sorted(f) == ["0", "1", "sentence_to_index"] and f["0"].shape[1] == 6
        assert dict(f["0"].attrs) == {} and f.attrs["torchelmo_tokenizer"] == "whitespace"
    with open(tmp_path / "out.hdf5", "rb") as f:
        assert f.read(9)[8] == 0  # superblock version 0: the format h5py writes by default


def test_sentence_keys_are_the_original_lines(options_file, weight_file, tmp_path):
    source = write(tmp_path / "in.txt", RAW)
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "out.hdf5", use_sentence_keys=True,
                                                       tokenize=True, progress=False)
    found = tokens_of(tmp_path / "out.hdf5")
    assert found.keys() == {line.strip() for line in RAW}
    assert found["Don't stop, Mr. Smith!"][0] == RAW["Don't stop, Mr. Smith!"]
    write(tmp_path / "slash.txt", ["either and/or"])
    with pytest.raises(InputError, match="line 1 contains '/'"):
        ElmoEmbedder(options_file, weight_file).embed_file(str(tmp_path / "slash.txt"), tmp_path / "s.hdf5",
                                                           use_sentence_keys=True, tokenize=True, progress=False)
    write(tmp_path / "nul.txt", ["a", "a\x00b"])  # HDF5 would name both datasets "a"
    with pytest.raises(InputError, match="line 2 contains a NUL character"):
        ElmoEmbedder(options_file, weight_file).embed_file(str(tmp_path / "nul.txt"), tmp_path / "n.hdf5",
                                                           use_sentence_keys=True, progress=False)


def test_blank_lines_and_the_length_limit_count_the_tokenizer_s_tokens(options_file, weight_file, tmp_path):
    source = write(tmp_path / "in.txt", ["Hi, you!", " \t ", "Fine."])
    with pytest.raises(InputError, match=r"1 empty line\(s\), at line\(s\) 2"):
        open_sentence_file(source, tokenize=True)
    with pytest.raises(InputError, match="line 1 has 4 tokens, more than the limit of 3"):
        open_sentence_file(source, InputPolicy(blank_lines="skip", max_sentence_length=3), tokenize=True)
    open_sentence_file(source, InputPolicy(blank_lines="skip", max_sentence_length=3)).close()  # 2 words
    nul = write(tmp_path / "nul.txt", ["Fine.", "a\x00b"])
    with pytest.raises(InputError, match=r"1 line\(s\) hold a NUL character .* at line\(s\) 2; remove it"):
        open_sentence_file(nul, tokenize=True)
    open_sentence_file(nul).close()  # without --tokenize no attribute holds the line's text
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "out.hdf5", tokenize=True, progress=False,
                                                       input_policy=InputPolicy(blank_lines="empty"))
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        assert f["1"].shape == (3, 0, f["0"].shape[2]) and list(f["1"].attrs["tokens"]) == []
        assert f["1"].attrs["token_offsets"].shape == (0, 2)
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "skip.hdf5", tokenize=True, progress=False,
                                                       input_policy=InputPolicy(blank_lines="skip"))
    with h5py.File(tmp_path / "skip.hdf5", "r") as f:
        assert "1" not in f and f.attrs["skipped_lines"].tolist() == [1]
        assert list(f["2"].attrs["tokens"]) == ["Fine", "."]


def test_a_line_whose_tokens_exceed_64_kb_of_attributes(options_file, weight_file, tmp_path):
    words = [f"w{i}," for i in range(3000)]  # 6,000 tokens: 96 KB of string references alone
    source = write(tmp_path / "in.txt", [" ".join(words), "Short."])
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "out.hdf5", output_format="top",
                                                       tokenize=True, progress=False,
                                                       input_policy=InputPolicy(max_sentence_length=0))
    tokens, offsets = tokens_of(tmp_path / "out.hdf5")["0"]
    assert len(tokens) == 6000 and tokens[-2:] == ["w2999", ","] and offsets[-1][1] == len(" ".join(words))
    assert vectors_of(tmp_path / "out.hdf5")["0"].shape[0] == 6000


def test_invalid_utf8_is_one_error_line(options_file, weight_file, tmp_path):
    (tmp_path / "in.txt").write_bytes(b"Fine.\nbad \xff byte\n")
    command = [sys.executable, "-m", "torchelmo.cli", "embed", str(tmp_path / "in.txt"), str(tmp_path / "o.hdf5"),
               "--all", "--tokenize", "--options-file", options_file, "--weight-file", weight_file]
    result = subprocess.run(command, capture_output=True, text=True, env=ENV)
    assert result.returncode == 2 and not (tmp_path / "o.hdf5").exists()
    assert result.stderr.strip().splitlines() == [
        f"torchelmo: error: {tmp_path / 'in.txt'}: line 2 is not valid UTF-8 (invalid start byte at byte 4); "
        "use --errors replace or --errors skip"]
    assert subprocess.run(command + ["--errors", "replace"], env=ENV, capture_output=True).returncode == 0
    assert tokens_of(tmp_path / "o.hdf5")["1"][0] == ["bad", "\ufffd", "byte"]


def test_resume_finishes_with_the_same_tokens_and_refuses_another_tokenizer(options_file, weight_file, tmp_path):
    path = write(tmp_path / "in.txt", list(RAW) * 3)
    settings = EmbedSettings(batch_size=2, checkpoint_every=1)
    whole, output = str(tmp_path / "whole.hdf5"), str(tmp_path / "out.hdf5")
    source = open_sentence_file(path, tokenize=True)
    run_embedding_job(ElmoEmbedder(options_file, weight_file), source, whole, settings, progress=False)
    interrupted_run(ElmoEmbedder(options_file, weight_file), source, output, settings, after=1)
    before = listing(tmp_path)
    with pytest.raises(ResumeError, match=r'another tokenizer \("spacy [^"]+" then, "whitespace" now\)'):
        run_embedding_job(ElmoEmbedder(options_file, weight_file), open_sentence_file(path), output, settings,
                          resume=True, progress=False)
    assert listing(tmp_path) == before
    resumed = open_sentence_file(path, tokenize=True)  # a new check: tokenized again, alike
    run_embedding_job(ElmoEmbedder(options_file, weight_file), resumed, output, settings, resume=True,
                      progress=False)
    assert tokens_of(output) == tokens_of(whole) and index_of(output) == index_of(whole)
    got, want = vectors_of(output), vectors_of(whole)
    assert all(np.array_equal(got[k], want[k]) for k in want) and got.keys() == want.keys()
    source.close()
    resumed.close()


def test_sharded_ranks_see_the_same_tokens(options_file, weight_file, tmp_path):
    path = write(tmp_path / "in.txt", list(RAW) * 2)
    settings = EmbedSettings(batch_size=3, checkpoint_every=1)
    single = str(tmp_path / "single.hdf5")
    whole = open_sentence_file(path, tokenize=True)
    run_embedding_job(ElmoEmbedder(options_file, weight_file), whole, single, settings, progress=False)
    whole.close()
    directory = str(tmp_path / "sharded.hdf5.partial")
    (tmp_path / "sharded.hdf5.partial").mkdir()
    sources = [open_sentence_file(path, tokenize=True) for _ in range(2)]  # each rank checks the input itself
    for rank, source in enumerate(sources):
        embed_shard(ElmoEmbedder(options_file, weight_file), source, directory, settings, rank, 2, progress=False)
    merge_segments(sources[0], directory, str(tmp_path / "sharded.hdf5"), settings, 2, {})
    for source in sources:
        source.close()
    assert tokens_of(tmp_path / "sharded.hdf5") == tokens_of(single)
    got, want = vectors_of(tmp_path / "sharded.hdf5"), vectors_of(single)
    assert got.keys() == want.keys() and all(np.allclose(got[k], want[k], atol=1e-5) for k in want)


@pytest.fixture(scope="module")
def zero_state_embedder(options_file, weight_file):
    return ElmoEmbedder(options_file, weight_file, state="zero")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\x00"), max_size=40), min_size=1,
                max_size=5))
def test_any_raw_text_file_keeps_each_line_s_tokens_and_offsets(zero_state_embedder, tmp_path_factory, lines):
    directory = tmp_path_factory.mktemp("raw")
    data = "\n".join(lines).encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8
    (directory / "in.txt").write_bytes(data)
    raw_lines = re.split(rb"\r\n|\r|\n", data.removeprefix(b"\xef\xbb\xbf"))  # the documented line ends
    if raw_lines[-1] == b"":
        raw_lines.pop()
    stripped = [raw.decode("utf-8", "replace").strip() for raw in raw_lines]
    zero_state_embedder.embed_file(str(directory / "in.txt"), directory / "out.hdf5", "top", progress=False,
                                   tokenize=True, input_policy=InputPolicy(errors="replace", blank_lines="empty"))
    found = tokens_of(directory / "out.hdf5")
    assert len(found) == len(stripped)
    for index, line in enumerate(stripped):
        tokens, offsets = found[str(index)]
        assert tokens == tokenize(line) and [line[a:b] for a, b in offsets] == tokens
    assert set(index_of(directory / "out.hdf5")) == set(stripped)
