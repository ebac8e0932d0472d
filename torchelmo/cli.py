"""The ``torchelmo`` command line. Thin: parses flags and calls the library.

Errors a user can fix (missing files, bad options, bad input, a full disk, a GPU out of
memory) print one line and exit with the status of their class in :mod:`torchelmo.errors`
(2; 130 when interrupted); the line adds the flag that would help when the error carries a
hint and this command has that flag. ``--verbose`` shows the traceback too, with the same status.
"""
import argparse
import logging
import os
import re
import sys
import traceback
from typing import List, Optional

import torch

from .devices import out_of_memory_line
from .embed_job import COMPRESSIONS, DEFAULT_GZIP_LEVEL, OUTPUT_DTYPES, POOLS
from .errors import ConfigurationError, ElmoError, HardwareError, Interrupted
from .signals import signals_raise
from .gemm import PRECISIONS
from .sentences import BLANK_LINES, DEFAULT_MAX_SENTENCE_LENGTH, ENCODING_ERRORS, default_max_sentence_length
from .states import STATE_MODES

logger = logging.getLogger("torchelmo")


def _add_embed_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "embed", parents=[_common()], help="embed a file of tokenized sentences into HDF5 (like `allennlp elmo`)",
        description="Embed INPUT (one whitespace-tokenized sentence per line, UTF-8; '-' for stdin; raw text "
                    "with --tokenize) into OUTPUT, an HDF5 file with one dataset per sentence keyed by line index.")
    p.add_argument("input_file", help="text file with one tokenized sentence per line, or '-'")
    p.add_argument("output_file", help="HDF5 file to write")
    layers = p.add_mutually_exclusive_group(required=True)
    layers.add_argument("--all", action="store_true", help="all three layers: (3, tokens, dim)")
    layers.add_argument("--top", action="store_true", help="the top LSTM layer: (tokens, dim)")
    layers.add_argument("--average", action="store_true", help="the average of the layers: (tokens, dim)")
    _add_model_flags(p)
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    p.add_argument("--cuda-device", type=int, default=-1, help="GPU index; -1 for CPU (default)")
    p.add_argument("--forget-sentences", action="store_true",
                   help="do not store the sentence_to_index JSON map")
    p.add_argument("--use-sentence-keys", action="store_true",
                   help="key datasets by sentence text instead of line index")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUTPUT (and discard an interrupted run's partial output)")
    p.add_argument("--resume", action="store_true",
                   help="finish an interrupted run from its partial output (OUTPUT.partial/)")
    _add_input_policy_flags(p)
    p.add_argument("--checkpoint-every", type=int, default=20,
                   help="batches between resumable checkpoints (default 20)")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help="the LSTM's matrix products: fp32 (default, exact), bf16, or int8 (dynamic "
                        "quantization, CPU); the reduced ones are faster but deviate (docs/speed.md)")
    p.add_argument("--compile", action="store_true",
                   help="fuse the LSTM cell update with torch.compile (needs a C++ compiler)")
    p.add_argument("--state", choices=STATE_MODES, default="carry",
                   help="where each sentence's LSTM state starts: carry (default, like allennlp: the state "
                        "its batch row ended the previous batch with), zero, or warm (one fixed state: "
                        "vectors independent of the batch; docs/state.md)")
    p.add_argument("--warmup-text", metavar="FILE",
                   help="the warm-up text of --state warm (one tokenized sentence per line) in the model's "
                        "language; needed for ELMoForManyLangs models (the shipped one is English)")
    p.add_argument("--dtype", choices=OUTPUT_DTYPES, default="float32",
                   help="the output's values: float32 (default) or float16 (half the size)")
    p.add_argument("--compression", choices=COMPRESSIONS, default="none",
                   help="compress each dataset: none (default), gzip (smaller, slower) or lzf (fast)")
    p.add_argument("--compression-level", type=int, choices=range(10), metavar="0-9",
                   help=f"gzip level (default {DEFAULT_GZIP_LEVEL}); needs --compression gzip")
    p.add_argument("--pool", choices=POOLS, default="none",
                   help="none (default): one vector per token; mean: one per sentence, (3, dim) with --all, "
                        "(dim,) otherwise")
    p.add_argument("--tokenize", action="store_true",
                   help="INPUT holds raw text: tokenize each line with spaCy's rules for --language "
                        "(torchelmo.tokenizer) instead of splitting it on whitespace; sentence_to_index keeps the "
                        "lines, and each dataset gets 'tokens' and 'token_offsets' attributes")
    p.add_argument("--language", default="en", metavar="CODE",
                   help="the spaCy language code of --tokenize (default en), e.g. zh, ru, fi for an "
                        "ELMoForManyLangs model")
    p.add_argument("--window", type=int, default=0, metavar="N",
                   help="embed sentences longer than N tokens in overlapping windows of N tokens, stitched "
                        "back to full length (memory bounded by N; no --max-sentence-length limit unless "
                        "given; docs/long_documents.md)")
    p.add_argument("--window-overlap", type=int, metavar="K",
                   help="tokens shared by consecutive windows, 0 <= K < N/2 (default N // 4); needs --window")
    p.set_defaults(func=_run_embed)


