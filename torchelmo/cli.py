"""The ``torchelmo`` command line. Thin: parses flags and calls the library.

Errors a user can fix (missing files, bad options, bad input) print one line and exit
with status 2; ``--verbose`` shows the traceback too.
"""
import argparse
import logging
import os
import sys
from typing import List, Optional

from .errors import ElmoError

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
    p.add_argument("--batch-size", type=int, default=64, help="sentences per batch (default 64)")
    p.add_argument("--cuda-device", type=int, default=-1, help="GPU index; -1 for CPU (default)")
    p.add_argument("--forget-sentences", action="store_true",
                   help="do not store the sentence_to_index JSON map")
    p.add_argument("--use-sentence-keys", action="store_true",
                   help="key datasets by sentence text instead of line index")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(func=_run_embed)


def _run_embed(args: argparse.Namespace) -> None:
    from .embedder import ElmoEmbedder

    if args.batch_size < 1:
        raise ElmoError(f"--batch-size must be positive, got {args.batch_size}")
    if os.path.exists(args.output_file) and not args.overwrite:
        raise ElmoError(f"{args.output_file}: already exists; pass --overwrite to replace it")
    output_format = "all" if args.all else "top" if args.top else "average"
    embedder = ElmoEmbedder(args.options_file, args.weight_file, cuda_device=args.cuda_device)
    embedder.embed_file(args.input_file, args.output_file, output_format=output_format,
                        batch_size=args.batch_size, forget_sentences=args.forget_sentences,
                        use_sentence_keys=args.use_sentence_keys)
    logger.info("Wrote %s", args.output_file)


def _common() -> argparse.ArgumentParser:
    """Flags every subcommand takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="debug logging and full tracebacks")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="torchelmo", description="Fast, drop-in ELMo for PyTorch.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_embed_parser(subparsers)
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
        return 2
    except OSError as error:  # disk full, permission denied, ...: nothing partial is left behind
        if args.verbose:
            raise
        print(f"torchelmo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("torchelmo: interrupted; no output was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
