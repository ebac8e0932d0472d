"""Exported files: the official layout of the allennlp fixture, loadable by Elmo/ElmoBiLm with
the in-memory model's activations, and a softmax that scores text as before."""
import json

import h5py
import pytest
import torch

from torchelmo import ConfigurationError, Elmo, ElmoBiLm, ElmoOptions, batch_to_ids
from torchelmo.training import TrainingConfig, export_model, load_language_model
from torchelmo.training.corpus import DataPosition, make_batch
from torchelmo.training.model import BidirectionalLM
from torchelmo.training.vocab import Vocabulary

SENTENCES = [["Deep", "contextualized", "word", "representations", "."], ["Trained", "here"]]


def _layout(path):
    """Every HDF5 object: name -> (kind, shape, dtype)."""
    entries = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: entries.__setitem__(
            name, ("dataset", obj.shape, obj.dtype.str) if isinstance(obj, h5py.Dataset) else ("group", None, None)))
    return entries


@pytest.fixture(scope="module")
def exported(options_file, tmp_path_factory):
    """A model with the fixture's architecture (options say bilm-tf's 261 characters), trained
    one step so no weight is at its initial value, then exported."""
    data = json.load(open(options_file))
    data["char_cnn"]["n_characters"] = 261
    torch.manual_seed(0)
    vocab = Vocabulary(["<S>", "</S>", "<UNK>", "word", "here", "."])
    model = BidirectionalLM(ElmoOptions.from_dict(data), len(vocab), dropout=0.1, num_samples=3)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.2, initial_accumulator_value=1.0)
    batch = make_batch(SENTENCES, vocab, DataPosition())
    model(batch.char_ids.long(), batch.targets).backward()
    optimizer.step()
    model.eval()
    directory = tmp_path_factory.mktemp("export")
    paths = export_model(model, vocab, TrainingConfig(batch_size=7), directory)
    return model, vocab, paths


def test_weight_file_has_the_official_layout(exported, weight_file):
    _, _, paths = exported
    assert _layout(paths["weights.hdf5"]) == _layout(weight_file)


def test_options_file_is_for_inference_with_training_keys(exported):
    model, vocab, paths = exported
    data = json.load(open(paths["options.json"]))
    assert data["char_cnn"]["n_characters"] == 262
    assert ElmoOptions.from_dict(data).to_dict()["lstm"] == model.bilm.options.to_dict()["lstm"]
    assert data["batch_size"] == 7 and data["n_tokens_vocab"] == len(vocab) and data["bidirectional"] is True
    assert open(paths["vocab.txt"], encoding="utf-8").read().split("\n")[:3] == ["<S>", "</S>", "<UNK>"]


def test_exported_files_give_the_in_memory_models_activations(exported):
    model, _, paths = exported
    ids = batch_to_ids(SENTENCES)
    with torch.no_grad():
        expected = model.bilm(ids)["activations"]
        loaded = ElmoBiLm.from_files(paths["options.json"], paths["weights.hdf5"], stateful=False)(ids)["activations"]
        elmo = Elmo(paths["options.json"], paths["weights.hdf5"], 1, dropout=0.0, stateful=False,
                    keep_sentence_boundaries=True, scalar_mix_parameters=[-9e10, -9e10, 1.0])
        top = elmo(ids)["elmo_representations"][0]
    assert not torch.allclose(expected[2], expected[1])
    for a, b in zip(expected, loaded):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(top, expected[2], atol=1e-5)


def test_exported_language_model_scores_text_as_before(exported):
    model, vocab, paths = exported
    batch = make_batch(SENTENCES, vocab, DataPosition())
    reloaded = load_language_model(paths["options.json"], paths["weights.hdf5"], vocab).eval()
    with torch.no_grad():
        for before, after in zip(model.token_losses(batch.char_ids.long(), batch.targets),
                                 reloaded.token_losses(batch.char_ids.long(), batch.targets)):
            assert torch.allclose(before, after, atol=1e-5)
    other = Vocabulary(vocab.words + ["extra"])
    with pytest.raises(ConfigurationError, match=r"softmax.hdf5: dataset 'softmax/W' has shape \(6, 16\), but the "
                                                 r"vocabulary and options imply \(7, 16\)"):
        load_language_model(paths["options.json"], paths["weights.hdf5"], other)
