"""The task configuration: data, model (embedders, encoder, head) and trainer, as dataclasses.

Loaded from YAML or JSON and validated at the edge: every error names the key path, e.g.
``model.encoder.hidden_size: expected positive int, got -3``. Relative paths are resolved
against the current directory. Switching ELMo on is adding the ``model.embedders.elmo``
block; nothing else changes. See ``docs/tasks.md`` for every key.
"""
import codecs
import copy
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Sequence, Union

from ..errors import ConfigurationError
from ..states import resolve_state_mode
from .schema import NON_NEGATIVE, POSITIVE, PROBABILITY, check, from_dict, to_dict


# ---------------------------------------------------------------- data
@dataclass
class TextFileConfig:
    """How a reader decodes its files (the base of every reader config). ``encoding``: an
    ASCII-compatible Python codec (default ``utf-8``, whose byte-order mark is dropped; e.g.
    ``latin-1`` for a file kept in its original encoding, as TREC). ``errors``: ``strict``
    (a line that does not decode fails with ``file:line``) or ``replace`` (bad bytes become
    U+FFFD)."""

    encoding: str = "utf-8"
    errors: Literal["strict", "replace"] = "strict"

    def __post_init__(self) -> None:
        try:
            codec = codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"encoding: unknown encoding {self.encoding!r}") from None
        if b"\n\t ;,".decode(codec.name, "replace") != "\n\t ;,":
            raise ValueError(f"encoding: {self.encoding!r} does not keep ASCII as it is (UTF-16 or -32?); "
                             f"convert the file to UTF-8")

    @property
    def encoding_name(self) -> str:
        """The encoding as messages name it (``UTF-8``, ``latin-1``, ...)."""
        return "UTF-8" if codecs.lookup(self.encoding).name == "utf-8" else self.encoding


@dataclass
class ConlluReaderConfig(TextFileConfig):
    """CoNLL-U (UD). ``tags``: which tag each token gets: ``upos``, ``xpos``, or ``entity``
    (GUM's ``Entity=`` brackets in MISC as BIO tags of the outermost mentions)."""

    type: str = "conllu"
    tags: Literal["upos", "xpos", "entity"] = "upos"


@dataclass
class ColumnsReaderConfig(TextFileConfig):
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
class ClassificationReaderConfig(TextFileConfig):
    """One text per line with a label. ``format``: ``tsv`` (``label<TAB>text``), ``csv``
    (quoted, ``label,text``) or ``jsonl`` (``text_field``/``label_field``). The text is
    split on whitespace (give it tokenized); ``lowercase`` lowercases it."""

    type: str = "classification"
    format: Literal["tsv", "csv", "jsonl"] = "tsv"
    text_field: str = "text"
    label_field: str = "label"
    lowercase: bool = False


@dataclass
class Conll2012ReaderConfig(TextFileConfig):
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
        super().__post_init__()
        if self.sentences is not None:
            self.sentences = os.path.abspath(self.sentences)


@dataclass
class SentimentTreeReaderConfig(TextFileConfig):
    """PTB-bracketed sentiment trees, one per line, a 0-4 label on every node (SST).

    ``labels``: ``fine`` keeps the five classes; ``binary`` drops neutral (2) and maps 0-1
    to ``negative``, 3-4 to ``positive`` (SST-2). ``phrases``: one instance per labelled
    subtree (every phrase, the standard way to train), else the root (sentence) only.
    """

    type: str = "sentiment_trees"
    labels: Literal["fine", "binary"] = "fine"
    phrases: bool = False


@dataclass
class PropbankReaderConfig(TextFileConfig):
    """PropBank roles in CoNLL-2012 columns (document, part, index, word, POS, parse,
    predicate lemma, roleset, then one bracket column per predicate): one instance per
    predicate, its arguments as BIO tags (``C-``/``R-`` kept as labels), the predicate's
    token marked for ``predicate_dim``, the POS tags kept for the verbal/all split."""

    type: str = "propbank"


@dataclass
class PairReaderConfig(TextFileConfig):
    """Labelled sentence pairs. ``format``: ``tsv`` (``label<TAB>premise<TAB>hypothesis``,
    tokenized, split on spaces; a first line ``label<TAB>premise<TAB>hypothesis`` is a
    header) or ``sick`` (SICK.txt: a header naming the columns, raw text tokenized by
    :mod:`torchelmo.tokenizer`, ``SemEval_set`` as the file's own split). A ``.jsonl`` file
    is read as JSON lines ``{"premise", "hypothesis"[, "label"]}`` whatever the format
    (raw text, tokenized; for ``task predict``). Labels are matched case-insensitively
    against ``labels`` and kept lowercased."""

    type: str = "pair"
    format: Literal["tsv", "sick"] = "tsv"
    labels: List[str] = field(default_factory=lambda: ["entailment", "neutral", "contradiction"])
    lowercase: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.labels = [label.lower() for label in self.labels]
        if not self.labels or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels: expected distinct labels, got {self.labels}")


