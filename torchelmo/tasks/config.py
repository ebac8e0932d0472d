"""The task configuration: data, model (embedders, encoder, head) and trainer, as dataclasses.

Loaded from YAML or JSON and validated at the edge: every error names the key path, e.g.
``model.encoder.hidden_size: expected positive int, got -3``. Relative paths are resolved
against the current directory. Switching ELMo on is adding the ``model.embedders.elmo``
block; nothing else changes. See ``docs/tasks.md`` for every key.
"""
import copy
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Union

from ..errors import ConfigurationError
from ..states import resolve_state_mode
from .schema import NON_NEGATIVE, POSITIVE, PROBABILITY, check, from_dict, to_dict


# ---------------------------------------------------------------- data
@dataclass
class SourceConfig:
    """Where one split's instances come from.

    ``path``: a file or a glob. ``split_file`` + ``split``: keep only files whose stem is
    listed under ``split`` in that JSON file (``{"dev": [...], "test": [...]}``); a split
    name the file does not list means "every file listed under no split" (e.g. GUM's train).
    ``num_folds`` + ``folds``: keep instance ``i`` when ``i % num_folds`` is in ``folds``
    (a fixed split of a file that has none). ``limit``: the first ``limit`` instances.
    """

    path: str
    split_file: Optional[str] = None
    split: Optional[str] = None
    num_folds: Optional[int] = check(POSITIVE, default=None)
    folds: Optional[List[int]] = check(NON_NEGATIVE, default=None)
    limit: Optional[int] = check(POSITIVE, default=None)

    def __post_init__(self) -> None:
        if (self.split_file is None) != (self.split is None):
            raise ValueError("split: give both split_file and split, or neither")
        if (self.num_folds is None) != (self.folds is None):
            raise ValueError("folds: give both num_folds and folds, or neither")
        if self.folds is not None and any(f >= self.num_folds for f in self.folds):
            raise ValueError(f"folds: expected values below num_folds={self.num_folds}, got {self.folds}")


@dataclass
class ConlluReaderConfig:
    """CoNLL-U (UD). ``tags``: which tag each token gets: ``upos``, ``xpos``, or ``entity``
    (GUM's ``Entity=`` brackets in MISC as BIO tags of the outermost mentions)."""

    type: str = "conllu"
    tags: Literal["upos", "xpos", "entity"] = "upos"


@dataclass
class ColumnsReaderConfig:
    """CoNLL-style columns, blank line between sentences (e.g. CoNLL-2000/2003, SRL in BIO).

    Columns are 0-based; negative counts from the end. ``predicate_column``: the column whose
    non-``-``/``_`` value marks the predicate (one per sentence; SRL-style indicator feature).
    Lines starting with ``comment_prefix`` (and ``-DOCSTART-``) are skipped.
    """

    type: str = "columns"
    token_column: int = 0
    tag_column: int = -1
    predicate_column: Optional[int] = None
    separator: Optional[str] = None
    comment_prefix: str = "#"


@dataclass
class ClassificationReaderConfig:
    """One text per line with a label. ``format``: ``tsv`` (``label<TAB>text``), ``csv``
    (quoted, ``label,text``) or ``jsonl`` (``text_field``/``label_field``). The text is
    split on whitespace (give it tokenized); ``lowercase`` lowercases it."""

    type: str = "classification"
    format: Literal["tsv", "csv", "jsonl"] = "tsv"
    text_field: str = "text"
    label_field: str = "label"
    lowercase: bool = False


@dataclass
class Conll2012ReaderConfig:
    """CoNLL-2012 coreference documents: bracketed chains in the last column.

    ``token_column``: the word's column (3 in CoNLL-2012; 1 in OntoGUM's three columns).
    ``sentences``: take sentence boundaries from a CoNLL-U file of the same words, with
    ``{name}`` standing for the data file's stem (e.g. GUM's ``dep/{name}.conllu``); made
    absolute when loaded. ``unmatched_brackets``: ``error``, or ``skip`` (warn and drop).
    """

    type: str = "conll2012"
    token_column: int = check(NON_NEGATIVE, default=3)
    sentences: Optional[str] = None
    unmatched_brackets: Literal["error", "skip"] = "error"

    def __post_init__(self) -> None:
        if self.sentences is not None:
            self.sentences = os.path.abspath(self.sentences)


ReaderConfig = Union[ConlluReaderConfig, ColumnsReaderConfig, ClassificationReaderConfig, Conll2012ReaderConfig]


