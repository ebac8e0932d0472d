"""String <-> id tables for words and labels, built from the training instances."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

PADDING = "@@PADDING@@"
UNKNOWN = "@@UNKNOWN@@"


@dataclass
class TaskVocabulary:
    """An ordered list of strings. Word tables start with padding (id 0) and unknown (id 1);
    label tables have neither, and an unseen label is an error of the data."""

    items: List[str]
    index: Dict[str, int] = field(init=False, repr=False)
    has_unknown: bool = False

    def __post_init__(self) -> None:
        self.index = {item: i for i, item in enumerate(self.items)}

    @classmethod
    def of_words(cls, tokens: Iterable[str], min_count: int = 1) -> "TaskVocabulary":
        counts = Counter(tokens)
        words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls([PADDING, UNKNOWN, *words], has_unknown=True)

    @classmethod
    def of_labels(cls, labels: Iterable[str]) -> "TaskVocabulary":
        return cls(sorted(set(labels)))

    def __len__(self) -> int:
        return len(self.items)

    def id(self, item: str) -> Optional[int]:
        """The id of ``item``; unknown words map to the unknown id, unknown labels to ``None``."""
        found = self.index.get(item)
        if found is None and self.has_unknown:
            return self.index[UNKNOWN]
        return found

    def to_dict(self) -> Dict[str, object]:
        return {"items": self.items, "has_unknown": self.has_unknown}

    @classmethod
    def from_dict(cls, data: Dict[str, object]) -> "TaskVocabulary":
        return cls(list(data["items"]), has_unknown=bool(data["has_unknown"]))
