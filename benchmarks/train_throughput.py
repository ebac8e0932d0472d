"""Training throughput of ``torchelmo train``: tokens per second, on random text.

For the small default architecture and the published "original" one (93.6M biLM parameters),
times full training steps (forward, backward, gradient clipping, Adagrad) of the real trainer
on batches from the real data pipeline, and, as the baseline measured in the same run, the
biLM's inference forward pass on the same batches. Also times the data pipeline alone.

    python -m benchmarks.train_throughput [--steps 5] [--threads N] [--skip-original]

Words are random letter strings drawn with Zipfian frequencies; sentences have 10-30 words.
"""
import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from typing import Dict, List, Optional

import torch

from torchelmo import ElmoOptions
from torchelmo.training import TrainingConfig, small_options
from torchelmo.training.corpus import BatchStream
from torchelmo.distributed import DistributedContext
from torchelmo.training.trainer import Trainer
from torchelmo.training.vocab import SPECIAL_TOKENS, Vocabulary

ORIGINAL = {
    "char_cnn": {"activation": "relu", "embedding": {"dim": 16}, "n_highway": 2, "n_characters": 262,
                 "filters": [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]],
                 "max_characters_per_token": 50},
    "lstm": {"cell_clip": 3, "dim": 4096, "n_layers": 2, "proj_clip": 3, "projection_dim": 512,
             "use_skip_connections": True},
}


def random_corpus(path: str, vocab_size: int, sentences: int, seed: int = 0) -> Vocabulary:
    """Write ``sentences`` random sentences to ``path``; returns their vocabulary."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = list(dict.fromkeys("".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(vocab_size * 2)))
    words = words[:vocab_size - len(SPECIAL_TOKENS)]
    weights = [1.0 / (rank + 1) for rank in range(len(words))]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(sentences):
            f.write(" ".join(rng.choices(words, weights, k=rng.randint(10, 30))) + "\n")
    return Vocabulary([*SPECIAL_TOKENS, *words])


def time_pipeline(path: str, vocab: Vocabulary, batch_size: int) -> float:
    """Tokens per second of the data pipeline alone (reading, batching, character ids)."""
    start, tokens = time.perf_counter(), 0
    for batch in BatchStream([path], vocab, batch_size, epochs=1):
        tokens += batch.num_tokens
    return tokens / (time.perf_counter() - start)


def time_model(options: ElmoOptions, vocab: Vocabulary, path: str, config: TrainingConfig, steps: int,
               output_dir: str) -> Dict[str, float]:
    """Tokens per second of the inference forward pass and of training steps on the same batches,
    each from the median time per token over ``steps`` batches (robust to a busy machine)."""
    ctx = DistributedContext(rank=0, world_size=1, device=torch.device("cpu"))
    trainer = Trainer(ctx, [path], output_dir, options, config, vocab, [], progress=False)
    stream = iter(BatchStream([path], vocab, config.batch_size, seed=1))
    warmup, batches = next(stream), [next(stream) for _ in range(steps)]

    def median_speed(run) -> float:
        run(warmup)
        seconds_per_token = []
        for batch in batches:
            start = time.perf_counter()
            run(batch)
            seconds_per_token.append((time.perf_counter() - start) / batch.num_tokens)
        return 1.0 / statistics.median(seconds_per_token)

    with torch.no_grad():
        trainer.model.eval()
        inference = median_speed(lambda batch: trainer.model.bilm(batch.char_ids.long()))
    trainer.model.train()
    training = median_speed(trainer.train_step)
    return {"inference": inference, "training": training,
            "tokens_per_step": statistics.mean(b.num_tokens for b in batches)}


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed batches per row (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--skip-original", action="store_true", help="only the small architecture")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs")
    cases = [("small", small_options(), 20_000, 64, 0), ("small", small_options(), 20_000, 64, 8192)]
    if not args.skip_original:
        cases.append(("original", ElmoOptions.from_dict(ORIGINAL), 100_000, 16, 8192))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpora: Dict[int, Vocabulary] = {}
        for name, options, vocab_size, batch_size, negatives in cases:
            path = os.path.join(tmp, f"corpus-{vocab_size}.txt")
            if vocab_size not in corpora:
                corpora[vocab_size] = random_corpus(path, vocab_size, sentences=3000)
            vocab = corpora[vocab_size]
            config = TrainingConfig(batch_size=batch_size, n_negative_samples=negatives, dropout=0.1)
            timing = time_model(options, vocab, path, config, args.steps, tmp)
            softmax = f"sampled {negatives}" if negatives else "full"
            rows.append((name, f"{batch_size} ({timing['tokens_per_step']:.0f} tokens)", f"{len(vocab):,}", softmax,
                         timing["inference"], timing["training"]))
        pipeline = time_pipeline(os.path.join(tmp, "corpus-20000.txt"), corpora[20_000], 64)

    header = ("model", "batch (sentences)", "vocab", "softmax", "inference tok/s (baseline)", "training tok/s",
              "training / inference")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, batch, vocab_size, softmax, inference, training in rows:
        print(f"| {name} | {batch} | {vocab_size} | {softmax} | {inference:,.0f} | {training:,.0f} | "
              f"{training / inference:.2f} |")
    print(f"\ndata pipeline alone (read, batch, character ids): {pipeline:,.0f} tokens/s")


if __name__ == "__main__":
    main()
