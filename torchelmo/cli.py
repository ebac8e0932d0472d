"""The ``torchelmo`` command line. Thin: parses flags and calls the library.

Errors a user can fix (missing files, bad options, bad input) print one line and exit
with status 2; ``--verbose`` shows the traceback too.
"""
import argparse
import logging
import os
import sys
from typing import Callable, List, Optional, Tuple

from .errors import ElmoError
from .sentences import BLANK_LINES, DEFAULT_MAX_SENTENCE_LENGTH, ENCODING_ERRORS

logger = logging.getLogger("torchelmo")


def _add_embed_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "embed", parents=[_common()], help="embed a file of tokenized sentences into HDF5 (like `allennlp elmo`)",
        description="Embed INPUT (one whitespace-tokenized sentence per line, UTF-8; '-' for stdin) "
                    "into OUTPUT, an HDF5 file with one dataset per sentence keyed by line index.")
    p.add_argument("input_file", help="text file with one tokenized sentence per line, or '-'")
    p.add_argument("output_file", help="HDF5 file to write")
    layers = p.add_mutually_exclusive_group(required=True)
    layers.add_argument("--all", action="store_true", help="all three layers: (3, tokens, dim)")
    layers.add_argument("--top", action="store_true", help="the top LSTM layer: (tokens, dim)")
    layers.add_argument("--average", action="store_true", help="the average of the layers: (tokens, dim)")
    p.add_argument("--options-file", help="ELMo options.json (default: the bundled model)")
    p.add_argument("--weight-file", help="ELMo weights.hdf5 (default: the bundled model)")
    p.add_argument("--model", help="a model by name instead of files: 'default' (bundled) or one of "
                   "AllenNLP's published models (small, medium, original, original-5.5B, pubmed, "
                   "portuguese), downloaded once into ~/.cache/torchelmo")
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
    p.add_argument("--errors", choices=ENCODING_ERRORS, default="strict",
                   help="lines that are not valid UTF-8: fail (strict, default), replace bad bytes "
                        "with U+FFFD, or skip the line")
    p.add_argument("--blank-lines", choices=BLANK_LINES, default="error",
                   help="empty lines: fail (error, default, like allennlp), skip them, or write an "
                        "empty (0-token) dataset")
    p.add_argument("--max-sentence-length", type=int, default=DEFAULT_MAX_SENTENCE_LENGTH,
                   help="fail on sentences with more tokens than this, naming the line "
                        f"(default {DEFAULT_MAX_SENTENCE_LENGTH}; 0 = no limit)")
    p.add_argument("--checkpoint-every", type=int, default=20,
                   help="batches between resumable checkpoints (default 20)")
    p.set_defaults(func=_run_embed)


