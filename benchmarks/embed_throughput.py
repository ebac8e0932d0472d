"""Embedding throughput: torchelmo's ElmoEmbedder against a plain per-timestep baseline.

Both embed the same sentences with the same random weights in the published "original"
architecture (char CNN filters [[1,32],...,[7,1024]], 2 highway layers, projection 512, LSTM
4096, 2 layers), batch after batch, statefully, as ``allennlp elmo`` does. The baseline is
``plain_elmo.PlainElmoBiLm`` (AllenNLP 0.9's algorithm: char CNN on every padded position,
two GEMMs per LSTM step and direction, state clones). Each variant runs in a fresh child
process so that its peak memory (``ru_maxrss``, the resident set size) is its own; the table
gives tokens/s, sentences/s, peak RSS, the RSS growth while embedding, the speedup over the
baseline measured in this same run, and the largest absolute difference from the baseline's
vectors. ``torchelmo`` is ``ElmoEmbedder.embed_sentences`` (consecutive batches run as row
streams); ``torchelmo-per-batch`` calls ``embed_batch`` batch after batch instead. Sentences are real English (UD English-EWT dev, lengths 16-36 tokens, mean ~25).

    python -m benchmarks.embed_throughput                 # the figures in docs/speed.md
    python -m benchmarks.embed_throughput --quick         # a small model, seconds
    python -m benchmarks.embed_throughput --profile       # where the time goes (torch.profiler)
    python -m benchmarks.embed_throughput --precision int8 bf16 --compile   # optional modes too
    python -m benchmarks.embed_throughput --stateless     # both sides without carried state
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
from typing import Dict, List, Tuple

import numpy as np
import torch

from torchelmo import ElmoBiLm, ElmoEmbedder, ElmoOptions, batch_to_ids, save_weights
from torchelmo.gemm import onednn_linear_available, unsupported_reason

from benchmarks.plain_elmo import PlainElmoBiLm

ORIGINAL = {"char_cnn": {"activation": "relu", "embedding": {"dim": 16}, "n_highway": 2, "n_characters": 262,
                         "filters": [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]]},
            "lstm": {"cell_clip": 3, "dim": 4096, "n_layers": 2, "proj_clip": 3, "projection_dim": 512,
                     "use_skip_connections": True}}
QUICK = {"char_cnn": {"activation": "relu", "embedding": {"dim": 16}, "n_highway": 2, "n_characters": 262,
                      "filters": [[1, 32], [2, 32], [3, 64], [4, 128]]},
         "lstm": {"cell_clip": 3, "dim": 1024, "n_layers": 2, "proj_clip": 3, "projection_dim": 128,
                  "use_skip_connections": True}}
DEFAULT_TEXT = Path(__file__).resolve().parents[1] / "../shared/data/ud-english-ewt/en_ewt-ud-dev.conllu"
GEMM_OPS = ("mm", "addmm", "bmm", "baddbmm", "linear", "_linear_pointwise", "convolution", "linear_dynamic")


def read_texts(path: Path, count: int, min_tokens: int, max_tokens: int) -> List[Tuple[str, List[str]]]:
    """The first ``count`` sentences of a CoNLL-U file with ``min_tokens..max_tokens`` tokens, as
    ``(raw text, tokens)``: the ``# text =`` comment and the word forms."""
    sentences, text, tokens = [], "", []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if min_tokens <= len(tokens) <= max_tokens:
                    sentences.append((text, tokens))
                text, tokens = "", []
            elif line.startswith("# text = "):
                text = line[len("# text = "):]
            elif not line.startswith("#"):
                fields = line.split("\t")
                if fields[0].isdigit():  # skip multiword ranges (1-2) and empty nodes (1.1)
                    tokens.append(fields[1])
            if len(sentences) == count:
                break
    if len(sentences) < count:
        raise SystemExit(f"{path}: only {len(sentences)} sentences of {min_tokens}-{max_tokens} tokens")
    return sentences


def read_sentences(path: Path, count: int, min_tokens: int, max_tokens: int) -> List[List[str]]:
    """The tokens of :func:`read_texts`'s sentences."""
    return [tokens for _, tokens in read_texts(path, count, min_tokens, max_tokens)]


def flops_per_sentence(options: ElmoOptions, tokens: int) -> float:
    """Model FLOPs for one sentence (with ``<S>``/``</S>``), no padding, no reuse."""
    cnn, lstm = options.char_cnn, options.lstm
    positions = tokens + 2
    conv = sum(2 * width * cnn.embedding_dim * num * (50 - width + 1) for width, num in cnn.filters)
    dense = 2 * cnn.n_highway * cnn.n_filters * 2 * cnn.n_filters + 2 * cnn.n_filters * lstm.projection_dim
    inputs = [lstm.projection_dim] * lstm.n_layers
    recurrent = sum(2 * 2 * (4 * lstm.dim * (d + lstm.projection_dim) + lstm.dim * lstm.projection_dim) for d in inputs)
    return positions * (conv + dense + recurrent)


