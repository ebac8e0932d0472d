"""The task configuration's shared schema: data sources, trainer and the whole config.

Each family's own blocks sit beside their code: a model's config beside the model
(``models/tagger.py``, ``coreference/model.py``, ...), a reader's beside the reader, the
embedders' in ``embedders/config.py`` and the encoder's in ``encoder.py``; ``model.type`` and
``reader.type`` choose among the registered ones (:mod:`.registry`). Loading and validation:
:mod:`.loading`. See ``docs/tasks.md`` for every key.
"""
from dataclasses import dataclass, field
from typing import Any, List, Literal, Optional

from .registry import model_configs, reader_configs
from .schema import NON_NEGATIVE, POSITIVE, check, one_of


@dataclass
class SourceConfig:
    """Where one split's instances come from.

    ``path``: a file or a glob. ``split_file`` + ``split``: keep only files whose stem is
    listed under ``split`` in that JSON file (``{"dev": [...], "test": [...]}``); a split
    name the file does not list means "every file listed under no split" (e.g. GUM's train).
    ``split`` alone: keep the instances that the file itself assigns to ``split`` (SICK's
    ``SemEval_set`` column). ``num_folds`` + ``folds``: keep instance ``i`` when
    ``i % num_folds`` is in ``folds`` (a fixed split of a file that has none). ``limit``:
    the first ``limit`` instances.
    ``reader``: this split's reader where it differs from ``data.reader`` (e.g. training
    on every phrase of a treebank, scoring whole sentences).
    """

    path: str
    split_file: Optional[str] = None
    split: Optional[str] = None
    num_folds: Optional[int] = check(POSITIVE, default=None)
    folds: Optional[List[int]] = check(NON_NEGATIVE, default=None)
    limit: Optional[int] = check(POSITIVE, default=None)
    reader: Optional[Any] = one_of(reader_configs, default=None)

    def __post_init__(self) -> None:
        if self.split_file is not None and self.split is None:
            raise ValueError("split: a split_file needs the split to keep")
        if (self.num_folds is None) != (self.folds is None):
            raise ValueError("folds: give both num_folds and folds, or neither")
        if self.folds is not None and any(f >= self.num_folds for f in self.folds):
            raise ValueError(f"folds: expected values below num_folds={self.num_folds}, got {self.folds}")


@dataclass
class DataConfig:
    reader: Any = one_of(reader_configs)
    train: SourceConfig
    validation: SourceConfig
    test: Optional[SourceConfig] = None


@dataclass
class OptimizerConfig:
    type: Literal["adam", "adamw", "sgd", "adagrad"] = "adam"
    lr: float = check(POSITIVE, default=1e-3)
    weight_decay: float = check(NON_NEGATIVE, default=0.0)


@dataclass
class TaskTrainerConfig:
    """``validation_metric``: the key to maximise (default: the model's main metric).
    ``max_batches_per_epoch``: cut epochs short (smoke tests, quick runs)."""

    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    epochs: int = check(POSITIVE, default=20)
    patience: int = check(POSITIVE, default=3)
    batch_size: int = check(POSITIVE, default=32)
    grad_clip: Optional[float] = check(POSITIVE, default=5.0)
    validation_metric: Optional[str] = None
    max_batches_per_epoch: Optional[int] = check(POSITIVE, default=None)
    seed: int = 13
    device: str = "cpu"


@dataclass
class TaskConfig:
    data: DataConfig
    model: Any = one_of(model_configs)
    trainer: TaskTrainerConfig = field(default_factory=TaskTrainerConfig)
