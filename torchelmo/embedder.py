"""``ElmoEmbedder``: sentences in, numpy layer activations out (AllenNLP's contract)."""
import json
import logging
import os
from typing import IO, Iterable, Iterator, List, Optional, Tuple, Union

import h5py
import numpy as np
import torch
from tqdm import tqdm

from .bilm import ElmoBiLm
from .characters import batch_to_ids
from .errors import InputError
from .models import resolve_model_files
from .sentences import open_sentence_file

logger = logging.getLogger(__name__)
PathLike = Union[str, os.PathLike]
DEFAULT_BATCH_SIZE = 64
OUTPUT_FORMATS = ("all", "top", "average")


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ElmoEmbedder:
    """Embed tokenized sentences with all ELMo layers.

    Parameters
    ----------
    options_file, weight_file : official ``options.json`` / ``weights.hdf5``; leave both out
        for the bundled default model.
    cuda_device : GPU index, or -1 for the CPU.
    stateful : carry LSTM state from batch to batch, as AllenNLP does (default).

    Like AllenNLP's, the embedder is stateful: the same sentence gives slightly different
    vectors depending on what came before. Call :meth:`reset_states` or pass
    ``stateful=False`` for deterministic output.
    """

    def __init__(self, options_file: Optional[PathLike] = None, weight_file: Optional[PathLike] = None,
                 cuda_device: int = -1, stateful: bool = True) -> None:
        self.options_file, self.weight_file = resolve_model_files(options_file, weight_file)
        self.elmo_bilm = ElmoBiLm.from_files(self.options_file, self.weight_file, stateful=stateful)
        self.elmo_bilm.eval()
        self.cuda_device = cuda_device
        self.device = torch.device("cpu") if cuda_device < 0 else torch.device("cuda", cuda_device)
        self.elmo_bilm.to(self.device)

    @property
    def output_dim(self) -> int:
        return self.elmo_bilm.output_dim

    def reset_states(self) -> None:
        """Forget the LSTM state carried over from previous batches."""
        self.elmo_bilm.reset_states()

    def batch_to_embeddings(self, batch: List[List[str]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Activations ``(batch, num_layers, timesteps, dim)`` and mask ``(batch, timesteps)`` (long)."""
        char_ids = batch_to_ids(batch).to(self.device)
        with torch.inference_mode():
            layers, mask = self.elmo_bilm.embed_layers(char_ids)
        return layers, mask.long()

    def embed_sentence(self, sentence: List[str]) -> np.ndarray:
        """One tokenized sentence -> ``(num_layers, len(sentence), dim)`` float32 array."""
        return self.embed_batch([sentence])[0]

    def embed_batch(self, batch: List[List[str]]) -> List[np.ndarray]:
        """Each sentence -> ``(num_layers, len(sentence), dim)``; empty ones give ``(3, 0, dim)``."""
        empty = np.zeros((self.elmo_bilm.num_layers, 0, self.output_dim), dtype=np.float32)
        if all(len(sentence) == 0 for sentence in batch):
            return [empty.copy() for _ in batch]
        layers, mask = self.batch_to_embeddings(batch)
        layers = layers.cpu().numpy()
        lengths = mask.sum(dim=1).tolist()
        return [layers[i, :, :n] if n else empty.copy() for i, n in enumerate(lengths)]

    def embed_sentences(self, sentences: Iterable[List[str]],
                        batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[np.ndarray]:
        """Embed an iterable of sentences lazily, ``batch_size`` at a time, in order."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        for batch in _batches(sentences, batch_size):
            yield from self.embed_batch(batch)

    def embed_file(self, input_file: Union[PathLike, IO], output_file_path: PathLike,
                   output_format: str = "all", batch_size: int = DEFAULT_BATCH_SIZE,
                   forget_sentences: bool = False, use_sentence_keys: bool = False,
                   progress: bool = True) -> None:
        """Embed a file of whitespace-tokenized sentences (one per line) into HDF5.

        The output has one float32 dataset per sentence, keyed by its 0-based line index
        (or by the sentence itself with ``use_sentence_keys``): ``(3, tokens, dim)`` for
        ``"all"``, ``(tokens, dim)`` for ``"top"`` and ``"average"``; plus
        ``sentence_to_index``, a JSON string mapping each sentence to its key (unless
        ``forget_sentences`` or ``use_sentence_keys``). Blank lines are rejected, as in
        AllenNLP. The file appears only when complete (written under a temporary name).
        """
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {output_format!r}")
        source = open_sentence_file(input_file)
        try:
            if source.blank_lines:
                shown = ", ".join(str(i) for i in source.blank_lines[:10])
                more = " ..." if len(source.blank_lines) > 10 else ""
                raise InputError(f"{source.path if not source.temporary else 'input'}: "
                                 f"{len(source.blank_lines)} empty line(s) at 0-based indexes "
                                 f"{shown}{more}; remove them")
            self._write_hdf5(source, os.fspath(output_file_path), output_format, batch_size,
                             forget_sentences, use_sentence_keys, progress)
        finally:
            source.close()

    def _write_hdf5(self, source, output_path: str, output_format: str, batch_size: int,
                    forget_sentences: bool, use_sentence_keys: bool, progress: bool) -> None:
        logger.info("Embedding %d sentences with %s (options %s) on %s, batch size %d, format %s -> %s",
                    source.num_sentences, self.weight_file, self.options_file, self.device, batch_size,
                    output_format, output_path)
        tmp = f"{output_path}.tmp-{os.getpid()}"
        sentence_to_index = {}
        try:
            with h5py.File(tmp, "w") as fout:
                embeddings = self.embed_sentences((line.split() for line in source.lines()), batch_size)
                bar = tqdm(zip(source.lines(), embeddings), total=source.num_sentences, unit="sent",
                           disable=not progress, desc="embedding")
                for index, (sentence, embedding) in enumerate(bar):
                    key = sentence if use_sentence_keys else str(index)
                    if use_sentence_keys and key in fout:
                        raise InputError(f"sentence at line {index + 1} repeats an earlier one; cannot "
                                         f"use sentences as keys (drop --use-sentence-keys)")
                    if not forget_sentences and not use_sentence_keys:
                        sentence_to_index[sentence] = key
                    output = _select(embedding, output_format)
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


def _select(embedding: np.ndarray, output_format: str) -> np.ndarray:
    if output_format == "all":
        return embedding
    if output_format == "top":
        return embedding[-1]
    return np.average(embedding, axis=0)
