"""Property tests with arbitrary unicode: ids follow the encoding rules, every line is embedded
with one vector per token, and nothing crashes."""
import re

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchelmo import ElmoEmbedder, batch_to_ids
from torchelmo.sentences import InputPolicy

# Any code point except the line separators the file format uses; surrogates included.
text_chars = st.characters(blacklist_characters="\n")
tokens = st.text(alphabet=st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=70)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.lists(st.lists(tokens, max_size=6), min_size=1, max_size=4))
def test_batch_to_ids_follows_the_encoding_rules(batch):
    ids = batch_to_ids(batch)
    assert ids.shape == (len(batch), max(len(s) for s in batch), 50)
    for i, sentence in enumerate(batch):
        for j, token in enumerate(sentence):
            row = ids[i, j].tolist()
            if token in ("<S>", "</S>"):
                continue
            encoded = list(token.encode("utf-8", "ignore")[:48])
            assert row[: len(encoded) + 2] == [259] + [b + 1 for b in encoded] + [260]
            assert set(row[len(encoded) + 2:]) <= {261}
        assert ids[i, len(sentence):].eq(0).all()


@pytest.fixture(scope="module")
def embedder(options_file, weight_file):
    return ElmoEmbedder(options_file, weight_file, stateful=False)


@FUZZ
@given(st.lists(st.lists(tokens, max_size=8), min_size=1, max_size=5))
def test_embedder_handles_any_tokens(embedder, batch):
    vectors = embedder.embed_batch(batch)
    assert [v.shape for v in vectors] == [(3, len(s), 32) for s in batch]
    assert all(np.isfinite(v).all() for v in vectors)


@FUZZ
@given(st.lists(st.text(alphabet=text_chars, max_size=40), min_size=1, max_size=6))
def test_any_text_file_is_embedded_line_by_line(embedder, tmp_path_factory, lines):
    directory = tmp_path_factory.mktemp("fuzz")
    path = directory / "in.txt"
    data = "\n".join(lines).encode("utf-8", "surrogatepass")  # lone surrogates become invalid UTF-8
    path.write_bytes(data)
    out = directory / "out.hdf5"
    raw_lines = re.split(rb"\r\n|\r|\n", data.removeprefix(b"\xef\xbb\xbf"))  # the documented line ends
    if raw_lines[-1] == b"":  # no line after a final newline (or in an empty file)
        raw_lines.pop()
    expected = [raw.decode("utf-8", "replace").split() for raw in raw_lines]
    embedder.embed_file(str(path), out, "top", progress=False,
                        input_policy=InputPolicy(errors="replace", blank_lines="empty"))
    with h5py.File(out, "r") as f:
        assert len(f.keys()) == len(expected) + 1  # + sentence_to_index
        for index, tokens_ in enumerate(expected):
            assert f[str(index)].shape == (len(tokens_), 32)
