"""Deduplicating, splitting and writing the corpus: train shards, held-out file, manifest.

Every decision is a function of the sentence text alone, so the output is byte-identical
from run to run: a sentence's SHA-256 decides whether it is held out (the first 8 bytes
modulo 10,000 below ``heldout_fraction * 10,000``) and orders the sentences (a fixed
shuffle, as in the 1B Word Benchmark, so each shard mixes all sources).
"""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from torchelmo.files import atomic_file


HELDOUT_BUCKETS = 10_000


@dataclass(frozen=True)
class Sentence:
    key: bytes  # SHA-256 of the UTF-8 text
    text: str
    source: int  # index of the first source that produced it


@dataclass
class Split:
    train: List[Sentence]
    heldout: List[Sentence]
    duplicates: List[int]  # per source: sentences dropped as repeats


def split_corpus(per_source: Sequence[Iterable[str]], heldout_fraction: float) -> Split:
    """Drop repeated sentences (the first occurrence, in source order, is kept), then
    divide them into train and held-out, each ordered by hash."""
    if not 0.0 < heldout_fraction < 1.0:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction}")
    threshold = round(heldout_fraction * HELDOUT_BUCKETS)
    seen: Dict[bytes, None] = {}
    train, heldout, duplicates = [], [], [0] * len(per_source)
    for index, sentences in enumerate(per_source):
        for text in sentences:
            key = hashlib.sha256(text.encode("utf-8")).digest()
            if key in seen:
                duplicates[index] += 1
                continue
            seen[key] = None
            sentence = Sentence(key, text, index)
            bucket = int.from_bytes(key[:8], "big") % HELDOUT_BUCKETS
            (heldout if bucket < threshold else train).append(sentence)
    train.sort(key=lambda s: s.key)
    heldout.sort(key=lambda s: s.key)
    return Split(train, heldout, duplicates)


def shard(sentences: Sequence[Sentence], shard_bytes: int) -> List[Sequence[Sentence]]:
    """Cut ``sentences`` into consecutive shards of about ``shard_bytes`` bytes each."""
    total = sum(len(s.text.encode("utf-8")) + 1 for s in sentences)
    count = max(1, round(total / shard_bytes))
    target = total / count
    shards, start, size = [], 0, 0
    for index, sentence in enumerate(sentences):
        size += len(sentence.text.encode("utf-8")) + 1
        if size >= target * (len(shards) + 1) and len(shards) < count - 1:
            shards.append(sentences[start:index + 1])
            start = index + 1
    shards.append(sentences[start:])
    return [s for s in shards if s]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb", needed_bytes=len(data)) as f:
        f.write(data)


def write_lines(path: Path, lines: Iterable[str]) -> Dict[str, object]:
    """Write one line per item (UTF-8, ``\\n``-terminated) atomically; return its manifest entry."""
    lines = list(lines)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    write_atomic(path, data)
    return {"sentences": len(lines), "tokens": sum(len(line.split()) for line in lines),
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_shards(directory: Path, shards: Sequence[Sequence[Sentence]], name: str = "part-{:03d}.txt",
                 previous: Iterable[str] = ()) -> Dict[str, Dict[str, object]]:
    """Write ``directory/part-000.txt`` ... and remove the stale parts an earlier run wrote
    (``previous``: the names its manifest lists); no other file is removed."""
    written = {}
    for index, sentences in enumerate(shards):
        path = directory / name.format(index)
        written[path.name] = write_lines(path, (s.text for s in sentences))
    for stale in sorted(set(previous) - set(written)):
        if (directory / stale).is_file():
            (directory / stale).unlink()
    return written


def source_totals(sentences: Iterable[Sentence], sources: int) -> List[Tuple[int, int]]:
    """``(sentences, tokens)`` per source index."""
    totals = [[0, 0] for _ in range(sources)]
    for sentence in sentences:
        totals[sentence.source][0] += 1
        totals[sentence.source][1] += sentence.text.count(" ") + 1
    return [tuple(t) for t in totals]


def write_manifest(path: Path, manifest: Dict[str, object]) -> None:
    write_atomic(path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))

