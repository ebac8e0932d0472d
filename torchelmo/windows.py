"""Long sentences in overlapping windows: planning, batching and stitching.

A sentence of ``L`` tokens longer than the window ``N`` is cut into windows of exactly ``N``
tokens that start every ``N - K`` tokens (``K`` the overlap); the last one is moved back to
end at the sentence's end, so it overlaps its neighbour by ``K`` or more. Each window is
embedded as a sentence of its own (the biLM adds ``<S>``/``</S>`` to it). Each token takes
its vectors from the window in which it has the most context on both sides: consecutive
windows hand over in the middle of their overlap, so every token is taken exactly once and
the result is ``(layers, L, dim)``, as full-length processing gives. Sentences of ``N``
tokens or fewer are not touched (bit-identical to embedding without windows).

The sentences and windows of a batch run, in order, as consecutive batches of at most the
batch size, one batch at a time, so the biLM never holds more than batch-size rows of at most
``N`` tokens, whatever ``L`` is.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from .errors import ConfigurationError

Sentence = Sequence[str]
EmbedBatches = Callable[[Sequence[Sequence[Sentence]]], List[List[torch.Tensor]]]


def default_overlap(window: int) -> int:
    """``window // 4``: the overlap when none is given."""
    return window // 4


@dataclass(frozen=True)
class Window:
    """Tokens ``[start, end)`` of a sentence embedded together; tokens ``[keep_start,
    keep_end)`` take their vectors from it."""

    start: int
    end: int
    keep_start: int
    keep_end: int


@dataclass(frozen=True)
class Windowing:
    """Windows of ``size`` tokens overlapping by ``overlap`` (``0 <= overlap < size / 2``,
    so that the kept part of a window never reaches past its neighbours)."""

    size: int
    overlap: int

    @classmethod
    def from_settings(cls, window: int, overlap: Optional[int] = None) -> Optional["Windowing"]:
        """None for ``window == 0`` (no windows); raises :class:`ConfigurationError` for bad values."""
        if window < 0:
            raise ConfigurationError(f"window must be >= 0 (0: no windows), got {window}")
        if window == 0:
            if overlap is not None:
                raise ConfigurationError(f"window_overlap {overlap} needs a window (window > 0)")
            return None
        overlap = default_overlap(window) if overlap is None else overlap
        if not 0 <= 2 * overlap < window:
            raise ConfigurationError(f"window_overlap must be >= 0 and less than half the window "
                                     f"({window}), got {overlap}")
        return cls(window, overlap)

    def plan(self, length: int) -> List[Window]:
        """The windows of a sentence of ``length`` tokens: one (the sentence) when it fits."""
        if length <= self.size:
            return [Window(0, length, 0, length)]
        stride = self.size - self.overlap
        starts = list(range(0, length - self.size, stride)) + [length - self.size]
        windows, keep_start = [], 0
        for i, start in enumerate(starts):
            end = start + self.size
            keep_end = length if i + 1 == len(starts) else (starts[i + 1] + end) // 2
            windows.append(Window(start, end, keep_start, keep_end))
            keep_start = keep_end
        return windows

    def embed_batches(self, batches: Sequence[Sequence[Sentence]], embed: EmbedBatches,
                      batch_size: int) -> List[List[torch.Tensor]]:
        """``embed`` (a biLM's ``embed_batches``: batches of sentences -> ``(layers, tokens,
        dim)`` each) with sentences over ``size`` tokens embedded in windows and stitched back.

        Batch ``b``'s sentences and windows, in order, run as consecutive batches of at most
        ``max(batch_size, len(b))`` of them, one batch per call of ``embed`` (the biLM holds one
        batch of windows at a time); without long sentences this is one call on ``batches`` as
        they are."""
        if all(len(s) <= self.size for batch in batches for s in batch):
            return embed(batches)
        plans = [[self.plan(len(s)) for s in batch] for batch in batches]
        # Every piece: (batch, sentence, window, its tokens), packed into batches.
        pieces: List[List[Tuple[int, int, Window, Sentence]]] = []
        for b, (batch, batch_plans) in enumerate(zip(batches, plans)):
            flat = [(b, k, w, s[w.start:w.end]) for k, (s, plan) in enumerate(zip(batch, batch_plans))
                    for w in plan]
            size = max(batch_size, len(batch))
            pieces.extend(flat[i:i + size] for i in range(0, len(flat), size))
        outputs: List[List[Optional[torch.Tensor]]] = [[None] * len(batch) for batch in batches]
        for piece_batch in pieces:
            vectors = embed([[tokens for *_, tokens in piece_batch]])[0]
            for (b, k, w, _), window_vectors in zip(piece_batch, vectors):
                if len(plans[b][k]) == 1:
                    outputs[b][k] = window_vectors
                    continue
                if outputs[b][k] is None:  # the whole sentence: unavoidable
                    outputs[b][k] = window_vectors.new_empty(
                        (window_vectors.size(0), len(batches[b][k]), window_vectors.size(2)))
                outputs[b][k][:, w.keep_start:w.keep_end] = \
                    window_vectors[:, w.keep_start - w.start:w.keep_end - w.start]
        return outputs  # type: ignore[return-value]
