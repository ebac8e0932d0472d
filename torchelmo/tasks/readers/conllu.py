"""CoNLL-U (Universal Dependencies): words with UPOS, XPOS, heads and relations.

Multiword-token lines (``1-2``) and empty nodes (``8.1``) are skipped: instances hold the
syntactic words, as UD's evaluation does. With ``tags: entity`` the tags come from GUM's
``Entity=`` brackets (see :mod:`.entities`).
"""
from dataclasses import dataclass
from typing import Iterator, List, Literal

from ...errors import InputError
from ..instance import Instance
from ..registry import register_reader
from .blocks import TextFileConfig, line_blocks
from .entities import EntityBrackets


@dataclass
class ConlluReaderConfig(TextFileConfig):
    """CoNLL-U (UD). ``tags``: which tag each token gets: ``upos``, ``xpos``, or ``entity``
    (GUM's ``Entity=`` brackets in MISC as BIO tags of the outermost mentions)."""

    type: str = "conllu"
    tags: Literal["upos", "xpos", "entity"] = "upos"


NUM_COLUMNS = 10


@register_reader(ConlluReaderConfig)
def read_conllu(path: str, config: ConlluReaderConfig) -> Iterator[Instance]:
    """Instances of ``path``, one per sentence; a malformed line fails with ``file:line``."""
    for block in line_blocks(path, lambda line: line.startswith("#"), config):
        rows: List[List[str]] = []
        for number, line in block:
            columns = line.split("\t")
            if len(columns) != NUM_COLUMNS:
                raise InputError(f"{path}:{number}: expected {NUM_COLUMNS} tab-separated CoNLL-U columns, "
                                 f"got {len(columns)}")
            if "-" not in columns[0] and "." not in columns[0]:
                rows.append(columns + [str(number)])
        if rows:
            yield _instance(rows, config, f"{path}:{rows[0][-1]}")


def _instance(rows: List[List[str]], config: ConlluReaderConfig, source: str) -> Instance:
    path = source.rsplit(":", 1)[0]
    heads = []
    for row in rows:
        if not row[6].isdigit():
            raise InputError(f"{path}:{row[10]}: HEAD must be a non-negative integer, got {row[6]!r}")
        if int(row[6]) > len(rows):
            raise InputError(f"{path}:{row[10]}: HEAD {row[6]} is out of range: the sentence has {len(rows)} "
                             f"words (0 is the root)")
        heads.append(int(row[6]))
    if config.tags == "entity":
        brackets = EntityBrackets(path)
        for i, row in enumerate(rows):
            brackets.add_token(i, _misc_value(row[9], "Entity"), int(row[10]))
        tags = brackets.bio_tags(len(rows))
    else:
        tags = [row[3] if config.tags == "upos" else row[4] for row in rows]
    return Instance(tokens=[row[1] for row in rows], tags=tags, heads=heads, relations=[row[7] for row in rows],
                    pos=[row[3] for row in rows], source=source)


def _misc_value(misc: str, key: str) -> str:
    for item in misc.split("|"):
        if item.startswith(key + "="):
            return item[len(key) + 1:]
    return ""
