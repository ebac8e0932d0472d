"""One labelled example, whatever the task: a tokenized sentence and its annotations."""
from dataclasses import dataclass
from typing import List, Optional


@dataclass
class Instance:
    """A sentence and the annotations a reader found for it.

    ``tags``: one per token (POS, BIO entities, SRL roles); ``label``: one for the sentence;
    ``heads`` (0 = root, else the 1-based head index) and ``relations``: a dependency tree;
    ``pos``: UPOS, used by the punctuation policy of UAS/LAS; ``predicate``: 0-based index
    of the SRL predicate; ``source``: ``file:line`` where the instance starts.
    """

    tokens: List[str]
    tags: Optional[List[str]] = None
    label: Optional[str] = None
    heads: Optional[List[int]] = None
    relations: Optional[List[str]] = None
    pos: Optional[List[str]] = None
    predicate: Optional[int] = None
    source: str = ""
