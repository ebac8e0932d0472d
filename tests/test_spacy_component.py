"""The ``elmo`` spaCy component in real pipelines: the same bits as ElmoEmbedder(state="warm"),
pipe vs one doc at a time, empty and long docs, saving and loading, other languages, bad settings."""
import importlib.metadata
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

spacy = pytest.importorskip("spacy")
from spacy.util import registry  # noqa: E402
from thinc.api import ConfigValidationError  # noqa: E402

import torchelmo.integrations.spacy  # noqa: E402,F401  (registers the factory and the layers)
from torchelmo import ElmoEmbedder  # noqa: E402
from torchelmo.errors import ConfigurationError  # noqa: E402
from torchelmo.integrations.spacy.settings import combine  # noqa: E402

TEXTS = ["The quick brown fox jumps over the lazy dog.", "", "Hi!",
         "ELMo gives each token a vector that depends on its whole sentence, left and right.",
         "  Two  spaces  make   whitespace tokens .", "A bank can hold money; a river bank holds water."]


@pytest.fixture(scope="module")
def embedder() -> ElmoEmbedder:
    return ElmoEmbedder(state="warm")


@pytest.fixture(scope="module")
def nlp():
    pipeline = spacy.blank("en")
    pipeline.add_pipe("elmo", config={"batch_tokens": 40})
    return pipeline


def _tokens(doc):
    return [token.text for token in doc]


def test_doc_layers_equal_the_embedders_on_the_docs_tokens(nlp, embedder):
    doc = nlp(TEXTS[3])
    expected = embedder.embed_sentence(_tokens(doc))
    assert doc._.elmo.dtype == np.float32 and doc._.elmo.shape == (3, len(doc), 256)
    np.testing.assert_array_equal(doc._.elmo, expected)
    np.testing.assert_array_equal(doc.tensor, expected.mean(axis=0))


