"""ELMoForManyLangs models: fixture A's numbers (computed by EFML's own code), each quirk of
the format (../shared/efml/README.md), safe loading and broken folders."""
import json
import os
import pickle
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

from torchelmo import Elmo, ElmoBiLm, ElmoEmbedder
from torchelmo.errors import ConfigurationError, WeightFileError
from torchelmo.efml.model import read_model
from torchelmo.efml.options import PACKAGED_CONFIGS, find_architecture_file
from torchelmo.efml.vocabulary import read_dictionary

from efml_support import FIXTURE_A, TOLERANCE, model_copy, needs_fixture, reference, sentences

pytestmark = needs_fixture
MODEL = FIXTURE_A / "model"
ARCHITECTURE = "cnn_12_10_8_32_sample.json"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def bilm() -> ElmoBiLm:
    return ElmoBiLm.from_efml(MODEL, state="zero").eval()


@pytest.fixture(scope="module")
def vocabulary():
    return read_model(MODEL).vocabulary


@pytest.fixture(scope="module")
def embedded(bilm):
    with torch.no_grad():
        return [layers.numpy() for layers in bilm.embed_batches([sentences()])[0]]


def _edit_architecture(folder, section, **changes):
    path = folder / ARCHITECTURE
    data = json.loads(path.read_text())
    data[section].update(changes)
    path.write_text(json.dumps(data))


def _write_state_dict(path, tensors, legacy=False):
    torch.save(tensors, path, _use_new_zipfile_serialization=not legacy)


# ------------------------------------------------------------------ EFML's numbers
def test_ids_are_those_efml_fed_its_model(vocabulary):
    with h5py.File(FIXTURE_A / "reference.hdf5", "r") as f:
        for i, sentence in enumerate(sentences()):
            ids = vocabulary.sentence_ids(sentence).numpy()
            assert (ids[:, 0] == f[f"inputs/word_ids/{i}"][...]).all(), i
            assert (ids[:, 1:] == f[f"inputs/char_ids/{i}"][...]).all(), i


def test_every_sentence_and_layer_matches_efml(embedded):
    for i, layers in enumerate(embedded):
        expected = reference("all", i)
        assert layers.shape == expected.shape
        assert np.abs(layers - expected).max() < TOLERANCE, i
        assert np.abs(layers.mean(axis=0) - reference("mean", i)).max() < TOLERANCE, i


def test_padded_batch_forward_matches_efml(bilm):
    batch = sentences()
    with torch.no_grad():
        layers, mask = bilm.embed_layers(bilm.batch_to_ids(batch))
    for i, sentence in enumerate(batch):
        assert int(mask[i].sum()) == len(sentence)
        assert np.abs(layers[i, :, :len(sentence)].numpy() - reference("all", i)).max() < TOLERANCE, i


def test_layer_zero_is_the_token_embedding_twice(embedded):
    for layers in embedded:
        assert np.array_equal(layers[0, :, :8], layers[0, :, 8:])


# ------------------------------------------------------------------ one test per quirk
def test_quirk_1_a_whitespace_entry_is_filed_under_u3000(vocabulary, tmp_path):
    chars = vocabulary.chars
    assert chars["\u3000"] == 65 and " " not in chars  # line 66 of char.dic is an ASCII space
    row = vocabulary.token_ids("Hà Nội")[1:]
    assert row[3] == chars["<oov>"]  # the ASCII space inside a token is unknown
    assert vocabulary.token_ids("東京\u3000タワー")[1:][3] == 65
    dic = tmp_path / "x.dic"
    dic.write_text("a\t0\n\t\t1\n \t2\n", encoding="utf-8")  # a TAB, then a space: both become U+3000
    assert read_dictionary(dic) == {"a": 0, "\u3000": 2}
    dic.write_text("a\t0\nb\u2028c\t1\n", encoding="utf-8")  # U+2028 breaks the line, as in EFML's reader
    with pytest.raises(WeightFileError, match="line 2: expected 'entry<TAB>id'"):
        read_dictionary(dic)


