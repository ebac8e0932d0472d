"""The training loop: streamed batches -> biLM loss -> clipped Adagrad step, with logs,
checkpoints, exports, exact resumption and ``torchrun`` data parallelism.

An output directory holds one run::

    train_config.json   settings, architecture and data of the run (rewritten at each start)
    vocab.txt           the vocabulary (given or built from the training data)
    checkpoint.pt       the latest checkpoint (every ``checkpoint_every`` steps and at the end)
    options.json, weights.hdf5, softmax.hdf5   the latest export (refreshed with each checkpoint)
    train.log           the log; metrics.jsonl: one JSON line per log interval
    heldout.json        held-out perplexities at the end (with held-out data)

Only rank 0 writes files. Every rank reads its own share of the data (see
:mod:`torchelmo.training.corpus`).
"""
import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from ..cache import file_sha256
from ..errors import ConfigurationError, ElmoError, OutputError, OutputExistsError
from ..files import PathLike, atomic_file, check_not_input, no_follow, output_errors, write_json, write_lines
from ..options import ElmoOptions
from .checkpoint import CHECKPOINT_FILE, load_checkpoint, restore_rng_state, rng_state, save_checkpoint
from .config import TrainingConfig, settings_from_options, small_options
from .corpus import Batch, BatchStream, DataPosition, iter_sentences, resolve_files
from ..devices import bf16_problem
from ..distributed import DistributedContext
from .evaluate import Perplexity, evaluate_perplexity
from .export import OPTIONS_FILE, SOFTMAX_FILE, VOCAB_FILE, WEIGHTS_FILE, export_model
from .model import BidirectionalLM
from .vocab import Vocabulary, build_vocabulary, count_tokens

logger = logging.getLogger(__name__)
TRAIN_CONFIG_FILE, LOG_FILE, HELDOUT_FILE = "train_config.json", "train.log", "heldout.json"
METRICS_LOG_FILE = "metrics.jsonl"  # one JSON line per logged step (a task run's METRICS_FILE is one JSON object)
RUN_FILES = (CHECKPOINT_FILE, TRAIN_CONFIG_FILE, METRICS_LOG_FILE, HELDOUT_FILE, LOG_FILE, OPTIONS_FILE, WEIGHTS_FILE,
             VOCAB_FILE, SOFTMAX_FILE)  # what a run writes into its folder


@dataclass
class TrainingResult:
    """What a call to :func:`train` did."""

    step: int                      # optimizer steps done in total
    completed: bool                # reached max_steps (False: stopped by a signal)
    loss: float                    # mean training loss of the last log interval
    files: Dict[str, str] = field(default_factory=dict)  # exported files by name
    heldout: Optional[Perplexity] = None


def resolve_settings(output_dir: PathLike, options: Optional[ElmoOptions] = None,
                     overrides: Optional[Dict[str, Any]] = None,
                     resume: bool = False) -> Tuple[ElmoOptions, TrainingConfig]:
    """The architecture and settings of a run.

    New run: defaults, then training keys of ``options`` (bilm-tf's names), then ``overrides``;
    ``options`` defaults to :func:`small_options`. Resumed run: the saved ones, with
    ``overrides`` limited to the settings that may change.
    """
    overrides = overrides or {}
    if not resume:
        options = options or small_options()
        return options, TrainingConfig().updated(**settings_from_options(options)).updated(**overrides)
    path = os.path.join(os.fspath(output_dir), TRAIN_CONFIG_FILE)
    saved = _read_saved_run(path, output_dir)
    try:
        saved_options = ElmoOptions.from_dict(saved["options"])
        saved_config = TrainingConfig().updated(**saved["training"])
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from None
    if options is not None:
        given, kept = options.to_dict(), saved_options.to_dict()
        if (given["char_cnn"], given["lstm"]) != (kept["char_cnn"], kept["lstm"]):
            raise ConfigurationError(f"--options describe another architecture than the run in "
                                     f"{os.fspath(output_dir)} was started with")
    config = saved_config.updated(**overrides)
    config.check_resumable_as(saved_config)
    return saved_options, config


