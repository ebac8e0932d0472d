"""A trained model as files: the official ``options.json`` + ``weights.hdf5`` (what torchelmo,
AllenNLP and bilm-tf's readers load), the vocabulary, and the softmax.

``softmax.hdf5`` holds ``softmax/W`` ``(vocab, projection_dim)`` and ``softmax/b`` ``(vocab,)``
float32 (bilm-tf's variable names), needed only to compute perplexities or keep training.
"""
import dataclasses
import os
from typing import Dict, Optional

import h5py
import numpy as np
import torch

from ..errors import ConfigurationError, WeightFileError
from ..files import PathLike, atomic_path, tensor_bytes
from ..options import ElmoOptions
from ..weights import check_weight_file, load_weights, read_datasets, save_weights
from .config import TrainingConfig
from .model import BidirectionalLM
from .vocab import Vocabulary

OPTIONS_FILE, WEIGHTS_FILE, VOCAB_FILE, SOFTMAX_FILE = "options.json", "weights.hdf5", "vocab.txt", "softmax.hdf5"


def save_softmax(model: BidirectionalLM, path: PathLike) -> None:
    """Write the softmax weights atomically."""
    arrays = {"softmax/W": model.softmax.weight, "softmax/b": model.softmax.bias}
    arrays = {name: a.detach().float().cpu().numpy() for name, a in arrays.items()}
    with atomic_path(path, tensor_bytes(arrays)) as tmp, h5py.File(tmp, "w") as f:
        for name, array in arrays.items():
            f.create_dataset(name, data=array)


def load_softmax(model: BidirectionalLM, path: PathLike) -> None:
    """Copy a ``softmax.hdf5`` into ``model``; errors name the file and the mismatch."""
    arrays = read_datasets(path)
    weight, bias = model.softmax.weight, model.softmax.bias
    for name, param in (("softmax/W", weight), ("softmax/b", bias)):
        if name not in arrays:
            raise WeightFileError(f"{os.fspath(path)}: dataset '{name}' missing (not a torchelmo softmax file?)")
        if tuple(arrays[name].shape) != tuple(param.shape):
            raise ConfigurationError(
                f"{os.fspath(path)}: dataset '{name}' has shape {tuple(arrays[name].shape)}, but the vocabulary "
                f"and options imply {tuple(param.shape)}; do the softmax, vocabulary and options belong together?")
        with torch.no_grad():
            param.copy_(torch.from_numpy(np.asarray(arrays[name], dtype=np.float32)))


def save_options(options: ElmoOptions, path: PathLike) -> None:
    """Write ``options.json`` (inference form: ``n_characters`` 262) atomically."""
    options.save(path)


def export_model(model: BidirectionalLM, vocab: Vocabulary, config: TrainingConfig,
                 output_dir: PathLike) -> Dict[str, str]:
    """Write ``options.json``, ``weights.hdf5``, ``vocab.txt`` and ``softmax.hdf5`` into
    ``output_dir``; returns their paths by file name."""
    output_dir = os.fspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    paths = {name: os.path.join(output_dir, name) for name in (OPTIONS_FILE, WEIGHTS_FILE, VOCAB_FILE, SOFTMAX_FILE)}
    options = model.bilm.options
    options = dataclasses.replace(options, extra={**options.extra, **config.options_extra(len(vocab))})
    save_options(options, paths[OPTIONS_FILE])
    save_weights(model.bilm, paths[WEIGHTS_FILE])
    vocab.save(paths[VOCAB_FILE])
    save_softmax(model, paths[SOFTMAX_FILE])
    return paths


def load_language_model(options_file: PathLike, weight_file: PathLike, vocab: Vocabulary,
                        softmax_file: Optional[PathLike] = None) -> BidirectionalLM:
    """An exported model, ready to score text. ``softmax_file`` defaults to ``softmax.hdf5``
    beside ``weight_file``."""
    if softmax_file is None:
        softmax_file = os.path.join(os.path.dirname(os.path.abspath(weight_file)), SOFTMAX_FILE)
    if not os.path.isfile(softmax_file):
        raise ConfigurationError(f"{os.fspath(softmax_file)}: softmax file not found (torchelmo train writes "
                                 f"{SOFTMAX_FILE} beside {WEIGHTS_FILE}; pass its path)")
    options = ElmoOptions.from_file(options_file)
    check_weight_file(weight_file, options)
    model = BidirectionalLM(options, len(vocab))
    load_weights(model.bilm, weight_file)
    load_softmax(model, softmax_file)
    return model