def test_quirk_2_tokens_are_cut_to_max_characters_minus_2(vocabulary, embedded):
    long_a, long_b = sentences()[3][0], sentences()[3][2]
    assert len(long_a) == 80 and len(long_b) == 88 and long_a[:48] == long_b[:48]
    assert vocabulary.token_ids(long_a) == vocabulary.token_ids(long_b) == vocabulary.token_ids(long_a[:48])
    assert vocabulary.token_ids(long_a)[0] == vocabulary.words[long_a[:48]]  # a known word after the cut
    assert embedded[3].shape[1] == len(sentences()[3])  # one vector per input token
    assert np.array_equal(embedded[3][0, 0], embedded[3][0, 2])


def test_quirk_3_characters_are_code_points_without_normalization(vocabulary):
    chars = vocabulary.chars
    row = vocabulary.token_ids("cafe\u0301")[1:]
    assert row[1:6] == [chars["c"], chars["a"], chars["f"], chars["e"], chars["<oov>"]] and row[6] == chars["<bow>"]
    assert vocabulary.token_ids("👍🏽")[1:][1:3] == [chars["<oov>"]] * 2
    assert vocabulary.token_ids("The")[0] == vocabulary.words["<oov>"] != vocabulary.token_ids("the")[0]


def test_quirk_4_sentence_markers_and_tokens_spelled_like_them(vocabulary):
    chars, words = vocabulary.chars, vocabulary.words
    ids = vocabulary.sentence_ids(["x"]).tolist()
    assert [ids[0][0], ids[-1][0]] == [words["<bos>"], words["<eos>"]] == [1, 2]
    assert ids[0][1:4] == [chars["<eow>"], chars["<bos>"], chars["<bow>"]]
    assert ids[-1][1:4] == [chars["<eow>"], chars["<eos>"], chars["<bow>"]]
    assert vocabulary.token_ids("<bos>") == ids[0]  # by string equality, as EFML


def test_quirk_5_word_boundary_ids_are_swapped(vocabulary):
    chars = vocabulary.chars
    row = vocabulary.token_ids("cat")[1:]
    assert (chars["<eow>"], chars["<bow>"]) == (88, 87)
    assert row[0] == 88 and row[4] == 87 and row[1:4] == [chars[c] for c in "cat"]


def test_quirk_6_rows_are_padded_to_max_characters(vocabulary):
    row = vocabulary.token_ids("a")[1:]
    assert len(row) == 50 and row[3:] == [vocabulary.chars["<pad>"]] * 47


def _token_layer(tensors, word_ids, char_ids, activation, word_dim=True):
    """EFML's token layer written from the README's formulas (numpy, float64)."""
    t = {k: v.double().numpy() for k, v in tensors.items()}
    x = t["char_emb_layer.embedding.weight"][char_ids]  # (n, 50, char_dim)
    features = []
    for i in range(3):
        w, b = t[f"convolutions.{i}.weight"], t[f"convolutions.{i}.bias"]
        width = w.shape[2]
        windows = np.stack([x[:, p:p + width] for p in range(50 - width + 1)], axis=1)  # (n, pos, width, dim)
        conv = np.einsum("npwd,fdw->npf", windows, w) + b
        features.append(activation(conv.max(axis=1)))
    h = np.concatenate(features, axis=-1)
    projected = h @ t["highways._layers.0.weight"].T + t["highways._layers.0.bias"]
    n = h.shape[1]
    gate = 1 / (1 + np.exp(-projected[:, n:]))
    h = gate * h + (1 - gate) * np.maximum(projected[:, :n], 0)
    parts = [t["word_emb_layer.embedding.weight"][word_ids], h] if word_dim else [h]
    return np.concatenate(parts, axis=-1) @ t["projection.weight"].T + t["projection.bias"]


def test_quirk_7_highway_is_relu_whatever_the_activation(tmp_path):
    folder = model_copy(tmp_path)
    _edit_architecture(folder, "token_embedder", activation="tanh")
    model = ElmoBiLm.from_efml(folder, state="zero").eval()
    efml = read_model(folder)
    tokens = ["the", "zebra", "Москва", "x"]
    ids = efml.vocabulary.tokens_to_ids(tokens)
    expected = _token_layer(efml.token_tensors, ids[:, 0].numpy(), ids[:, 1:].numpy(), np.tanh)
    with torch.no_grad():
        got = model.char_encoder.embed_words(tokens).double().numpy()
    assert np.abs(got - expected).max() < 1e-5


