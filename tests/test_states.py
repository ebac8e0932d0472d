"""State modes: carry / zero / warm, the warm state's storage, and batch-independent vectors."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

from torchelmo import Elmo, ElmoBiLm, ElmoEmbedder, batch_to_ids
from torchelmo.embed_job import EmbedSettings, embed_shard, merge_segments, run_embedding_job
from torchelmo.errors import ConfigurationError
from torchelmo.gemm import InferenceLinear, linear
from torchelmo.cache import file_sha256
from torchelmo.hub import resolve_model_files
from torchelmo.sentences import open_sentence_file
from torchelmo.states import (WARM_RECIPE, WARM_STATE_FILE, cached_warm_state_path, compute_warm_state,
                              resolve_state_mode, warmup_sentences)

WORDS = "the a cat dog sat ran on under mat tree quickly slowly . , and but".split()


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Warm states computed by the tests go to a temporary cache, not the user's."""
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))


def random_sentences(n, seed=0, longest=12):
    rng = np.random.default_rng(seed)
    return [list(rng.choice(WORDS, size=rng.integers(1, longest))) for _ in range(n)]


def test_state_mode_names_and_the_stateful_alias():
    assert resolve_state_mode(None) == "carry"
    assert resolve_state_mode(None, True) == "carry" and resolve_state_mode(None, False) == "zero"
    assert resolve_state_mode(False) == "zero"  # the former positional `stateful`
    assert resolve_state_mode("warm", None) == "warm" and resolve_state_mode("zero", False) == "zero"
    with pytest.raises(ConfigurationError, match="state: expected one of carry, zero, warm, got 'hot'"):
        resolve_state_mode("hot")
    with pytest.raises(ConfigurationError, match="contradicts stateful=True"):
        resolve_state_mode("zero", True)


def test_warmup_text_is_real_running_english():
    sentences = warmup_sentences()
    tokens = sum(len(s) for s in sentences)
    assert 2000 <= tokens <= 5000
    assert sentences[0][:4] == ["It", "is", "a", "truth"]  # Pride and Prejudice, chapter 1


@pytest.mark.parametrize("mode", ["warm", "zero"])
def test_a_sentence_gets_the_same_bits_in_any_batch(options_file, weight_file, mode):
    embedder = ElmoEmbedder(options_file, weight_file, state=mode)
    others = random_sentences(40, seed=1, longest=25)
    target = ["the", "cat", "sat", "on", "the", "mat", "quickly", "."]
    want = embedder.embed_batch([target])[0]
    seen = 0
    for batch_size in (1, 3, 8):
        for position in range(batch_size):
            batch = others[:batch_size]
            batch[position] = target
            # as the 3rd batch of a run: before and after other batches, streamed together
            batches = [others[10:10 + batch_size], others[20:20 + batch_size], batch, others[30:30 + batch_size]]
            assert np.array_equal(embedder.embed_batches(batches)[2][position], want), (batch_size, position)
            assert np.array_equal(embedder.embed_batch(batch)[position], want), (batch_size, position)
            seen += 1
    assert seen == 12
    stream = list(embedder.embed_sentences(others[:13] + [target] + others[13:], batch_size=5))
    assert np.array_equal(stream[13], want)
    # the module path (Elmo's batch forward) is batch-independent too
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0, state=mode, scalar_mix_parameters=[0.0, 0.0, 1.0])
    with torch.no_grad():
        alone = elmo(batch_to_ids([target]))["elmo_representations"][0][0]
        for batch in (others[:3] + [target], [target] + others[5:12]):
            row = batch.index(target)
            got = elmo(batch_to_ids(batch))["elmo_representations"][0][row, :len(target)]
            assert torch.equal(got, alone)


def test_warm_differs_from_zero_and_from_carry(options_file, weight_file):
    sentences = random_sentences(12, seed=2)
    vectors = {mode: ElmoEmbedder(options_file, weight_file, state=mode).embed_batches([sentences[:6], sentences[6:]])
               for mode in ("carry", "zero", "warm")}
    for mode in ("zero", "carry"):
        assert not np.allclose(vectors["warm"][1][0][2], vectors[mode][1][0][2], atol=1e-3)
    # the token layer is context-free: equal in every mode
    assert np.array_equal(vectors["warm"][1][0][0], vectors["carry"][1][0][0])


