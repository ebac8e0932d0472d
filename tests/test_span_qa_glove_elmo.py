"""span_qa over the GloVe + character CNN embedders and a cached frozen ELMo with two mixes."""
import json

from training_support import one_thread  # noqa: F401
from test_span_qa import qa_config, write_squad
from torchelmo.cli import main


def test_glove_chars_cached_elmo(one_thread, tmp_path, options_file, weight_file, capsys):
    data = write_squad(tmp_path / "s.json")
    embedders = {"pretrained": {"path": "glove-6b-50d", "lowercase": True},
                 "characters": {"embedding_dim": 8, "filters": [[3, 16]]},
                 "elmo": {"options_file": options_file, "weight_file": weight_file, "dropout": 0.0,
                          "num_output_representations": 2, "cache": "float32"}}
    config = qa_config(data, embedders)
    (tmp_path / "qa.json").write_text(json.dumps(config))
    folder = tmp_path / "run"
    assert main(["task", "train", str(tmp_path / "qa.json"), "--output-dir", str(folder),
                 "--set", "trainer.epochs=12"]) == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["validation"]["f1"] > 80
    capsys.readouterr()
    assert main(["task", "evaluate", str(folder), data]) == 0
    assert json.loads(capsys.readouterr().out)["f1"] == metrics["validation"]["f1"]
