"""EFML's ``token_embedder.pkl`` and ``encoder.pkl``: state dicts of tensors, read as data.

Both are ``torch.save``d state dicts, in torch's legacy (pre-1.6) or zip format. They are
read with ``torch.load(weights_only=True, map_location="cpu")``: only tensors and plain
containers are rebuilt, nothing in the file runs, and storages saved on a GPU land on the
CPU. This is the only module that knows the key names:

- ``token_embedder.pkl``: ``word_emb_layer.embedding.weight`` ``(words, word_dim)``,
  ``char_emb_layer.embedding.weight`` ``(chars, char_dim)``, ``convolutions.{i}.weight``
  ``(filters, char_dim, width)`` and ``.bias``, ``highways._layers.{k}.weight``
  ``(2 n, n)`` and ``.bias`` (first half the transform, second half the carry gate, which
  scales the input), ``projection.weight`` ``(proj, word_dim + n)`` (word columns first) and
  ``.bias``.
- ``encoder.pkl``: ``{forward,backward}_layer_{l}.input_linearity.weight`` ``(4 cell, proj)``,
  ``.state_linearity.weight`` ``(4 cell, proj)`` and ``.bias`` ``(4 cell,)``,
  ``.state_projection.weight`` ``(proj, cell)``; gates in the order (input, forget, cell,
  output), as torchelmo's LSTM keeps them.
"""
import io
import os
import pickle
import warnings
import zipfile
from typing import Dict, Mapping, Tuple

import torch

from ..errors import WeightFileError
from ..files import PathLike
from .options import EfmlOptions

TOKEN_EMBEDDER_FILE = "token_embedder.pkl"
ENCODER_FILE = "encoder.pkl"
WORD_TABLE = "word_emb_layer.embedding.weight"
CHAR_TABLE = "char_emb_layer.embedding.weight"
DIRECTIONS = ("forward", "backward")


def read_state_dict(path: PathLike) -> Dict[str, torch.Tensor]:
    """A ``.pkl`` state dict as float32 CPU tensors by name, never running code from the file;
    WeightFileError naming the file when it is missing, unreadable, or holds anything else."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise WeightFileError(f"{path}: weight file not found")
    try:
        with warnings.catch_warnings():  # torch's notes on pickle protocols: the error below says it all
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, ImportError, UnicodeDecodeError, zipfile.BadZipFile, io.UnsupportedOperation) as error:
        reason = _reason(error)
        raise WeightFileError(f"{path}: not a state dict of tensors that can be read safely "
                              f"(refused without running it: {reason})") from None
    except OSError as error:
        raise WeightFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not isinstance(data, Mapping):
        raise WeightFileError(f"{path}: expected a state dict of tensors, got a {type(data).__name__}")
    tensors = {}
    for name, value in data.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise WeightFileError(f"{path}: entry {name!r} is not a floating-point tensor "
                                  f"({type(value).__name__}); expected a state dict of tensors")
        tensors[name] = value.float()
    return tensors


def _reason(error: Exception) -> str:
    """The telling line of a loading error: torch's weights-only refusal wraps it in advice
    to load unsafely, which is left out."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if isinstance(error, pickle.UnpicklingError) and lines and lines[0].startswith("Weights only load failed"):
        lines = [line for line in lines[1:] if not line.startswith(("Please file", "Check the documentation"))]
    return (lines[0] if lines else type(error).__name__)[:200]


def token_embedder_shapes(options: EfmlOptions, word_rows: int, char_rows: int) -> Dict[str, Tuple[int, ...]]:
    """Every tensor ``token_embedder.pkl`` must hold for ``options``, with its shape."""
    token, proj = options.token, options.lstm.projection_dim
    shapes: Dict[str, Tuple[int, ...]] = {}
    if token.word_dim:
        shapes[WORD_TABLE] = (word_rows, token.word_dim)
    if token.char_dim:
        shapes[CHAR_TABLE] = (char_rows, token.char_dim)
        for i, (width, num) in enumerate(token.filters):
            shapes[f"convolutions.{i}.weight"] = (num, token.char_dim, width)
            shapes[f"convolutions.{i}.bias"] = (num,)
        for k in range(token.n_highway):
            shapes[f"highways._layers.{k}.weight"] = (2 * token.n_filters, token.n_filters)
            shapes[f"highways._layers.{k}.bias"] = (2 * token.n_filters,)
    shapes["projection.weight"] = (proj, token.word_dim + token.n_filters)
    shapes["projection.bias"] = (proj,)
    return shapes


def encoder_shapes(options: EfmlOptions) -> Dict[str, Tuple[int, ...]]:
    """Every tensor ``encoder.pkl`` must hold for ``options``, with its shape."""
    proj, cell = options.lstm.projection_dim, options.lstm.dim
    shapes: Dict[str, Tuple[int, ...]] = {}
    for layer in range(options.lstm.n_layers):
        for direction in DIRECTIONS:
            prefix = f"{direction}_layer_{layer}"
            shapes[f"{prefix}.input_linearity.weight"] = (4 * cell, proj)
            shapes[f"{prefix}.state_linearity.weight"] = (4 * cell, proj)
            shapes[f"{prefix}.state_linearity.bias"] = (4 * cell,)
            shapes[f"{prefix}.state_projection.weight"] = (proj, cell)
    return shapes


def check_tensors(tensors: Mapping[str, torch.Tensor], expected: Mapping[str, Tuple[int, ...]], path: str,
                  architecture: str) -> None:
    """That ``tensors`` are exactly ``expected`` (names and shapes), or one WeightFileError line."""
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise WeightFileError(f"{path}: missing {missing[0]}" + (f" and {len(missing) - 1} more" if len(missing) > 1
                                                                  else "") + f" (architecture {architecture})")
    extra = [name for name in tensors if name not in expected]
    if extra:
        raise WeightFileError(f"{path}: unexpected tensor {extra[0]} (architecture {architecture})")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise WeightFileError(f"{path}: {name} has shape {tuple(tensors[name].shape)}, but the architecture "
                                  f"{architecture} needs {shape}")
