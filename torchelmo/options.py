"""The ELMo architecture as described by an official ``options.json``.

One dataclass tree, validated when built, used by loading, training and export::

    {"char_cnn": {"activation": "relu", "embedding": {"dim": 16},
                  "filters": [[1, 32], [2, 32], ...], "max_characters_per_token": 50,
                  "n_characters": 262, "n_highway": 2},
     "lstm": {"cell_clip": 3, "dim": 4096, "n_layers": 2, "proj_clip": 3,
              "projection_dim": 512, "use_skip_connections": true}}

Keys outside ``char_cnn`` and ``lstm`` (bilm-tf's training settings such as
``n_negative_samples_batch``) are kept in :attr:`ElmoOptions.extra` and written back.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from .characters import MAX_WORD_LENGTH
from .errors import ConfigurationError
from .files import PathLike, write_json

ACTIVATIONS = ("relu", "tanh")


def physical_memory_bytes() -> Optional[int]:
    """This machine's physical memory, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ConfigurationError(f"{where}: {message}")


def _positive_int(value: Any, where: str) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool) and value > 0, where,
             f"expected a positive integer, got {value!r}")
    return value


def _optional_clip(value: Any, where: str) -> Union[float, None]:
    if value is None:
        return None
    _require(isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0, where,
             f"expected a non-negative number or null, got {value!r}")
    return float(value) if value else None


@dataclass
class CharCNNOptions:
    """Character CNN: embedding, convolutions (width, filters), highway layers."""

    filters: List[Tuple[int, int]]
    embedding_dim: int = 16
    n_highway: int = 2
    activation: str = "relu"
    n_characters: int = 262
    max_characters_per_token: int = MAX_WORD_LENGTH

    def __post_init__(self) -> None:
        where = "options.char_cnn"
        _require(isinstance(self.filters, (list, tuple)) and len(self.filters) > 0, f"{where}.filters",
                 "expected a non-empty list of [width, num_filters] pairs")
        pairs = []
        for i, pair in enumerate(self.filters):
            _require(isinstance(pair, (list, tuple)) and len(pair) == 2, f"{where}.filters[{i}]",
                     f"expected [width, num_filters], got {pair!r}")
            pairs.append((_positive_int(pair[0], f"{where}.filters[{i}][0]"),
                          _positive_int(pair[1], f"{where}.filters[{i}][1]")))
        self.filters = pairs
        _positive_int(self.embedding_dim, f"{where}.embedding.dim")
        _require(isinstance(self.n_highway, int) and self.n_highway >= 0, f"{where}.n_highway",
                 f"expected a non-negative integer, got {self.n_highway!r}")
        _require(self.activation in ACTIVATIONS, f"{where}.activation",
                 f"expected one of {ACTIVATIONS}, got {self.activation!r}")
        _require(self.n_characters in (261, 262), f"{where}.n_characters",
                 f"expected 262 (or bilm-tf's training value 261), got {self.n_characters!r}")
        _require(self.max_characters_per_token == MAX_WORD_LENGTH, f"{where}.max_characters_per_token",
                 f"ELMo's character vocabulary uses {MAX_WORD_LENGTH}, got {self.max_characters_per_token!r}")
        _require(max(w for w, _ in self.filters) <= self.max_characters_per_token, f"{where}.filters",
                 "a filter is wider than max_characters_per_token")

    @property
    def n_filters(self) -> int:
        """Width of the concatenated convolution output (the highway's size)."""
        return sum(n for _, n in self.filters)


@dataclass
class LSTMOptions:
    """Stacked forward and backward LSTMs with projection."""

    dim: int
    projection_dim: int
    n_layers: int = 2
    cell_clip: Union[float, None] = 3.0
    proj_clip: Union[float, None] = 3.0
    use_skip_connections: bool = True

    def __post_init__(self) -> None:
        where = "options.lstm"
        _positive_int(self.dim, f"{where}.dim")
        _positive_int(self.projection_dim, f"{where}.projection_dim")
        _positive_int(self.n_layers, f"{where}.n_layers")
        self.cell_clip = _optional_clip(self.cell_clip, f"{where}.cell_clip")
        self.proj_clip = _optional_clip(self.proj_clip, f"{where}.proj_clip")
        _require(isinstance(self.use_skip_connections, bool), f"{where}.use_skip_connections",
                 f"expected true or false, got {self.use_skip_connections!r}")


