"""An ELMoForManyLangs model's architecture: ``config.json`` and the architecture JSON it names.

``config.json`` is EFML's training argparse namespace; inference reads only ``config_path``,
the architecture file, found as EFML finds it: the model folder joined with ``config_path``,
then the folder plus that path's base name, then EFML's packaged ``configs/`` folder (shipped
here in :data:`PACKAGED_CONFIGS`) plus the base name. The architecture JSON::

    {"encoder": {"name": "elmo", "projection_dim": 512, "cell_clip": 3, "proj_clip": 3,
                 "dim": 4096, "n_layers": 2},
     "token_embedder": {"name": "cnn", "activation": "relu", "filters": [[1, 32], ...],
                        "n_highway": 2, "word_dim": 100, "char_dim": 50,
                        "max_characters_per_token": 50}, ...}

``classifier`` and ``dropout`` are training settings and are ignored. Errors name the file
and the field (``token_embedder.filters[2][0]``).
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import ConfigurationError
from ..files import PathLike
from ..options import ACTIVATIONS, LSTMOptions, physical_memory_bytes

PACKAGED_CONFIGS = Path(__file__).parent / "configs"
CONFIG_FILE = "config.json"


def _field(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise ConfigurationError(f"{where}: {message}")


def _int(data: Dict[str, Any], section: str, key: str, minimum: int) -> int:
    where = f"{section}.{key}"
    _field(key in data, where, "missing")
    value = data[key]
    _field(isinstance(value, int) and not isinstance(value, bool) and value >= minimum, where,
           f"expected an integer >= {minimum}, got {value!r}")
    return value


def _clip(data: Dict[str, Any], key: str) -> Optional[float]:
    where = f"encoder.{key}"
    _field(key in data, where, "missing")
    value = data[key]
    _field(value is None or isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
           where, f"expected a non-negative number or null, got {value!r}")
    return float(value) if value else None  # EFML clips only when the value is truthy


def _filters(value: Any) -> List[Tuple[int, int]]:
    where = "token_embedder.filters"
    _field(isinstance(value, list), where, f"expected a list of [width, num_filters] pairs, got {value!r}")
    pairs = []
    for i, pair in enumerate(value):
        _field(isinstance(pair, list) and len(pair) == 2, f"{where}[{i}]", f"expected [width, num_filters], got {pair!r}")
        for j, number in enumerate(pair):
            _field(isinstance(number, int) and not isinstance(number, bool) and number > 0, f"{where}[{i}][{j}]",
                   f"expected a positive integer, got {number!r}")
        pairs.append((pair[0], pair[1]))
    return pairs


@dataclass(frozen=True)
class EfmlTokenOptions:
    """EFML's ``cnn`` token embedder: an optional word embedding (``word_dim`` 0: none) and
    an optional character CNN (``char_dim`` 0: none) over ``max_characters_per_token``
    characters, with ``n_highway`` highway layers, joined and projected."""

    word_dim: int
    char_dim: int
    filters: List[Tuple[int, int]]
    n_highway: int
    activation: str
    max_characters_per_token: int

    @property
    def n_filters(self) -> int:
        """Width of the character CNN's output (0 without characters)."""
        return sum(n for _, n in self.filters) if self.char_dim else 0

    @classmethod
    def from_dict(cls, data: Any) -> "EfmlTokenOptions":
        _field(isinstance(data, dict), "token_embedder", "missing or not an object (is this an ELMoForManyLangs "
                                                         "architecture file?)")
        name = data.get("name")
        _field(isinstance(name, str) and name.lower() == "cnn", "token_embedder.name",
               f"only EFML's 'cnn' token embedder is supported, got {name!r}")
        word_dim = _int(data, "token_embedder", "word_dim", 0)
        char_dim = _int(data, "token_embedder", "char_dim", 0)
        _field(word_dim + char_dim > 0, "token_embedder", "word_dim and char_dim are both 0: no token embedding")
        max_chars = _int(data, "token_embedder", "max_characters_per_token", 3)
        if not char_dim:  # EFML builds no character CNN: its settings are not read
            return cls(word_dim, 0, [], 0, "relu", max_chars)
        _field("filters" in data, "token_embedder.filters", "missing")
        filters = _filters(data["filters"])
        _field(len(filters) > 0, "token_embedder.filters", "expected at least one [width, num_filters] pair")
        for i, (width, _) in enumerate(filters):
            _field(width <= max_chars, f"token_embedder.filters[{i}][0]",
                   f"width {width} is wider than max_characters_per_token {max_chars}")
        activation = data.get("activation")
        _field(activation in ACTIVATIONS, "token_embedder.activation",
               f"expected one of {ACTIVATIONS}, got {activation!r}")
        n_highway = _int(data, "token_embedder", "n_highway", 0)
        return cls(word_dim, char_dim, filters, n_highway, activation, max_chars)


