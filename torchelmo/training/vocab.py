"""The word vocabulary of the softmax, in bilm-tf's file format.

One token per line, UTF-8; ``<S>``, ``</S>`` and ``<UNK>`` are required (bilm-tf writes them
first). The line order gives the ids; the sampled softmax assumes the other words are sorted
by decreasing frequency, as :func:`build_vocabulary` writes them.

Besides the ids, a :class:`Vocabulary` holds every word's 50 character ids, so a batch's
character input is one table lookup (only out-of-vocabulary tokens are encoded one by one).
"""
import os
from collections import Counter
from typing import Dict, Iterable, List, Sequence

import numpy as np

from ..characters import BOS_TOKEN, EOS_TOKEN, word_to_char_ids
from ..errors import ConfigurationError, InputError
from ..files import PathLike, write_lines

UNK_TOKEN = "<UNK>"
SPECIAL_TOKENS = (BOS_TOKEN, EOS_TOKEN, UNK_TOKEN)


class Vocabulary:
    """Words in id order, with ``bos_id``/``eos_id``/``unk_id`` and a ``(size, 50)`` char table."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words: List[str] = list(words)
        self.index: Dict[str, int] = {}
        for i, word in enumerate(self.words):
            if word in self.index:
                raise ConfigurationError(f"vocabulary: '{word}' appears twice (entries {self.index[word] + 1} "
                                         f"and {i + 1})")
            if not word or any(c.isspace() for c in word):
                raise ConfigurationError(f"vocabulary: entry {i + 1} ({word!r}) is empty or contains whitespace")
            self.index[word] = i
        missing = [t for t in SPECIAL_TOKENS if t not in self.index]
        if missing:
            raise ConfigurationError(f"vocabulary: missing the special token(s) {', '.join(missing)} "
                                     f"(bilm-tf's format starts with <S>, </S>, <UNK>)")
        self.bos_id = self.index[BOS_TOKEN]
        self.eos_id = self.index[EOS_TOKEN]
        self.unk_id = self.index[UNK_TOKEN]
        # (size, 50) int16: character ids fit in 0..261.
        self.char_table = np.array([word_to_char_ids(w) for w in self.words], dtype=np.int16)

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def encode(self, tokens: Sequence[str]) -> List[int]:
        """Word ids of ``tokens``; unknown words get ``unk_id``."""
        get, unk = self.index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    def char_ids(self, sentences: Sequence[Sequence[str]], word_ids: np.ndarray) -> np.ndarray:
        """Character ids ``(batch, timesteps, 50)`` int16 for ``sentences`` whose padded word ids
        ``(batch, timesteps)`` (``-1`` at padding) are given; padding rows are all zeros."""
        chars = self.char_table[np.maximum(word_ids, 0)]
        chars[word_ids < 0] = 0
        for row, col in zip(*np.nonzero(word_ids == self.unk_id)):
            token = sentences[row][col]
            if token != UNK_TOKEN:  # an out-of-vocabulary word keeps its own characters
                chars[row, col] = word_to_char_ids(token)
        return chars

    @classmethod
    def from_file(cls, path: PathLike) -> "Vocabulary":
        """Read a bilm-tf vocabulary file; errors name the file and the line."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ConfigurationError(f"{path}: vocabulary file not found")
        words = []
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as error:
                    raise InputError(f"{path}: line {number} is not valid UTF-8 ({error.reason})") from None
                if not line.strip():
                    raise ConfigurationError(f"{path}: line {number} is blank; expected one token per line")
                words.append(line.strip())
        try:
            return cls(words)
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}: {error}") from None

    def save(self, path: PathLike) -> None:
        """Write the vocabulary file atomically (temporary file, then rename)."""
        write_lines(path, self.words)


def count_tokens(sentences: Iterable[Sequence[str]]) -> Counter:
    """Token counts over tokenized sentences."""
    counts: Counter = Counter()
    for tokens in sentences:
        counts.update(tokens)
    return counts


def build_vocabulary(counts: Counter, min_count: int = 1, max_size: int = 0) -> Vocabulary:
    """``<S>``, ``</S>``, ``<UNK>``, then words seen at least ``min_count`` times by decreasing
    count (ties alphabetical); ``max_size`` > 0 caps the total size (specials included)."""
    words = sorted((w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
                   key=lambda w: (-counts[w], w))
    if max_size > 0:
        words = words[:max(0, max_size - len(SPECIAL_TOKENS))]
    if not words:
        raise InputError(f"no word occurs at least {min_count} times in the training data; "
                         f"lower min_count or add data")
    return Vocabulary([*SPECIAL_TOKENS, *words])

