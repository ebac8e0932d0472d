"""The ``elmo`` spaCy component's cost over the embedder it wraps, and its memory on a long document.

Speed: the first ``--sentences`` EWT dev sentences as spaCy Docs (the treebank's tokens, so no
tokenizer time on either side), bundled model, state ``warm``, CPU. Rows, each the best of
``--repeats`` alternating runs in this process, timed in CPU seconds of this process
(``time.process_time``, all threads; steady on a shared machine, where wall time is not):
``ElmoEmbedder.embed_sentences`` (input order, batch size ``--batch-size``), ``ElmoEmbedder.embed_batches`` on the batches the component forms
(sorted by length, ``--batch-tokens`` padded tokens each), and ``nlp.pipe`` through the
component (same budget). The overhead is the component against the second row (the same ELMo
work; what the component adds: grouping, ``doc._.elmo``, ``doc.tensor``, hooks).

Memory: one ``--long-tokens``-token document (EWT dev tokens in order) through the component
in a fresh process per row, without a window and with ``--window``: resident memory before,
its peak (``VmHWM`` after a reset) while embedding, and CPU seconds.

    python -m benchmarks.spacy_pipe --repeats 5          # the figures in docs/spacy.md
    python -m benchmarks.spacy_pipe --sentences 100 --long-tokens 2000   # quicker
"""
import argparse
import json
import subprocess
import sys
import time
from typing import Callable, List

import spacy
import torch
from spacy.tokens import Doc

import torchelmo.integrations.spacy  # noqa: F401  (registers the factory without the entry point)
from torchelmo.integrations.spacy.batching import budget_batches

from benchmarks.embed_throughput import DEFAULT_TEXT, read_sentences
from benchmarks.long_documents import DEV_SENTENCES, reset_peak, rss_mib


def pipeline(batch_tokens: int, window: int = 0) -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("elmo", config={"batch_tokens": batch_tokens, "window": window})
    return nlp


def best_seconds(runs: List[Callable[[], None]], repeats: int) -> List[float]:
    """Each run's best CPU seconds over ``repeats`` rounds, the runs alternating within a round."""
    best = [float("inf")] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.process_time()
            run()
            best[i] = min(best[i], time.process_time() - start)
    return best


def speed_table(args: argparse.Namespace) -> None:
    sentences = read_sentences(DEFAULT_TEXT, args.sentences, 1, 10 ** 6)
    tokens = sum(map(len, sentences))
    nlp = pipeline(args.batch_tokens)
    component = nlp.get_pipe("elmo")
    embedder = component.embedder
    groups = budget_batches([len(s) for s in sentences], args.batch_tokens)
    batches = [[sentences[i] for i in group] for group in groups]
    docs = [Doc(nlp.vocab, words=words) for words in sentences]  # made once: the component's input
    nlp(Doc(nlp.vocab, words=sentences[0]))  # one-time costs first

    def piped() -> None:
        for _ in nlp.pipe(docs):
            pass

    runs = [lambda: list(embedder.embed_sentences(sentences, batch_size=args.batch_size)),
            lambda: embedder.embed_batches(batches), piped]
    names = [f"ElmoEmbedder.embed_sentences (batch size {args.batch_size})",
             f"ElmoEmbedder.embed_batches (component's batches)", f"nlp.pipe + elmo (batch_tokens {args.batch_tokens})"]
    seconds = best_seconds(runs, args.repeats)
    print(f"{len(sentences)} EWT dev sentences, {tokens} tokens; best of {args.repeats}, CPU seconds; "
          f"torch threads {torch.get_num_threads()}")
    print(f"{'run':<52} {'docs/CPU s':>10} {'tokens/CPU s':>12} {'vs same batches':>16}")
    for name, s in zip(names, seconds):
        print(f"{name:<52} {len(sentences) / s:10.1f} {tokens / s:12.0f} {100 * (s / seconds[1] - 1):+15.1f}%")


def child(tokens: int, window: int, batch_tokens: int) -> None:
    """One ``tokens``-token document through the component; memory and seconds as JSON."""
    text = [t for s in read_sentences(DEFAULT_TEXT, DEV_SENTENCES, 1, 10 ** 6) for t in s]
    words = (text * (tokens // len(text) + 1))[:tokens]
    nlp = pipeline(batch_tokens, window)
    nlp(Doc(nlp.vocab, words=words[:2 * window + 10]))  # loads the model; one-time costs first
    reset_peak()
    loaded = rss_mib("VmRSS")
    start = time.process_time()
    doc = nlp(Doc(nlp.vocab, words=words))
    seconds = time.process_time() - start
    print(json.dumps({"loaded_mib": loaded, "peak_mib": rss_mib("VmHWM"), "seconds": seconds,
                      "output_mib": doc._.elmo.nbytes / 2 ** 20}))


def memory_table(args: argparse.Namespace) -> None:
    print(f"\none {args.long_tokens}-token document, batch_tokens {args.batch_tokens}, fresh process per row")
    print(f"{'window':>8} {'loaded MiB':>11} {'peak MiB':>9} {'added MiB':>10} {'doc._.elmo MiB':>15} {'CPU s':>8}")
    for window in (0, args.window):
        command = [sys.executable, "-m", "benchmarks.spacy_pipe", "--threads", str(args.threads), "--child", str(args.long_tokens),
                   str(window), str(args.batch_tokens)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        row = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{window or 'none':>8} {row['loaded_mib']:11.0f} {row['peak_mib']:9.0f} "
              f"{row['peak_mib'] - row['loaded_mib']:10.0f} {row['output_mib']:15.1f} {row['seconds']:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batch-tokens", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-tokens", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--child", type=int, nargs=3, metavar=("TOKENS", "WINDOW", "BATCH_TOKENS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        child(*args.child)
        return
    speed_table(args)
    memory_table(args)


if __name__ == "__main__":
    main()
