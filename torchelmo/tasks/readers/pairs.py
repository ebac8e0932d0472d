"""Labelled sentence pairs for natural language inference: SNLI-style TSV, SICK, JSON lines.

``tsv``: ``label<TAB>premise<TAB>hypothesis`` per line, sentences tokenized (split on
spaces); a first line ``label<TAB>premise<TAB>hypothesis`` is a header. ``sick``: SICK.txt,
tab-separated under a header that names its columns; ``sentence_A`` is the premise,
``sentence_B`` the hypothesis, ``entailment_label`` the label and ``SemEval_set`` the
instance's own split; its raw text is tokenized by :mod:`torchelmo.tokenizer`. A path
ending in ``.jsonl`` holds one object per line, ``{"premise", "hypothesis"[, "label"]}``
(raw text, tokenized the same way; strings or token lists), whatever the format.
"""
import json
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Literal, Optional, Tuple, Union

from ...errors import InputError
from ...tokenizer import tokenize
from ..instance import SentencePair
from ..registry import register_reader
from .blocks import TextFileConfig, text_lines


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


TSV_HEADER = ["label", "premise", "hypothesis"]
Fields = Dict[str, Union[str, List[str], None]]  # premise and hypothesis as tokens; label and split
SICK_COLUMNS = {"premise": "sentence_A", "hypothesis": "sentence_B", "label": "entailment_label",
                "split": "SemEval_set"}


@register_reader(PairReaderConfig)
def read_pairs(path: str, config: PairReaderConfig) -> Iterator[SentencePair]:
    """The pairs of ``path``; a missing field, an empty sentence or a label outside
    ``config.labels`` fails with ``file:line``."""
    if path.endswith(".jsonl"):
        records = _jsonl(path, config)
    elif config.format == "sick":
        records = _sick(path, config)
    else:
        records = _tsv(path, config)
    for number, fields in records:
        yield _pair(fields, config, f"{path}:{number}")


def _pair(fields: Fields, config: PairReaderConfig, source: str) -> SentencePair:
    sentences = []
    for name in ("premise", "hypothesis"):
        tokens = [t.lower() if config.lowercase else t for t in fields[name] if t]
        if not tokens:
            raise InputError(f"{source}: empty {name}")
        sentences.append(tokens)
    label = fields.get("label")
    if label is not None:
        label = str(label).lower()
        if label not in config.labels:
            raise InputError(f"{source}: unknown label {fields['label']!r} (expected one of {', '.join(config.labels)})")
    return SentencePair(tokens=sentences[0], hypothesis=sentences[1], label=label, split=fields.get("split"),
                        source=source)


def _lines(path: str, config: PairReaderConfig) -> Iterator[Tuple[int, str]]:
    for number, line in text_lines(path, config):
        if line.strip():
            yield number, line


def _tsv(path: str, config: PairReaderConfig) -> Iterator[Tuple[int, Fields]]:
    for number, line in _lines(path, config):
        fields = line.split("\t")
        if number == 1 and fields == TSV_HEADER:
            continue
        if len(fields) != 3:
            raise InputError(f"{path}:{number}: expected 'label<TAB>premise<TAB>hypothesis', got {len(fields)} "
                             f"field(s)")
        yield number, {"label": fields[0], "premise": fields[1].split(), "hypothesis": fields[2].split()}


def _sick(path: str, config: PairReaderConfig) -> Iterator[Tuple[int, Fields]]:
    header: Optional[Dict[str, int]] = None
    for number, line in _lines(path, config):
        fields = line.split("\t")
        if header is None:
            missing = [c for c in SICK_COLUMNS.values() if c not in fields]
            if missing:
                raise InputError(f"{path}:{number}: a SICK header needs the columns {', '.join(missing)}")
            header = {name: fields.index(column) for name, column in SICK_COLUMNS.items()}
            width = len(fields)
            continue
        if len(fields) != width:
            raise InputError(f"{path}:{number}: expected {width} tab-separated fields as in the header, "
                             f"got {len(fields)}")
        values = {name: fields[index] for name, index in header.items()}
        yield number, {**values, "premise": tokenize(values["premise"]), "hypothesis": tokenize(values["hypothesis"])}


def _jsonl(path: str, config: PairReaderConfig) -> Iterator[Tuple[int, Fields]]:
    for number, line in _lines(path, config):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: invalid JSON ({error.msg})") from None
        if not isinstance(record, dict) or not all(isinstance(record.get(k), (str, list))
                                                   for k in ("premise", "hypothesis")):
            raise InputError(f"{path}:{number}: expected an object with 'premise' and 'hypothesis'")
        sentences = {k: record[k] if isinstance(record[k], list) else tokenize(record[k])
                     for k in ("premise", "hypothesis")}
        yield number, {**sentences, "label": record.get("label")}
