"""Raw text -> tokens with character offsets, by spaCy's rule-based tokenizer of a language.

The tokenizer needs no model download (``spacy.blank(language)``, English by default; a few
languages need a segmenter spaCy names, e.g. Japanese's SudachiPy); spaCy is an optional
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


@lru_cache(maxsize=8)
def _tokenizer(language: str):
    try:
        import spacy
    except ImportError:
        raise ConfigurationError("tokenizing raw text needs spaCy: pip install 'torchelmo[text]'") from None
    try:
        return spacy.blank(language).tokenizer
    except (ImportError, ValueError, KeyError) as error:  # an unknown code, or a segmenter not installed
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ConfigurationError(f"language {language!r}: no spaCy tokenizer ({reason})") from None


def tokenizer_name(language: str = "en") -> str:
    """The tokenizer and its version, e.g. ``"spacy 3.8.18 blank en"`` (recorded by embedding
    jobs: a resume must tokenize alike)."""
    _tokenizer(language)
    import spacy

    return f"spacy {spacy.__version__} blank {language}"


def tokenize_with_offsets(text: str, language: str = "en") -> List[Token]:
    """The tokens of ``text`` with their character offsets, whitespace left out, by the
    rules of ``language`` (a spaCy language code)."""
    return [Token(t.text, t.idx) for t in _tokenizer(language)(text) if not t.is_space]


def tokenize(text: str, language: str = "en") -> List[str]:
    """The tokens of ``text`` as strings, e.g. ``"It's 3.5km."`` -> ``["It", "'s", "3.5", "km", "."]``."""
    return [token.text for token in tokenize_with_offsets(text, language)]
