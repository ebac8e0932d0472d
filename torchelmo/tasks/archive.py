"""A trained model's folder: ``config.json``, ``vocabularies.json``, ``model.pt``.

``model.pt`` holds the trained weights only: a frozen biLM is reloaded from the ELMo files
named (with absolute paths) in ``config.json``, so the folder stays small.
"""
import json
import logging
import os
from typing import Dict, Tuple

from ..errors import ConfigurationError
from ..files import load_tensors, write_json
from .config import TaskConfig
from .loading import parse_config
from .models.base import TaskModel
from .registry import model_class
from .vocabulary import TaskVocabulary

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
VOCABULARIES_FILE = "vocabularies.json"
CHECKPOINT_FILE = "model.pt"
METRICS_FILE = "metrics.json"
CURVE_FILE = "learning_curve.png"


def build_model(config: TaskConfig, vocabularies: Dict[str, TaskVocabulary]) -> TaskModel:
    return model_class(config.model.type)(config.model, vocabularies)


def save_vocabularies(folder: str, vocabularies: Dict[str, TaskVocabulary]) -> None:
    write_json(os.path.join(folder, VOCABULARIES_FILE), {k: v.to_dict() for k, v in vocabularies.items()})


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read ({error}); is this a folder written by "
                                 f"`torchelmo task train`?") from None


def load_archive(folder: str, device: str = "cpu") -> Tuple[TaskConfig, TaskModel]:
    """The config and the trained model (in eval mode, on ``device``) saved in ``folder``."""
    config = parse_config(_read_json(os.path.join(folder, CONFIG_FILE)))
    saved = _read_json(os.path.join(folder, VOCABULARIES_FILE))
    vocabularies = {k: TaskVocabulary.from_dict(v) for k, v in saved.items()}
    weights = load_tensors(os.path.join(folder, CHECKPOINT_FILE))
    model = build_model(config, vocabularies)
    model.load_checkpoint_state(weights)
    logger.info("Loaded %s model from %s", config.model.type, folder)
    return config, model.to(device).eval()
