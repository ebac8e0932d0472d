"""Embedding a whole file: resumable, atomic, optionally sharded over processes.

The output has the layout of ``allennlp elmo``: one float32 dataset per sentence keyed by
its 0-based line index (or by the sentence text), ``(3, tokens, dim)`` for ``"all"`` and
``(tokens, dim)`` for ``"top"``/``"average"``, plus ``sentence_to_index``, a one-element
string dataset holding the JSON object ``{sentence: key}``. Root attributes
``torchelmo_*`` record the model (name, files, weight checksum), the state mode and the format.

Work is done in *segments* of ``checkpoint_every`` batches, each written to its own small
HDF5 file under ``OUTPUT.partial/`` (temporary name, then rename) together with the LSTM
state after its last batch. An interrupted run (Ctrl-C, kill -9, a full disk) keeps every
finished segment; ``resume=True`` continues from the last one, restoring the carried state,
so the result equals an uninterrupted run. When all segments exist they are merged into
``OUTPUT`` (again under a temporary name, renamed when complete) and the partial directory
is removed.

Sharding (``torchrun``): with carried state, batch row ``r`` of every batch forms an
independent chain (sentences ``r``, ``r + B``, ``r + 2B``, ...): each row starts from the
state the same row ended with in the previous batch and nothing else. Rank ``j`` of ``N``
takes the rows ``r`` with ``r % N == j``, so every process computes exactly the sentences,
states and outputs a single process would; rank 0 merges. With the ``warm`` and ``zero``
state modes every sentence is independent: its vectors are the same bits whatever its
batch, position, batch size or process count (see :mod:`torchelmo.states`).
"""
import glob
import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import h5py
import numpy as np
import torch
from tqdm import tqdm

from .errors import InputError
from .lstm import LstmState
from .models import model_info
from .row_streams import STREAM_BATCHES
from .sentences import SentenceFile

logger = logging.getLogger(__name__)
SEGMENT_PATTERN = re.compile(r"segment-r(\d+)-b(\d+)-(\d+)\.h5$")
OUTPUT_FORMATS = ("all", "top", "average")


def select_layers(embedding: np.ndarray, output_format: str) -> np.ndarray:
    """``(layers, tokens, dim)`` -> ``"all"`` of it, the ``"top"`` layer, or their ``"average"``."""
    if output_format == "all":
        return embedding
    if output_format == "top":
        return embedding[-1]
    return np.average(embedding, axis=0)


@dataclass
class EmbedSettings:
    """How a file is embedded; a resumed run must use the same settings."""

    output_format: str = "all"
    batch_size: int = 64
    forget_sentences: bool = False
    use_sentence_keys: bool = False
    checkpoint_every: int = 20  # batches per segment

    def __post_init__(self) -> None:
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {OUTPUT_FORMATS}, got {self.output_format!r}")
        if self.batch_size < 1 or self.checkpoint_every < 1:
            raise ValueError("batch_size and checkpoint_every must be positive")


def partial_dir(output_path: str) -> str:
    return f"{output_path}.partial"


def _fingerprint(source: SentenceFile, settings: EmbedSettings, model: Dict[str, str], world_size: int) -> dict:
    return {"input": source.display_name, "input_sha256": source.sha256, "num_lines": source.num_lines,
            "skipped": source.skipped, "settings": asdict(settings), "model": model, "world_size": world_size}


def _prepare_partial(directory: str, fingerprint: dict, resume: bool, rank: int) -> None:
    """Create (or check, when resuming) the partial directory and its ``job.json``."""
    job_file = os.path.join(directory, "job.json")
    if os.path.exists(job_file):
        with open(job_file, encoding="utf-8") as f:
            previous = json.load(f)
        if resume:
            if previous != fingerprint:
                changed = sorted(k for k in fingerprint if previous.get(k) != fingerprint[k])
                raise InputError(f"{directory}: cannot resume: the interrupted run used a different "
                                 f"{', '.join(changed)}; run again with --overwrite to start over")
            return
    if rank == 0:
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        tmp = job_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(fingerprint, f)
        os.replace(tmp, job_file)


def _segments(directory: str, rank: int) -> List[Tuple[int, int, str]]:
    """Finished segments of ``rank`` as ``(first_batch, end_batch, path)``, in order."""
    found = []
    for path in glob.glob(os.path.join(directory, "segment-*.h5")):
        match = SEGMENT_PATTERN.search(os.path.basename(path))
        if match and int(match.group(1)) == rank:
            found.append((int(match.group(2)), int(match.group(3)), path))
    return sorted(found)


def _kept_lines(source: SentenceFile) -> Iterator[Tuple[int, str]]:
    return ((index, text) for index, text in source.lines() if text is not None)


def _check_unique(source: SentenceFile) -> None:
    seen: Dict[str, int] = {}
    for index, text in _kept_lines(source):
        if text in seen:
            raise InputError(f"{source.display_name}: line {index + 1} repeats line {seen[text] + 1}; sentences "
                             f"cannot be keys (drop --use-sentence-keys)")
        seen[text] = index


def _write_segment(directory: str, rank: int, first: int, end: int, outputs: Dict[str, np.ndarray],
                   state: Optional[LstmState]) -> None:
    path = os.path.join(directory, f"segment-r{rank}-b{first:09d}-{end:09d}.h5")
    tmp = path + ".tmp"
    try:
        with h5py.File(tmp, "w") as f:
            data = f.create_group("data")
            for key, array in outputs.items():
                data.create_dataset(key, data=array, dtype="float32")
            if state is not None:
                f.create_dataset("state/hidden", data=state.hidden.cpu().numpy())
                f.create_dataset("state/memory", data=state.memory.cpu().numpy())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _load_state(path: str, like: torch.Tensor) -> Optional[LstmState]:
    with h5py.File(path, "r") as f:
        if "state" not in f:
            return None
        return LstmState(torch.from_numpy(f["state/hidden"][...]).to(like),
                         torch.from_numpy(f["state/memory"][...]).to(like))


