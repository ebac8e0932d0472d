"""The device-independent parts of the CUDA paths, on the CPU.

A GPU machine is imitated by replacing torch's CUDA probes (``is_available``, ``device_count``,
``get_device_capability``, ``get_device_name``, ``set_device``); another device than the CPU
by ``meta`` tensors, which the code must follow as it would follow ``cuda`` ones.
"""
import logging
import sys

import pytest
import torch
import torch.distributed as dist
from torch.overrides import TorchFunctionMode

from torchelmo import ElmoBiLm, ElmoOptions, HardwareError, batch_to_ids, gemm, unsupported_reason
from torchelmo.cli import main
from torchelmo.devices import resolve_device
from torchelmo.distributed import DistributedContext
from torchelmo.errors import ConfigurationError
from torchelmo.lstm import BiLstmLayer, LstmState
from torchelmo.tasks.crf import viterbi
from torchelmo.tasks.embedders.elmo_cache import ElmoLayerCache
from torchelmo.tasks.trainer import machine_description
from torchelmo.training.trainer import use_bf16

from benchmarks import plain_elmo

SENTENCES = [["The", "cat", "sat", "."], ["Dogs", "bark", "at", "night", "too", "."], ["Yes", "."]]


@pytest.fixture
def fake_gpus(monkeypatch):
    """Two visible GPUs of compute capability 7.0 named by index; returns the set_device calls."""
    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 0))
    monkeypatch.setattr(torch.cuda, "get_device_name",
                        lambda device=None: f"Tesla V100 #{0 if device is None else torch.device(device).index}")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)  # emulation counts there
    monkeypatch.setattr(torch.cuda, "set_device", calls.append)
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    return calls


class HostReads(TorchFunctionMode):
    """Counts the calls that copy tensor values to Python or the host, and ``Tensor.to``."""

    READS = (torch.Tensor.tolist, torch.Tensor.item, torch.Tensor.__int__, torch.Tensor.__index__,
             torch.Tensor.__float__, torch.Tensor.__bool__, torch.Tensor.cpu, torch.Tensor.numpy)

    def __init__(self) -> None:
        super().__init__()
        self.reads = self.moves = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.reads += func in self.READS
        self.moves += func is torch.Tensor.to
        return func(*args, **(kwargs or {}))


def test_bf16_needs_compute_capability_8_whatever_torch_emulates(fake_gpus, monkeypatch, caplog):
    reason = unsupported_reason("bf16", device="cuda:1")
    assert reason == ("precision 'bf16': bfloat16 needs a GPU of compute capability 8.0 or newer; "
                      "Tesla V100 #1 (cuda:1) has 7.0; use fp32")
    assert unsupported_reason("fp32", device="cuda:1") is None
    with caplog.at_level(logging.WARNING):
        assert not use_bf16(True, torch.device("cuda", 0))  # training falls back to fp32, saying so
    assert "training in float32" in caplog.text
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    assert unsupported_reason("bf16", device="cuda:1") is None
    assert use_bf16(True, torch.device("cuda", 0)) and not use_bf16(False, torch.device("cuda", 0))
    assert not use_bf16(True, torch.device("cpu"))


