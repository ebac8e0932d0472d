"""CoNLL-style column files: one token per line, a blank line between sentences.

Covers NER/chunking files (CoNLL-2000/2003 layout) and SRL as BIO tagging with one predicate
per sentence, marked in ``predicate_column`` by any value other than ``-``, ``_`` or ``O``.
"""
from dataclasses import dataclass
from typing import Iterator, List, Optional

from ...errors import InputError
from ..instance import Instance
from ..registry import register_reader
from .blocks import TextFileConfig, line_blocks


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


_UNMARKED = ("-", "_", "O")


@register_reader(ColumnsReaderConfig)
def read_columns(path: str, config: ColumnsReaderConfig) -> Iterator[Instance]:
    """Instances of ``path``; a line without the configured columns fails with ``file:line``."""
    def is_comment(line: str) -> bool:
        return line.startswith(config.comment_prefix) or line.startswith("-DOCSTART-")

    for block in line_blocks(path, is_comment, config):
        rows = []
        for number, line in block:
            columns = line.split(config.separator)
            for name in ("token_column", "tag_column", "predicate_column"):
                index = getattr(config, name)
                if index is not None and not -len(columns) <= index < len(columns):
                    raise InputError(f"{path}:{number}: {name} {index} does not exist in a line of "
                                     f"{len(columns)} columns")
            rows.append(columns)
        yield _instance(rows, config, path, block[0][0])


def _instance(rows: List[List[str]], config: ColumnsReaderConfig, path: str, start: int) -> Instance:
    predicate: Optional[int] = None
    if config.predicate_column is not None:
        marked = [i for i, row in enumerate(rows) if row[config.predicate_column] not in _UNMARKED]
        if len(marked) != 1:
            raise InputError(f"{path}:{start}: expected one predicate in column {config.predicate_column} "
                             f"of this sentence, found {len(marked)}")
        predicate = marked[0]
    return Instance(tokens=[row[config.token_column] for row in rows], tags=[row[config.tag_column] for row in rows],
                    predicate=predicate, source=f"{path}:{start}")
