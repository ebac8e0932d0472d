"""Writing embeddings in the HDF5 layout of ``allennlp elmo``, atomically.

One float32 dataset per sentence keyed by its 0-based line index (or by the sentence text):
``(3, tokens, dim)`` for ``"all"``, ``(tokens, dim)`` for ``"top"``/``"average"``; plus
``sentence_to_index``, a one-element string dataset holding a JSON object
``{sentence: key}``.
"""
import json
import os
from typing import Iterable, Tuple

import h5py
import numpy as np
from tqdm import tqdm

from .errors import InputError

OUTPUT_FORMATS = ("all", "top", "average")


def select_layers(embedding: np.ndarray, output_format: str) -> np.ndarray:
    """``(layers, tokens, dim)`` -> what ``output_format`` asks for."""
    if output_format == "all":
        return embedding
    if output_format == "top":
        return embedding[-1]
    return np.average(embedding, axis=0)


def write_embeddings(items: Iterable[Tuple[str, np.ndarray]], output_path: str, output_format: str = "all",
                     total: int = None, forget_sentences: bool = False, use_sentence_keys: bool = False,
                     progress: bool = True) -> None:
    """Write ``(sentence, (layers, tokens, dim) embedding)`` pairs, in line order, to ``output_path``.

    The file is built under a temporary name and renamed only when complete; on any error
    the temporary file is removed and an existing ``output_path`` is left untouched.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
    tmp = f"{output_path}.tmp-{os.getpid()}"
    sentence_to_index = {}
    try:
        with h5py.File(tmp, "w") as fout:
            bar = tqdm(items, total=total, unit="sent", disable=not progress, desc="embedding")
            for index, (sentence, embedding) in enumerate(bar):
                key = sentence if use_sentence_keys else str(index)
                if use_sentence_keys and key in fout:
                    raise InputError(f"sentence at line {index + 1} repeats an earlier one; cannot "
                                     f"use sentences as keys (drop --use-sentence-keys)")
                if not forget_sentences and not use_sentence_keys:
                    sentence_to_index[sentence] = key
                output = select_layers(embedding, output_format)
                try:
                    fout.create_dataset(key, output.shape, dtype="float32", data=output)
                except ValueError as error:
                    raise InputError(f"line {index + 1}: cannot use {key!r} as an HDF5 key ({error})") from None
            if not forget_sentences and not use_sentence_keys:
                index_dataset = fout.create_dataset("sentence_to_index", (1,), dtype=h5py.string_dtype())
                index_dataset[0] = json.dumps(sentence_to_index)
        os.replace(tmp, output_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
