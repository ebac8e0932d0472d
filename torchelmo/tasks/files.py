"""Writing outputs atomically: a temporary file in the same folder, then ``os.replace``; and
reading the tensors written so, with one-line errors."""
import json
import os
from contextlib import contextmanager
from typing import IO, Any, Dict, Iterable, Iterator

import torch

from ..errors import ConfigurationError


@contextmanager
def atomic_file(path: str, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds."""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        os.remove(tmp)
        raise


def write_json(path: str, data: Any) -> None:
    with atomic_file(path) as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_jsonl(path: str, records: Iterable[Any]) -> None:
    with atomic_file(path) as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def save_tensors(path: str, state: Any) -> None:
    with atomic_file(path, "wb") as f:
        torch.save(state, f)


def load_tensors(path: str, device: str = "cpu") -> Dict[str, torch.Tensor]:
    """What :func:`save_tensors` wrote (a dict of tensors), on ``device``; a missing,
    truncated or foreign file fails with one line naming it."""
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: no trained weights")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types (RuntimeError, EOFError, UnpicklingError, ...)
        reason = str(error).split(". ")[0] or type(error).__name__
        raise ConfigurationError(f"{path}: not a readable torch file, truncated or damaged? ({reason})") from None
    if not isinstance(state, dict):
        raise ConfigurationError(f"{path}: expected a dict of tensors, found a {type(state).__name__}")
    return state
