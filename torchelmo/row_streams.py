"""Where the sentences of consecutive batches sit when embedded as per-row streams
("continuous batching"); :meth:`torchelmo.bilm.ElmoBiLm.embed_batches` runs them.

Stateful ELMo (AllenNLP's behaviour) starts row ``r`` of each batch from the state row ``r``
ended with in the previous batch, so row ``r`` of consecutive batches forms one chain of
sentences, independent of every other row. Running each chain as one stream, where a row
moves on to its next sentence as soon as its current one ends, gives exactly the vectors of
batch-after-batch embedding while no row idles until its batch's longest sentence is done.
Without carried state (the ``zero`` and ``warm`` modes) there are no chains: every sentence
gets its own row, and rows sorted by length shrink slowly.

The token layer is context-free, so each distinct token string is embedded once.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .characters import BOS_TOKEN, EOS_TOKEN

Sentence = Sequence[str]
STREAM_BATCHES = 8  # consecutive batches that ElmoEmbedder.embed_sentences and `torchelmo embed` stream together


@dataclass
class StreamLayout:
    """Where the sentences of consecutive batches sit in the streams.

    ``segments[r]``: lengths (tokens + 2 for ``<S>``/``</S>``) of row ``r``'s sentences, in
    order; ``places[i][k]``: ``(row, first slot)`` of sentence ``k`` of batch ``i``, or None
    for a batch that is not run (all its sentences empty, as :meth:`ElmoEmbedder.embed_batch`).
    """

    segments: List[List[int]]
    places: List[List[Optional[Tuple[int, int]]]]

    @classmethod
    def for_batches(cls, batches: Sequence[Sequence[Sentence]], carry: bool) -> "StreamLayout":
        """Carried state: sentence ``k`` of every batch goes to row ``k``; else one row each."""
        segments: List[List[int]] = []
        places: List[List[Optional[Tuple[int, int]]]] = []
        for batch in batches:
            if all(len(sentence) == 0 for sentence in batch):
                places.append([None] * len(batch))
                continue
            batch_places = []
            for k, sentence in enumerate(batch):
                row = k if carry else len(segments)
                if row == len(segments):
                    segments.append([])
                batch_places.append((row, sum(segments[row])))
                segments[row].append(len(sentence) + 2)
            places.append(batch_places)
        return cls(segments, places)

    @property
    def time(self) -> int:
        return max((sum(s) for s in self.segments), default=0)


def stream_tokens(batches: Sequence[Sequence[Sentence]], layout: StreamLayout,
                  boundaries: Tuple[str, str] = (BOS_TOKEN, EOS_TOKEN)) -> Tuple[List[str], torch.Tensor]:
    """The distinct token strings and, per stream slot, the index of its token
    ``(rows, time)`` (``len(words)`` at slots past a row's end). ``boundaries``: the strings
    that stand for the sentence markers (the token encoder's)."""
    vocabulary: Dict[str, int] = {}
    slots = []
    for batch, batch_places in zip(batches, layout.places):
        for sentence, place in zip(batch, batch_places):
            if place is not None:
                ids = [vocabulary.setdefault(w, len(vocabulary)) for w in (boundaries[0], *sentence, boundaries[1])]
                slots.append((place, ids))
    index = torch.full((len(layout.segments), layout.time), len(vocabulary), dtype=torch.long)
    for (row, start), ids in slots:
        index[row, start:start + len(ids)] = torch.tensor(ids)
    return list(vocabulary), index
