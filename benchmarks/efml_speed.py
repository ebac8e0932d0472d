"""Speed on an ELMoForManyLangs model of the released size: torchelmo against EFML's own code.

Writes an EFML model folder with random weights and the released architecture
(``cnn_50_100_512_4096_sample.json``: word_dim 100, char_dim 50, 2048 filters, 2 highway
layers, LSTM 4096 -> 512, 2 layers; ``--words`` words, ``--chars`` characters), then embeds
the same sentences (the warm-up text's, in random order) with both, in this run:

- EFML: ``elmoformanylangs.Embedder(dir, batch_size).sents2elmo(sentences, -2)``, run by
  ``--efml-python`` (an environment with ``pip install elmoformanylangs overrides``, e.g.
  ``python -m venv --system-site-packages ../venv-efml``);
- torchelmo: ``torchelmo.efml.Embedder(dir, batch_size).sents2elmo(sentences, -2)``.

Each side loads the model first (not timed), embeds one batch (its numbers are compared:
both start from zeros on a fresh model), then is timed on all sentences, ``--repeats`` times
(the best is reported). Both use ``--threads`` threads.

    python -m benchmarks.efml_speed --efml-python ../venv-efml/bin/python
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from torchelmo.efml import Embedder  # noqa: E402
from torchelmo.efml.options import PACKAGED_CONFIGS  # noqa: E402
from torchelmo.states import warmup_sentences  # noqa: E402

ARCHITECTURE = "cnn_50_100_512_4096_sample.json"

EFML_WORKER = r"""
import json, sys, time
import numpy as np, torch
from elmoformanylangs import Embedder
model_dir, sentences_file, batch_size, threads, repeats, check_file = sys.argv[1:7]
torch.set_num_threads(int(threads))
sentences = json.load(open(sentences_file, encoding="utf-8"))
embedder = Embedder(model_dir, batch_size=int(batch_size))
check = embedder.sents2elmo(sentences[:int(batch_size)], output_layer=-2)  # fresh: every row from zeros
np.savez(check_file, *check)
times = []
for _ in range(int(repeats)):
    start = time.perf_counter()
    embedder.sents2elmo(sentences, output_layer=-2)
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds": min(times)}))
"""


def write_model(folder: Path, words: int, chars: int, seed: int) -> None:
    """An EFML folder of the released architecture with random weights (legacy .pkl format)."""
    generator = torch.Generator().manual_seed(seed)
    architecture = json.loads((PACKAGED_CONFIGS / ARCHITECTURE).read_text())
    token, encoder = architecture["token_embedder"], architecture["encoder"]
    (folder / ARCHITECTURE).write_text(json.dumps(architecture))
    (folder / "config.json").write_text(json.dumps({"config_path": ARCHITECTURE}))
    vocabulary = sorted({w for s in warmup_sentences() for w in s})
    word_list = ["<oov>", "<bos>", "<eos>", "<pad>", *vocabulary]
    word_list += [f"w{i}" for i in range(words - len(word_list))]
    (folder / "word.dic").write_text("".join(f"{w}\t{i}\n" for i, w in enumerate(word_list)), encoding="utf-8")
    letters = sorted({c for w in vocabulary for c in w})
    char_list = [*letters, *(chr(0x4E00 + i) for i in range(chars - len(letters) - 6)),
                 "<bos>", "<eos>", "<oov>", "<pad>", "<bow>", "<eow>"]
    (folder / "char.dic").write_text("".join(f"{c}\t{i}\n" for i, c in enumerate(char_list)), encoding="utf-8")

    def normal(*shape, std=0.1):
        return torch.randn(*shape, generator=generator) * std

    n_filters = sum(n for _, n in token["filters"])
    proj, cell = encoder["projection_dim"], encoder["dim"]
    embedder = {"word_emb_layer.embedding.weight": normal(words, token["word_dim"]),
                "char_emb_layer.embedding.weight": normal(chars, token["char_dim"])}
    for i, (width, num) in enumerate(token["filters"]):
        embedder[f"convolutions.{i}.weight"] = normal(num, token["char_dim"], width)
        embedder[f"convolutions.{i}.bias"] = normal(num)
    for k in range(token["n_highway"]):
        embedder[f"highways._layers.{k}.weight"] = normal(2 * n_filters, n_filters, std=0.02)
        embedder[f"highways._layers.{k}.bias"] = normal(2 * n_filters)
    embedder["projection.weight"] = normal(proj, token["word_dim"] + n_filters, std=0.03)
    embedder["projection.bias"] = normal(proj)
    lstm = {}
    for layer in range(encoder["n_layers"]):
        for direction in ("forward", "backward"):
            prefix = f"{direction}_layer_{layer}"
            lstm[f"{prefix}.input_linearity.weight"] = normal(4 * cell, proj, std=0.04)
            lstm[f"{prefix}.state_linearity.weight"] = normal(4 * cell, proj, std=0.04)
            lstm[f"{prefix}.state_linearity.bias"] = normal(4 * cell)
            lstm[f"{prefix}.state_projection.weight"] = normal(proj, cell, std=0.02)
    torch.save(embedder, folder / "token_embedder.pkl", _use_new_zipfile_serialization=False)
    torch.save(lstm, folder / "encoder.pkl", _use_new_zipfile_serialization=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--efml-python", default="../venv-efml/bin/python",
                        help="a Python with elmoformanylangs installed")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--words", type=int, default=150_000, help="word.dic size (EFML's max_vocab_size)")
    parser.add_argument("--chars", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    pool = warmup_sentences()
    sentences = [rng.choice(pool) for _ in range(args.sentences)]
    tokens = sum(len(s) for s in sentences)
    with tempfile.TemporaryDirectory(prefix="efml_speed.") as tmp:
        folder = Path(tmp) / "model"
        folder.mkdir()
        write_model(folder, args.words, args.chars, args.seed)
        sentences_file, check_file = Path(tmp) / "sentences.json", Path(tmp) / "efml_check.npz"
        sentences_file.write_text(json.dumps(sentences), encoding="utf-8")
        result = subprocess.run([args.efml_python, "-c", EFML_WORKER, str(folder), str(sentences_file),
                                 str(args.batch_size), str(args.threads), str(args.repeats), str(check_file)],
                                capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
        if result.returncode != 0:
            sys.exit(f"EFML failed:\n{result.stderr[-3000:]}")
        efml_seconds = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
        with np.load(check_file) as saved:
            efml_check = [saved[f"arr_{i}"] for i in range(len(saved.files))]

        embedder = Embedder(folder, batch_size=args.batch_size)
        ours_check = embedder.sents2elmo(sentences[:args.batch_size], output_layer=-2)
        deviation = max(float(np.abs(a - b).max()) for a, b in zip(ours_check, efml_check))
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            embedder.sents2elmo(sentences, output_layer=-2)
            times.append(time.perf_counter() - start)
        ours_seconds = min(times)

    print(f"EFML model of the released size ({ARCHITECTURE}, {args.words:,} words, {args.chars:,} characters, "
          f"random weights); {args.sentences} sentences, {tokens:,} tokens, batch size {args.batch_size}, "
          f"{args.threads} threads, best of {args.repeats}")
    print(f"max |torchelmo - EFML| on the first batch (all layers): {deviation:.2e}")
    print(f"| {'implementation':<34} | {'seconds':>8} | {'tokens/s':>9} | {'vs EFML':>8} |")
    print(f"| {'-' * 34} | {'-' * 8}:| {'-' * 9}:| {'-' * 8}:|")
    for name, seconds in (("EFML 0.0.4.post2 sents2elmo", efml_seconds),
                          ("torchelmo.efml.Embedder sents2elmo", ours_seconds)):
        print(f"| {name:<34} | {seconds:8.2f} | {tokens / seconds:9.0f} | {efml_seconds / seconds:7.2f}x |")


if __name__ == "__main__":
    main()
