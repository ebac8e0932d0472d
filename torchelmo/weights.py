"""The official ELMo ``weights.hdf5`` layout (as written by bilm-tf), read and written.

This is the only module that knows the dataset names and TensorFlow's conventions:

- ``char_embed`` ``(261, char_dim)``: character embeddings without the padding row.
- ``CNN/W_cnn_{i}`` ``(1, width, char_dim, filters)``, ``CNN/b_cnn_{i}`` ``(filters,)``.
- ``CNN_high_{k}/W_transform``, ``W_carry`` ``(n_filters, n_filters)`` used as ``x @ W``;
  ``b_transform``, ``b_carry`` ``(n_filters,)``.
- ``CNN_proj/W_proj`` ``(n_filters, proj)``, ``CNN_proj/b_proj`` ``(proj,)``.
- ``RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0`` ``(input + proj, 4 * cell)``, ``B``
  ``(4 * cell,)``, ``W_P_0`` ``(cell, proj)``; ``d`` 0 forward, 1 backward. Gates are in
  TensorFlow's order (input, cell, forget, output), and TensorFlow adds 1.0 to the forget
  gate at run time rather than storing it in ``B``.

:func:`load_weights` and :func:`save_weights` are inverses.
"""
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import h5py
import numpy as np
import torch

from .errors import ConfigurationError, WeightFileError
from .files import PathLike, atomic_path, tensor_bytes
from .options import ElmoOptions

FORGET_BIAS = 1.0


def lstm_prefix(direction: int, layer: int) -> str:
    return f"RNN_{direction}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"


def expected_shapes(options: ElmoOptions) -> Dict[str, Tuple[int, ...]]:
    """Every dataset an ELMo weight file for ``options`` must hold, with its shape."""
    cnn, lstm = options.char_cnn, options.lstm
    shapes: Dict[str, Tuple[int, ...]] = {"char_embed": (261, cnn.embedding_dim)}
    for i, (width, num) in enumerate(cnn.filters):
        shapes[f"CNN/W_cnn_{i}"] = (1, width, cnn.embedding_dim, num)
        shapes[f"CNN/b_cnn_{i}"] = (num,)
    n = cnn.n_filters
    for k in range(cnn.n_highway):
        for part in ("carry", "transform"):
            shapes[f"CNN_high_{k}/W_{part}"] = (n, n)
            shapes[f"CNN_high_{k}/b_{part}"] = (n,)
    shapes["CNN_proj/W_proj"] = (n, lstm.projection_dim)
    shapes["CNN_proj/b_proj"] = (lstm.projection_dim,)
    for direction in range(2):
        for layer in range(lstm.n_layers):
            prefix = lstm_prefix(direction, layer)
            shapes[f"{prefix}/W_0"] = (2 * lstm.projection_dim, 4 * lstm.dim)
            shapes[f"{prefix}/B"] = (4 * lstm.dim,)
            shapes[f"{prefix}/W_P_0"] = (lstm.dim, lstm.projection_dim)
    return shapes


def _swap_tf_torch_gates(array: np.ndarray, cell: int) -> np.ndarray:
    """Swap the 2nd and 3rd gate blocks along axis 0: TF (i, j, f, o) <-> torch (i, f, j, o)."""
    out = array.copy()
    out[cell:2 * cell] = array[2 * cell:3 * cell]
    out[2 * cell:3 * cell] = array[cell:2 * cell]
    return out


