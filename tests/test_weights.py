"""The official weight layout: load/save round trip and clear errors for bad files."""
import json
import re

import numpy as np
import pytest
import torch

from torchelmo import ConfigurationError, ElmoBiLm, ElmoOptions, WeightFileError, batch_to_ids, save_weights
from torchelmo.weights import expected_shapes, read_datasets


def test_layout_matches_the_official_file(options_file, weight_file):
    arrays = read_datasets(weight_file)
    expected = expected_shapes(ElmoOptions.from_file(options_file))
    assert set(arrays) == set(expected)
    assert {name: a.shape for name, a in arrays.items()} == expected


def test_round_trip_reproduces_the_file_and_the_model(options_file, weight_file, tmp_path):
    bilm = ElmoBiLm.from_files(options_file, weight_file, stateful=False)
    out = tmp_path / "weights.hdf5"
    save_weights(bilm, out)
    original, saved = read_datasets(weight_file), read_datasets(out)
    assert set(original) == set(saved)
    for name in original:
        assert saved[name].dtype == np.float32 and saved[name].shape == original[name].shape
        # The forget-gate bias goes through +1/-1, which may round in the last bit.
        tolerance = 1e-6 if name.endswith("/B") else 0.0
        assert np.allclose(saved[name], original[name], rtol=0, atol=tolerance), name
    reloaded = ElmoBiLm.from_files(options_file, out, stateful=False)
    ids = batch_to_ids([["Round", "trip", "."], ["Yes"]])
    with torch.no_grad():
        for a, b in zip(bilm(ids)["activations"], reloaded(ids)["activations"]):
            assert torch.allclose(a, b, atol=1e-6)


def test_missing_weight_file(options_file, tmp_path):
    with pytest.raises(WeightFileError, match="not found"):
        ElmoBiLm.from_files(options_file, tmp_path / "nope.hdf5")


def test_corrupt_and_truncated_weight_files(options_file, weight_file, tmp_path):
    garbage = tmp_path / "garbage.hdf5"
    garbage.write_bytes(b"this is not hdf5" * 100)
    with pytest.raises(WeightFileError, match="garbage.hdf5: not a readable HDF5"):
        ElmoBiLm.from_files(options_file, garbage)
    truncated = tmp_path / "truncated.hdf5"
    data = open(weight_file, "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightFileError, match="truncated.hdf5"):
        ElmoBiLm.from_files(options_file, truncated)


@pytest.mark.parametrize("change, dataset", [
    (lambda o: o["lstm"].update(projection_dim=32), "CNN_proj/W_proj"),
    (lambda o: o["lstm"].update(dim=128), "RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0"),
    (lambda o: o["char_cnn"]["filters"].__setitem__(2, [3, 17]), "CNN/W_cnn_2"),
    (lambda o: o["lstm"].update(n_layers=1), "RNN_0/RNN/MultiRNNCell/Cell1/LSTMCell/W_0"),
    (lambda o: o["char_cnn"].update(n_highway=3), "CNN_high_2/W_carry"),
])
def test_mismatched_options_name_the_tensor(options_file, weight_file, tmp_path, change, dataset):
    options = json.loads(open(options_file).read())
    change(options)
    bad = tmp_path / "options.json"
    bad.write_text(json.dumps(options))
    with pytest.raises(ConfigurationError, match=re.escape(dataset)):
        ElmoBiLm.from_files(bad, weight_file)


def test_bad_options_files(tmp_path, weight_file):
    not_json = tmp_path / "a.json"
    not_json.write_text("{ nope")
    with pytest.raises(ConfigurationError, match="a.json: not a valid JSON"):
        ElmoBiLm.from_files(not_json, weight_file)
    not_elmo = tmp_path / "b.json"
    not_elmo.write_text(json.dumps({"model": "bert"}))
    with pytest.raises(ConfigurationError, match="b.json: options.char_cnn: missing"):
        ElmoBiLm.from_files(not_elmo, weight_file)
    with pytest.raises(ConfigurationError, match="not found"):
        ElmoBiLm.from_files(tmp_path / "missing.json", weight_file)
    with pytest.raises(ConfigurationError, match="is a directory"):
        ElmoBiLm.from_files(tmp_path, weight_file)


def test_invalid_option_values_are_named(options_file):
    options = json.loads(open(options_file).read())
    options["char_cnn"]["activation"] = "gelu"
    with pytest.raises(ConfigurationError, match="options.char_cnn.activation"):
        ElmoOptions.from_dict(options)
    options = json.loads(open(options_file).read())
    options["lstm"]["dim"] = -4
    with pytest.raises(ConfigurationError, match="options.lstm.dim"):
        ElmoOptions.from_dict(options)


def test_options_round_trip(options_file, tmp_path):
    options = ElmoOptions.from_file(options_file)
    options.save(tmp_path / "o.json")
    assert ElmoOptions.from_file(tmp_path / "o.json") == options
    assert json.loads((tmp_path / "o.json").read_text())["char_cnn"]["n_characters"] == 262
