"""Documents -> ELMo layers, batched by a token budget (longest first), in the input order.

With a state mode that does not carry (``warm``/``zero``), a document's vectors do not depend
on which documents share its batch, so sorting and grouping change speed, never the bits.
"""
from typing import Iterable, Iterator, List, Sequence, TypeVar

import numpy as np

from torchelmo import ElmoEmbedder

from .settings import ElmoSettings

T = TypeVar("T")


def budget_batches(lengths: Sequence[int], budget: int) -> List[List[int]]:
    """Indices grouped longest first so that rows x longest length stays within ``budget``
    (a document over the budget gets a batch of its own); empty documents are left out."""
    order = sorted((i for i, n in enumerate(lengths) if n), key=lambda i: -lengths[i])
    batches: List[List[int]] = []
    for i in order:
        if batches and lengths[batches[-1][0]] * (len(batches[-1]) + 1) <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def embed_token_lists(embedder: ElmoEmbedder, sentences: Sequence[Sequence[str]],
                      settings: ElmoSettings) -> List[np.ndarray]:
    """Each token list -> ``(num_layers, len, dim)`` float32, in order (``(num_layers, 0, dim)`` if empty)."""
    groups = budget_batches([len(s) for s in sentences], settings.batch_tokens)
    batches = [[list(sentences[i]) for i in group] for group in groups]
    rows = max(1, settings.batch_tokens // settings.window) if settings.window else 1
    layers = embedder.embed_batches(batches, settings.window, settings.window_overlap, rows) if batches else []
    empty = np.zeros((embedder.bilm.num_layers, 0, embedder.output_dim), dtype=np.float32)
    out: List[np.ndarray] = [empty] * len(sentences)
    for group, arrays in zip(groups, layers):
        for i, array in zip(group, arrays):
            out[i] = array
    return out


def chunks(items: Iterable[T], size: int) -> Iterator[List[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk: List[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