def _one_part_model(tmp_path, part):
    """Fixture A without its word embedding (``part="char"``) or its character CNN (``"word"``)."""
    folder = model_copy(tmp_path / part)
    tensors = read_model(folder).token_tensors
    projection = tensors["projection.weight"]
    if part == "char":
        del tensors["word_emb_layer.embedding.weight"]
        tensors["projection.weight"] = projection[:, 10:].contiguous()  # the word's 10 columns come first
        _edit_architecture(folder, "token_embedder", word_dim=0)
        (folder / "word.dic").unlink()  # EFML reads no word.dic without a word embedding
    else:
        tensors = {k: v for k, v in tensors.items() if k.startswith(("word_emb", "projection"))}
        tensors["projection.weight"] = projection[:, :10].contiguous()
        _edit_architecture(folder, "token_embedder", char_dim=0)
        (folder / "char.dic").unlink()
    _write_state_dict(folder / "token_embedder.pkl", tensors, legacy=True)
    return ElmoBiLm.from_efml(folder, state="zero").eval()


def test_quirk_8_word_embedding_joined_first_and_word_dim_or_char_dim_0(tmp_path):
    # EFML's layer 0 is P_word e_word + P_char c + b: the two one-part models sum to it, less one b.
    sentence = sentences()[10]
    with torch.no_grad():
        chars, words = (_one_part_model(tmp_path, part).embed_batches([[sentence]])[0][0][0, :, :8].numpy()
                        for part in ("char", "word"))
    bias = read_model(MODEL).token_tensors["projection.bias"].numpy()
    assert np.abs(chars + words - bias - reference("all", 10)[0, :, :8]).max() < TOLERANCE
    assert np.abs(chars - reference("all", 10)[0, :, :8]).max() > 0.1  # the word part matters


def test_quirk_9_and_10_lstm_layers_and_mean_over_three_layers(embedded):
    for i, layers in enumerate(embedded):
        assert np.abs(layers[1:] - reference("all", i)[1:]).max() < TOLERANCE
        assert np.abs(layers.mean(axis=0) - reference("mean", i)).max() < TOLERANCE


# ------------------------------------------------------------------ files and formats
def test_zip_format_pickles_read_alike(tmp_path, embedded):
    folder = model_copy(tmp_path)
    for name in ("token_embedder.pkl", "encoder.pkl"):
        _write_state_dict(folder / name, torch.load(folder / name, weights_only=True))
    assert (folder / "encoder.pkl").read_bytes()[:2] == b"PK"
    with torch.no_grad():
        layers = ElmoBiLm.from_efml(folder, state="zero").eval().embed_batches([sentences()[:2]])[0]
    assert np.array_equal(layers[1].numpy(), embedded[1])