def embed_shard(embedder, source: SentenceFile, directory: str, settings: EmbedSettings, rank: int = 0,
                world_size: int = 1, progress: bool = True) -> None:
    """Embed this rank's rows of every batch into segment files under ``directory``."""
    batch_size = settings.batch_size
    rows = [r for r in range(batch_size) if r % world_size == rank]
    done = _segments(directory, rank)
    start = done[-1][1] if done else 0
    if done:
        embedder.set_state(_load_state(done[-1][2], next(embedder.bilm.parameters())))
        logger.info("Rank %d resumes at batch %d (%d segment(s) already done)", rank, start, len(done))
    total = source.num_lines - len(source.skipped)
    bar = tqdm(total=total, initial=min(start * batch_size, total), unit="sent", desc="embedding",
               disable=not progress or rank != 0)
    lines = _kept_lines(source)
    first, outputs, batch_index = start, {}, 0
    # Batches not yet embedded: this rank's rows of each, and the batch's size (for the progress bar).
    group: List[Tuple[List[Tuple[int, str]], int]] = []

    def embed_group() -> None:
        """Embed the batches in ``group`` as row streams: the vectors and final state of
        one ``embed_batch`` after another, faster."""
        batches = [mine for mine, _ in group if mine]
        embedded = embedder.embed_batches([[text.split() for _, text in mine] for mine in batches])
        for mine, vectors in zip(batches, embedded):
            for (index, _), vector in zip(mine, vectors):
                outputs[str(index)] = select_layers(vector, settings.output_format)
        bar.update(sum(size for _, size in group))
        group.clear()

    while True:
        batch = [line for _, line in zip(range(batch_size), lines)]
        if not batch:
            break
        if batch_index >= start:
            group.append(([batch[r] for r in rows if r < len(batch)], len(batch)))
            segment_done = batch_index + 1 - first == settings.checkpoint_every
            if len(group) == STREAM_BATCHES or segment_done:
                embed_group()
            if segment_done:
                _write_segment(directory, rank, first, batch_index + 1, outputs, embedder.get_state())
                first, outputs = batch_index + 1, {}
        batch_index += 1
    if group:
        embed_group()
    if first < batch_index:
        _write_segment(directory, rank, first, batch_index, outputs, embedder.get_state())
    bar.close()


def merge_segments(source: SentenceFile, directory: str, output_path: str, settings: EmbedSettings,
                   world_size: int, attributes: Dict[str, str]) -> None:
    """Write ``output_path`` in ``allennlp elmo``'s layout from every rank's segments."""
    tmp = f"{output_path}.tmp"
    segments = [s for rank in range(world_size) for s in _segments(directory, rank)]
    sentence_to_index: Dict[str, str] = {}
    texts = {}
    for index, text in _kept_lines(source):
        if settings.use_sentence_keys:
            texts[str(index)] = text
        elif not settings.forget_sentences:
            sentence_to_index[text] = str(index)
    try:
        with h5py.File(tmp, "w") as fout:
            for _, _, path in segments:
                with h5py.File(path, "r") as segment:
                    for key, dataset in segment["data"].items():
                        name = texts[key] if settings.use_sentence_keys else key
                        try:
                            fout.create_dataset(name, data=dataset[...], dtype="float32")
                        except ValueError as error:
                            raise InputError(f"line {int(key) + 1}: cannot use {name!r} as an HDF5 key "
                                             f"({error})") from None
            if not settings.forget_sentences and not settings.use_sentence_keys:
                index_dataset = fout.create_dataset("sentence_to_index", (1,), dtype=h5py.string_dtype())
                index_dataset[0] = json.dumps(sentence_to_index)
            for name, value in attributes.items():
                fout.attrs[name] = value
            if source.skipped:
                fout.attrs["skipped_lines"] = np.asarray(source.skipped, dtype=np.int64)
        os.replace(tmp, output_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def run_embedding_job(embedder, source: SentenceFile, output_path: str, settings: EmbedSettings,
                      resume: bool = False, progress: bool = True, rank: int = 0, world_size: int = 1,
                      barrier: Callable[[], None] = lambda: None) -> None:
    """Embed ``source`` into ``output_path`` (see the module docstring); resumable."""
    if settings.use_sentence_keys:
        _check_unique(source)
    directory = partial_dir(output_path)
    model = model_info(embedder.options_file, embedder.weight_file)
    fingerprint = {**_fingerprint(source, settings, model, world_size), "state": embedder.state_mode}
    _prepare_partial(directory, fingerprint, resume, rank)
    barrier()
    logger.info("Embedding %s (%d lines) with %s on %s: state %s, format %s, batch size %d, rank %d of %d -> %s",
                source.display_name, source.num_lines, model["weight_file"], embedder.device, embedder.state_mode,
                settings.output_format, settings.batch_size, rank, world_size, output_path)
    embed_shard(embedder, source, directory, settings, rank, world_size, progress)
    barrier()
    if rank == 0:
        attributes = {"torchelmo_" + k: v for k, v in model.items()}
        attributes["torchelmo_output_format"] = settings.output_format
        attributes["torchelmo_state"] = embedder.state_mode
        merge_segments(source, directory, output_path, settings, world_size, attributes)
        shutil.rmtree(directory)
    barrier()
