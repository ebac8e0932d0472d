"""Training ELMo's biLM (``torchelmo train``) and scoring it (``torchelmo evaluate``).

Not imported by the inference core: ``import torchelmo`` stays light.
"""
from .config import TrainingConfig, small_options
from .evaluate import Perplexity, evaluate_files, evaluate_perplexity
from .export import export_model, load_language_model
from .model import BidirectionalLM
from .trainer import TrainingResult, resolve_settings, train
from .vocab import Vocabulary, build_vocabulary

__all__ = [
    "BidirectionalLM", "Perplexity", "TrainingConfig", "TrainingResult", "Vocabulary", "build_vocabulary",
    "evaluate_files", "evaluate_perplexity", "export_model", "load_language_model", "resolve_settings",
    "small_options", "train",
]
