"""Sentiment treebanks in PTB brackets (the Stanford Sentiment Treebank), one tree a line.

Every node carries a 0-4 label: ``(3 (2 It) (4 (2 's) (4 good)))``. The root's label is
the sentence's; with ``phrases`` every labelled subtree (down to single words) is an
instance too. ``labels: binary`` drops neutral nodes and maps 0-1 to ``negative``, 3-4 to
``positive``.
"""
from dataclasses import dataclass
from typing import Iterator, List, Literal, Optional, Tuple

from ...errors import InputError
from ..instance import Instance
from ..registry import register_reader
from .blocks import TextFileConfig, text_lines


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


FINE_LABELS = ("0", "1", "2", "3", "4")
BINARY_LABELS = {"0": "negative", "1": "negative", "3": "positive", "4": "positive"}

Node = Tuple[str, List[str]]  # a subtree's label and its words


@register_reader(SentimentTreeReaderConfig)
def read_sentiment_trees(path: str, config: SentimentTreeReaderConfig) -> Iterator[Instance]:
    """Instances of ``path`` (the root first, then, with ``phrases``, each subtree's);
    a malformed tree fails with ``file:line``."""
    for number, line in text_lines(path, config):
        if not line.strip():
            continue
        source = f"{path}:{number}"
        nodes = parse_tree(line, source)
        for label, words in nodes if config.phrases else nodes[:1]:
            label = label if config.labels == "fine" else BINARY_LABELS.get(label)
            if label is not None:
                yield Instance(tokens=words, label=label, source=source)


def parse_tree(text: str, source: str) -> List[Node]:
    """Every node of one bracketed tree, root first (pre-order), as ``(label, words)``.
    Atoms are separated by ASCII spaces and tabs only: SST words may hold a no-break space."""
    spaced = text.strip("\r\n").replace("\t", " ").replace("(", " ( ").replace(")", " ) ")
    atoms = [atom for atom in spaced.split(" ") if atom]
    nodes: List[Node] = []
    position = _parse_node(atoms, 0, nodes, source)
    if position != len(atoms):
        raise InputError(f"{source}: text after the tree's closing bracket: {' '.join(atoms[position:])[:40]!r}")
    return nodes


def _parse_node(atoms: List[str], position: int, nodes: List[Node], source: str) -> int:
    """Parse the node starting at ``atoms[position]`` into ``nodes``; returns the position after it."""
    if _at(atoms, position) != "(":
        raise InputError(f"{source}: expected '(' at atom {position + 1}, got {_at(atoms, position)!r}")
    label = _at(atoms, position + 1)
    if label not in FINE_LABELS:
        raise InputError(f"{source}: expected a sentiment label 0-4 after '(', got {label!r}")
    words: List[str] = []
    nodes.append((label, words))
    position += 2
    if _at(atoms, position) not in ("(", ")", None):
        words.append(atoms[position])
        position += 1
    else:
        while _at(atoms, position) == "(":
            child = len(nodes)
            position = _parse_node(atoms, position, nodes, source)
            words.extend(nodes[child][1])
    if _at(atoms, position) != ")":
        found = _at(atoms, position)
        raise InputError(f"{source}: expected ')' closing a ({label} node, got "
                         f"{'the end of the line' if found is None else repr(found)}")
    if not words:
        raise InputError(f"{source}: a ({label} node has no words")
    return position + 1


def _at(atoms: List[str], position: int) -> Optional[str]:
    return atoms[position] if position < len(atoms) else None
