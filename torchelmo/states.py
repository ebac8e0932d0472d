"""Where each sentence's LSTM state starts: the state modes, and the warm state.

ELMo's LSTMs run with a recurrent state that a sentence starts from. Three modes
(``state=`` of :class:`~torchelmo.ElmoBiLm`, :class:`~torchelmo.Elmo`,
:class:`~torchelmo.ElmoEmbedder`, ``torchelmo embed --state``, ``state:`` in task configs):

- ``"carry"`` (default, AllenNLP's and bilm-tf's behaviour): batch row ``r`` starts from the
  state row ``r`` of the previous batch ended with, so a sentence's vectors depend on the
  sentences embedded before it in the same row.
- ``"zero"``: every sentence starts from zeros (AllenNLP's ``stateful=False``).
- ``"warm"``: every sentence starts from one fixed state: the biLM's carried state after
  reading a fixed warm-up text of real English (:data:`WARMUP_TEXT`, shipped with the
  package), reduced to one vector per layer and direction by :data:`WARM_RECIPE`. Like
  ``"zero"``, a sentence's vectors do not depend on its batch, its position in it, the
  batch size or the number of processes; unlike ``"zero"``, the state is one the model is
  used to from carried-state reading.

The warm state of a weight file is stored as JSON keyed by the weights' SHA-256: looked up
beside the weight file (``warm_state.json``; shipped for the bundled model), then in the
cache (``$TORCHELMO_CACHE/warm_states/SHA256.json``, default ``~/.cache/torchelmo``);
otherwise computed once and written to the cache atomically. A stored state is used only if
it was made from the same warm-up text and recipe; a damaged one (not JSON, tensors that do
not parse or have the wrong shape) is refused with one line naming the file.
"""
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import List, Literal, Optional, Tuple, Union

import torch

from .errors import ConfigurationError
from .files import write_json
from .lstm import LstmState
from .cache import cache_dir, file_sha256

logger = logging.getLogger(__name__)

StateMode = Literal["carry", "zero", "warm"]
STATE_MODES = ("carry", "zero", "warm")
WARMUP_TEXT = Path(__file__).parent / "data" / "warmup.txt"
WARM_STATE_FILE = "warm_state.json"
WARM_STATE_FORMAT = "torchelmo-warm-state-1"


def resolve_state_mode(state: Union[str, bool, None], stateful: Optional[bool] = None,
                       where: str = "state") -> StateMode:
    """The state mode from ``state`` and/or the older ``stateful`` switch (``True`` ->
    ``"carry"``, ``False`` -> ``"zero"``); ``"carry"`` when neither is given. A bool
    ``state`` is read as ``stateful`` (the former positional argument)."""
    if isinstance(state, bool):
        state, stateful = None, state if stateful is None else stateful
    from_stateful = None if stateful is None else ("carry" if stateful else "zero")
    if state is None:
        return from_stateful or "carry"
    if state not in STATE_MODES:
        raise ConfigurationError(f"{where}: expected one of {', '.join(STATE_MODES)}, got {state!r}")
    if from_stateful is not None and from_stateful != state:
        raise ConfigurationError(f"{where}: {state!r} contradicts stateful={stateful}; give only {where}")
    return state


@dataclass(frozen=True)
class WarmRecipe:
    """How the warm state is made: the warm-up text's sentences in order, ``rows`` at a time
    as consecutive carried-state batches (row ``r`` reads sentences ``r``, ``r + rows``, ...);
    the final state of each row, then ``reduction`` over the rows (``"mean"`` or
    ``"median"``; with one row, its last state)."""

    rows: int = 160
    reduction: str = "mean"

    def reduce(self, state: LstmState) -> LstmState:
        """``(layers, 2, rows, dim)`` states -> ``(layers, 2, 1, dim)``."""
        if self.reduction == "mean":
            return LstmState(state.hidden.mean(dim=2, keepdim=True), state.memory.mean(dim=2, keepdim=True))
        if self.reduction == "median":
            return LstmState(state.hidden.median(dim=2, keepdim=True).values,
                             state.memory.median(dim=2, keepdim=True).values)
        raise ValueError(f"reduction must be 'mean' or 'median', got {self.reduction!r}")


# Chosen by held-out perplexity (docs/state.md): with 160 rows each of the 155 warm-up sentences
# is read from zeros by its own row, and the states they end with are averaged.
WARM_RECIPE = WarmRecipe()


def warmup_sentences(path: Path = WARMUP_TEXT) -> List[List[str]]:
    """The warm-up text: one whitespace-tokenized sentence per line."""
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def compute_warm_state(bilm, recipe: WarmRecipe = WARM_RECIPE, path: Path = WARMUP_TEXT) -> LstmState:
    """``bilm``'s (an :class:`~torchelmo.ElmoBiLm`) warm state by ``recipe``: one row."""
    sentences = warmup_sentences(path)
    batches = [sentences[i:i + recipe.rows] for i in range(0, len(sentences), recipe.rows)]
    state = recipe.reduce(bilm.carried_state_after(batches))
    return LstmState(state.hidden.float().cpu().contiguous(), state.memory.float().cpu().contiguous())


