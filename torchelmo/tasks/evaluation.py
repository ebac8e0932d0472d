"""The archive commands: evaluating a trained model's folder on a file, predicting with it."""
import json
import logging
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from ..errors import ConfigurationError
from ..files import check_not_input, refuse_existing, write_json
from ..sentences import InputPolicy, open_sentence_file
from .archive import load_archive
from .config import SourceConfig, TaskConfig
from .instance import Instance
from .loop import prediction_records, resolve_device, run_model, write_predictions
from .sources import read_source, source_files

logger = logging.getLogger(__name__)


def check_outputs(outputs: Sequence[Optional[str]], folder: str, config: TaskConfig, data: Sequence[Optional[str]],
                  overwrite: bool) -> None:
    """Before any work: no output may be one of the command's inputs (the ``data`` files, a file
    of the model in ``folder``, its ELMo or word-vector files), nor replace a file unless
    ``overwrite``."""
    given = [path for path in outputs if path is not None]
    if len({os.path.abspath(path) for path in given}) < len(given):
        raise ConfigurationError(f"{given[0]}: given for two outputs; each needs its own file")
    if not given:
        return
    embedders = config.model.embedders
    inputs: List[Tuple[str, Optional[str]]] = [("a file of the model", os.path.join(folder, name))
                                               for name in os.listdir(folder)]
    if embedders.elmo is not None:
        inputs += [("the ELMo options file", embedders.elmo.options_file),
                   ("the ELMo weight file", embedders.elmo.weight_file)]
    if embedders.pretrained is not None:
        inputs.append(("the word-vector file", embedders.pretrained.path))
    inputs += [("the data", path) for path in data]
    for path in given:
        check_not_input(path, inputs)
        refuse_existing(path, overwrite)


def evaluate_archive(folder: str, data: str, split_file: Optional[str] = None, split: Optional[str] = None,
                     batch_size: int = 64, device: str = "cpu", predictions_path: Optional[str] = None,
                     metrics_path: Optional[str] = None, overwrite: bool = False) -> Dict[str, float]:
    """Metrics of the model in ``folder`` on ``data`` (a file or glob in the format it was
    trained on; ``split_file``/``split`` select documents as in the config, ``split`` alone
    the rows of a file that marks its own split); with ``predictions_path``, the predictions
    are written there too (see :func:`write_predictions`), with ``metrics_path`` the metrics
    (JSON). An existing output is replaced only with ``overwrite``; an input never."""
    device = resolve_device(device)
    config, model = load_archive(folder, device)
    source = SourceConfig(path=data, split_file=split_file, split=split)
    check_outputs([predictions_path, metrics_path], folder, config, [*source_files(source), split_file], overwrite)
    instances = read_source(source, config.data.reader)
    predictions, loss = run_model(model, instances, batch_size, device, "evaluating")
    metrics = model.score(predictions, instances)
    if loss is not None:
        metrics["loss"] = loss
    logger.info("Evaluated %d instances of %s: %s", len(instances), data, json.dumps(metrics))
    if predictions_path is not None:
        write_predictions(predictions_path, model, instances, predictions)
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    return metrics


def predict_archive(folder: str, input_path: str, output_path: Optional[str] = None, text: bool = False,
                    batch_size: int = 64, device: str = "cpu", input_policy: Optional[InputPolicy] = None,
                    overwrite: bool = False) -> int:
    """Write one JSON line per instance of ``input_path`` to ``output_path`` (stdout if None);
    an ``output_path`` ending in the model's ``prediction_suffix`` (e.g. ``.conll``) gets the
    task's own format instead.

    ``text``: the input holds one whitespace-tokenized sentence per line ('-' for stdin);
    otherwise it is read like the training data. ``input_policy`` says what to do with invalid
    UTF-8, blank and over-long lines of a ``text`` input (default: fail, naming the line;
    ``blank_lines="empty"`` is refused: a model has nothing to predict for no words). An
    existing ``output_path`` is replaced only with ``overwrite``; an input never.
    Returns the number of instances.
    """
    device = resolve_device(device)
    config, model = load_archive(folder, device)
    inputs = [input_path] if text else source_files(SourceConfig(path=input_path))
    check_outputs([output_path], folder, config, inputs, overwrite)
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
