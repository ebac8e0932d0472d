"""A document for coreference: its tokens, sentence boundaries and mention clusters.

A :class:`Document` is an :class:`~torchelmo.tasks.instance.Instance` whose ``tokens`` are
the whole document, so the trainer's batching (by length) and the prediction records work
unchanged. Mentions are ``(first, last)`` token indexes into the document, inclusive.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ..instance import Instance

Mention = Tuple[int, int]  # first and last token of the document (inclusive)
Cluster = List[Mention]


@dataclass
class Document(Instance):
    """``sentence_lengths`` sum to ``len(tokens)``; ``clusters`` is ``None`` without gold
    annotation. ``name`` and ``part`` are those of CoNLL-2012's ``#begin document (name); part NNN``."""

    sentence_lengths: List[int] = field(default_factory=list)
    clusters: Optional[List[Cluster]] = None
    name: str = ""
    part: str = "000"

    def sentence_ids(self) -> List[int]:
        """The sentence number of every token: ``len(tokens)`` ints."""
        return [i for i, length in enumerate(self.sentence_lengths) for _ in range(length)]

    def segments(self, max_tokens: int) -> List[Tuple[int, int]]:
        """Consecutive ``(start, end)`` token ranges (end exclusive) that cover the document:
        whole sentences packed up to ``max_tokens`` tokens; a longer sentence is cut into
        pieces of ``max_tokens``."""
        ranges: List[Tuple[int, int]] = []
        start = end = 0
        for length in self.sentence_lengths:
            if end > start and end - start + length > max_tokens:
                ranges.append((start, end))
                start = end
            end += length
            while end - start > max_tokens:
                ranges.append((start, start + max_tokens))
                start += max_tokens
        if end > start:
            ranges.append((start, end))
        return ranges

    def window(self, first_sentence: int, num_sentences: int) -> "Document":
        """The sentences ``first_sentence .. first_sentence + num_sentences - 1`` as a
        document of their own, keeping the mentions inside them (clusters left with no
        mention are dropped)."""
        lengths = self.sentence_lengths[first_sentence:first_sentence + num_sentences]
        start = sum(self.sentence_lengths[:first_sentence])
        end = start + sum(lengths)
        clusters = None
        if self.clusters is not None:
            kept = ([(a - start, b - start) for a, b in cluster if start <= a and b < end] for cluster in self.clusters)
            clusters = [cluster for cluster in kept if cluster]
        return Document(tokens=self.tokens[start:end], source=self.source, sentence_lengths=lengths,
                        clusters=clusters, name=self.name, part=self.part)


def as_document(instance: Instance) -> Document:
    """``instance`` itself if it is a document, else a one-sentence document without gold
    clusters (e.g. a line of ``torchelmo task predict --text``)."""
    if isinstance(instance, Document):
        return instance
    return Document(tokens=instance.tokens, source=instance.source, sentence_lengths=[len(instance.tokens)])
