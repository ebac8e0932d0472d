"""Which tokenized sentences are kept: length, alphabetic content, script, start and ending."""
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional

_CLOSING = frozenset(['"', "'", ")", "]", "}"])
_FINAL = frozenset([".", "!", "?", "..."])


@lru_cache(maxsize=None)
def _is_latin_letter(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


@dataclass(frozen=True)
class SentenceFilter:
    """Thresholds for keeping a sentence; :meth:`reject_reason` says why one is dropped."""

    min_tokens: int = 3
    max_tokens: int = 80
    max_token_chars: int = 40  # longer "words" are URLs, hashes or run-together junk
    min_word_fraction: float = 0.5  # tokens with a letter, among tokens with a letter or digit
    min_letter_fraction: float = 0.6  # letters among all non-space characters
    require_complete: bool = True  # starts with a capital or digit, ends with . ! ? or ...

    def __post_init__(self) -> None:
        if not 1 <= self.min_tokens <= self.max_tokens:
            raise ValueError(f"need 1 <= min_tokens <= max_tokens, got {self.min_tokens} and "
                             f"{self.max_tokens}")
        for name in ("min_word_fraction", "min_letter_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")

    def reject_reason(self, tokens: List[str]) -> Optional[str]:
        """``None`` to keep ``tokens``, else a short reason (a key of the manifest's counts)."""
        if len(tokens) < self.min_tokens:
            return "too_short"
        if len(tokens) > self.max_tokens:
            return "too_long"
        if any(len(t) > self.max_token_chars for t in tokens):
            return "long_token"
        letters = [c for t in tokens for c in t if c.isalpha()]
        if not any(c.islower() for c in letters):
            return "no_lowercase"
        if not all(_is_latin_letter(c) for c in letters):
            return "not_latin_script"
        words = sum(any(c.isalpha() for c in t) for t in tokens)
        if words < self.min_word_fraction * sum(any(c.isalnum() for c in t) for t in tokens):
            return "few_words"
        if len(letters) < self.min_letter_fraction * sum(len(t) for t in tokens):
            return "few_letters"
        if self.require_complete:
            first = next(c for t in tokens for c in t if c.isalnum())  # 'Tis -> T
            if not (first.isupper() or first.isdigit()):
                return "no_capital_start"
            if not self._ends_properly(tokens):
                return "no_final_punctuation"
        return None

    @staticmethod
    def _ends_properly(tokens: List[str]) -> bool:
        end = len(tokens)
        while end > 1 and tokens[end - 1] in _CLOSING:
            end -= 1
        return tokens[end - 1] in _FINAL
