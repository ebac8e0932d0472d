"""Shared fixtures. Reference data comes from outside this repository: the small ELMo model
and the original TensorFlow biLM's outputs shipped in the allennlp 0.9.0 wheel on PyPI
(downloaded once with ``pip download``, never installed, cached between runs)."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

ALLENNLP_WHEEL = "allennlp-0.9.0-py3-none-any.whl"
FIXTURE_PREFIX = "allennlp/tests/fixtures/elmo/"
CACHE = Path(os.environ.get("TORCHELMO_TEST_CACHE", Path.home() / ".cache" / "torchelmo-tests"))


def _fetch_allennlp_fixtures() -> Path:
    target = CACHE / "allennlp-0.9.0-elmo"
    if (target / "lm_weights.hdf5").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / ALLENNLP_WHEEL
    if not wheel.exists():
        result = subprocess.run([sys.executable, "-m", "pip", "download", "allennlp==0.9.0", "--no-deps",
                                 "--quiet", "-d", str(CACHE)], capture_output=True, text=True)
        if result.returncode != 0 or not wheel.exists():
            raise RuntimeError(f"could not download the allennlp 0.9.0 wheel for its ELMo test "
                               f"fixtures:\n{result.stderr}")
    tmp = target.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(FIXTURE_PREFIX) and not name.endswith("/") and "/config/" not in name:
                (tmp / Path(name).name).write_bytes(zf.read(name))
    tmp.rename(target)
    return target


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    """Directory holding options.json, lm_weights.hdf5, sentences.json, lm_embeddings_*.hdf5, ..."""
    return _fetch_allennlp_fixtures()


@pytest.fixture(scope="session")
def options_file(fixture_dir) -> str:
    return str(fixture_dir / "options.json")


@pytest.fixture(scope="session")
def weight_file(fixture_dir) -> str:
    return str(fixture_dir / "lm_weights.hdf5")


@pytest.fixture
def model_args(options_file, weight_file):
    """The CLI flags that select AllenNLP's fixture model."""
    return ["--options-file", options_file, "--weight-file", weight_file]


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a whole module (opt in with ``pytestmark``): the tiny models are
    small operations that extra threads only slow down, badly so on a busy machine; the
    numbers compared do not depend on it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
