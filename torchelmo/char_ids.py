"""ELMo's character ids in plain Python (no torch, no numpy): what an ONNX graph of the biLM
takes as input (see docs/onnx.md).

Every token becomes ``MAX_WORD_LENGTH`` (50) ids: begin-of-word, the token's UTF-8 bytes (at
most 48 of them), end-of-word, then padding. All ids are shifted by +1 so that 0 is free to
mean "no token here" (padding positions of a batch). This module imports nothing from
torchelmo or torch: a serving process can copy it.
"""
from typing import List, Sequence

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


def batch_char_ids(batch: Sequence[Sequence[str]]) -> List[List[List[int]]]:
    """Character ids of tokenized sentences as nested lists ``(batch, max_sentence_length, 50)``;
    positions past a sentence's end are all zeros (``numpy.array(...)`` of it is the graph input).

    Raises TypeError for a string or a list of strings (a sentence must be a list of tokens).
    """
    if isinstance(batch, str) or any(isinstance(sentence, str) for sentence in batch):
        raise TypeError("batch_to_ids expects a list of tokenized sentences (List[List[str]]), "
                        "not a string or a list of strings")
    max_length = max((len(sentence) for sentence in batch), default=0)
    padding = [0] * MAX_WORD_LENGTH
    return [[word_to_char_ids(token) for token in sentence] + [list(padding) for _ in range(max_length - len(sentence))]
            for sentence in batch]