def test_architecture_file_found_by_efmls_three_rules(tmp_path):
    folder = model_copy(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "sub").mkdir()
    (folder / ARCHITECTURE).rename(folder / "sub" / ARCHITECTURE)
    config["config_path"] = f"sub/{ARCHITECTURE}"
    (folder / "config.json").write_text(json.dumps(config))
    assert find_architecture_file(folder) == os.path.join(folder, "sub", ARCHITECTURE)  # 1: model_dir/config_path
    (folder / "sub" / ARCHITECTURE).rename(folder / ARCHITECTURE)
    config["config_path"] = f"/training/machine/configs/{ARCHITECTURE}"
    (folder / "config.json").write_text(json.dumps(config))
    assert find_architecture_file(folder) == os.path.join(folder, ARCHITECTURE)  # 2: model_dir/base name
    config["config_path"] = "/training/machine/configs/cnn_50_100_512_4096_sample.json"
    (folder / "config.json").write_text(json.dumps(config))
    assert find_architecture_file(folder) == str(PACKAGED_CONFIGS / "cnn_50_100_512_4096_sample.json")  # 3
    config["config_path"] = "/training/machine/configs/nowhere.json"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigurationError, match="nowhere.json"):
        find_architecture_file(folder)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_an_unsafe_pickle_is_refused_without_running(tmp_path):
    folder = model_copy(tmp_path)
    marker = tmp_path / "ran"
    with open(folder / "encoder.pkl", "wb") as f:
        pickle.dump({"forward_layer_0.input_linearity.weight": _RunsCode(marker)}, f)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(WeightFileError, match="encoder.pkl: .*refused without running"):
        read_model(folder)
    result = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", "-", str(tmp_path / "out.hdf5"),
                             "--top", "--model", str(folder)], input=b"the cat\n", capture_output=True, env=ENV)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "encoder.pkl" in lines[0] and lines[0].startswith("torchelmo: error:")
    assert not marker.exists() and not (tmp_path / "out.hdf5").exists()
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("break_it, message", [
    (lambda f: (f / "encoder.pkl").unlink(), "encoder.pkl: weight file not found"),
    (lambda f: (f / "char.dic").unlink(), "char.dic: dictionary file not found"),
    (lambda f: (f / "config.json").write_text("{not json"), "config.json: not a valid JSON file"),
    (lambda f: (f / ARCHITECTURE).write_text('{"encoder": 3}'), "token_embedder: missing or not an object"),
    (lambda f: _edit_architecture(f, "encoder", dim=0), "encoder.dim: expected an integer >= 1, got 0"),
    (lambda f: _write_state_dict(f / "encoder.pkl", {"a": "text"}), "entry 'a' is not a floating-point tensor"),
    (lambda f: _write_state_dict(f / "encoder.pkl", [torch.zeros(2)]), "expected a state dict of tensors"),
    (lambda f: (f / "encoder.pkl").write_bytes(b"\x80\x02garbage"), "encoder.pkl: not a state dict"),
    (lambda f: (f / "word.dic").write_text((f / "word.dic").read_text()[:-8], encoding="utf-8"),
     "word.dic: 33 entries, but token_embedder.pkl word_emb_layer.embedding.weight has 34 rows"),
    (lambda f: (f / "char.dic").write_text((f / "char.dic").read_text(encoding="utf-8").replace("<eow>", "<EOW>"),
                                           encoding="utf-8"), "char.dic: missing the special entries <eow>"),
    (lambda f: (f / "word.dic").write_text("<oov>\t0\nx\tseven\n"), "word.dic: line 2: expected"),
    (lambda f: _edit_architecture(f, "token_embedder", n_highway="1"), "token_embedder.n_highway: expected"),
    (lambda f: _edit_architecture(f, "token_embedder", filters=[[1, 8], [0, 8]]), r"token_embedder.filters\[1\]\[0\]"),
    (lambda f: _edit_architecture(f, "token_embedder", activation="gelu"), "token_embedder.activation"),
    (lambda f: _edit_architecture(f, "token_embedder", char_dim=13),
     r"char_emb_layer.embedding.weight has shape \(89, 12\), but the architecture .* needs \(89, 13\)"),
    (lambda f: _edit_architecture(f, "encoder", cell_clip=-1), "encoder.cell_clip"),
    (lambda f: _edit_architecture(f, "encoder", n_layers=3), "encoder.pkl: missing forward_layer_2"),
    (lambda f: _edit_architecture(f, "encoder", projection_dim=9), "projection.weight has shape"),
    (lambda f: _edit_architecture(f, "encoder", name="lstm"), "encoder.name"),
])
def test_a_broken_folder_is_one_clear_line(tmp_path, break_it, message):
    folder = model_copy(tmp_path)
    break_it(folder)
    with pytest.raises((ConfigurationError, WeightFileError), match=message) as error:
        read_model(folder)
    assert "\n" not in str(error.value)


# ------------------------------------------------------------------ one model argument
def _cli_lines():
    return [s for i, s in enumerate(sentences()) if i != 9]  # sentence 9 has spaces inside tokens


def test_cli_average_equals_efmls_mean(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("".join(" ".join(s) + "\n" for s in _cli_lines()), encoding="utf-8")
    out = tmp_path / "out.hdf5"
    result = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(out), "--average",
                             "--model", str(MODEL), "--state", "zero"], capture_output=True, env=ENV)
    assert result.returncode == 0, result.stderr.decode()
    indices = [i for i in range(12) if i != 9]
    with h5py.File(out, "r") as f:
        for line, i in enumerate(indices):
            assert np.abs(f[str(line)][...] - reference("mean", i)).max() < TOLERANCE, i


def test_elmo_with_an_efml_folder_mixes_efmls_layers():
    elmo = Elmo(None, None, 1, model=str(MODEL), dropout=0.0, scalar_mix_parameters=[0.0, 0.0, 0.0], state="zero")
    batch = sentences()[:3]
    with torch.no_grad():
        output = elmo(elmo.bilm.batch_to_ids(batch))
    mixed = output["elmo_representations"][0]
    for i, sentence in enumerate(batch):
        assert np.abs(mixed[i, :len(sentence)].numpy() - reference("mean", i)).max() < TOLERANCE


