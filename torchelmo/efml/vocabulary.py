"""EFML's ``word.dic`` and ``char.dic``, and tokens to the ids EFML feeds its token embedder.

A dictionary has one ``entry<TAB>id`` per line (UTF-8). As EFML reads it, each line is
stripped of whitespace at both ends and split at TAB; a line left with one field was a
whitespace character and is filed under U+3000 (ideographic space), whatever it was; lines
break wherever :meth:`str.splitlines` breaks them (also U+0085, U+2028, ...). An id is the
row of its embedding table.

A token becomes a word id and a row of ``max_characters_per_token`` character ids, after
being cut to its first ``max_characters_per_token - 2`` code points (no normalization, no
case folding):
``[id(<eow>), ids of its characters..., id(<bow>), id(<pad>)...]``; the boundary ids are
swapped as in the released models (EFML issue #38). The strings ``<bos>`` and ``<eos>`` (the
sentence markers, and input tokens spelled so) get the row ``[id(<eow>), id("<bos>"),
id(<bow>), <pad>...]``. Unknown characters get ``id(<oov>)``, unknown words ``word.dic``'s
``<oov>`` id.
"""
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch

from ..errors import TokensError, WeightFileError
from ..files import PathLike

BOS, EOS, OOV, PAD, BOW, EOW = "<bos>", "<eos>", "<oov>", "<pad>", "<bow>", "<eow>"
WHITESPACE_ENTRY = "\u3000"
CHAR_SPECIALS = (BOS, EOS, OOV, PAD, BOW, EOW)
WORD_SPECIALS = (OOV, PAD)


def read_dictionary(path: PathLike) -> Dict[str, int]:
    """``entry -> id`` of a ``.dic`` file, read as EFML reads it (see the module); a later
    line for the same entry wins. WeightFileError naming the file and line otherwise."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        raise WeightFileError(f"{path}: dictionary file not found") from None
    except UnicodeDecodeError as error:
        raise WeightFileError(f"{path}: not UTF-8 ({error})") from None
    except OSError as error:
        raise WeightFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    entries: Dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.strip().split("\t")
        if len(fields) == 1:
            fields.insert(0, WHITESPACE_ENTRY)
        try:
            index = int(fields[1]) if len(fields) == 2 else -1
        except ValueError:
            index = -1
        if index < 0:
            raise WeightFileError(f"{path}: line {number}: expected 'entry<TAB>id' with a non-negative integer id, "
                                  f"got {line[:40]!r}")
        entries[fields[0]] = index
    return entries


def check_dictionary(entries: Dict[str, int], rows: int, path: str, tensor: str, specials: Sequence[str]) -> None:
    """That a dictionary fits its embedding table of ``rows`` rows (named ``tensor``), as
    EFML's loading needs: one row per entry, every id a row, the special entries present."""
    if len(entries) != rows:
        raise WeightFileError(f"{path}: {len(entries)} entries, but {tensor} has {rows} rows")
    largest = max(entries.values(), default=-1)
    if largest >= rows:
        entry = next(e for e, i in entries.items() if i == largest)
        raise WeightFileError(f"{path}: entry {entry!r} has id {largest}, but {tensor} has only {rows} rows")
    missing = [s for s in specials if s not in entries]
    if missing:
        raise WeightFileError(f"{path}: missing the special entries {', '.join(missing)}")


@dataclass
class EfmlVocabulary:
    """Both dictionaries (None where the model has no word or no character embedding) and
    the character row width."""

    words: Optional[Dict[str, int]]
    chars: Optional[Dict[str, int]]
    max_characters: int

    @property
    def width(self) -> int:
        """Ids per token: the word id, then the character row (if any)."""
        return 1 + (self.max_characters if self.chars is not None else 0)

    def token_ids(self, token: str) -> List[int]:
        """``[word id, character ids...]`` of one token (the word id is 0 without ``word.dic``)."""
        token = token[:self.max_characters - 2]
        ids = [self.words.get(token, self.words[OOV]) if self.words is not None else 0]
        chars = self.chars
        if chars is not None:
            row = [chars[PAD]] * self.max_characters
            inner = [chars[token]] if token in (BOS, EOS) else [chars.get(c, chars[OOV]) for c in token]
            row[0], row[1:len(inner) + 1], row[len(inner) + 1] = chars[EOW], inner, chars[BOW]
            ids.extend(row)
        return ids

    def tokens_to_ids(self, tokens: Sequence[str]) -> torch.Tensor:
        """``(len(tokens), width)`` ids, as :meth:`token_ids`."""
        return torch.tensor([self.token_ids(t) for t in tokens], dtype=torch.long).view(len(tokens), self.width)

    def sentence_ids(self, sentence: Sequence[str]) -> torch.Tensor:
        """``(len(sentence) + 2, width)``: the ids EFML feeds for ``<bos>``, the tokens, ``<eos>``."""
        return self.tokens_to_ids([BOS, *sentence, EOS])

    def batch_to_ids(self, batch: Sequence[Sequence[str]]) -> torch.Tensor:
        """A batch of tokenized sentences -> ``(batch, max_length, width)`` ids shifted by +1,
        0 at positions past a sentence's end (the input of the EFML token encoder's forward,
        as :func:`torchelmo.batch_to_ids` is for AllenNLP models)."""
        if isinstance(batch, str) or any(isinstance(sentence, str) for sentence in batch):
            raise TokensError("batch_to_ids expects a list of tokenized sentences (List[List[str]]), "
                              "not a string or a list of strings")
        max_length = max((len(sentence) for sentence in batch), default=0)
        ids = torch.zeros(len(batch), max_length, self.width, dtype=torch.long)
        for i, sentence in enumerate(batch):
            if sentence:
                ids[i, :len(sentence)] = self.tokens_to_ids(sentence) + 1
        return ids