def _read_saved_run(path: str, output_dir: PathLike) -> Dict[str, Any]:
    """``train_config.json`` parsed, with its ``options`` and ``training`` objects; one-line
    errors naming the file when it is missing, not JSON, or lacks them."""
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: not found; is {os.fspath(output_dir)} the output directory of a run?")
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"{path}: not valid JSON ({error}); the run's settings cannot be "
                                 f"restored") from None
    for key in ("options", "training"):
        if not isinstance(saved, dict) or not isinstance(saved.get(key), dict):
            raise ConfigurationError(f"{path}: '{key}' is missing or not an object; the run's settings "
                                     f"cannot be restored")
    return saved


class _StopRequest:
    """SIGINT/SIGTERM ask the loop to stop after the current step; a second SIGINT interrupts.

    Only for single-process runs in the main thread (ranks could stop at different steps).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._previous: Dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        logger.warning("Stop requested: finishing this step, then saving a checkpoint (Ctrl-C again to abort)")

    def __enter__(self) -> "_StopRequest":
        if self.enabled:
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _make_optimizer(model: torch.nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(model.parameters(), lr=config.learning_rate,
                                   initial_accumulator_value=config.initial_accumulator)
    return torch.optim.Adam(model.parameters(), lr=config.learning_rate)


def _describe(options: ElmoOptions, model: BidirectionalLM, vocab: Vocabulary) -> str:
    cnn, lstm = options.char_cnn, options.lstm
    bilm_params = sum(p.numel() for p in model.bilm.parameters())
    softmax_params = sum(p.numel() for p in model.softmax.parameters())
    return (f"char CNN {cnn.filters} (embedding {cnn.embedding_dim}, {cnn.n_highway} highway), "
            f"{lstm.n_layers} x LSTM {lstm.dim} -> {lstm.projection_dim}; biLM {bilm_params / 1e6:.2f}M "
            f"parameters, softmax {softmax_params / 1e6:.2f}M ({len(vocab)} words)")


def use_bf16(requested: bool, device: torch.device) -> bool:
    """Whether to train under bfloat16 autocast: when ``requested`` and on a GPU that has native
    bfloat16 products; on an older GPU a warning says that training runs in float32."""
    if not requested or device.type != "cuda":
        return False
    problem = bf16_problem(device)
    if problem is not None:
        logger.warning("%s; training in float32 (--no-bf16 says so and silences this)", problem)
    return problem is None


class Trainer:
    """One rank's side of a run; build with :func:`train`."""

    def __init__(self, ctx: DistributedContext, train_files: List[str], output_dir: str, options: ElmoOptions,
                 config: TrainingConfig, vocab: Vocabulary, heldout_files: Sequence[str], progress: bool) -> None:
        self.ctx, self.train_files, self.output_dir = ctx, train_files, output_dir
        self.options, self.config, self.vocab = options, config, vocab
        self.heldout_files, self.progress = list(heldout_files), progress
        torch.manual_seed(config.seed)  # identical initial weights on every rank
        self.model = BidirectionalLM(options, len(vocab), config.dropout, config.n_negative_samples).to(ctx.device)
        self.network: torch.nn.Module = self.model
        if ctx.world_size > 1:
            self.network = DistributedDataParallel(
                self.model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None,
                broadcast_buffers=False)
        self.optimizer = _make_optimizer(self.model, config)
        torch.manual_seed(config.seed * 65536 + ctx.rank + 1)  # dropout and sampling differ per rank
        self.step, self.tokens_seen, self.elapsed = 0, 0, 0.0
        self.position = DataPosition()
        self.train_sha256 = [file_sha256(path) for path in train_files]  # what resume compares, not names
        self.saved_step = -1
        self.use_bf16 = use_bf16(config.bf16, ctx.device)

    def _path(self, name: str) -> str:
        return os.path.join(self.output_dir, name)

    def _info(self, message: str, *args: Any) -> None:
        if self.ctx.is_main:
            logger.info(message, *args)

    # ----------------------------------------------------------------- checkpoints
    def restore(self) -> None:
        """Continue from ``checkpoint.pt``: weights, optimizer, step, data position, RNG."""
        path = self._path(CHECKPOINT_FILE)
        state = load_checkpoint(path)
        if state["world_size"] != self.ctx.world_size:
            raise ConfigurationError(f"the run in {self.output_dir} was saved by {state['world_size']} process(es); "
                                     f"resume it with the same number (got {self.ctx.world_size})")
        self.config.check_resumable_as(TrainingConfig().updated(**state["config"]))
        self._check_same_corpus(state)
        if state["vocab"] != self.vocab.words:
            raise ConfigurationError(f"{self._path(VOCAB_FILE)} differs from the vocabulary the run was started with")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.step, self.tokens_seen, self.elapsed = state["step"], state["tokens_seen"], state["elapsed"]
            mine = state["ranks"][self.ctx.rank]
            self.position = DataPosition(**mine["position"])
            restore_rng_state(mine["rng"], self.ctx.device)
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as error:
            reason = " ".join(str(error).split())[:300]
            raise ConfigurationError(f"{path}: the checkpoint does not fit this run ({type(error).__name__}: "
                                     f"{reason})") from None
        self.saved_step = self.step
        if self.ctx.is_main:
            self._truncate_metrics()
        self._info("Resumed from step %d (%s tokens seen)", self.step, f"{self.tokens_seen:,}")

    def _check_same_corpus(self, state: Dict[str, Any]) -> None:
        """The training files must hold what they held when the run was started: the same
        contents in the same order (by SHA-256; a checkpoint of an older version: the same names)."""
        saved = state.get("train_sha256")
        if saved is None and state["train_files"] == self.train_files:
            return
        if saved == self.train_sha256:
            return
        if saved is not None and len(saved) == len(self.train_sha256):
            changed = next(path for path, old, new in zip(self.train_files, saved, self.train_sha256) if old != new)
            reason = f"{changed} holds other text than when the run was started"
        else:
            reason = (f"{len(self.train_files)} file(s) given, the run was started with {len(state['train_files'])} "
                      f"from {state['train_files'][0]}")
        raise ConfigurationError(f"--train-data gives another corpus than the run in {self.output_dir} was started "
                                 f"with ({reason}); an exact continuation needs the same files")

    def _truncate_metrics(self) -> None:
        """Drop metric lines logged after the checkpoint (their steps will be redone)."""
        path = self._path(METRICS_LOG_FILE)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                kept = [line for line in f if line.strip() and json.loads(line)["step"] <= self.step]
            with atomic_file(path) as f:
                f.writelines(kept)

    def save(self) -> None:
        """Checkpoint and export (all ranks take part; rank 0 writes)."""
        states = self.ctx.gather({"position": self.position.to_dict(), "rng": rng_state(self.ctx.device)})
        if self.ctx.is_main:
            save_checkpoint({"step": self.step, "tokens_seen": self.tokens_seen, "elapsed": self.elapsed,
                             "world_size": self.ctx.world_size, "model": self.model.state_dict(),
                             "optimizer": self.optimizer.state_dict(), "config": self.config.to_dict(),
                             "options": self.options.to_dict(), "vocab": self.vocab.words,
                             "train_files": self.train_files, "train_sha256": self.train_sha256,
                             "ranks": states},
                            self._path(CHECKPOINT_FILE))
            export_model(self.model, self.vocab, self.config, self.output_dir)
            logger.info("Step %d: checkpoint and export written to %s", self.step, self.output_dir)
        self.saved_step = self.step

    # ----------------------------------------------------------------- training
    def train_step(self, batch: Batch) -> torch.Tensor:
        """One optimizer step on ``batch``; returns the (detached) loss."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate_at(self.step)
        char_ids = batch.char_ids.to(self.ctx.device, non_blocking=True).long()
        targets = batch.targets.to(self.ctx.device, non_blocking=True)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.use_bf16 else contextlib.nullcontext()
        with autocast:
            loss = self.network(char_ids, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
        self.optimizer.step()
        return loss.detach()

    def _log(self, losses: torch.Tensor, steps: int, tokens: int, seconds: float, bar: tqdm) -> float:
        """Average the interval over ranks, log it; returns the mean loss."""
        counts = torch.tensor(float(tokens), dtype=torch.float64, device=losses.device)
        loss_sum, token_sum = self.ctx.sum(torch.stack([losses.double(), counts])).tolist()  # on the device: NCCL
        loss = loss_sum / (steps * self.ctx.world_size)
        tokens_all = int(token_sum)
        self.tokens_seen += tokens_all
        if not math.isfinite(loss):
            raise ElmoError(f"the training loss became {loss} by step {self.step}: training diverged; start again "
                            f"with a lower learning rate or gradient clip (the last checkpoint is step "
                            f"{max(self.saved_step, 0)})")
        speed = tokens_all / max(seconds, 1e-9)
        lr = self.config.learning_rate_at(self.step - 1)
        perplexity = math.exp(min(loss, 700.0))
        if self.ctx.is_main:
            bar.set_postfix(loss=f"{loss:.3f}", ppl=f"{perplexity:.1f}", tok_s=f"{speed:,.0f}", refresh=False)
            logger.info("step %d/%d  loss %.4f  ppl %.2f  lr %.4g  %s tokens/s  %s tokens", self.step,
                        self.config.max_steps, loss, perplexity, lr, f"{speed:,.0f}", f"{self.tokens_seen:,}")
            path = self._path(METRICS_LOG_FILE)
            with output_errors(path), open(path, "a", encoding="utf-8", opener=no_follow) as f:
                f.write(json.dumps({"step": self.step, "loss": loss, "perplexity": perplexity, "lr": lr,
                                    "tokens_per_second": speed, "tokens": self.tokens_seen,
                                    "elapsed_seconds": round(self.elapsed, 3)}) + "\n")
        return loss

    def _batches(self) -> Iterator[Batch]:
        config = self.config
        return iter(BatchStream(self.train_files, self.vocab, config.batch_size, rank=self.ctx.rank,
                                world_size=self.ctx.world_size, seed=config.seed, max_length=config.max_length,
                                pool_batches=config.pool_batches, position=self.position))

    def run(self) -> TrainingResult:
        config, loss = self.config, math.nan
        batches = self._batches()
        self.model.train()
        bar = tqdm(total=config.max_steps, initial=self.step, desc="training", unit="step", dynamic_ncols=True,
                   disable=None if self.progress and self.ctx.is_main else True)
        with bar, _StopRequest(self.ctx.world_size == 1) as stop:
            window_losses, window_steps, window_tokens = torch.zeros((), device=self.ctx.device), 0, 0
            window_start = time.perf_counter()
            while self.step < config.max_steps and not stop.requested:
                batch = next(batches)
                window_losses += self.train_step(batch)
                self.position = batch.position
                self.step += 1
                window_steps += 1
                window_tokens += batch.num_tokens
                bar.update()
                if self.step % config.log_every == 0 or self.step == config.max_steps:
                    now = time.perf_counter()
                    self.elapsed += now - window_start
                    loss = self._log(window_losses, window_steps, window_tokens, now - window_start, bar)
                    window_losses.zero_()
                    window_steps = window_tokens = 0
                    window_start = time.perf_counter()
                if self.step % config.checkpoint_every == 0 or self.step == config.max_steps:
                    saving_start = time.perf_counter()
                    self.save()
                    window_start += time.perf_counter() - saving_start  # not training time
        completed = self.step >= config.max_steps
        if not completed and self.saved_step != self.step:
            self.save()
        result = TrainingResult(step=self.step, completed=completed, loss=loss)
        if self.ctx.is_main:
            result.files = {name: self._path(name) for name in (OPTIONS_FILE, WEIGHTS_FILE, VOCAB_FILE, SOFTMAX_FILE)}
            if completed and self.heldout_files:
                result.heldout = self.evaluate_heldout()
        self.ctx.barrier()
        return result

    def evaluate_heldout(self) -> Perplexity:
        logger.info("Evaluating on %d held-out file(s)", len(self.heldout_files))
        perplexity = evaluate_perplexity(self.model, self.vocab, self.heldout_files, self.config.batch_size,
                                         self.ctx.device, progress=self.progress)
        write_json(self._path(HELDOUT_FILE), {"step": self.step, **perplexity.to_dict()}, sort_keys=True)
        logger.info("Held-out perplexity at step %d: forward %.2f, backward %.2f, average %.2f (%s predictions "
                    "per direction)", self.step, perplexity.forward, perplexity.backward, perplexity.average,
                    f"{perplexity.predictions:,}")
        return perplexity


def _prepare_vocabulary(ctx: DistributedContext, train_files: List[str], output_dir: str, config: TrainingConfig,
                        vocab_file: Optional[PathLike], resume: bool, progress: bool) -> Vocabulary:
    """The run's vocabulary, saved as ``output_dir/vocab.txt`` by rank 0 and read by the others."""
    target = os.path.join(output_dir, VOCAB_FILE)
    if resume:
        return Vocabulary.from_file(target)
    if ctx.is_main:
        if vocab_file is not None:
            vocab = Vocabulary.from_file(vocab_file)
            logger.info("Vocabulary: %d words from %s", len(vocab), os.fspath(vocab_file))
        else:
            sentences = tqdm(iter_sentences(train_files), desc="counting words", unit=" sentences",
                             disable=None if progress else True)
            counts = count_tokens(sentences)
            vocab = build_vocabulary(counts, config.min_count, config.max_vocab_size)
            covered = sum(counts[w] for w in vocab.words)
            logger.info("Vocabulary: %d words built from %s tokens (%d distinct); covers %.2f%% of tokens",
                        len(vocab), f"{sum(counts.values()):,}", len(counts),
                        100.0 * covered / max(1, sum(counts.values())))
        vocab.save(target)
    ctx.barrier()
    return vocab if ctx.is_main else Vocabulary.from_file(target)