@dataclass
class ElmoOptions:
    """A whole biLM: character encoder + LSTMs. ``extra`` keeps unknown top-level keys."""

    char_cnn: CharCNNOptions
    lstm: LSTMOptions
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def output_dim(self) -> int:
        """Size of every ELMo layer: forward and backward projections concatenated."""
        return 2 * self.lstm.projection_dim

    @property
    def parameter_count(self) -> int:
        """Parameters of the biLM these options describe (character CNN and LSTMs; no softmax)."""
        cnn, lstm = self.char_cnn, self.lstm
        n, proj, cell = cnn.n_filters, lstm.projection_dim, lstm.dim
        encoder = (262 * cnn.embedding_dim + sum(num * (cnn.embedding_dim * width + 1) for width, num in cnn.filters)
                   + cnn.n_highway * 2 * n * (n + 1) + proj * (n + 1))
        per_direction_layer = 4 * cell * (proj + proj + 1) + proj * cell
        return encoder + 2 * lstm.n_layers * per_direction_layer

    def check_fits_in_memory(self, memory_bytes: Optional[int] = None) -> None:
        """Raise ConfigurationError, before anything is allocated, when the float32 parameters
        alone would not fit in ``memory_bytes`` (default: this machine's physical memory)."""
        if memory_bytes is None:
            memory_bytes = physical_memory_bytes()
        needed = 4 * self.parameter_count
        if memory_bytes is not None and needed > memory_bytes:
            cnn, lstm = self.char_cnn, self.lstm
            raise ConfigurationError(
                f"options: the biLM would have {self.parameter_count:.3g} parameters ({needed / 2**30:.1f} GiB as "
                f"float32), more than this machine's {memory_bytes / 2**30:.1f} GiB of memory (options.lstm.dim "
                f"{lstm.dim}, options.lstm.projection_dim {lstm.projection_dim}, options.lstm.n_layers "
                f"{lstm.n_layers}, {cnn.n_filters} filters in options.char_cnn.filters, options.char_cnn.n_highway "
                f"{cnn.n_highway})")

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ElmoOptions":
        """Build from the parsed JSON of an ``options.json``; raises ConfigurationError."""
        _require(isinstance(data, dict), "options", "expected a JSON object")
        for section in ("char_cnn", "lstm"):
            _require(isinstance(data.get(section), dict), f"options.{section}",
                     "missing or not an object (is this an ELMo options.json?)")
        cnn, lstm = data["char_cnn"], data["lstm"]
        embedding = cnn.get("embedding", {})
        _require(isinstance(embedding, dict) and "dim" in embedding, "options.char_cnn.embedding.dim",
                 "missing")
        for key in ("filters",):
            _require(key in cnn, f"options.char_cnn.{key}", "missing")
        for key in ("dim", "projection_dim"):
            _require(key in lstm, f"options.lstm.{key}", "missing")
        try:
            char_cnn = CharCNNOptions(
                filters=cnn["filters"],
                embedding_dim=embedding["dim"],
                n_highway=cnn.get("n_highway", 0),
                activation=cnn.get("activation", "relu"),
                n_characters=cnn.get("n_characters", 262),
                max_characters_per_token=cnn.get("max_characters_per_token", MAX_WORD_LENGTH),
            )
            lstm_options = LSTMOptions(
                dim=lstm["dim"],
                projection_dim=lstm["projection_dim"],
                n_layers=lstm.get("n_layers", 2),
                cell_clip=lstm.get("cell_clip"),
                proj_clip=lstm.get("proj_clip"),
                use_skip_connections=lstm.get("use_skip_connections", True),
            )
        except TypeError as error:  # e.g. a filter given as a number
            raise ConfigurationError(f"options: {error}") from None
        extra = {k: v for k, v in data.items() if k not in ("char_cnn", "lstm")}
        return cls(char_cnn=char_cnn, lstm=lstm_options, extra=extra)

    @classmethod
    def from_file(cls, path: PathLike) -> "ElmoOptions":
        """Read and validate an ``options.json``; errors name the file and the field."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise ConfigurationError(f"{path}: options file not found")
        if os.path.isdir(path):
            raise ConfigurationError(f"{path}: is a directory, expected an options.json file")
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigurationError(f"{path}: not a valid JSON options file ({error})") from None
        try:
            return cls.from_dict(data)
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}: {error}") from None

    def to_dict(self, inference: bool = True) -> Dict[str, Any]:
        """The official JSON layout. ``inference`` writes ``n_characters: 262``."""
        cnn, lstm = self.char_cnn, self.lstm
        data: Dict[str, Any] = dict(self.extra)
        data["char_cnn"] = {
            "activation": cnn.activation,
            "embedding": {"dim": cnn.embedding_dim},
            "filters": [list(f) for f in cnn.filters],
            "max_characters_per_token": cnn.max_characters_per_token,
            "n_characters": 262 if inference else cnn.n_characters,
            "n_highway": cnn.n_highway,
        }
        data["lstm"] = {
            "cell_clip": lstm.cell_clip or 0,
            "dim": lstm.dim,
            "n_layers": lstm.n_layers,
            "proj_clip": lstm.proj_clip or 0,
            "projection_dim": lstm.projection_dim,
            "use_skip_connections": lstm.use_skip_connections,
        }
        return data

    def save(self, path: PathLike) -> None:
        """Write ``options.json`` (inference form) atomically."""
        write_json(path, self.to_dict(), sort_keys=True)
