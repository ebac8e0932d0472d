"""ELMo's character vocabulary as tensors: tokens to fixed-width rows of byte ids.

The mapping itself (UTF-8 bytes with begin/end-of-word marks, shifted by +1 so that 0 means
"no token here") lives in :mod:`torchelmo.char_ids`, which needs no torch.
"""
from typing import Sequence

import torch

from .char_ids import (BEGINNING_OF_SENTENCE_CHARACTER, BEGINNING_OF_WORD_CHARACTER, BOS_CHAR_IDS,  # noqa: F401
                       BOS_TOKEN, END_OF_SENTENCE_CHARACTER, END_OF_WORD_CHARACTER, EOS_CHAR_IDS, EOS_TOKEN,
                       MAX_WORD_LENGTH, PADDING_CHARACTER, batch_char_ids, word_to_char_ids)


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
    ids = batch_char_ids(batch)
    max_length = len(ids[0]) if ids else 0
    return torch.tensor(ids, dtype=torch.long).view(len(ids), max_length, MAX_WORD_LENGTH)