def _check_output_dir(output_dir: str, resume: bool, overwrite: bool,
                      inputs: Sequence[Tuple[str, Optional[PathLike]]]) -> None:
    """A new run needs a folder without a run's files (or ``overwrite``); no run writes onto its inputs."""
    for name in RUN_FILES:
        check_not_input(os.path.join(output_dir, name), [(what, path and os.fspath(path)) for what, path in inputs])
    if resume or overwrite:
        return
    if os.path.exists(os.path.join(output_dir, CHECKPOINT_FILE)):
        raise ConfigurationError(f"{output_dir} already holds a run ({CHECKPOINT_FILE})",
                                 hint="train_resume_or_elsewhere")
    found = [name for name in RUN_FILES if os.path.lexists(os.path.join(output_dir, name))]
    if found:
        raise OutputExistsError(f"{output_dir}: holds {', '.join(found)}, which training would replace",
                                hint="overwrite")


def train(train_data: Union[str, Sequence[str]], output_dir: PathLike, options: Optional[ElmoOptions] = None,
          config: Optional[TrainingConfig] = None, vocab_file: Optional[PathLike] = None,
          heldout_data: Union[str, Sequence[str], None] = None, resume: bool = False,
          device: Optional[str] = None, progress: bool = True, overwrite: bool = False) -> TrainingResult:
    """Train ELMo's biLM on ``train_data`` (glob(s) of files with one tokenized sentence per line).

    ``options`` is the architecture (default :func:`small_options`); ``config`` the settings (see
    :func:`resolve_settings` to combine defaults, options keys and overrides). ``resume``
    continues the run in ``output_dir``; a new run refuses a folder holding a run's files
    unless ``overwrite`` (then it starts over, replacing them), and never writes onto its inputs
    (the data, the vocabulary). Under ``torchrun`` every process calls this.
    """
    output_dir = os.fspath(output_dir)
    if options is None or config is None:
        resolved_options, resolved_config = resolve_settings(output_dir, options, resume=resume)
        options, config = options or resolved_options, config or resolved_config
    options.check_fits_in_memory()  # before the output directory is touched
    train_files = resolve_files(train_data, "--train-data")
    heldout_files = resolve_files(heldout_data, "--heldout-data") if heldout_data else []
    _check_output_dir(output_dir, resume, overwrite, [("the --vocab file", vocab_file)] + [
        ("a training file", path) for path in train_files] + [("a held-out file", path) for path in heldout_files])
    ctx = DistributedContext.from_environment(device)
    package_logger = logging.getLogger("torchelmo")
    handler: Optional[logging.Handler] = None
    level = package_logger.level
    result: Optional[TrainingResult] = None
    try:
        if ctx.is_main:
            os.makedirs(output_dir, exist_ok=True)
            log_file = os.path.join(output_dir, LOG_FILE)
            if os.path.islink(log_file):
                raise OutputError(f"{log_file}: is a symbolic link, which torchelmo did not make; remove it", log_file)
            if not resume:  # a new run's metrics start empty (a regular file made here, appended to)
                write_lines(os.path.join(output_dir, METRICS_LOG_FILE), [])
            handler = logging.FileHandler(log_file, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            package_logger.addHandler(handler)
            if package_logger.getEffectiveLevel() > logging.INFO:
                package_logger.setLevel(logging.INFO)  # the log file gets the progress lines
        with logging_redirect_tqdm():
            vocab = _prepare_vocabulary(ctx, train_files, output_dir, config, vocab_file, resume, progress)
            trainer = Trainer(ctx, train_files, output_dir, options, config, vocab, heldout_files, progress)
            if ctx.is_main:
                size = sum(os.path.getsize(f) for f in train_files)
                logger.info("Training on %d process(es), device %s%s", ctx.world_size, ctx.device,
                            ", bf16 autocast" if trainer.use_bf16 else
                            f", {torch.get_num_threads()} thread(s)" if ctx.device.type == "cpu" else "")
                logger.info("Model: %s", _describe(options, trainer.model, vocab))
                logger.info("Data: %d file(s), %.1f MB; held-out: %d file(s)", len(train_files), size / 1e6,
                            len(heldout_files))
                logger.info("Settings: %s", ", ".join(f"{k}={v}" for k, v in config.to_dict().items()))
                if 0 < config.n_negative_samples < len(vocab):
                    logger.info("The training loss and perplexity are the sampled softmax's (%d negatives), not "
                                "comparable with held-out (full softmax) perplexity", config.n_negative_samples)
            if resume:
                trainer.restore()
            if ctx.is_main:  # after a resume is known to work: with the changed settings
                write_json(os.path.join(output_dir, TRAIN_CONFIG_FILE),
                           {"training": config.to_dict(), "options": options.to_dict(),
                            "train_data": train_files, "heldout_data": heldout_files}, sort_keys=True)
            result = trainer.run()
            del trainer  # its DistributedDataParallel holds the process group that close() ends
        if not result.completed:
            logger.warning("Stopped at step %d; continue with --resume", result.step)
        return result
    finally:
        if handler is not None:
            package_logger.removeHandler(handler)
            package_logger.setLevel(level)
            handler.close()
        ctx.close(completed=result is not None)
