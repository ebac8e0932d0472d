"""Dataset readers: files to :class:`~torchelmo.tasks.instance.Instance` lists, by config type.

Add a format by writing ``read(path, config) -> Iterator[Instance]`` and registering it with
:func:`register_reader` under its config's ``type`` (and adding the config dataclass to
``config.ReaderConfig``).
"""
from typing import Callable, Dict, Iterator

from ..instance import Instance

Reader = Callable[[str, object], Iterator[Instance]]
READERS: Dict[str, Reader] = {}


def register_reader(name: str) -> Callable[[Reader], Reader]:
    def register(function: Reader) -> Reader:
        READERS[name] = function
        return function
    return register


def reader_for(name: str) -> Reader:
    return READERS[name]


from . import classification, columns, conll2012, conllu, pairs, propbank, sentiment_trees, squad  # noqa: E402,F401  (registers the readers)