def _visit_datasets(path: PathLike, visit: Callable[[str, "h5py.Dataset"], None]) -> None:
    """Call ``visit(name, dataset)`` for every dataset of an HDF5 file; clear errors for
    missing/corrupt files."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise WeightFileError(f"{path}: weight file not found")
    if os.path.isdir(path):
        raise WeightFileError(f"{path}: is a directory, expected an HDF5 weight file")
    try:
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: visit(name, obj) if isinstance(obj, h5py.Dataset) else None)
    except (OSError, KeyError, ValueError, RuntimeError) as error:
        raise WeightFileError(f"{path}: not a readable HDF5 weight file ({error})") from None


def read_datasets(path: PathLike) -> Dict[str, np.ndarray]:
    """All datasets of an HDF5 file by full name."""
    arrays: Dict[str, np.ndarray] = {}
    _visit_datasets(path, lambda name, dataset: arrays.__setitem__(name, dataset[...]))
    return arrays


def dataset_shapes(path: PathLike) -> Dict[str, Tuple[int, ...]]:
    """The shape of every dataset of an HDF5 file by full name, without reading the data."""
    shapes: Dict[str, Tuple[int, ...]] = {}
    _visit_datasets(path, lambda name, dataset: shapes.__setitem__(name, tuple(dataset.shape)))
    return shapes


def _count(shapes: Mapping[str, Tuple[int, ...]], name: Callable[[int], str]) -> int:
    """How many of the datasets ``name(0)``, ``name(1)``, ... exist, in a row."""
    k = 0
    while name(k) in shapes:
        k += 1
    return k


def _option_mismatch(shapes: Mapping[str, Tuple[int, ...]], options: ElmoOptions) -> Optional[str]:
    """The first option whose value the weights contradict, as ``"options.x is A but the
    weights have B (dataset ...)"``; None where they agree (or the file is not ELMo-shaped)."""
    cnn, lstm = options.char_cnn, options.lstm
    checks: List[Tuple[str, Any, Any, str]] = []  # option, its value, the weights' value, dataset(s)

    def shape_of(name: str, rank: int) -> Optional[Tuple[int, ...]]:
        shape = shapes.get(name)
        return shape if shape is not None and len(shape) == rank else None

    if shape_of("char_embed", 2):
        checks.append(("char_cnn.embedding.dim", cnn.embedding_dim, shapes["char_embed"][1], "char_embed"))
    n_convolutions = _count(shapes, lambda i: f"CNN/W_cnn_{i}")
    if n_convolutions:
        checks.append(("char_cnn.filters (number of pairs)", len(cnn.filters), n_convolutions, "CNN/W_cnn_*"))
    for i, (width, num) in enumerate(cnn.filters[:n_convolutions]):
        shape = shape_of(f"CNN/W_cnn_{i}", 4)
        if shape:
            checks.append((f"char_cnn.filters[{i}]", [width, num], [shape[1], shape[3]], f"CNN/W_cnn_{i}"))
    checks.append(("char_cnn.n_highway", cnn.n_highway, _count(shapes, lambda k: f"CNN_high_{k}/W_carry"),
                   "CNN_high_*"))
    if shape_of("CNN_proj/W_proj", 2):
        checks.append(("lstm.projection_dim", lstm.projection_dim, shapes["CNN_proj/W_proj"][1], "CNN_proj/W_proj"))
    n_layers = _count(shapes, lambda layer: f"{lstm_prefix(0, layer)}/W_0")
    if n_layers:
        checks.append(("lstm.n_layers", lstm.n_layers, n_layers, f"{lstm_prefix(0, 0)}/W_0, ..."))
    projection = f"{lstm_prefix(0, 0)}/W_P_0"
    if shape_of(projection, 2):
        checks.append(("lstm.dim", lstm.dim, shapes[projection][0], projection))
    for option, value, found, dataset in checks:
        if value != found:
            evidence = f"dataset '{dataset}' has shape {shapes[dataset]}" if dataset in shapes else f"datasets {dataset}"
            return f"options.{option} is {value} but the weights have {found} ({evidence})"
    return None


def check_shapes(shapes: Mapping[str, Union[Tuple[int, ...], np.ndarray]], options: ElmoOptions,
                 path: PathLike) -> None:
    """Raise ConfigurationError naming the first option (or else dataset) that does not fit.

    ``shapes`` maps dataset names to shapes (see :func:`dataset_shapes`) or to arrays.
    """
    shapes = {name: tuple(getattr(value, "shape", value)) for name, value in shapes.items()}
    mismatch = _option_mismatch(shapes, options)
    if mismatch is not None:
        raise ConfigurationError(f"{os.fspath(path)}: {mismatch}; the options and weights do not belong together")
    expected = expected_shapes(options)
    for name, shape in expected.items():
        if name not in shapes:
            raise ConfigurationError(
                f"{os.fspath(path)}: dataset '{name}' (shape {shape}) required by the options is "
                f"missing; do the options and weights belong together?")
        if shapes[name] != shape:
            raise ConfigurationError(
                f"{os.fspath(path)}: dataset '{name}' has shape {shapes[name]} but the "
                f"options imply {shape}; the options and weights do not belong together")


def check_weight_file(path: PathLike, options: ElmoOptions) -> None:
    """Check a weight file's dataset shapes against ``options`` before any model is built."""
    check_shapes(dataset_shapes(path), options, path)


