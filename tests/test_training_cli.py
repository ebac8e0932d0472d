"""`torchelmo train` / `torchelmo evaluate`: settings precedence, outputs, one-line errors."""
import json

import pytest

from torchelmo.cli import main
from training_support import TINY_OPTIONS, one_thread  # noqa: F401 (one_thread: a fixture)


@pytest.fixture()
def files(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat .\na dog ran .\n\nthe dog sat .\n" * 20, encoding="utf-8")
    options = tmp_path / "options.json"
    # bilm-tf's own keys: batch size, sampled negatives, clip; unroll_steps means nothing here.
    options.write_text(json.dumps({**TINY_OPTIONS, "batch_size": 5, "n_negative_samples_batch": 4,
                                   "all_clip_norm_val": 2.5, "unroll_steps": 20}))
    return corpus, options


def test_train_then_evaluate(one_thread, files, tmp_path, capsys):
    corpus, options = files
    run = tmp_path / "run"
    assert main(["train", "--train-data", str(corpus), "--output-dir", str(run), "--options", str(options),
                 "--max-steps", "3", "--log-every", "1", "--dropout", "0", "--heldout-data", str(corpus)]) == 0
    settings = json.load(open(run / "train_config.json"))["training"]
    assert (settings["batch_size"], settings["n_negative_samples"], settings["clip_norm"]) == (5, 4, 2.5)
    assert (settings["max_steps"], settings["dropout"]) == (3, 0)  # flags win over the options file
    assert "step 3/3" in open(run / "train.log").read()
    assert main(["evaluate", "--options-file", str(run / "options.json"), "--weight-file", str(run / "weights.hdf5"),
                 "--vocab", str(run / "vocab.txt"), "--data", str(corpus), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == pytest.approx({k: v for k, v in json.load(open(run / "heldout.json")).items() if k != "step"})
    assert printed["sentences"] == 60 and printed["predictions"] == 20 * (8 + 5 + 5)  # words + </S>


@pytest.mark.parametrize("arguments, message", [
    (["--train-data", "{tmp}/none*.txt"], "--train-data '{tmp}/none*.txt': no files match"),
    (["--train-data", "{corpus}", "--batch-size", "0"], "training setting batch_size: expected a positive integer, got 0"),
    (["--train-data", "{corpus}", "--resume"], "train_config.json: not found"),
    (["--train-data", "{corpus}", "--vocab", "{words}"], "words.txt: vocabulary: missing the special token(s) <S>, </S>"),
])
def test_train_errors_are_one_line(files, tmp_path, capsys, arguments, message):
    corpus, options = files
    (tmp_path / "words.txt").write_text("the\ncat\n<UNK>\n", encoding="utf-8")
    fill = {"tmp": str(tmp_path), "corpus": str(corpus), "words": str(tmp_path / "words.txt")}
    arguments = [a.format(**fill) for a in arguments]
    assert main(["train", *arguments, "--output-dir", str(tmp_path / "out"), "--options", str(options)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("torchelmo: error: ") and message.format(**fill) in error


def test_options_file_training_keys_are_validated(files, tmp_path, capsys):
    corpus, _ = files
    options = tmp_path / "bad.json"
    options.write_text(json.dumps({**TINY_OPTIONS, "dropout": 1.5}))
    assert main(["train", "--train-data", str(corpus), "--output-dir", str(tmp_path / "out"),
                 "--options", str(options)]) == 2
    assert "training setting dropout: expected a number in [0, 1), got 1.5" in capsys.readouterr().err


def test_options_too_big_for_memory_fail_before_the_output_directory_is_made(files, tmp_path, capsys):
    corpus, _ = files
    options = tmp_path / "huge.json"
    options.write_text(json.dumps({**TINY_OPTIONS, "lstm": {**TINY_OPTIONS["lstm"], "dim": 10 ** 11}}))
    assert main(["train", "--train-data", str(corpus), "--output-dir", str(tmp_path / "out"),
                 "--options", str(options)]) == 2
    assert "options.lstm.dim 100000000000" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
