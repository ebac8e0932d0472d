"""The ELMoForManyLangs fixture (``../shared/efml/fixture_a`` beside the repository: a tiny EFML
model and the outputs EFML's own code computed for it) and small folders derived from it."""
import json
import os
import shutil
from pathlib import Path
from typing import List

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TORCHELMO_SHARED_DIR", ROOT.parent / "shared"))
FIXTURE_A = SHARED / "efml" / "fixture_a"
TOLERANCE = 5e-4  # the bar; float32 rounding alone reaches 3.6e-5

needs_fixture = pytest.mark.skipif(not (FIXTURE_A / "reference.hdf5").is_file(),
                                   reason=f"the EFML fixture is not at {FIXTURE_A} (../shared/efml beside the "
                                          f"repository; or set TORCHELMO_SHARED_DIR)")


def sentences() -> List[List[str]]:
    return json.loads((FIXTURE_A / "sentences.json").read_text(encoding="utf-8"))


def reference(group: str, index: int) -> np.ndarray:
    with h5py.File(FIXTURE_A / "reference.hdf5", "r") as f:
        return f[f"{group}/{index}"][...]


def model_copy(tmp_path: Path) -> Path:
    """A writable copy of fixture A's model folder."""
    target = tmp_path / "efml_model"
    shutil.copytree(FIXTURE_A / "model", target)
    for path in target.iterdir():
        path.chmod(0o644)
    target.chmod(0o755)
    return target