def test_warm_state_is_the_reduced_carried_state_and_is_cached(options_file, weight_file, monkeypatch):
    bilm = ElmoBiLm.from_files(options_file, weight_file, state="warm")
    sentences = warmup_sentences()
    rows = WARM_RECIPE.rows
    carried = ElmoEmbedder(options_file, weight_file, state="carry")
    carried.embed_batches([sentences[i:i + rows] for i in range(0, len(sentences), rows)])
    final = carried.get_state()  # (layers, 2, rows, dim): each row's state after its last sentence
    assert final.hidden.size(2) == min(rows, len(sentences))
    assert torch.allclose(bilm.warm_state().hidden, final.hidden.mean(dim=2, keepdim=True), atol=1e-6)
    assert torch.allclose(bilm.warm_state().memory, final.memory.mean(dim=2, keepdim=True), atol=1e-6)

    sha = file_sha256(weight_file)
    cached = cached_warm_state_path(sha)
    record = json.loads(cached.read_text())
    assert record["weights_sha256"] == sha and record["recipe"] == {"rows": rows, "reduction": "mean"}
    # the second load reads the cache (nothing computed) and gets the same bits
    monkeypatch.setattr("torchelmo.states.compute_warm_state", lambda *a, **k: pytest.fail("recomputed"))
    again = ElmoBiLm.from_files(options_file, weight_file, state="warm").warm_state()
    assert torch.equal(again.hidden, bilm.warm_state().hidden) and torch.equal(again.memory, bilm.warm_state().memory)


def test_a_stale_cache_entry_is_recomputed(options_file, weight_file):
    sha = file_sha256(weight_file)
    path = cached_warm_state_path(sha)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"format": "torchelmo-warm-state-1", "weights_sha256": sha,
                                "warmup_text_sha256": "another text", "recipe": {}, "hidden": [], "memory": []}))
    state = ElmoBiLm.from_files(options_file, weight_file, state="warm").warm_state()
    assert state.hidden.shape == (2, 2, 1, 16)  # the fixture model: 2 layers, projection 16
    assert json.loads(path.read_text())["warmup_text_sha256"] != "another text"


def test_the_bundled_model_ships_its_warm_state(monkeypatch):
    options_file, weight_file = resolve_model_files(None, None, None)
    shipped = os.path.join(os.path.dirname(weight_file), WARM_STATE_FILE)
    assert json.loads(open(shipped).read())["weights_sha256"] == file_sha256(weight_file)
    bilm = ElmoBiLm.from_files(options_file, weight_file)
    recomputed = compute_warm_state(bilm)
    monkeypatch.setattr("torchelmo.states.compute_warm_state", lambda *a, **k: pytest.fail("not shipped"))
    loaded = ElmoBiLm.from_files(options_file, weight_file, state="warm").warm_state()
    assert torch.allclose(loaded.hidden, recomputed.hidden, atol=1e-6)
    assert torch.allclose(loaded.memory, recomputed.memory, atol=1e-6)


def test_get_and_set_state_replay_the_carried_state(options_file, weight_file):
    embedder = ElmoEmbedder(options_file, weight_file)
    first, second = random_sentences(4, seed=3), random_sentences(4, seed=4)
    assert embedder.get_state() is None
    embedder.embed_batch(first)
    saved = embedder.get_state()
    want = embedder.embed_batch(second)
    embedder.set_state(saved)
    assert all(np.array_equal(a, b) for a, b in zip(embedder.embed_batch(second), want))
    embedder.reset_states()
    assert embedder.get_state() is None
    assert not np.allclose(embedder.embed_batch(second)[0], want[0], atol=1e-4)
    # the same controls on Elmo
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0)
    with torch.no_grad():
        elmo(batch_to_ids(first))
    assert elmo.get_state().hidden.shape == saved.hidden.shape
    warm = ElmoEmbedder(options_file, weight_file, state="warm")
    warm.embed_batch(first)
    assert warm.get_state() is None
    with pytest.raises(ValueError, match="needs state mode 'carry'"):
        warm.set_state(saved)


