"""Seconds per training epoch with and without the frozen-ELMo layer cache, and its memory.

Trains the UPOS tagger of ``configs/pos_ewt_elmo.yaml`` (bundled ELMo, frozen, stateful:
false) on the first ``--sentences`` sentences of EWT train for ``--epochs`` epochs, three
ways from the same seed: the biLM run on every batch (``cache: none``, the baseline) and its
layers cached per sentence in float32 and float16. The table gives each epoch's seconds
(validation on ``--validation`` dev sentences included), the cache's size, the process's
peak RSS so far (it only grows: read the differences), the validation accuracy after the
last epoch, and the largest absolute difference of the ELMo representations on the dev
sentences from the uncached model's (same weights, eval mode).

    python -m benchmarks.elmo_cache                     # 1000 sentences, 3 epochs, 2 threads
    python -m benchmarks.elmo_cache --sentences 200 --epochs 2
"""
import argparse
import random
import resource
import time
from pathlib import Path
from typing import Dict, List

import torch

from torchelmo.tasks.config import TaskTrainerConfig
from torchelmo.tasks.loading import parse_config
from torchelmo.tasks.loop import run_model, seed_everything, train_epoch
from torchelmo.tasks.registry import model_class
from torchelmo.tasks.sources import read_source
from torchelmo.tasks.trainer import OPTIMIZER_CLASSES

DATA = Path(__file__).resolve().parents[1] / "../shared/data/ud-english-ewt"


def config(cache: str, sentences: int, validation: int) -> dict:
    return {"data": {"reader": {"type": "conllu", "tags": "upos"},
                     "train": {"path": str(DATA / "en_ewt-ud-train.conllu"), "limit": sentences},
                     "validation": {"path": str(DATA / "en_ewt-ud-dev.conllu"), "limit": validation}},
            "model": {"type": "tagger", "embedders": {"words": {"dim": 100, "min_count": 2},
                                                      "elmo": {"stateful": False, "cache": cache}},
                      "encoder": {"type": "lstm", "hidden_size": 128, "num_layers": 1, "dropout": 0.0},
                      "dropout": 0.3},
            "trainer": {"optimizer": {"type": "adam", "lr": 0.002}, "batch_size": 32, "seed": 13}}


def run(cache: str, args: argparse.Namespace, reference: Dict[str, torch.Tensor]) -> List[str]:
    task = parse_config(config(cache, args.sentences, args.validation))
    seed_everything(13)
    train_set = read_source(task.data.train, task.data.reader)
    dev_set = read_source(task.data.validation, task.data.reader)
    model = model_class("tagger")(task.model, model_class("tagger").build_vocabularies(task.model, train_set))
    trainer: TaskTrainerConfig = task.trainer
    optimizer = OPTIMIZER_CLASSES["adam"]([p for p in model.parameters() if p.requires_grad], lr=trainer.optimizer.lr)
    rng = random.Random(13)
    seconds = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_epoch(model, train_set, trainer, optimizer, rng, "cpu", epoch)
        predictions, _ = run_model(model, dev_set, trainer.batch_size, "cpu", "validating")
        seconds.append(time.perf_counter() - start)
    accuracy = model.score(predictions, dev_set)["accuracy"]
    model.eval()
    with torch.no_grad():
        batch = model.tensorize(dev_set[:64])
        vectors = model.embedder(batch)[0]
    if cache == "none":
        reference["vectors"] = vectors
        reference["mix"] = {k: v.clone() for k, v in model.state_dict().items() if "scalar_mix" in k}
        difference = "—"
    else:
        # the same scalar mix weights as the uncached run, so only the cache can differ
        model.load_state_dict(reference["mix"], strict=False)
        with torch.no_grad():
            vectors = model.embedder(batch)[0]
        difference = f"{(vectors - reference['vectors']).abs().max().item():.1e}"
    cache_mb = model.embedder.elmo_cache.nbytes / 2 ** 20 if model.embedder.elmo_cache is not None else 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [cache, *(f"{s:.1f}" for s in seconds), f"{cache_mb:.1f}", f"{peak:.0f}", f"{100 * accuracy:.2f}",
            difference]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000, help="training sentences (EWT train)")
    parser.add_argument("--validation", type=int, default=300, help="validation sentences (EWT dev)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.sentences} train + {args.validation} dev "
          f"sentences, {args.epochs} epochs, UPOS tagger + bundled ELMo (frozen, stateful: false)")
    reference: Dict[str, torch.Tensor] = {}
    rows = [run(cache, args, reference) for cache in ("none", "float32", "float16")]
    header = ["cache", *(f"epoch {e} s" for e in range(1, args.epochs + 1)), "cache MB", "peak RSS MB",
              "dev acc %", "max |Δ| vs none"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    main()
