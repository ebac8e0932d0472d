"""``ElmoEmbedder``: sentences in, numpy layer activations out (AllenNLP's contract)."""
import logging
import threading
from contextlib import contextmanager
from typing import IO, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .bilm import BiLmControls, ElmoBiLm
from .gemm import check_inference_support
from .errors import ConcurrentUseError, TokensError
from .cache import file_sha256
from .hub import resolve_model
from .embed_job import EmbedSettings, embed_file
from .row_streams import STREAM_BATCHES
from .sentences import InputPolicy
from .states import StateMode
from .windows import Windowing
from .files import PathLike

logger = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 64


def check_batches(batches: Sequence[Sequence[Sequence[str]]]) -> None:
    """Raise :class:`TokensError` unless every batch is a list of sentences, each a list of str
    tokens (a str, a nested list or a number in their place is named by position)."""
    for b, batch in enumerate(batches):
        if isinstance(batch, str) or any(isinstance(s, str) for s in batch):
            raise TokensError("a sentence must be a list of tokens, got a str; split it first "
                              "(sentence.split(), or torchelmo.tokenizer for raw text)")
        for s, sentence in enumerate(batch):
            where = f"batch {b}, sentence {s}"
            if not isinstance(sentence, (list, tuple)):
                raise TokensError(f"{where}: a sentence must be a list of str tokens, got {_short(sentence)}")
            bad = next((token for token in sentence if not isinstance(token, str)), None)
            if bad is not None or None in sentence:
                raise TokensError(f"{where}: a token must be a str, got {_short(bad)}; a sentence is a flat "
                                  f"list of str tokens")


