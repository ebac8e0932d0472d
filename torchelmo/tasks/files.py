"""Writing outputs atomically: a temporary file in the same folder, then ``os.replace``."""
import json
import os
from contextlib import contextmanager
from typing import IO, Any, Iterable, Iterator

import torch


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
