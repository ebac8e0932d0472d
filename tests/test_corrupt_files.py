"""Damaged files a run reads back (train_config.json, checkpoint.pt, a task's model.pt, data
files) fail with one line naming the file (and line), exit 2, and change nothing on disk."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from training_support import TINY_OPTIONS

from torchelmo.cli import main
from torchelmo.errors import InputError
from torchelmo.tasks import parse_config, train
from torchelmo.tasks.config import SourceConfig
from torchelmo.tasks.readers.classification import ClassificationReaderConfig
from torchelmo.tasks.readers.conllu import ConlluReaderConfig, read_conllu
from torchelmo.tasks.sources import read_source

ROOT = Path(__file__).resolve().parents[1]
EWT = ROOT.parent / "shared" / "data" / "ud-english-ewt"
SENTENCE = ["1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_", "2\tcat\tcat\tNOUN\tNN\t_\t3\tnsubj\t_\t_",
            "3\tsat\tsit\tVERB\tVBD\t_\t0\troot\t_\t_"]


def error_line(capsys) -> str:
    """The error line a failed command ended with (after its INFO log lines), no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("torchelmo: error: ")
    return last


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ torchelmo train --resume
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("training")
    corpus = folder / "corpus.txt"
    corpus.write_text("the cat sat on the mat .\na dog ran .\nthe dog sat .\n" * 10, encoding="utf-8")
    (folder / "options.json").write_text(json.dumps(TINY_OPTIONS))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(["train", "--train-data", str(corpus), "--output-dir", str(folder / "run"), "--options",
                     str(folder / "options.json"), "--max-steps", "2", "--batch-size", "4",
                     "--n-negative-samples", "0"]) == 0
    finally:
        torch.set_num_threads(threads)
    return folder


def damage_json(text):
    return lambda path: path.write_text(text, encoding="utf-8")


def edit_json(change):
    def damage(path):
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return damage


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def edit_checkpoint(change):
    def damage(path):
        state = torch.load(path, weights_only=True)
        change(state)
        torch.save(state, path)
    return damage


@pytest.mark.parametrize("name, damage, message", [
    ("train_config.json", damage_json("{ not json"), "train_config.json: not valid JSON (Expecting property name"),
    ("train_config.json", damage_json("[1, 2]"), "train_config.json: 'options' is missing or not an object"),
    ("train_config.json", edit_json(lambda d: d.pop("training")), "train_config.json: 'training' is missing"),
    ("train_config.json", edit_json(lambda d: d["training"].update(bogus=1)),
     "train_config.json: unknown training setting(s): bogus"),
    ("train_config.json", edit_json(lambda d: d["options"]["lstm"].update(dim=-1)),
     "train_config.json: options.lstm.dim: expected a positive integer, got -1"),
    ("train_config.json", lambda p: p.write_bytes(b"\xff\xfe{}"), "train_config.json: not valid JSON ("),
    ("checkpoint.pt", truncate, "checkpoint.pt: not a readable checkpoint, truncated or damaged?"),
    ("checkpoint.pt", edit_checkpoint(lambda s: s.pop("optimizer")),
     "checkpoint.pt: not a complete torchelmo checkpoint (missing optimizer)"),
    ("checkpoint.pt", edit_checkpoint(lambda s: s["model"].pop("softmax.bias")),
     'checkpoint.pt: the checkpoint does not fit this run (RuntimeError: Error(s) in loading state_dict for '
     'BidirectionalLM: Missing key(s) in state_dict: "softmax.bias".)'),
    ("checkpoint.pt", edit_checkpoint(lambda s: s.update(ranks=[])),
     "checkpoint.pt: the checkpoint does not fit this run (IndexError"),
])
def test_resume_from_damaged_files_is_one_line_and_changes_nothing(finished_run, tmp_path, capsys, name, damage,
                                                                  message):
    run = tmp_path / "run"
    shutil.copytree(finished_run / "run", run)
    damage(run / name)
    before = snapshot(run)
    assert main(["train", "--train-data", str(finished_run / "corpus.txt"), "--output-dir", str(run),
                 "--max-steps", "3", "--resume"]) == 2
    error = error_line(capsys)
    assert f"{run / name}" in error and message in error
    after = snapshot(run)
    after.pop(Path("train.log"), None), before.pop(Path("train.log"), None)  # the log records the attempt
    assert after == before


# ------------------------------------------------------------------ task data files
def test_invalid_utf8_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_bytes("\n".join(SENTENCE[:2]).encode() + b"\n3\tsat\xff\tsit\tVERB\tVBD\t_\t0\troot\t_\t_\n")
    with pytest.raises(InputError, match=r"bad\.conllu:3: not valid UTF-8 \(invalid start byte at byte 6 of the line\)"):
        list(read_conllu(str(bad), ConlluReaderConfig()))
    tsv = tmp_path / "data.tsv"
    tsv.write_bytes(b"pos\tfine\nneg\tbad \xc3(\n")
    with pytest.raises(InputError, match=r"data\.tsv:2: not valid UTF-8"):
        read_source(SourceConfig(path=str(tsv)), ClassificationReaderConfig())


