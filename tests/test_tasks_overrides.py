"""`task train --set KEY=VALUE`: dotted keys, YAML values, validated like the file, recorded
in the run's config.json."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from torchelmo.errors import ConfigurationError
from torchelmo.tasks import load_config
from torchelmo.tasks.loading import apply_overrides

ROOT = Path(__file__).resolve().parent.parent
EWT = ROOT.parent / "shared" / "data" / "ud-english-ewt"


def config_file(tmp_path: Path) -> str:
    data = {"data": {"reader": {"type": "conllu"}, "train": {"path": str(EWT / "en_ewt-ud-dev.conllu")},
                     "validation": {"path": str(EWT / "en_ewt-ud-test.conllu"), "limit": 8}},
            "model": {"type": "tagger", "embedders": {"words": {"dim": 8}},
                      "encoder": {"hidden_size": 8, "num_layers": 1, "dropout": 0.0}},
            "trainer": {"epochs": 3, "batch_size": 8}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_values_are_parsed_as_yaml_and_missing_mappings_are_created():
    data = apply_overrides({"trainer": {"epochs": 3}, "model": {}},
                           ["trainer.epochs=1", "trainer.optimizer.lr=0.01", "model.embedders={words: {dim: 5}}",
                            "trainer.grad_clip=null", "data.train.folds=[0, 2]", "trainer.device=cuda:1"])
    assert data["trainer"] == {"epochs": 1, "optimizer": {"lr": 0.01}, "grad_clip": None, "device": "cuda:1"}
    assert data["model"]["embedders"] == {"words": {"dim": 5}} and data["data"]["train"]["folds"] == [0, 2]


@pytest.mark.parametrize("override, message", [
    ("trainer.epochs", r"--set trainer\.epochs: expected KEY=VALUE"),
    ("trainer..epochs=1", r"expected KEY=VALUE with a dotted key"),
    ("trainer.epochs.x=1", r"--set trainer\.epochs\.x=1: trainer\.epochs is not a mapping"),
    ("trainer.epochs=[1", r"--set trainer\.epochs=\[1:\d+: invalid YAML"),
])
def test_malformed_overrides_fail_clearly(override, message):
    with pytest.raises(ConfigurationError, match=message):
        apply_overrides({"trainer": {"epochs": 3}}, [override])


def test_overrides_are_validated_like_the_file(tmp_path):
    path = config_file(tmp_path)
    assert load_config(path, ["data.train.limit=20"]).data.train.limit == 20
    with pytest.raises(ConfigurationError, match=r"config\.yaml: trainer\.epoch: unknown key"):
        load_config(path, ["trainer.epoch=1"])
    with pytest.raises(ConfigurationError, match=r"trainer\.epochs: expected positive int, got -1"):
        load_config(path, ["trainer.epochs=-1"])


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torchelmo.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_cli_records_the_effective_config_and_names_a_bad_key(tmp_path):
    path = config_file(tmp_path)
    bad = run_cli("task", "train", path, "--output-dir", str(tmp_path / "bad"), "--set", "model.encoder.hiden=3")
    assert bad.returncode == 2 and "model.encoder.hiden: unknown key" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    done = run_cli("task", "train", path, "--output-dir", str(tmp_path / "run"), "--set", "trainer.epochs=1",
                   "--set", "data.train.limit=16")
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["trainer"]["epochs"] == 1 and saved["data"]["train"]["limit"] == 16
    assert len(json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]) == 1
