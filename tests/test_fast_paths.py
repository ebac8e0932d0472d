"""Every fast path against the plain per-timestep reference (benchmarks/plain_elmo.py).

First the reference itself is checked against the original TensorFlow biLM's outputs (the
allennlp 0.9.0 fixture); then torchelmo's paths must equal it within 1e-5 on random weights:
per batch (ElmoBiLm), as row streams over consecutive batches (ElmoEmbedder), with autograd
on (the training path), and without oneDNN.
"""
import json
import random
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from torchelmo import ElmoBiLm, ElmoEmbedder, ElmoOptions, batch_to_ids, save_weights
from torchelmo import gemm
from torchelmo.lstm import segment_reversal

from benchmarks.plain_elmo import PlainElmoBiLm

WORDS = ("the of and to in a is that for it as was with be by on not he I this are or his from at which "
         "but have an they you were her she there had been one all we can has more when will would who "
         "so no ELMo Zürich 1,000,000 don't , . ; ( ) \" supercalifragilisticexpialidocious-and-then-some").split()
BIGGER = {"char_cnn": {"activation": "relu", "embedding": {"dim": 8}, "filters": [[1, 8], [2, 8], [3, 16], [5, 24]],
                       "n_highway": 2, "n_characters": 262},
          "lstm": {"cell_clip": 1.5, "dim": 96, "n_layers": 3, "proj_clip": 1.0, "projection_dim": 24,
                   "use_skip_connections": True}}
TOLERANCE = 1e-5


def random_batches(seed, batch_sizes):
    """Batches of random sentences, lengths 0..14 (1 and 0 included in every batch)."""
    rng = random.Random(seed)
    batches = []
    for size in batch_sizes:
        lengths = [1, 0] + [rng.randint(0, 14) for _ in range(size - 2)]
        rng.shuffle(lengths)
        batches.append([[rng.choice(WORDS) for _ in range(n)] for n in lengths])
    return batches


def randomized(options: ElmoOptions, seed: int, **kwargs) -> ElmoBiLm:
    """A biLM with random weights: LSTM gate pre-activations of unit scale (as in trained
    models; much larger weights make the recurrence amplify rounding differences)."""
    torch.manual_seed(seed)
    bilm = ElmoBiLm(options, **kwargs)
    with torch.no_grad():
        for name, param in bilm.named_parameters():
            if name.startswith("lstm"):
                param.normal_(0.0, param.size(-1) ** -0.5 if param.dim() == 3 else 0.5)
            else:
                param.normal_(0.0, 0.2)
    return bilm


def saved(bilm: ElmoBiLm, directory: Path):
    bilm.options.save(directory / "options.json")
    save_weights(bilm, directory / "weights.hdf5")
    return directory / "options.json", directory / "weights.hdf5"


def plain_vectors(plain: PlainElmoBiLm, batches):
    """Per batch, per sentence: ``(layers, tokens, dim)`` from the reference."""
    result = []
    for batch in batches:
        if all(len(s) == 0 for s in batch):
            result.append([np.zeros((plain.bilm.num_layers, 0, plain.bilm.output_dim), np.float32) for _ in batch])
            continue
        layers, mask = plain.embed_layers(batch_to_ids(batch))
        result.append([layers[k, :, :n].numpy() for k, n in enumerate(mask.sum(dim=1).tolist())])
    return result


def assert_close(got, want):
    assert len(got) == len(want)
    for got_batch, want_batch in zip(got, want):
        assert len(got_batch) == len(want_batch)
        for g, w in zip(got_batch, want_batch):
            assert g.shape == w.shape
            if w.size:
                assert np.abs(g - w).max() <= TOLERANCE, np.abs(g - w).max()


@pytest.fixture(scope="module")
def fixture_options(options_file):
    return ElmoOptions.from_file(options_file)


def test_plain_reference_reproduces_tensorflow(options_file, weight_file, fixture_dir):
    sentences = json.loads((fixture_dir / "sentences.json").read_text())
    plain = PlainElmoBiLm(ElmoBiLm.from_files(options_file, weight_file))
    for i in range(10):
        batch = [sentences[k][i].split() for k in range(3)]
        layers, _ = plain.embed_layers(batch_to_ids(batch))
        for k in range(3):
            with h5py.File(fixture_dir / f"lm_embeddings_{k}.hdf5", "r") as f:
                forward_backward = f[str(i)][...]
            want = np.concatenate([forward_backward[0], forward_backward[1]], axis=-1)
            assert np.allclose(layers[k, 2, :len(batch[k])].numpy(), want, atol=1e-6)


