"""Training settings: one validated dataclass, filled from defaults, then the training keys of
an ``options.json`` (bilm-tf's names), then command-line flags.

bilm-tf's options keys map as ``batch_size`` -> ``batch_size``, ``dropout`` -> ``dropout``,
``all_clip_norm_val`` -> ``clip_norm``, ``n_negative_samples_batch`` -> ``n_negative_samples``;
any :class:`TrainingConfig` field name is accepted too. Exports write the bilm-tf names back.
"""
import logging
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict

from ..errors import ConfigurationError
from ..options import ElmoOptions

logger = logging.getLogger(__name__)

OPTIMIZERS = ("adagrad", "adam")
LR_SCHEDULES = ("constant", "linear", "inverse_sqrt")
BILM_TF_KEYS = {"batch_size": "batch_size", "dropout": "dropout", "all_clip_norm_val": "clip_norm",
                "n_negative_samples_batch": "n_negative_samples"}
# bilm-tf keys with no meaning here: steps are counted directly, sentences are not windowed,
# the vocabulary size comes from the vocabulary.
IGNORED_KEYS = ("n_epochs", "n_train_tokens", "n_tokens_vocab", "unroll_steps")
# Settings a resumed run may change; all others must match the checkpoint.
RESUMABLE_CHANGES = ("max_steps", "checkpoint_every", "log_every")

# A small architecture for CPUs: 2 x 512-cell LSTMs with 128-dim projections (256-dim ELMo
# layers), 3.0M parameters without the softmax.
SMALL_ARCHITECTURE: Dict[str, Any] = {
    "char_cnn": {"activation": "relu", "embedding": {"dim": 16},
                 "filters": [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256]],
                 "max_characters_per_token": 50, "n_characters": 262, "n_highway": 1},
    "lstm": {"cell_clip": 3, "dim": 512, "n_layers": 2, "proj_clip": 3, "projection_dim": 128,
             "use_skip_connections": True},
}


def small_options() -> ElmoOptions:
    """The default architecture when no ``--options`` is given."""
    return ElmoOptions.from_dict(SMALL_ARCHITECTURE)


def _check(condition: bool, name: str, expected: str, value: Any) -> None:
    if not condition:
        raise ConfigurationError(f"training setting {name}: expected {expected}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class TrainingConfig:
    """How to train (the architecture lives in :class:`~torchelmo.options.ElmoOptions`).

    Sizes are per process: a run on N processes uses N x ``batch_size`` sentences per step.
    """

    batch_size: int = 64                  # sentences per batch and process
    max_steps: int = 10000                # optimizer steps in total
    optimizer: str = "adagrad"            # "adagrad" (bilm-tf) or "adam"
    learning_rate: float = 0.2            # bilm-tf: Adagrad 0.2
    initial_accumulator: float = 1.0      # Adagrad's initial accumulator (bilm-tf: 1.0)
    lr_schedule: str = "constant"         # "constant", "linear" (to 0 at max_steps), "inverse_sqrt"
    warmup_steps: int = 0                 # linear warm-up from 0 over this many steps
    clip_norm: float = 10.0               # global gradient-norm clip; 0 disables
    dropout: float = 0.1                  # LSTM inputs and top layer
    n_negative_samples: int = 8192        # sampled softmax negatives; 0 = full softmax
    max_length: int = 100                 # longer sentences are cut into pieces
    pool_batches: int = 50                # batches per length-sorted pool of sentences
    min_count: int = 1                    # vocabulary built from the data: minimum count
    max_vocab_size: int = 0               # ... and maximum size (0: no limit)
    checkpoint_every: int = 1000          # steps between checkpoints (and exports)
    log_every: int = 100                  # steps between log lines
    seed: int = 0
    bf16: bool = True                     # bfloat16 autocast on GPU (ignored on CPU)

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_steps", "max_length", "pool_batches", "min_count",
                     "checkpoint_every", "log_every"):
            value = getattr(self, name)
            _check(_is_int(value) and value > 0, name, "a positive integer", value)
        for name in ("warmup_steps", "n_negative_samples", "max_vocab_size", "seed"):
            value = getattr(self, name)
            _check(_is_int(value) and value >= 0, name, "a non-negative integer", value)
        for name in ("learning_rate", "initial_accumulator", "clip_norm"):
            value = getattr(self, name)
            _check(_is_number(value) and value >= 0, name, "a non-negative number", value)
        _check(self.learning_rate > 0, "learning_rate", "a positive number", self.learning_rate)
        _check(_is_number(self.dropout) and 0 <= self.dropout < 1, "dropout", "a number in [0, 1)", self.dropout)
        _check(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}", self.optimizer)
        _check(self.lr_schedule in LR_SCHEDULES, "lr_schedule", f"one of {LR_SCHEDULES}", self.lr_schedule)
        _check(isinstance(self.bf16, bool), "bf16", "true or false", self.bf16)

    def learning_rate_at(self, step: int) -> float:
        """The learning rate for optimizer step ``step`` (0-based)."""
        rate = self.learning_rate
        if self.warmup_steps and step < self.warmup_steps:
            return rate * (step + 1) / self.warmup_steps
        if self.lr_schedule == "linear":
            return rate * max(0.0, 1.0 - step / self.max_steps)
        if self.lr_schedule == "inverse_sqrt":
            return rate * (max(self.warmup_steps, 1) / (step + 1)) ** 0.5
        return rate

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    def updated(self, **changes: Any) -> "TrainingConfig":
        """A validated copy with ``changes`` (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigurationError(f"unknown training setting(s): {', '.join(unknown)}")
        return replace(self, **changes)

    def options_extra(self, vocab_size: int) -> Dict[str, Any]:
        """bilm-tf's training keys for an exported ``options.json``."""
        extra = {key: getattr(self, name) for key, name in BILM_TF_KEYS.items()}
        extra.update(bidirectional=True, n_tokens_vocab=vocab_size)
        return extra

    def check_resumable_as(self, saved: "TrainingConfig") -> None:
        """Raise if this config changes a setting a resumed run must keep."""
        for name, value in self.to_dict().items():
            if name not in RESUMABLE_CHANGES and getattr(saved, name) != value:
                raise ConfigurationError(
                    f"cannot resume with {name}={value!r}: the run was started with {getattr(saved, name)!r} "
                    f"(only {', '.join(RESUMABLE_CHANGES)} may change when resuming)")


def settings_from_options(options: ElmoOptions) -> Dict[str, Any]:
    """Training settings found among an ``options.json``'s extra keys (bilm-tf or field names)."""
    known = {f.name for f in fields(TrainingConfig)}
    settings: Dict[str, Any] = {}
    for key, value in options.extra.items():
        if key == "bidirectional":
            if value is not True:
                raise ConfigurationError("options.bidirectional: only bidirectional language models are "
                                         f"trained here, got {value!r}")
        elif key in BILM_TF_KEYS:
            settings[BILM_TF_KEYS[key]] = value
        elif key in known:
            settings[key] = value
        elif key in IGNORED_KEYS:
            logger.info("options.%s is not used by torchelmo train (ignored)", key)
        else:
            logger.warning("options.%s is not a known setting (ignored)", key)
    return settings
