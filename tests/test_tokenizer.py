import pytest

from torchelmo.tokenizer import tokenize, tokenize_with_offsets


@pytest.mark.parametrize("text", [
    "Hello, world!",
    "  leading and trailing spaces  ",
    "Tabs\tand\nnewlines\r\nmixed",
    "Unicode: été, naïve café — “quotes” and emoji 🙂!",
    "It's 3.5km (approx.) from U.S.A.'s border.",
    "",
])
def test_offsets_point_at_the_token_text(text):
    tokens = tokenize_with_offsets(text)
    for token in tokens:
        assert text[token.start:token.end] == token.text
        assert token.text.strip() == token.text and token.text
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)


def test_splits_punctuation_and_clitics_not_whitespace_runs():
    assert tokenize("It's 3.5km.   Really?") == ["It", "'s", "3.5", "km", ".", "Really", "?"]
    assert tokenize(" \t\n ") == []
