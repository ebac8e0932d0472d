"""benchmarks/gpu_smoke.py runs on the CPU in its dry mode (``--device cpu --quick``), every check."""
from training_support import one_thread  # noqa: F401 (a fixture)

from benchmarks import gpu_smoke

CHECKS = ["embed state carry", "embed state zero", "embed state warm", "embed window 8", "embed pool mean --all",
          "embed float16 + gzip", "embed bf16", "embed compile", "embed_file interrupted + resumed",
          "Elmo forward + backward", "biLM train 3 steps", "biLM train 3 steps bf16",
          "biLM bf16 run resumed on the CPU", "task tagger (CRF) 1 epoch", "task parser 1 epoch",
          "task classifier (ELMo cache) 1 epoch", "task pair classifier 1 epoch", "task coreference 1 epoch",
          "task span QA 1 epoch", "batch_sizes.py"]


def test_the_dry_run_passes_every_check_and_writes_its_table(one_thread, tmp_path, capsys):
    """About 18 s of CPU time on one thread."""
    table = tmp_path / "table.txt"
    assert gpu_smoke.main(["--device", "cpu", "--quick", "--workdir", str(tmp_path / "work"),
                           "--output", str(table)]) == 0
    rows = {line[:46].strip(): line[46:].split() for line in table.read_text(encoding="utf-8").splitlines()[4:]}
    assert [name for name in rows if not name.startswith("batch ")] == CHECKS
    statuses = {name: fields[0] for name, fields in rows.items()}
    assert statuses.pop("embed compile") == "skipped"  # --quick does not compile on the CPU
    assert statuses.pop("embed bf16") in ("ok", "skipped")  # skipped on a CPU without bf16 products
    assert set(statuses.values()) == {"ok"}
    assert float(rows["embed_file interrupted + resumed"][1]) == 0.0  # resumed = one run, bit for bit
    assert float(rows["Elmo forward + backward"][1]) < 1e-4  # backward's sums may run in another order
    assert {"batch 4 baseline", "batch 4 torchelmo-fp32", "batch 8 torchelmo-fp32"} <= set(rows)
    assert capsys.readouterr().out.count("embed state warm") == 1
