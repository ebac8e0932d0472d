"""How far each optional inference mode moves ELMo's vectors, on the reference fixture.

Embeds the 30 sentences of the allennlp 0.9.0 fixture (10 stateful batches of 3, the order the
original TensorFlow outputs were made in) with each mode and prints the largest absolute
difference from fp32 (all three layers) and from TensorFlow's top layer, next to the largest
absolute value, so the differences can be read relative to the vectors' scale.

    python -m benchmarks.mode_deviation [FIXTURE_DIR] [--compile]

FIXTURE_DIR defaults to the tests' cache (downloaded by the test suite).
"""
import argparse
import json
from pathlib import Path

import h5py
import numpy as np

from torchelmo import ElmoEmbedder, gemm

DEFAULT_FIXTURES = Path.home() / ".cache" / "torchelmo-tests" / "allennlp-0.9.0-elmo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fixture_dir", type=Path, nargs="?", default=DEFAULT_FIXTURES)
    parser.add_argument("--compile", action="store_true", help="also measure compile=True (slow to compile)")
    args = parser.parse_args()
    fixtures = args.fixture_dir
    groups = json.loads((fixtures / "sentences.json").read_text())
    sentences = [groups[k][i].split() for i in range(10) for k in range(3)]
    tensorflow = []
    for i in range(10):
        for k in range(3):
            with h5py.File(fixtures / f"lm_embeddings_{k}.hdf5", "r") as f:
                tensorflow.append(np.concatenate(f[str(i)][...], axis=-1))

    modes = [("fp32", False), ("bf16", False), ("int8", False)] + [("fp32", True)] * args.compile
    exact = None
    print(f"{'mode':<16}{'max |v - fp32|':>16}{'max |top - TF|':>16}{'max |v|':>10}")
    for precision, compile in modes:
        missing = gemm.unsupported_reason(precision, compile)
        if missing is not None:
            print(f"{precision + (' + compile' if compile else ''):<16}skipped: {missing}")
            continue
        embedder = ElmoEmbedder(fixtures / "options.json", fixtures / "lm_weights.hdf5",
                                precision=precision, compile=compile)
        vectors = list(embedder.embed_sentences(sentences, batch_size=3))
        exact = vectors if exact is None else exact
        to_fp32 = max(float(np.abs(v - e).max()) for v, e in zip(vectors, exact))
        to_tf = max(float(np.abs(v[2] - t).max()) for v, t in zip(vectors, tensorflow))
        scale = max(float(np.abs(v).max()) for v in vectors)
        name = precision + (" + compile" if compile else "")
        print(f"{name:<16}{to_fp32:>16.1e}{to_tf:>16.1e}{scale:>10.2f}")


if __name__ == "__main__":
    main()
