"""ELMo's character vocabulary: tokens to fixed-width rows of byte ids.

Every token becomes ``MAX_WORD_LENGTH`` (50) ids: begin-of-word, the token's UTF-8
bytes (at most 48 of them), end-of-word, then padding. All ids are shifted by +1 so
that 0 is free to mean "no token here" (padding positions of a batch).
"""
from typing import List, Sequence

import torch

MAX_WORD_LENGTH = 50

BEGINNING_OF_SENTENCE_CHARACTER = 256
END_OF_SENTENCE_CHARACTER = 257
BEGINNING_OF_WORD_CHARACTER = 258
END_OF_WORD_CHARACTER = 259
PADDING_CHARACTER = 260

BOS_TOKEN = "<S>"
EOS_TOKEN = "</S>"


def _special_token_ids(character: int) -> List[int]:
    ids = [PADDING_CHARACTER] * MAX_WORD_LENGTH
    ids[0] = BEGINNING_OF_WORD_CHARACTER
    ids[1] = character
    ids[2] = END_OF_WORD_CHARACTER
    return [c + 1 for c in ids]


BOS_CHAR_IDS: List[int] = _special_token_ids(BEGINNING_OF_SENTENCE_CHARACTER)
EOS_CHAR_IDS: List[int] = _special_token_ids(END_OF_SENTENCE_CHARACTER)


def word_to_char_ids(word: str) -> List[int]:
    """The 50 (+1-shifted) character ids of one token.

    ``<S>`` and ``</S>`` map to the sentence-boundary rows; any other string is
    encoded as UTF-8 (unencodable code points such as lone surrogates are dropped)
    and cut to its first 48 bytes.
    """
    if word == BOS_TOKEN:
        return list(BOS_CHAR_IDS)
    if word == EOS_TOKEN:
        return list(EOS_CHAR_IDS)
    encoded = word.encode("utf-8", "ignore")[: MAX_WORD_LENGTH - 2]
    ids = [PADDING_CHARACTER] * MAX_WORD_LENGTH
    ids[0] = BEGINNING_OF_WORD_CHARACTER
    ids[1 : len(encoded) + 1] = encoded
    ids[len(encoded) + 1] = END_OF_WORD_CHARACTER
    return [c + 1 for c in ids]


def batch_to_ids(batch: Sequence[Sequence[str]]) -> torch.Tensor:
    """Character ids for a batch of tokenized sentences.

    Parameters
    ----------
    batch : sentences, each a list of token strings.

    Returns
    -------
    ``LongTensor`` of shape ``(batch, max_sentence_length, 50)``; positions past a
    sentence's end are all zeros.
    """
    if isinstance(batch, str) or any(isinstance(sentence, str) for sentence in batch):
        raise TypeError("batch_to_ids expects a list of tokenized sentences (List[List[str]]), "
                        "not a string or a list of strings")
    max_length = max((len(sentence) for sentence in batch), default=0)
    ids = torch.zeros(len(batch), max_length, MAX_WORD_LENGTH, dtype=torch.long)
    for i, sentence in enumerate(batch):
        if sentence:
            ids[i, : len(sentence)] = torch.tensor([word_to_char_ids(t) for t in sentence])
    return ids
