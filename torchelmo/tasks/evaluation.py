"""The archive commands: evaluating a trained model's folder on a file, predicting with it."""
import json
import logging
import sys
from typing import Dict, List, Optional

from ..errors import ConfigurationError
from ..sentences import InputPolicy, open_sentence_file
from .archive import load_archive
from .config import SourceConfig
from .instance import Instance
from .loop import prediction_records, resolve_device, run_model, write_predictions
from .sources import read_source

logger = logging.getLogger(__name__)


def evaluate_archive(folder: str, data: str, split_file: Optional[str] = None, split: Optional[str] = None,
                     batch_size: int = 64, device: str = "cpu", predictions_path: Optional[str] = None
                     ) -> Dict[str, float]:
    """Metrics of the model in ``folder`` on ``data`` (a file or glob in the format it was
    trained on; ``split_file``/``split`` select documents as in the config, ``split`` alone
    the rows of a file that marks its own split); with ``predictions_path``, the predictions
    are written there too (see :func:`write_predictions`)."""
    device = resolve_device(device)
    config, model = load_archive(folder, device)
    instances = read_source(SourceConfig(path=data, split_file=split_file, split=split), config.data.reader)
    predictions, loss = run_model(model, instances, batch_size, device, "evaluating")
    metrics = model.score(predictions, instances)
    if loss is not None:
        metrics["loss"] = loss
    logger.info("Evaluated %d instances of %s: %s", len(instances), data, json.dumps(metrics))
    if predictions_path is not None:
        write_predictions(predictions_path, model, instances, predictions)
    return metrics


def predict_archive(folder: str, input_path: str, output_path: Optional[str] = None, text: bool = False,
                    batch_size: int = 64, device: str = "cpu", input_policy: Optional[InputPolicy] = None) -> int:
    """Write one JSON line per instance of ``input_path`` to ``output_path`` (stdout if None);
    an ``output_path`` ending in the model's ``prediction_suffix`` (e.g. ``.conll``) gets the
    task's own format instead.

    ``text``: the input holds one whitespace-tokenized sentence per line ('-' for stdin);
    otherwise it is read like the training data. ``input_policy`` says what to do with invalid
    UTF-8, blank and over-long lines of a ``text`` input (default: fail, naming the line;
    ``blank_lines="empty"`` is refused: a model has nothing to predict for no words).
    Returns the number of instances.
    """
    device = resolve_device(device)
    config, model = load_archive(folder, device)
    if text:
        instances = _text_instances(input_path, input_policy)
    else:
        instances = read_source(SourceConfig(path=input_path), config.data.reader)
    predictions, _ = run_model(model, instances, batch_size, device)
    if output_path is None:
        for record in prediction_records(model, instances, predictions):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        write_predictions(output_path, model, instances, predictions)
    return len(predictions)


def _text_instances(path: str, policy: Optional[InputPolicy] = None) -> List[Instance]:
    if policy is not None and policy.blank_lines == "empty":
        raise ConfigurationError("blank_lines='empty' cannot be predicted (no words); use 'error' or 'skip'")
    sentences = open_sentence_file(path, policy)
    try:
        return [Instance(tokens=line.split(), source=f"{sentences.display_name}:{index + 1}")
                for index, line in sentences.lines() if line is not None]
    finally:
        sentences.close()
