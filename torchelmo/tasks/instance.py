"""One labelled example, whatever the task: a tokenized sentence and its annotations."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Instance:
    """A sentence and the annotations a reader found for it.

    ``tags``: one per token (POS, BIO entities, SRL roles); ``label``: one for the sentence;
    ``heads`` (0 = root, else the 1-based head index) and ``relations``: a dependency tree;
    ``pos``: POS tags (UPOS from CoNLL-U, used by the punctuation policy of UAS/LAS; PTB
    tags from PropBank, used by the verbal-predicate SRL scores); ``predicate``: 0-based
    index of the SRL predicate; ``split``: the split the file itself assigns (SICK's
    ``SemEval_set``); ``source``: ``file:line`` where the instance starts.
    """

    tokens: List[str]
    tags: Optional[List[str]] = None
    label: Optional[str] = None
    heads: Optional[List[int]] = None
    relations: Optional[List[str]] = None
    pos: Optional[List[str]] = None
    predicate: Optional[int] = None
    split: Optional[str] = None
    source: str = ""

    def record(self) -> Dict[str, Any]:
        """What a prediction record says about the input: ``source`` and ``tokens``."""
        return {"source": self.source, "tokens": self.tokens}


@dataclass
class SentencePair(Instance):
    """A premise (``tokens``) and a ``hypothesis``, for natural language inference."""

    hypothesis: List[str] = field(default_factory=list)

    def record(self) -> Dict[str, Any]:
        return {"source": self.source, "premise": self.tokens, "hypothesis": self.hypothesis}
