"""Nothing lost, nothing clobbered, nothing followed, in every command (issue 23,
docs/reliability.md): no command writes onto what it reads or replaces an output unasked, no
planted link is followed, clean-up removes only what torchelmo can prove it made, the input a
job reads is the one it checked, damaged files are one line, exit statuses are the documented
ones, and the library refuses what it cannot do safely."""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import pytest
import torch

from torchelmo import ElmoEmbedder
from torchelmo.cli import main
from torchelmo.errors import (ConcurrentUseError, ConfigurationError, InputChangedError, ModelDownloadError,
                              Terminated, TokensError)
from torchelmo.files import atomic_directory, output_lock, write_json
from test_embed_job import ENV, corpus, listing
from training_support import TINY_OPTIONS

BUNDLED = Path(__file__).resolve().parents[1] / "torchelmo" / "data" / "default"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


@pytest.fixture
def run_main(capsys):
    """``torchelmo`` in this process: -> (exit status, stdout, stderr)."""
    def run(*args):
        capsys.readouterr()
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, status, captured.out, captured.err)
    return run


def cli(*args, timeout=300, **kwargs):
    return subprocess.run([sys.executable, "-m", "torchelmo.cli", *map(str, args)], capture_output=True, text=True,
                          env=kwargs.pop("env", ENV), timeout=timeout, **kwargs)


def last_line(result):
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr.strip().splitlines()[-1]


# ------------------------------------------------------------------ writing onto inputs
@pytest.mark.parametrize("which", ["weight file", "options file"])
def test_embed_never_writes_onto_its_model_files(tmp_path, run_main, which):
    for name in ("options.json", "weights.hdf5"):
        shutil.copy(BUNDLED / name, tmp_path / name)
    model = ["--options-file", tmp_path / "options.json", "--weight-file", tmp_path / "weights.hdf5"]
    target = tmp_path / ("weights.hdf5" if which == "weight file" else "options.json")
    before = listing(tmp_path)
    result = run_main("embed", corpus(tmp_path / "in.txt", 3), target, "--top", "--overwrite", *model)
    assert result.returncode == 2 and last_line(result) == \
        f"torchelmo: error: {target}: is the {which}; choose another output"
    assert {k: v for k, v in listing(tmp_path).items() if k != "in.txt"} == \
        {k: v for k, v in before.items() if k != "in.txt"}
    link = tmp_path / "out.hdf5"
    link.symlink_to(target)  # an output that links to the model file is the model file
    result = run_main("embed", tmp_path / "in.txt", link, "--top", "--overwrite", *model)
    assert result.returncode == 2 and f"is the {which}" in last_line(result) and link.is_symlink()


# ------------------------------------------------------------------ planted links, others' files
def test_a_link_planted_at_the_lock_is_not_followed(tmp_path, model_args, run_main):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.hdf5.lock").symlink_to(victim)
    (tmp_path / "dangling.hdf5.lock").symlink_to(tmp_path / "created-through-the-link")
    for output in ("out.hdf5", "dangling.hdf5"):
        result = run_main("embed", corpus(tmp_path / "in.txt", 3), tmp_path / output, "--top", *model_args)
        assert result.returncode == 2
        assert last_line(result) == f"torchelmo: error: {tmp_path / output}.lock: is a symbolic link, which " \
                                    f"torchelmo did not make; remove it"
    assert victim.read_text() == "precious" and not (tmp_path / "created-through-the-link").exists()
    hard = tmp_path / "hard.lock"
    os.link(victim, hard)
    with pytest.raises(Exception, match="not a lock file torchelmo made"):
        with output_lock(str(hard)):
            pass
    assert victim.read_text() == "precious"


