"""Per-token perplexity of the forward, backward and averaged language models on held-out text.

Every sentence ``w1 ... wn`` counts ``n + 1`` predictions per direction (``</S>`` forward,
``<S>`` backward), scored with the full softmax; out-of-vocabulary words are predicted as
``<UNK>``. The average is ``exp`` of the mean of both directions' losses, as bilm-tf reports.
"""
import logging
import math
import os
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Union

import torch
from tqdm import tqdm

from ..errors import InputError
from .corpus import BatchStream, resolve_files
from .export import load_language_model
from .model import BidirectionalLM
from .vocab import Vocabulary
from ..files import PathLike

logger = logging.getLogger(__name__)


@dataclass
class Perplexity:
    """Perplexities and the counts behind them."""

    forward: float
    backward: float
    average: float
    predictions: int  # per direction
    sentences: int

    def to_dict(self) -> Dict[str, float]:
        return asdict(self)


def evaluate_perplexity(model: BidirectionalLM, vocab: Vocabulary, files: Sequence[str], batch_size: int = 64,
                        device: Union[str, torch.device] = "cpu", progress: bool = True) -> Perplexity:
    """Score every sentence of ``files`` once; restores the model's train/eval mode after."""
    was_training = model.training
    model.eval()
    totals = torch.zeros(2, dtype=torch.float64, device=device)
    predictions = sentences = 0
    stream = BatchStream(files, vocab, batch_size, shuffle=False, epochs=1)
    try:
        with torch.no_grad():
            for batch in tqdm(stream, desc="evaluating", unit="batch", disable=None if progress else True):
                forward, backward = model.token_losses(batch.char_ids.to(device).long(), batch.targets.to(device))
                totals += torch.stack([forward.double().sum(), backward.double().sum()])
                predictions += forward.numel()
                sentences += batch.targets.size(0)
    finally:
        model.train(was_training)
    if predictions == 0:
        raise InputError(f"no sentences to evaluate in {len(files)} file(s) (all lines are blank)")
    forward_loss, backward_loss = (totals / predictions).tolist()
    return Perplexity(forward=math.exp(forward_loss), backward=math.exp(backward_loss),
                      average=math.exp(0.5 * (forward_loss + backward_loss)),
                      predictions=predictions, sentences=sentences)


def evaluate_files(options_file: PathLike, weight_file: PathLike, vocab_file: PathLike, data: Union[str, Sequence[str]],
                   softmax_file: Optional[PathLike] = None, batch_size: int = 64,
                   device: Union[str, torch.device] = "cpu") -> Perplexity:
    """Load an exported model and score the files matching ``data`` (a glob or several)."""
    vocab = Vocabulary.from_file(vocab_file)
    model = load_language_model(options_file, weight_file, vocab, softmax_file).to(device)
    files = resolve_files(data, "--data")
    logger.info("Evaluating %s on %d file(s), device %s", os.fspath(weight_file), len(files), device)
    return evaluate_perplexity(model, vocab, files, batch_size=batch_size, device=device)
