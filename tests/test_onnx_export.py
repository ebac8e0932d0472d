"""The ONNX graph against torchelmo: same layers within 1e-4 for batch sizes and lengths the
export never saw, state inputs/outputs, the warm state, the file policy and the CLI."""
import os
import random
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from torchelmo import (ConfigurationError, ElmoBiLm, ElmoEmbedder, OutputError, OutputExistsError, batch_to_ids,
                       export_onnx)
from torchelmo.cli import main
from torchelmo.integrations.onnx_export import OPSET
from torchelmo.lstm import LstmState
from torchelmo.hub import BUNDLED_DIR

WORDS = ("The cat sat on the mat , and Ünïcode 日本語 tokens fly over 1234 . <S> </S> "
         "supercalifragilisticexpialidociouslyextraordinarilylongtoken ' \"").split()


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def session(path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # no spinning thread pool on a busy test machine
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def sentences(rng: random.Random, lengths):
    return [[rng.choice(WORDS) for _ in range(n)] for n in lengths]


@pytest.fixture(scope="module", params=["allennlp-fixture", "bundled"])
def model_files(request, options_file, weight_file):
    if request.param == "bundled":
        return str(BUNDLED_DIR / "options.json"), str(BUNDLED_DIR / "weights.hdf5")
    return options_file, weight_file


@pytest.fixture(scope="module")
def exported(model_files, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "elmo.onnx"
    export_onnx(path, *model_files)
    return path


def test_graph_is_checked_small_and_loops_in_the_graph(exported, model_files):
    model = onnx.load(str(exported))
    onnx.checker.check_model(model)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [OPSET]
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Scan") == 1 and "LSTM" not in ops and len(ops) < 200  # the time loop is not unrolled
    assert os.path.getsize(exported) < 1.05 * os.path.getsize(model_files[1]) + 100_000
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "timesteps", 50]


def test_layers_equal_the_embedder_for_any_batch_size_and_length(exported, model_files):
    """Batch sizes 1 to 8, lengths 1 to 200 mixed within batches, against ElmoEmbedder(state="zero")."""
    embedder = ElmoEmbedder(*model_files, state="zero")
    graph = session(exported)
    rng = random.Random(21)
    batches = [[1], [200, 1, 37]] + [[rng.randint(1, 64) for _ in range(size)] for size in range(1, 9)]
    for lengths in batches:
        batch = sentences(rng, lengths)
        layers, mask = graph.run(["layers", "mask"], {"char_ids": batch_to_ids(batch).numpy()})
        expected, expected_mask = embedder.batch_to_embeddings(batch)
        assert layers.dtype == np.float32 and mask.dtype == np.int64
        np.testing.assert_array_equal(mask, expected_mask.numpy())
        np.testing.assert_allclose(layers, expected.transpose(0, 1).numpy(), rtol=0, atol=1e-4,
                                   err_msg=f"lengths {lengths}")
        padding = ~mask.astype(bool)
        assert not layers[:, padding].any()


def test_state_io_equals_carried_state(options_file, weight_file, tmp_path):
    path = export_onnx(tmp_path / "stateful.onnx", options_file, weight_file, state_io=True)
    bilm = ElmoBiLm.from_files(options_file, weight_file, state="carry").eval()
    batch = sentences(random.Random(3), [9, 2, 17])
    generator = torch.Generator().manual_seed(0)
    n, proj, cell = bilm.options.lstm.n_layers, bilm.options.lstm.projection_dim, bilm.options.lstm.dim
    initial = LstmState(torch.randn(n, 2, 3, proj, generator=generator),
                        torch.randn(n, 2, 3, cell, generator=generator))
    bilm.set_state(initial)
    with torch.inference_mode():
        expected, _ = bilm.embed_layers(batch_to_ids(batch))
    final = bilm.get_state()
    layers, hidden, memory = session(path).run(
        ["layers", "final_hidden", "final_memory"],
        {"char_ids": batch_to_ids(batch).numpy(), "initial_hidden": initial.hidden.numpy(),
         "initial_memory": initial.memory.numpy()})
    np.testing.assert_allclose(layers, expected.transpose(0, 1).numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(hidden, final.hidden.numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(memory, final.memory.numpy(), rtol=0, atol=1e-4)
    assert np.abs(layers - session(export_onnx(tmp_path / "zero.onnx", options_file, weight_file)).run(
        ["layers"], {"char_ids": batch_to_ids(batch).numpy()})[0]).max() > 1e-3  # the state mattered


def test_warm_state_is_baked_in(tmp_path):
    path = export_onnx(tmp_path / "warm.onnx", state="warm")
    batch = sentences(random.Random(5), [4, 11])
    expected, _ = ElmoEmbedder(state="warm").batch_to_embeddings(batch)
    layers, = session(path).run(["layers"], {"char_ids": batch_to_ids(batch).numpy()})
    np.testing.assert_allclose(layers, expected.transpose(0, 1).numpy(), rtol=0, atol=1e-4)


def test_existing_output_is_kept_unless_overwrite(options_file, weight_file, tmp_path):
    path = tmp_path / "elmo.onnx"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="already exists"):
        export_onnx(path, options_file, weight_file)
    assert path.read_bytes() == b"keep me"
    export_onnx(path, options_file, weight_file, overwrite=True)
    onnx.checker.check_model(onnx.load(str(path)))
    assert sorted(os.listdir(tmp_path)) == ["elmo.onnx"]  # no temporary left


def test_refuses_to_write_onto_the_weights_or_carry_state(weight_file, tmp_path):
    copy = tmp_path / "weights.hdf5"
    copy.write_bytes(Path(weight_file).read_bytes())
    options = Path(weight_file).with_name("options.json")
    with pytest.raises(OutputError, match="one of the model's files"):
        export_onnx(copy, options, copy, overwrite=True)
    assert copy.read_bytes() == Path(weight_file).read_bytes()
    with pytest.raises(ConfigurationError, match="state_io"):
        export_onnx(tmp_path / "x.onnx", options, copy, state="carry")
    with pytest.raises(ConfigurationError, match="warm state"):
        export_onnx(tmp_path / "x.onnx", options, copy, state="warm", state_io=True)
    assert not (tmp_path / "x.onnx").exists()


def test_cli_export(options_file, weight_file, tmp_path, capsys):
    out = tmp_path / "elmo.onnx"
    args = ["export", "onnx", str(out), "--options-file", options_file, "--weight-file", weight_file]
    assert main(args) == 0
    graph = session(out)
    assert [i.name for i in graph.get_inputs()] == ["char_ids"]
    assert [o.name for o in graph.get_outputs()] == ["layers", "mask"]
    assert main(args + ["--state-io"]) == 2
    assert capsys.readouterr().err.strip().endswith("already exists; pass --overwrite to replace it")
    assert main(args + ["--state-io", "--overwrite"]) == 0
    assert [i.name for i in session(out).get_inputs()] == ["char_ids", "initial_hidden", "initial_memory"]
    assert main(args + ["--state-io", "--state", "warm", "--overwrite"]) == 2
    assert "warm state" in capsys.readouterr().err
