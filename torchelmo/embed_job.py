"""Embedding a whole file: resumable, atomic, optionally sharded over processes.

The output has the layout of ``allennlp elmo``: one float32 dataset per sentence keyed by
its 0-based line index (or by the sentence text), ``(3, tokens, dim)`` for ``"all"`` and
``(tokens, dim)`` for ``"top"``/``"average"`` (``(3, dim)`` and ``(dim,)`` with ``pool="mean"``;
float16 and gzip/lzf compression on request, readable by plain h5py), plus ``sentence_to_index``, a one-element
string dataset holding the JSON object ``{sentence: key}``. Root attributes
``torchelmo_*`` record the model (name, files, weight checksum), the state mode and the format.
With a raw-text input (``SentenceFile.tokenize``) the keys of ``sentence_to_index`` are still the
stripped lines, and each dataset has the attributes ``tokens`` (its tokens, UTF-8 strings) and
``token_offsets`` (``(tokens, 2)`` int64 start and end of each in that line); such a file is
written in the HDF5 1.8 format (``libver="v108"``), whose dense attribute storage holds the
tokens of lines of any length (the older format stops at 64 KB an object).

Work is done in *segments* of ``checkpoint_every`` batches, each written to its own small
HDF5 file under ``OUTPUT.partial/`` (temporary name, then rename; free space checked first)
together with the LSTM state after its last batch. An interrupted run (Ctrl-C, SIGTERM,
kill -9, a full disk) keeps every finished segment; ``resume=True`` checks them (each opens
and holds the expected sentences, and together they tile the batches from the first), drops
a bad one and those after it, and continues from there, restoring the carried state, so the
result equals an uninterrupted run. When all segments exist they are merged into ``OUTPUT``
(again under a temporary name, renamed when complete) and the partial directory is removed.

``ElmoEmbedder.embed_file`` and ``torchelmo embed`` both run :func:`embed_file`, which sees the
embedder only through :class:`JobEmbedder`; so the policy is the same for both: an existing
``OUTPUT`` is replaced only with ``overwrite=True`` (``resume=True`` alone never replaces it); an
interrupted run's partial output is either finished (``resume=True``) or discarded
(``overwrite=True``), never silently, and a ``OUTPUT.partial`` torchelmo did not make (a link,
a folder without ``job.json``) is refused; the output may not be the input nor a model file;
the input is pinned from the checking pass to the merge; ``OUTPUT.partial/job.json`` records everything that changes the
vectors (input checksum, settings, model and options checksums, the embedder's settings,
world size) and a resume that differs is refused naming the setting; and ``OUTPUT.lock``
(held with ``flock`` while the job runs) makes a second job into the same output refuse at once.

Sharding (``torchrun``): with carried state, batch row ``r`` of every batch forms an
independent chain (sentences ``r``, ``r + B``, ``r + 2B``, ...): each row starts from the
state the same row ended with in the previous batch and nothing else. Rank ``j`` of ``N``
takes the rows ``r`` with ``r % N == j``, so every process computes the same sentences with
the same state chains as a single process; rank 0 merges. The values agree with a single
process to within floating-point blocking (a few millionths): a rank multiplies fewer rows at once,
and matrix products block their sums by the number of rows.
With the ``warm`` and ``zero`` state modes every sentence is independent: its vectors are
the same bits whatever its batch, position, batch size or process count (see
:mod:`torchelmo.states`).
"""
import json
import logging
import os
import re
import shutil
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol, Sequence, Tuple, Union, runtime_checkable

import h5py
import numpy as np
import torch
from tqdm import tqdm

from .errors import (ConfigurationError, InputChangedError, InputError, Interrupted, OutputError, OutputExistsError,
                     ResumeError, Terminated)
from .distributed import DistributedContext
from .files import (PathLike, atomic_path, check_not_input, output_errors, output_lock, sweep_stale_temporaries,
                    write_json)
from .lstm import LstmState
from .cache import file_sha256
from .hub import model_info
from .row_streams import STREAM_BATCHES
from .sentences import InputPolicy, SentenceFile, Source, default_max_sentence_length, open_sentence_file
from .states import StateMode
from .windows import Windowing