def test_a_gpu_index_is_checked_against_the_machine(fake_gpus):
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(HardwareError, match=r"^device cuda:2 does not exist \(2 GPU\(s\) visible, cuda:0 to cuda:1\)$"):
        resolve_device("cuda:2")
    with pytest.raises(HardwareError, match=r"^trainer.device: device cuda:7 does not exist"):
        resolve_device("cuda:7", "trainer.device")
    with pytest.raises(ConfigurationError, match="expected 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        resolve_device("gpu")


def test_no_gpu_at_all_is_one_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(HardwareError, match="device cuda needs a CUDA GPU and a CUDA build of torch"):
        resolve_device("cuda")


@pytest.mark.parametrize("command", [
    ["embed", "IN", "OUT", "--top", "--cuda-device", "2"],
    ["evaluate", "--options-file", "o.json", "--weight-file", "w.hdf5", "--vocab", "v.txt", "--data", "IN",
     "--cuda-device", "2"]])
def test_cli_names_a_missing_gpu_in_one_line_before_any_work(fake_gpus, tmp_path, capsys, command):
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    argv = [str(source) if a == "IN" else str(tmp_path / "out.h5") if a == "OUT" else a for a in command]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "torchelmo: error: device cuda:2 does not exist (2 GPU(s) visible, cuda:0 to cuda:1)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]
    assert fake_gpus == []  # no GPU was made current


def test_embed_on_gpu_n_makes_only_gpu_n_current(fake_gpus, monkeypatch, tmp_path, capsys):
    import torchelmo.embed_job
    import torchelmo.embedder

    built, contexts = [], []

    class Embedder:  # stands in for the model: the CLI builds it first, on the GPU asked for
        def __init__(self, *args, cuda_device: int, **kwargs) -> None:
            built.append(cuda_device)
            self.device = torch.device("cuda", cuda_device)

    original = DistributedContext.from_environment

    def context(device):
        contexts.extend([device, original(device).device])
        raise ConfigurationError("stopped here")

    monkeypatch.setattr(torchelmo.embedder, "ElmoEmbedder", Embedder)
    monkeypatch.setattr(torchelmo.embed_job.DistributedContext, "from_environment", context)
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    assert main(["embed", str(source), str(tmp_path / "out.h5"), "--top", "--cuda-device", "1"]) == 2
    assert "stopped here" in capsys.readouterr().err
    assert built == [1] and contexts == ["cuda:1", torch.device("cuda", 1)]
    assert fake_gpus == [torch.device("cuda", 1)]  # GPU 0 was never made current


def test_nccl_group_is_bound_to_its_gpu_and_barriers_name_it(fake_gpus, monkeypatch):
    calls = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend, **kwargs: calls.append(("init", backend, kwargs)))
    monkeypatch.setattr(dist, "barrier", lambda **kwargs: calls.append(("barrier", kwargs)))
    ctx = DistributedContext.from_environment("cuda:0")  # under torchrun the local rank decides
    ctx.barrier()
    assert ctx.device == torch.device("cuda", 1) and fake_gpus == [torch.device("cuda", 1)]
    (_, backend, kwargs), barrier = calls
    assert backend == "nccl" and kwargs["device_id"] == torch.device("cuda", 1)
    assert barrier == ("barrier", {"device_ids": [1]})


def test_compile_on_a_gpu_needs_a_c_compiler_for_triton(fake_gpus, monkeypatch, tmp_path):
    import torch.utils._triton

    monkeypatch.setattr(torch.utils._triton, "has_triton", lambda: True)
    gemm._inductor_backend_problem.cache_clear()
    try:
        monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
        assert unsupported_reason("fp32", compile=True, device="cuda:0") == (
            f"compile on a GPU needs a C compiler for Triton: '{tmp_path / 'no-such-cc'}' ($CC, default gcc or "
            f"clang) was not found")
        gemm._inductor_backend_problem.cache_clear()
        monkeypatch.setenv("CC", sys.executable)  # any program will do: it is only looked up
        assert unsupported_reason("fp32", compile=True, device="cuda:0") is None
    finally:
        gemm._inductor_backend_problem.cache_clear()


def test_inference_settings_are_checked_on_the_device_the_weights_are_on_at_the_next_batch(
        monkeypatch, options_file):
    """A model configured on a CPU without bf16 may still go to a GPU: the check waits for a batch."""
    monkeypatch.setattr(gemm, "_onednn_bf16_works", lambda: False)
    monkeypatch.setattr(gemm, "onednn_linear_available", lambda: True)
    bilm = ElmoBiLm(ElmoOptions.from_file(options_file))
    bilm.set_inference("bf16")
    assert bilm.inference_settings == ("bf16", False)
    with pytest.raises(HardwareError, match="precision 'bf16' needs a CPU with bfloat16"), torch.no_grad():
        bilm(batch_to_ids(SENTENCES))


def test_reduced_precision_kernels_are_made_again_after_a_move(monkeypatch):
    checked = []
    monkeypatch.setattr("torchelmo.lstm.check_inference_support", lambda *args: checked.append(args))
    layer = BiLstmLayer(8, 4, 16, 3.0, 3.0)
    layer.configure_inference("bf16")
    kernels = layer._inference_kernels()
    assert kernels[0][0].weight.device.type == "cpu" and layer._inference_kernels() is kernels
    layer.to("meta")
    moved = layer._inference_kernels()
    assert {k.weight.device.type for pair in moved for k in pair} == {"meta"}
    assert [device.type for _, _, device in checked] == ["cpu", "meta"]


def test_set_state_follows_the_model_to_its_device(options_file):
    options = ElmoOptions.from_file(options_file)
    bilm = ElmoBiLm(options).to("meta")
    layers, proj, cell = options.lstm.n_layers, options.lstm.projection_dim, options.lstm.dim
    bilm.set_state(LstmState(torch.ones(layers, 2, 3, proj), torch.ones(layers, 2, 3, cell)))  # a CPU state
    carried = bilm.get_state()
    assert carried.hidden.device.type == carried.memory.device.type == "meta"
    smaller = LstmState(torch.zeros(layers, 2, 2, proj, device="meta"), torch.zeros(layers, 2, 2, cell, device="meta"))
    assert carried.merged_with(smaller).rows == 3  # a smaller next batch: one device, no cross-device cat