def _add_model_flags(p) -> None:
    """--options-file, --weight-file, --model: which biLM (as ElmoEmbedder chooses it)."""
    p.add_argument("--options-file", help="ELMo options.json (default: the bundled model)")
    p.add_argument("--weight-file", help="ELMo weights.hdf5 (default: the bundled model)")
    p.add_argument("--model", help="a model by name instead of files: 'default' (bundled) or one of "
                   "AllenNLP's published models (small, medium, original, original-5.5B, pubmed, "
                   "portuguese) or efml-CODE (ELMoForManyLangs, 44 languages), downloaded once into "
                   "~/.cache/torchelmo; or a model folder (AllenNLP's "
                   "options.json + weights.hdf5, or an ELMoForManyLangs model)")


def _add_export_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export the biLM for serving elsewhere (ONNX)",
                              description="Export the biLM to other runtimes; see docs/onnx.md.")
    formats = p.add_subparsers(dest="export_format", required=True)
    onnx = formats.add_parser(
        "onnx", parents=[_common()], help="the biLM as an ONNX graph (any batch size and length)",
        description="Write the biLM as an ONNX graph: input char_ids int64 (batch, timesteps, 50) as "
                    "batch_to_ids makes it; outputs layers float32 (3, batch, timesteps, dim) without <S>/</S>, "
                    "zeros at padding, and mask int64 (batch, timesteps). The time loop is a Scan in the graph.")
    onnx.add_argument("output_file", help="the .onnx file to write")
    _add_model_flags(onnx)
    onnx.add_argument("--state", choices=("zero", "warm"), default="zero",
                      help="where every sentence's LSTM state starts: zero (default) or warm (the model's warm "
                           "state, baked into the graph; docs/state.md)")
    onnx.add_argument("--state-io", action="store_true",
                      help="add inputs initial_hidden/initial_memory and outputs final_hidden/final_memory, for "
                           "callers that carry state between batches (instead of --state)")
    onnx.add_argument("--overwrite", action="store_true", help="replace OUTPUT_FILE if it exists")
    onnx.set_defaults(func=_run_export_onnx)


def _run_export_onnx(args: argparse.Namespace) -> None:
    from .integrations.onnx_export import OPSET, export_onnx

    path = export_onnx(args.output_file, args.options_file, args.weight_file, model=args.model, state=args.state,
                       state_io=args.state_io, overwrite=args.overwrite)
    logger.info("Wrote %s (ONNX opset %d)", path, OPSET)


def _add_input_policy_flags(p, blank_lines=BLANK_LINES) -> None:
    """--errors, --blank-lines, --max-sentence-length: the flags of an InputPolicy."""
    p.add_argument("--errors", choices=ENCODING_ERRORS, default="strict",
                   help="lines that are not valid UTF-8: fail (strict, default), replace bad bytes "
                        "with U+FFFD, or skip the line")
    p.add_argument("--blank-lines", choices=blank_lines, default="error",
                   help="empty lines: fail (error, default, like allennlp), skip them" +
                        (", or write an empty (0-token) dataset" if "empty" in blank_lines else ""))
    p.add_argument("--max-sentence-length", type=int,
                   help="fail on sentences with more tokens than this, naming the line "
                        f"(default {DEFAULT_MAX_SENTENCE_LENGTH}, or none with --window; 0 = no limit)")


def _input_policy(args: argparse.Namespace):
    from .sentences import InputPolicy

    limit = args.max_sentence_length
    if limit is None:
        limit = default_max_sentence_length(getattr(args, "window", 0))
    return InputPolicy(errors=args.errors, blank_lines=args.blank_lines, max_sentence_length=limit)


