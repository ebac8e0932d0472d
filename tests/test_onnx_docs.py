"""docs/onnx.md's serving example runs as written, without torch, and gives torchelmo's numbers."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from torchelmo import ElmoEmbedder, batch_to_ids, export_onnx

DOC = Path(__file__).resolve().parents[1] / "docs" / "onnx.md"
TRICKY = [["<S>", "é", "日本語", "x" * 47 + "é", "\ud800", ""], [], ["</S>", "a"]]


def test_docs_example_runs_without_torch_and_matches(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    export_onnx(tmp_path / "elmo.onnx")  # the bundled model, as `torchelmo export onnx elmo.onnx`
    script = ("import sys\nsys.modules['torch'] = None  # the example must not need torch\n" + blocks[0] +
              "\nimport json\nnp.save('layers.npy', layers)\n"
              f"np.save('tricky.npy', char_ids(json.loads({json.dumps(json.dumps(TRICKY))})))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 2, 7, 256) [7 3]"
    sentences = [["The", "cat", "sat", "on", "the", "mat", "."], ["Hello", "world", "!"]]
    expected, _ = ElmoEmbedder(state="zero").batch_to_embeddings(sentences)
    np.testing.assert_allclose(np.load(tmp_path / "layers.npy"), expected.transpose(0, 1).numpy(), rtol=0, atol=1e-4)
    np.testing.assert_array_equal(np.load(tmp_path / "tricky.npy"), batch_to_ids(TRICKY).numpy())