@pytest.mark.parametrize("requires_grad", [True, False], ids=["training", "inference"])
def test_bf16_autocast_keeps_the_lstm_state_in_fp32(monkeypatch, options_file, requires_grad):
    import torchelmo.lstm

    cell_dtypes = []
    original = torchelmo.lstm.lstm_cell

    def recording_cell(gates, memory, *args, **kwargs):
        cell_dtypes.append((gates.dtype, memory.dtype))
        return original(gates, memory, *args, **kwargs)

    monkeypatch.setattr(torchelmo.lstm, "lstm_cell", recording_cell)
    monkeypatch.setattr(gemm, "onednn_linear_available", lambda: False)  # torch's products, as on a GPU
    bilm = ElmoBiLm(ElmoOptions.from_file(options_file), requires_grad=requires_grad)
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.set_grad_enabled(requires_grad):
        output = bilm(batch_to_ids(SENTENCES))
    assert output["activations"][0].dtype == torch.bfloat16  # autocast was on: the token layer is bf16
    assert set(cell_dtypes) == {(torch.float32, torch.float32)}
    state = bilm.get_state()
    assert state.hidden.dtype == state.memory.dtype == torch.float32


def test_viterbi_reads_the_paths_from_the_device_once():
    generator = torch.Generator().manual_seed(0)
    emissions = torch.randn(4, 30, 5, generator=generator)
    mask = torch.arange(30)[None] < torch.tensor([30, 12, 1, 25])[:, None]
    scores = torch.randn(5, 5, generator=generator), torch.randn(5, generator=generator), torch.randn(5, generator=generator)
    with HostReads() as counter:
        paths = viterbi(emissions, mask, *scores)
    assert [len(p) for p in paths] == [30, 12, 1, 25]
    assert counter.reads == 2  # the lengths, then the paths (was one read per token)


def test_elmo_cache_copies_once_per_batch_whatever_its_size(options_file, weight_file):
    bilm = ElmoBiLm.from_files(options_file, weight_file, state="zero")
    moves = []
    for count in (2, 8):
        cache = ElmoLayerCache(bilm)
        sentences = [[f"w{i}", "sat", "."] for i in range(count)]
        with HostReads() as counter:
            cache.layers(batch_to_ids(sentences))
        moves.append(counter.moves)
    assert moves[0] == moves[1]


def test_a_task_run_records_the_gpu_it_ran_on(fake_gpus):
    assert machine_description("cuda:1")["cuda_device"] == "Tesla V100 #1"
    assert machine_description("cpu")["cuda_device"] is None


def test_out_of_memory_on_a_gpu_is_one_line(monkeypatch, tmp_path, capsys):
    from torchelmo import ElmoEmbedder

    message = ("CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which "
               "1.50 GiB is free. Including non-PyTorch memory, this process has 77.68 GiB memory in use. If "
               "reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True")

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError(message)

    monkeypatch.setattr(ElmoEmbedder, "embed_batches", out_of_memory)
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    assert main(["embed", str(source), str(tmp_path / "out.h5"), "--top"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "PYTORCH_CUDA_ALLOC_CONF" not in err
    assert [line for line in err.splitlines() if line.startswith("torchelmo")] == [
        "torchelmo: error: CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.19 GiB "
        "of which 1.50 GiB is free; use a smaller --batch-size"]


def test_the_plain_baselines_convolutions_run_without_tf32(monkeypatch, options_file, weight_file):
    seen = []
    original = plain_elmo.F.conv1d

    def recording_conv1d(*args, **kwargs):
        seen.append(torch.backends.cudnn.allow_tf32)
        return original(*args, **kwargs)

    monkeypatch.setattr(plain_elmo.F, "conv1d", recording_conv1d)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)  # torch's default
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    plain_elmo.PlainElmoBiLm(bilm).embed_layers(batch_to_ids(SENTENCES))
    assert seen and not any(seen)
    assert torch.backends.cudnn.allow_tf32


def test_the_out_of_memory_advice_names_each_commands_batch_setting():
    from torchelmo.cli import build_parser, error_line

    error = HardwareError("CUDA out of memory", hint="batch_size")
    task = build_parser().parse_args(["task", "train", "c.yaml", "--output-dir", "out"])
    train = build_parser().parse_args(["train", "--train-data", "x.txt", "--output-dir", "out"])
    assert error_line(error, task) == ("torchelmo: error: CUDA out of memory; use a smaller batch, "
                                       "e.g. --set trainer.batch_size=8")
    assert error_line(error, train) == "torchelmo: error: CUDA out of memory; use a smaller --batch-size"