def _run_embed(args: argparse.Namespace) -> None:
    from .distributed import process_cuda_device
    from .embed_job import EmbedSettings, embed_file
    from .embedder import ElmoEmbedder

    settings = EmbedSettings(output_format="all" if args.all else "top" if args.top else "average",
                             batch_size=args.batch_size, forget_sentences=args.forget_sentences,
                             use_sentence_keys=args.use_sentence_keys, checkpoint_every=args.checkpoint_every,
                             dtype=args.dtype, compression=args.compression,
                             compression_level=args.compression_level, pool=args.pool, window=args.window,
                             window_overlap=args.window_overlap)
    policy = _input_policy(args)

    def load_embedder() -> ElmoEmbedder:  # after the input is checked: bad input is reported first
        return ElmoEmbedder(args.options_file, args.weight_file, cuda_device=process_cuda_device(args.cuda_device),
                            model=args.model, precision=args.precision, compile=args.compile, state=args.state,
                            warmup_text=args.warmup_text)

    embed_file(load_embedder, args.input_file, args.output_file, settings, policy, tokenize=args.tokenize,
               resume=args.resume, overwrite=args.overwrite, language=args.language)
    logger.info("Wrote %s", args.output_file)


def _add_task_parser(subparsers) -> None:
    p = subparsers.add_parser("task", help="train, evaluate and use task models with or without ELMo",
                              description="Task models (classifier, tagger, parser, coreference, span QA) "
                                          "configured in YAML or JSON; see docs/tasks.md.")
    tasks = p.add_subparsers(dest="task_command", required=True)
    train = tasks.add_parser("train", parents=[_common()], help="train a model from a config file")
    train.add_argument("config", help="YAML or JSON config (see configs/)")
    train.add_argument("--output-dir", required=True, help="folder for the model, metrics and plots")
    train.add_argument("--overwrite", action="store_true",
                       help="train into an --output-dir that holds files, replacing the files training writes")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, value parsed as YAML (repeatable), e.g. "
                            "--set trainer.epochs=1 --set data.train.limit=2000")
    train.set_defaults(func=_run_task_train)
    evaluate = tasks.add_parser("evaluate", parents=[_common()], help="score a trained model on labelled data")
    evaluate.add_argument("model_dir", help="folder written by `torchelmo task train`")
    evaluate.add_argument("data", help="file or glob in the training data's format")
    evaluate.add_argument("--split-file", help="JSON file of document lists per split (e.g. GUM's splits.json)")
    evaluate.add_argument("--split", help="which split of --split-file to keep; alone: the rows of a file that "
                                          "marks its own split (SICK's SemEval_set, e.g. TEST)")
    evaluate.add_argument("--output", help="also write the metrics to this JSON file")
    evaluate.add_argument("--predictions", help="also write the predictions: JSON lines, or the task's own format "
                                                "for a name ending in it (.conll coreference, .json SQuAD)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace existing --output/--predictions files")
    predict = tasks.add_parser("predict", parents=[_common()], help="predict, one JSON line per sentence")
    predict.add_argument("model_dir", help="folder written by `torchelmo task train`")
    predict.add_argument("input", help="file in the training data's format, or with --text one tokenized "
                                       "sentence per line ('-' for stdin)")
    predict.add_argument("--text", action="store_true", help="INPUT holds one whitespace-tokenized sentence per line")
    predict.add_argument("--output", help="JSON-lines file to write (default: stdout)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing --output file")
    _add_input_policy_flags(predict.add_argument_group("lines of a --text INPUT"), blank_lines=("error", "skip"))
    for command in (evaluate, predict):
        command.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
        command.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    evaluate.set_defaults(func=_run_task_evaluate)
    predict.set_defaults(func=_run_task_predict)


def _run_task_train(args: argparse.Namespace) -> None:
    from .tasks import load_config, train

    train(load_config(args.config, args.overrides), args.output_dir, overwrite=args.overwrite)


def _run_task_evaluate(args: argparse.Namespace) -> None:
    import json

    from .tasks import evaluate_archive

    if args.split_file is not None and args.split is None:
        raise ElmoError("--split-file needs --split")
    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    metrics = evaluate_archive(args.model_dir, args.data, args.split_file, args.split, args.batch_size, args.device,
                               predictions_path=args.predictions, metrics_path=args.output, overwrite=args.overwrite)
    print(json.dumps(metrics, indent=2))


def _run_task_predict(args: argparse.Namespace) -> None:
    from .tasks import predict_archive

    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    predict_archive(args.model_dir, args.input, args.output, text=args.text, batch_size=args.batch_size,
                    device=args.device, input_policy=_input_policy(args), overwrite=args.overwrite)


