"""Training a task model from a config: bucketed batches, early stopping, best checkpoint.

Writes into the output folder: ``config.json`` (absolute paths), ``vocabularies.json``,
``model.pt`` (best epoch by the validation metric), ``metrics.json`` (every epoch, the best
validation scores, test scores, time, machine), ``learning_curve.png`` and
``predictions.jsonl`` (test set if configured, else validation).
"""
import logging
import os
import platform
import random
import time
from typing import Any, Dict, List, Optional, Tuple

import torch

from ..errors import ConfigurationError
from ..files import atomic_directory, load_tensors, save_tensors, write_json
from .archive import CHECKPOINT_FILE, CONFIG_FILE, CURVE_FILE, METRICS_FILE, build_model, save_vocabularies
from .config import TaskConfig
from .loading import absolute_paths, config_dict
from .loop import resolve_device, run_model, seed_everything, train_epoch, write_predictions
from .models.base import TaskModel
from .plotting import plot_learning_curves
from .registry import model_class
from .sources import read_source, source_files

logger = logging.getLogger(__name__)

OPTIMIZER_CLASSES = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "adagrad": torch.optim.Adagrad}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


def machine_description(device: str = "cpu") -> Dict[str, Any]:
    """The machine a model was trained on; ``cuda_device`` names the GPU of ``device`` (None on the CPU)."""
    device = torch.device(device)
    return {"platform": platform.platform(), "processor": _cpu_model() or platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None}


def read_files(config: TaskConfig) -> List[Tuple[str, Optional[str]]]:
    """``(what, path)`` of every file training reads: the data, split files, ELMo and word vectors."""
    data, embedders = config.data, config.model.embedders
    found: List[Tuple[str, Optional[str]]] = []
    for source in (data.train, data.validation, data.test):
        if source is not None:
            found += [("the data", path) for path in source_files(source)] + [("a split file", source.split_file)]
    if embedders.elmo is not None:
        found += [("the ELMo options file", embedders.elmo.options_file),
                  ("the ELMo weight file", embedders.elmo.weight_file)]
    if embedders.pretrained is not None:
        found.append(("the word-vector file", embedders.pretrained.path))
    return found


def _parameter_counts(model: TaskModel) -> Dict[str, int]:
    return {"total": sum(p.numel() for p in model.parameters()),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}


def _log_elmo_cache(model: TaskModel) -> None:
    cache = model.embedder.elmo_cache
    if cache is not None:
        logger.info("ELMo cache: %d sentences, %.1f MB, %d hits / %d misses", len(cache), cache.nbytes / 2**20,
                    cache.hits, cache.misses)


def train_task(config: TaskConfig, output_dir: str, overwrite: bool = False) -> Dict[str, Any]:
    """Train the configured model, keep its best epoch in ``output_dir``; returns the metrics.

    The files are written into a temporary folder and moved into ``output_dir`` when training
    is complete, so an interrupted run leaves nothing that looks like a model. A folder holding
    files is refused unless ``overwrite``; then only the files training writes are replaced,
    never one it reads (see :func:`torchelmo.files.atomic_directory`)."""
    config = absolute_paths(config)
    resolve_device(config.trainer.device, "trainer.device")
    with atomic_directory(output_dir, overwrite, read_files(config)) as folder:
        metrics = _train(config, folder)
    logger.info("Wrote %s", output_dir)
    return metrics


