"""The ``elmo`` pipeline component: ``doc._.elmo`` (all layers) and ``doc.tensor`` (one combination).

Registered as spaCy factory ``"elmo"`` (through the ``spacy_factories`` entry point, and on
import of :mod:`torchelmo.integrations.spacy`). ``token.vector``, ``span.vector``,
``doc.vector`` and ``similarity`` read ``doc.tensor`` through the doc's user hooks, so they use
ELMo even in a pipeline with static word vectors.
"""
import json
import shutil
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from torchelmo import ElmoEmbedder
from torchelmo.errors import ConfigurationError

from .batching import chunks, embed_token_lists
from .settings import ElmoSettings, combine, is_model_folder, model_folder_files

CFG_NAME = "cfg.json"
MODEL_DIR = "model"  # a folder model copied into the pipeline's component folder
DEFAULT_BATCH_SIZE = 1000  # documents read from nlp.pipe's stream and sorted together

if not Doc.has_extension("elmo"):
    Doc.set_extension("elmo", default=None)


def _vector(item: Union[Doc, Span, Token]) -> np.ndarray:
    """``doc.tensor`` row (token) or mean of rows (span, doc; zeros when empty): ``(width,)``."""
    tensor = item.doc.tensor
    if isinstance(item, Token):
        return tensor[item.i]
    rows = tensor[item.start:item.end] if isinstance(item, Span) else tensor
    return rows.mean(axis=0) if len(rows) else np.zeros(tensor.shape[-1:], dtype=np.float32)


def _has_vector(item: Union[Doc, Span, Token]) -> bool:
    return len(item.doc) > 0 if isinstance(item, Token) else len(item) > 0


def _similarity(item: Union[Doc, Span, Token], other: Union[Doc, Span, Token]) -> float:
    """Cosine of the two vectors (0.0 when either is all zeros)."""
    a, b = item.vector, other.vector
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b) / norm) if norm else 0.0


HOOKS = {"vector": _vector, "has_vector": _has_vector, "similarity": _similarity}


class ElmoComponent:
    """Sets ``doc._.elmo`` ``(num_layers, len(doc), dim)`` float32 and ``doc.tensor``
    ``(len(doc), width)`` from the doc's tokens; see :class:`ElmoSettings` for the settings.

    The model loads on first use (or after :meth:`from_disk`), so a pipeline loads fast and a
    saved pipeline finds its model again from what :meth:`to_disk` stored.
    """

    def __init__(self, name: str, settings: ElmoSettings) -> None:
        self.name, self.settings = name, settings
        self._model = settings.model
        self._embedder: Optional[ElmoEmbedder] = None

    @property
    def embedder(self) -> ElmoEmbedder:
        """The embedder (loaded on first use)."""
        if self._embedder is None:
            self._embedder = self.settings.load(self._model)
        return self._embedder

    def __call__(self, doc: Doc) -> Doc:
        self._annotate([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[Doc]:
        """Docs in order, annotated ``batch_size`` documents at a time (sorted by length inside)."""
        for docs in chunks(stream, batch_size):
            self._annotate(docs)
            yield from docs

    def _annotate(self, docs: Sequence[Doc]) -> None:
        layers = embed_token_lists(self.embedder, [[token.text for token in doc] for doc in docs], self.settings)
        for doc, array in zip(docs, layers):
            doc._.elmo = array
            doc.tensor = combine(array, self.settings.combination)
            for hooks in (doc.user_hooks, doc.user_span_hooks, doc.user_token_hooks):
                hooks.update(HOOKS)

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> None:
        """Store how to find the model again: its name, or a copy of a folder model's files."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        model = self._model
        if is_model_folder(model):
            options, weights = model_folder_files(Path(model).expanduser())
            target = path / MODEL_DIR
            target.mkdir(exist_ok=True)
            sources = [options, weights, weights.parent / "warm_state.json"]
            for source, name in zip(sources, [options.name, "weights.hdf5", "warm_state.json"]):
                if source.is_file() and source.resolve() != (target / name).resolve():
                    shutil.copyfile(source, target / name)
            model = MODEL_DIR
        (path / CFG_NAME).write_text(json.dumps({"model": model, "copied": model == MODEL_DIR}), encoding="utf-8")

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = ()) -> "ElmoComponent":
        """Use the model :meth:`to_disk` stored (loaded on first use)."""
        path = Path(path)
        try:
            cfg = json.loads((path / CFG_NAME).read_text(encoding="utf-8"))
            model = str(path / MODEL_DIR) if cfg["copied"] else cfg["model"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigurationError(f"elmo component folder {str(path)!r} is not readable: {error}") from None
        self._model, self._embedder = model, None
        return self


@Language.factory("elmo", assigns=["doc._.elmo", "doc.tensor"],
                  default_config={"model": "default", "state": "warm", "device": "cpu", "batch_tokens": 4096,
                                  "window": 0, "window_overlap": None, "combination": "average"})
def make_elmo(nlp: Language, name: str, model: str, state: str, device: str, batch_tokens: int, window: int,
              window_overlap: Optional[int], combination: str) -> ElmoComponent:
    """The ``elmo`` factory (see :class:`ElmoSettings` for the settings)."""
    return ElmoComponent(name, ElmoSettings(model, state, device, batch_tokens, window, window_overlap, combination))