def test_embedder_with_an_efml_folder_and_an_allennlp_folder(tmp_path, options_file, weight_file):
    embedder = ElmoEmbedder(model=str(MODEL), state="zero")
    assert np.abs(embedder.embed_sentence(sentences()[6]) - reference("all", 6)).max() < TOLERANCE
    folder = tmp_path / "allennlp"
    folder.mkdir()
    (folder / "options.json").write_bytes(open(options_file, "rb").read())
    (folder / "weights.hdf5").write_bytes(open(weight_file, "rb").read())
    by_folder = ElmoEmbedder(model=str(folder), state="zero").embed_sentence(["The", "cat", "."])
    by_files = ElmoEmbedder(options_file, weight_file, state="zero").embed_sentence(["The", "cat", "."])
    assert np.array_equal(by_folder, by_files)
    with pytest.raises(ConfigurationError, match="not a model folder"):
        ElmoEmbedder(model=str(tmp_path))


def test_warm_needs_a_warmup_text_in_the_models_language(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ConfigurationError, match="warm-up text"):
        ElmoEmbedder(model=str(MODEL), state="warm")
    text = tmp_path / "warmup.txt"
    text.write_text("".join(" ".join(s) + "\n" for s in _cli_lines()), encoding="utf-8")
    warm = ElmoEmbedder(model=str(MODEL), state="warm", warmup_text=text)
    first = warm.embed_sentence(sentences()[0])
    assert np.abs(first[0] - reference("all", 0)[0]).max() < TOLERANCE  # the token layer ignores the state
    assert np.abs(first[1:] - reference("all", 0)[1:]).max() > 1e-3  # the LSTM starts elsewhere
    again = ElmoEmbedder(model=str(MODEL), state="warm", warmup_text=text)  # from the cache
    assert np.array_equal(again.embed_sentence(sentences()[0]), first)
    assert len(list((tmp_path / "cache" / "warm_states").iterdir())) == 1


def test_windows_pooling_and_float16_sit_above_the_bilm(tmp_path):
    embedder = ElmoEmbedder(model=str(MODEL), state="zero")
    long_sentence = sentences()[5]  # 40 tokens
    windowed = embedder.embed_batch([long_sentence], window=40)[0]
    assert np.abs(windowed - reference("all", 5)).max() < TOLERANCE  # no sentence over the window: unchanged
    assert embedder.embed_batch([long_sentence], window=16)[0].shape == (3, 40, 16)
    source = tmp_path / "in.txt"
    source.write_text(" ".join(sentences()[0]) + "\n", encoding="utf-8")
    out = tmp_path / "pooled.hdf5"
    embedder.embed_file(str(source), str(out), output_format="all", pool="mean", dtype="float16", progress=False)
    with h5py.File(out, "r") as f:
        assert f["0"].dtype == np.float16 and f["0"].shape == (3, 16)
        assert np.abs(f["0"][...] - reference("all", 0).mean(axis=1)).max() < 5e-3  # float16 rounding


# ------------------------------------------------------------------ EFML's own API
def test_embedder_sents2elmo_gives_efmls_output_layers_deterministically():
    from torchelmo.efml import Embedder

    embedder = Embedder(str(MODEL), batch_size=5)  # several batches: EFML would carry state and shuffle
    batch = sentences()
    every = embedder.sents2elmo(batch, output_layer=-2)
    mean = embedder.sents2elmo(batch, output_layer=-1)
    assert [m.dtype for m in mean] == [np.float32] * len(batch)
    for i in range(len(batch)):
        assert every[i].shape == reference("all", i).shape
        assert np.abs(every[i] - reference("all", i)).max() < TOLERANCE
        assert np.abs(mean[i] - reference("mean", i)).max() < TOLERANCE
    for layer in (0, 1, 2):
        assert np.array_equal(embedder.sents2elmo(batch[:2], output_layer=layer)[1], every[1][layer])
    again = embedder.sents2elmo(batch[::-1], output_layer=-1)[::-1]  # another order, a second call
    assert all(np.abs(a - b).max() < 1e-5 for a, b in zip(again, mean))
    with pytest.raises(ConfigurationError, match="output_layer"):
        embedder.sents2elmo(batch, output_layer=3)


