"""Output size of ``embed_file`` per compact-output choice, on the bundled default model.

Each row embeds the same real English sentences (UD English-EWT dev, lengths 1-60) with a fresh
``ElmoEmbedder()`` (``--all``, carried state, batch size 64) and reports the file's bytes per token,
seconds per 1k sentences (the whole ``embed_file``: embedding, segments and the merge) and the
largest absolute difference from the ``float32 none`` baseline of this same run (for ``pool mean``:
from the mean over tokens of the baseline).

    python -m benchmarks.output_size                  # the figures in docs/embedding.md
    python -m benchmarks.output_size --sentences 100  # quicker
"""
import argparse
import os
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from torchelmo import ElmoEmbedder

from benchmarks.embed_throughput import DEFAULT_TEXT, read_sentences

CHOICES = [("float32 none", {}), ("float32 gzip", {"compression": "gzip"}), ("float32 lzf", {"compression": "lzf"}),
           ("float16 none", {"dtype": "float16"}), ("float16 gzip", {"dtype": "float16", "compression": "gzip"}),
           ("float16 lzf", {"dtype": "float16", "compression": "lzf"}), ("pool mean", {"pool": "mean"})]


def read_output(path: str) -> dict:
    with h5py.File(path, "r") as f:
        return {key: f[key][...].astype(np.float32) for key in f if key != "sentence_to_index"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="CoNLL-U file of sentences")
    args = parser.parse_args()
    sentences = read_sentences(args.text, args.sentences, 1, 60)
    tokens = sum(len(s) for s in sentences)
    print(f"bundled default model, {len(sentences)} sentences, {tokens} tokens, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, --all, gzip level 4 (default)")
    print(f"{'choice':<14} {'bytes/token':>12} {'vs float32':>10} {'s/1k sent':>10} {'max |error|':>12}")
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "in.txt")
        Path(source).write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
        baseline, baseline_size = None, None
        for name, options in CHOICES:
            output = os.path.join(folder, name.replace(" ", "-") + ".hdf5")
            embedder = ElmoEmbedder()
            start = time.perf_counter()
            embedder.embed_file(source, output, progress=False, **options)
            seconds = time.perf_counter() - start
            values, size = read_output(output), os.path.getsize(output)
            if baseline is None:
                baseline, baseline_size = values, size
            reference = ({k: v.mean(axis=-2) for k, v in baseline.items()} if options.get("pool") == "mean"
                         else baseline)
            error = max(float(np.abs(values[k] - reference[k]).max()) for k in reference)
            print(f"{name:<14} {size / tokens:>12.0f} {size / baseline_size:>10.3f} "
                  f"{seconds * 1000 / len(sentences):>10.2f} {error:>12.2e}")


if __name__ == "__main__":
    main()