def test_a_partial_folder_torchelmo_did_not_make_is_refused_and_kept(tmp_path, model_args, run_main):
    source = corpus(tmp_path / "in.txt", 3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "a.hdf5.partial").symlink_to(elsewhere)
    (tmp_path / "b.hdf5.partial").mkdir()
    (tmp_path / "b.hdf5.partial" / "notes.txt").write_text("the user's")
    for name, why in (("a", "is not a folder torchelmo made (a link or a file)"),
                      ("b", "holds files torchelmo did not write (no job.json)")):
        for flags in ((), ("--overwrite",), ("--resume",)):
            result = run_main("embed", source, tmp_path / f"{name}.hdf5", "--top", *flags, *model_args)
            assert result.returncode == 2 and why in last_line(result)
    assert (tmp_path / "b.hdf5.partial" / "notes.txt").read_text() == "the user's"
    assert os.listdir(elsewhere) == []


def test_stdin_runs_ignore_others_temporaries_and_closed_stdin_is_one_line(tmp_path, model_args):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    others = scratch / ".torchelmo-input-abc.tmp-1"  # another user's (or an older version's) stale spool
    others.write_text("not mine")
    if os.getuid() == 0:
        os.chown(others, 65534, 65534)
    env = {**ENV, "TMPDIR": str(scratch)}
    result = cli("embed", "-", tmp_path / "out.hdf5", "--top", *model_args, input="a b\nc\n", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    closed = subprocess.run(f"{sys.executable} -m torchelmo.cli embed - {tmp_path / 'closed.hdf5'} --top "
                            f"{' '.join(model_args)} <&-", shell=True, capture_output=True, text=True, env=env)
    assert closed.returncode == 2 and last_line(closed) == \
        "torchelmo: error: <stdin>: standard input is closed; give a file or pipe the text in"
    assert os.listdir(scratch) == [others.name] and not (tmp_path / "closed.hdf5").exists()


def test_options_file_given_as_a_pipe_is_read_once(tmp_path, model_args):
    command = (f"{sys.executable} -m torchelmo.cli embed {corpus(tmp_path / 'in.txt', 3)} {tmp_path / 'out.hdf5'} "
               f"--top --options-file <(cat {BUNDLED / 'options.json'}) --weight-file {BUNDLED / 'weights.hdf5'}")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=ENV, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        assert f["0"].shape[1] == 256 and len(f["sentence_to_index"]) == 1


# ------------------------------------------------------------------ the input a job reads is the one it checked
def test_an_input_rewritten_during_the_run_fails_and_writes_nothing(tmp_path, options_file, weight_file):
    source = corpus(tmp_path / "in.txt", 12)
    embedder = ElmoEmbedder(options_file, weight_file)
    original = embedder.embed_batches

    def rewriting(batches, *args):
        corpus(source, 12, seed=7)  # the same number of lines, other text (and size)
        return original(batches, *args)

    embedder.embed_batches = rewriting
    with pytest.raises(InputChangedError, match="in.txt: changed since it was checked"):
        embedder.embed_file(source, tmp_path / "out.hdf5", batch_size=4, checkpoint_every=1, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["in.txt"]


# ------------------------------------------------------------------ damaged files
@pytest.mark.parametrize("damage, reason", [
    ("hidden", "hidden and memory of shapes ((2, 2, 1, 3), (2, 2, 1, 512)), expected"),
    ("ragged", "its tensors do not parse"),
    ("json", "not readable JSON"),
])
def test_a_damaged_cached_warm_state_is_one_line_and_leaves_nothing(tmp_path, run_main, monkeypatch, damage, reason):
    from torchelmo.cache import file_sha256
    from torchelmo.states import cached_warm_state_path

    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    for name in ("options.json", "weights.hdf5"):  # away from the shipped warm_state.json
        shutil.copy(BUNDLED / name, tmp_path / name)
    record = json.loads((BUNDLED / "warm_state.json").read_text())
    if damage == "hidden":
        record["hidden"] = [[[[0.0] * 3]] * 2] * 2
    elif damage == "ragged":
        record["memory"] = [[1.0], [2.0, 3.0]]
    path = cached_warm_state_path(file_sha256(tmp_path / "weights.hdf5"))
    path.parent.mkdir(parents=True)
    path.write_text("{half" if damage == "json" else json.dumps(record))
    result = run_main("embed", corpus(tmp_path / "in.txt", 3), tmp_path / "out.hdf5", "--top", "--state", "warm",
                      "--options-file", tmp_path / "options.json", "--weight-file", tmp_path / "weights.hdf5")
    line = last_line(result)
    assert result.returncode == 2 and line.startswith(f"torchelmo: error: {path}: a damaged warm state (")
    assert reason in line and line.endswith("delete it and it is computed again")
    assert not list(tmp_path.glob("out.hdf5*"))


def test_a_url_without_a_suffix_must_hold_json_or_hdf5(tmp_path, monkeypatch):
    from torchelmo.hub import fetch_url

    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    (tmp_path / "page").write_text("<html>Sign in to continue</html>")
    with pytest.raises(ModelDownloadError, match="not a readable HDF5 or JSON file"):
        fetch_url((tmp_path / "page").as_uri())
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    shutil.copy(BUNDLED / "weights.hdf5", tmp_path / "weights")
    assert Path(fetch_url((tmp_path / "weights").as_uri())).read_bytes() == (BUNDLED / "weights.hdf5").read_bytes()


# ------------------------------------------------------------------ training resume checks contents
def test_train_resume_refuses_a_rewritten_corpus(tmp_path, run_main):
    data = tmp_path / "corpus.txt"
    data.write_text("the cat sat on the mat .\na dog ran .\n" * 10, encoding="utf-8")
    options = tmp_path / "options.json"
    options.write_text(json.dumps(TINY_OPTIONS))
    run = ["train", "--train-data", data, "--output-dir", tmp_path / "run", "--options", options,
           "--batch-size", "2", "--n-negative-samples", "0"]
    assert run_main(*run, "--max-steps", "2").returncode == 0
    data.write_text("the dog sat on the cat .\na mat ran .\n" * 10, encoding="utf-8")  # same name, same words
    before = listing(tmp_path / "run")
    result = run_main(*run, "--max-steps", "3", "--resume")
    assert result.returncode == 2 and last_line(result).startswith(
        f"torchelmo: error: --train-data gives another corpus than the run in {tmp_path / 'run'} was started "
        f"with ({data} holds other text than when the run was started)")
    assert {k: v for k, v in listing(tmp_path / "run").items() if k != "train.log"} == \
        {k: v for k, v in before.items() if k != "train.log"}
    moved = tmp_path / "moved.txt"  # the same contents under another name: an exact continuation
    data.write_text("the cat sat on the mat .\na dog ran .\n" * 10, encoding="utf-8")
    data.rename(moved)
    run[2] = moved
    assert run_main(*run, "--max-steps", "3", "--resume").returncode == 0


def test_train_keeps_a_folder_s_model_files_and_its_own_inputs(tmp_path, run_main):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("options.json", "weights.hdf5"):  # a user's model, no run of torchelmo train
        shutil.copy(BUNDLED / name, run / name)
    data = run / "vocab.txt"  # a data file where the vocabulary would be written
    data.write_text("the cat sat .\n" * 10, encoding="utf-8")
    options = tmp_path / "options.json"
    options.write_text(json.dumps(TINY_OPTIONS))
    command = ["train", "--train-data", data, "--output-dir", run, "--options", options, "--max-steps", "1",
               "--batch-size", "2"]
    before = listing(run)
    for flags, message in (((), f"{data}: is a training file; choose another output"),
                           (("--overwrite",), f"{data}: is a training file; choose another output"),
                           (("--options", run / "options.json"), f"{run / 'options.json'}: is the --options file")):
        result = run_main(*command, *flags)
        assert result.returncode == 2 and message in last_line(result)
    data.rename(tmp_path / "corpus.txt")
    command[2] = tmp_path / "corpus.txt"
    result = run_main(*command)
    assert result.returncode == 2 and last_line(result) == \
        f"torchelmo: error: {run}: holds options.json, weights.hdf5, which training would replace; pass " \
        f"--overwrite to replace it"
    assert {k: v for k, v in listing(run).items() if k != "vocab.txt"} == \
        {k: v for k, v in before.items() if k != "vocab.txt"}
    assert run_main(*command, "--overwrite").returncode == 0


# ------------------------------------------------------------------ exit statuses
def test_exit_statuses_are_the_documented_ones(tmp_path, run_main, monkeypatch):
    missing = tmp_path / "missing.txt"
    result = run_main("embed", missing, tmp_path / "out.hdf5", "--top", "--verbose")
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"torchelmo: error: {missing}: input file not found"
    import torchelmo.cli as cli_module

    for stop in (Terminated(signal.SIGTERM), Terminated(signal.SIGHUP), KeyboardInterrupt()):
        def stopped(args, stop=stop):
            raise stop
        monkeypatch.setattr(cli_module, "_run_evaluate", stopped)
        result = run_main("evaluate", "--options-file", "o", "--weight-file", "w", "--vocab", "v", "--data", "d")
        assert result.returncode == 130 and last_line(result) == "torchelmo: interrupted"


def test_a_reader_that_stops_reading_is_no_error(tmp_path, model_args):
    code = ("import sys; from torchelmo import cli\n"
            "def chatty(args):\n    for i in range(10 ** 6):\n        print('line', i)\n"
            "cli._run_evaluate = chatty\n"
            "sys.exit(cli.main(['evaluate', '--options-file', 'o', '--weight-file', 'w', '--vocab', 'v', "
            "'--data', 'd']))")
    result = subprocess.run(f"{sys.executable} -c \"{code}\" | head -1; echo ${{PIPESTATUS[0]}}", shell=True,
                            executable="/bin/bash", capture_output=True, text=True, env=ENV, timeout=120)
    assert result.stdout.splitlines() == ["line 0", "141"] and result.stderr == ""


# ------------------------------------------------------------------ the library refuses what it cannot do safely
def test_threads_sharing_carried_state_are_refused_others_wait(options_file, weight_file):
    for state in ("carry", "warm"):
        embedder = ElmoEmbedder(options_file, weight_file, state=state)
        inside, release, errors = threading.Event(), threading.Event(), []
        original = embedder.bilm.embed_batches

        def slow(batches, original=original):
            inside.set()
            release.wait(30)
            return original(batches)

        embedder.bilm.embed_batches = slow
        first = threading.Thread(target=embedder.embed_sentence, args=(["a", "b"],))
        first.start()
        inside.wait(30)

        def second():
            try:
                errors.append(embedder.embed_sentence(["c"]).shape)
            except ConcurrentUseError as error:
                errors.append(error)

        other = threading.Thread(target=second)
        other.start()
        other.join(0.5 if state == "warm" else 30)
        release.set()
        first.join(30)
        other.join(30)
        if state == "carry":
            assert isinstance(errors[0], ConcurrentUseError) and "give each thread its own ElmoEmbedder" in \
                str(errors[0])
        else:
            assert errors == [(3, 1, 32)]


@pytest.mark.parametrize("call, message", [
    (lambda e: e.embed_sentence([["a"]]), "batch 0, sentence 0: a token must be a str, got list ['a']"),
    (lambda e: e.embed_batch([["a"], None]), "batch 0, sentence 1: a sentence must be a list of str tokens"),
    (lambda e: e.embed_batch([["a", 3]]), "a token must be a str, got int 3"),
    (lambda e: e.batch_to_embeddings([]), "an empty batch: give at least one sentence"),
])
def test_nested_tokens_and_empty_batches_are_clear_errors(options_file, weight_file, call, message):
    embedder = ElmoEmbedder(options_file, weight_file)
    with pytest.raises(TokensError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call(embedder)
    assert embedder.embed_batch([]) == []


# ------------------------------------------------------------------ the helpers
def test_atomic_directory_keeps_others_files_and_leaves_nothing_when_interrupted(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(target) as work:
            write_json(os.path.join(work, "metrics.json"), {"half": True})
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    target.mkdir()
    (target / "notes.txt").write_text("the user's")
    (target / "metrics.json").write_text("the user's metrics")
    with pytest.raises(Exception, match="already holds files; pass overwrite=True"):
        with atomic_directory(target):
            pass
    with atomic_directory(target, overwrite=True, inputs=[("the data", str(target / "notes.txt"))]) as work:
        write_json(os.path.join(work, "metrics.json"), {"new": 1})
    assert json.loads((target / "metrics.json").read_text()) == {"new": 1}
    assert (target / "notes.txt").read_text() == "the user's" and sorted(os.listdir(tmp_path)) == ["model"]
    with pytest.raises(Exception, match="notes.txt: is the data; choose another output"):
        with atomic_directory(target, overwrite=True, inputs=[("the data", str(target / "notes.txt"))]) as work:
            write_json(os.path.join(work, "notes.txt"), {"new": 1})
    assert (target / "notes.txt").read_text() == "the user's" and sorted(os.listdir(tmp_path)) == ["model"]


# ------------------------------------------------------------------ task commands
EWT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ud-english-ewt"
TASK_CONFIG = {"data": {"reader": {"type": "conllu"},
                        "train": {"path": str(EWT / "en_ewt-ud-train.conllu"), "limit": 16},
                        "validation": {"path": str(EWT / "en_ewt-ud-dev.conllu"), "limit": 8}},
               "model": {"type": "tagger", "embedders": {"words": {"dim": 4}},
                         "encoder": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0}},
               "trainer": {"epochs": 1, "batch_size": 8, "max_batches_per_epoch": 1}}


@pytest.fixture(scope="module")
def task_model(tmp_path_factory):
    from torchelmo.tasks import parse_config, train

    folder = tmp_path_factory.mktemp("task") / "model"
    train(parse_config(TASK_CONFIG), str(folder))
    return folder


def test_task_commands_never_write_onto_their_inputs_nor_replace_unasked(task_model, tmp_path, run_main):
    text = tmp_path / "in.txt"
    text.write_text("The cat sat .\nA dog ran .\n")
    data = tmp_path / "d.conllu"
    shutil.copy(EWT / "en_ewt-ud-dev.conllu", data)
    data.write_text("".join(data.read_text().split("\n\n", 3)[:3]) + "\n\n")  # 3 sentences
    before = listing(tmp_path)
    refused = [
        (["task", "predict", task_model, text, "--text", "--output", text, "--overwrite"], f"{text}: is the data"),
        (["task", "evaluate", task_model, data, "--predictions", data, "--overwrite"], f"{data}: is the data"),
        (["task", "evaluate", task_model, data, "--output", data], f"{data}: is the data"),
        (["task", "evaluate", task_model, data, "--output", task_model / "config.json", "--overwrite"],
         "config.json: is a file of the model"),
        (["task", "evaluate", task_model, data, "--output", tmp_path / "x", "--predictions", tmp_path / "x"],
         "x: given for two outputs; each needs its own file"),
    ]
    for command, message in refused:
        result = run_main(*command)
        assert result.returncode == 2 and message in last_line(result), last_line(result)
    assert listing(tmp_path) == before
    out = tmp_path / "out.jsonl"
    out.write_text("precious")
    predict = ["task", "predict", task_model, text, "--text", "--output", out]
    result = run_main(*predict)
    assert result.returncode == 2 and last_line(result) == \
        f"torchelmo: error: {out}: already exists; pass --overwrite to replace it"
    assert out.read_text() == "precious"
    assert run_main(*predict, "--overwrite").returncode == 0 and len(out.read_text().splitlines()) == 2


def test_task_train_keeps_others_files_and_an_interrupted_run_leaves_nothing(tmp_path, run_main):
    config = tmp_path / "config.json"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "metrics.json").write_text("the user's metrics")
    config.write_text(json.dumps(TASK_CONFIG))
    result = run_main("task", "train", config, "--output-dir", folder)
    assert result.returncode == 2 and last_line(result) == \
        f"torchelmo: error: {folder}: already holds files; pass --overwrite to replace it"
    assert os.listdir(folder) == ["metrics.json"] and (folder / "metrics.json").read_text() == "the user's metrics"
    stopped = {**TASK_CONFIG, "trainer": {**TASK_CONFIG["trainer"], "validation_metric": "bogus"}}
    config.write_text(json.dumps(stopped))  # fails after the first epoch has written model.pt
    result = run_main("task", "train", config, "--output-dir", tmp_path / "new")
    assert result.returncode == 2 and "trainer.validation_metric: 'bogus'" in last_line(result)
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model"]


@pytest.mark.parametrize("damage, message", [
    ("dimension", "model.pt: does not fit config.json and vocabularies.json beside it (RuntimeError: "),
    ("vocabularies", "vocabularies.json: not the vocabularies of a trained model"),
    ("tensor", "model.pt: does not fit config.json and vocabularies.json beside it (RuntimeError: "),
    ("config", "config.json: model.encoder.hidden_size: expected positive int, got -4"),
])
def test_a_damaged_task_archive_is_one_line(task_model, tmp_path, run_main, damage, message):
    folder = tmp_path / "model"
    shutil.copytree(task_model, folder)
    if damage in ("dimension", "config"):
        config = json.loads((folder / "config.json").read_text())
        config["model"]["encoder"]["hidden_size"] = 6 if damage == "dimension" else -4
        (folder / "config.json").write_text(json.dumps(config))
    elif damage == "vocabularies":
        (folder / "vocabularies.json").write_text(json.dumps({"words": [1, 2, 3]}))
    else:
        weights = torch.load(folder / "model.pt", weights_only=True)
        name = next(iter(weights))
        weights[name] = torch.zeros(*(s + 1 for s in weights[name].shape))
        torch.save(weights, folder / "model.pt")
    for command in ("evaluate", "predict"):
        result = run_main("task", command, folder, EWT / "en_ewt-ud-dev.conllu")
        assert result.returncode == 2 and last_line(result).startswith(f"torchelmo: error: {folder}/{message}")


def test_a_yaml_alias_bomb_is_one_short_line(tmp_path, run_main):
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    bomb.write_text("\n".join(lines) + "\n")
    result = run_main("task", "train", bomb, "--output-dir", tmp_path / "out")
    assert result.returncode == 2 and last_line(result) == \
        f"torchelmo: error: {bomb}:2: invalid YAML (aliases (*name) are not allowed in a config; write the value out)"
    assert not (tmp_path / "out").exists()


def test_task_predict_into_a_closed_pipe_is_quiet(task_model, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("The cat sat .\n" * 3000)
    command = f"{sys.executable} -m torchelmo.cli task predict {task_model} {text} --text | head -1; " \
              f"echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(command, shell=True, executable="/bin/bash", capture_output=True, text=True, env=ENV,
                            timeout=300)
    lines = result.stdout.splitlines()
    assert json.loads(lines[0])["tokens"] == ["The", "cat", "sat", "."] and lines[1] == "141"
    assert "Error" not in result.stderr and "Traceback" not in result.stderr


def test_task_readers_take_an_encoding_and_errors(tmp_path):
    from torchelmo.errors import InputError
    from torchelmo.tasks import parse_config
    from torchelmo.tasks.sources import read_source

    trec = tmp_path / "trec.tsv"  # TREC keeps its original encoding: one stray Latin-1 byte
    trec.write_bytes(b"DESC\tHow did serfdom develop in and then leave Russia ?\n"
                     b"HUM\tWho was the first Pr\xe9sident ?\n")

    def read(**reader):
        config = parse_config({**TASK_CONFIG, "data": {"reader": {"type": "classification", **reader},
                                                       "train": {"path": str(trec)},
                                                       "validation": {"path": str(trec)}},
                               "model": {"type": "classifier", "embedders": {"words": {"dim": 4}},
                                         "encoder": {"hidden_size": 4, "num_layers": 1, "dropout": 0.0}}})
        return [x.tokens for x in read_source(config.data.train, config.data.reader)]

    with pytest.raises(InputError, match=r"trec.tsv:2: not valid UTF-8 \(.*\); set encoding, or errors: replace, in "
                                         r"the reader config"):
        read()
    assert read(encoding="latin-1")[1] == ["Who", "was", "the", "first", "Président", "?"]
    assert read(errors="replace")[1] == ["Who", "was", "the", "first", "Pr\ufffdsident", "?"]
    with pytest.raises(ConfigurationError, match="data.reader.encoding: unknown encoding 'klingon'"):
        read(encoding="klingon")