def test_elmo_keeps_the_stateful_alias(options_file, weight_file):
    assert Elmo(options_file, weight_file, 1, stateful=False).state_mode == "zero"
    assert Elmo(options_file, weight_file, 1).state_mode == "carry"
    bilm = ElmoBiLm.from_files(options_file, weight_file, stateful=False)
    assert Elmo(module=bilm).state_mode == "zero"
    assert Elmo(module=bilm, state="carry").state_mode == "carry"


def sentence_file(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences), encoding="utf-8")
    return str(path)


def read_vectors(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][...] for k in f if k != "sentence_to_index"}, dict(f.attrs)


def test_warm_file_jobs_are_bit_identical_across_batch_sizes_and_shards(options_file, weight_file, tmp_path):
    source = open_sentence_file(sentence_file(tmp_path / "in.txt", random_sentences(23, seed=5, longest=20)))
    embedder = ElmoEmbedder(options_file, weight_file, state="warm")
    outputs = []
    for batch_size in (1, 3, 8):
        out = str(tmp_path / f"b{batch_size}.hdf5")
        run_embedding_job(embedder, source, out, EmbedSettings(batch_size=batch_size, checkpoint_every=2),
                          progress=False)
        outputs.append(read_vectors(out)[0])
    for world_size in (2, 3):
        settings = EmbedSettings(batch_size=8, checkpoint_every=2)
        directory = str(tmp_path / f"w{world_size}.hdf5.partial")
        os.makedirs(directory)
        for rank in range(world_size):
            embed_shard(embedder, source, directory, settings, rank, world_size, progress=False)
        merge_segments(source, directory, str(tmp_path / f"w{world_size}.hdf5"), settings, world_size, {})
        outputs.append(read_vectors(tmp_path / f"w{world_size}.hdf5")[0])
    assert len(outputs[0]) == 23
    for other in outputs[1:]:
        assert other.keys() == outputs[0].keys()
        assert all(np.array_equal(other[k], outputs[0][k]) for k in other)


def test_cli_state_flag_and_torchrun_give_the_same_bits(options_file, weight_file, tmp_path):
    source = sentence_file(tmp_path / "in.txt", random_sentences(17, seed=6, longest=20))
    common = ["--all", "--options-file", options_file, "--weight-file", weight_file, "--state", "warm"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", source, str(tmp_path / "one.hdf5"),
                    *common, "--batch-size", "5"], check=True, capture_output=True, env=env)
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                             "--master-port", "29533", "-m", "torchelmo.cli", "embed", source,
                             str(tmp_path / "two.hdf5"), *common, "--batch-size", "3"],
                            capture_output=True, text=True, env={**env, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    one, attributes = read_vectors(tmp_path / "one.hdf5")
    two = read_vectors(tmp_path / "two.hdf5")[0]
    assert attributes["torchelmo_state"] == "warm"
    assert one.keys() == two.keys() and all(np.array_equal(one[k], two[k]) for k in one)
    library = ElmoEmbedder(options_file, weight_file, state="warm").embed_sentences(
        [line.split() for line in open(source)])
    assert all(np.array_equal(vector, one[str(i)]) for i, vector in enumerate(library))


@pytest.mark.parametrize("shape", [(128, 2048), (512, 128), (16, 64)])
def test_a_row_of_a_product_does_not_depend_on_the_row_count(shape):
    k, n = shape
    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(n, k, generator=generator), torch.randn(n, generator=generator)
    x, add = torch.randn(40, k, generator=generator), torch.randn(40, n, generator=generator)
    product = InferenceLinear(weight)
    threads = torch.get_num_threads()
    try:
        for count in (1, 2):
            torch.set_num_threads(count)
            whole, summed = linear(x, weight, bias), product(x, add)
            for rows in (slice(0, 1), slice(7, 8), slice(3, 5), slice(10, 33)):
                assert torch.equal(linear(x[rows], weight, bias), whole[rows])
                assert torch.equal(product(x[rows], add[rows]), summed[rows])
    finally:
        torch.set_num_threads(threads)
