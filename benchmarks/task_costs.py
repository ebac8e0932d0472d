"""What a task config costs to train: seconds per 1,000 instances, baseline beside +ELMo.

For each shipped config named (default: the SRL and NLI pairs), builds its model on the
first instances of its real training split and times a few batches of training (forward,
backward, Adam step) and of evaluation (forward and decoding), as the trainer batches them.
Prints CPU and wall seconds per 1,000 instances and projects a whole run (every epoch over
the full training and validation splits, then the test split) in CPU minutes (about the wall
time of a lone one-thread run) and in wall minutes as measured (longer on a shared machine). Embedders of configs that
this checkout cannot build (issue 11's ``pretrained``/``characters`` before they land) are
swapped for learned 50-d word vectors, and the table says so.

    python -m benchmarks.task_costs                         # one torch thread, 8 batches
    python -m benchmarks.task_costs --configs srl_ewt srl_ewt_elmo --batches 4 --threads 2
"""
import argparse
import dataclasses
import os
import random
import time
from pathlib import Path
from typing import Dict, List, Tuple

import torch
import yaml

from torchelmo.tasks import parse_config
from torchelmo.tasks.archive import build_model
from torchelmo.tasks.batching import bucketed_batches
from torchelmo.tasks.config import SourceConfig, TaskConfig
from torchelmo.tasks.embedders.config import EmbeddersConfig
from torchelmo.tasks.registry import model_class
from torchelmo.tasks.sources import read_source

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
DEFAULT = ["srl_ewt", "srl_ewt_elmo", "snli_esim", "snli_esim_elmo", "sick_esim", "sick_esim_elmo"]


def load(name: str) -> Tuple[TaskConfig, List[str]]:
    """The config, with embedders this checkout lacks swapped for learned word vectors."""
    data = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    embedders = data["model"]["embedders"]
    missing = sorted(set(embedders) - {f.name for f in dataclasses.fields(EmbeddersConfig)})
    for key in missing:
        del embedders[key]
    if missing:
        embedders.setdefault("words", {"dim": 50, "min_count": 2})
    return parse_config(data), missing


def count(source: SourceConfig, config: TaskConfig) -> int:
    return len(read_source(source, config.data.reader))


def seconds_per_1k(model, instances, batches: List[List[int]], train: bool) -> Tuple[float, float]:
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3) if train else None
    model.train(train)
    cpu, wall = time.process_time(), time.perf_counter()
    with torch.set_grad_enabled(train):
        for indexes in batches:
            batch = model.tensorize([instances[i] for i in indexes])
            output = model(batch)
            if train:
                optimizer.zero_grad()
                output["loss"].backward()
                optimizer.step()
            else:
                model.decode(batch, output)
    n = sum(len(b) for b in batches) / 1000
    return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


def measure(name: str, batches: int) -> Dict[str, object]:
    config, swapped = load(name)
    sizes = {"train": count(config.data.train, config), "validation": count(config.data.validation, config),
             "test": count(config.data.test, config) if config.data.test else 0}
    batch_size = config.trainer.batch_size
    sample = dataclasses.replace(config.data.train, limit=batches * batch_size * 4)
    instances = read_source(sample, config.data.reader)
    torch.manual_seed(config.trainer.seed)
    model = build_model(config, model_class(config.model.type).build_vocabularies(config.model, instances))
    chosen = bucketed_batches([len(x.tokens) for x in instances], batch_size, random.Random(0))[:batches]
    train_cpu, train_wall = seconds_per_1k(model, instances, chosen, train=True)
    eval_cpu, eval_wall = seconds_per_1k(model, instances, chosen, train=False)
    epochs = config.trainer.epochs

    def minutes(train_cost: float, eval_cost: float) -> float:
        """A whole run: every epoch over train and validation, then test (costs per 1k)."""
        return (epochs * (sizes["train"] * train_cost + sizes["validation"] * eval_cost)
                + sizes["test"] * eval_cost) / 1000 / 60

    return {"config": name, "swapped": ", ".join(swapped) or "-", "sizes": sizes, "train": (train_cpu, train_wall),
            "eval": (eval_cpu, eval_wall), "epochs": epochs,
            "run_minutes": (minutes(train_cpu, eval_cpu), minutes(train_wall, eval_wall))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT, help="config names under configs/")
    parser.add_argument("--batches", type=int, default=8, help="batches timed for training and for evaluation")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.batches} batches per figure, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| config | swapped for 50-d learned words | train / validation / test | train CPU s / wall s per 1k "
          "| eval CPU s / wall s per 1k | epochs | projected run, CPU / wall minutes |")
    print("|---|---|---|---|---|---|---|")
    for name in args.configs:
        r = measure(name, args.batches)
        s = r["sizes"]
        print(f"| {name} | {r['swapped']} | {s['train']:,} / {s['validation']:,} / {s['test']:,} "
              f"| {r['train'][0]:.1f} / {r['train'][1]:.1f} | {r['eval'][0]:.1f} / {r['eval'][1]:.1f} "
              f"| {r['epochs']} | {r['run_minutes'][0]:.0f} / {r['run_minutes'][1]:.0f} |", flush=True)


if __name__ == "__main__":
    main()
