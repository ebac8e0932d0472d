"""Hardware-dependent modes (bf16, int8, compile) are checked before any work starts.

An AVX2-only x86-64 CPU is emulated with oneDNN's and ATen's ISA caps (the variables are read
when torch loads, so those checks run in a subprocess).
"""
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from torchelmo import ElmoEmbedder, HardwareError, gemm, unsupported_reason
from torchelmo.cli import main

ROOT = Path(__file__).resolve().parents[1]
AVX2_ONLY = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
x86_only = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                              reason="the AVX2 emulation caps x86-64 instruction sets")


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=120)


def test_fp32_runs_everywhere():
    assert unsupported_reason("fp32") is None


@x86_only
def test_avx2_only_cpu_lacks_bf16_and_exact_int8_but_keeps_fp32():
    probe = python("import torch\nfrom torchelmo import gemm\n"
                   "x = torch.randn(3, 8); w = torch.randn(5, 8)\n"
                   "fast = gemm.InferenceLinear(w)(x)\n"
                   "assert gemm.onednn_linear_available()\n"
                   "assert torch.allclose(fast, x @ w.T, atol=1e-5)\n"
                   "print(gemm.unsupported_reason('bf16'))\nprint(gemm.unsupported_reason('int8'))", **AVX2_ONLY)
    assert probe.returncode == 0, probe.stderr
    bf16, int8 = probe.stdout.strip().splitlines()
    assert "bf16" in bf16 and "AVX2" in bf16
    assert "precision 'int8' needs exact int8 matrix products" in int8  # oneDNN's AVX2 kernels saturate


def test_the_int8_probe_catches_saturating_products(monkeypatch):
    """A product that is right for small values but saturates 16-bit pair sums, as oneDNN's
    AVX2 int8 kernel does, must not pass the probe."""
    def saturating_int_mm(a, b):  # u8 (a + 128) x s8 pairs summed in int16, then the shift taken back
        shifted = a.long() + 128
        pairs = (shifted.unsqueeze(2) * b.long().unsqueeze(0)).view(a.size(0), -1, 2, b.size(1)).sum(2)
        return (pairs.clamp(-32768, 32767).sum(1) - 128 * b.long().sum(0)).int()

    gemm._int_mm_works.cache_clear()
    monkeypatch.setattr(torch, "_int_mm", saturating_int_mm)
    try:
        small = torch.ones(4, 8, dtype=torch.int8)
        assert torch.equal(saturating_int_mm(small, small.t()), torch.full((4, 4), 8, dtype=torch.int32))
        assert unsupported_reason("int8") is not None
    finally:
        monkeypatch.undo()
        gemm._int_mm_works.cache_clear()


@x86_only
def test_cli_bf16_on_avx2_fails_in_one_line_before_any_output(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    out = tmp_path / "out.h5"
    run = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(out), "--top",
                          "--precision", "bf16"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **AVX2_ONLY}, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert "precision 'bf16' needs a CPU with bfloat16" in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_compile_without_a_compiler_fails_in_one_line_before_any_output(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    out = tmp_path / "out.h5"
    run = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(out), "--top",
                          "--compile"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "CXX": str(tmp_path / "no-such-g++")}, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"torchelmo: error: compile on the CPU needs a working C++ compiler: '{tmp_path / 'no-such-g++'}' "
        f"($CXX, default g++) was not found or does not run"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_embedder_checks_before_loading_the_model(monkeypatch, tmp_path):
    monkeypatch.setattr(gemm, "_onednn_bf16_works", lambda: False)
    monkeypatch.setattr(gemm, "onednn_linear_available", lambda: True)
    with pytest.raises(HardwareError, match="precision 'bf16' needs"):
        ElmoEmbedder(tmp_path / "missing-options.json", tmp_path / "missing-weights.hdf5", precision="bf16")


def test_int8_on_a_gpu_is_refused_by_name():
    reason = unsupported_reason("int8", device="cuda:0")
    assert reason is not None and ("CPU only" in reason or "GPU" in reason)


def test_cli_maps_hardware_errors_to_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gemm, "_int_mm_works", lambda: False)
    source = tmp_path / "in.txt"
    source.write_text("the cat sat\n", encoding="utf-8")
    assert main(["embed", str(source), str(tmp_path / "out.h5"), "--top", "--precision", "int8"]) == 2
    assert "precision 'int8' needs exact int8 matrix products" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]
