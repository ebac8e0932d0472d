"""Unicode clean-up applied to every paragraph before sentence splitting."""
import re
import unicodedata

_TRANSLATION = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u2014": " -- ", "\u2015": " -- ", "\u2013": "-", "\u2012": "-", "\u2010": "-", "\u2011": "-",
    "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
})
_LATEX_QUOTES = re.compile(r"``|''")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC-normalize ``text`` and make its punctuation plain ASCII in the 1B Word style.

    Curly and TeX-style (````...''``) double quotes become ``"``, curly single quotes ``'``,
    em dashes `` -- ``, en dashes and other hyphens ``-``; soft hyphens, zero-width
    characters and control characters are removed and runs of whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATION)
    text = _LATEX_QUOTES.sub('"', text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
