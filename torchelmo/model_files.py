"""A model on local disk, in either format, recognised from its files.

- AllenNLP / bilm-tf: an ``options.json`` and a ``weights.hdf5`` (given as two files, or a
  folder holding both under these names);
- ELMoForManyLangs (EFML): a folder with ``config.json``, ``token_embedder.pkl`` and
  ``encoder.pkl`` (see :mod:`torchelmo.efml`).

:func:`torchelmo.hub.resolve_model` turns names, URLs and folders into a
:class:`ModelFiles`; :meth:`torchelmo.ElmoBiLm.from_model_files` loads one.
"""
import os
from dataclasses import dataclass
from typing import Optional

from .errors import ConfigurationError
from .files import PathLike
ALLENNLP_FOLDER_FILES = ("options.json", "weights.hdf5")
EFML_FOLDER_FILES = ("config.json", "token_embedder.pkl", "encoder.pkl")  # and the .dic files


@dataclass(frozen=True)
class ModelFiles:
    """``options_file`` and ``weight_file``: AllenNLP's pair; for an EFML folder
    (``efml_dir``), its ``config.json`` and ``encoder.pkl`` (what provenance records)."""

    options_file: str
    weight_file: str
    efml_dir: Optional[str] = None

    @property
    def format(self) -> str:
        """``"efml"`` or ``"allennlp"``."""
        return "efml" if self.efml_dir is not None else "allennlp"


def folder_model(path: PathLike) -> ModelFiles:
    """The model in folder ``path``, by the files it holds; ConfigurationError otherwise."""
    path = os.fspath(path)
    options, weights = (os.path.join(path, name) for name in ALLENNLP_FOLDER_FILES)
    if os.path.isfile(options) and os.path.isfile(weights):
        return ModelFiles(options, weights)
    config, _, encoder = (os.path.join(path, name) for name in EFML_FOLDER_FILES)
    if os.path.isfile(config):  # EFML: reading the folder names any file missing
        return ModelFiles(config, encoder, efml_dir=path)
    raise ConfigurationError(f"{path}: not a model folder: expected {' + '.join(ALLENNLP_FOLDER_FILES)} "
                             f"(AllenNLP) or {', '.join(EFML_FOLDER_FILES)} (ELMoForManyLangs)")
