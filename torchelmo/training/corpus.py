"""Training text streamed from files: one whitespace-tokenized sentence per line, UTF-8.

Nothing is held in memory beyond one *pool* of sentences. Each process (rank) of a
distributed run reads its own byte range of every file, so a corpus is split without
being copied. A pool of ``pool_batches * batch_size`` sentences is sorted by length (little
padding) and cut into batches, whose order is shuffled. Every batch carries the
:class:`DataPosition` to continue from, so a resumed run sees exactly the same batches.

Blank lines are skipped; sentences longer than ``max_length`` tokens are cut into pieces.
"""
import glob
import os
from dataclasses import asdict, dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..errors import InputError
from .vocab import Vocabulary


def resolve_files(patterns: Union[str, Sequence[str]], what: str = "data") -> List[str]:
    """Files matching a glob (or several), sorted; an error names a pattern that matches nothing."""
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [os.fspath(patterns)]
    files: List[str] = []
    for pattern in patterns:
        matches = sorted(p for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p))
        if not matches:
            raise InputError(f"{what} '{pattern}': no files match")
        files.extend(m for m in matches if m not in files)
    return files


def shard_range(size: int, rank: int, world_size: int) -> Tuple[int, int]:
    """Byte range ``[start, end)`` of a file of ``size`` bytes read by ``rank``; a line belongs
    to the range holding its first byte."""
    return size * rank // world_size, size * (rank + 1) // world_size


def read_lines(path: str, start: int, end: int) -> Iterator[Tuple[int, List[str]]]:
    """Tokenized non-blank lines beginning in ``[start, end)``, each with the byte offset just
    past it. ``start`` need not be a line start: a partial first line is skipped."""
    with open(path, "rb") as f:
        position = 0
        if start > 0:
            f.seek(start - 1)
            position = start - 1 + len(f.readline())
        while position < end:
            raw = f.readline()
            if not raw:
                return
            line_start, position = position, position + len(raw)
            try:
                tokens = raw.decode("utf-8").split()
            except UnicodeDecodeError as error:
                raise InputError(f"{path}: the line starting at byte {line_start} is not valid UTF-8 "
                                 f"({error.reason})") from None
            if tokens:
                yield position, tokens


def iter_sentences(files: Sequence[str]) -> Iterator[List[str]]:
    """Every non-blank line of ``files`` in order, tokenized (one pass, all bytes)."""
    for path in files:
        for _, tokens in read_lines(path, 0, os.path.getsize(path)):
            yield tokens


@dataclass
class DataPosition:
    """Where a rank's stream continues: epoch, index into that epoch's file order, byte offset of
    the current pool (``-1``: the shard's start) and how many of its batches were used."""

    epoch: int = 0
    file: int = 0
    offset: int = -1
    batch: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Batch:
    """``char_ids`` ``(batch, timesteps, 50)`` int16; ``targets`` ``(batch, timesteps + 2)`` long:
    each row ``<S> w1 ... wn </S>`` as word ids, ``-1`` at padding; ``num_tokens`` words (without
    boundaries); ``position``: where the stream continues after this batch."""

    char_ids: torch.Tensor
    targets: torch.Tensor
    num_tokens: int
    position: DataPosition


def make_batch(sentences: Sequence[Sequence[str]], vocab: Vocabulary, position: DataPosition) -> Batch:
    """Pad ``sentences`` into one :class:`Batch`."""
    lengths = np.array([len(s) for s in sentences])
    word_ids = np.full((len(sentences), int(lengths.max())), -1, dtype=np.int64)
    for row, tokens in enumerate(sentences):
        word_ids[row, :len(tokens)] = vocab.encode(tokens)
    targets = np.full((len(sentences), word_ids.shape[1] + 2), -1, dtype=np.int64)
    targets[:, 0] = vocab.bos_id
    targets[:, 1:-1] = word_ids
    targets[np.arange(len(sentences)), lengths + 1] = vocab.eos_id
    return Batch(char_ids=torch.from_numpy(vocab.char_ids(sentences, word_ids)),
                 targets=torch.from_numpy(targets), num_tokens=int(lengths.sum()), position=position)


class BatchStream:
    """Length-bucketed batches of one rank's share of ``files``.

    Parameters
    ----------
    files : the corpus; every epoch visits them in a seeded random order (file order if
        ``shuffle`` is false).
    batch_size : sentences per batch (the last batch of a pool may be smaller).
    epochs : stop after this many passes; ``None`` cycles forever (training).
    position : continue from a :class:`DataPosition` taken from an earlier stream's batch.
    """

    def __init__(self, files: Sequence[str], vocab: Vocabulary, batch_size: int, *, rank: int = 0,
                 world_size: int = 1, seed: int = 0, shuffle: bool = True, max_length: int = 100,
                 pool_batches: int = 50, epochs: Optional[int] = None,
                 position: Optional[DataPosition] = None) -> None:
        self.files = list(files)
        self.vocab = vocab
        self.batch_size = batch_size
        self.rank, self.world_size = rank, world_size
        self.seed = seed
        self.shuffle = shuffle
        self.max_length = max_length
        self.pool_size = pool_batches * batch_size
        self.epochs = epochs
        self.position = position or DataPosition()

    def _file_order(self, epoch: int) -> List[int]:
        if not self.shuffle:
            return list(range(len(self.files)))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.files)).tolist()

    def _pools(self, path: str, start: int, end: int) -> Iterator[Tuple[int, List[List[str]]]]:
        """Pools of sentences (long ones cut), each with the byte offset it starts at."""
        pool: List[List[str]] = []
        pool_offset = start
        for offset, tokens in read_lines(path, start, end):
            pool.extend(tokens[i:i + self.max_length] for i in range(0, len(tokens), self.max_length))
            if len(pool) >= self.pool_size:
                yield pool_offset, pool
                pool, pool_offset = [], offset
        if pool:
            yield pool_offset, pool

    def _batches_of(self, pool: List[List[str]], rng: np.random.Generator) -> List[List[List[str]]]:
        order = rng.permutation(len(pool)) if self.shuffle else np.arange(len(pool))
        lengths = np.array([len(pool[i]) for i in order])
        order = order[np.argsort(lengths, kind="stable")]
        groups = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            groups = [groups[i] for i in rng.permutation(len(groups))]
        return [[pool[i] for i in group] for group in groups]

    def __iter__(self) -> Iterator[Batch]:
        position = self.position
        while self.epochs is None or position.epoch < self.epochs:
            produced = False
            order = self._file_order(position.epoch)
            for file_index in range(position.file, len(order)):
                path = self.files[order[file_index]]
                start, end = shard_range(os.path.getsize(path), self.rank, self.world_size)
                resume = file_index == position.file and position.offset >= 0
                skip = position.batch if resume else 0
                for pool_offset, pool in self._pools(path, position.offset if resume else start, end):
                    rng = np.random.default_rng([self.seed, self.rank, position.epoch, file_index, pool_offset])
                    batches = self._batches_of(pool, rng)
                    for b in range(skip, len(batches)):
                        produced = True
                        yield make_batch(batches[b], self.vocab,
                                         DataPosition(position.epoch, file_index, pool_offset, b + 1))
                    skip = 0
            if not produced and position == DataPosition(position.epoch):
                raise InputError(f"process {self.rank} of {self.world_size} found no sentences in its share of "
                                 f"{len(self.files)} file(s); use more data or fewer processes")
            position = DataPosition(position.epoch + 1)
