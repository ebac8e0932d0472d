"""torchelmo: fast, drop-in ELMo for modern PyTorch.

>>> from torchelmo import Elmo, batch_to_ids, ElmoEmbedder
"""
from .bilm import ElmoBiLm
from .characters import batch_to_ids
from .elmo import Elmo
from .embedder import ElmoEmbedder
from .errors import (ConfigurationError, ElmoError, HardwareError, InputError, Interrupted, LockedError,
                     ModelDownloadError, OutputError, OutputExistsError, ResumeError, TokensError, WeightFileError)
from .gemm import unsupported_reason
from .options import ElmoOptions
from .scalar_mix import ScalarMix
from .sentence_boundaries import remove_sentence_boundaries
from .tokenizer import tokenize
from .weights import load_weights, save_weights

__version__ = "0.1.0"

__all__ = [
    "Elmo", "ElmoBiLm", "ElmoEmbedder", "ElmoOptions", "ScalarMix", "batch_to_ids",
    "load_weights", "save_weights", "remove_sentence_boundaries", "tokenize",
    "ElmoError", "ConfigurationError", "InputError", "WeightFileError", "TokensError", "OutputError",
    "OutputExistsError", "ResumeError", "LockedError", "ModelDownloadError", "Interrupted",
    "HardwareError", "unsupported_reason", "export_onnx",
]


def __getattr__(name: str):
    """``export_onnx`` (:mod:`torchelmo.integrations.onnx_export`), imported on first use: it
    loads the ``onnx`` package, which most users never need."""
    if name == "export_onnx":
        from .integrations.onnx_export import export_onnx

        return export_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