def load_weights(bilm: "torch.nn.Module", path: PathLike) -> None:
    """Copy an official weight file into an :class:`~torchelmo.bilm.ElmoBiLm` in place."""
    arrays = read_datasets(path)
    options: ElmoOptions = bilm.options
    check_shapes(arrays, options, path)
    encoder, lstm = bilm.char_encoder, bilm.lstm
    cell, proj = options.lstm.dim, options.lstm.projection_dim

    def put(param: torch.Tensor, value: np.ndarray) -> None:
        param.data.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))

    with torch.no_grad():
        encoder.char_embedding.weight[0].zero_()
        put(encoder.char_embedding.weight[1:], arrays["char_embed"])
        for i, conv in enumerate(encoder.convolutions):
            put(conv.weight, arrays[f"CNN/W_cnn_{i}"][0].transpose(2, 1, 0))
            put(conv.bias, arrays[f"CNN/b_cnn_{i}"])
        for k, layer in enumerate(encoder.highway.layers):
            group = f"CNN_high_{k}"
            put(layer.weight, np.concatenate([arrays[f"{group}/W_transform"].T, arrays[f"{group}/W_carry"].T]))
            put(layer.bias, np.concatenate([arrays[f"{group}/b_transform"], arrays[f"{group}/b_carry"]]))
        put(encoder.projection.weight, arrays["CNN_proj/W_proj"].T)
        put(encoder.projection.bias, arrays["CNN_proj/b_proj"])
        for layer_index, layer in enumerate(lstm.layers):
            input_dim = layer.input_weight.size(2)
            for direction in range(2):
                prefix = lstm_prefix(direction, layer_index)
                kernel = _swap_tf_torch_gates(arrays[f"{prefix}/W_0"].T, cell)  # (4*cell, in+proj)
                put(layer.input_weight[direction], kernel[:, :input_dim])
                put(layer.state_weight[direction], kernel[:, input_dim:input_dim + proj])
                bias = arrays[f"{prefix}/B"].astype(np.float32).copy()
                bias[2 * cell:3 * cell] += FORGET_BIAS
                put(layer.bias[direction], _swap_tf_torch_gates(bias, cell))
                put(layer.projection[direction], arrays[f"{prefix}/W_P_0"].T)


def weights_to_arrays(bilm: "torch.nn.Module") -> Dict[str, np.ndarray]:
    """The official datasets (name -> float32 array) of an :class:`~torchelmo.bilm.ElmoBiLm`."""
    options: ElmoOptions = bilm.options
    encoder, lstm = bilm.char_encoder, bilm.lstm
    cell, n = options.lstm.dim, options.char_cnn.n_filters

    def get(param: torch.Tensor) -> np.ndarray:
        return param.detach().to("cpu", torch.float32).numpy()

    arrays = {"char_embed": get(encoder.char_embedding.weight)[1:]}
    for i, conv in enumerate(encoder.convolutions):
        arrays[f"CNN/W_cnn_{i}"] = get(conv.weight).transpose(2, 1, 0)[None]
        arrays[f"CNN/b_cnn_{i}"] = get(conv.bias)
    for k, layer in enumerate(encoder.highway.layers):
        weight, bias = get(layer.weight), get(layer.bias)
        arrays[f"CNN_high_{k}/W_transform"] = weight[:n].T
        arrays[f"CNN_high_{k}/W_carry"] = weight[n:].T
        arrays[f"CNN_high_{k}/b_transform"] = bias[:n]
        arrays[f"CNN_high_{k}/b_carry"] = bias[n:]
    arrays["CNN_proj/W_proj"] = get(encoder.projection.weight).T
    arrays["CNN_proj/b_proj"] = get(encoder.projection.bias)
    for layer_index, layer in enumerate(lstm.layers):
        for direction in range(2):
            prefix = lstm_prefix(direction, layer_index)
            kernel = np.concatenate([get(layer.input_weight[direction]), get(layer.state_weight[direction])], 1)
            arrays[f"{prefix}/W_0"] = _swap_tf_torch_gates(kernel, cell).T
            bias = _swap_tf_torch_gates(get(layer.bias[direction]), cell)
            bias[2 * cell:3 * cell] -= FORGET_BIAS
            arrays[f"{prefix}/B"] = bias
            arrays[f"{prefix}/W_P_0"] = get(layer.projection[direction]).T
    return {name: np.ascontiguousarray(a, dtype=np.float32) for name, a in arrays.items()}


def save_weights(bilm: "torch.nn.Module", path: PathLike) -> None:
    """Write an official ``weights.hdf5`` atomically (temporary file, then rename)."""
    arrays = weights_to_arrays(bilm)
    with atomic_path(path, tensor_bytes(arrays)) as tmp, h5py.File(tmp, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array)
