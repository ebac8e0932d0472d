"""The task models and the dataset readers, each by its config's ``type``.

A model module registers its class with :func:`register_model`, naming its config dataclass
and the reader types it reads; a reader module registers its ``read(path, config)`` function
with :func:`register_reader`, naming its config dataclass. The name is the config's ``type``
default, written once. The built-in modules (``BUILT_IN``) are imported on the first look-up,
so importing this module imports no model, and no module imports its own registry back.
"""
import dataclasses
import importlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Sequence, Tuple, TypeVar

BUILT_IN = (  # relative to torchelmo.tasks; errors list the types in this order
    "models.classifier", "models.tagger", "models.parser", "coreference.model", "models.pair_classifier", "qa.model",
    "readers.conllu", "readers.columns", "readers.classification", "coreference.reader", "readers.sentiment_trees",
    "readers.propbank", "readers.pairs", "qa.reader",
)

Reader = Callable[[str, Any], Iterator[Any]]  # (path, reader config) -> instances
ModelClass = TypeVar("ModelClass", bound=type)

_MODELS: Dict[str, Tuple[type, type, Tuple[str, ...]]] = {}  # type -> (model class, config class, reader types)
_READERS: Dict[str, Tuple[Reader, type]] = {}  # type -> (read function, config class)
_loaded = False


def config_type(config: type) -> str:
    """The ``type`` default of a config dataclass: the name it is registered and chosen by."""
    for spec in dataclasses.fields(config):
        if spec.name == "type" and isinstance(spec.default, str):
            return spec.default
    raise TypeError(f"{config.__name__} needs a field 'type: str = \"<name>\"'")


def register_model(config: type, reads: Sequence[str]) -> Callable[[ModelClass], ModelClass]:
    """Class decorator: the model for configs of class ``config``, reading ``reads`` data."""
    def register(cls: ModelClass) -> ModelClass:
        _MODELS[config_type(config)] = (cls, config, tuple(reads))
        return cls
    return register


def register_reader(config: type) -> Callable[[Reader], Reader]:
    """Function decorator: the reader for configs of class ``config``."""
    def register(read: Reader) -> Reader:
        _READERS[config_type(config)] = (read, config)
        return read
    return register


def _load_built_ins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILT_IN:
            importlib.import_module(f"{__package__}.{module}")


def _listed_order(module: str) -> int:
    """Built-in modules in ``BUILT_IN`` order (whatever was imported first), others after them."""
    names = [f"{__package__}.{name}" for name in BUILT_IN]
    return names.index(module) if module in names else len(names)


def _in_listed_order(entries: Iterable[tuple]) -> List[tuple]:
    return sorted(entries, key=lambda entry: _listed_order(entry[0].__module__))


def model_class(name: str) -> type:
    """The :class:`~torchelmo.tasks.models.base.TaskModel` subclass of model type ``name``."""
    _load_built_ins()
    return _MODELS[name][0]


def model_configs() -> List[type]:
    """The config dataclasses of every model type (``model.type`` chooses one)."""
    _load_built_ins()
    return [config for _, config, _ in _in_listed_order(_MODELS.values())]


def reader_types_of(name: str) -> Tuple[str, ...]:
    """The reader types that model type ``name`` reads."""
    _load_built_ins()
    return _MODELS[name][2]


def reader_for(name: str) -> Reader:
    """The ``read(path, config)`` function of reader type ``name``."""
    _load_built_ins()
    return _READERS[name][0]


def reader_configs() -> List[type]:
    """The config dataclasses of every reader type (``data.reader.type`` chooses one)."""
    _load_built_ins()
    return [config for _, config in _in_listed_order(_READERS.values())]