# Training flags -> TrainingConfig fields; unset flags keep the options file's or the default value.
_TRAINING_FLAGS = (
    ("--batch-size", "batch_size", int, "sentences per batch and process"),
    ("--max-steps", "max_steps", int, "optimizer steps in total"),
    ("--optimizer", "optimizer", str, "adagrad (as bilm-tf) or adam"),
    ("--learning-rate", "learning_rate", float, "peak learning rate"),
    ("--lr-schedule", "lr_schedule", str, "constant, linear (to 0 at --max-steps) or inverse_sqrt"),
    ("--warmup-steps", "warmup_steps", int, "linear learning-rate warm-up"),
    ("--clip-norm", "clip_norm", float, "gradient-norm clip, 0 disables"),
    ("--dropout", "dropout", float, "dropout on LSTM inputs and the top layer"),
    ("--n-negative-samples", "n_negative_samples", int, "sampled-softmax negatives; 0 = full softmax"),
    ("--max-length", "max_length", int, "longer sentences are cut into pieces of this many tokens"),
    ("--min-count", "min_count", int, "building the vocabulary: keep words seen this often"),
    ("--max-vocab-size", "max_vocab_size", int, "building the vocabulary: at most this many words (0: all)"),
    ("--checkpoint-every", "checkpoint_every", int, "steps between checkpoints and exports"),
    ("--log-every", "log_every", int, "steps between log lines"),
    ("--seed", "seed", int, "random seed"),
)


def _add_train_parser(subparsers) -> None:
    from .training.config import TrainingConfig

    p = subparsers.add_parser(
        "train", parents=[_common()], help="train an ELMo biLM on your text (exports the official format)",
        description="Train ELMo's bidirectional language model on files with one whitespace-tokenized sentence "
                    "per line. Writes options.json + weights.hdf5 (the official format), vocab.txt, softmax.hdf5, "
                    "checkpoint.pt and logs into OUTPUT_DIR. Run under `torchrun --nproc-per-node N` for "
                    "data-parallel training. See docs/training.md.")
    p.add_argument("--train-data", nargs="+", required=True, metavar="GLOB",
                   help="training files (quote globs: 'corpus/*.txt')")
    p.add_argument("--output-dir", required=True, help="directory for the run's files")
    p.add_argument("--options", help="an options.json: the architecture, plus optional bilm-tf training keys "
                                     "(default: a small CPU-sized architecture)")
    p.add_argument("--vocab", help="vocabulary file (<S>, </S>, <UNK>, then one word per line); default: built "
                                   "from the training data")
    p.add_argument("--heldout-data", nargs="+", metavar="GLOB", help="files to report perplexity on at the end")
    p.add_argument("--resume", action="store_true", help="continue the run in OUTPUT_DIR from its checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="start a new run in OUTPUT_DIR even though it holds a run's files, replacing them")
    p.add_argument("--device", choices=("cpu", "cuda"), help="default: a GPU when there is one")
    p.add_argument("--no-bf16", dest="bf16", action="store_const", const=False,
                   help="train in float32 on GPU too (default: bfloat16 autocast on GPU)")
    defaults = TrainingConfig()
    for flag, name, kind, text in _TRAINING_FLAGS:
        p.add_argument(flag, dest=name, type=kind, help=f"{text} (default {getattr(defaults, name)})")
    p.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> None:
    from .files import check_not_input
    from .options import ElmoOptions
    from .training import resolve_settings, train
    from .training.export import OPTIONS_FILE

    overrides = {name: getattr(args, name) for _, name, _, _ in _TRAINING_FLAGS if getattr(args, name) is not None}
    if args.bf16 is not None:
        overrides["bf16"] = args.bf16
    options = ElmoOptions.from_file(args.options) if args.options else None
    check_not_input(os.path.join(args.output_dir, OPTIONS_FILE), [("the --options file", args.options)])
    options, config = resolve_settings(args.output_dir, options, overrides, resume=args.resume)
    result = train(args.train_data, args.output_dir, options, config, vocab_file=args.vocab,
                   heldout_data=args.heldout_data, resume=args.resume, device=args.device, overwrite=args.overwrite)
    if not result.completed:
        raise Interrupted(f"stopped at step {result.step}; the checkpoint in {args.output_dir} is saved",
                          hint="train_resume", signalled=True)


def _add_evaluate_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", parents=[_common()], help="perplexity of a trained biLM on held-out text",
        description="Per-token perplexity of the forward, backward and average language model on files with "
                    "one whitespace-tokenized sentence per line (full softmax).")
    p.add_argument("--options-file", required=True, help="the model's options.json")
    p.add_argument("--weight-file", required=True, help="the model's weights.hdf5")
    p.add_argument("--vocab", required=True, help="the vocabulary the model was trained with")
    p.add_argument("--softmax-file", help="softmax weights (default: softmax.hdf5 beside --weight-file)")
    p.add_argument("--data", nargs="+", required=True, metavar="GLOB", help="text files to score")
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    p.add_argument("--cuda-device", type=int, default=-1, help="GPU index; -1 for CPU (default)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> None:
    import json

    from .devices import resolve_device
    from .training import evaluate_files

    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    device = resolve_device(f"cuda:{args.cuda_device}" if args.cuda_device >= 0 else "cpu")
    result = evaluate_files(args.options_file, args.weight_file, args.vocab, args.data, args.softmax_file,
                            batch_size=args.batch_size, device=device)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"perplexity  forward {result.forward:.2f}  backward {result.backward:.2f}  average "
              f"{result.average:.2f}  ({result.predictions} predictions per direction, {result.sentences} sentences)")


