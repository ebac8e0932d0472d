"""Matrix products for inference (no autograd): ``y = x @ weight.T + bias (+ add)``.

On the CPU, fp32 products go through oneDNN, which on this project's machines runs ELMo's
shapes (e.g. ``(64, 512) x (512, 16384)``, the LSTM recurrence) about twice as fast as the
default BLAS path of ``torch.nn.functional.linear``, with fp32 accumulation throughout. Where
oneDNN is missing (CUDA, builds without it) the plain torch product is used.

On the CPU every fp32 product gives each row the same bits whatever the number of rows: oneDNN
computes a single row (a GEMV) with another summation order than two or more (a GEMM), so a
single row is computed as two (:func:`_row_invariant`); with two or more rows each row's
result was measured to be independent of the row count, its position and the thread count
(tests/test_states.py). The ``warm`` and ``zero`` state modes rely on this for vectors that
do not depend on the batch (tested on the CPU only; cuBLAS may pick kernels by row count).

Two reduced-precision modes trade exactness for speed (see docs/speed.md for the measured
deviations): ``"bf16"`` multiplies in bfloat16; ``"int8"`` is dynamic int8 quantization:
symmetric int8 weights with one scale per output row, activations quantized per input row
at run time, int32 accumulation (``torch._int_mm``), then rescaled to float32.

What the machine can run is checked with tiny products of the same kind, once
(:func:`unsupported_reason`): an AVX2-only CPU has no oneDNN bf16 products, for example.
"""
import functools
import os
import shutil
from typing import Callable, Optional, Tuple, Union

import torch
from torch.nn import functional as F

from .devices import bf16_problem, cuda_problem
from .errors import HardwareError

PRECISIONS = ("fp32", "bf16", "int8")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; ValueError naming them otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return precision


@functools.lru_cache(maxsize=None)
def onednn_linear_available() -> bool:
    """Whether this torch build has oneDNN's fused linear op (CPU)."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        x, w = torch.ones(2, 3), torch.ones(4, 3)
        y = torch.ops.mkldnn._linear_pointwise.binary(x, torch.ones(2, 4), w, None, "add")
        return bool(torch.equal(y, torch.full((2, 4), 4.0)))
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=None)
def _onednn_bf16_works() -> bool:
    """Whether oneDNN runs the bf16 product :class:`InferenceLinear` uses (it needs AVX-512
    BF16 or AMX; on an AVX2-only CPU it cannot create the primitive)."""
    try:
        x, w = torch.ones(2, 3, dtype=torch.bfloat16), torch.ones(4, 3, dtype=torch.bfloat16)
        y = torch.ops.mkldnn._linear_pointwise(x, w, torch.zeros(4, dtype=torch.bfloat16), "none", [], "")
        return bool(torch.equal(y.float(), torch.full((2, 4), 3.0)))
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=None)
def _int_mm_works() -> bool:
    """Whether ``torch._int_mm`` (int8 x int8 -> int32) runs on this CPU and is exact.

    Full-range values matter: without VNNI, oneDNN's int8 kernels (AVX2) add pairs of
    products in 16 bits and saturate, off by tens of thousands here; small values hide it.
    """
    try:
        generator = torch.Generator().manual_seed(0)
        a = torch.randint(-127, 128, (32, 64), dtype=torch.int8, generator=generator)
        b = torch.randint(-127, 128, (64, 32), dtype=torch.int8, generator=generator)
        return bool(torch.equal(torch._int_mm(a, b).long(), a.long() @ b.long()))
    except (AttributeError, RuntimeError):
        return False


def _c_compiler() -> Optional[str]:
    """The C compiler Triton would build its GPU kernel launchers with: ``$CC``, else ``gcc``,
    else ``clang`` on the PATH; None when there is none."""
    if os.environ.get("CC"):
        return shutil.which(os.environ["CC"])
    return shutil.which("gcc") or shutil.which("clang")


@functools.lru_cache(maxsize=None)
def _inductor_backend_problem(device_type: str) -> Optional[str]:
    """Why ``torch.compile`` (inductor) cannot build kernels for ``device_type`` (a sentence), or None.

    The CPU needs the C++ compiler inductor would call (``$CXX``, default ``g++``): it is
    looked up and asked for ``--version``, as inductor does, not used to build anything.
    A GPU needs Triton, and a C compiler (``$CC``, ``gcc`` or ``clang``) for Triton's launchers.
    """
    try:
        if device_type == "cuda":
            from torch.utils._triton import has_triton
            if not has_triton():
                return "compile on a GPU needs the Triton compiler (pip install triton)"
            if _c_compiler() is None:
                return (f"compile on a GPU needs a C compiler for Triton: {os.environ.get('CC') or 'gcc or clang'!r} "
                        f"($CC, default gcc or clang) was not found")
            return None
        from torch._inductor.cpp_builder import get_cpp_compiler
        get_cpp_compiler()
        return None
    except Exception:  # inductor raises its own InvalidCxxCompiler, or an import fails
        return (f"compile on the CPU needs a working C++ compiler: {os.environ.get('CXX', 'g++')!r} "
                f"($CXX, default g++) was not found or does not run")


def unsupported_reason(precision: str = "fp32", compile: bool = False,
                       device: Union[str, torch.device] = "cpu") -> Optional[str]:
    """None when this machine can run ``precision`` (and ``compile``) on ``device``; else a
    sentence naming what is missing. Probes are tiny products, run once and cached."""
    check_precision(precision)
    device = torch.device(device)
    if device.type == "cuda":
        problem = cuda_problem(device)
        if problem is not None:
            return problem
        if precision == "int8":
            return "precision 'int8' (dynamic quantization) runs on the CPU only; use 'bf16' on a GPU"
        problem = bf16_problem(device) if precision == "bf16" else None
        if problem is not None:
            return f"precision 'bf16': {problem}; use fp32"
    elif precision == "bf16" and onednn_linear_available() and not _onednn_bf16_works():
        return (f"precision 'bf16' needs a CPU with bfloat16 matrix products in oneDNN (AVX-512 BF16 or AMX); "
                f"this CPU lacks them (torch's CPU capability: {torch.backends.cpu.get_cpu_capability()}); "
                f"use fp32{' or int8' if _int_mm_works() else ''}")
    elif precision == "int8" and not _int_mm_works():
        return (f"precision 'int8' needs exact int8 matrix products (torch._int_mm), which this CPU does not give "
                f"(torch's CPU capability: {torch.backends.cpu.get_cpu_capability()}; oneDNN's int8 kernels without "
                f"VNNI saturate); use fp32")
    if compile:
        return _inductor_backend_problem(device.type)
    return None


def check_inference_support(precision: str = "fp32", compile: bool = False,
                            device: Union[str, torch.device] = "cpu") -> None:
    """Raise :class:`~torchelmo.errors.HardwareError` (one line) if :func:`unsupported_reason`
    finds something missing; call before any work starts."""
    reason = unsupported_reason(precision, compile, device)
    if reason is not None:
        raise HardwareError(reason)


def _symmetric_int8(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``x`` ``(rows, k)`` -> int8 values and one scale per row ``(rows, 1)``."""
    scale = x.abs().amax(dim=1, keepdim=True).clamp_(min=1e-12) / 127.0
    return torch.round(x / scale).to(torch.int8), scale


