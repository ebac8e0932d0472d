"""ELMoForManyLangs' own API on torchelmo: ``from torchelmo.efml import Embedder``.

``Embedder(model_dir, batch_size=64).sents2elmo(sentences, output_layer=-1)`` returns what
EFML's does, one numpy array per sentence in input order. Unlike EFML's, it is deterministic:
EFML's encoder carries each batch row's LSTM state into the next batch and call, and with
more than ``batch_size`` sentences it runs the length-sorted batches in random order, so a
sentence's vectors depend on the call's other sentences, on earlier calls and on the random
seed. Here every sentence starts from zeros (``state="zero"``): its vectors depend on nothing
else, and equal EFML's for a fresh ``Embedder`` given one batch.
"""
import os
from typing import List, Optional, Sequence

import numpy as np

from ..embedder import ElmoEmbedder
from ..errors import ConfigurationError
from ..files import PathLike

OUTPUT_LAYERS = (-2, -1, 0, 1, 2)


class Embedder:
    """EFML's ``Embedder``: ``model_dir`` an EFML model folder (or any model torchelmo reads),
    ``batch_size`` sentences per batch (speed only), ``cuda_device`` a GPU index or -1."""

    def __init__(self, model_dir: PathLike, batch_size: int = 64, cuda_device: int = -1,
                 precision: str = "fp32") -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size: expected a positive integer, got {batch_size!r}")
        self.model_dir = os.fspath(model_dir)
        self.batch_size = batch_size
        self.embedder = ElmoEmbedder(model=self.model_dir, cuda_device=cuda_device, state="zero",
                                     precision=precision)

    def sents2elmo(self, sents: Sequence[Sequence[str]], output_layer: int = -1) -> List[np.ndarray]:
        """Each tokenized sentence -> float32 ``(tokens, dim)`` for ``output_layer`` -1 (the
        mean of the layers) or 0, 1, 2 (one layer: the token layer, LSTM 1, LSTM 2), or
        ``(layers, tokens, dim)`` for -2 (all)."""
        if output_layer not in OUTPUT_LAYERS:
            raise ConfigurationError(f"output_layer: expected one of {OUTPUT_LAYERS}, got {output_layer!r}")
        layer: Optional[int] = output_layer if output_layer >= 0 else None
        results = []
        for layers in self.embedder.embed_sentences(sents, batch_size=self.batch_size):
            if output_layer == -2:
                results.append(layers)
            elif layer is not None:
                results.append(layers[layer])
            else:
                results.append(layers.mean(axis=0))
        return results