logger = logging.getLogger(__name__)
SEGMENT_PATTERN = re.compile(r"segment-r(\d+)-b(\d+)-(\d+)\.h5$")
OUTPUT_FORMATS = ("all", "top", "average")
OUTPUT_DTYPES = ("float32", "float16")  # of the output datasets
COMPRESSIONS = ("none", "gzip", "lzf")
POOLS = ("none", "mean")
DEFAULT_GZIP_LEVEL = 4  # h5py's default
JOB_FILE = "job.json"
DATASET_OVERHEAD = 4096  # bytes an HDF5 dataset needs beyond its values (headers, index), generously


@runtime_checkable
class JobEmbedder(Protocol):
    """What a job needs from the embedder (:class:`~torchelmo.ElmoEmbedder` is one): its model
    files, device and vector-changing settings, its carried state, and batches embedded."""

    options_file: str
    weight_file: str
    device: torch.device

    @property
    def state_mode(self) -> StateMode: ...

    def job_settings(self) -> Dict[str, Any]:
        """The settings that change the vectors, recorded in ``job.json``."""

    def get_state(self) -> Optional[LstmState]: ...

    def set_state(self, state: Optional[LstmState]) -> None: ...

    def embed_batches(self, batches: Sequence[List[List[str]]], window: int = 0,
                      window_overlap: Optional[int] = None, batch_size: int = 64) -> List[List[np.ndarray]]:
        """Each sentence of each batch, in order -> ``(layers, tokens, dim)``."""


def select_layers(embedding: np.ndarray, output_format: str) -> np.ndarray:
    """``(layers, tokens, dim)`` -> ``"all"`` of it, the ``"top"`` layer, or their ``"average"``."""
    if output_format == "all":
        return embedding
    if output_format == "top":
        return embedding[-1]
    return np.average(embedding, axis=0)


def pool_tokens(vectors: np.ndarray, pool: str) -> np.ndarray:
    """``(..., tokens, dim)`` -> itself (``"none"``) or its ``"mean"`` over tokens, ``(..., dim)``;
    the mean of 0 tokens is a zero vector."""
    if pool == "none":
        return vectors
    return vectors.sum(axis=-2) / max(vectors.shape[-2], 1)


@dataclass
class EmbedSettings:
    """How a file is embedded; a resumed run must use the same settings."""

    output_format: str = "all"
    batch_size: int = 64
    forget_sentences: bool = False
    use_sentence_keys: bool = False
    checkpoint_every: int = 20  # batches per segment
    dtype: str = "float32"  # of the output's datasets (segments stay float32)
    compression: str = "none"
    compression_level: Optional[int] = None  # gzip only, 0-9; None: DEFAULT_GZIP_LEVEL
    pool: str = "none"
    window: int = 0  # tokens per window for longer sentences; 0: no windows
    window_overlap: Optional[int] = None  # None: default_overlap(window) when windowed

    def __post_init__(self) -> None:
        """Raises :class:`ConfigurationError` naming the first bad setting."""
        for name, choices in (("output_format", OUTPUT_FORMATS), ("dtype", OUTPUT_DTYPES),
                              ("compression", COMPRESSIONS), ("pool", POOLS)):
            if getattr(self, name) not in choices:
                raise ConfigurationError(f"{name} must be one of {choices}, got {getattr(self, name)!r}",
                                         settings=(name,))
        if self.batch_size < 1 or self.checkpoint_every < 1:
            raise ConfigurationError("batch_size and checkpoint_every must be positive",
                                     settings=("batch_size", "checkpoint_every"))
        if self.compression_level is not None:
            if self.compression != "gzip":
                raise ConfigurationError("compression_level needs compression gzip",
                                         settings=("compression_level", "compression"))
            if self.compression_level not in range(10):
                raise ConfigurationError(f"compression_level must be 0-9, got {self.compression_level!r}",
                                         settings=("compression_level",))
        windowing = Windowing.from_settings(self.window, self.window_overlap)
        self.window_overlap = windowing.overlap if windowing else None

    def dataset_options(self) -> Dict[str, Any]:
        """``h5py`` ``create_dataset`` keywords for the output's sentence datasets."""
        options: Dict[str, Any] = {"dtype": self.dtype}
        if self.compression == "gzip":
            options.update(compression="gzip", compression_opts=(
                DEFAULT_GZIP_LEVEL if self.compression_level is None else self.compression_level))
        elif self.compression == "lzf":
            options["compression"] = "lzf"
        return options


