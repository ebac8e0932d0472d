"""A split's instances: files from a path or glob, selected by a split file (or the file's
own split column), folds and a limit."""
import glob
import json
import os
from typing import Any, Iterable, List

from ..errors import ConfigurationError, InputError
from .config import SourceConfig
from .instance import Instance
from .registry import reader_for


def source_files(source: SourceConfig) -> List[str]:
    """The files of ``source``, sorted; fails when none match."""
    files = sorted(glob.glob(source.path)) if glob.has_magic(source.path) else [source.path]
    if not files or not all(os.path.isfile(f) for f in files):
        missing = source.path if not files else next(f for f in files if not os.path.isfile(f))
        raise ConfigurationError(f"{missing}: no such data file")
    if source.split_file is None:
        return files
    try:
        with open(source.split_file, encoding="utf-8") as f:
            splits = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"{source.split_file}: cannot read split file ({error})") from None
    if source.split in splits:
        wanted = set(splits[source.split])
        selected = [f for f in files if _stem(f) in wanted]
    else:
        listed = {name for names in splits.values() for name in names}
        selected = [f for f in files if _stem(f) not in listed]
    if not selected:
        raise ConfigurationError(f"{source.split_file}: no file of {source.path} is in split {source.split!r}")
    return selected


def read_source(source: SourceConfig, reader: Any) -> List[Instance]:
    """All instances of ``source`` read with its own reader or else ``reader``, after folds and limit."""
    reader = source.reader or reader
    read = reader_for(reader.type)
    instances: Iterable[Instance] = (instance for path in source_files(source) for instance in read(path, reader))
    if source.split is not None and source.split_file is None:
        instances = _own_split(instances, source)
    if source.folds is not None:
        folds = set(source.folds)
        instances = (x for i, x in enumerate(instances) if i % source.num_folds in folds)
    selected: List[Instance] = []
    for instance in instances:
        if source.limit is not None and len(selected) >= source.limit:
            break
        selected.append(instance)
    if not selected:
        raise InputError(f"{source.path}: no instances")
    return selected


def _own_split(instances: Iterable[Instance], source: SourceConfig) -> Iterable[Instance]:
    """The instances the file itself assigns to ``source.split``."""
    for instance in instances:
        if instance.split is None:
            raise ConfigurationError(f"{instance.source}: split {source.split!r} without split_file needs a file "
                                     f"that marks its own split (as SICK's SemEval_set); this one does not")
        if instance.split == source.split:
            yield instance


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]
