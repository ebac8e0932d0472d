"""The spaCy training layers: the learned scalar mix of frozen ELMo layers, its gradient, and a
tagger that trains on them from a config."""
import numpy as np
import pytest

spacy = pytest.importorskip("spacy")
from spacy.training import Example  # noqa: E402
from spacy.util import registry  # noqa: E402

import torchelmo.integrations.spacy  # noqa: E402,F401
from torchelmo import ElmoEmbedder  # noqa: E402
from torchelmo.errors import ConfigurationError  # noqa: E402

SENTENCES = [["The", "dog", "barks", "."], ["A", "cat", "sleeps", "on", "the", "mat", "."], []]


@pytest.fixture(scope="module")
def docs():
    vocab = spacy.blank("en").vocab
    return [spacy.tokens.Doc(vocab, words=words) for words in SENTENCES]


@pytest.fixture(scope="module")
def layers():
    return ElmoEmbedder(state="warm").embed_batch(SENTENCES)


def test_features_start_as_the_layer_average(docs, layers):
    model = registry.architectures.get("torchelmo.ElmoFeatures.v1")(cache_docs=10)
    model.initialize()
    outputs = model.predict(docs)
    assert [o.shape for o in outputs] == [(4, 256), (7, 256), (0, 256)]
    for output, expected in zip(outputs, layers):
        np.testing.assert_allclose(output, expected.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(docs)[1], outputs[1])  # from the cache


def test_mix_gradient_matches_finite_differences(docs):
    model = registry.architectures.get("torchelmo.ElmoFeatures.v1")(cache_docs=10)
    model.initialize()
    model.set_param("weights", np.array([0.3, -0.2, 0.1], dtype=np.float32))
    model.set_param("gamma", np.array([1.5], dtype=np.float32))
    rng = np.random.default_rng(0)
    targets = [rng.standard_normal((len(doc), 256)).astype(np.float32) for doc in docs]

    def loss() -> float:
        return sum(float((out.astype(np.float64) * t).sum()) for out, t in zip(model.predict(docs), targets))

    _, backprop = model.begin_update(docs)
    backprop(targets)
    for name, index in [("weights", 0), ("weights", 2), ("gamma", 0)]:
        param = model.get_param(name).copy()
        step = np.zeros_like(param)
        step[index] = 1e-2
        model.set_param(name, param + step)
        up = loss()
        model.set_param(name, param - step)
        down = loss()
        model.set_param(name, param)
        assert model.get_grad(name)[index] == pytest.approx((up - down) / 2e-2, rel=2e-2)


def test_tagger_trains_on_elmo_features_from_a_config():
    config = spacy.util.load_config_from_str("""
[nlp]
lang = "en"
pipeline = ["tagger"]

[components]

[components.tagger]
factory = "tagger"

[components.tagger.model]
@architectures = "spacy.Tagger.v2"
nO = null

[components.tagger.model.tok2vec]
@architectures = "torchelmo.ElmoTok2Vec.v1"
cache_docs = 100

[components.tagger.model.tok2vec.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 32
depth = 1
embed_size = 500
window_size = 1
maxout_pieces = 2
subword_features = true
""")
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    words, tags = ["I", "like", "green", "eggs"], ["PRP", "VBP", "JJ", "NNS"]
    examples = [Example.from_dict(nlp.make_doc(" ".join(words)), {"words": words, "tags": tags})]
    optimizer = nlp.initialize(lambda: examples)
    tok2vec = nlp.get_pipe("tagger").model.get_ref("tok2vec")
    assert tok2vec.get_dim("nO") == 32 + 256
    features = [node for node in tok2vec.walk() if node.name == "elmo_features"][0]
    before = features.get_param("weights").copy()
    losses = [nlp.update(examples, sgd=optimizer, losses={})["tagger"] for _ in range(30)]
    assert losses[-1] < losses[0]
    assert not np.array_equal(features.get_param("weights"), before)  # the mix learns
    assert [token.tag_ for token in nlp("I like green eggs")] == tags


def test_bad_layer_settings():
    with pytest.raises(ConfigurationError, match="cache_docs"):
        registry.architectures.get("torchelmo.ElmoFeatures.v1")(cache_docs=-1)
    with pytest.raises(ConfigurationError, match="state"):
        registry.architectures.get("torchelmo.ElmoFeatures.v1")(state="carry")
