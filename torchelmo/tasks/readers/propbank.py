"""PropBank semantic roles in CoNLL-2012 columns: one instance per predicate.

Columns (tab-separated): document, part, token index, word, PTB POS, parse bit, predicate
lemma (or ``-``), roleset (or ``-``), then one column per predicate of the sentence, in the
order of the tokens that carry a roleset, with CoNLL bracket spans: ``(ARG0*`` opens an
argument, ``*)`` closes it, ``(V*)`` is a one-token span, ``*`` is inside or outside. The
spans become BIO tags (``B-ARG0 I-ARG0 O B-V``); ``C-`` and ``R-`` arguments keep their
labels. The predicate is the token with the roleset (for a split verb such as *x rays* that
is the token of ``C-V``).
"""
import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from ...errors import InputError
from ..instance import Instance
from ..registry import register_reader
from .blocks import NumberedLine, TextFileConfig, line_blocks


@dataclass
class PropbankReaderConfig(TextFileConfig):
    """PropBank roles in CoNLL-2012 columns (document, part, index, word, POS, parse,
    predicate lemma, roleset, then one bracket column per predicate): one instance per
    predicate, its arguments as BIO tags (``C-``/``R-`` kept as labels), the predicate's
    token marked for ``predicate_dim``, the POS tags kept for the verbal/all split."""

    type: str = "propbank"


WORD, POS, ROLESET, FIRST_ARGUMENT = 3, 4, 7, 8
_CELL = re.compile(r"(?P<opens>(?:\([^()*\s]+)*)\*(?P<closes>\)*)$")
_OPEN = re.compile(r"\(([^()*\s]+)")


@register_reader(PropbankReaderConfig)
def read_propbank(path: str, config: PropbankReaderConfig) -> Iterator[Instance]:
    """Instances of ``path``, one per predicate; ``source`` is the predicate's ``file:line``.
    Malformed columns and unbalanced or overlapping brackets fail with ``file:line``."""
    for block in line_blocks(path, lambda line: line.startswith("#"), config):
        rows = _rows(block, path)
        predicates = [i for i, row in enumerate(rows) if row[ROLESET] != "-"]
        columns = len(rows[0]) - FIRST_ARGUMENT
        if columns != len(predicates):
            raise InputError(f"{path}:{block[0][0]}: {len(predicates)} token(s) with a roleset but {columns} "
                             f"argument column(s)")
        tokens, pos = [row[WORD] for row in rows], [row[POS] for row in rows]
        for column, predicate in enumerate(predicates):
            cells = [(number, row[FIRST_ARGUMENT + column]) for (number, _), row in zip(block, rows)]
            yield Instance(tokens=tokens, tags=bracket_tags(cells, path), pos=pos, predicate=predicate,
                           source=f"{path}:{block[predicate][0]}")


def _rows(block: List[NumberedLine], path: str) -> List[List[str]]:
    rows = [line.split("\t") for _, line in block]
    width = len(rows[0])
    for (number, _), row in zip(block, rows):
        if len(row) < FIRST_ARGUMENT:
            raise InputError(f"{path}:{number}: expected at least {FIRST_ARGUMENT} tab-separated columns "
                             f"(document ... roleset), got {len(row)}")
        if len(row) != width:
            raise InputError(f"{path}:{number}: {len(row)} columns, but the sentence's first line has {width}")
        if not row[WORD]:
            raise InputError(f"{path}:{number}: empty word")
    return rows


def bracket_tags(cells: List[Tuple[int, str]], path: str) -> List[str]:
    """BIO tags of one predicate's column: ``cells`` are ``(line number, cell)`` per token.
    Arguments may not nest or overlap (BIO cannot hold them)."""
    tags: List[str] = []
    open_label: Optional[str] = None
    open_line = 0
    for number, cell in cells:
        match = _CELL.match(cell)
        if match is None:
            raise InputError(f"{path}:{number}: cannot read argument brackets {cell!r}")
        labels = _OPEN.findall(match.group("opens"))
        closes = len(match.group("closes"))
        if len(labels) > 1 or (labels and open_label is not None):
            raise InputError(f"{path}:{number}: argument {labels[-1]!r} opens inside another one "
                             f"(nested or overlapping arguments)")
        if closes > 1:
            raise InputError(f"{path}:{number}: {closes} arguments closed at once (nested arguments)")
        if labels:
            open_label, open_line = labels[0], number
            tags.append(f"B-{open_label}")
        elif open_label is not None:
            tags.append(f"I-{open_label}")
        else:
            tags.append("O")
        if closes:
            if open_label is None:
                raise InputError(f"{path}:{number}: argument closed but never opened")
            open_label = None
    if open_label is not None:
        raise InputError(f"{path}:{open_line}: argument {open_label!r} opened but not closed in its sentence")
    return tags
