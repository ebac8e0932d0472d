"""Tokens/s of the exported ONNX graph on onnxruntime (CPU) against torchelmo, same threads.

Both embed the same real English sentences (UD English-EWT dev, 16-36 tokens) with the same
random weights in the published "original" architecture (``--quick``: a small one), every
sentence from the zero state, at batch sizes 1 and 64: torchelmo through
``ElmoEmbedder(state="zero").embed_batch`` batch after batch, onnxruntime through the graph of
``torchelmo.export_onnx`` (character ids from ``torchelmo.char_ids``, numpy in and out). Both
use ``--threads`` threads (torch.set_num_threads; onnxruntime's intra-op pool, one inter-op
thread). The table gives tokens/s, the ratio (torchelmo's time over onnxruntime's) and the
largest absolute difference between their vectors, which must stay under 1e-4.

Random weights: ``--init default`` is ElmoBiLm's own initialisation (as the other benchmarks);
``--init uniform`` draws every weight from U(-0.1, 0.1), which drives the 4096-cell LSTM into
saturated, chaotic dynamics where fp32 rounding grows over the timesteps: there the last two
columns give, on the first 4 sentences, the distance of each side from a float64 run of the
plain per-timestep reference (``plain_elmo.py``), the yardstick, and from each other.

    python -m benchmarks.onnx_speed                 # original size: the figures in docs/onnx.md
    python -m benchmarks.onnx_speed --init uniform  # the ill-conditioned regime, with the float64 yardstick
    python -m benchmarks.onnx_speed --quick         # a small model, seconds
"""
import argparse
import copy
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

import numpy as np
import onnxruntime
import torch

from torchelmo import ElmoBiLm, ElmoEmbedder, ElmoOptions, batch_to_ids, export_onnx, save_weights
from torchelmo.char_ids import batch_char_ids

from benchmarks.embed_throughput import DEFAULT_TEXT, ORIGINAL, QUICK, read_sentences
from benchmarks.plain_elmo import PlainElmoBiLm

TOLERANCE = 1e-4
YARDSTICK_SENTENCES = 4  # compared with the float64 reference under --init uniform


def timed(run: Callable[[list], List[np.ndarray]], batches: list) -> Tuple[float, List[np.ndarray]]:
    """Seconds and vectors of ``run(batches)``, after a warm-up on the first batch (first-call
    allocations and kernel selection)."""
    run(batches[:1])
    start = time.perf_counter()
    vectors = run(batches)
    return time.perf_counter() - start, vectors


def float64_distances(bilm: ElmoBiLm, sentences, expected: List[np.ndarray], actual: List[np.ndarray]
                      ) -> Tuple[float, float, float]:
    """On ``sentences`` (whose torchelmo vectors are ``expected``, onnxruntime's ``actual``):
    the largest distance of each from a float64 run of the plain reference, and from each other."""
    reference, _ = PlainElmoBiLm(copy.deepcopy(bilm).double(), stateful=False).embed_layers(batch_to_ids(sentences))
    exact = [reference[i, :, :len(s)].numpy() for i, s in enumerate(sentences)]
    return (max(float(np.abs(v - x).max()) for v, x in zip(expected, exact)),
            max(float(np.abs(v - x).max()) for v, x in zip(actual, exact)),
            max(float(np.abs(v - x).max()) for v, x in zip(actual, expected)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small model (LSTM 1024, projection 128)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--sentences", type=int, nargs="+", default=[16, 128],
                        help="sentences embedded at each batch size (default 16 at batch 1, 128 at 64)")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT,
                        help="CoNLL-U file to take sentences from (default: UD English-EWT dev in ../shared, or $TORCHELMO_BENCH_TEXT)")
    parser.add_argument("--init", choices=("default", "uniform"), default="default",
                        help="random weights: ElmoBiLm's initialisation, or U(-0.1, 0.1) everywhere (see above)")
    args = parser.parse_args()
    if len(args.sentences) != len(args.batch_sizes):
        parser.error("give one --sentences count per --batch-sizes entry")

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    options = ElmoOptions.from_dict(QUICK if args.quick else ORIGINAL)
    with tempfile.TemporaryDirectory() as workdir:
        bilm = ElmoBiLm(options).eval()
        if args.init == "uniform":
            for parameter in bilm.parameters():
                torch.nn.init.uniform_(parameter, -0.1, 0.1)
        save_weights(bilm, Path(workdir, "weights.hdf5"))
        options.save(Path(workdir, "options.json"))
        embedder = ElmoEmbedder(Path(workdir, "options.json"), Path(workdir, "weights.hdf5"), state="zero")
        graph_path = export_onnx(Path(workdir, "elmo.onnx"), Path(workdir, "options.json"),
                                 Path(workdir, "weights.hdf5"))
        size_mb = os.path.getsize(graph_path) / 1e6
        weights_mb = os.path.getsize(Path(workdir, "weights.hdf5")) / 1e6
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = args.threads
        session_options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(graph_path, session_options, providers=["CPUExecutionProvider"])

        print(f"{'original' if not args.quick else 'quick'} architecture, {args.init} random weights; ONNX file {size_mb:.1f} MB "
              f"(weights.hdf5 {weights_mb:.1f} MB); {args.threads} threads; onnxruntime {onnxruntime.__version__}, "
              f"torch {torch.__version__}")
        print(f"{'batch':>5} {'sentences':>9} {'tokens':>7} {'torchelmo tok/s':>16} {'onnxruntime tok/s':>18} "
              f"{'ratio':>6} {'max |diff|':>11}"
              + (f"   on {YARDSTICK_SENTENCES}: {'torch-f64':>10} {'onnx-f64':>10} {'torch-onnx':>10}"
                 if args.init == "uniform" else ""))
        failed = False
        for batch_size, count in zip(args.batch_sizes, args.sentences):
            sentences = read_sentences(args.text, count, 16, 36)
            batches = [sentences[i:i + batch_size] for i in range(0, len(sentences), batch_size)]
            tokens = sum(map(len, sentences))

            def run_torch(batches: list) -> List[np.ndarray]:
                return [v for batch in batches for v in embedder.embed_batch(batch)]

            def run_onnx(batches: list) -> List[np.ndarray]:
                vectors = []
                for batch in batches:
                    layers, = session.run(["layers"], {"char_ids": np.array(batch_char_ids(batch), dtype=np.int64)})
                    vectors.extend(layers[:, row, :len(sentence)] for row, sentence in enumerate(batch))
                return vectors

            torch_seconds, expected = timed(run_torch, batches)
            onnx_seconds, actual = timed(run_onnx, batches)
            diff = max(float(np.abs(a - e).max()) for a, e in zip(actual, expected))
            line = (f"{batch_size:>5} {len(sentences):>9} {tokens:>7} {tokens / torch_seconds:>16.0f} "
                    f"{tokens / onnx_seconds:>18.0f} {torch_seconds / onnx_seconds:>6.2f} {diff:>11.2e}")
            if args.init == "uniform":
                n = YARDSTICK_SENTENCES
                line += "        {:>10.2e} {:>10.2e} {:>10.2e}".format(
                    *float64_distances(bilm, sentences[:n], expected[:n], actual[:n]))
            else:
                failed |= diff > TOLERANCE
            print(line, flush=True)
    if failed:
        raise SystemExit(f"the graph deviates from torchelmo by more than {TOLERANCE}")


if __name__ == "__main__":
    main()
