"""The ``elmo`` component's and layer's settings: validated at the edge, one clear error each.

Settings name a model (``"default"``, a published name, or a folder holding ``options.json``
and one ``*.hdf5`` weight file), where its LSTM state starts, the device, the token budget
per batch, the window for long documents and which combination of the layers fills
``doc.tensor``.
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from torchelmo import ElmoEmbedder
from torchelmo.errors import ConfigurationError

STATES = ("warm", "zero")
COMBINATIONS = ("average", "top", "concat")
_LAYER = re.compile(r"layer:(\d+)")
_DEVICE = re.compile(r"cuda(?::(\d+))?")
OPTIONS_NAME = "options.json"


def model_folder_files(folder: Path) -> Tuple[Path, Path]:
    """``(options.json, weights)`` of a model folder: its ``options.json`` and its one ``*.hdf5``."""
    weights = sorted(p for p in folder.glob("*.hdf5") if p.is_file())
    options = folder / OPTIONS_NAME
    if not options.is_file() or len(weights) != 1:
        raise ConfigurationError(f"model folder {str(folder)!r} must hold {OPTIONS_NAME} and exactly one "
                                 f"*.hdf5 weight file (found {len(weights)})")
    return options, weights[0]


def is_model_folder(model: str) -> bool:
    """Whether ``model`` is a path (it has a ``/``, or starts with ``.`` or ``~``) rather than a
    model name: a folder ``mine`` in the working directory is ``"./mine"``."""
    return "/" in model or os.sep in model or model.startswith((".", "~"))


def combine(layers: np.ndarray, combination: str) -> np.ndarray:
    """``layers`` ``(num_layers, tokens, dim)`` -> ``(tokens, dim)`` float32 (``concat``: ``num_layers * dim``)."""
    if combination == "average":
        return layers.mean(axis=0, dtype=np.float32)
    if combination == "top":
        return np.ascontiguousarray(layers[-1])
    if combination == "concat":
        return np.ascontiguousarray(layers.transpose(1, 0, 2).reshape(layers.shape[1], -1))
    return np.ascontiguousarray(layers[int(combination.split(":")[1])])


@dataclass(frozen=True)
class ElmoSettings:
    """What the component (or the training layer) embeds with.

    model : ``"default"`` (bundled), a published model name, or a folder with ``options.json``
        and one ``*.hdf5`` file.
    state : ``"warm"`` (default) or ``"zero"``: a document's vectors never depend on the other
        documents in its batch (``"carry"`` would make them depend on it, so it is refused).
    device : ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    batch_tokens : padded tokens per batch (documents sorted by length; a longer document runs alone).
    window : ``> 0``: documents over ``window`` tokens run in overlapping windows (``window_overlap``
        tokens, default ``window // 4``) stitched back; ``0``: each document as one sequence.
    combination : what fills ``doc.tensor``: ``"average"``, ``"top"``, ``"layer:N"`` or ``"concat"``.
    """

    model: str = "default"
    state: str = "warm"
    device: str = "cpu"
    batch_tokens: int = 4096
    window: int = 0
    window_overlap: Optional[int] = None
    combination: str = "average"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise ConfigurationError(f"elmo model must be a model name or a folder, got {self.model!r}")
        if self.state not in STATES:
            raise ConfigurationError(f"elmo state must be one of {', '.join(STATES)} (vectors independent "
                                     f"of the batch), got {self.state!r}")
        if not isinstance(self.device, str) or not (self.device == "cpu" or _DEVICE.fullmatch(self.device)):
            raise ConfigurationError(f"elmo device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        for name in ("batch_tokens", "window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "batch_tokens" else 0):
                raise ConfigurationError(f"elmo {name} must be an integer >= "
                                         f"{1 if name == 'batch_tokens' else 0}, got {value!r}")
        if self.window_overlap is not None and not (0 <= 2 * self.window_overlap < self.window):
            raise ConfigurationError(f"elmo window_overlap must be >= 0 and less than half the window "
                                     f"({self.window}; a window must be set), got {self.window_overlap}")
        if self.combination not in COMBINATIONS and not _LAYER.fullmatch(str(self.combination)):
            raise ConfigurationError(f"elmo combination must be one of {', '.join(COMBINATIONS)} or 'layer:N', "
                                     f"got {self.combination!r}")

    @property
    def cuda_device(self) -> int:
        """The embedder's ``cuda_device``: -1 for the CPU."""
        if self.device == "cpu":
            return -1
        return int(_DEVICE.fullmatch(self.device).group(1) or 0)

    def load(self, model: Optional[str] = None) -> ElmoEmbedder:
        """The embedder for ``model`` (default: this setting's); checks ``layer:N`` against its layers."""
        model = self.model if model is None else model
        if is_model_folder(model):
            folder = Path(model).expanduser()
            if not folder.is_dir():
                raise ConfigurationError(f"elmo model folder {model!r} does not exist")
            options, weights = model_folder_files(folder)
            embedder = ElmoEmbedder(str(options), str(weights), cuda_device=self.cuda_device, state=self.state)
        else:
            embedder = ElmoEmbedder(model=model, cuda_device=self.cuda_device, state=self.state)
        layer = _LAYER.fullmatch(self.combination)
        if layer and int(layer.group(1)) >= embedder.bilm.num_layers:
            raise ConfigurationError(f"elmo combination {self.combination!r}: the model has "
                                     f"{embedder.bilm.num_layers} layers (0-{embedder.bilm.num_layers - 1})")
        return embedder
