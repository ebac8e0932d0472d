"""ELMo in task models, by configuration: readers, embedders, models, metrics, trainer.

>>> from torchelmo.tasks import load_config, train, evaluate_archive, predict_archive
>>> metrics = train(load_config("configs/pos_ewt_elmo.yaml"), "runs/pos-elmo")

This package imports the inference core (``torchelmo.Elmo``); the core never imports it.
"""
from .config import TaskConfig, load_config, parse_config
from .evaluation import evaluate_archive, predict_archive
from .trainer import train

__all__ = ["TaskConfig", "load_config", "parse_config", "train", "evaluate_archive", "predict_archive"]