@dataclass
class SquadReaderConfig(TextFileConfig):
    """SQuAD JSON (``data[].paragraphs[].{context, qas[]}``), or JSON lines of
    ``{"id", "context", "question"}`` (optionally ``"answers"`` as in SQuAD), tokenized by
    :mod:`torchelmo.tokenizer`. A question none of whose answers has an offset
    (``answer_start: -1``) is skipped and counted in the log; other bad records are errors."""

    type: str = "squad"


ReaderConfig = Union[ConlluReaderConfig, ColumnsReaderConfig, ClassificationReaderConfig, Conll2012ReaderConfig,
                     SentimentTreeReaderConfig, PropbankReaderConfig, PairReaderConfig, SquadReaderConfig]


@dataclass
class SourceConfig:
    """Where one split's instances come from.

    ``path``: a file or a glob. ``split_file`` + ``split``: keep only files whose stem is
    listed under ``split`` in that JSON file (``{"dev": [...], "test": [...]}``); a split
    name the file does not list means "every file listed under no split" (e.g. GUM's train).
    ``split`` alone: keep the instances that the file itself assigns to ``split`` (SICK's
    ``SemEval_set`` column). ``num_folds`` + ``folds``: keep instance ``i`` when
    ``i % num_folds`` is in ``folds`` (a fixed split of a file that has none). ``limit``:
    the first ``limit`` instances.
    ``reader``: this split's reader where it differs from ``data.reader`` (e.g. training
    on every phrase of a treebank, scoring whole sentences).
    """

    path: str
    split_file: Optional[str] = None
    split: Optional[str] = None
    num_folds: Optional[int] = check(POSITIVE, default=None)
    folds: Optional[List[int]] = check(NON_NEGATIVE, default=None)
    limit: Optional[int] = check(POSITIVE, default=None)
    reader: Optional[ReaderConfig] = None

    def __post_init__(self) -> None:
        if self.split_file is not None and self.split is None:
            raise ValueError("split: a split_file needs the split to keep")
        if (self.num_folds is None) != (self.folds is None):
            raise ValueError("folds: give both num_folds and folds, or neither")
        if self.folds is not None and any(f >= self.num_folds for f in self.folds):
            raise ValueError(f"folds: expected values below num_folds={self.num_folds}, got {self.folds}")


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
class PretrainedEmbeddingConfig:
    """Pretrained word vectors: a GloVe/word2vec text file (``.gz`` allowed) or a known name
    (``glove-6b-50d``). Only the vectors of words in the data are kept; other words share
    one learned unknown vector. ``trainable``: fine-tune the vectors too."""

    path: str
    trainable: bool = False
    lowercase: bool = False


@dataclass
class CharacterCnnConfig:
    """A character CNN per token over :func:`torchelmo.batch_to_ids` ids: character
    embeddings, one convolution per ``[width, count]`` filter, max-pooled over the
    characters, then the activation; the output has ``sum(count)`` features."""

    embedding_dim: int = check(POSITIVE, default=16)
    filters: List[List[int]] = check(POSITIVE, default_factory=lambda: [[3, 50]])
    activation: Literal["relu", "tanh"] = "relu"

    def __post_init__(self) -> None:
        if not self.filters or any(len(f) != 2 for f in self.filters):
            raise ValueError(f"filters: expected a non-empty list of [width, count] pairs, got {self.filters}")


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
    ``cache``: a frozen, deterministic (``zero`` or ``warm``) biLM's three layers are computed
    once per distinct sentence and kept in memory (``float32`` or ``float16``); ``none``
    recomputes them.
    """

    options_file: Optional[str] = None
    weight_file: Optional[str] = None
    dropout: float = check(PROBABILITY, default=0.5)
    do_layer_norm: bool = False
    requires_grad: bool = False
    num_output_representations: Literal[1, 2] = 1
    state: Optional[Literal["carry", "zero", "warm"]] = None
    stateful: Optional[bool] = None
    cache: Literal["none", "float32", "float16"] = "float32"

    def __post_init__(self) -> None:
        if (self.options_file is None) != (self.weight_file is None):
            raise ValueError("weight_file: give both options_file and weight_file, or neither "
                             "(the bundled default model)")
        if self.state is None:
            self.state = "zero" if self.stateful is None else resolve_state_mode(None, self.stateful)
        elif self.stateful is not None and resolve_state_mode(None, self.stateful) != self.state:
            raise ValueError(f"state: {self.state!r} contradicts stateful: {self.stateful}; give only state")

    @property
    def deterministic(self) -> bool:
        """Whether a sentence's biLM layers depend on nothing but the sentence."""
        return self.state != "carry"

    @property
    def cached(self) -> bool:
        """Whether the biLM layers are cached: asked for, frozen and deterministic."""
        return self.cache != "none" and not self.requires_grad and self.deterministic