def test_a_bom_is_not_part_of_the_first_word(tmp_path):
    path = tmp_path / "bom.conllu"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(SENTENCE).encode() + b"\n")
    assert next(read_conllu(str(path), ConlluReaderConfig())).tokens == ["The", "cat", "sat"]


@pytest.mark.parametrize("head, message", [
    ("4", "bad.conllu:3: HEAD 4 is out of range: the sentence has 3 words (0 is the root)"),
    ("x", "bad.conllu:3: HEAD must be a non-negative integer, got 'x'"),
    ("-1", "bad.conllu:3: HEAD must be a non-negative integer, got '-1'"),
])
def test_conllu_heads_must_point_into_the_sentence(tmp_path, head, message):
    rows = list(SENTENCE)
    rows[1] = rows[1].replace("\t3\tnsubj", f"\t{head}\tnsubj")
    bad = tmp_path / "bad.conllu"
    bad.write_text("# text = The cat sat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        list(read_conllu(str(bad), ConlluReaderConfig()))
    assert str(error.value) == f"{bad.parent}/{message}"


# ------------------------------------------------------------------ task archives
@pytest.fixture(scope="module")
def task_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("task") / "model"
    data = {"reader": {"type": "conllu"}, "train": {"path": str(EWT / "en_ewt-ud-train.conllu"), "limit": 16},
            "validation": {"path": str(EWT / "en_ewt-ud-dev.conllu"), "limit": 8}}
    train(parse_config({"data": data, "model": {"type": "parser", "embedders": {"words": {"dim": 4}},
                                                "encoder": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0},
                                                "arc_dim": 4, "label_dim": 4},
                        "trainer": {"epochs": 1, "batch_size": 8, "max_batches_per_epoch": 1}}), str(folder))
    return folder


def cli(*args):
    return subprocess.run([sys.executable, "-m", "torchelmo.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_task_evaluate_on_damaged_data_is_one_line(task_model, tmp_path):
    bad = tmp_path / "bad.conllu"
    bad.write_bytes("\n".join(SENTENCE).encode().replace(b"cat", b"c\xe9t") + b"\n")
    result = cli("task", "evaluate", str(task_model), str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == \
        f"torchelmo: error: {bad}:2: not valid UTF-8 (invalid continuation byte at byte 4 of the line); set " \
        f"encoding, or errors: replace, in the reader config"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("damage, message", [
    (truncate, "model.pt: not a readable torch file, truncated or damaged? ("),
    (lambda p: p.write_bytes(b""), "model.pt: not a readable torch file, truncated or damaged? (EOFError)"),
    (lambda p: torch.save([1, 2], p), "model.pt: expected a dict of tensors, found a list"),
])
def test_task_archive_with_a_damaged_model_pt_is_one_line(task_model, tmp_path, capsys, damage, message):
    folder = tmp_path / "model"
    shutil.copytree(task_model, folder)
    damage(folder / "model.pt")
    assert main(["task", "evaluate", str(folder), str(EWT / "en_ewt-ud-dev.conllu")]) == 2
    assert error_line(capsys).startswith(f"torchelmo: error: {folder / message}")
    assert main(["task", "predict", str(folder), str(EWT / "en_ewt-ud-dev.conllu"), "--verbose"]) == 2
    err = capsys.readouterr().err  # the traceback, then the same line; the same status
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith(f"torchelmo: error: {folder / message}")


def test_task_predict_has_the_flags_its_advice_names(task_model, tmp_path, capsys):
    text = tmp_path / "in.txt"
    text.write_bytes(b"The cat sat .\n\nA d\xffg ran .\n")
    out = tmp_path / "out.jsonl"
    command = ["task", "predict", str(task_model), str(text), "--text", "--output", str(out)]
    assert main(command) == 2
    assert error_line(capsys).endswith("use --errors replace or --errors skip")
    assert main(command + ["--errors", "replace"]) == 2
    assert error_line(capsys).endswith("remove them or use --blank-lines skip")
    assert main(command + ["--blank-lines", "skip", "--errors", "replace"]) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["tokens"] for r in records] == [["The", "cat", "sat", "."], ["A", "d\ufffdg", "ran", "."]]
    assert [r["source"] for r in records] == [f"{text}:1", f"{text}:3"]
    assert main(command + ["--max-sentence-length", "3", "--blank-lines", "skip", "--errors", "skip",
                           "--overwrite"]) == 2
    line = error_line(capsys)
    assert "line 1 has 4 tokens, more than the limit of 3" in line and line.endswith("raise --max-sentence-length")
    with pytest.raises(SystemExit):  # argparse refuses it: nothing to predict for an empty line
        main(command + ["--blank-lines", "empty"])
