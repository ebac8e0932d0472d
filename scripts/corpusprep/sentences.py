"""A rule-based sentence splitter for normalized English paragraphs.

A sentence ends at ``.``, ``?``, ``!`` or ``...`` (with any closing quotes or brackets) that is
followed by whitespace and then a capital letter, a digit or an opening quote/bracket; except
after a title or other abbreviation (``Mr.``, ``Gen.``, ``vs.``), an initial (``J. R. R.``) or a
word with inner periods (``U.S.``, ``e.g.``). Decimals (``3.14``) never qualify because no space
follows their period.
"""
import re
from typing import List

from .abbreviations import BEFORE_NUMBER, NON_FINAL, is_dotted

_CANDIDATE = re.compile(r"""(\.\.\.|[.?!]+)(["')\]]*)\s+(?=["'(\[]*[A-Z0-9])""")
_LEADING = "\"'([{"


def _ends_sentence(text: str, end: int, next_char: str) -> bool:
    """Whether the period at ``text[end - 1]`` closes a sentence, judged by the word it ends
    and the first character of the next word."""
    word = text[:end - 1].rpartition(" ")[2].lstrip(_LEADING)
    if not word:
        return True
    if word in NON_FINAL or (word in BEFORE_NUMBER and next_char.isdigit()):
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():  # an initial
        return False
    return not is_dotted(word)  # U.S., e.g., a.m.


def split_sentences(paragraph: str) -> List[str]:
    """Split a normalized paragraph into sentences (stripped, in order, none empty)."""
    sentences, start = [], 0
    for match in _CANDIDATE.finditer(paragraph):
        mark_end = match.end(1)
        if match.group(1) == "." and not _ends_sentence(paragraph, mark_end, paragraph[match.end()]):
            continue
        sentences.append(paragraph[start:match.end(2)].strip())
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return [s for s in sentences if s]
