"""Task models by config ``model.type``. Add one by subclassing :class:`TaskModel` and
registering it with :func:`register_model` (and adding its config to ``config.ModelConfig``)."""
from typing import Callable, Dict, Type

from .base import TaskModel

MODELS: Dict[str, Type[TaskModel]] = {}


def register_model(name: str) -> Callable[[Type[TaskModel]], Type[TaskModel]]:
    def register(cls: Type[TaskModel]) -> Type[TaskModel]:
        MODELS[name] = cls
        return cls
    return register


def model_class(name: str) -> Type[TaskModel]:
    return MODELS[name]


from . import classifier, coreference, pair_classifier, parser, span_qa, tagger  # noqa: E402,F401  (registers the models)
