"""ElmoEmbedder's API and the HDF5 files it writes (allennlp elmo's layout)."""
import io
import json
import logging

import h5py
import numpy as np
import pytest

from torchelmo import ConfigurationError, ElmoEmbedder, InputError
from torchelmo.sentences import InputPolicy

SENTENCES = [["The", "cat", "sat", "."], ["A", "dog", "."], ["Rain", "."], ["The", "cat", "sat", "."]]


@pytest.fixture
def embedder(options_file, weight_file):
    return ElmoEmbedder(options_file, weight_file)


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_embed_sentence_and_batch_shapes(embedder):
    assert embedder.embed_sentence(["I", "ate", "an", "apple"]).shape == (3, 4, 32)
    vectors = embedder.embed_batch([["a", "b"], [], ["c"]])
    assert [v.shape for v in vectors] == [(3, 2, 32), (3, 0, 32), (3, 1, 32)]
    assert embedder.embed_batch([[]])[0].shape == (3, 0, 32)
    # Layer 0 is the token layer duplicated for both directions.
    v = vectors[0]
    assert np.allclose(v[0, :, :16], v[0, :, 16:])


def test_embed_sentences_is_lazy_and_ordered(options_file, weight_file):
    one = ElmoEmbedder(options_file, weight_file)
    batched = list(one.embed_sentences(iter(SENTENCES), batch_size=2))
    two = ElmoEmbedder(options_file, weight_file)
    expected = two.embed_batch(SENTENCES[:2]) + two.embed_batch(SENTENCES[2:])
    # embed_sentences runs consecutive batches as row streams: equal up to float rounding.
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(batched, expected))


def test_stateless_embedder_is_order_independent(options_file, weight_file):
    embedder = ElmoEmbedder(options_file, weight_file, stateful=False)
    first = embedder.embed_sentence(SENTENCES[0])
    embedder.embed_batch(SENTENCES[1:3])
    assert np.allclose(embedder.embed_sentence(SENTENCES[0]), first, atol=1e-6)


@pytest.mark.parametrize("output_format", ["all", "top", "average"])
def test_embed_file_layout(options_file, weight_file, tmp_path, output_format):
    source = write_lines(tmp_path / "in.txt", [" ".join(s) for s in SENTENCES])
    out = tmp_path / "out.hdf5"
    ElmoEmbedder(options_file, weight_file).embed_file(str(source), out, output_format, batch_size=3)
    expected = list(ElmoEmbedder(options_file, weight_file).embed_sentences(SENTENCES, batch_size=3))
    with h5py.File(out, "r") as f:
        assert set(f.keys()) == {"0", "1", "2", "3", "sentence_to_index"}
        for i, want in enumerate(expected):
            want = {"all": want, "top": want[-1], "average": want.mean(axis=0)}[output_format]
            assert f[str(i)].dtype == np.float32 and f[str(i)].shape == want.shape
            assert np.allclose(f[str(i)][...], want, atol=1e-6)
        mapping = json.loads(f["sentence_to_index"][0])
        # Like allennlp: a repeated sentence maps to its last line.
        assert mapping == {"The cat sat .": "3", "A dog .": "1", "Rain .": "2"}
        assert f.attrs["torchelmo_model"] == "lm_weights.hdf5"
        assert len(f.attrs["torchelmo_weights_sha256"]) == 64
    assert not (tmp_path / "out.hdf5.partial").exists()


def test_embed_file_accepts_an_open_file_and_sentence_keys(embedder, tmp_path):
    out = tmp_path / "out.hdf5"
    embedder.embed_file(io.StringIO("Hello world .\nBye .\n"), out, "top", use_sentence_keys=True)
    with h5py.File(out, "r") as f:
        assert set(f.keys()) == {"Hello world .", "Bye ."}
        assert f["Bye ."].shape == (2, 32)


def test_duplicate_sentence_keys_are_rejected(embedder, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["a b", "c", "a b"])
    with pytest.raises(InputError, match="line 3 repeats line 1"):
        embedder.embed_file(str(source), tmp_path / "o.hdf5", use_sentence_keys=True)


def test_forget_sentences(embedder, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["a b", "c"])
    embedder.embed_file(str(source), tmp_path / "o.hdf5", forget_sentences=True)
    with h5py.File(tmp_path / "o.hdf5", "r") as f:
        assert set(f.keys()) == {"0", "1"}


def test_blank_lines_are_rejected_by_default_and_nothing_is_written(embedder, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["a b", "   ", "c"])
    with pytest.raises(InputError, match=r"in.txt: 1 empty line\(s\), at line\(s\) 2"):
        embedder.embed_file(str(source), tmp_path / "o.hdf5")
    assert list(tmp_path.iterdir()) == [source]


def test_blank_line_policies(options_file, weight_file, tmp_path, caplog):
    source = write_lines(tmp_path / "in.txt", ["a b", "", "c"])
    with caplog.at_level(logging.WARNING, logger="torchelmo"):
        ElmoEmbedder(options_file, weight_file).embed_file(
            str(source), tmp_path / "skip.hdf5", input_policy=InputPolicy(blank_lines="skip"))
    assert "Skipped 1 line(s) (see the skipped_lines attribute): 2" in caplog.text  # as torchelmo embed warns
    ElmoEmbedder(options_file, weight_file).embed_file(
        str(source), tmp_path / "empty.hdf5", input_policy=InputPolicy(blank_lines="empty"))
    with h5py.File(tmp_path / "skip.hdf5", "r") as f:
        assert set(f.keys()) == {"0", "2", "sentence_to_index"}
        assert f.attrs["skipped_lines"].tolist() == [1]
    with h5py.File(tmp_path / "empty.hdf5", "r") as f:
        assert f["1"].shape == (3, 0, 32) and f["2"].shape == (3, 1, 32)


def test_max_sentence_length(embedder, tmp_path):
    source = write_lines(tmp_path / "in.txt", ["a b", " ".join(["w"] * 30)])
    with pytest.raises(InputError, match="line 2 has 30 tokens"):
        embedder.embed_file(str(source), tmp_path / "o.hdf5", input_policy=InputPolicy(max_sentence_length=20))
    embedder.embed_file(str(source), tmp_path / "o.hdf5", input_policy=InputPolicy(max_sentence_length=0))
    with h5py.File(tmp_path / "o.hdf5", "r") as f:
        assert f["1"].shape == (3, 30, 32)


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"compression_level": 4}, {"dtype": "float64"}])
def test_embed_file_refuses_bad_settings_before_reading(embedder, tmp_path, bad):
    source = write_lines(tmp_path / "in.txt", ["a b"])
    with pytest.raises(ConfigurationError, match=next(iter(bad))):
        embedder.embed_file(str(source), tmp_path / "o.hdf5", **bad)
    assert list(tmp_path.iterdir()) == [source]
