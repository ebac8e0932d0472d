"""The inner loop of training and prediction: devices, seeding, one training epoch, running a
model over instances, writing its predictions. Used by the trainer and the archive commands."""
import logging
import random
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from ..errors import ConfigurationError
from ..files import atomic_file, write_jsonl
from .batching import TaskBatch, bucketed_batches
from .config import TaskTrainerConfig
from .instance import Instance
from .models.base import Prediction, TaskModel

logger = logging.getLogger(__name__)


def resolve_device(name: str, where: str = "device") -> str:
    """``name`` checked: ``cpu``, or ``cuda``/``cuda:N`` when CUDA is available."""
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError(f"{where}: {name!r} requested but CUDA is not available")
    try:
        return str(torch.device(name))
    except RuntimeError:
        raise ConfigurationError(f"{where}: expected 'cpu', 'cuda' or 'cuda:N', got {name!r}") from None


def to_device(batch: TaskBatch, device: str) -> TaskBatch:
    return {k: v.to(device) for k, v in batch.items()}


def run_model(model: TaskModel, instances: Sequence[Instance], batch_size: int, device: str,
              description: str = "predicting") -> Tuple[List[Prediction], Optional[float]]:
    """Predictions for ``instances`` (in their order) and the mean loss per instance
    (``None`` when they have no gold labels). Batches are grouped by length."""
    model.eval()
    predictions: List[Optional[Prediction]] = [None] * len(instances)
    total_loss, has_loss = 0.0, False
    with torch.no_grad():
        for indexes in tqdm(bucketed_batches([len(x.tokens) for x in instances], batch_size),
                            desc=description, unit="batch", leave=False):
            chunk = [instances[i] for i in indexes]
            batch = to_device(model.tensorize(chunk), device)
            output = model(batch)
            if "loss" in output:
                total_loss += float(output["loss"]) * len(chunk)
                has_loss = True
            for i, prediction in zip(indexes, model.decode(batch, output)):
                predictions[i] = prediction
    return predictions, total_loss / len(instances) if has_loss else None


def prediction_records(model: TaskModel, instances: Sequence[Instance],
                       predictions: Sequence[Prediction]) -> List[Dict[str, Any]]:
    """JSON-lines records, one per instance (see :meth:`TaskModel.prediction_record`)."""
    return [model.prediction_record(x, p) for x, p in zip(instances, predictions)]


def write_predictions(path: str, model: TaskModel, instances: Sequence[Instance],
                      predictions: Sequence[Prediction]) -> None:
    """``predictions`` to ``path``: in the model's own format when ``path`` ends in its
    ``prediction_suffix`` (``.conll`` for coreference, ``.json`` for span QA), else JSON lines."""
    if model.prediction_suffix is not None and path.endswith(model.prediction_suffix):
        with atomic_file(path) as f:
            f.write(model.format_predictions(instances, predictions))
    else:
        write_jsonl(path, prediction_records(model, instances, predictions))
    logger.info("Wrote %d predictions to %s", len(predictions), path)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_epoch(model: TaskModel, instances, trainer: TaskTrainerConfig, optimizer: torch.optim.Optimizer,
                rng: random.Random, device: str, epoch: int) -> float:
    """One pass over shuffled length buckets; returns the mean training loss per batch."""
    model.train()
    batches = bucketed_batches([len(x.tokens) for x in instances], trainer.batch_size, rng)
    if trainer.max_batches_per_epoch is not None:
        batches = batches[: trainer.max_batches_per_epoch]
    parameters = [p for p in model.parameters() if p.requires_grad]
    total = 0.0
    progress = tqdm(batches, desc=f"epoch {epoch}", unit="batch", leave=False)
    for step, indexes in enumerate(progress, 1):
        batch = to_device(model.tensorize([instances[i] for i in indexes]), device)
        loss = model(batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        if trainer.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(parameters, trainer.grad_clip)
        optimizer.step()
        total += loss.item()
        progress.set_postfix(loss=f"{total / step:.4f}")
    return total / len(batches)
