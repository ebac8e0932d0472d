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
from typing import Dict, Tuple, Union

import h5py
import numpy as np
import torch

from .errors import ConfigurationError, WeightFileError
from .files import atomic_path, tensor_bytes
from .options import ElmoOptions

PathLike = Union[str, os.PathLike]
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


def read_datasets(path: PathLike) -> Dict[str, np.ndarray]:
    """All datasets of an HDF5 file by full name; clear errors for missing/corrupt files."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise WeightFileError(f"{path}: weight file not found")
    if os.path.isdir(path):
        raise WeightFileError(f"{path}: is a directory, expected an HDF5 weight file")
    arrays: Dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name: str, obj: object) -> None:
                if isinstance(obj, h5py.Dataset):
                    arrays[name] = obj[...]
            f.visititems(visit)
    except (OSError, KeyError, ValueError, RuntimeError) as error:
        raise WeightFileError(f"{path}: not a readable HDF5 weight file ({error})") from None
    return arrays


def check_shapes(arrays: Dict[str, np.ndarray], options: ElmoOptions, path: PathLike) -> None:
    """Raise ConfigurationError naming the first dataset that does not fit ``options``."""
    expected = expected_shapes(options)
    for name, shape in expected.items():
        if name not in arrays:
            raise ConfigurationError(
                f"{os.fspath(path)}: dataset '{name}' (shape {shape}) required by the options is "
                f"missing; do the options and weights belong together?")
        if tuple(arrays[name].shape) != shape:
            raise ConfigurationError(
                f"{os.fspath(path)}: dataset '{name}' has shape {tuple(arrays[name].shape)} but the "
                f"options imply {shape}; the options and weights do not belong together")
    cnn, lstm = options.char_cnn, options.lstm
    surplus = [name for name in (f"CNN/W_cnn_{len(cnn.filters)}", f"CNN_high_{cnn.n_highway}/W_carry",
                                 f"{lstm_prefix(0, lstm.n_layers)}/W_0") if name in arrays]
    if surplus:
        raise ConfigurationError(
            f"{os.fspath(path)}: dataset '{surplus[0]}' is not used by the options (the weights have "
            f"more filters, highway layers or LSTM layers); the options and weights do not belong together")


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
