"""Text classification files: a label and a (tokenized) text per record.

``tsv``: ``label<TAB>text`` per line; ``csv``: ``label,text`` with CSV quoting (records may
span lines, as in the Pang & Lee file of python3-pattern); ``jsonl``: one JSON object per
line with ``text_field`` (a string or a list of tokens) and ``label_field``. The text is
split on whitespace.
"""
import csv
import json
from dataclasses import dataclass
from typing import Iterator, Literal, Tuple

from ...errors import InputError
from ..instance import Instance
from ..registry import register_reader
from .blocks import TextFileConfig, text_lines


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


@register_reader(ClassificationReaderConfig)
def read_classification(path: str, config: ClassificationReaderConfig) -> Iterator[Instance]:
    """Instances of ``path``; a malformed record or an empty text fails with ``file:line``."""
    for line, label, text in _records(path, config):
        tokens = (text.lower() if config.lowercase else text).split()
        if not tokens:
            raise InputError(f"{path}:{line}: empty text")
        yield Instance(tokens=tokens, label=label, source=f"{path}:{line}")


def _records(path: str, config: ClassificationReaderConfig) -> Iterator[Tuple[int, str, str]]:
    if config.format == "csv":
        reader = csv.reader(line for _, line in text_lines(path, config, keep_ends=True))
        start = 1
        for row in reader:
            if len(row) != 2:
                raise InputError(f"{path}:{start}: expected 2 CSV fields (label, text), got {len(row)}")
            yield start, row[0], row[1]
            start = reader.line_num + 1
        return
    for number, line in text_lines(path, config):
        if not line.strip():
            continue
        if config.format == "tsv":
            label, tab, text = line.partition("\t")
            if not tab:
                raise InputError(f"{path}:{number}: expected 'label<TAB>text'")
            yield number, label, text
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: invalid JSON ({error.msg})") from None
        if not isinstance(record, dict) or config.text_field not in record or config.label_field not in record:
            raise InputError(f"{path}:{number}: expected an object with {config.text_field!r} and "
                             f"{config.label_field!r}")
        text = record[config.text_field]
        yield number, str(record[config.label_field]), " ".join(text) if isinstance(text, list) else str(text)
