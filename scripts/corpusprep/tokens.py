"""A PTB-like, cased tokenizer in the style of the 1B Word Benchmark that ELMo was trained on.

Punctuation becomes separate tokens (``,`` ``;`` ``:`` ``?`` ``!`` brackets, quotes, ``--``,
``...``, the sentence-final period), clitics are split the Treebank way (``do n't``,
``it 's``, ``we 're``, ``I 'm``, ``they 've``, ``she 'll``, ``he 'd``), while hyphenated words,
abbreviations (``Mr.``, ``U.S.``), numbers (``3.14``, ``1,000``, ``4:30``) and ``AT&T`` stay
whole.
"""
import re
from typing import List

from .abbreviations import MAY_BE_FINAL, NON_FINAL, is_dotted

_RULES = [
    (re.compile(r'"'), ' " '),
    (re.compile(r"\.\.\.+"), " ... "),
    (re.compile(r"--+"), " -- "),
    (re.compile(r"([;?!()\[\]{}<>$%#*|~^])"), r" \1 "),
    (re.compile(r",(?!\d)|(?<!\d),"), " , "),
    (re.compile(r":(?!\d)|(?<!\d):"), " : "),
    # An opening single quote: after a space or bracket, before a word (not 'tis, 'em, '90s,
    # nor a clitic already split off: 's, 're).
    (re.compile(r"(^|[\s(\[{])'(?!(?:tis|twas|twere|em|til|cause|n|s|re|ve|ll|d|m|\d\d)\b)(?=\w)", re.I),
     r"\1 ' "),
    (re.compile(r"(\w)(n't)\b", re.I), r"\1 \2"),
    (re.compile(r"(\w)('(?:s|re|ve|ll|d|m))\b", re.I), r"\1 \2"),
    # A closing single quote or plural possessive: after a word, before a space or punctuation.
    (re.compile(r"(\w)'(?=\s|$|[.,;:?!)\]])"), r"\1 ' "),
]
_CLOSERS = re.compile(r"[\s\"')\]}]*$")
_SPACES = re.compile(r"\s+")


def _split_final_period(text: str) -> str:
    """Make the period that ends the sentence a token; keep it on ``U.S.``/``Mr.`` and add one."""
    tail = _CLOSERS.search(text).group()
    body = text[:len(text) - len(tail)]
    if not body.endswith(".") or body.endswith(".."):
        return text
    head, _, word = body[:-1].rpartition(" ")
    if not word:
        return text
    lead = head + " " if head else ""
    bare = word.lstrip("'\"([{")
    if is_dotted(bare) or bare in NON_FINAL or bare in MAY_BE_FINAL:
        return f"{lead}{word}. . {tail}"
    return f"{lead}{word} . {tail}"


def tokenize(sentence: str) -> List[str]:
    """Split one normalized sentence into tokens, e.g. ``"Don't go," he said.`` →
    ``['"', 'Do', "n't", 'go', ',', '"', 'he', 'said', '.']``."""
    text = _split_final_period(sentence.strip())
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _SPACES.split(text.strip()) if text.strip() else []