@dataclass
class DataConfig:
    reader: ReaderConfig
    train: SourceConfig
    validation: SourceConfig
    test: Optional[SourceConfig] = None


# ---------------------------------------------------------------- embedders and encoder
@dataclass
class WordEmbeddingConfig:
    """Word vectors learned from scratch: tokens seen fewer than ``min_count`` times in
    train map to the unknown word."""

    dim: int = check(POSITIVE, default=100)
    min_count: int = check(POSITIVE, default=1)
    lowercase: bool = False


@dataclass
class ElmoConfig:
    """ELMo through :class:`torchelmo.Elmo`. Leave both files out for the bundled default.

    ``num_output_representations``: 1 puts ELMo at the encoder's input; 2 also concatenates
    a second mix to the encoder's output (the paper's "input and output" setting).
    ``state``: where each sentence's LSTM state starts (see :mod:`torchelmo.states`):
    ``zero`` (default here, so that a sentence's prediction does not depend on the batches
    before it), ``warm`` (a fixed state the biLM reaches on real English; also
    batch-independent) or ``carry`` (AllenNLP's carried state). ``stateful``, the former
    switch, is still accepted: ``true`` is ``carry``, ``false`` is ``zero``.
    """

    options_file: Optional[str] = None
    weight_file: Optional[str] = None
    dropout: float = check(PROBABILITY, default=0.5)
    do_layer_norm: bool = False
    requires_grad: bool = False
    num_output_representations: Literal[1, 2] = 1
    state: Optional[Literal["carry", "zero", "warm"]] = None
    stateful: Optional[bool] = None

    def __post_init__(self) -> None:
        if (self.options_file is None) != (self.weight_file is None):
            raise ValueError("weight_file: give both options_file and weight_file, or neither "
                             "(the bundled default model)")
        if self.state is None:
            self.state = "zero" if self.stateful is None else resolve_state_mode(None, self.stateful)
        elif self.stateful is not None and resolve_state_mode(None, self.stateful) != self.state:
            raise ValueError(f"state: {self.state!r} contradicts stateful: {self.stateful}; give only state")


@dataclass
class EmbeddersConfig:
    words: Optional[WordEmbeddingConfig] = None
    elmo: Optional[ElmoConfig] = None

    def __post_init__(self) -> None:
        if self.words is None and self.elmo is None:
            raise ValueError("words: give word embeddings, an elmo block, or both")


@dataclass
class LstmEncoderConfig:
    """A (bi)LSTM over the embedded tokens."""

    type: str = "lstm"
    hidden_size: int = check(POSITIVE, default=200)
    num_layers: int = check(POSITIVE, default=2)
    dropout: float = check(PROBABILITY, default=0.5)
    bidirectional: bool = True


# ---------------------------------------------------------------- models
@dataclass
class ClassifierConfig:
    """Text classifier: encoder, then ``pooling`` over time, then a linear layer."""

    embedders: EmbeddersConfig
    type: str = "classifier"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    pooling: Literal["max", "mean"] = "max"


@dataclass
class TaggerConfig:
    """Sequence tagger: encoder, then a per-token ``softmax`` or a linear-chain ``crf``.

    ``tag_scheme``: ``bio`` scores exact spans (and constrains the CRF to valid BIO);
    ``plain`` scores token accuracy. ``predicate_dim`` > 0 adds an embedded predicate
    indicator (SRL as BIO tagging); the reader must mark the predicate.
    """

    embedders: EmbeddersConfig
    type: str = "tagger"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    decoder: Literal["softmax", "crf"] = "softmax"
    tag_scheme: Literal["plain", "bio"] = "plain"
    predicate_dim: int = check(NON_NEGATIVE, default=0)


@dataclass
class ParserConfig:
    """Graph-based dependency parser: biaffine arc scores and bilinear label scores.

    ``decoding``: ``mst`` (Chu-Liu-Edmonds, exactly one root: always a tree) or ``greedy``
    (each token's best head; may give cycles). ``punctuation``: whether UAS/LAS count
    tokens whose UPOS is ``PUNCT`` (``include``, the CoNLL 2018 convention) or not.
    """

    embedders: EmbeddersConfig
    type: str = "parser"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.33)
    arc_dim: int = check(POSITIVE, default=500)
    label_dim: int = check(POSITIVE, default=100)
    decoding: Literal["mst", "greedy"] = "mst"
    punctuation: Literal["include", "exclude"] = "include"


