"""Nothing lost, nothing clobbered (issue 14, docs/reliability.md): full disks on real small
filesystems, locks, signals, refused commands, odd inputs, and the one atomic-write helper."""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import pytest

from torchelmo import ElmoEmbedder
from torchelmo.cli import build_parser, error_line, main
from torchelmo.errors import (ElmoError, Interrupted, LockedError, ModelDownloadError, OutputError,
                              OutputExistsError, TokensError)
from torchelmo.files import atomic_file, atomic_path, output_errors, output_lock, write_json
from test_embed_job import ENV, assert_same_content, corpus, listing
from training_support import TINY_OPTIONS


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def cli(*args, stdin=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "torchelmo.cli", *map(str, args)], input=stdin,
                          capture_output=True, text=True, env=ENV, timeout=timeout)


@pytest.fixture
def run_main(capsys):
    """``torchelmo`` in this process (faster than a subprocess): -> (exit status, stderr)."""
    def run(*args):
        capsys.readouterr()
        status = main([str(a) for a in args])
        return subprocess.CompletedProcess(args, status, "", capsys.readouterr().err)
    return run


def temporaries(folder):
    return [p for p in folder.rglob("*") if ".tmp-" in p.name]


def finished_names(folder):
    """Paths under ``folder`` other than temporaries (which a running job renames at any moment)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp-" not in str(p.relative_to(folder))}


def one_error_line(result):
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert lines[-1].startswith("torchelmo: error: "), result.stderr[-3000:]
    return lines[-1]


@pytest.fixture
def small_fs(tmp_path):
    """``mount(size_kb, read_only=False)`` -> a folder on a fresh tmpfs of that size (root only)."""
    mounted = []

    def mount(size_kb, read_only=False):
        target = tmp_path / f"fs{len(mounted)}"
        target.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here (needs root): {result.stderr.decode().strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


LINES = 200


@pytest.fixture(scope="module")
def embedded_size(options_file, weight_file, tmp_path_factory):
    """Bytes of the ``--all`` output of the test corpus (to size a filesystem around it)."""
    folder = tmp_path_factory.mktemp("size")
    output = folder / "out.hdf5"
    ElmoEmbedder(options_file, weight_file).embed_file(str(corpus(folder / "in.txt", LINES)), output,
                                                       batch_size=4, progress=False)
    return os.path.getsize(output)


@pytest.mark.parametrize("stage", ["start", "mid-run", "merge"])
def test_full_disk_while_embedding(small_fs, embedded_size, tmp_path, model_args, stage):
    lines, size = LINES, embedded_size
    # kB: too small for job.json; half the output; room for the segments but not the merged file too
    fs = small_fs({"start": 16, "mid-run": size // 2048, "merge": size * 16 // 10240}[stage])
    source = corpus(tmp_path / "in.txt", lines)
    every = 10 if stage == "merge" else 2
    result = cli("embed", source, fs / "out.hdf5", "--all", "--batch-size", 4, "--checkpoint-every", every,
                 *model_args)
    assert result.returncode == 2, result.stderr[-3000:]
    line = one_error_line(result)
    assert "no space left on device" in line
    assert not temporaries(fs) and not (fs / "out.hdf5").exists() and not (fs / "out.hdf5.lock").exists()
    segments = list(fs.glob("out.hdf5.partial/segment-*.h5"))
    if stage == "start":  # nothing was finished: no partial output, no advice to resume
        assert not (fs / "out.hdf5.partial").exists() and "--resume" not in line
    else:  # the advice is true: the finished segments are there
        assert segments and f"finished work is kept in {fs}/out.hdf5.partial" in line and "--resume" in line
    if stage == "merge":
        assert len(segments) == -(-lines // 40)  # every segment was done; only the merge did not fit
        assert "out.hdf5: cannot write" in line


def test_full_disk_while_training(small_fs, tmp_path):
    fs = small_fs(512)
    data = tmp_path / "corpus.txt"
    data.write_text("the cat sat on the mat .\na dog ran .\n" * 50, encoding="utf-8")
    options = tmp_path / "options.json"
    options.write_text(json.dumps({**TINY_OPTIONS, "lstm": {**TINY_OPTIONS["lstm"], "dim": 1024}}))
    result = cli("train", "--train-data", data, "--output-dir", fs / "run", "--options", options,
                 "--max-steps", 2, "--batch-size", 2)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "no space left on device" in one_error_line(result)
    assert not temporaries(fs)


def test_read_only_target_and_long_names_give_true_advice(small_fs, tmp_path, model_args, run_main):
    source = corpus(tmp_path / "in.txt", 5)
    fs = small_fs(1024, read_only=True)
    result = run_main("embed", source, fs / "out.hdf5", "--top", *model_args)
    assert result.returncode == 2 and "read-only file system" in one_error_line(result)
    assert "--resume" not in result.stderr
    long_name = tmp_path / ("x" * 250 + ".h5")  # a legal name whose .partial is too long
    result = run_main("embed", source, long_name, "--top", *model_args)
    assert result.returncode == 2 and "file name too long" in one_error_line(result)
    assert "--resume" not in result.stderr and not temporaries(tmp_path)


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "no space left on device"),
                                          (errno.EDQUOT, "disk quota exceeded"),
                                          (errno.EROFS, "read-only file system"),
                                          (errno.ENAMETOOLONG, "file name too long"),
                                          (errno.EACCES, "permission denied")])
def test_write_errors_become_one_output_error(tmp_path, code, reason):
    target = tmp_path / "out.json"
    with pytest.raises(OutputError, match=f"{target}: cannot write \\({reason}\\)") as error:
        with atomic_file(target) as f:
            f.write("partial")
            raise OSError(code, os.strerror(code))
    assert error.value.path == str(target) and error.value.exit_code == 2
    assert os.listdir(tmp_path) == []  # no temporary left
    with pytest.raises(OutputError, match=reason):  # h5py puts the errno only in its message
        with output_errors(str(target)):
            raise OSError(f"Can't write data (file write failed: errno = {code}, error message = 'x')")


def test_atomic_write_replaces_only_when_complete_and_sweeps_dead_temporaries(tmp_path):
    target = tmp_path / "data.json"
    write_json(target, {"a": 1})
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            open(tmp, "w").write("{half")
            raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"a": 1} and sorted(os.listdir(tmp_path)) == ["data.json"]
    stale = killed_during_write(tmp_path / "other.h5")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    users = [tmp_path / f".notes.tmp-{dead.pid}", tmp_path / f".draft.tmp-{dead.pid}-abcdefgh"]
    users[0].write_text("the user's own file")
    users[1].mkdir()  # the user's own folder of a temporary's name, without the marker
    write_json(target, [1, 2])
    assert not stale.exists() and all(path.exists() for path in users)
    assert sorted(os.listdir(tmp_path)) == sorted(["data.json"] + [p.name for p in users])


def killed_during_write(target):
    """The temporary folder a process killed with ``kill -9`` while writing ``target`` leaves."""
    code = ("import os, signal, sys; from torchelmo.files import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n    open(tmp, 'w').write('half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)")
    assert subprocess.run([sys.executable, "-c", code, str(target)], env=ENV).returncode == -signal.SIGKILL
    left = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.tmp-")]
    assert len(left) == 1 and (left[0] / target.name).read_text() == "half"
    return left[0]


def test_lock_refuses_a_second_writer_at_once(tmp_path):
    lock = str(tmp_path / "out.hdf5.lock")
    with output_lock(lock):
        holder = subprocess.run([sys.executable, "-c", "import sys; from torchelmo.files import output_lock\n"
                                 f"with output_lock({lock!r}): pass"], capture_output=True, text=True, env=ENV)
        assert "LockedError" in holder.stderr and "another process is writing this output now" in holder.stderr
    assert not os.path.exists(lock)
    with output_lock(lock):  # free again
        pass


def test_two_runs_into_one_output_and_sigterm(options_file, weight_file, tmp_path, model_args):
    # Far more than the test lets it do, even on a fast idle machine: one sentence a batch.
    source = corpus(tmp_path / "in.txt", 100000, seed=3)
    output = tmp_path / "out.hdf5"
    args = [sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(output), "--top", *model_args,
            "--batch-size", "1", "--checkpoint-every", "10"]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(tmp_path.glob("out.hdf5.partial/segment-*"))) < 2:
        time.sleep(0.05)
    before = finished_names(tmp_path)
    second = cli(*args[3:])
    assert second.returncode == 2 and "another process is writing this output now" in one_error_line(second)
    first.send_signal(signal.SIGTERM)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130 and "terminated by signal 15; finished work is kept in" in stderr
    assert "Traceback" not in stderr and not temporaries(tmp_path) and not output.exists()
    assert before - {"out.hdf5.lock"} <= finished_names(tmp_path)  # the second run removed nothing
    assert not (tmp_path / "out.hdf5.lock").exists() and (tmp_path / "out.hdf5.partial" / "job.json").exists()


def test_refused_commands_change_nothing(tmp_path, model_args, run_main):
    source = corpus(tmp_path / "in.txt", 6)
    out = tmp_path / "out.hdf5"
    assert run_main("embed", source, out, "--top", *model_args).returncode == 0
    refused = {  # flags -> what the one line says
        (): "out.hdf5: already exists; pass --overwrite to replace it",
        ("--resume",): "already exists and there is no interrupted run to resume; pass --overwrite",
    }
    (tmp_path / "in.txt.partial").mkdir()  # output == input, even with --resume --overwrite
    for flags, message in refused.items():
        before = listing(tmp_path)
        result = run_main("embed", source, out, "--top", *model_args, *flags)
        assert result.returncode == 2 and message in one_error_line(result)
        assert listing(tmp_path) == before
    before = listing(tmp_path)
    for flags in ((), ("--resume",), ("--resume", "--overwrite")):
        result = run_main("embed", source, source, "--top", *model_args, *flags)
        assert result.returncode == 2 and "is the input file" in one_error_line(result)
        assert listing(tmp_path) == before


def test_embed_file_has_the_cli_guarantees(options_file, weight_file, tmp_path):
    source = corpus(tmp_path / "in.txt", 40)
    out = tmp_path / "out.hdf5"
    out.write_bytes(b"precious")
    embedder = ElmoEmbedder(options_file, weight_file)
    with pytest.raises(OutputExistsError, match="already exists; pass overwrite=True"):
        embedder.embed_file(source, out, progress=False)
    assert out.read_bytes() == b"precious"
    original, calls = embedder.embed_batches, {"n": 0}

    def failing(batches, *window):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(batches, *window)

    embedder.embed_batches = failing
    with pytest.raises(Interrupted, match="finish it with resume=True"):
        embedder.embed_file(source, out, batch_size=4, checkpoint_every=1, overwrite=True, progress=False)
    assert out.read_bytes() == b"precious" and len(list(tmp_path.glob("out.hdf5.partial/segment-*"))) == 2
    embedder.embed_batches = original
    for resume in (False, True):  # with resume too: a complete output is replaced only with overwrite
        with pytest.raises(OutputExistsError, match="already exists; pass overwrite=True"):
            embedder.embed_file(source, out, batch_size=4, checkpoint_every=1, resume=resume, progress=False)
    assert out.read_bytes() == b"precious"
    stale = [killed_during_write(tmp_path / "out.hdf5"),  # what kill -9 during a write leaves
             killed_during_write(tmp_path / "out.hdf5.partial" / "segment.h5")]
    ElmoEmbedder(options_file, weight_file).embed_file(source, out, batch_size=4, checkpoint_every=1,
                                                       resume=True, overwrite=True, progress=False)
    assert not any(path.exists() for path in stale)
    ElmoEmbedder(options_file, weight_file).embed_file(source, tmp_path / "whole.hdf5", batch_size=4,
                                                       progress=False)
    assert_same_content(out, tmp_path / "whole.hdf5")


def test_non_regular_inputs_are_read_once(tmp_path, model_args):
    text = "Hello there .\nBye\n"
    out = tmp_path / "stdin.hdf5"
    result = cli("embed", "/dev/stdin", out, "--top", *model_args, stdin=text)
    assert result.returncode == 0, result.stderr
    command = (f"{sys.executable} -m torchelmo.cli embed <(printf 'Hello there .\\nBye\\n') "
               f"{tmp_path / 'pipe.hdf5'} --top {' '.join(model_args)}")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    for name in ("stdin.hdf5", "pipe.hdf5"):
        with h5py.File(tmp_path / name, "r") as f:
            assert f["0"].shape == (3, 32) and f["1"].shape == (1, 32)
            assert json.loads(f["sentence_to_index"][0]) == {"Hello there .": "0", "Bye": "1"}


def test_bom_and_cr_only_line_ends(tmp_path, model_args, run_main):
    source = tmp_path / "mac.txt"
    source.write_bytes(b"\xef\xbb\xbfHello there\rBye\r\rok .\r\n")
    out = tmp_path / "out.hdf5"
    result = run_main("embed", source, out, "--top", "--blank-lines", "skip", *model_args)
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        assert json.loads(f["sentence_to_index"][0]) == {"Hello there": "0", "Bye": "1", "ok .": "3"}
        assert list(f.attrs["skipped_lines"]) == [2]


@pytest.mark.parametrize("text, flags, message", [
    ("a\na/b\n", [], "line 2 contains '/'"),
    ("a/b\na\n", [], "line 1 contains '/'"),
    ("a\n\nb\n", ["--blank-lines", "empty"], "line 2 is empty; it cannot be a key"),
    ("a\n.\n", [], "line 2 is '.'"),
])
def test_sentence_keys_that_hdf5_cannot_hold(tmp_path, model_args, run_main, text, flags, message):
    source = tmp_path / "in.txt"
    source.write_text(text)
    result = run_main("embed", source, tmp_path / "out.hdf5", "--top", "--use-sentence-keys", *flags, *model_args)
    line = one_error_line(result)
    assert result.returncode == 2 and message in line and "drop --use-sentence-keys" in line
    assert sorted(os.listdir(tmp_path)) == ["in.txt"]


def test_a_string_is_not_a_sentence(options_file, weight_file):
    embedder = ElmoEmbedder(options_file, weight_file)
    for call in (lambda: embedder.embed_sentence("hello"), lambda: embedder.embed_batch(["hello", ["a"]])):
        with pytest.raises(TokensError, match="a list of tokens, got a str") as error:
            call()
        assert isinstance(error.value, TypeError) and isinstance(error.value, ElmoError)


def test_huge_batch_size_does_not_preallocate(tmp_path, model_args):
    source = corpus(tmp_path / "in.txt", 10)
    measure = ("import resource, sys; from torchelmo.cli import main; code = main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
    peaks = []
    for batch_size in (4, 10 ** 9):
        result = subprocess.run([sys.executable, "-c", measure, "embed", str(source),
                                 str(tmp_path / f"{batch_size}.hdf5"), "--top", "--batch-size", str(batch_size),
                                 *model_args], capture_output=True, text=True, env=ENV)
        assert result.returncode == 0, result.stderr[-2000:]
        peaks.append(int(result.stdout.split()[-1]))
    assert peaks[1] < 1.3 * peaks[0], peaks  # kB of peak resident memory


def test_every_json_written_is_valid(tmp_path):
    data = tmp_path / "corpus.txt"
    data.write_text("the cat sat on the mat .\na dog ran .\n" * 10, encoding="utf-8")
    options = tmp_path / "options.json"
    options.write_text(json.dumps(TINY_OPTIONS))
    result = cli("train", "--train-data", data, "--output-dir", tmp_path / "run", "--options", options,
                 "--max-steps", 2, "--batch-size", 2, "--heldout-data", data)
    assert result.returncode == 0, result.stderr[-2000:]
    written = list((tmp_path / "run").glob("*.json")) + list((tmp_path / "run").glob("*.jsonl"))
    assert {p.name for p in written} >= {"train_config.json", "heldout.json", "options.json"}
    for path in written:
        for line in ([path.read_text()] if path.suffix == ".json" else path.read_text().splitlines()):
            json.loads(line)


def test_downloads_are_validated_before_they_are_cached(tmp_path, monkeypatch):
    from torchelmo.hub import fetch_url

    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    for name, content in (("bad.json", b'{"lstm": '), ("bad.hdf5", b"\x89HDF\r\n\x1a\n truncated")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ModelDownloadError, match="downloaded model is not valid"):
            fetch_url((tmp_path / name).as_uri())
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    (tmp_path / "good.json").write_text('{"a": 1}')
    assert json.load(open(fetch_url((tmp_path / "good.json").as_uri()))) == {"a": 1}


def test_hints_name_only_flags_the_command_has():
    embed = build_parser().parse_args(["embed", "in", "out", "--all"])
    predict = build_parser().parse_args(["task", "predict", "model", "in", "--text"])
    error = ElmoError("in: line 2 repeats line 1", hint="sentence_keys")
    assert error_line(error, embed) == "torchelmo: error: in: line 2 repeats line 1; drop --use-sentence-keys to " \
                                       "key datasets by line index"
    assert error_line(error, predict) == "torchelmo: error: in: line 2 repeats line 1"  # predict has no such flag
    assert str(error) == "in: line 2 repeats line 1; key the datasets by line index instead (use_sentence_keys=False)"
    encoding = ElmoError("in: line 2 is not valid UTF-8", hint="errors")
    assert error_line(encoding, predict).endswith("; use --errors replace or --errors skip")
    assert Interrupted("x", signalled=True).exit_code == 130 and LockedError("x").exit_code == 2