def gemm_peak_gflops() -> Dict[str, float]:
    """Best GFLOP/s of a 2048^3 fp32 product: torch.mm (BLAS) and oneDNN's linear."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    kernels = {"torch.mm": lambda: torch.mm(a, b)}
    if onednn_linear_available():
        kernels["oneDNN"] = lambda: torch.ops.mkldnn._linear_pointwise(a, b, None, "none", [], "")
    best = {}
    for name, kernel in kernels.items():
        kernel()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            kernel()
            times.append(time.perf_counter() - start)
        best[name] = 2 * 2048 ** 3 / min(times) / 1e9
    return best


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def embed_plain(bilm: ElmoBiLm, sentences, batch_size: int, stateful: bool,
                device: torch.device = torch.device("cpu")) -> List[np.ndarray]:
    """The baseline's vectors, ``(3, tokens, dim)`` per sentence, batch after batch on ``device``."""
    plain = PlainElmoBiLm(bilm, stateful=stateful)
    vectors = []
    for i in range(0, len(sentences), batch_size):
        batch = sentences[i:i + batch_size]
        layers, mask = plain.embed_layers(batch_to_ids(batch).to(device))
        layers = layers.cpu().numpy()
        vectors.extend(layers[k, :, :n] for k, n in enumerate(mask.sum(dim=1).tolist()))
    return vectors


