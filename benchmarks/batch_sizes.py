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

The sentences come from UD English-EWT dev in ``../shared/`` beside the repository; ``--text
FILE`` or ``$TORCHELMO_BENCH_TEXT`` names another CoNLL-U file. ``gpu_smoke.py`` runs the same
table on the bundled warm-up text.
"""
import argparse
import resource
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from torchelmo import ElmoBiLm, ElmoEmbedder, ElmoOptions, save_weights

from benchmarks.embed_throughput import DEFAULT_TEXT, ORIGINAL, QUICK, TEXT_VARIABLE, embed_plain, read_sentences


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


def run(sentences: List[List[str]], device: torch.device, batch_sizes: Sequence[int],
        precisions: Sequence[str] = ("fp32",), architecture: Dict = ORIGINAL, baseline: bool = True,
        workdir: Path = Path("/tmp/elmo-batch-sizes")) -> List[Dict[str, object]]:
    """Print the table for ``sentences`` on ``device`` with random weights of ``architecture``
    (an options dict) and return its rows (batch, variant, tokens/s, sentences/s, peak MB,
    speedup, max |diff|; None where there is no baseline)."""
    tokens = sum(len(s) for s in sentences)
    options = ElmoOptions.from_dict(architecture)
    workdir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    options.save(workdir / "options.json")
    save_weights(ElmoBiLm(options), workdir / "weights.hdf5")
    cuda_device = -1 if device.type == "cpu" else (device.index or 0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{'original' if architecture is ORIGINAL else 'small'} architecture, random weights; {len(sentences)} "
          f"sentences, {tokens} tokens; stateful; {name}; torch {torch.__version__}\n")
    header = f"{'batch':>6}  {'variant':<16}{'tokens/s':>11}{'sent/s':>10}{'peak MB':>10}{'speedup':>9}{'max |diff|':>12}"
    print(header)
    print("-" * len(header))
    rows: List[Dict[str, object]] = []

    def report(batch_size: int, variant: str, measured: Tuple[float, float, List[np.ndarray]],
               reference: Optional[Tuple[float, float, List[np.ndarray]]]) -> None:
        """One row; ``reference`` is the baseline's measurement (``measured`` itself for the baseline)."""
        seconds, peak, vectors = measured
        speedup = reference[0] / seconds if reference else None
        compared = reference is not None and reference is not measured
        diff = max(float(np.abs(a - b).max()) for a, b in zip(vectors, reference[2])) if compared else None
        rows.append({"batch": batch_size, "variant": variant, "tokens_per_s": tokens / seconds,
                     "sentences_per_s": len(sentences) / seconds, "peak_mb": peak, "speedup": speedup,
                     "max_diff": diff})
        print(f"{batch_size:>6}  {variant:<16}{tokens / seconds:>11.1f}{len(sentences) / seconds:>10.2f}{peak:>10.0f}"
              f"{'-' if speedup is None else f'{speedup:.2f}x':>9}{'-' if diff is None else f'{diff:.1e}':>12}")

    for batch_size in batch_sizes:
        reference = None
        if baseline:
            bilm = ElmoBiLm.from_files(workdir / "options.json", workdir / "weights.hdf5").to(device).eval()
            reference = measure(lambda b=bilm: embed_plain(b, sentences, batch_size, True, device), device)
            del bilm
            report(batch_size, "baseline", reference, reference)
        for precision in precisions:
            embedder = ElmoEmbedder(workdir / "options.json", workdir / "weights.hdf5",
                                    cuda_device=cuda_device, precision=precision)
            embedder.embed_batch(sentences[:2])  # kernel selection and allocation outside the timing
            embedder.reset_states()
            measured = measure(lambda e=embedder: list(e.embed_sentences(sentences, batch_size)), device)
            del embedder
            report(batch_size, "torchelmo-" + precision, measured, reference)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (GPU 0), cuda:N or cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--sentences", type=int, default=1024)
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    parser.add_argument("--quick", action="store_true", help="a small model (LSTM 1024, projection 128)")
    parser.add_argument("--no-baseline", action="store_true", help="time torchelmo only")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT,
                        help=f"CoNLL-U file to take sentences from (default ${TEXT_VARIABLE}, else UD English-EWT "
                             f"dev in ../shared)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/elmo-batch-sizes"),
                        help="where the random model is written")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no GPU visible to PyTorch; run with --device cpu")
    sentences = read_sentences(args.text.resolve(), args.sentences, 5, 50)
    run(sentences, device, args.batch_sizes, args.precision, QUICK if args.quick else ORIGINAL, not args.no_baseline,
        args.workdir)


if __name__ == "__main__":
    main()