def partial_dir(output_path: str) -> str:
    return f"{output_path}.partial"


def lock_file(output_path: str) -> str:
    return f"{output_path}.lock"


def job_record(embedder: JobEmbedder, source: SentenceFile, settings: EmbedSettings, world_size: int) -> Dict[str, Any]:
    """Everything that changes the vectors a job writes (``job.json``)."""
    model = model_info(embedder.options_file, embedder.weight_file)
    return {"input": source.display_name, "input_sha256": source.sha256, "num_lines": source.num_lines,
            "skipped": source.skipped, "tokenizer": source.tokenizer, "settings": asdict(settings),
            "model": {**model, "options_sha256": file_sha256(embedder.options_file)},
            "embedder": embedder.job_settings(), "world_size": world_size}


def _differences(previous: Any, current: Any, name: str = "") -> List[str]:
    """``setting: then -> now`` for every leaf that differs between two records."""
    if isinstance(previous, dict) and isinstance(current, dict):
        return [d for key in sorted(set(previous) | set(current))
                for d in _differences(previous.get(key), current.get(key), f"{name}.{key}" if name else key)]
    return [] if previous == current else [f"{name} ({_short(previous)} then, {_short(current)} now)"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kept_lines(source: SentenceFile) -> Iterator[Tuple[int, str]]:
    return ((index, text) for index, text in source.lines() if text is not None)


def _check_keys(source: SentenceFile) -> None:
    """Sentences used as HDF5 keys must be unique, non-empty, and hold no ``/`` (a group path)."""
    seen: Dict[str, int] = {}
    for index, text in _kept_lines(source):
        problem = ("is empty" if not text else "contains '/', which HDF5 reads as a group path" if "/" in text
                   else "is '.', which HDF5 reads as the file itself" if text == "."
                   else "contains a NUL character, where an HDF5 name ends" if "\x00" in text else None)
        if problem is None and text in seen:
            problem = f"repeats line {seen[text] + 1}"
        if problem:
            raise InputError(f"{source.display_name}: line {index + 1} {problem}; it cannot be a key",
                             hint="sentence_keys")
        seen[text] = index


def _check_output(embedder: JobEmbedder, source: SentenceFile, output: str) -> None:
    """The output must be a file name in an existing folder, and none of the job's inputs."""
    if os.path.isdir(output):
        raise OutputError(f"{output}: is a directory, expected an HDF5 file name", output)
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise OutputError(f"{output}: the folder {parent} does not exist", output)
    check_not_input(output, [("the input file", None if source.temporary else source.path),
                             ("the weight file", embedder.weight_file), ("the options file", embedder.options_file)])


def _check_partial(directory: str) -> bool:
    """Whether ``directory`` holds an interrupted run's output (``job.json`` or segments). A
    link, a file, or a folder of other files there is refused: torchelmo did not make it."""
    if os.path.islink(directory) or (os.path.lexists(directory) and not os.path.isdir(directory)):
        raise OutputError(f"{directory}: is not a folder torchelmo made (a link or a file); move it away or "
                          f"choose another output", directory)
    names = os.listdir(directory) if os.path.isdir(directory) else []
    kept = any(n == JOB_FILE or SEGMENT_PATTERN.fullmatch(n) for n in names)
    if names and not kept and any(not n.startswith(".") for n in names):
        raise OutputError(f"{directory}: holds files torchelmo did not write (no {JOB_FILE}); move it away or "
                          f"choose another output", directory)
    return kept


def _read_record(directory: str) -> Optional[Dict[str, Any]]:
    """The interrupted run's ``job.json``; None when there is none."""
    path = os.path.join(directory, JOB_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError) as error:
        raise ResumeError(f"{path}: not a readable record of the interrupted run ({error})",
                          hint="overwrite") from None
    if not isinstance(record, dict):
        raise ResumeError(f"{path}: not a record of an interrupted run (a JSON object)", hint="overwrite")
    return record


def _segment_files(directory: str, rank: int) -> List[Tuple[int, int, str]]:
    """Segment files of ``rank`` as ``(first_batch, end_batch, path)``, in order."""
    found = []
    for name in os.listdir(directory):
        match = SEGMENT_PATTERN.fullmatch(name)
        if match and int(match.group(1)) == rank:
            found.append((int(match.group(2)), int(match.group(3)), os.path.join(directory, name)))
    return sorted(found)


def _rows_in(source: SentenceFile, settings: EmbedSettings, rank: int, world_size: int, first: int,
             end: int) -> Optional[int]:
    """How many sentences rank ``rank`` embeds in batches ``[first, end)``; None past the input."""
    total, size = source.num_lines - len(source.skipped), settings.batch_size
    if first >= end or (end - 1) * size >= total:
        return None
    return sum(len(range(rank, min(size, total - b * size), world_size)) for b in range(first, end))


def _segment_problem(path: str, expected: Optional[int]) -> Optional[str]:
    """Why a segment file cannot be used, or None when it opens and holds the expected sentences."""
    if expected is None:
        return "it lies beyond the input"
    try:
        with h5py.File(path, "r") as f:
            count = len(f["data"]) if "data" in f else -1
            if "state" in f and not {"hidden", "memory"} <= set(f["state"]):
                return "its LSTM state is incomplete"
    except (OSError, KeyError, ValueError) as error:
        return f"it is not readable ({error})"
    return None if count == expected else f"it holds {count} sentences, not {expected}"


def finished_segments(source: SentenceFile, directory: str, settings: EmbedSettings, rank: int,
                      world_size: int, repair: bool = False) -> List[Tuple[int, int, str]]:
    """The usable segments of ``rank``: they open, hold the right sentences and tile the batches
    from 0. With ``repair``, the first bad one (or the first after a gap) and all later ones are
    deleted, so that they are recomputed."""
    usable, end = [], 0
    found = _segment_files(directory, rank)
    for position, (first, last, path) in enumerate(found):
        problem = ("batches before it are missing" if first != end
                   else _segment_problem(path, _rows_in(source, settings, rank, world_size, first, last)))
        if problem:
            if repair:
                for _, _, stale in found[position:]:
                    os.remove(stale)
                logger.warning("%s: %s; it and the %d segment(s) after it are recomputed", path, problem,
                               len(found) - position - 1)
            break
        usable.append((first, last, path))
        end = last
    return usable


def _write_segment(directory: str, rank: int, first: int, end: int, outputs: Dict[str, np.ndarray],
                   state: Optional[LstmState]) -> None:
    path = os.path.join(directory, f"segment-r{rank}-b{first:09d}-{end:09d}.h5")
    arrays = list(outputs.values()) + ([state.hidden, state.memory] if state is not None else [])
    needed = sum(a.nbytes if isinstance(a, np.ndarray) else a.nelement() * a.element_size() for a in arrays)
    with atomic_path(path, needed + DATASET_OVERHEAD * (len(arrays) + 4)) as tmp, h5py.File(tmp, "w") as f:
        data = f.create_group("data")
        for key, array in outputs.items():
            data.create_dataset(key, data=array, dtype="float32")
        if state is not None:
            f.create_dataset("state/hidden", data=state.hidden.cpu().numpy())
            f.create_dataset("state/memory", data=state.memory.cpu().numpy())


def _load_state(path: str, device: torch.device) -> Optional[LstmState]:
    """The carried state a segment file ends with (as it was saved), on ``device``."""
    with h5py.File(path, "r") as f:
        if "state" not in f:
            return None
        return LstmState(torch.from_numpy(f["state/hidden"][...]).to(device),
                         torch.from_numpy(f["state/memory"][...]).to(device))


def embed_shard(embedder: JobEmbedder, source: SentenceFile, directory: str, settings: EmbedSettings, rank: int = 0,
                world_size: int = 1, progress: bool = True) -> None:
    """Embed this rank's rows of every batch into segment files under ``directory``."""
    batch_size = settings.batch_size
    done = finished_segments(source, directory, settings, rank, world_size, repair=True)
    start = done[-1][1] if done else 0
    if done:
        embedder.set_state(_load_state(done[-1][2], embedder.device))
        logger.info("Rank %d resumes at batch %d (%d segment(s) already done)", rank, start, len(done))
    total = source.num_lines - len(source.skipped)
    bar = tqdm(total=total, initial=min(start * batch_size, total), unit="sent", desc="embedding",
               disable=not progress or rank != 0)
    lines = ((index, tokens) for index, tokens, _ in source.sentences())
    first, outputs, batch_index = start, {}, 0
    # Batches not yet embedded: this rank's rows of each, and the batch's size (for the progress bar).
    group: List[Tuple[List[Tuple[int, List[str]]], int]] = []

    def embed_group() -> None:
        """Embed the batches in ``group`` as row streams: the vectors and final state of
        one ``embed_batch`` after another, faster."""
        batches = [mine for mine, _ in group if mine]
        embedded = embedder.embed_batches([[tokens for _, tokens in mine] for mine in batches],
                                          settings.window, settings.window_overlap, batch_size)
        for mine, vectors in zip(batches, embedded):
            for (index, _), vector in zip(mine, vectors):
                outputs[str(index)] = pool_tokens(select_layers(vector, settings.output_format), settings.pool)
        bar.update(sum(size for _, size in group))
        group.clear()

    try:
        while True:
            batch = [line for _, line in zip(range(batch_size), lines)]  # no more than the input holds
            if not batch:
                break
            if batch_index >= start:
                group.append((batch[rank::world_size], len(batch)))
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
    finally:
        bar.close()


def merge_segments(source: SentenceFile, directory: str, output_path: str, settings: EmbedSettings,
                   world_size: int, attributes: Dict[str, Any]) -> None:
    """Write ``output_path`` in ``allennlp elmo``'s layout from every rank's segments.

    Raises :class:`ResumeError` (and deletes what is unusable, so a resume recomputes it)
    unless the segments hold every sentence."""
    total = source.num_lines - len(source.skipped)
    batches = -(-total // settings.batch_size)
    segments = []
    for rank in range(world_size):
        usable = finished_segments(source, directory, settings, rank, world_size, repair=True)
        if (usable[-1][1] if usable else 0) != batches:
            raise ResumeError(f"{directory}: the segments of rank {rank} do not cover all {batches} batches "
                              f"(missing or damaged files were removed)", hint="resume")
        segments += usable
    sentence_to_index: Dict[str, str] = {}
    texts = {}
    for index, text in _kept_lines(source):
        if settings.use_sentence_keys:
            texts[str(index)] = text
        elif not settings.forget_sentences:
            sentence_to_index[text] = str(index)
    index_json = json.dumps(sentence_to_index)
    values = 0
    for _, _, path in segments:
        with h5py.File(path, "r") as segment:
            values += sum(dataset.size for dataset in segment["data"].values())
    # Uncompressed size in the output dtype: compression only ever needs less. A token takes at
    # most 6 times its JSON line's bytes as attributes (its text, a heap entry, 16 bytes of offsets).
    needed = values * np.dtype(settings.dtype).itemsize + len(index_json.encode("utf-8"))
    needed += 6 * os.path.getsize(source.tokens_path) if source.tokenize else 0
    options = settings.dataset_options()
    with atomic_path(output_path, needed + DATASET_OVERHEAD * (total + 4)) as tmp, \
            h5py.File(tmp, "w", libver="v108" if source.tokenize else None) as fout:
        for _, _, path in segments:
            with h5py.File(path, "r") as segment:
                for key, dataset in segment["data"].items():
                    fout.create_dataset(texts[key] if settings.use_sentence_keys else key, data=dataset[...],
                                        **options)
        if source.tokenize:
            _write_tokens(source, fout, texts if settings.use_sentence_keys else None)
        if not settings.forget_sentences and not settings.use_sentence_keys:
            index_dataset = fout.create_dataset("sentence_to_index", (1,), dtype=h5py.string_dtype())
            index_dataset[0] = index_json
        for name, value in attributes.items():
            fout.attrs[name] = value
        if source.skipped:
            fout.attrs["skipped_lines"] = np.asarray(source.skipped, dtype=np.int64)


def _write_tokens(source: SentenceFile, fout: h5py.File, keys: Optional[Dict[str, str]]) -> None:
    """Give each sentence's dataset its ``tokens`` and ``token_offsets`` attributes (``keys``:
    line index -> dataset name, when datasets are keyed by sentence)."""
    for index, tokens, starts in source.sentences():
        attributes = fout[keys[str(index)] if keys else str(index)].attrs
        attributes["tokens"] = np.asarray(tokens, dtype=h5py.string_dtype())
        attributes["token_offsets"] = np.asarray([[start, start + len(token)] for token, start in zip(tokens, starts)],
                                                 dtype=np.int64).reshape(len(tokens), 2)


def _must_start_fresh(directory: str, output: str, record: Dict[str, Any], resume: bool, overwrite: bool) -> bool:
    """Apply the overwrite/resume policy without changing anything: False to resume the
    interrupted run, True to start a fresh one; raises when the job must not run."""
    kept = _check_partial(directory)
    if os.path.exists(output) and not overwrite:  # with or without resume: a complete output stays
        raise OutputExistsError(f"{output}: already exists" + (" and there is no interrupted run to resume"
                                                               if resume and not kept else ""), hint="overwrite")
    if kept and resume:
        try:
            previous = _read_record(directory)
            changed = _differences(previous, record) if previous is not None else [f"{JOB_FILE} (missing)"]
        except ResumeError:
            if not overwrite:
                raise
            changed = [JOB_FILE]
        if not changed:
            return False
        if not overwrite:
            raise ResumeError(f"{directory}: cannot resume: the interrupted run used another "
                              f"{'; '.join(changed)}", hint="overwrite")
    elif kept and not overwrite:
        raise OutputExistsError(f"{directory}: an interrupted run left partial output", hint="resume_or_overwrite")
    return True


def _start_fresh(directory: str, record: Dict[str, Any]) -> None:
    """A new, empty partial directory holding ``job.json``; removed again if that cannot be written."""
    with output_errors(directory):
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.mkdir(directory)
    try:
        write_json(os.path.join(directory, JOB_FILE), record)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _discard_if_empty(directory: str) -> None:
    """Remove the partial directory unless it keeps finished segments."""
    if os.path.isdir(directory) and not any(SEGMENT_PATTERN.fullmatch(n) for n in os.listdir(directory)):
        shutil.rmtree(directory, ignore_errors=True)


def _stopped(error: BaseException, directory: str) -> Interrupted:
    """The error to raise when a job stops early, with advice that is true: resume only when
    finished segments are kept; otherwise the partial directory is removed."""
    kept = os.path.isdir(directory) and any(SEGMENT_PATTERN.fullmatch(n) for n in os.listdir(directory))
    signalled = isinstance(error, KeyboardInterrupt)
    reason = str(error) if isinstance(error, (OutputError, OSError, Terminated)) and str(error) else "interrupted"
    if kept:
        return Interrupted(f"{reason}; finished work is kept in {directory}", hint="resume", signalled=signalled)
    _discard_if_empty(directory)
    return Interrupted(f"{reason}; nothing was finished, nothing is kept", signalled=signalled)


def run_embedding_job(embedder: JobEmbedder, source: SentenceFile, output_path: PathLike, settings: EmbedSettings,
                      resume: bool = False, overwrite: bool = False, progress: bool = True, rank: int = 0,
                      world_size: int = 1, barrier: Callable[[], None] = lambda: None) -> None:
    """Embed ``source`` into ``output_path`` (see the module docstring for the policy).

    Raises :class:`OutputExistsError` (an output or partial output would be replaced),
    :class:`ResumeError`, :class:`LockedError`, :class:`OutputError` (cannot write), and
    :class:`Interrupted` when the job stops early (Ctrl-C, SIGTERM, a full disk), saying
    whether finished work was kept for ``resume=True``.
    """
    output = os.fspath(output_path)
    if settings.window and embedder.state_mode == "carry" and world_size > 1:
        raise ConfigurationError("windows with state 'carry' cannot be sharded: a process's windows would "
                                 "form other carried-state chains than a single process's; use state "
                                 "'warm' or 'zero'")
    _check_output(embedder, source, output)
    if settings.use_sentence_keys:
        _check_keys(source)
    directory = partial_dir(output)
    record = job_record(embedder, source, settings, world_size)
    with output_lock(lock_file(output)) if rank == 0 else nullcontext():
        fresh = _must_start_fresh(directory, output, record, resume, overwrite)  # every rank: same answer
        barrier()  # ... before rank 0 changes anything
        if rank == 0:
            for folder in (os.path.dirname(os.path.abspath(output)), directory):  # what kill -9 left
                sweep_stale_temporaries(folder)
            if fresh:
                _start_fresh(directory, record)
        barrier()
        logger.info("Embedding %s (%d lines, tokenizer %s) with %s on %s: format %s, batch size %d, %s, %s, rank %d "
                    "of %d -> %s", source.display_name, source.num_lines, record["tokenizer"],
                    record["model"]["weight_file"], embedder.device, settings.output_format, settings.batch_size,
                    f"window {settings.window} overlap {settings.window_overlap}" if settings.window else "no window",
                    ", ".join(f"{k} {v}" for k, v in record["embedder"].items()), rank, world_size, output)
        try:
            embed_shard(embedder, source, directory, settings, rank, world_size, progress)
            barrier()
            if rank == 0:
                attributes = {"torchelmo_" + k: v for k, v in record["model"].items() if k != "options_sha256"}
                attributes["torchelmo_output_format"] = settings.output_format
                attributes["torchelmo_state"] = embedder.state_mode
                attributes["torchelmo_dtype"] = settings.dtype
                attributes["torchelmo_compression"] = settings.compression
                if settings.compression == "gzip":
                    attributes["torchelmo_compression_level"] = settings.dataset_options()["compression_opts"]
                attributes["torchelmo_pool"] = settings.pool
                attributes["torchelmo_tokenizer"] = record["tokenizer"]
                attributes["torchelmo_window"] = settings.window
                if settings.window:
                    attributes["torchelmo_window_overlap"] = settings.window_overlap
                merge_segments(source, directory, output, settings, world_size, attributes)
                shutil.rmtree(directory)
        except (KeyboardInterrupt, OSError, OutputError) as error:
            if rank != 0:
                raise
            raise _stopped(error, directory) from error
        except InputChangedError:  # what was embedded may mix two texts: keep none of it
            if rank == 0:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        except BaseException:  # any other error: a partial output without segments is no interrupted run
            if rank == 0:
                _discard_if_empty(directory)
            raise
    barrier()


def embed_file(embedder: Union[JobEmbedder, Callable[[], JobEmbedder]], input_file: Source, output_path: PathLike,
               settings: Optional[EmbedSettings] = None, input_policy: Optional[InputPolicy] = None,
               tokenize: bool = False, resume: bool = False, overwrite: bool = False, progress: bool = True,
               language: str = "en") -> None:
    """Embed a sentence file into ``output_path``: the one assembly behind ``torchelmo embed``
    and :meth:`ElmoEmbedder.embed_file <torchelmo.ElmoEmbedder.embed_file>`.

    Opens ``input_file`` (a path, ``-``, or a file object; raw text with ``tokenize``, by the
    tokenizer rules of ``language``) under
    ``input_policy`` (default: :class:`InputPolicy` with the sentence-length limit of
    :func:`default_max_sentence_length` for ``settings.window``), runs :func:`run_embedding_job`
    as this process's shard under ``torchrun`` (rank and world size from its environment; a
    single process otherwise), and warns about skipped lines. Raises what
    :func:`run_embedding_job` raises, and :class:`InputError` for input that cannot be read.
    ``embedder`` may also be a function that makes one: it is called once the input is open and
    checked, so bad input is reported before a model loads.
    """
    settings = EmbedSettings() if settings is None else settings
    if input_policy is None:
        input_policy = InputPolicy(max_sentence_length=default_max_sentence_length(settings.window))
    completed = False
    source = context = None
    try:
        source = open_sentence_file(input_file, input_policy, tokenize=tokenize, language=language)
        if not isinstance(embedder, JobEmbedder):
            embedder = embedder()
        context = DistributedContext.from_environment(str(embedder.device))  # GPU N, and no other
        run_embedding_job(embedder, source, output_path, settings, resume=resume, overwrite=overwrite,
                          progress=progress, rank=context.rank, world_size=context.world_size,
                          barrier=context.barrier)
        completed = True
    finally:
        if source is not None:
            source.close()
        if context is not None:
            context.close(completed)
    if source.skipped:
        logger.warning("Skipped %d line(s) (see the skipped_lines attribute): %s", len(source.skipped),
                       ", ".join(str(i + 1) for i in source.skipped[:20]))
