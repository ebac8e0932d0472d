"""Compact outputs of embed_file / torchelmo embed: float16, gzip/lzf compression, mean pooling."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

from test_embed_job import ENV, corpus, interrupted_run, listing, read_all
from torchelmo import ElmoEmbedder
from torchelmo.embed_job import EmbedSettings, pool_tokens, run_embedding_job
from torchelmo.errors import ConfigurationError, ResumeError
from torchelmo.hub import BUNDLED_DIR
from torchelmo.sentences import InputPolicy, open_sentence_file


@pytest.fixture(scope="module")
def embedder(options_file, weight_file):
    return ElmoEmbedder(options_file, weight_file)


def datasets(path):
    """The sentence datasets of an output file, read by plain h5py."""
    return {k: v for k, v in read_all(path)[0].items() if k != "sentence_to_index"}


def test_float16_rounds_each_value_of_the_bundled_model_to_half_precision(tmp_path):
    lines = (BUNDLED_DIR.parent / "warmup.txt").read_text(encoding="utf-8").splitlines()[:12]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ElmoEmbedder().embed_file(str(tmp_path / "in.txt"), tmp_path / "f32.hdf5", progress=False)
    ElmoEmbedder().embed_file(str(tmp_path / "in.txt"), tmp_path / "f16.hdf5", dtype="float16", progress=False)
    full, half = datasets(tmp_path / "f32.hdf5"), datasets(tmp_path / "f16.hdf5")
    assert full.keys() == half.keys() and len(full) == 12
    with h5py.File(tmp_path / "f16.hdf5", "r") as f:
        assert f["0"].dtype == np.float16 and f.attrs["torchelmo_dtype"] == "float16"
    for key in full:
        # Round to nearest half: error at most half a unit in the last place, 2**-11 relative
        # (2**-25 absolute in the subnormal range); the values stay far below float16's 65504.
        error = np.abs(half[key].astype(np.float32) - full[key])
        assert (error <= np.abs(full[key]) * 2.0 ** -11 + 2.0 ** -25).all(), key
        assert np.abs(full[key]).max() < 60000


@pytest.mark.parametrize("compression, level", [("gzip", None), ("gzip", 9), ("lzf", None)])
def test_compressed_output_reads_back_identical_with_plain_h5py(options_file, weight_file, tmp_path, compression,
                                                                level):
    source = str(corpus(tmp_path / "in.txt", 20))
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "plain.hdf5", progress=False)
    ElmoEmbedder(options_file, weight_file).embed_file(
        source, tmp_path / "packed.hdf5", compression=compression, compression_level=level, progress=False)
    plain, packed = datasets(tmp_path / "plain.hdf5"), datasets(tmp_path / "packed.hdf5")
    assert plain.keys() == packed.keys() and len(plain) == 20
    for key in plain:
        assert packed[key].dtype == np.float32 and np.array_equal(plain[key], packed[key]), key
    with h5py.File(tmp_path / "packed.hdf5", "r") as f:
        assert f["3"].compression == compression and f.attrs["torchelmo_compression"] == compression
        if compression == "gzip":
            assert f["3"].compression_opts == (4 if level is None else level)
            assert f.attrs["torchelmo_compression_level"] == (4 if level is None else level)


@pytest.mark.parametrize("output_format", ["all", "top", "average"])
def test_mean_pooling_shapes_and_values(options_file, weight_file, tmp_path, output_format):
    source = str(corpus(tmp_path / "in.txt", 10))
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "tokens.hdf5", output_format,
                                                       progress=False)
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "pooled.hdf5", output_format,
                                                       pool="mean", progress=False)
    tokens, pooled = datasets(tmp_path / "tokens.hdf5"), datasets(tmp_path / "pooled.hdf5")
    dim = tokens["0"].shape[-1]
    for key in tokens:
        assert pooled[key].shape == ((3, dim) if output_format == "all" else (dim,)), key
        assert np.allclose(pooled[key], tokens[key].mean(axis=-2), atol=1e-6), key


def test_mean_of_an_empty_sentence_is_a_zero_vector(embedder, tmp_path):
    (tmp_path / "in.txt").write_text("the cat\n\na dog\n", encoding="utf-8")
    embedder.embed_file(str(tmp_path / "in.txt"), tmp_path / "out.hdf5", pool="mean", progress=False,
                        input_policy=InputPolicy(blank_lines="empty"))
    pooled = datasets(tmp_path / "out.hdf5")
    assert pooled["1"].shape == pooled["0"].shape and not pooled["1"].any()
    assert pool_tokens(np.zeros((3, 0, 4), np.float32), "mean").tolist() == [[0.0] * 4] * 3


@pytest.mark.parametrize("change, named", [({"dtype": "float16"}, 'settings.dtype ("float32" then, "float16" now)'),
                                           ({"compression": "lzf"}, "settings.compression"),
                                           ({"compression": "gzip", "compression_level": 1},
                                            "settings.compression_level (null then, 1 now)"),
                                           ({"pool": "mean"}, 'settings.pool ("none" then, "mean" now)')])
def test_resume_refuses_other_output_settings(options_file, weight_file, tmp_path, change, named):
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 12)))
    output = str(tmp_path / "out.hdf5")
    interrupted_run(ElmoEmbedder(options_file, weight_file), source, output,
                    EmbedSettings(batch_size=4, checkpoint_every=1))
    before = listing(tmp_path)
    with pytest.raises(ResumeError, match="cannot resume") as error:
        run_embedding_job(ElmoEmbedder(options_file, weight_file), source, output,
                          EmbedSettings(batch_size=4, checkpoint_every=1, **change), resume=True, progress=False)
    assert named in str(error.value)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("bad", [{"dtype": "float64"}, {"compression": "zstd"}, {"pool": "max"},
                                 {"compression_level": 4}, {"compression": "gzip", "compression_level": 10}])
def test_bad_output_settings_are_refused(bad):
    with pytest.raises(ConfigurationError, match=next(iter(bad))):
        EmbedSettings(**bad)


def test_cli_writes_compact_output(options_file, weight_file, tmp_path):
    source = corpus(tmp_path / "in.txt", 6)
    command = [sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(tmp_path / "out.hdf5"), "--top",
               "--options-file", options_file, "--weight-file", weight_file, "--dtype", "float16",
               "--compression", "gzip", "--compression-level", "6", "--pool", "mean"]
    subprocess.run(command, check=True, env=ENV, capture_output=True)
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        assert f["0"].dtype == np.float16 and f["0"].ndim == 1 and f["0"].compression_opts == 6
        assert dict(f.attrs)["torchelmo_pool"] == "mean"
    refused = subprocess.run(command[:-6] + ["--compression-level", "6", "--overwrite"], env=ENV,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "--compression-level needs --compression gzip" in refused.stderr