def _text_sha256(path: Path = WARMUP_TEXT) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(weights_sha256: str, state: LstmState, text: Path = WARMUP_TEXT) -> dict:
    return {"format": WARM_STATE_FORMAT, "weights_sha256": weights_sha256, "warmup_text_sha256": _text_sha256(text),
            "recipe": asdict(WARM_RECIPE), "hidden": state.hidden.tolist(), "memory": state.memory.tolist()}


def _load(path: Path, weights_sha256: str, shapes: Tuple[Tuple[int, ...], Tuple[int, ...]],
          text: Path = WARMUP_TEXT) -> Optional[LstmState]:
    """The state stored at ``path`` if it is for these weights, text and recipe (None if there is
    none, or it is for others); a damaged file, or one whose tensors do not have ``shapes``
    (hidden, memory), is refused with one line naming it."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _damaged(path, f"not readable JSON: {error}") from None
    if not isinstance(record, dict):
        raise _damaged(path, "not a JSON object")
    if (record.get("format") != WARM_STATE_FORMAT or record.get("weights_sha256") != weights_sha256
            or record.get("warmup_text_sha256") != _text_sha256(text) or record.get("recipe") != asdict(WARM_RECIPE)):
        return None
    try:
        state = LstmState(torch.tensor(record["hidden"], dtype=torch.float32),
                          torch.tensor(record["memory"], dtype=torch.float32))
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise _damaged(path, f"its tensors do not parse: {type(error).__name__} {error}") from None
    found = (tuple(state.hidden.shape), tuple(state.memory.shape))
    if found != shapes or not all(torch.isfinite(t).all() for t in (state.hidden, state.memory)):
        raise _damaged(path, f"hidden and memory of shapes {found}, expected {shapes} of finite numbers")
    return state


def _damaged(path: Path, reason: str) -> ConfigurationError:
    return ConfigurationError(f"{path}: a damaged warm state ({reason}); delete it and it is computed again")


def save_warm_state(path: Path, weights_sha256: str, state: LstmState, text: Path = WARMUP_TEXT) -> None:
    """Write ``state`` for the weights with this SHA-256 (from warm-up ``text``) to ``path``, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, _record(weights_sha256, state, text))


def cached_warm_state_path(weights_sha256: str, text: Path = WARMUP_TEXT) -> Path:
    """Where the cache keeps a warm state: by the weights' SHA-256 (and the warm-up text's,
    when not the shipped one)."""
    suffix = "" if text == WARMUP_TEXT else f"-{_text_sha256(text)[:16]}"
    return cache_dir() / "warm_states" / f"{weights_sha256}{suffix}.json"


def weights_sha256(bilm) -> str:
    """The SHA-256 of ``bilm``'s weight file; of the SHA-256s of all its files (an EFML
    model's ``encoder.pkl`` and ``token_embedder.pkl``) when there are several."""
    shas = [file_sha256(path) for path in (bilm.weight_file, *bilm.other_weight_files)]
    return shas[0] if len(shas) == 1 else hashlib.sha256(" ".join(shas).encode()).hexdigest()


def warm_state_for(bilm) -> LstmState:
    """The warm state of ``bilm``'s weights from its warm-up text (``bilm.warmup_text``, or
    the shipped one): stored beside them, cached, or computed (and cached). A model not
    loaded from a file gets it computed, uncached."""
    text = bilm.warmup_text or WARMUP_TEXT
    if not text.is_file():
        raise ConfigurationError(f"{text}: warm-up text not found")
    if bilm.weight_file is None:
        logger.info("Computing the warm state of in-memory weights (not cached)")
        return compute_warm_state(bilm, path=text)
    sha = weights_sha256(bilm)
    layers = bilm.lstm.layers
    shapes = ((len(layers), 2, 1, layers[0].projection_dim), (len(layers), 2, 1, layers[0].cell_dim))
    for path in (Path(bilm.weight_file).with_name(WARM_STATE_FILE), cached_warm_state_path(sha, text)):
        state = _load(path, sha, shapes, text)
        if state is not None:
            logger.info("Warm state from %s", path)
            return state
    state = compute_warm_state(bilm, path=text)
    path = cached_warm_state_path(sha, text)
    try:
        save_warm_state(path, sha, state, text)
        logger.info("Computed the warm state of %s; cached in %s", bilm.weight_file, path)
    except OSError as error:
        logger.warning("Computed the warm state of %s; could not cache it in %s (%s)", bilm.weight_file, path, error)
    return state
