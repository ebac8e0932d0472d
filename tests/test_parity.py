"""Numerical parity with the original TensorFlow biLM (bilm-tf), using the reference outputs
shipped in the allennlp 0.9.0 wheel: 30 sentences run as 10 stateful batches of 3, where
file ``lm_embeddings_k.hdf5`` holds the k-th sentence of each batch (forward, backward)."""
import json

import h5py
import numpy as np
import pytest
import torch

from torchelmo import Elmo, ElmoBiLm, ElmoEmbedder, batch_to_ids, remove_sentence_boundaries


@pytest.fixture(scope="module")
def reference(fixture_dir):
    sentences = json.loads((fixture_dir / "sentences.json").read_text())
    batches, expected = [], []
    for i in range(10):
        batches.append([sentences[k][i].split() for k in range(3)])
        row = []
        for k in range(3):
            with h5py.File(fixture_dir / f"lm_embeddings_{k}.hdf5", "r") as f:
                forward_backward = f[str(i)][...]  # (2, tokens, 16)
            row.append(np.concatenate([forward_backward[0], forward_backward[1]], axis=-1))
        expected.append(row)
    return batches, expected


def test_bilm_top_layer_matches_tensorflow(options_file, weight_file, reference):
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    batches, expected = reference
    for batch, expected_batch in zip(batches, expected):
        with torch.no_grad():
            output = bilm(batch_to_ids(batch))
        top, mask = remove_sentence_boundaries(output["activations"][2], output["mask"])
        assert mask.sum(dim=1).tolist() == [len(s) for s in batch]
        for k, want in enumerate(expected_batch):
            got = top[k, :len(batch[k])].numpy()
            assert np.allclose(got, want, atol=1e-6), np.abs(got - want).max()


def test_statefulness_is_required_for_the_reference(options_file, weight_file, reference):
    """Without the carried state the later batches differ: the test above really checks state."""
    bilm = ElmoBiLm.from_files(options_file, weight_file, stateful=False)
    batches, expected = reference
    with torch.no_grad():
        output = bilm(batch_to_ids(batches[5]))
    top, _ = remove_sentence_boundaries(output["activations"][2], output["mask"])
    assert not np.allclose(top[0, :len(batches[5][0])].numpy(), expected[5][0], atol=1e-4)


def test_embedder_reproduces_tensorflow(options_file, weight_file, reference):
    batches, expected = reference
    embedder = ElmoEmbedder(options_file, weight_file)
    sentences = [s for batch in batches for s in batch]
    vectors = list(embedder.embed_sentences(sentences, batch_size=3))
    assert len(vectors) == 30
    for i, expected_batch in enumerate(expected):
        for k, want in enumerate(expected_batch):
            got = vectors[3 * i + k]
            assert got.shape == (3, len(sentences[3 * i + k]), 32)
            assert np.allclose(got[2], want, atol=1e-6)


def test_embed_file_reproduces_tensorflow(options_file, weight_file, reference, tmp_path):
    """The file job (row streams over checkpointed segments) keeps the stateful chain."""
    batches, expected = reference
    source = tmp_path / "sentences.txt"
    source.write_text("".join(" ".join(s) + "\n" for batch in batches for s in batch), encoding="utf-8")
    ElmoEmbedder(options_file, weight_file).embed_file(str(source), tmp_path / "out.hdf5", "top", batch_size=3)
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        for i, expected_batch in enumerate(expected):
            for k, want in enumerate(expected_batch):
                assert np.allclose(f[str(3 * i + k)][...], want, atol=1e-6), (i, k)


def test_elmo_selecting_top_layer_matches_tensorflow(options_file, weight_file, reference):
    batches, expected = reference
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0, scalar_mix_parameters=[-9e10, -9e10, 1.0])
    for batch, expected_batch in zip(batches, expected):
        output = elmo(batch_to_ids(batch))
        representation = output["elmo_representations"][0].detach()
        for k, want in enumerate(expected_batch):
            assert np.allclose(representation[k, :len(batch[k])].numpy(), want, atol=1e-6)


def test_token_layer_matches_tensorflow_token_embeddings(options_file, weight_file, fixture_dir):
    words = (fixture_dir / "vocab_test.txt").read_text().strip().split("\n")
    with h5py.File(fixture_dir / "elmo_token_embeddings.hdf5", "r") as f:
        want = f["embedding"][...]
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    # 10 "sentences" of 50 words, as the reference was computed; compare the token layer.
    ids = batch_to_ids([words[i:i + 50] for i in range(0, len(words), 50)])
    with torch.no_grad():
        encoded = bilm.char_encoder(ids)
    got, mask = remove_sentence_boundaries(encoded["token_embedding"], encoded["mask"])
    got = got[mask].numpy()
    assert got.shape == want.shape
    assert np.allclose(got, want, atol=1e-6)


def test_boundary_token_embeddings_equal_explicit_boundary_tokens(options_file, weight_file):
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    with torch.no_grad():
        embedded = bilm.char_encoder(batch_to_ids([["<S>", "</S>"]]))["token_embedding"][0]
    assert torch.allclose(embedded[0], embedded[1]) and torch.allclose(embedded[3], embedded[2])
