"""The bundled default model: everything works offline with no model files given."""
import subprocess
import sys

import h5py
import numpy as np

from torchelmo import Elmo, ElmoEmbedder, ElmoOptions, batch_to_ids
from torchelmo.hub import BUNDLED_DIR, resolve_model_files
from torchelmo.weights import check_shapes, read_datasets


def test_bundled_files_are_a_valid_official_model():
    options, weights = resolve_model_files()
    assert options == str(BUNDLED_DIR / "options.json") and weights == str(BUNDLED_DIR / "weights.hdf5")
    parsed = ElmoOptions.from_file(options)
    check_shapes(read_datasets(weights), parsed, weights)  # raises if anything is off
    assert parsed.char_cnn.n_characters == 262


def test_embedder_and_elmo_default_to_the_bundled_model():
    vectors = ElmoEmbedder(stateful=False).embed_sentence(["I", "ate", "an", "apple", "."])
    dim = ElmoOptions.from_file(BUNDLED_DIR / "options.json").output_dim
    assert vectors.shape == (3, 5, dim) and np.isfinite(vectors).all()
    out = Elmo(num_output_representations=2, dropout=0)(batch_to_ids([["First", "sentence", "."], ["Another", "."]]))
    assert [r.shape for r in out["elmo_representations"]] == [(2, 3, dim)] * 2


def test_main_job_runs_offline_with_the_bundled_model(tmp_path):
    (tmp_path / "sentences.txt").write_text("The bank of the river .\nThe bank approved the loan .\n")
    result = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", "sentences.txt", "elmo_layers.hdf5",
                             "--all"], cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "TORCHELMO_MIRROR": "http://127.0.0.1:9/",
                                 "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "elmo_layers.hdf5", "r") as f:
        assert f["0"].shape[:2] == (3, 6) and f.attrs["torchelmo_model"] == "default"
