"""CoNLL-2012 coreference files: documents of sentences with bracketed mention chains.

A document runs from ``#begin document (name); part NNN`` to ``#end document``; one token
per line (columns split on tabs when the line has any, else on whitespace), a blank line
between sentences. The last column holds the chains: ``(12`` opens a mention of chain 12,
``12)`` closes the latest open one, ``(12)`` is a one-token mention, ``-``/``_`` is none;
several brackets may be joined, with or without ``|`` (``(5|(12)``, ``(3(4``, ``3)2)``).

Files without blank lines between sentences (OntoGUM) can take their sentence boundaries
from CoNLL-U files of the same words (``sentences``, e.g. GUM's ``dep/{name}.conllu``).
"""
import logging
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Literal, Optional, Tuple

from ...errors import InputError
from ..readers.blocks import TextFileConfig, text_lines
from ..readers.conllu import ConlluReaderConfig, read_conllu
from ..registry import register_reader
from ..schema import NON_NEGATIVE, check
from .document import Cluster, Document, Mention


@dataclass
class Conll2012ReaderConfig(TextFileConfig):
    """CoNLL-2012 coreference documents: bracketed chains in the last column.

    ``token_column``: the word's column (3 in CoNLL-2012; 1 in OntoGUM's three columns).
    ``sentences``: take sentence boundaries from a CoNLL-U file of the same words, with
    ``{name}`` standing for the data file's stem (e.g. GUM's ``dep/{name}.conllu``); made
    absolute when loaded. ``unmatched_brackets``: ``error``, or ``skip`` (warn and drop).
    """

    type: str = "conll2012"
    token_column: int = check(NON_NEGATIVE, default=3)
    sentences: Optional[str] = None
    unmatched_brackets: Literal["error", "skip"] = "error"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sentences is not None:
            self.sentences = os.path.abspath(self.sentences)


logger = logging.getLogger(__name__)

_BEGIN = re.compile(r"#\s*begin document\s*(.*)$")
_NAME_AND_PART = re.compile(r"\((?P<name>.*)\);\s*part\s+(?P<part>\S+)$")
_END = re.compile(r"#\s*end document")
_BRACKET = re.compile(r"\((?P<open>[^()|\s]+)(?P<single>\))?|(?P<close>[^()|\s]+)\)|\|")
NO_MENTION = ("-", "_")