def profile_table(run, rows: int = 12) -> str:
    """torch.profiler's top operators by self CPU time, and the share of GEMM/conv ops."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    gemm = sum(e.self_cpu_time_total for e in events if e.key.split("::")[-1] in GEMM_OPS)
    return (f"GEMM/conv ops: {100 * gemm / total:.0f}% of self CPU time\n"
            + events.table(sort_by="self_cpu_time_total", row_limit=rows))


def child(args: argparse.Namespace) -> None:
    """One variant, timed in this process; writes its result JSON and vectors."""
    torch.set_num_threads(args.threads)
    spec = json.loads(args.child)
    sentences = json.loads(Path(args.workdir, "sentences.json").read_text())
    options_file, weight_file = Path(args.workdir, "options.json"), Path(args.workdir, "weights.hdf5")
    if spec["name"] == "baseline":
        bilm = ElmoBiLm.from_files(options_file, weight_file).eval()

        def run():
            return embed_plain(bilm, sentences, args.batch_size, not args.stateless)

        def reset():
            pass
    else:
        embedder = ElmoEmbedder(options_file, weight_file, stateful=not args.stateless,
                                precision=spec["precision"], compile=spec["compile"])

        def run():
            if spec.get("per_batch"):
                return [v for i in range(0, len(sentences), args.batch_size)
                        for v in embedder.embed_batch(sentences[i:i + args.batch_size])]
            return list(embedder.embed_sentences(sentences, args.batch_size))

        def reset():
            embedder.reset_states()
    if spec["name"] != "baseline" and (spec["compile"] or args.warmup):
        embedder.embed_batch(sentences[:2])  # compilation / kernel selection outside the timing
        reset()
    before = rss_mb()
    start = time.perf_counter()
    vectors = run()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"seconds": seconds, "peak_mb": peak, "growth_mb": peak - before}
    np.savez(Path(args.workdir, f"{spec['name']}.npz"), *vectors)
    if args.profile:
        short = sentences[:args.batch_size]
        if spec["name"] == "baseline":
            result["profile"] = profile_table(lambda: embed_plain(bilm, short, args.batch_size, not args.stateless))
        else:
            reset()
            result["profile"] = profile_table(lambda: list(embedder.embed_sentences(short, args.batch_size)))
    Path(args.workdir, f"{spec['name']}.json").write_text(json.dumps(result))


def run_variant(args: argparse.Namespace, spec: dict) -> dict:
    command = [sys.executable, "-m", "benchmarks.embed_throughput", "--child", json.dumps(spec),
               "--workdir", args.workdir, "--threads", str(args.threads), "--batch-size", str(args.batch_size)]
    command += ["--profile"] * args.profile + ["--warmup"] * args.warmup + ["--stateless"] * args.stateless
    subprocess.run(command, check=True)
    return json.loads(Path(args.workdir, f"{spec['name']}.json").read_text())


def max_difference(workdir: str, name: str) -> float:
    with np.load(Path(workdir, "baseline.npz")) as want, np.load(Path(workdir, f"{name}.npz")) as got:
        return max(float(np.abs(got[k] - want[k]).max()) for k in want.files if want[k].size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="a small model (LSTM 1024, projection 128)")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="CoNLL-U file to take sentences from")
    parser.add_argument("--min-tokens", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=36)
    parser.add_argument("--rounds", type=int, default=1, help="run every variant this often; report the fastest")
    parser.add_argument("--precision", nargs="*", default=[], choices=["bf16", "int8"],
                        help="also time these reduced-precision modes")
    parser.add_argument("--compile", action="store_true", help="also time compile=True")
    parser.add_argument("--stateless", action="store_true", help="both sides stateless (default: stateful)")
    parser.add_argument("--warmup", action="store_true", help="embed 2 sentences before timing torchelmo")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler tables (one batch)")
    parser.add_argument("--workdir", help="keep the random model, sentences and vectors here (default: a "
                                          "temporary directory)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    torch.set_num_threads(args.threads)
    options = ElmoOptions.from_dict(QUICK if args.quick else ORIGINAL)
    sentences = read_sentences(args.text.resolve(), args.sentences, args.min_tokens, args.max_tokens)
    tokens = sum(len(s) for s in sentences)
    flops = sum(flops_per_sentence(options, len(s)) for s in sentences)
    peaks = gemm_peak_gflops()
    peak = max(peaks.values())
    variants = [{"name": "baseline"}, {"name": "torchelmo", "precision": "fp32", "compile": False},
                {"name": "torchelmo-per-batch", "precision": "fp32", "compile": False, "per_batch": True}]
    variants += [{"name": f"torchelmo-{p}", "precision": p, "compile": False} for p in args.precision]
    if args.compile:
        variants.append({"name": "torchelmo-compile", "precision": "fp32", "compile": True})
    missing = {v["name"]: unsupported_reason(v["precision"], v["compile"]) for v in variants[1:]}
    for name, reason in missing.items():
        if reason is not None:
            print(f"skipping {name}: {reason}")
    variants = [v for v in variants if missing.get(v["name"]) is None]

    with tempfile.TemporaryDirectory(prefix="elmo-bench-") as temporary:
        workdir = args.workdir = args.workdir or temporary
        os.makedirs(workdir, exist_ok=True)
        torch.manual_seed(0)
        bilm = ElmoBiLm(options)
        options.save(Path(workdir, "options.json"))
        save_weights(bilm, Path(workdir, "weights.hdf5"))
        del bilm
        Path(workdir, "sentences.json").write_text(json.dumps(sentences))
        results: Dict[str, dict] = {}
        for _ in range(args.rounds):
            for spec in variants:
                result = run_variant(args, spec)
                if spec["name"] not in results or result["seconds"] < results[spec["name"]]["seconds"]:
                    results[spec["name"]] = result
        differences = {spec["name"]: max_difference(workdir, spec["name"]) for spec in variants[1:]}

    n_params = "93.6M-parameter 'original'" if not args.quick else "small (--quick)"
    print(f"{n_params} architecture, random weights; {len(sentences)} sentences, {tokens} tokens "
          f"(mean {tokens / len(sentences):.1f}), batch {args.batch_size}, "
          f"{'stateless' if args.stateless else 'stateful'}, "
          f"{args.threads} threads, torch {torch.__version__}")
    print("fp32 GEMM peak (2048^3): " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peaks.items()))
    print(f"model work: {flops / tokens / 1e9:.3f} GFLOP per token (LSTM over <S>/</S> too, no padding)\n")
    header = (f"{'variant':<20}{'tokens/s':>10}{'sent/s':>9}{'peak RSS MB':>13}{'RSS growth MB':>15}"
              f"{'speedup':>9}{'model GFLOP/s':>15}{'% of peak':>11}{'max |diff|':>12}")
    print(header)
    print("-" * len(header))
    base = results["baseline"]["seconds"]
    for spec in variants:
        r = results[spec["name"]]
        rate = flops / r["seconds"] / 1e9
        diff = f"{differences[spec['name']]:.1e}" if spec["name"] in differences else "-"
        print(f"{spec['name']:<20}{tokens / r['seconds']:>10.1f}{len(sentences) / r['seconds']:>9.2f}"
              f"{r['peak_mb']:>13.0f}{r['growth_mb']:>15.0f}{base / r['seconds']:>8.2f}x{rate:>15.1f}"
              f"{100 * rate / peak:>10.0f}%{diff:>12}")
    for spec in variants:
        if "profile" in results[spec["name"]]:
            print(f"\n== profile: {spec['name']} (first {args.batch_size} sentences) ==")
            print(results[spec["name"]]["profile"])


if __name__ == "__main__":
    main()