def _distributed() -> Tuple[int, int, Callable[[], None]]:
    """``(rank, world_size, barrier)``; under torchrun, joins the process group."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return 0, 1, lambda: None
    import torch
    import torch.distributed as dist

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return dist.get_rank(), world_size, dist.barrier


def _run_embed(args: argparse.Namespace) -> None:
    from .embed_job import EmbedSettings, partial_dir, run_embedding_job
    from .embedder import ElmoEmbedder
    from .sentences import InputPolicy, open_sentence_file

    if args.batch_size < 1 or args.checkpoint_every < 1 or args.max_sentence_length < 0:
        raise ElmoError("--batch-size and --checkpoint-every must be positive, --max-sentence-length >= 0")
    output = args.output_file
    if os.path.isdir(output):
        raise ElmoError(f"{output}: is a directory, expected an HDF5 file name")
    if os.path.exists(output) and not (args.overwrite or args.resume):
        raise ElmoError(f"{output}: already exists; pass --overwrite to replace it")
    if os.path.exists(partial_dir(output)) and not (args.resume or args.overwrite):
        raise ElmoError(f"{partial_dir(output)}: an interrupted run left partial output; pass --resume to "
                        f"finish it or --overwrite to start over")
    rank, world_size, barrier = _distributed()
    cuda_device = args.cuda_device
    if cuda_device >= 0 and world_size > 1:
        cuda_device = int(os.environ.get("LOCAL_RANK", rank))
    policy = InputPolicy(errors=args.errors, blank_lines=args.blank_lines,
                         max_sentence_length=args.max_sentence_length)
    settings = EmbedSettings(output_format="all" if args.all else "top" if args.top else "average",
                             batch_size=args.batch_size, forget_sentences=args.forget_sentences,
                             use_sentence_keys=args.use_sentence_keys, checkpoint_every=args.checkpoint_every)
    source = open_sentence_file(args.input_file, policy)
    try:
        embedder = ElmoEmbedder(args.options_file, args.weight_file, cuda_device=cuda_device, model=args.model)
        try:
            run_embedding_job(embedder, source, output, settings, resume=args.resume, rank=rank,
                              world_size=world_size, barrier=barrier)
        except (KeyboardInterrupt, OSError) as error:
            raise Interrupted(f"{error or 'interrupted'}; finished work is kept in {partial_dir(output)}: "
                              f"run the same command with --resume to finish") from error
    finally:
        source.close()
    if source.skipped:
        logger.warning("Skipped %d line(s) (see the skipped_lines attribute): %s", len(source.skipped),
                       ", ".join(str(i + 1) for i in source.skipped[:20]))
    logger.info("Wrote %s", output)


class Interrupted(ElmoError):
    """A run stopped before the end, with resumable partial output."""


def _add_task_parser(subparsers) -> None:
    p = subparsers.add_parser("task", help="train, evaluate and use task models with or without ELMo",
                              description="Task models (classifier, tagger, parser) configured in YAML or "
                                          "JSON; see docs/tasks.md.")
    tasks = p.add_subparsers(dest="task_command", required=True)
    train = tasks.add_parser("train", parents=[_common()], help="train a model from a config file")
    train.add_argument("config", help="YAML or JSON config (see configs/)")
    train.add_argument("--output-dir", required=True, help="folder for the model, metrics and plots")
    train.add_argument("--overwrite", action="store_true", help="replace a model already in --output-dir")
    train.set_defaults(func=_run_task_train)
    evaluate = tasks.add_parser("evaluate", parents=[_common()], help="score a trained model on labelled data")
    evaluate.add_argument("model_dir", help="folder written by `torchelmo task train`")
    evaluate.add_argument("data", help="file or glob in the training data's format")
    evaluate.add_argument("--split-file", help="JSON file of document lists per split (e.g. GUM's splits.json)")
    evaluate.add_argument("--split", help="which split of --split-file to keep")
    evaluate.add_argument("--output", help="also write the metrics to this JSON file")
    predict = tasks.add_parser("predict", parents=[_common()], help="predict, one JSON line per sentence")
    predict.add_argument("model_dir", help="folder written by `torchelmo task train`")
    predict.add_argument("input", help="file in the training data's format, or with --text one tokenized "
                                       "sentence per line ('-' for stdin)")
    predict.add_argument("--text", action="store_true", help="INPUT holds one whitespace-tokenized sentence per line")
    predict.add_argument("--output", help="JSON-lines file to write (default: stdout)")
    for command in (evaluate, predict):
        command.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
        command.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    evaluate.set_defaults(func=_run_task_evaluate)
    predict.set_defaults(func=_run_task_predict)


def _run_task_train(args: argparse.Namespace) -> None:
    from .tasks import load_config, train

    train(load_config(args.config), args.output_dir, overwrite=args.overwrite)


def _run_task_evaluate(args: argparse.Namespace) -> None:
    import json

    from .tasks import evaluate_archive
    from .tasks.files import write_json

    if (args.split_file is None) != (args.split is None):
        raise ElmoError("give both --split-file and --split, or neither")
    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    metrics = evaluate_archive(args.model_dir, args.data, args.split_file, args.split, args.batch_size, args.device)
    if args.output:
        write_json(args.output, metrics)
    print(json.dumps(metrics, indent=2))


def _run_task_predict(args: argparse.Namespace) -> None:
    from .tasks import predict_archive

    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    predict_archive(args.model_dir, args.input, args.output, text=args.text, batch_size=args.batch_size,
                    device=args.device)


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
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args.func(args)
    except ElmoError as error:
        if args.verbose:
            raise
        print(f"torchelmo: error: {error}", file=sys.stderr)
        return 130 if isinstance(error.__cause__, KeyboardInterrupt) else 2
    except OSError as error:  # disk full, permission denied, ...
        if args.verbose:
            raise
        print(f"torchelmo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("torchelmo: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
