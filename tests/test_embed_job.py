"""Resumable, sharded embedding jobs give exactly what one uninterrupted process gives."""
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from torchelmo import ElmoEmbedder
from torchelmo.errors import Interrupted, ResumeError
from torchelmo.embed_job import EmbedSettings, embed_shard, merge_segments, run_embedding_job
from torchelmo.sentences import open_sentence_file

# One thread per process: the tiny model gains nothing from more, and tests stay steady on a busy machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
WORDS = "the a cat dog sat ran on under mat tree quickly slowly . , and but".split()


def corpus(path, n, seed=0):
    rng = np.random.default_rng(seed)
    lines = [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_all(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in f}, dict(f.attrs)


def assert_same_content(a, b, atol=1e-6):
    data_a, data_b = read_all(a)[0], read_all(b)[0]
    assert data_a.keys() == data_b.keys()
    for key in data_a:
        if key == "sentence_to_index":
            assert data_a[key][0] == data_b[key][0]
        else:
            assert data_a[key].shape == data_b[key].shape, key
            assert np.allclose(data_a[key], data_b[key], atol=atol), key


def test_interrupted_job_resumes_to_the_same_content(options_file, weight_file, tmp_path):
    source_path = corpus(tmp_path / "in.txt", 40)
    settings = EmbedSettings(batch_size=4, checkpoint_every=2)
    ElmoEmbedder(options_file, weight_file).embed_file(str(source_path), tmp_path / "whole.hdf5", batch_size=4)

    embedder = ElmoEmbedder(options_file, weight_file)
    calls = {"n": 0}
    original = embedder.embed_batches

    def failing(batches, *window):  # called once per segment of 2 batches; the third fails
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(batches, *window)

    embedder.embed_batches = failing
    output = str(tmp_path / "out.hdf5")
    source = open_sentence_file(str(source_path))
    with pytest.raises(Interrupted, match="finished work is kept in .*out.hdf5.partial; finish it with resume=True"):
        run_embedding_job(embedder, source, output, settings, progress=False)
    assert not os.path.exists(output)
    segments = sorted(os.listdir(output + ".partial"))
    assert segments == ["job.json", "segment-r0-b000000000-000000002.h5", "segment-r0-b000000002-000000004.h5"]

    run_embedding_job(ElmoEmbedder(options_file, weight_file), source, output, settings, resume=True,
                      progress=False)
    assert_same_content(output, tmp_path / "whole.hdf5")
    assert not os.path.exists(output + ".partial")


def interrupted_run(embedder, source, output, settings, after=1):
    """Run a job that stops (Ctrl-C) after ``after`` calls of ``embed_batches``."""
    original, calls = embedder.embed_batches, {"n": 0}

    def failing(batches, *window):
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return original(batches, *window)

    embedder.embed_batches = failing
    with pytest.raises(Interrupted):
        run_embedding_job(embedder, source, output, settings, progress=False)
    embedder.embed_batches = original


@pytest.mark.parametrize("change, named", [({"batch_size": 8}, "settings.batch_size (4 then, 8 now)"),
                                           ({"precision": "int8"}, "embedder.precision (\"fp32\" then, \"int8\" now)")])
def test_resume_refuses_changed_settings(options_file, weight_file, tmp_path, change, named):
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 12)))
    output = str(tmp_path / "out.hdf5")
    settings = EmbedSettings(batch_size=4, checkpoint_every=1)
    interrupted_run(ElmoEmbedder(options_file, weight_file), source, output, settings)
    embedder = ElmoEmbedder(options_file, weight_file, precision=change.get("precision", "fp32"))
    settings = EmbedSettings(batch_size=change.get("batch_size", 4), checkpoint_every=1)
    before = listing(tmp_path)
    with pytest.raises(ResumeError) as error:
        run_embedding_job(embedder, source, output, settings, resume=True, progress=False)
    assert named in str(error.value) and "overwrite=True" in str(error.value)
    assert listing(tmp_path) == before  # a refused command changes nothing


def test_resume_refuses_a_run_made_on_another_kind_of_device(options_file, weight_file, tmp_path):
    """job.json names the device: a GPU run's partial output is not finished on the CPU silently."""
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 12)))
    output = str(tmp_path / "out.hdf5")
    settings = EmbedSettings(batch_size=4, checkpoint_every=1)
    embedder = ElmoEmbedder(options_file, weight_file)
    assert embedder.job_settings()["device"] == "cpu"
    interrupted_run(embedder, source, output, settings)
    record_path = os.path.join(output + ".partial", "job.json")
    with open(record_path, encoding="utf-8") as f:
        record = json.load(f)
    record["embedder"]["device"] = "cuda"  # as a run with --cuda-device 0 records it
    with open(record_path, "w", encoding="utf-8") as f:
        json.dump(record, f)
    with pytest.raises(ResumeError, match='embedder.device \\("cuda" then, "cpu" now\\)'):
        run_embedding_job(embedder, source, output, settings, resume=True, progress=False)