def _common() -> argparse.ArgumentParser:
    """Flags every subcommand takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="debug logging and full tracebacks")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torchelmo", description="Fast, drop-in ELMo for PyTorch.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_embed_parser(subparsers)
    _add_task_parser(subparsers)
    _add_train_parser(subparsers)
    _add_evaluate_parser(subparsers)
    _add_export_parser(subparsers)
    return parser


# hint key (see errors.HINTS) -> (the flag's argparse name, what to tell a user of this command)
# hint key -> (flag's dest, advice) pairs, best first: the first whose flag the command has is shown.
CLI_HINTS = {
    "resume": (("resume", "run the same command with --resume to finish"),),
    "overwrite": (("overwrite", "pass --overwrite to replace it"),),
    "resume_or_overwrite": (("resume", "pass --resume to finish it or --overwrite to start over"),),
    "train_resume": (("resume", "continue with --resume"),),
    "train_resume_or_elsewhere": (("resume", "pass --resume to continue it, or choose another output directory"),),
    "errors": (("errors", "use --errors replace or --errors skip"),),
    "blank_lines": (("blank_lines", "remove them or use --blank-lines skip"),),
    "max_sentence_length": (("window", "embed them in windows with --window N, or raise --max-sentence-length"),
                            ("max_sentence_length", "split long sentences or raise --max-sentence-length")),
    "sentence_keys": (("use_sentence_keys", "drop --use-sentence-keys to key datasets by line index"),),
    "model_files": (("options_file", "or download the files elsewhere and pass --options-file and --weight-file"),),
    "batch_size": (("batch_size", "use a smaller --batch-size"),
                   ("overrides", "use a smaller batch, e.g. --set trainer.batch_size=8")),
    "warmup_text": (("warmup_text", "pass --warmup-text FILE in the model's language, or use --state zero"),),
}


def error_line(error: ElmoError, args: argparse.Namespace) -> str:
    """The one line printed for ``error``: its message, each setting it names that this command
    has as a flag written as the flag, and the first advice (a hint may offer several, best
    first) naming a flag this command has."""
    message = error.message
    flags = [name for name in (error.settings if isinstance(error, ConfigurationError) else ()) if hasattr(args, name)]
    if flags:
        message = re.sub(rf"(?<![\w-])({'|'.join(flags)})(?![\w-])",
                         lambda match: "--" + match.group(1).replace("_", "-"), message)
    for dest, advice in CLI_HINTS.get(error.hint or "", ()):
        if hasattr(args, dest):
            return f"torchelmo: error: {message}; {advice}"
    return f"torchelmo: error: {message}"


def main(argv: Optional[List[str]] = None) -> int:
    """Run a command; the exit status is 0, the failing :class:`ElmoError`'s ``exit_code`` (2 for
    problems a user can fix, 130 when interrupted: Ctrl-C, SIGTERM, SIGHUP), 2 for other OS
    errors, 141 when the reader of its standard output goes away (``| head``). ``--verbose``
    adds the traceback, never changes the status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A full disk under a log file: no traceback per log record.
    raise_exceptions, logging.raiseExceptions = logging.raiseExceptions, args.verbose
    try:
        with signals_raise():
            try:
                args.func(args)
            except torch.OutOfMemoryError as error:
                raise HardwareError(out_of_memory_line(error), hint="batch_size") from error
    except BrokenPipeError:  # `torchelmo ... | head`: the reader has what it wanted
        _silence_stdout()
        return 141
    except ElmoError as error:
        _report(error_line(error, args), args.verbose)
        return error.exit_code
    except OSError as error:  # anything the library did not translate
        _report(f"torchelmo: error: {error}", args.verbose)
        return 2
    except KeyboardInterrupt:
        _report("torchelmo: interrupted", args.verbose)
        return 130
    finally:
        logging.raiseExceptions = raise_exceptions
    return 0


def _report(line: str, verbose: bool) -> None:
    """``line`` on stderr, after the traceback of the exception being handled with ``verbose``."""
    if verbose:
        traceback.print_exc()
    print(line, file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
