"""Raw text -> tokens with character offsets, by spaCy's rule-based English tokenizer.

The tokenizer needs no model download (``spacy.blank("en")``); spaCy is an optional
dependency (``pip install 'torchelmo[text]'``), imported on first use. Whitespace runs are
not tokens. Every token satisfies ``text[start:end] == token``.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import List

from .errors import ConfigurationError


@dataclass(frozen=True)
class Token:
    """One token of a text: its characters and where they are (``text[start:end]``)."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@lru_cache(maxsize=1)
def _english():
    try:
        import spacy
    except ImportError:
        raise ConfigurationError("tokenizing raw text needs spaCy: pip install 'torchelmo[text]'") from None
    return spacy.blank("en").tokenizer


def tokenizer_name() -> str:
    """The tokenizer and its version, e.g. ``"spacy 3.8.18 blank en"`` (recorded by embedding
    jobs: a resume must tokenize alike)."""
    _english()
    import spacy

    return f"spacy {spacy.__version__} blank en"


def tokenize_with_offsets(text: str) -> List[Token]:
    """The tokens of ``text`` with their character offsets, whitespace left out."""
    return [Token(t.text, t.idx) for t in _english()(text) if not t.is_space]


def tokenize(text: str) -> List[str]:
    """The tokens of ``text`` as strings, e.g. ``"It's 3.5km."`` -> ``["It", "'s", "3.5", "km", "."]``."""
    return [token.text for token in tokenize_with_offsets(text)]
