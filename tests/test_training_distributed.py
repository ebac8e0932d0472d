"""`torchelmo train` under torchrun: two CPU processes (gloo), each reading its own shard."""
import json
import os
import subprocess
import sys

import torch

from torchelmo import ElmoBiLm, batch_to_ids
from training_support import TINY_OPTIONS, write_corpus


def _torchrun(*args, cwd):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "torchelmo.cli", "train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_two_processes_train_resume_and_export(tmp_path):
    train_file, _ = write_corpus(tmp_path / "corpus")
    options = tmp_path / "tiny.json"
    options.write_text(json.dumps(TINY_OPTIONS))
    run = tmp_path / "run"
    common = ["--train-data", str(train_file), "--output-dir", str(run), "--options", str(options),
              "--batch-size", "4", "--n-negative-samples", "32", "--log-every", "2", "--checkpoint-every", "2"]
    first = _torchrun(*common, "--max-steps", "4", cwd=tmp_path)
    assert "Training on 2 process(es), device cpu" in first.stderr
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=True)
    assert checkpoint["world_size"] == 2 and checkpoint["step"] == 4
    positions = [rank["position"] for rank in checkpoint["ranks"]]
    assert positions[0]["offset"] == 0 and positions[1]["offset"] > 0  # rank 1 starts in the file's second half

    _torchrun(*common, "--max-steps", "6", "--resume", cwd=tmp_path)
    metrics = [json.loads(line) for line in open(run / "metrics.jsonl")]
    assert [m["step"] for m in metrics] == [2, 4, 6]
    assert all(m["tokens_per_second"] > 0 and m["loss"] > 0 for m in metrics)
    assert metrics[-1]["tokens"] > metrics[0]["tokens"]
    bilm = ElmoBiLm.from_files(run / "options.json", run / "weights.hdf5", stateful=False)
    with torch.no_grad():
        assert torch.isfinite(bilm(batch_to_ids([["It", "works", "."]]))["activations"][2]).all()
