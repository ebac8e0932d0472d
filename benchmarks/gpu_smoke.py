"""One command that runs every CUDA path of torchelmo once and prints a table (also written to a file).

    python -m benchmarks.gpu_smoke                      # GPU 0: at most about 5 minutes on one GPU
    python -m benchmarks.gpu_smoke --device cuda:1      # another GPU
    python -m benchmarks.gpu_smoke --device cpu --quick # dry run: the same code paths on the CPU, seconds

Needs nothing outside the repository: the bundled model (``torchelmo/data/default``) and the
bundled warm-up text (``torchelmo/data/warmup.txt``, 155 sentences of real English), from which
small data sets for the task models are made. Each row is one check, run on ``--device`` and,
where a comparison makes sense, against the same computation on the CPU (``max |diff|``):

- ``torchelmo embed --cuda-device N`` against ``--cuda-device -1``: the state modes carry, zero
  and warm; windows; mean pooling; float16 and gzip outputs; bf16 and compile where the device
  supports them (a row says why not otherwise);
- ``ElmoEmbedder.embed_file`` interrupted after two segments and resumed, against one run;
- ``Elmo`` forward and backward (outputs and gradients) against the CPU;
- a few biLM training steps with and without bf16 autocast, and the bf16 run resumed on the CPU
  from its GPU checkpoint;
- one short epoch of each task model family (tagger with CRF, parser, classifier with the ELMo
  cache, pair classifier, coreference, span QA), with ELMo;
- ``batch_sizes.py``'s tokens/s and peak GPU memory for batch sizes 32 to 512 (``--quick``: 4, 8)
  against the plain per-timestep baseline on the same device.

A check that fails prints its error in its row and the script goes on; the exit status is 1
when any failed. ``--quick`` uses 6 sentences and a tiny architecture for the batch sizes.
"""
import argparse
import contextlib
import json
import logging
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import h5py
import numpy as np
import torch

from torchelmo import Elmo, ElmoEmbedder, ElmoOptions, Interrupted, batch_to_ids, unsupported_reason
from torchelmo.cli import main as cli
from torchelmo.states import warmup_sentences

from benchmarks import batch_sizes

TINY_BILM = {"char_cnn": {"embedding": {"dim": 8}, "filters": [[1, 16], [2, 16], [3, 32]], "n_highway": 1},
             "lstm": {"dim": 128, "projection_dim": 32, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
                      "use_skip_connections": True}}
ELMO = {"dropout": 0.0, "do_layer_norm": False, "requires_grad": False, "num_output_representations": 1}


@dataclass
class Row:
    check: str
    status: str  # ok, skipped, FAILED
    diff: Optional[float]
    seconds: float
    note: str


