"""From a source's raw paragraphs to kept, tokenized sentences, with counts of what was dropped."""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List

from tqdm import tqdm

from .filters import SentenceFilter
from .normalize import normalize_text
from .sentences import split_sentences
from .tokens import tokenize


@dataclass
class SourceSentences:
    """A source's kept sentences (space-joined tokens, in reading order) and its counts."""

    name: str
    sentences: List[str] = field(default_factory=list)
    units: int = 0  # paragraphs (or pre-split sentences) the reader yielded
    candidates: int = 0  # sentences after splitting, before filtering
    rejected: Counter = field(default_factory=Counter)  # reason -> sentences

    def counts(self) -> Dict[str, object]:
        return {"units_read": self.units, "candidate_sentences": self.candidates,
                "kept_sentences": len(self.sentences),
                "rejected": dict(sorted(self.rejected.items()))}


def sentences_of(paragraph: str, split: bool) -> List[List[str]]:
    """Normalize ``paragraph`` and return its tokenized sentences (one if ``split`` is False)."""
    text = normalize_text(paragraph)
    if not text:
        return []
    return [tokenize(sentence) for sentence in (split_sentences(text) if split else [text])]


def process(name: str, units: Iterable[str], split: bool, sentence_filter: SentenceFilter,
            show_progress: bool = True) -> SourceSentences:
    """Split, tokenize and filter every unit of one source (progress shown per unit)."""
    result = SourceSentences(name)
    for unit in tqdm(units, desc=name, unit=" paragraphs", disable=not show_progress, mininterval=2.0):
        result.units += 1
        for tokens in sentences_of(unit, split):
            result.candidates += 1
            reason = sentence_filter.reject_reason(tokens)
            if reason is None:
                result.sentences.append(" ".join(tokens))
            else:
                result.rejected[reason] += 1
    return result
