"""The official weight layout: load/save round trip and clear errors for bad files."""
import json
import re

import numpy as np
import pytest
import torch

from torchelmo import ConfigurationError, ElmoBiLm, ElmoOptions, WeightFileError, batch_to_ids, save_weights
from torchelmo import bilm as bilm_module
from torchelmo.weights import dataset_shapes, expected_shapes, read_datasets


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


@pytest.mark.parametrize("section, key, index, value", [
    ("lstm", "projection_dim", None, 32),
    ("lstm", "dim", None, 100000),
    ("lstm", "n_layers", None, 1),
    ("char_cnn", "n_highway", None, 3),
    ("char_cnn", "filters", 2, [3, 17]),
])
def test_mismatched_options_name_the_option_and_both_values_before_allocating(
        options_file, weight_file, tmp_path, monkeypatch, section, key, index, value):
    options = json.loads(open(options_file).read())
    original = options[section][key] if index is None else options[section][key][index]
    if index is None:
        options[section][key] = value
    else:
        options[section][key][index] = value
    bad = tmp_path / "options.json"
    bad.write_text(json.dumps(options))

    def no_allocation(*args, **kwargs):
        raise AssertionError("the model was built before the shape check")

    monkeypatch.setattr(bilm_module, "CharacterEncoder", no_allocation)
    option = f"options.{section}.{key}" + ("" if index is None else f"[{index}]")
    with pytest.raises(ConfigurationError, match=re.escape(f"{option} is {value} but the weights have {original} (")):
        ElmoBiLm.from_files(bad, weight_file)


def test_a_different_number_of_filters_is_named(options_file, weight_file, tmp_path):
    options = json.loads(open(options_file).read())
    n = len(options["char_cnn"]["filters"])
    options["char_cnn"]["filters"].append([2, 4])
    (tmp_path / "o.json").write_text(json.dumps(options))
    with pytest.raises(ConfigurationError, match=re.escape(f"options.char_cnn.filters (number of pairs) is {n + 1} "
                                                           f"but the weights have {n}")):
        ElmoBiLm.from_files(tmp_path / "o.json", weight_file)


def test_dataset_shapes_are_read_without_the_data(weight_file):
    assert dataset_shapes(weight_file) == {name: a.shape for name, a in read_datasets(weight_file).items()}


def test_parameter_count_is_what_the_model_allocates():
    for dims in ({"dim": 96, "projection_dim": 24, "n_layers": 3}, {"dim": 40, "projection_dim": 8, "n_layers": 1}):
        options = ElmoOptions.from_dict({"char_cnn": {"embedding": {"dim": 8}, "filters": [[1, 8], [3, 16]],
                                                      "n_highway": 2}, "lstm": dims})
        assert options.parameter_count == sum(p.numel() for p in ElmoBiLm(options).parameters())


def test_options_too_big_for_memory_fail_before_allocating(options_file):
    options = json.loads(open(options_file).read())
    options["lstm"]["dim"] = 10 ** 11  # about 6e13 parameters (220 TiB): no machine's memory holds them
    with pytest.raises(ConfigurationError, match=r"options: the biLM would have \d\.\d+e\+13 parameters .*"
                                                 r"options\.lstm\.dim 100000000000"):
        ElmoBiLm(ElmoOptions.from_dict(options))
    small = ElmoOptions.from_file(options_file)
    small.check_fits_in_memory(4 * small.parameter_count)
    with pytest.raises(ConfigurationError, match="more than this machine's"):
        small.check_fits_in_memory(4 * small.parameter_count - 1)


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
