"""Long documents in windows: deviation from full-length processing, memory and time.

Documents: consecutive UD English-EWT dev sentences joined until each has ``--doc-tokens``
tokens or more. Each is embedded whole (the baseline, this run) and with ``window=N`` for
several windows and overlaps, with the bundled default model in state ``warm`` (a document's
vectors then do not depend on its batch). Printed per LSTM layer: the mean cosine similarity
of each token's vector to the full-length one and the largest absolute difference (layer 0,
the context-free token layer, is identical in every case); ``max |v|`` gives the scale.

Then one sentence of ``--long-tokens`` tokens (EWT dev tokens in order) goes through
``embed_file`` (``--all``) in a fresh process per row, without windows (also a fifth and half
as long) and with some (also 4 times as long, EWT dev read again from its start), batch size
64 or 8, after a short warm-up call (one-time costs excluded): resident memory before embedding, its peak while embedding
(``VmHWM`` after resetting it), the size of the output array, and seconds.

    python -m benchmarks.long_documents                    # the figures in docs/long_documents.md
    python -m benchmarks.long_documents --documents 2 --long-tokens 2000   # quicker
    python -m benchmarks.long_documents --memory-only     # the memory and time table alone
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import numpy as np

from torchelmo import ElmoEmbedder
from torchelmo.sentences import InputPolicy
from torchelmo.windows import Windowing

from benchmarks.embed_throughput import DEFAULT_TEXT, read_sentences

SETTINGS = [(32, 0), (32, 8), (64, 0), (64, 16), (64, 31), (128, 0), (128, 32), (256, 64)]
# (tokens as a multiple of --long-tokens, window, batch size)
MEMORY_RUNS = ((0.2, 0, 64), (0.5, 0, 64), (1, 0, 64), (1, 64, 64), (1, 256, 64), (1, 64, 8), (4, 64, 64),
               (4, 64, 8))
DEV_SENTENCES = 2000  # of the 2,001 in EWT dev (25,147 tokens)


def documents(count: int, min_tokens: int) -> List[List[str]]:
    """``count`` documents of consecutive EWT dev sentences, each ``min_tokens`` tokens or more."""
    docs, current = [], []
    for sentence in read_sentences(DEFAULT_TEXT, DEV_SENTENCES, 1, 10 ** 6):
        current += sentence
        if len(current) >= min_tokens:
            docs.append(current)
            current = []
            if len(docs) == count:
                return docs
    raise SystemExit(f"{DEFAULT_TEXT} has too few tokens for {count} documents of {min_tokens}")


def rss_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last :func:`reset_peak`) of this process, MiB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


def reset_peak() -> None:
    """Make the peak resident size (``VmHWM``) the current one (Linux ``clear_refs`` 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child(tokens: int, window: int, batch_size: int) -> None:
    """Embed one ``tokens``-token sentence with ``embed_file``; print memory and seconds as JSON."""
    text = [t for s in read_sentences(DEFAULT_TEXT, DEV_SENTENCES, 1, 10 ** 6) for t in s]
    sentence = (text * (tokens // len(text) + 1))[:tokens]  # EWT dev in order, again from the start
    embedder = ElmoEmbedder(state="warm")
    with tempfile.TemporaryDirectory() as folder:
        text, output = os.path.join(folder, "in.txt"), os.path.join(folder, "out.hdf5")
        Path(text).write_text(" ".join(sentence) + "\n", encoding="utf-8")
        warm_up = os.path.join(folder, "warm-up.txt")  # one-time costs (kernels, allocator pools, HDF5) first
        Path(warm_up).write_text(" ".join(sentence[:2 * window + 10]) + "\n", encoding="utf-8")
        embedder.embed_file(warm_up, os.path.join(folder, "warm-up.hdf5"), progress=False, window=window,
                            batch_size=batch_size, input_policy=InputPolicy(max_sentence_length=0))
        reset_peak()
        loaded = rss_mib("VmRSS")
        start = time.perf_counter()
        embedder.embed_file(text, output, progress=False, window=window, batch_size=batch_size,
                            input_policy=InputPolicy(max_sentence_length=0))
        seconds = time.perf_counter() - start
        peak = rss_mib("VmHWM")
    print(json.dumps({"loaded_mib": loaded, "peak_mib": peak, "seconds": seconds}))


def deviation(full: List[np.ndarray], windowed: List[np.ndarray], layer: int):
    """Mean cosine similarity over all tokens and max |difference| of ``layer``."""
    a = np.concatenate([f[layer] for f in full])
    b = np.concatenate([w[layer] for w in windowed])
    cosine = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return float(cosine.mean()), float(np.abs(a - b).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=6)
    parser.add_argument("--doc-tokens", type=int, default=500)
    parser.add_argument("--long-tokens", type=int, default=5000)
    parser.add_argument("--memory-only", action="store_true", help="only the memory and time table")
    parser.add_argument("--child", type=int, nargs=3, metavar=("TOKENS", "WINDOW", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    embedder = ElmoEmbedder(state="warm")
    if not args.memory_only:
        deviation_table(embedder, documents(args.documents, args.doc_tokens))
    memory_table(embedder, args.long_tokens)


def deviation_table(embedder: ElmoEmbedder, docs: List[List[str]]) -> None:
    """Windowed against full-length vectors of ``docs``, per window and overlap."""
    start = time.perf_counter()
    full = embedder.embed_batch(docs)
    seconds = time.perf_counter() - start
    scale = max(float(np.abs(f[1:]).max()) for f in full)
    print(f"{len(docs)} documents, {sum(map(len, docs))} tokens ({min(map(len, docs))}-{max(map(len, docs))} "
          f"each), state warm, one batch; full length {seconds:.1f} s; max |v| (layers 1-2) {scale:.2f}")
    print(f"{'window':>7}{'overlap':>8}{'windows':>8}{'cos L1':>9}{'max|d| L1':>11}{'cos L2':>9}{'max|d| L2':>11}"
          f"{'seconds':>9}")
    for window, overlap in SETTINGS:
        start = time.perf_counter()
        windowed = embedder.embed_batch(docs, window=window, window_overlap=overlap)
        seconds = time.perf_counter() - start
        count = sum(len(Windowing(window, overlap).plan(len(d))) for d in docs)
        (c1, d1), (c2, d2) = deviation(full, windowed, 1), deviation(full, windowed, 2)
        print(f"{window:>7}{overlap:>8}{count:>8}{c1:>9.4f}{d1:>11.3f}{c2:>9.4f}{d2:>11.3f}{seconds:>9.1f}")



def memory_table(embedder: ElmoEmbedder, long_tokens: int) -> None:
    """Peak memory and time of one long sentence through ``embed_file``, a fresh process each."""
    print("\none sentence through embed_file (--all), a fresh process each; resident MiB before embedding "
          "and its peak while embedding (after a short warm-up embed_file)")
    print(f"{'tokens':>7}{'window':>7}{'batch':>6}{'RSS MiB':>9}{'peak MiB':>10}{'growth':>8}{'output MiB':>11}"
          f"{'seconds':>9}")
    for times, window, batch_size in MEMORY_RUNS:
        tokens = int(times * long_tokens)
        child = ["--child", str(tokens), str(window), str(batch_size)]
        run = subprocess.run([sys.executable, "-m", "benchmarks.long_documents", *child], check=True,
                             capture_output=True, text=True)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        output_mib = 3 * tokens * embedder.output_dim * 4 / 2 ** 20  # the (3, tokens, dim) float32 array
        print(f"{tokens:>7}{window or 'none':>7}{batch_size:>6}{result['loaded_mib']:>9.0f}{result['peak_mib']:>10.0f}"
              f"{result['peak_mib'] - result['loaded_mib']:>8.0f}{output_mib:>11.1f}{result['seconds']:>9.1f}")


if __name__ == "__main__":
    main()