@dataclass
class EmbeddersConfig:
    words: Optional[WordEmbeddingConfig] = None
    pretrained: Optional[PretrainedEmbeddingConfig] = None
    characters: Optional[CharacterCnnConfig] = None
    elmo: Optional[ElmoConfig] = None

    def __post_init__(self) -> None:
        if self.words is None and self.pretrained is None and self.characters is None and self.elmo is None:
            raise ValueError("words: give at least one of words, pretrained, characters and elmo")


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
    """Sequence tagger: encoder, then per-token ``softmax``, a linear-chain ``crf``, or
    ``viterbi`` (softmax training, BIO-constrained Viterbi decoding: He et al. 2017).

    ``tag_scheme``: ``bio`` scores exact spans (and constrains the CRF to valid BIO);
    ``srl`` is BIO scored as the CoNLL-2005 SRL scorer does (``V`` left out, ``C-X``
    joined to its ``X``; also over verbal predicates when the reader keeps POS);
    ``plain`` scores token accuracy. ``predicate_dim`` > 0 adds an embedded predicate
    indicator (SRL as BIO tagging); the reader must mark the predicate.
    """

    embedders: EmbeddersConfig
    type: str = "tagger"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    decoder: Literal["softmax", "crf", "viterbi"] = "softmax"
    tag_scheme: Literal["plain", "bio", "srl"] = "plain"
    predicate_dim: int = check(NON_NEGATIVE, default=0)

    def __post_init__(self) -> None:
        if self.decoder == "viterbi" and self.tag_scheme == "plain":
            raise ValueError("decoder: 'viterbi' constrains BIO tags; give tag_scheme 'bio' or 'srl'")


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


@dataclass
class PairClassifierConfig:
    """ESIM (Chen et al. 2017) over a premise and a hypothesis, both through the same
    embedders and ``encoder``; soft alignment; ``[a; ã; a − ã; a ⊙ ã]`` projected to
    ``projection_dim`` (ReLU); the ``composition`` BiLSTM; mean and max pooling of both
    sentences; an MLP with one ``hidden_dim`` tanh layer."""

    embedders: EmbeddersConfig
    type: str = "pair_classifier"
    encoder: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=300, num_layers=1))
    composition: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=300, num_layers=1))
    projection_dim: int = check(POSITIVE, default=300)
    hidden_dim: int = check(POSITIVE, default=300)
    dropout: float = check(PROBABILITY, default=0.5)


@dataclass
class SpanQaConfig:
    """Extractive question answering, BiDAF-style (Seo et al. 2017).

    ``encoder``: the contextual BiLSTM shared by passage and question; ``modelling``: the
    BiLSTM over the attended passage; the end scores read a further one-layer BiLSTM of the
    same size. Predicted answers have at most ``max_answer_length`` tokens.
    ``max_train_passage_tokens``: in training, a longer passage is cut to a random window of
    that many tokens that holds the gold answer (unset: whole passages); evaluation and
    prediction always read whole passages.
    """

    embedders: EmbeddersConfig
    type: str = "span_qa"
    encoder: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=100, num_layers=1))
    modelling: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=100, num_layers=2))
    dropout: float = check(PROBABILITY, default=0.2)
    max_answer_length: int = check(POSITIVE, default=30)
    max_train_passage_tokens: Optional[int] = check(POSITIVE, default=400)


ModelConfig = Union[ClassifierConfig, TaggerConfig, ParserConfig, CoreferenceConfig, PairClassifierConfig,
                    SpanQaConfig]
MODEL_READERS = {"classifier": ("classification", "sentiment_trees"), "tagger": ("conllu", "columns", "propbank"),
                 "parser": ("conllu",), "coreference": ("conll2012",), "pair_classifier": ("pair",),
                 "span_qa": ("squad",)}


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
    data = config.data
    for key, reader in (("data.reader", data.reader), *((f"data.{name}.reader", source.reader) for name, source in
                                                        (("train", data.train), ("validation", data.validation),
                                                         ("test", data.test)) if source and source.reader)):
        if reader.type not in readers:
            raise ConfigurationError(f"{key}.type: a {config.model.type} reads {' or '.join(map(repr, readers))} "
                                     f"data, got {reader.type!r}")
    reader = config.data.reader
    marks_predicates = reader.type == "propbank" or getattr(reader, "predicate_column", None) is not None
    if getattr(config.model, "predicate_dim", 0) and not marks_predicates:
        raise ConfigurationError("model.predicate_dim: the predicate indicator needs a 'propbank' reader, or a "
                                 "'columns' reader with data.reader.predicate_column")
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
    return config


def config_dict(config: TaskConfig) -> Dict[str, Any]:
    """The plain-dict form, as saved next to a trained model."""
    return to_dict(config)
