"""Throughput and memory by batch size, on a GPU (or the CPU): torchelmo against the plain baseline.

For each batch size (32 to 512 by default) both sides embed the same real English sentences
with the same random weights in the published "original" architecture, statefully, batch
after batch: torchelmo through ``ElmoEmbedder.embed_sentences`` (fp32, and bf16 with
``--precision bf16``), the baseline through ``plain_elmo.PlainElmoBiLm`` (AllenNLP 0.9's
per-timestep algorithm) on the same device. The table gives tokens/s, sentences/s, the peak
device memory while embedding (``torch.cuda.max_memory_allocated``; on the CPU the process's
peak RSS so far, which only grows), the speedup over the baseline at the same batch size,
and the largest absolute difference from the baseline's vectors.

    python -m benchmarks.batch_sizes                               # GPU 0, fp32
    python -m benchmarks.batch_sizes --precision fp32 bf16         # bf16 products too
    python -m benchmarks.batch_sizes --device cpu --quick --batch-sizes 8 16 --sentences 32
"""
import argparse
import resource
import time
from pathlib import Path
from typing import Callable, List, Tuple

import numpy as np
import torch

from torchelmo import ElmoBiLm, ElmoEmbedder, ElmoOptions, save_weights

from benchmarks.embed_throughput import DEFAULT_TEXT, ORIGINAL, QUICK, embed_plain, read_sentences


def measure(run: Callable[[], List[np.ndarray]], device: torch.device) -> Tuple[float, float, List[np.ndarray]]:
    """Seconds, peak memory (MB) and the vectors of ``run()``."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    vectors = run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) / 2 ** 20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return time.perf_counter() - start, peak, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (GPU 0), cuda:N or cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--sentences", type=int, default=1024)
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--quick", action="store_true", help="a small model (LSTM 1024, projection 128)")
    parser.add_argument("--no-baseline", action="store_true", help="time torchelmo only")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="CoNLL-U file to take sentences from")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/elmo-batch-sizes"),
                        help="where the random model is written")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no GPU visible to PyTorch; run with --device cpu")
    sentences = read_sentences(args.text.resolve(), args.sentences, 5, 50)
    tokens = sum(len(s) for s in sentences)
    options = ElmoOptions.from_dict(QUICK if args.quick else ORIGINAL)
    args.workdir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    options.save(args.workdir / "options.json")
    save_weights(ElmoBiLm(options), args.workdir / "weights.hdf5")
    cuda_device = -1 if device.type == "cpu" else (device.index or 0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{'small (--quick)' if args.quick else 'original'} architecture, random weights; {len(sentences)} "
          f"sentences, {tokens} tokens; stateful; {name}; torch {torch.__version__}\n")
    header = f"{'batch':>6}  {'variant':<16}{'tokens/s':>11}{'sent/s':>10}{'peak MB':>10}{'speedup':>9}{'max |diff|':>12}"
    print(header)
    print("-" * len(header))
    for batch_size in args.batch_sizes:
        baseline = None
        if not args.no_baseline:
            bilm = ElmoBiLm.from_files(args.workdir / "options.json", args.workdir / "weights.hdf5").to(device).eval()
            baseline = measure(lambda b=bilm: embed_plain(b, sentences, batch_size, True, device), device)
            del bilm
            print(f"{batch_size:>6}  {'baseline':<16}{tokens / baseline[0]:>11.1f}{len(sentences) / baseline[0]:>10.2f}"
                  f"{baseline[1]:>10.0f}{'1.00x':>9}{'-':>12}")
        for precision in args.precision:
            embedder = ElmoEmbedder(args.workdir / "options.json", args.workdir / "weights.hdf5",
                                    cuda_device=cuda_device, precision=precision)
            embedder.embed_batch(sentences[:2])  # kernel selection and allocation outside the timing
            embedder.reset_states()
            seconds, peak, vectors = measure(lambda e=embedder: list(e.embed_sentences(sentences, batch_size)), device)
            del embedder
            speedup = f"{baseline[0] / seconds:.2f}x" if baseline else "-"
            diff = f"{max(float(np.abs(a - b).max()) for a, b in zip(vectors, baseline[2])):.1e}" if baseline else "-"
            print(f"{batch_size:>6}  {'torchelmo-' + precision:<16}{tokens / seconds:>11.1f}"
                  f"{len(sentences) / seconds:>10.2f}{peak:>10.0f}{speedup:>9}{diff:>12}")


if __name__ == "__main__":
    main()