def _row_invariant(product: Callable[..., torch.Tensor], x: torch.Tensor,
                   add: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``product(x, add)`` for ``x`` ``(..., in)``, a single row computed as two identical rows
    (see the module docstring)."""
    if x.numel() != x.size(-1):
        return product(x, add)

    def twice(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return None if t is None else t.reshape(1, -1).expand(2, -1).contiguous()

    return product(twice(x), twice(add))[:1].reshape(*x.shape[:-1], -1)


def linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``F.linear``, through oneDNN when nothing needs a gradient and the CPU build has it.

    ``x`` ``(..., in)``, ``weight`` ``(out, in)``, ``bias`` ``(out,)`` -> ``(..., out)``.
    """
    tensors = (x, weight) if bias is None else (x, weight, bias)
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in tensors)
    if needs_grad or x.device.type != "cpu" or x.dtype != torch.float32 or not onednn_linear_available():
        return F.linear(x, weight, bias)
    return _row_invariant(lambda rows, _: torch.ops.mkldnn._linear_pointwise(rows, weight, bias, "none", [], ""), x)


class InferenceLinear:
    """``y = x @ weight.T + bias``, optionally ``+ add``, for inference.

    ``weight`` ``(out, in)``, ``bias`` ``(out,)`` or None. Call with ``x`` ``(n, in)`` (any
    strides) and optional ``add`` ``(n, out)``; returns a new float32 ``(n, out)`` tensor.
    fp32 keeps references to ``weight``/``bias`` (later in-place changes are seen); bf16 and
    int8 convert them once, here.
    """

    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
                 precision: str = "fp32") -> None:
        self.precision = check_precision(precision)
        on_cpu = weight.device.type == "cpu"
        self.onednn = on_cpu and onednn_linear_available()
        weight, self.bias = weight.detach(), None if bias is None else bias.detach()
        if precision == "int8":
            if not on_cpu:
                raise ValueError("precision 'int8' (dynamic quantization) runs on the CPU only")
            quantized, scale = _symmetric_int8(weight.float())
            self.weight, self.weight_scale = quantized.t().contiguous(), scale.view(-1)  # (in, out), (out,)
        elif precision == "bf16":
            self.weight = weight.bfloat16()
            self.bias = None if bias is None else self.bias.bfloat16()
        else:
            self.weight = weight

    def __call__(self, x: torch.Tensor, add: Optional[torch.Tensor] = None) -> torch.Tensor:
        return _row_invariant(self._product, x, add)

    def _product(self, x: torch.Tensor, add: Optional[torch.Tensor]) -> torch.Tensor:
        if self.precision == "int8":
            quantized, scale = _symmetric_int8(x)
            y = torch._int_mm(quantized, self.weight).float().mul_(scale).mul_(self.weight_scale)
            if self.bias is not None:
                y.add_(self.bias)
        elif self.onednn and self.precision == "fp32" and add is not None and self.bias is None:
            return torch.ops.mkldnn._linear_pointwise.binary(x, add, self.weight, None, "add")
        elif self.onednn:
            y = torch.ops.mkldnn._linear_pointwise(x.to(self.weight.dtype), self.weight, self.bias, "none", [], "")
        else:
            y = F.linear(x.to(self.weight.dtype), self.weight, self.bias)
        y = y.float()
        return y if add is None else y.add_(add)