def test_vectors_and_similarity_read_the_tensor(nlp):
    doc = nlp(TEXTS[5])
    np.testing.assert_array_equal(doc[1].vector, doc.tensor[1])
    np.testing.assert_allclose(doc[1:4].vector, doc.tensor[1:4].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(doc.vector, doc.tensor.mean(axis=0), rtol=1e-6)
    banks = [token for token in doc if token.text == "bank"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no word vectors" warning (W007/W008)
        same_word = banks[0].similarity(banks[1])
        assert 0.0 < same_word < 1.0  # contextual: the two "bank"s differ
        assert doc.similarity(doc) == pytest.approx(1.0, abs=1e-6)
        assert doc[0:3].similarity(doc) < 1.0


def test_pipe_gives_the_bits_of_single_docs_in_order(nlp):
    texts = TEXTS + TEXTS[::-1]  # batches of 5 docs, cut by the 40-token budget: many batch mates
    piped = list(nlp.pipe(texts, batch_size=5))
    assert [doc.text for doc in piped] == texts
    singles = {text: nlp(text) for text in TEXTS}
    for doc in piped:
        np.testing.assert_array_equal(doc._.elmo, singles[doc.text]._.elmo)
        np.testing.assert_array_equal(doc.tensor, singles[doc.text].tensor)


def test_empty_doc(nlp):
    doc = nlp("")
    assert doc._.elmo.shape == (3, 0, 256) and doc.tensor.shape == (0, 256)
    assert not doc.has_vector
    np.testing.assert_array_equal(doc.vector, np.zeros(256, dtype=np.float32))
    assert doc.similarity(nlp("word")) == 0.0


@pytest.mark.slow
def test_a_5000_token_doc_in_windows(embedder):
    words = ("the cat sat on the mat and looked at the dog , which was asleep . " * 334).split()[:5000]
    pipeline = spacy.blank("en")
    pipeline.add_pipe("elmo", config={"window": 100, "batch_tokens": 6400})
    doc = pipeline(spacy.tokens.Doc(pipeline.vocab, words=words))
    assert doc._.elmo.shape == (3, 5000, 256) and doc.tensor.shape == (5000, 256)
    np.testing.assert_array_equal(doc._.elmo, embedder.embed_sentence(words, window=100))


@pytest.mark.parametrize("combination, pick", [("average", lambda a: a.mean(axis=0)), ("top", lambda a: a[-1]),
                                               ("layer:1", lambda a: a[1]),
                                               ("concat", lambda a: np.concatenate(list(a), axis=-1))])
def test_combinations(combination, pick, layers=np.arange(24, dtype=np.float32).reshape(3, 2, 4)):
    np.testing.assert_array_equal(combine(layers, combination), pick(layers))


def test_a_combination_from_the_config_fills_the_tensor():
    pipeline = spacy.blank("en")
    pipeline.add_pipe("elmo", config={"combination": "layer:1"})
    doc = pipeline(TEXTS[0])
    np.testing.assert_array_equal(doc.tensor, doc._.elmo[1])


def test_a_non_english_tokenizer(embedder):
    pipeline = spacy.blank("de")
    pipeline.add_pipe("elmo")
    doc = pipeline("Die Katze schläft, weil sie müde ist.")
    assert _tokens(doc)[:4] == ["Die", "Katze", "schläft", ","]
    np.testing.assert_array_equal(doc._.elmo, embedder.embed_sentence(_tokens(doc)))


def test_after_a_trained_component_keeps_its_annotations():
    pipeline = spacy.blank("en")
    tagger = pipeline.add_pipe("tagger")
    for tag in ("DT", "NN", "VBZ"):
        tagger.add_label(tag)
    pipeline.initialize()
    pipeline.add_pipe("elmo")
    doc = pipeline("The dog barks")
    assert all(token.tag_ in ("DT", "NN", "VBZ") for token in doc) and doc._.elmo.shape == (3, 3, 256)


def test_saved_pipeline_loads_the_bundled_model_again(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == ["elmo"] and loaded.get_pipe("elmo").settings.batch_tokens == 40
    np.testing.assert_array_equal(loaded(TEXTS[0])._.elmo, nlp(TEXTS[0])._.elmo)


def test_saved_pipeline_keeps_a_copy_of_a_folder_model(options_file, weight_file, tmp_path):
    folder = tmp_path / "my-elmo"
    folder.mkdir()
    shutil.copyfile(options_file, folder / "options.json")
    shutil.copyfile(weight_file, folder / "lm_weights.hdf5")
    pipeline = spacy.blank("en")
    pipeline.add_pipe("elmo", config={"model": str(folder)})
    expected = ElmoEmbedder(options_file, weight_file, state="warm").embed_sentence(["Saved", "and", "loaded", "."])
    np.testing.assert_array_equal(pipeline("Saved and loaded.")._.elmo, expected)
    pipeline.to_disk(tmp_path / "pipeline")
    shutil.rmtree(folder)
    loaded = spacy.load(tmp_path / "pipeline")
    np.testing.assert_array_equal(loaded("Saved and loaded.")._.elmo, expected)
    loaded.to_disk(tmp_path / "again")  # the copy is copied on
    np.testing.assert_array_equal(spacy.load(tmp_path / "again")("Saved and loaded.")._.elmo, expected)


@pytest.mark.parametrize("config, words", [
    ({"state": "carry"}, "state"), ({"device": "gpu"}, "device"), ({"batch_tokens": 0}, "batch_tokens"),
    ({"window": -1}, "window"), ({"window_overlap": 3}, "window_overlap"),
    ({"window": 8, "window_overlap": 4}, "window_overlap"), ({"combination": "max"}, "combination")])
def test_bad_settings_raise_one_configuration_error(config, words):
    with pytest.raises(ConfigurationError, match=words):
        spacy.blank("en").add_pipe("elmo", config=config)


def test_bad_types_are_spacys_config_errors():
    with pytest.raises(ConfigValidationError, match="batch_tokens"):
        spacy.blank("en").add_pipe("elmo", config={"batch_tokens": "many"})


@pytest.mark.parametrize("config, words", [({"model": "no-such-model"}, "unknown model"),
                                           ({"model": "./missing-folder"}, "does not exist"),
                                           ({"combination": "layer:3"}, "3 layers")])
def test_bad_models_raise_on_first_use(config, words):
    pipeline = spacy.blank("en")
    pipeline.add_pipe("elmo", config=config)
    with pytest.raises(ConfigurationError, match=words):
        pipeline("text")


def test_entry_points_register_the_factory_and_layers():
    try:
        points = importlib.metadata.distribution("torchelmo").entry_points
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("torchelmo is not installed (no entry point metadata)")
    names = {(point.group, point.name): point.value for point in points}
    if ("spacy_factories", "elmo") not in names:
        pytest.skip("the installed torchelmo metadata predates the spaCy entry points; reinstall with pip install -e .")
    assert names[("spacy_factories", "elmo")] == "torchelmo.integrations.spacy.component:make_elmo"
    for name in ("torchelmo.ElmoTok2Vec.v1", "torchelmo.ElmoFeatures.v1"):
        module, function = names[("spacy_architectures", name)].split(":")
        assert registry.architectures.get(name).__name__ == function


def test_the_core_does_not_import_the_integration():
    code = ("import sys, torchelmo, torchelmo.cli; "
            "print(sorted(m for m in sys.modules if m.startswith('torchelmo.integrations')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