class Smoke:
    """The checks, each recorded as a :class:`Row`."""

    def __init__(self, device: torch.device, workdir: Path, quick: bool) -> None:
        self.device, self.workdir, self.quick = device, workdir, quick
        self.dry_and_quick = quick and device.type == "cpu"
        self.cuda_device = -1 if device.type == "cpu" else device.index or 0
        self.sentences = warmup_sentences()[:6 if quick else None]
        self.text = workdir / "sentences.txt"
        self.text.write_text("".join(" ".join(s) + "\n" for s in self.sentences), encoding="utf-8")
        self.rows: List[Row] = []

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[Dict[str, object]]:
        """Time the block and record its row; it sets ``diff`` and ``note`` (``skip``: a reason)."""
        result: Dict[str, object] = {"diff": None, "note": ""}
        start = time.perf_counter()
        status = "ok"
        try:
            yield result
            if result.get("skip"):
                status, result["note"] = "skipped", result["skip"]
        except Exception as error:  # the row says what broke; the other checks still run
            status, result["note"] = "FAILED", f"{type(error).__name__}: {' '.join(str(error).split())[:150]}"
        row = Row(name, status, result["diff"], time.perf_counter() - start, str(result["note"]))
        self.rows.append(row)
        print(format_row(row), flush=True)

    # ------------------------------------------------------------------ embedding
    def embed(self, name: str, flags: Sequence[str], cuda_device: int, side: str) -> Path:
        """``torchelmo embed`` of the sentences with ``flags`` (``--top`` unless they say ``--all``)
        into ``NAME-SIDE.h5``."""
        output = self.workdir / f"{name.replace(' ', '-')}-{side}.h5"
        layers = [] if "--all" in flags else ["--top"]
        status = cli(["embed", str(self.text), str(output), *layers, "--cuda-device", str(cuda_device),
                      "--overwrite", *flags])
        if status >= 128:  # interrupted (Ctrl-C, SIGTERM): stop the whole script
            raise KeyboardInterrupt
        if status != 0:
            raise RuntimeError(f"torchelmo embed {' '.join(flags)} exited with {status}")
        return output

    def embed_against_cpu(self, name: str, flags: Sequence[str], device_flags: Sequence[str] = (),
                          precision: str = "fp32", compile: bool = False) -> None:
        """Embed with ``flags`` on the device (plus ``device_flags``) and on the CPU; compare."""
        with self.check(f"embed {name}") as result:
            if compile and self.dry_and_quick:
                missing = "--quick on the CPU (inductor takes minutes to compile there)"
            else:
                missing = unsupported_reason(precision, compile, self.device)
            if missing:
                result["skip"] = missing
                return
            on_device = self.embed(name, [*flags, *device_flags], self.cuda_device, "device")
            if self.dry_and_quick:
                result["note"] = "--quick dry run: not compared with itself"
                return
            result["diff"] = max_diff(on_device, self.embed(name, flags, -1, "cpu"))
            if device_flags:
                result["note"] = "against fp32 on the CPU"

    def embed_file_resumed(self) -> None:
        with self.check("embed_file interrupted + resumed") as result:
            embedder = ElmoEmbedder(cuda_device=self.cuda_device)
            whole, resumed = self.workdir / "whole.h5", self.workdir / "resumed.h5"
            options = {"batch_size": max(1, len(self.sentences) // 3), "progress": False, "checkpoint_every": 1}
            embedder.embed_file(str(self.text), whole, **options)
            embedder.reset_states()
            original, calls = embedder.embed_batches, {"n": 0}

            def failing(*args, **kwargs):
                calls["n"] += 1
                if calls["n"] == 3:
                    raise KeyboardInterrupt
                return original(*args, **kwargs)

            embedder.embed_batches = failing
            try:
                embedder.embed_file(str(self.text), resumed, **options)
                raise RuntimeError("the run was not interrupted")
            except Interrupted:
                pass
            embedder.embed_batches = original
            embedder.reset_states()
            embedder.embed_file(str(self.text), resumed, resume=True, **options)
            result["diff"] = max_diff(resumed, whole)
            result["note"] = "against one uninterrupted run on the device"

    # ------------------------------------------------------------------ Elmo module
    def elmo_forward_backward(self) -> None:
        with self.check("Elmo forward + backward") as result:
            char_ids = batch_to_ids(self.sentences[:2 if self.quick else 8])
            outputs, gradients = [], []
            for device in (self.device, torch.device("cpu")):
                torch.manual_seed(0)
                elmo = Elmo(num_output_representations=1, dropout=0.0, requires_grad=True, state="zero").to(device)
                mixed = elmo(char_ids.to(device))["elmo_representations"][0]
                weights = torch.linspace(-1, 1, mixed.size(-1), device=device)
                (mixed * weights).sum().backward()
                outputs.append(mixed.detach().cpu())
                gradients.append(torch.cat([p.grad.flatten().cpu() for p in elmo.parameters() if p.grad is not None]))
            result["diff"] = max(float((outputs[0] - outputs[1]).abs().max()),
                                 float((gradients[0] - gradients[1]).abs().max()))
            result["note"] = f"outputs and {gradients[0].numel()} gradient values"

    # ------------------------------------------------------------------ biLM training
    def bilm_training(self) -> None:
        from torchelmo.training import resolve_settings, train

        corpus = self.workdir / "corpus.txt"
        corpus.write_text(self.text.read_text(encoding="utf-8") * 4, encoding="utf-8")
        options = ElmoOptions.from_dict(TINY_BILM)
        for bf16 in (False, True):
            name = f"biLM train 3 steps{' bf16' if bf16 else ''}"
            with self.check(name) as result:
                folder = self.workdir / f"train-bf16-{bf16}"
                overrides = {"max_steps": 3, "batch_size": 8, "checkpoint_every": 3, "log_every": 1, "bf16": bf16}
                options_, config = resolve_settings(folder, options, overrides)
                run = train([str(corpus)], folder, options_, config, device=str(self.device), progress=False)
                result["note"] = f"loss {run.loss:.3f}" + ("" if not bf16 or self.device.type == "cuda"
                                                           else " (the CPU trains in fp32)")
        with self.check("biLM bf16 run resumed on the CPU") as result:
            folder = self.workdir / "train-bf16-True"
            options_, config = resolve_settings(folder, None, {"max_steps": 5}, resume=True)
            run = train([str(corpus)], folder, options_, config, resume=True, device="cpu", progress=False)
            if run.step != 5:
                raise RuntimeError(f"stopped at step {run.step}, not 5")
            result["note"] = f"steps 4-5 on the CPU from the device's checkpoint, loss {run.loss:.3f}"

    # ------------------------------------------------------------------ task models
    def task_models(self) -> None:
        from torchelmo.tasks import load_config, train_task

        data = TaskData(self.sentences, self.workdir / "tasks")
        for family, (data_config, model_config) in data.families().items():
            with self.check(f"task {family} 1 epoch") as result:
                config = {"data": data_config, "model": model_config,
                          "trainer": {"optimizer": {"type": "adam", "lr": 0.001}, "epochs": 1, "patience": 1,
                                      "batch_size": 8, "seed": 13, "device": str(self.device)}}
                path = self.workdir / "tasks" / f"{family}.json"
                path.write_text(json.dumps(config), encoding="utf-8")
                metrics = train_task(load_config(str(path)), str(self.workdir / "tasks" / family))
                result["note"] = ", ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.get("validation", {}).items())
                                           if isinstance(v, float))[:80]

    # ------------------------------------------------------------------ throughput
    def throughput(self) -> None:
        count, sizes = (16, [4, 8]) if self.quick else (1024, [32, 64, 128, 256, 512])
        sentences = [self.sentences[i % len(self.sentences)] for i in range(count)]
        rows: List[Dict[str, object]] = []
        with self.check("batch_sizes.py") as result:
            rows = batch_sizes.run(sentences, self.device, sizes, architecture=TINY_BILM if self.quick else
                                   batch_sizes.ORIGINAL, workdir=self.workdir / "batch_sizes")
            result["note"] = f"{count} sentences; rows below"
        for row in rows:
            self.rows.append(Row(f"  batch {row['batch']} {row['variant']}", "ok", row["max_diff"], 0.0,
                                 f"{row['tokens_per_s']:.0f} tokens/s, peak {row['peak_mb']:.0f} MB, "
                                 f"{row['speedup']:.2f}x the baseline"))

    def run(self) -> None:
        modes = [(f"state {state}", ["--state", state]) for state in ("carry", "zero", "warm")]
        for name, flags in modes + [("window 8", ["--window", "8", "--state", "warm"]),
                                    ("pool mean --all", ["--all", "--pool", "mean"]),
                                    ("float16 + gzip", ["--dtype", "float16", "--compression", "gzip"])]:
            self.embed_against_cpu(name, flags)
        self.embed_against_cpu("bf16", [], ["--precision", "bf16"], precision="bf16")
        self.embed_against_cpu("compile", [], ["--compile"], compile=True)
        self.embed_file_resumed()
        self.elmo_forward_backward()
        self.bilm_training()
        self.task_models()
        self.throughput()


class TaskData:
    """Small data sets in each task reader's format, made from the bundled sentences."""

    def __init__(self, sentences: List[List[str]], folder: Path) -> None:
        self.sentences, self.folder = sentences, folder
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def conllu(self) -> str:
        blocks = []
        for sentence in self.sentences:
            lines = [f"{i}\t{word}\t{word.lower()}\t{upos(word)}\t_\t_\t{i - 1}\t{'root' if i == 1 else 'dep'}\t_\t_"
                     for i, word in enumerate(sentence, 1)]
            blocks.append("\n".join(lines) + "\n")
        return self.write("ud.conllu", "\n".join(blocks) + "\n")

    def coreference(self) -> str:
        documents = []
        for d in range(0, len(self.sentences), 6):
            lines = [f"#begin document (doc{d}); part 000"]
            for sentence in self.sentences[d:d + 6]:
                lines += [f"doc{d}\t0\t{i}\t{word}\t{'(1)' if word.lower() in ('the', 'it', 'a') else '-'}"
                          for i, word in enumerate(sentence)] + [""]
            documents.append("\n".join(lines + ["#end document"]))
        return self.write("coref.conll", "\n".join(documents) + "\n")

    def squad(self) -> str:
        paragraphs = []
        for i, sentence in enumerate(self.sentences):
            context = " ".join(sentence)
            answer = max(sentence, key=len)
            paragraphs.append({"context": context, "qas": [{"id": f"q{i}", "question": f"Which word is {answer} ?",
                                                            "answers": [{"text": answer,
                                                                         "answer_start": context.index(answer)}]}]})
        return self.write("squad.json", json.dumps({"version": "1.1", "data": [{"title": "t",
                                                                               "paragraphs": paragraphs}]}))

    def families(self) -> Dict[str, tuple]:
        conllu = self.conllu()
        texts = [" ".join(s) for s in self.sentences]
        classes = self.write("classes.tsv", "".join(f"{'long' if len(s) > 12 else 'short'}\t{t}\n"
                                                    for s, t in zip(self.sentences, texts)))
        labels = ("entailment", "neutral", "contradiction")
        pairs = self.write("pairs.tsv", "".join(f"{labels[i % 3]}\t{a}\t{b}\n"
                                                for i, (a, b) in enumerate(zip(texts, texts[1:] + texts[:1]))))
        elmo = dict(ELMO)
        cached = {**ELMO, "stateful": False, "cache": "float16"}
        encoder = {"type": "lstm", "hidden_size": 16, "num_layers": 1, "dropout": 0.0}
        words = {"dim": 16, "min_count": 1}
        same = lambda path: {"train": {"path": path}, "validation": {"path": path}}  # noqa: E731
        return {
            "tagger (CRF)": ({"reader": {"type": "conllu", "tags": "upos"}, **same(conllu)},
                             {"type": "tagger", "decoder": "crf", "tag_scheme": "plain", "encoder": encoder,
                              "embedders": {"words": words, "elmo": elmo}}),
            "parser": ({"reader": {"type": "conllu", "tags": "upos"}, **same(conllu)},
                       {"type": "parser", "embedders": {"words": words, "elmo": elmo}, "encoder": encoder,
                        "arc_dim": 16, "label_dim": 8, "decoding": "mst"}),
            "classifier (ELMo cache)": ({"reader": {"type": "classification", "format": "tsv"}, **same(classes)},
                                        {"type": "classifier", "pooling": "max", "encoder": encoder,
                                         "embedders": {"words": words, "elmo": cached}}),
            "pair classifier": ({"reader": {"type": "pair"}, **same(pairs)},
                                {"type": "pair_classifier", "embedders": {"words": words, "elmo": elmo},
                                 "encoder": encoder, "composition": encoder, "projection_dim": 16,
                                 "hidden_dim": 16}),
            "coreference": ({"reader": {"type": "conll2012"}, **same(self.coreference())},
                            {"type": "coreference", "embedders": {"words": words, "elmo": elmo}, "encoder": encoder,
                             "max_span_width": 4, "feature_dim": 8, "hidden_dim": 16}),
            "span QA": ({"reader": {"type": "squad"}, **same(self.squad())},
                        {"type": "span_qa", "embedders": {"words": words, "elmo": {**ELMO, "num_output_representations": 2}},
                         "encoder": encoder, "modelling": encoder}),
        }


def upos(word: str) -> str:
    """A stand-in part of speech: enough labels for the tagger and the parser to learn something."""
    return "PUNCT" if not word[0].isalnum() else "NUM" if word[0].isdigit() else \
        "PROPN" if word[0].isupper() else "DET" if word.lower() in ("the", "a", "an") else "X"


def max_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between the same datasets of two HDF5 outputs."""
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        keys = [k for k in fa if k != "sentence_to_index"]
        if sorted(keys) != sorted(k for k in fb if k != "sentence_to_index"):
            raise RuntimeError(f"{a.name} and {b.name} hold other sentences")
        return max(float(np.abs(fa[k][...].astype(np.float64) - fb[k][...]).max(initial=0.0)) for k in keys)


def format_row(row: Row) -> str:
    diff = "-" if row.diff is None else f"{row.diff:.1e}"
    return f"{row.check:<46}{row.status:<9}{diff:>10}{row.seconds:>9.1f}  {row.note}"


def header(device: torch.device) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (dry run)"
    title = (f"torchelmo GPU smoke test on {device} ({name}); torch {torch.__version__}, "
             f"CUDA {torch.version.cuda or '-'}")
    columns = f"{'check':<46}{'status':<9}{'max |diff|':>10}{'seconds':>9}  note"
    return f"{title}\n\n{columns}\n{'-' * 100}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda:0", help="cuda, cuda:N, or cpu for a dry run (default cuda:0)")
    parser.add_argument("--quick", action="store_true", help="fewer sentences, small batch-size table (seconds)")
    parser.add_argument("--workdir", type=Path, help="folder for the outputs (default: a new temporary folder)")
    parser.add_argument("--output", type=Path, help="the table's file (default: WORKDIR/gpu_smoke.txt)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_smoke: error: no GPU visible to PyTorch; run with --device cpu for a dry run", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="torchelmo-gpu-smoke-"))
    workdir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("torchelmo").setLevel(logging.WARNING)
    os.environ.setdefault("TQDM_DISABLE", "1")  # the table is the output
    random.seed(0)
    torch.manual_seed(0)
    print(header(device), flush=True)
    smoke = Smoke(device, workdir, args.quick)
    smoke.run()
    table = "\n".join([header(device), *map(format_row, smoke.rows)]) + "\n"
    output = args.output or workdir / "gpu_smoke.txt"
    output.write_text(table, encoding="utf-8")
    failed = [row.check for row in smoke.rows if row.status == "FAILED"]
    print(f"\n{len(smoke.rows)} rows, {len(failed)} failed; table written to {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
