"""Long documents in windows: deviation from full-length processing, memory and time.

Documents: consecutive UD English-EWT dev sentences joined until each has ``--doc-tokens``
tokens or more. Each is embedded whole (the baseline, this run) and with ``window=N`` for
several windows and overlaps, with the bundled default model in state ``warm`` (a document's
vectors then do not depend on its batch). Printed per LSTM layer: the mean cosine similarity
of each token's vector to the full-length one and the largest absolute difference (layer 0,
the context-free token layer, is identical in every case); ``max |v|`` gives the scale.

Then one sentence of ``--long-tokens`` tokens (EWT dev tokens in order) goes through
``embed_file`` (``--all``, batch size 64) in a fresh process per row, without windows and with
some: peak resident memory (``ru_maxrss``) after loading the model and at the end, and seconds.

    python benchmarks/long_documents.py                    # the figures in docs/long_documents.md
    python benchmarks/long_documents.py --documents 2 --long-tokens 2000   # quicker
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from embed_throughput import DEFAULT_TEXT, read_sentences  # noqa: E402

from torchelmo import ElmoEmbedder  # noqa: E402
from torchelmo.sentences import InputPolicy  # noqa: E402
from torchelmo.windows import Windowing  # noqa: E402

SETTINGS = [(32, 0), (32, 8), (64, 0), (64, 16), (64, 31), (128, 0), (128, 32), (256, 64)]
MEMORY_WINDOWS = (0, 64, 256)


def documents(count: int, min_tokens: int) -> List[List[str]]:
    """``count`` documents of consecutive EWT dev sentences, each ``min_tokens`` tokens or more."""
    docs, current = [], []
    for sentence in read_sentences(DEFAULT_TEXT, 10 ** 6, 1, 10 ** 6):
        current += sentence
        if len(current) >= min_tokens:
            docs.append(current)
            current = []
            if len(docs) == count:
                return docs
    raise SystemExit(f"{DEFAULT_TEXT} has too few tokens for {count} documents of {min_tokens}")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(tokens: int, window: int) -> None:
    """Embed one ``tokens``-token sentence with ``embed_file``; print peak memory and seconds as JSON."""
    sentence = documents(1, tokens)[0][:tokens]
    embedder = ElmoEmbedder(state="warm")
    loaded = peak_mib()
    with tempfile.TemporaryDirectory() as folder:
        text, output = os.path.join(folder, "in.txt"), os.path.join(folder, "out.hdf5")
        Path(text).write_text(" ".join(sentence) + "\n", encoding="utf-8")
        start = time.perf_counter()
        embedder.embed_file(text, output, progress=False, window=window,
                            input_policy=InputPolicy(max_sentence_length=0))
        seconds = time.perf_counter() - start
    print(json.dumps({"loaded_mib": loaded, "peak_mib": peak_mib(), "seconds": seconds}))


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
    parser.add_argument("--child", type=int, nargs=2, metavar=("TOKENS", "WINDOW"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    docs = documents(args.documents, args.doc_tokens)
    embedder = ElmoEmbedder(state="warm")
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

    print(f"\none sentence of {args.long_tokens} tokens through embed_file, fresh process each")
    print(f"{'window':>7}{'MiB after load':>15}{'peak MiB':>10}{'growth MiB':>11}{'seconds':>9}")
    for window in MEMORY_WINDOWS:
        run = subprocess.run([sys.executable, __file__, "--child", str(args.long_tokens), str(window)],
                             check=True, capture_output=True, text=True)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{window or 'none':>7}{result['loaded_mib']:>15.0f}{result['peak_mib']:>10.0f}"
              f"{result['peak_mib'] - result['loaded_mib']:>11.0f}{result['seconds']:>9.1f}")
    output_mib = 3 * args.long_tokens * embedder.output_dim * 4 / 2 ** 20
    print(f"(the (3, {args.long_tokens}, {embedder.output_dim}) float32 output itself: {output_mib:.1f} MiB)")


if __name__ == "__main__":
    main()
