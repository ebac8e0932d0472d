"""`torchelmo embed` as a user runs it: outputs, one-line errors with exit status 2."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from torchelmo.cli import main

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "torchelmo.cli", *args], input=stdin, capture_output=True,
                          env=ENV)


def test_embed_all_top_average(tmp_path, model_args):
    source = tmp_path / "sentences.txt"
    source.write_text("The cat sat .\nI ate an apple .\n")
    for flag in ("--all", "--top", "--average"):
        out = tmp_path / f"{flag[2:]}.hdf5"
        assert main(["embed", str(source), str(out), flag, *model_args]) == 0
    with h5py.File(tmp_path / "all.hdf5", "r") as a, h5py.File(tmp_path / "top.hdf5", "r") as t, \
            h5py.File(tmp_path / "average.hdf5", "r") as m:
        assert a["1"].shape == (3, 5, 32) and t["1"].shape == (5, 32) and m["1"].shape == (5, 32)
        assert np.allclose(t["1"][...], a["1"][2], atol=1e-6)
        assert np.allclose(m["1"][...], a["1"][...].mean(axis=0), atol=1e-6)


def test_stdin_crlf_and_missing_final_newline(tmp_path, model_args):
    out = tmp_path / "out.hdf5"
    result = run_cli("embed", "-", str(out), "--top", *model_args, stdin=b"Hello there .\r\nBye")
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert f["0"].shape == (3, 32) and f["1"].shape == (1, 32)
        assert f["sentence_to_index"][0] == b'{"Hello there .": "0", "Bye": "1"}'
    assert b"Embedding <stdin>" in result.stderr  # the log names input, model and device
    assert b"on cpu" in result.stderr


# (files to create, input name, extra flags, expected message)
BAD_RUNS = [
    ({}, "missing.txt", [], "missing.txt: input file not found"),
    ({}, ".", [], "is a directory"),
    ({"in.txt": b"ok .\nbad \xff byte\n"}, "in.txt", [], "line 2 is not valid UTF-8"),
    ({"in.txt": b"a\n\nb\n"}, "in.txt", [], "empty line(s), at line(s) 2"),
    ({"in.txt": b"a\n"}, "in.txt", ["--weight-file", "w.hdf5"], "w.hdf5: weight file not found"),
    ({"in.txt": b"a\n", "w.hdf5": b"\x89HDF\r\n junk"}, "in.txt", ["--weight-file", "w.hdf5"],
     "not a readable HDF5"),
    ({"in.txt": b"a\n", "o.json": b'{"lstm": {}}'}, "in.txt", ["--options-file", "o.json"],
     "options.char_cnn: missing"),
    ({"in.txt": b"a\n", "o.json": b"{nope"}, "in.txt", ["--options-file", "o.json"], "not a valid JSON"),
]


@pytest.mark.parametrize("files, source, extra, message", BAD_RUNS)
def test_errors_are_one_line_with_status_2(tmp_path, model_args, files, source, extra, message):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    extra = [str(tmp_path / a) if a.endswith((".hdf5", ".json")) else a for a in extra]
    result = run_cli("embed", str(tmp_path / source), str(tmp_path / "out.hdf5"), "--all", *model_args, *extra)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert message in stderr and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("torchelmo: error:")
    assert not (tmp_path / "out.hdf5").exists()


def test_existing_output_is_not_overwritten(tmp_path, model_args):
    source = tmp_path / "in.txt"
    source.write_text("a b\n")
    out = tmp_path / "out.hdf5"
    out.write_bytes(b"precious")
    assert main(["embed", str(source), str(out), "--top", *model_args]) == 2
    assert out.read_bytes() == b"precious"
    assert main(["embed", str(source), str(out), "--top", "--overwrite", *model_args]) == 0
    with h5py.File(out, "r") as f:
        assert f["0"].shape == (2, 32)


def test_verbose_shows_the_traceback(tmp_path, model_args):
    result = run_cli("embed", str(tmp_path / "nope.txt"), str(tmp_path / "o.hdf5"), "--all", "--verbose",
                     *model_args)
    assert result.returncode == 2 and b"Traceback" in result.stderr  # --verbose never changes the status
    assert result.stderr.strip().splitlines()[-1].endswith(b"nope.txt: input file not found")


def test_mismatched_options_and_weights(tmp_path, model_args, options_file):
    import json
    options = json.loads(open(options_file).read())
    options["lstm"]["projection_dim"] = 8
    (tmp_path / "o.json").write_text(json.dumps(options))
    (tmp_path / "in.txt").write_text("a\n")
    result = run_cli("embed", str(tmp_path / "in.txt"), str(tmp_path / "out.hdf5"), "--all", *model_args,
                     "--options-file", str(tmp_path / "o.json"))
    assert result.returncode == 2
    assert b"options.lstm.projection_dim is 8 but the weights have 16 (dataset 'CNN_proj/W_proj' has shape (124, 16))" \
        in result.stderr
