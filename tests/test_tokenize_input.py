"""Raw-text input (``torchelmo embed --tokenize``, ``embed_file(tokenize=True)``): lines are
tokenized by spaCy's English rules, ``sentence_to_index`` keeps the lines, datasets keep their tokens."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from test_embed_job import ENV, interrupted_run, listing
from torchelmo import ElmoEmbedder, InputError
from torchelmo.embed_job import EmbedSettings, run_embedding_job
from torchelmo.errors import ResumeError
from torchelmo.sentences import InputPolicy, open_sentence_file

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


def test_blank_lines_and_the_length_limit_count_the_tokenizer_s_tokens(options_file, weight_file, tmp_path):
    source = write(tmp_path / "in.txt", ["Hi, you!", " \t ", "Fine."])
    with pytest.raises(InputError, match=r"1 empty line\(s\), at line\(s\) 2"):
        open_sentence_file(source, tokenize=True)
    with pytest.raises(InputError, match="line 1 has 4 tokens, more than the limit of 3"):
        open_sentence_file(source, InputPolicy(blank_lines="skip", max_sentence_length=3), tokenize=True)
    open_sentence_file(source, InputPolicy(blank_lines="skip", max_sentence_length=3)).close()  # 2 words
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