def _train(config: TaskConfig, output_dir: str) -> Dict[str, Any]:
    started = time.time()
    trainer = config.trainer
    device = resolve_device(trainer.device, "trainer.device")
    seed_everything(trainer.seed)
    reader = config.data.reader
    train_set = read_source(config.data.train, reader)
    validation_set = read_source(config.data.validation, reader)
    test_set = read_source(config.data.test, reader) if config.data.test is not None else None
    vocabularies = model_class(config.model.type).build_vocabularies(
        config.model, train_set, validation_set + (test_set or []))
    model = build_model(config, vocabularies).to(device)
    metric = trainer.validation_metric or model.main_metric
    write_json(os.path.join(output_dir, CONFIG_FILE), config_dict(config))
    save_vocabularies(output_dir, vocabularies)
    optimizer = OPTIMIZER_CLASSES[trainer.optimizer.type]([p for p in model.parameters() if p.requires_grad],
                                                   lr=trainer.optimizer.lr, weight_decay=trainer.optimizer.weight_decay)
    logger.info("Model %s (%s parameters), ELMo %s, word vectors %s, pretrained %s, characters %s; device %s; %d train / %d validation%s "
                "instances; %d labels; batch %d, up to %d epochs, patience %d, seed %d; selecting on %s",
                config.model.type, _parameter_counts(model), "on" if config.model.embedders.elmo else "off",
                "on" if config.model.embedders.words else "off",
                config.model.embedders.pretrained.path if config.model.embedders.pretrained else "off",
                "on" if config.model.embedders.characters else "off", device, len(train_set), len(validation_set),
                f" / {len(test_set)} test" if test_set else "", len(vocabularies["labels"]), trainer.batch_size,
                trainer.epochs, trainer.patience, trainer.seed, metric)
    rng = random.Random(trainer.seed)
    history: List[Dict[str, float]] = []
    best: Optional[Dict[str, float]] = None
    for epoch in range(1, trainer.epochs + 1):
        epoch_start = time.time()
        train_loss = train_epoch(model, train_set, trainer, optimizer, rng, device, epoch)
        predictions, validation_loss = run_model(model, validation_set, trainer.batch_size, device, "validating")
        scores = model.score(predictions, validation_set)
        if metric not in scores:
            raise ConfigurationError(f"trainer.validation_metric: {metric!r} is not one of {sorted(scores)}")
        _log_elmo_cache(model)
        record = {"epoch": epoch, "train_loss": train_loss, "validation_loss": validation_loss,
                  **{f"validation_{k}": v for k, v in scores.items()}, "seconds": time.time() - epoch_start}
        history.append(record)
        improved = best is None or scores[metric] > best[f"validation_{metric}"]
        logger.info("epoch %d: train loss %.4f, validation loss %.4f, validation %s %.4f%s (%.1fs)", epoch,
                    train_loss, validation_loss, metric, scores[metric], " (best)" if improved else "",
                    record["seconds"])
        if improved:
            best = record
            save_tensors(os.path.join(output_dir, CHECKPOINT_FILE), model.checkpoint_state())
        elif epoch - best["epoch"] >= trainer.patience:
            logger.info("no improvement for %d epochs: stopping", trainer.patience)
            break
    model.load_checkpoint_state(load_tensors(os.path.join(output_dir, CHECKPOINT_FILE), device))
    metrics: Dict[str, Any] = {"model": config.model.type, "elmo": config.model.embedders.elmo is not None,
                               "validation_metric": metric, "best_epoch": best["epoch"],
                               "validation": {k[len("validation_"):]: v for k, v in best.items()
                                              if k.startswith("validation_")}}
    final_set = test_set if test_set is not None else validation_set
    predictions, test_loss = run_model(model, final_set, trainer.batch_size, device, "testing")
    if test_set is not None:
        metrics["test"] = {**model.score(predictions, test_set), "loss": test_loss}
        logger.info("test: %s", metrics["test"])
    write_predictions(os.path.join(output_dir, "predictions.jsonl"), model, final_set, predictions)
    if model.prediction_suffix is not None:
        write_predictions(os.path.join(output_dir, "predictions" + model.prediction_suffix), model, final_set,
                          predictions)
    metrics.update({"seed": trainer.seed, "device": device, "parameters": _parameter_counts(model),
                    "instances": {"train": len(train_set), "validation": len(validation_set),
                                  "test": len(test_set) if test_set else 0},
                    "seconds": time.time() - started, "machine": machine_description(device), "history": history})
    write_json(os.path.join(output_dir, METRICS_FILE), metrics)
    plot_learning_curves(history, metric, os.path.join(output_dir, CURVE_FILE))
    logger.info("Best epoch %d, validation %s %.4f", best["epoch"], metric, best[f"validation_{metric}"])
    return metrics
