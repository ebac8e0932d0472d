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


def _vocabularies(path: str) -> Dict[str, TaskVocabulary]:
    """The tables saved in ``path``; one of another shape is refused with one line naming it."""
    data = _read_json(path)
    ok = isinstance(data, dict) and all(
        isinstance(v, dict) and isinstance(v.get("items"), list) and all(isinstance(i, str) for i in v["items"])
        and isinstance(v.get("has_unknown"), bool) for v in data.values())
    if not ok:
        raise ConfigurationError(f"{path}: not the vocabularies of a trained model (an object of "
                                 f"{{name: {{items: [str], has_unknown: bool}}}}); was it edited?")
    return {k: TaskVocabulary.from_dict(v) for k, v in data.items()}


def load_archive(folder: str, device: str = "cpu") -> Tuple[TaskConfig, TaskModel]:
    """The config and the trained model (in eval mode, on ``device``) saved in ``folder``; files
    that are damaged or do not fit each other are refused with one line naming them."""
    config_path, weights_path = os.path.join(folder, CONFIG_FILE), os.path.join(folder, CHECKPOINT_FILE)
    try:
        config = parse_config(_read_json(config_path))
    except ConfigurationError as error:
        raise ConfigurationError(f"{config_path}: {error}") from None
    vocabularies = _vocabularies(os.path.join(folder, VOCABULARIES_FILE))
    weights = load_tensors(weights_path)
    try:
        model = build_model(config, vocabularies)
        model.load_checkpoint_state(weights)
    except (ConfigurationError, RuntimeError, KeyError, ValueError, IndexError) as error:
        reason = " ".join(str(error).split())[:300]
        raise ConfigurationError(f"{weights_path}: does not fit {CONFIG_FILE} and {VOCABULARIES_FILE} beside it "
                                 f"({type(error).__name__}: {reason}); was one of them edited?") from None
    logger.info("Loaded %s model from %s", config.model.type, folder)
    return config, model.to(device).eval()
