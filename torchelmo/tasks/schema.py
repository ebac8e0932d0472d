"""Building config dataclasses from plain dicts, with errors that name the bad key path.

A field's type hint says what it accepts (``int``, ``float``, ``bool``, ``str``,
``Optional[...]``, ``List[...]``, ``Literal[...]``, ``Union`` of
dataclasses chosen by their ``type`` key, or a nested dataclass); ``check(...)`` metadata
adds a constraint; ``one_of(...)`` takes the dataclasses to choose from from a registry.
Every problem is raised as ``ConfigurationError("a.b.c: expected ...")``.
"""
import dataclasses
import reprlib
import typing
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Type, TypeVar

from ..errors import ConfigurationError

T = TypeVar("T")
Check = Tuple[Callable[[Any], bool], str]

POSITIVE: Check = (lambda v: v > 0, "positive")
NON_NEGATIVE: Check = (lambda v: v >= 0, "non-negative")
PROBABILITY: Check = (lambda v: 0 <= v < 1, "in [0, 1)")


def check(constraint: Check, **kwargs) -> Any:
    """A dataclass field whose value must satisfy ``constraint`` (a predicate and its name)."""
    return dataclasses.field(metadata={"check": constraint}, **kwargs)


def one_of(kinds: Callable[[], Sequence[type]], **kwargs) -> Any:
    """A dataclass field holding one of the dataclasses ``kinds()`` lists (asked when a config
    is read, so a registry can fill it), chosen by the value's ``type`` key; with
    ``default=None``, ``None`` is accepted too."""
    return dataclasses.field(metadata={"kinds": kinds}, **kwargs)


def _fail(path: str, message: str) -> None:
    raise ConfigurationError(f"{path or 'config'}: {message}")


def _shown(value: Any) -> str:
    """A repr of ``value`` short whatever its size (a config can nest a huge structure)."""
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict, short.maxstring, short.maxother = 3, 6, 6, 60, 60
    return short.repr(value)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _type_name(hint: Any) -> str:
    if dataclasses.is_dataclass(hint):
        return "mapping"
    return {int: "int", float: "number", bool: "bool", str: "string"}.get(hint, str(hint))


def _convert(value: Any, hint: Any, path: str, constraint: Optional[Check] = None) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _convert(value, options[0], path, constraint)
        return _choose_variant(value, options, path)
    if origin is typing.Literal:
        if value not in args:
            _fail(path, f"expected one of {', '.join(map(repr, args))}, got {_shown(value)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            _fail(path, f"expected a list, got {_shown(value)}")
        return [_convert(v, args[0], f"{path}[{i}]", constraint) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)
    return _convert_scalar(value, hint, path, constraint)


def _convert_scalar(value: Any, hint: Any, path: str, constraint: Optional[Check]) -> Any:
    ok = isinstance(value, hint) and not (hint in (int, float) and isinstance(value, bool))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    description = f"{constraint[1]} {_type_name(hint)}" if constraint else _type_name(hint)
    if not ok or (constraint and not constraint[0](value)):
        _fail(path, f"expected {description}, got {_shown(value)}")
    return value


def _choose_variant(value: Any, options: list, path: str) -> Any:
    """A ``Union`` of dataclasses: the one whose ``type`` default equals ``value['type']``."""
    by_type = {f.default: cls for cls in options if dataclasses.is_dataclass(cls)
               for f in dataclasses.fields(cls) if f.name == "type"}
    if not isinstance(value, dict):
        _fail(path, f"expected a mapping, got {_shown(value)}")
    kind = value.get("type")
    if kind not in by_type:
        _fail(_join(path, "type"), f"expected one of {', '.join(map(repr, by_type))}, got {_shown(kind)}")
    return from_dict(by_type[kind], value, path)


def from_dict(cls: Type[T], data: Any, path: str = "") -> T:
    """``cls`` built from ``data`` (a dict); unknown keys and missing required keys fail by path."""
    if not isinstance(data, dict):
        _fail(path, f"expected a mapping, got {_shown(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            _fail(_join(path, key), f"unknown key (expected one of: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    values: Dict[str, Any] = {}
    for name, spec in fields.items():
        if name in data and "kinds" in spec.metadata:
            value = data[name]
            values[name] = None if value is None and spec.default is None else \
                _choose_variant(value, list(spec.metadata["kinds"]()), _join(path, name))
        elif name in data:
            values[name] = _convert(data[name], hints[name], _join(path, name), spec.metadata.get("check"))
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            _fail(_join(path, name), "missing required key")
    try:
        return cls(**values)
    except ValueError as error:  # a cross-field rule in __post_init__, phrased as "key: message"
        raise ConfigurationError(_join(path, error)) from None


def to_dict(config: Any) -> Dict[str, Any]:
    """The plain-dict form of a config dataclass (what ``from_dict`` reads back)."""
    return dataclasses.asdict(config)
