"""ELMo in task models, by configuration: readers, embedders, models, metrics, trainer.

>>> from torchelmo.tasks import load_config, train_task, evaluate_archive, predict_archive
>>> metrics = train_task(load_config("configs/pos_ewt_elmo.yaml"), "runs/pos-elmo")

``train`` is the former name of :func:`train_task`, kept so that existing code runs
(:func:`torchelmo.training.train` trains the biLM itself). Where each part lives:
``docs/architecture.md``. This package imports the inference core (``torchelmo.Elmo``);
the core never imports it.
"""
from .config import TaskConfig
from .evaluation import evaluate_archive, predict_archive
from .loading import load_config, parse_config
from .trainer import train_task

train = train_task

__all__ = ["TaskConfig", "load_config", "parse_config", "train_task", "train", "evaluate_archive", "predict_archive"]
