"""Loading a task config: YAML or JSON, ``--set`` overrides, validation at the edge.

Every error names the key path, e.g. ``model.encoder.hidden_size: expected positive int,
got -3``. Relative paths are resolved against the current directory.
"""
import copy
import json
import os
from typing import Any, Dict, Sequence

from ..errors import ConfigurationError
from .config import TaskConfig
from .registry import model_class, reader_types_of
from .schema import from_dict, to_dict


def parse_config(data: Any) -> TaskConfig:
    """A validated :class:`TaskConfig` from a plain dict; errors name the key path."""
    config = from_dict(TaskConfig, data)
    readers = reader_types_of(config.model.type)
    data = config.data
    for key, reader in (("data.reader", data.reader), *((f"data.{name}.reader", source.reader) for name, source in
                                                        (("train", data.train), ("validation", data.validation),
                                                         ("test", data.test)) if source and source.reader)):
        if reader.type not in readers:
            raise ConfigurationError(f"{key}.type: a {config.model.type} reads {' or '.join(map(repr, readers))} "
                                     f"data, got {reader.type!r}")
    model_class(config.model.type).check_data(config.model, config.data.reader)
    return config


def load_config(path: str, overrides: Sequence[str] = ()) -> TaskConfig:
    """Read a ``.yaml``/``.yml`` or ``.json`` config file, apply ``KEY=VALUE`` overrides
    (see :func:`apply_overrides`) and validate the result."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot read config ({error.strerror})") from None
    if path.endswith((".yaml", ".yml")):
        data = _parse_yaml(text, path)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None
    data = apply_overrides(data, overrides)
    try:
        return parse_config(data)
    except ConfigurationError as error:
        message = str(error)
        raise ConfigurationError(message if message.startswith(path) else f"{path}: {message}") from None


def apply_overrides(data: Any, overrides: Sequence[str]) -> Any:
    """A copy of the config dict ``data`` with each ``dotted.key=value`` set (``--set``).

    The value is parsed as YAML (``3``, ``true``, ``[1, 2]``, ``{dim: 50}``, ``null``);
    missing mappings on the way are created. The result is validated like the file, so a
    misspelt key fails with its path.
    """
    data = copy.deepcopy(data)
    for override in overrides:
        key, equals, text = override.partition("=")
        names = key.strip().split(".")
        if not equals or not all(names):
            raise ConfigurationError(f"--set {override}: expected KEY=VALUE with a dotted key, e.g. trainer.epochs=1")
        value = _parse_yaml(text, f"--set {override}")
        node = data
        for depth, name in enumerate(names[:-1]):
            if not isinstance(node, dict):
                raise ConfigurationError(f"--set {override}: {'.'.join(names[:depth])} is not a mapping")
            if node.get(name) is None:
                node[name] = {}
            node = node[name]
        if not isinstance(node, dict):
            raise ConfigurationError(f"--set {override}: {'.'.join(names[:-1])} is not a mapping")
        node[names[-1]] = value
    return data


def _parse_yaml(text: str, path: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ConfigurationError(f"{path}: YAML configs need PyYAML (pip install 'torchelmo[tasks]'); "
                                 f"or write the config as JSON") from None

    class NoAliases(yaml.SafeLoader):
        """YAML without aliases (``*name``): a few of them can nest into a structure of billions of
        nodes (an alias bomb); a config has no need of them."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a config; write "
                                                  "the value out", self.peek_event().start_mark)
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliases)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"{path}{line}: invalid YAML ({getattr(error, 'problem', error)})") from None


def absolute_paths(config: TaskConfig) -> TaskConfig:
    """A copy of ``config`` with every file path made absolute (for a portable saved config)."""
    config = copy.deepcopy(config)
    data = config.data
    for source in (data.train, data.validation, data.test):
        if source is not None:
            source.path = os.path.abspath(source.path)
            if source.split_file is not None:
                source.split_file = os.path.abspath(source.split_file)
    pretrained = config.model.embedders.pretrained
    if pretrained is not None and os.path.exists(pretrained.path):
        pretrained.path = os.path.abspath(pretrained.path)
    elmo = config.model.embedders.elmo
    if elmo is not None and elmo.options_file is not None:
        elmo.options_file = os.path.abspath(elmo.options_file)
        elmo.weight_file = os.path.abspath(elmo.weight_file)
    for name in ("model", "warmup_text"):
        path = getattr(elmo, name, None) if elmo is not None else None
        if path is not None and os.path.exists(path):
            setattr(elmo, name, os.path.abspath(path))
    return config


def config_dict(config: TaskConfig) -> Dict[str, Any]:
    """The plain-dict form, as saved next to a trained model."""
    return to_dict(config)