@pytest.mark.parametrize("architecture", ["fixture", "bigger"])
@pytest.mark.parametrize("stateful", [True, False])
def test_embedder_streams_equal_plain_batches(architecture, stateful, fixture_options, tmp_path):
    options = fixture_options if architecture == "fixture" else ElmoOptions.from_dict(BIGGER)
    bilm = randomized(options, seed=1)
    # Growing and shrinking batches, one of only empty sentences (it must not touch the state).
    batches = random_batches(2, [5, 9, 3, 7]) + [[[], []]] + random_batches(3, [9, 2])
    want = plain_vectors(PlainElmoBiLm(bilm, stateful=stateful), batches)
    embedder = ElmoEmbedder(*saved(bilm, tmp_path), stateful=stateful)
    assert_close(embedder.embed_batches(batches), want)
    embedder.reset_states()
    assert_close([embedder.embed_batch(batch) for batch in batches], want)


def test_embed_sentences_windows_equal_plain_batches(fixture_options, tmp_path, monkeypatch):
    monkeypatch.setattr("torchelmo.embedder.STREAM_BATCHES", 2)  # several windows of streams
    bilm = randomized(fixture_options, seed=4)
    batches = random_batches(5, [4] * 6 + [3])
    want = plain_vectors(PlainElmoBiLm(bilm), batches)
    embedder = ElmoEmbedder(*saved(bilm, tmp_path))
    got = list(embedder.embed_sentences([s for batch in batches for s in batch], batch_size=4))
    assert_close([got], [[v for batch in want for v in batch]])


@pytest.mark.parametrize("grad", [False, True])
def test_bilm_batches_equal_plain(grad, fixture_options):
    """ElmoBiLm batch by batch, with autograd off (inference kernels) and on (training path)."""
    bilm = randomized(ElmoOptions.from_dict(BIGGER), seed=5, requires_grad=grad)
    plain = PlainElmoBiLm(bilm)
    batches = random_batches(6, [4, 8, 2, 6])
    want = plain_vectors(plain, batches)
    with torch.set_grad_enabled(grad):
        for batch, want_batch in zip(batches, want):
            layers, mask = bilm.embed_layers(batch_to_ids(batch))
            assert layers.requires_grad == grad
            got = [layers[k, :, :n].detach().numpy() for k, n in enumerate(mask.sum(dim=1).tolist())]
            assert_close([got], [want_batch])


def test_without_onednn_equals_plain(fixture_options, tmp_path, monkeypatch):
    monkeypatch.setattr(gemm, "onednn_linear_available", lambda: False)
    bilm = randomized(fixture_options, seed=7)
    batches = random_batches(8, [6, 3, 6])
    want = plain_vectors(PlainElmoBiLm(bilm), batches)
    assert_close(ElmoEmbedder(*saved(bilm, tmp_path)).embed_batches(batches), want)


def test_segment_reversal_mirrors_each_sentence():
    index = segment_reversal([[3, 2], [1], []], time=6)
    assert index.tolist() == [[2, 1, 0, 4, 3, 5], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]


def needs(precision: str, compile: bool = False) -> pytest.MarkDecorator:
    """Skip, with the reason, where this machine cannot run the mode."""
    reason = gemm.unsupported_reason(precision, compile)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.mark.parametrize("precision, bound", [pytest.param("bf16", 0.05, marks=needs("bf16")),
                                              pytest.param("int8", 0.1, marks=needs("int8"))])
def test_reduced_precision_stays_near_fp32(precision, bound, options_file, weight_file, fixture_dir):
    """The optional modes deviate from fp32 (so they really run) but boundedly; the measured
    deviations on the whole fixture are in docs/speed.md."""
    sentences = [s.split() for group in json.loads((fixture_dir / "sentences.json").read_text()) for s in group]
    exact = list(ElmoEmbedder(options_file, weight_file).embed_sentences(sentences, batch_size=3))
    reduced = list(ElmoEmbedder(options_file, weight_file, precision=precision).embed_sentences(sentences, batch_size=3))
    deviation = max(np.abs(r - e).max() for r, e in zip(reduced, exact))
    assert 1e-4 < deviation < bound


@needs("int8")
def test_cli_precision_flag(options_file, weight_file, tmp_path):
    from torchelmo.cli import main

    source = tmp_path / "in.txt"
    source.write_text("The cat sat on the mat .\nELMo !\n", encoding="utf-8")
    outputs = {}
    for precision in ("fp32", "int8"):
        out = tmp_path / f"{precision}.hdf5"
        assert main(["embed", str(source), str(out), "--top", "--options-file", options_file,
                     "--weight-file", weight_file, "--precision", precision]) == 0
        with h5py.File(out, "r") as f:
            outputs[precision] = f["0"][...]
    assert outputs["fp32"].shape == outputs["int8"].shape == (7, 32)
    assert 0 < np.abs(outputs["fp32"] - outputs["int8"]).max() < 0.1