@dataclass
class CoreferenceConfig:
    """End-to-end span-ranking coreference (Lee et al. 2017) over whole documents.

    Documents are embedded and encoded in segments of whole sentences of up to
    ``segment_tokens`` tokens. Spans of up to ``max_span_width`` tokens inside a sentence
    are candidate mentions; the best ``spans_per_token`` × tokens by mention score are kept,
    and each scores its ``max_antecedents`` nearest kept predecessors and a dummy (no
    antecedent). ``feature_dim``: width and distance embeddings; ``hidden_dim``: the two
    hidden layers of the mention and pair scorers. ``max_train_sentences``: train on a
    random window of that many consecutive sentences of each document (unset: all of it);
    evaluation always reads whole documents.
    """

    embedders: EmbeddersConfig
    type: str = "coreference"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    max_span_width: int = check(POSITIVE, default=10)
    spans_per_token: float = check(POSITIVE, default=0.4)
    max_antecedents: int = check(POSITIVE, default=50)
    feature_dim: int = check(POSITIVE, default=20)
    hidden_dim: int = check(POSITIVE, default=150)
    segment_tokens: int = check(POSITIVE, default=64)
    max_train_sentences: Optional[int] = check(POSITIVE, default=None)


ModelConfig = Union[ClassifierConfig, TaggerConfig, ParserConfig, CoreferenceConfig]
MODEL_READERS = {"classifier": ("classification",), "tagger": ("conllu", "columns"), "parser": ("conllu",),
                 "coreference": ("conll2012",)}


# ---------------------------------------------------------------- trainer
@dataclass
class OptimizerConfig:
    type: Literal["adam", "adamw", "sgd", "adagrad"] = "adam"
    lr: float = check(POSITIVE, default=1e-3)
    weight_decay: float = check(NON_NEGATIVE, default=0.0)


@dataclass
class TrainerConfig:
    """``validation_metric``: the key to maximise (default: the model's main metric).
    ``max_batches_per_epoch``: cut epochs short (smoke tests, quick runs)."""

    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    epochs: int = check(POSITIVE, default=20)
    patience: int = check(POSITIVE, default=3)
    batch_size: int = check(POSITIVE, default=32)
    grad_clip: Optional[float] = check(POSITIVE, default=5.0)
    validation_metric: Optional[str] = None
    max_batches_per_epoch: Optional[int] = check(POSITIVE, default=None)
    seed: int = 13
    device: str = "cpu"


@dataclass
class TaskConfig:
    data: DataConfig
    model: ModelConfig
    trainer: TrainerConfig = field(default_factory=TrainerConfig)


# ---------------------------------------------------------------- loading
def parse_config(data: Any) -> TaskConfig:
    """A validated :class:`TaskConfig` from a plain dict; errors name the key path."""
    config = from_dict(TaskConfig, data)
    readers = MODEL_READERS[config.model.type]
    if config.data.reader.type not in readers:
        raise ConfigurationError(f"data.reader.type: a {config.model.type} reads {' or '.join(map(repr, readers))} "
                                 f"data, got {config.data.reader.type!r}")
    if getattr(config.model, "predicate_dim", 0) and getattr(config.data.reader, "predicate_column", None) is None:
        raise ConfigurationError("model.predicate_dim: the predicate indicator needs a 'columns' reader with "
                                 "data.reader.predicate_column")
    return config


def load_config(path: str) -> TaskConfig:
    """Read a ``.yaml``/``.yml`` or ``.json`` config file and validate it."""
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
    try:
        return parse_config(data)
    except ConfigurationError as error:
        message = str(error)
        raise ConfigurationError(message if message.startswith(path) else f"{path}: {message}") from None


def _parse_yaml(text: str, path: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ConfigurationError(f"{path}: YAML configs need PyYAML (pip install 'torchelmo[tasks]'); "
                                 f"or write the config as JSON") from None
    try:
        return yaml.safe_load(text)
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
    elmo = config.model.embedders.elmo
    if elmo is not None and elmo.options_file is not None:
        elmo.options_file = os.path.abspath(elmo.options_file)
        elmo.weight_file = os.path.abspath(elmo.weight_file)
    return config


def config_dict(config: TaskConfig) -> Dict[str, Any]:
    """The plain-dict form, as saved next to a trained model."""
    return to_dict(config)