class _DocumentBuilder:
    """Collects one document's words, sentence lengths and brackets line by line."""

    def __init__(self, path: str, line: int, header: str, stem: str, config: Conll2012ReaderConfig) -> None:
        self.path, self.line, self.config = path, line, config
        match = _NAME_AND_PART.match(header.strip())
        self.name, self.part = (match.group("name"), match.group("part")) if match else (header.strip() or stem, "000")
        self.tokens: List[str] = []
        self.token_lines: List[int] = []
        self.sentence_lengths: List[int] = []
        self.sentence_start = 0
        self.open: Dict[str, List[Tuple[int, int]]] = {}
        self.mentions: List[Tuple[str, Mention, int]] = []  # chain, mention, line of its closing bracket

    def add_token(self, columns: List[str], number: int) -> None:
        config = self.config
        if len(columns) < 2 or len(columns) <= config.token_column:
            raise InputError(f"{self.path}:{number}: expected the word in column {config.token_column} and "
                             f"the coreference brackets in the last column, got {len(columns)} column(s)")
        index = len(self.tokens)
        self.tokens.append(columns[config.token_column])
        self.token_lines.append(number)
        value = columns[-1]
        if value in NO_MENTION:
            return
        position = 0
        while position < len(value):
            match = _BRACKET.match(value, position)
            if match is None:
                raise InputError(f"{self.path}:{number}: cannot parse coreference {value!r} at character {position}")
            position = match.end()
            if match.group("open") is not None:
                chain = match.group("open")
                if match.group("single"):
                    self.mentions.append((chain, (index, index), number))
                else:
                    self.open.setdefault(chain, []).append((index, number))
            elif match.group("close") is not None:
                chain = match.group("close")
                if self.open.get(chain):
                    self.mentions.append((chain, (self.open[chain].pop()[0], index), number))
                else:
                    self._unmatched(number, f"chain {chain!r} closed but never opened")

    def end_sentence(self) -> None:
        if len(self.tokens) > self.sentence_start:
            self.sentence_lengths.append(len(self.tokens) - self.sentence_start)
            self.sentence_start = len(self.tokens)

    def _unmatched(self, line: int, problem: str) -> None:
        if self.config.unmatched_brackets == "error":
            raise InputError(f"{self.path}:{line}: {problem} (set unmatched_brackets: skip to drop such brackets)")
        logger.warning("%s:%d: %s; dropped", self.path, line, problem)

    def clusters(self) -> List[Cluster]:
        """Chains in order of their first mention. A span in two chains stays in the one that
        closes it first (a warning names the line)."""
        for chain, stack in self.open.items():
            for _, line in stack:
                self._unmatched(line, f"chain {chain!r} opened but not closed in its document")
        chains: Dict[str, List[Mention]] = {}
        seen: Dict[Mention, str] = {}
        for chain, mention, line in self.mentions:
            if mention in seen:
                if seen[mention] != chain:
                    logger.warning("%s:%d: tokens %d-%d are a mention of chains %r and %r; kept in %r", self.path,
                                   line, mention[0], mention[1], seen[mention], chain, seen[mention])
                continue
            seen[mention] = chain
            chains.setdefault(chain, []).append(mention)
        return sorted((sorted(mentions) for mentions in chains.values()), key=lambda c: c[0])

    def build(self, sentences: Optional[List[List[str]]], sentences_path: str) -> Document:
        self.end_sentence()
        if not self.tokens:
            raise InputError(f"{self.path}:{self.line}: document {self.name!r} has no words")
        if sentences is not None:
            self._align(sentences, sentences_path)
        for index, token in enumerate(self.tokens):
            if not token:
                raise InputError(f"{self.path}:{self.token_lines[index]}: empty word")
        return Document(tokens=self.tokens, source=f"{self.path}:{self.line}", sentence_lengths=self.sentence_lengths,
                        clusters=self.clusters(), name=self.name, part=self.part)

    def _align(self, sentences: List[List[str]], sentences_path: str) -> None:
        """Take the sentence lengths of ``sentences`` (the same words); an empty word here
        takes its value from there."""
        words = [word for sentence in sentences for word in sentence]
        if len(words) != len(self.tokens):
            raise InputError(f"{self.path}:{self.line}: {len(self.tokens)} words, but {sentences_path} has "
                             f"{len(words)}: the sentence file must hold the same words")
        for index, (mine, theirs) in enumerate(zip(self.tokens, words)):
            if not mine:
                logger.warning("%s:%d: empty word; taking %r from %s", self.path, self.token_lines[index], theirs,
                               sentences_path)
                self.tokens[index] = theirs
            elif mine != theirs:
                raise InputError(f"{self.path}:{self.token_lines[index]}: word {mine!r} is {theirs!r} in "
                                 f"{sentences_path} (word {index + 1} of the document)")
        self.sentence_lengths = [len(sentence) for sentence in sentences]


def _sentences_of(path: str, config: Conll2012ReaderConfig) -> Tuple[Optional[List[List[str]]], str]:
    if config.sentences is None:
        return None, ""
    stem = os.path.splitext(os.path.basename(path))[0]
    sentences_path = config.sentences.replace("{name}", stem)
    if not os.path.isfile(sentences_path):
        raise InputError(f"{path}: no sentence file {sentences_path} (from sentences: {config.sentences})")
    return [x.tokens for x in read_conllu(sentences_path, ConlluReaderConfig())], sentences_path


@register_reader(Conll2012ReaderConfig)
def read_conll2012(path: str, config: Conll2012ReaderConfig) -> Iterator[Document]:
    """The documents of ``path``; malformed lines fail with ``file:line``."""
    sentences, sentences_path = _sentences_of(path, config)
    stem = os.path.splitext(os.path.basename(path))[0]
    documents = 0
    builder: Optional[_DocumentBuilder] = None
    for number, line in text_lines(path, config):
        begin = _BEGIN.match(line)
        if begin:
            if builder is not None:
                raise InputError(f"{path}:{number}: a document begins before the one at line {builder.line} ended")
            builder = _DocumentBuilder(path, number, begin.group(1), stem, config)
        elif _END.match(line):
            if builder is None:
                raise InputError(f"{path}:{number}: '#end document' without '#begin document'")
            documents += 1
            if sentences is not None and documents > 1:
                raise InputError(f"{path}:{number}: sentences from {sentences_path} fit one document per file")
            yield builder.build(sentences, sentences_path)
            builder = None
        elif line.startswith("#"):
            continue
        elif not line.strip():
            if builder is not None:
                builder.end_sentence()
        elif builder is None:
            raise InputError(f"{path}:{number}: word outside a '#begin document' ... '#end document' block")
        else:
            builder.add_token(line.split("\t") if "\t" in line else line.split(), number)
    if builder is not None:
        raise InputError(f"{path}:{builder.line}: document not ended by '#end document'")