def _short(value: object) -> str:
    """``value``'s type and a short repr, e.g. ``list ['a']``."""
    text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= 40 else text[:37] + "..."


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ElmoEmbedder(BiLmControls):
    """Embed tokenized sentences with all ELMo layers.

    Parameters
    ----------
    options_file, weight_file : official ``options.json`` / ``weights.hdf5``; leave both out
        for the bundled default model.
    cuda_device : GPU index, or -1 for the CPU.
    model : a model name instead of files: ``"default"`` (bundled) or one of AllenNLP's
        published models (``"small"``, ``"medium"``, ``"original"``, ``"original-5.5B"``, ...),
        downloaded once into the cache (see :mod:`torchelmo.hub`); or a model folder:
        AllenNLP's ``options.json`` + ``weights.hdf5``, or an ELMoForManyLangs model
        (see :mod:`torchelmo.efml`).
    state : where each sentence's LSTM state starts: ``"carry"`` (default; from the state
        the same batch row ended the previous batch with, as AllenNLP does), ``"zero"`` or
        ``"warm"`` (one fixed state: a sentence's vectors do not depend on its batch); see
        :mod:`torchelmo.states`.
    stateful : the former switch, an alias of ``state``: ``True`` is ``"carry"``, ``False`` ``"zero"``.
    precision : the LSTM's matrix products in ``"fp32"`` (default, exact), ``"bf16"`` or
        ``"int8"`` (dynamic quantization, CPU); the reduced ones are faster but deviate
        (measured in docs/speed.md).
    compile : fuse the LSTM cell update with ``torch.compile`` (needs a C++ compiler on the
        CPU; the first batches are slow while it compiles).
    warmup_text : the warm-up text of ``state="warm"`` (one tokenized sentence per line) in
        the model's language; needed for ELMoForManyLangs models (the shipped one is English).

    Like AllenNLP's, the embedder carries state by default: the same sentence gives slightly
    different vectors depending on what came before. Call :meth:`reset_states`, or pass
    ``state="warm"`` (or ``"zero"``) for vectors that do not depend on the other sentences.
    :meth:`get_state`/:meth:`set_state` read and restore the carried state.

    Threads: with ``state="carry"`` a call from a second thread while one is embedding raises
    :class:`~torchelmo.errors.ConcurrentUseError` (the two would mix their carried states);
    give each thread its own embedder. With ``"warm"`` or ``"zero"`` such calls wait for each
    other.
    """

    def __init__(self, options_file: Optional[PathLike] = None, weight_file: Optional[PathLike] = None,
                 cuda_device: int = -1, stateful: Optional[bool] = None, model: Optional[str] = None,
                 precision: str = "fp32", compile: bool = False, state: Optional[StateMode] = None,
                 warmup_text: Optional[PathLike] = None) -> None:
        self.device = torch.device("cpu") if cuda_device < 0 else torch.device("cuda", cuda_device)
        check_inference_support(precision, compile, self.device)
        files = resolve_model(options_file, weight_file, model)
        self.options_file, self.weight_file = files.options_file, files.weight_file
        self.elmo_bilm = ElmoBiLm.from_model_files(files, state=state, stateful=stateful, warmup_text=warmup_text)
        self.elmo_bilm.eval()
        self.cuda_device = cuda_device
        self.elmo_bilm.to(self.device)
        self.elmo_bilm.set_inference(precision, compile)
        self._in_use = threading.Lock()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One embedding call at a time: another thread's waits (``warm``, ``zero``) or, when
        state is carried from call to call, is refused."""
        if not self._in_use.acquire(blocking=self.state_mode != "carry"):
            raise ConcurrentUseError("this ElmoEmbedder is embedding in another thread now, and it carries the "
                                     "LSTM state from call to call (state 'carry'): two threads would mix their "
                                     "states; give each thread its own ElmoEmbedder, or use state='warm' or 'zero'")
        try:
            yield
        finally:
            self._in_use.release()

    @property
    def bilm(self) -> ElmoBiLm:
        return self.elmo_bilm

    @property
    def output_dim(self) -> int:
        return self.elmo_bilm.output_dim

    def job_settings(self) -> Dict[str, Any]:
        """The settings of this embedder that change its vectors (recorded by embedding jobs):
        precision, compile, state mode, and the kind of device (``"cpu"`` or ``"cuda"``)."""
        precision, compile = self.elmo_bilm.inference_settings
        settings: Dict[str, Any] = {"precision": precision, "compile": compile, "state": self.state_mode,
                                    "device": self.device.type}
        if self.state_mode == "warm" and self.elmo_bilm.warmup_text is not None:
            settings["warmup_text_sha256"] = file_sha256(self.elmo_bilm.warmup_text)
        return settings

    def batch_to_embeddings(self, batch: List[List[str]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Activations ``(batch, num_layers, timesteps, dim)`` and mask ``(batch, timesteps)`` (long)."""
        check_batches([batch])
        if not batch:
            raise TokensError("an empty batch: give at least one sentence")
        char_ids = self.elmo_bilm.batch_to_ids(batch).to(self.device)
        with torch.inference_mode(), self._exclusive():
            layers, mask = self.elmo_bilm.embed_layers(char_ids)
        return layers, mask.long()

    def embed_sentence(self, sentence: List[str], window: int = 0,
                       window_overlap: Optional[int] = None) -> np.ndarray:
        """One tokenized sentence -> ``(num_layers, len(sentence), dim)`` float32 array."""
        return self.embed_batch([sentence], window, window_overlap)[0]

    def embed_batch(self, batch: List[List[str]], window: int = 0,
                    window_overlap: Optional[int] = None) -> List[np.ndarray]:
        """Each sentence -> ``(num_layers, len(sentence), dim)``; empty ones give ``(3, 0, dim)``.

        A batch of only empty sentences is not run (the carried state stays as it was).
        """
        return self.embed_batches([batch], window, window_overlap)[0]

    def embed_batches(self, batches: Sequence[List[List[str]]], window: int = 0,
                      window_overlap: Optional[int] = None,
                      batch_size: int = DEFAULT_BATCH_SIZE) -> List[List[np.ndarray]]:
        """:meth:`embed_batch` on each batch in turn, with the same vectors and final state,
        but faster: the batches' rows run as streams (see :meth:`ElmoBiLm.embed_batches`).

        ``window > 0``: sentences longer than ``window`` tokens are embedded in windows of
        ``window`` tokens overlapping by ``window_overlap`` (default ``window // 4``) and
        stitched back; a batch's sentences and windows run as consecutive batches of at most
        ``batch_size`` (or the batch's size, if larger), one at a time (see
        :mod:`torchelmo.windows`).
        Without sentences over ``window`` tokens, the vectors are those without windows.

        Raises :class:`TokensError` (a ``TypeError``) for a sentence given as one string, or a
        token that is not a str (a nested list); an empty batch gives an empty list.
        """
        windowing = Windowing.from_settings(window, window_overlap)
        check_batches(batches)
        with torch.inference_mode(), self._exclusive():
            layers = self.elmo_bilm.embed_batches(batches) if windowing is None else \
                windowing.embed_batches(batches, self.elmo_bilm.embed_batches, batch_size)
        return [[sentence.numpy() for sentence in batch] for batch in layers]

    def embed_sentences(self, sentences: Iterable[List[str]], batch_size: int = DEFAULT_BATCH_SIZE,
                        window: int = 0, window_overlap: Optional[int] = None) -> Iterator[np.ndarray]:
        """Embed an iterable of sentences lazily, ``batch_size`` at a time, in order.

        Vectors equal those of :meth:`embed_batch` on consecutive batches; ``STREAM_BATCHES``
        batches are embedded together. ``window``: as in :meth:`embed_batches`.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        for group in _batches(sentences, batch_size * STREAM_BATCHES):
            for batch in self.embed_batches(list(_batches(group, batch_size)), window, window_overlap, batch_size):
                yield from batch

    def embed_file(self, input_file: Union[PathLike, IO], output_file_path: PathLike,
                   output_format: str = "all", batch_size: int = DEFAULT_BATCH_SIZE,
                   forget_sentences: bool = False, use_sentence_keys: bool = False,
                   progress: bool = True, resume: bool = False, overwrite: bool = False,
                   input_policy: Optional[InputPolicy] = None, checkpoint_every: int = 20,
                   dtype: str = "float32", compression: str = "none", compression_level: Optional[int] = None,
                   pool: str = "none", tokenize: bool = False, window: int = 0,
                   window_overlap: Optional[int] = None, language: str = "en") -> None:
        """Embed a file of whitespace-tokenized sentences (one per line) into HDF5.

        The output has one float32 dataset per sentence, keyed by its 0-based line index
        (or by the sentence itself with ``use_sentence_keys``): ``(3, tokens, dim)`` for
        ``"all"``, ``(tokens, dim)`` for ``"top"`` and ``"average"``; plus
        ``sentence_to_index``, a JSON string mapping each sentence to its key (unless
        ``forget_sentences`` or ``use_sentence_keys``). Blank lines are rejected, as in
        AllenNLP, unless ``input_policy`` says otherwise. The file appears only when complete;
        an existing file is replaced only with ``overwrite=True``. An interrupted run keeps its
        finished work (every ``checkpoint_every`` batches) and raises
        :class:`~torchelmo.errors.Interrupted`; finish it with ``resume=True``. The same job
        runs ``torchelmo embed`` (:func:`torchelmo.embed_job.embed_file`).

        Compact outputs: ``dtype="float16"`` halves the values; ``compression`` ``"gzip"``
        (``compression_level`` 0-9, default 4) or ``"lzf"`` compresses each dataset (plain h5py
        reads both); ``pool="mean"`` writes each sentence's mean over tokens, ``(3, dim)`` for
        ``"all"``, ``(dim,)`` otherwise (zeros for an empty sentence).

        ``tokenize=True``: each line is raw text, tokenized by :mod:`torchelmo.tokenizer` (spaCy's
        rules for ``language``, a spaCy code: ``"en"`` by default); ``sentence_to_index`` still maps the (stripped) lines, and each dataset
        gets the attributes ``tokens`` and ``token_offsets`` (``(tokens, 2)``: start and end of
        each token in that line).

        Long documents: ``window=N`` embeds sentences over ``N`` tokens in overlapping windows
        of ``N`` tokens (``window_overlap``, default ``N // 4``) stitched back to full length
        (see :mod:`torchelmo.windows`); the default ``input_policy`` then has no sentence-length
        limit. Under ``torchrun`` each process embeds its share (pass each its own GPU,
        :func:`torchelmo.distributed.process_cuda_device`) and rank 0 writes the file; skipped
        lines are logged. Bad settings raise :class:`~torchelmo.errors.ConfigurationError`.
        """
        settings = EmbedSettings(output_format=output_format, batch_size=batch_size,
                                 forget_sentences=forget_sentences, use_sentence_keys=use_sentence_keys,
                                 checkpoint_every=checkpoint_every, dtype=dtype, compression=compression,
                                 compression_level=compression_level, pool=pool, window=window,
                                 window_overlap=window_overlap)
        embed_file(self, input_file, output_file_path, settings, input_policy, tokenize=tokenize, resume=resume,
                   overwrite=overwrite, progress=progress, language=language)
