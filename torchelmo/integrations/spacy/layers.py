"""Layers for ``spacy train``: a learned scalar mix of the frozen ELMo layers as token features.

``torchelmo.ElmoFeatures.v1``: ``List[Doc] -> List[(len(doc), dim)]``, ``gamma * sum_k
softmax(w)_k * layer_k`` with ``w`` (one per layer) and ``gamma`` learned; the biLM stays
frozen (run without gradients, in a state mode that does not carry, batched by tokens).
``torchelmo.ElmoTok2Vec.v1``: any tok2vec concatenated with those features
(``tok2vec width + dim`` wide), e.g. to feed a tagger, parser or NER.
"""
from collections import OrderedDict
from typing import Callable, List, Optional, Tuple

import numpy as np
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, concatenate
from thinc.types import Floats2d

from torchelmo import ElmoEmbedder
from torchelmo.errors import ConfigurationError

from .batching import embed_token_lists
from .settings import ElmoSettings


class LayerCache:
    """The ELMo layers of up to ``size`` token sequences, least recently used dropped first
    (the biLM is frozen, so a sentence seen in an earlier epoch need not run again)."""

    def __init__(self, embedder: ElmoEmbedder, settings: ElmoSettings, size: int) -> None:
        self.embedder, self.settings, self.size = embedder, settings, size
        self._arrays: "OrderedDict[Tuple[str, ...], np.ndarray]" = OrderedDict()

    def layers(self, docs: List[Doc]) -> List[np.ndarray]:
        """``(num_layers, len(doc), dim)`` for each doc."""
        keys = [tuple(token.text for token in doc) for doc in docs]
        missing = sorted({key for key in keys if key not in self._arrays})
        computed = dict(zip(missing, embed_token_lists(self.embedder, missing, self.settings)))
        out = [computed[key] if key in computed else self._arrays[key] for key in keys]
        for key, array in zip(keys, out):
            if self.size:
                self._arrays[key] = array
                self._arrays.move_to_end(key)
        while len(self._arrays) > self.size:
            self._arrays.popitem(last=False)
        return out


def _forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[List[Floats2d], Callable]:
    """The mix in numpy on the host (where the embedder's layers are), handed over in ``model.ops``."""
    ops = model.ops
    layers = model.attrs["cache"].layers(docs)
    weights, gamma = ops.to_numpy(model.get_param("weights")), float(ops.to_numpy(model.get_param("gamma"))[0])
    shares = np.exp(weights - weights.max())
    shares /= shares.sum()
    mixed = [np.einsum("k,knd->nd", shares, array).astype(np.float32) for array in layers]

    def backprop(d_outputs: List[Floats2d]) -> List[Doc]:
        d_shares = np.zeros_like(shares)
        d_gamma = 0.0
        for d_out, array, mix in zip(d_outputs, layers, mixed):
            d_out = ops.to_numpy(d_out)
            d_shares += gamma * np.einsum("nd,knd->k", d_out, array)
            d_gamma += float((d_out * mix).sum())
        model.inc_grad("weights", ops.asarray1f(shares * (d_shares - (shares * d_shares).sum())))
        model.inc_grad("gamma", ops.asarray1f([d_gamma]))
        return []

    return [ops.asarray2f(gamma * mix) for mix in mixed], backprop


def _init(model: Model, X: Optional[List[Doc]] = None, Y: Optional[List[Floats2d]] = None) -> Model:
    num_layers = model.attrs["cache"].embedder.bilm.num_layers
    model.set_param("weights", model.ops.alloc1f(num_layers))
    model.set_param("gamma", model.ops.asarray1f([1.0]))
    return model


@registry.architectures("torchelmo.ElmoFeatures.v1")
def elmo_features(model: str = "default", state: str = "warm", device: str = "cpu", batch_tokens: int = 4096,
                  window: int = 0, window_overlap: Optional[int] = None,
                  cache_docs: int = 0) -> Model[List[Doc], List[Floats2d]]:
    """A learned scalar mix of the frozen ELMo layers, ``(len(doc), dim)`` per doc.

    ``model`` ... ``window_overlap``: as the ``elmo`` component's settings; ``cache_docs``: keep
    the layers of up to this many distinct token sequences (training epochs reuse them).
    """
    settings = ElmoSettings(model, state, device, batch_tokens, window, window_overlap)
    if isinstance(cache_docs, bool) or not isinstance(cache_docs, int) or cache_docs < 0:
        raise ConfigurationError(f"elmo cache_docs must be an integer >= 0, got {cache_docs!r}")
    embedder = settings.load()
    return Model("elmo_features", _forward, init=_init, dims={"nO": embedder.output_dim},
                 params={"weights": None, "gamma": None}, attrs={"cache": LayerCache(embedder, settings, cache_docs)})


@registry.architectures("torchelmo.ElmoTok2Vec.v1")
def elmo_tok2vec(tok2vec: Model[List[Doc], List[Floats2d]], model: str = "default", state: str = "warm",
                 device: str = "cpu", batch_tokens: int = 4096, window: int = 0,
                 window_overlap: Optional[int] = None, cache_docs: int = 0) -> Model[List[Doc], List[Floats2d]]:
    """``tok2vec`` concatenated with :func:`elmo_features` (``tok2vec width + dim`` wide)."""
    return concatenate(tok2vec, elmo_features(model, state, device, batch_tokens, window, window_overlap,
                                              cache_docs))