def _lstm_options(data: Any) -> LSTMOptions:
    _field(isinstance(data, dict), "encoder", "missing or not an object (is this an ELMoForManyLangs "
                                              "architecture file?)")
    name = data.get("name")
    _field(isinstance(name, str) and name.lower() == "elmo", "encoder.name",
           f"only EFML's 'elmo' encoder is supported, got {name!r}")
    return LSTMOptions(dim=_int(data, "encoder", "dim", 1), projection_dim=_int(data, "encoder", "projection_dim", 1),
                       n_layers=_int(data, "encoder", "n_layers", 1), cell_clip=_clip(data, "cell_clip"),
                       proj_clip=_clip(data, "proj_clip"), use_skip_connections=True)


@dataclass(frozen=True)
class EfmlOptions:
    """A whole EFML biLM: the token embedder and the biLSTM (AllenNLP's cell, residual
    connections above the first layer). ``architecture_file``: where it was read from."""

    token: EfmlTokenOptions
    lstm: LSTMOptions
    architecture_file: str = ""

    @property
    def output_dim(self) -> int:
        """Size of every layer: forward and backward projections concatenated."""
        return 2 * self.lstm.projection_dim

    def parameter_count(self, word_rows: int, char_rows: int) -> int:
        """Parameters for vocabularies of ``word_rows`` words and ``char_rows`` characters."""
        token, proj, cell = self.token, self.lstm.projection_dim, self.lstm.dim
        n = token.n_filters
        embedder = (word_rows * token.word_dim + char_rows * token.char_dim
                    + sum(num * (token.char_dim * width + 1) for width, num in token.filters if token.char_dim)
                    + token.n_highway * 2 * n * (n + 1) + proj * (token.word_dim + n + 1))
        return embedder + 2 * self.lstm.n_layers * (4 * cell * (2 * proj + 1) + proj * cell)

    def check_fits_in_memory(self, word_rows: int = 0, char_rows: int = 0) -> None:
        """Raise ConfigurationError, before anything is allocated, when the float32 parameters
        would not fit in this machine's memory."""
        needed, memory = 4 * self.parameter_count(word_rows, char_rows), physical_memory_bytes()
        if memory is not None and needed > memory:
            raise ConfigurationError(f"{self.architecture_file}: the biLM would need {needed / 2**30:.1f} GiB as "
                                     f"float32, more than this machine's {memory / 2**30:.1f} GiB (encoder.dim "
                                     f"{self.lstm.dim}, encoder.projection_dim {self.lstm.projection_dim})")

    @classmethod
    def from_dict(cls, data: Any, architecture_file: str = "") -> "EfmlOptions":
        _field(isinstance(data, dict), "architecture", "expected a JSON object")
        return cls(EfmlTokenOptions.from_dict(data.get("token_embedder")), _lstm_options(data.get("encoder")),
                   architecture_file)

    @classmethod
    def from_folder(cls, model_dir: PathLike) -> "EfmlOptions":
        """Read ``config.json`` and the architecture file it names (EFML's three places)."""
        path = find_architecture_file(model_dir)
        data = read_json(path)
        try:
            return cls.from_dict(data, path)
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}: {error}") from None


def read_json(path: PathLike) -> Any:
    """A JSON file's content; ConfigurationError naming the file when missing or unreadable."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, ValueError) as error:
        raise ConfigurationError(f"{path}: not a valid JSON file ({error})") from None
    except OSError as error:
        raise ConfigurationError(f"{path}: cannot be read ({error.strerror or error})") from None


def find_architecture_file(model_dir: PathLike) -> str:
    """The architecture JSON of an EFML folder, by EFML's rules (see the module)."""
    config_file = os.path.join(os.fspath(model_dir), CONFIG_FILE)
    config = read_json(config_file)
    config_path = config.get("config_path") if isinstance(config, dict) else None
    if not isinstance(config_path, str) or not config_path:
        raise ConfigurationError(f"{config_file}: config_path: missing or not a string (the architecture file's name)")
    base = os.path.basename(config_path.replace("\\", "/")) or config_path
    candidates = (os.path.join(os.fspath(model_dir), config_path), os.path.join(os.fspath(model_dir), base),
                  os.fspath(PACKAGED_CONFIGS / base))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise ConfigurationError(f"{config_file}: config_path {config_path!r}: no architecture file at "
                             f"{candidates[0]}, {candidates[1]} or among ELMoForManyLangs' packaged configs")