def listing(folder):
    """Every path under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.mark.parametrize("damage", ["truncate", "delete_middle", "corrupt_job"])
def test_damaged_partial_output_is_detected(options_file, weight_file, tmp_path, damage):
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 40)))
    output = str(tmp_path / "out.hdf5")
    settings = EmbedSettings(batch_size=4, checkpoint_every=1)
    run_embedding_job(ElmoEmbedder(options_file, weight_file), source, str(tmp_path / "whole.hdf5"), settings,
                      progress=False)
    interrupted_run(ElmoEmbedder(options_file, weight_file), source, output, settings, after=4)
    partial = tmp_path / "out.hdf5.partial"
    segments = sorted(partial.glob("segment-*.h5"))
    assert len(segments) >= 3
    if damage == "truncate":
        data = segments[-1].read_bytes()
        segments[-1].write_bytes(data[:len(data) // 2])
    elif damage == "delete_middle":
        segments[1].unlink()
    else:
        (partial / "job.json").write_text('{"input": ')
        with pytest.raises(ResumeError, match="job.json: not a readable record"):
            run_embedding_job(ElmoEmbedder(options_file, weight_file), source, output, settings, resume=True,
                              progress=False)
        return
    run_embedding_job(ElmoEmbedder(options_file, weight_file), source, output, settings, resume=True,
                      progress=False)
    assert_same_content(output, tmp_path / "whole.hdf5")


def test_merge_refuses_missing_segments(options_file, weight_file, tmp_path):
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 23)))
    settings = EmbedSettings(batch_size=5, checkpoint_every=1)
    directory = tmp_path / "out.hdf5.partial"
    directory.mkdir()
    embed_shard(ElmoEmbedder(options_file, weight_file), source, str(directory), settings, progress=False)
    sorted(directory.glob("segment-*.h5"))[2].unlink()
    with pytest.raises(ResumeError, match="do not cover all 5 batches"):
        merge_segments(source, str(directory), str(tmp_path / "out.hdf5"), settings, 1, {})
    assert not (tmp_path / "out.hdf5").exists()


def test_sharded_rows_equal_a_single_process(options_file, weight_file, tmp_path):
    source = open_sentence_file(str(corpus(tmp_path / "in.txt", 23)))
    settings = EmbedSettings(batch_size=5, checkpoint_every=2)
    single = str(tmp_path / "single.hdf5")
    run_embedding_job(ElmoEmbedder(options_file, weight_file), source, single, settings, progress=False)
    directory = str(tmp_path / "sharded.hdf5.partial")
    os.makedirs(directory)
    for rank in range(3):
        embed_shard(ElmoEmbedder(options_file, weight_file), source, directory, settings, rank, 3, progress=False)
    merge_segments(source, directory, str(tmp_path / "sharded.hdf5"), settings, 3, {})
    assert_same_content(tmp_path / "sharded.hdf5", single)


def test_torchrun_two_processes(options_file, weight_file, tmp_path):
    source = corpus(tmp_path / "in.txt", 30)
    common = ["--all", "--options-file", options_file, "--weight-file", weight_file, "--batch-size", "4"]
    subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(tmp_path / "one.hdf5"),
                    *common], check=True, capture_output=True, env=ENV)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29517", "-m", "torchelmo.cli", "embed", str(source),
                             str(tmp_path / "two.hdf5"), *common], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr[-2000:]
    # Same sentences, keys and state chains; values within floating-point blocking (docs/reliability.md).
    assert_same_content(tmp_path / "two.hdf5", tmp_path / "one.hdf5", atol=1e-5)


def test_kill_9_mid_run_then_resume(options_file, weight_file, tmp_path):
    source = corpus(tmp_path / "in.txt", 2000, seed=1)  # long enough to be caught mid-run on a fast machine
    output = tmp_path / "out.hdf5"
    args = [sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(output), "--top",
            "--options-file", options_file, "--weight-file", weight_file, "--batch-size", "4",
            "--checkpoint-every", "2"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    partial = tmp_path / "out.hdf5.partial"
    deadline = time.time() + 120
    while time.time() < deadline:
        if partial.exists() and len(list(partial.glob("segment-*.h5"))) >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not output.exists(), "the run finished before it could be killed; enlarge the input"
    refused = subprocess.run(args, capture_output=True, text=True, env=ENV)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, env=ENV)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    subprocess.run(args[:5] + [str(tmp_path / "whole.hdf5")] + args[6:], check=True, capture_output=True, env=ENV)
    assert_same_content(output, tmp_path / "whole.hdf5")


def test_disk_full_keeps_finished_segments_and_resumes(options_file, weight_file, tmp_path, monkeypatch, capsys):
    import errno

    import torchelmo.embed_job as embed_job
    from torchelmo.cli import main

    source = corpus(tmp_path / "in.txt", 30)
    output = tmp_path / "out.hdf5"
    args = ["embed", str(source), str(output), "--all", "--options-file", options_file, "--weight-file",
            weight_file, "--batch-size", "4", "--checkpoint-every", "2"]
    real_write = embed_job._write_segment
    calls = {"n": 0}

    def full_disk(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(*a, **k)

    monkeypatch.setattr(embed_job, "_write_segment", full_disk)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "--resume" in err
    assert not output.exists()
    assert len(list((tmp_path / "out.hdf5.partial").glob("segment-*.h5"))) == 2
    assert not list((tmp_path / "out.hdf5.partial").glob("*.tmp"))
    monkeypatch.setattr(embed_job, "_write_segment", real_write)
    assert main(args + ["--resume"]) == 0
    assert main(args[:2] + [str(tmp_path / "whole.hdf5")] + args[3:]) == 0
    assert_same_content(output, tmp_path / "whole.hdf5")