def test_task_elmo_block_takes_an_efml_folder():
    from torchelmo.tasks.batching import tensorize
    from torchelmo.tasks.embedders.config import EmbeddersConfig, ElmoConfig
    from torchelmo.tasks.embedders.token_embedder import TokenEmbedder
    from torchelmo.tasks.instance import Instance

    # The mixes start with equal weights and gamma 1: the mean of the layers. The default
    # layer cache keys EFML's ids as it keys AllenNLP's.
    embedder = TokenEmbedder(EmbeddersConfig(elmo=ElmoConfig(model=str(MODEL), dropout=0.0)), 0).eval()
    batch = tensorize([Instance(tokens=s) for s in sentences()[:3]], {}, lambda x: None, characters=True,
                      elmo_ids=embedder.elmo_ids)
    assert batch["elmo_ids"].shape == (3, 7, 51)
    with torch.no_grad():
        vectors = embedder(batch)[0]
    for i, sentence in enumerate(sentences()[:3]):
        assert np.abs(vectors[i, :len(sentence)].numpy() - reference("mean", i)).max() < TOLERANCE


# ------------------------------------------------------------------ raw text in any language
def test_tokenize_language_uses_spacys_rules_for_it(tmp_path):
    source = tmp_path / "raw.txt"
    source.write_text("Москва — столица России.\n", encoding="utf-8")
    out = tmp_path / "out.hdf5"
    result = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(out), "--all",
                             "--model", str(MODEL), "--state", "zero", "--tokenize", "--language", "ru"],
                            capture_output=True, env=ENV)
    assert result.returncode == 0, result.stderr.decode()
    with h5py.File(out, "r") as f:
        assert list(f["0"].attrs["tokens"]) == sentences()[6]  # "России." split as Russian rules do
        assert np.abs(f["0"][...] - reference("all", 6)).max() < TOLERANCE
        assert f.attrs["torchelmo_tokenizer"].endswith("blank ru")
    bad = subprocess.run([sys.executable, "-m", "torchelmo.cli", "embed", str(source), str(tmp_path / "x.hdf5"),
                          "--all", "--tokenize", "--language", "qq"], capture_output=True, env=ENV)
    assert bad.returncode == 2 and "language 'qq'" in bad.stderr.decode()


# ------------------------------------------------------------------ published models by name
def _zip_folder(folder, archive, inside=""):
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"{inside}{path.name}")


@pytest.mark.parametrize("inside", ["", "zht.model/"])
def test_a_published_name_downloads_unpacks_and_validates_once(tmp_path, monkeypatch, inside):
    mirror = tmp_path / "mirror" / "elmoformanylangs"
    mirror.mkdir(parents=True)
    _zip_folder(MODEL, mirror / "179.zip", inside)  # efml-zh is number 179
    monkeypatch.setenv("TORCHELMO_MIRROR", (tmp_path / "mirror").as_uri())
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    embedder = ElmoEmbedder(model="efml-zh", state="zero")
    assert np.abs(embedder.embed_sentence(sentences()[7]) - reference("all", 7)).max() < TOLERANCE
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["efml-zh"]  # zip and temporaries gone
    (mirror / "179.zip").unlink()
    ElmoEmbedder(model="efml-zh", state="zero")  # from the cache: no download


def test_a_broken_published_archive_caches_nothing_and_offline_says_where(tmp_path, monkeypatch):
    from torchelmo.errors import ModelDownloadError

    folder = model_copy(tmp_path)
    (folder / "encoder.pkl").unlink()
    mirror = tmp_path / "mirror" / "elmoformanylangs"
    mirror.mkdir(parents=True)
    _zip_folder(folder, mirror / "170.zip")
    monkeypatch.setenv("TORCHELMO_MIRROR", (tmp_path / "mirror").as_uri())
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelDownloadError, match="170.zip: not a valid ELMoForManyLangs model .*encoder.pkl"):
        ElmoEmbedder(model="efml-ru")
    assert list((tmp_path / "cache").iterdir()) == [] and list(folder.iterdir())  # the source is untouched
    monkeypatch.setenv("TORCHELMO_MIRROR", (tmp_path / "nowhere").as_uri())
    with pytest.raises(ModelDownloadError, match=r"could not download .*170.zip .*place the file at .*efml-ru.zip"):
        ElmoEmbedder(model="efml-ru")
