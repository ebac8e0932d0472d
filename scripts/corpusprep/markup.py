"""Markup strippers: HTML (Sphinx, DocBook) and MediaWiki text to plain paragraphs."""
import html
import re
from html.parser import HTMLParser
from typing import List

# Elements whose whole content is not prose (code, tables, navigation, maths).
_SKIPPED_TAGS = frozenset(["pre", "table", "script", "style", "math", "nav", "code-block"])
_SKIPPED_CLASSES = ("highlight", "sphinxsidebar", "related", "footer", "navheader",
                    "navfooter", "linenos", "toc")
_BLOCK_TAGS = frozenset(["p", "div", "ul", "ol", "li", "dl", "dt", "dd", "table", "pre",
                         "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section"])
_SPACES = re.compile(r"\s+")


class _ParagraphParser(HTMLParser):
    """Collects the text of each ``<p>`` outside code, tables and navigation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: List[str] = []
        self._parts: List[str] = []
        self._in_paragraph = False
        self._skip_tag = ""
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs) -> None:
        if self._skip_depth:
            self._skip_depth += tag == self._skip_tag
            return
        classes = dict(attrs).get("class") or ""
        if tag in _SKIPPED_TAGS or any(name in classes for name in _SKIPPED_CLASSES):
            self._flush()
            self._skip_tag, self._skip_depth = tag, 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._in_paragraph = tag == "p"
        elif tag == "br":
            self._parts.append(" ")

    def handle_endtag(self, tag) -> None:
        if self._skip_depth:
            self._skip_depth -= tag == self._skip_tag
            return
        if tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data) -> None:
        if self._in_paragraph and not self._skip_depth:
            self._parts.append(data)

    def _flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self._parts)).strip()
        if self._in_paragraph and text:
            self.paragraphs.append(text)
        self._parts, self._in_paragraph = [], False


def html_paragraphs(document: str) -> List[str]:
    """The prose paragraphs (``<p>`` elements) of an HTML page, whitespace collapsed.

    Text inside ``<pre>``, ``<table>``, scripts, highlighted code and navigation/sidebar/footer
    blocks is dropped; inline markup (``<code>``, ``<a>``, ``<em>``) keeps its text.
    """
    parser = _ParagraphParser()
    parser.feed(document)
    parser.close()
    parser._flush()
    return parser.paragraphs


_WIKI_COMMENT = re.compile(r"<!--.*?-->", re.S)
_WIKI_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_WIKI_DROPPED_ELEMENTS = re.compile(
    r"<(math|gallery|source|syntaxhighlight|timeline|score|imagemap|pre|code)\b.*?</\1>", re.S | re.I)
_WIKI_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_WIKI_TABLE = re.compile(r"\{\|(?:(?!\{\|).)*?\|\}", re.S)
_WIKI_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_WIKI_DROPPED_LINK = re.compile(r"^(?:file|image|category|media|[a-z]{2,3}(?:-[a-z]+)?):", re.I)
_WIKI_EXTERNAL = re.compile(r"\[(?:https?:)?//[^\s\]]+\s*([^\]]*)\]")
_WIKI_EMPHASIS = re.compile(r"'{2,}")
_WIKI_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_WIKI_PROSE_LINE = re.compile(r"^[^\s*#:;|!={}<\[]")


def _replace_until_stable(pattern: "re.Pattern", replacement, text: str) -> str:
    while True:
        new = pattern.sub(replacement, text)
        if new == text:
            return text
        text = new


def _link_text(match: "re.Match") -> str:
    target, _, label = match.group(1).partition("|")
    if _WIKI_DROPPED_LINK.match(target) and not target.lower().startswith("wikt:"):
        return ""
    return label.rpartition("|")[2] if label else target.partition("#")[0] or target


def wikitext_paragraphs(wikitext: str) -> List[str]:
    """The prose paragraphs of a MediaWiki article: templates, tables, references, files,
    categories, headings and list items are dropped, links and emphasis keep their text."""
    text = _WIKI_COMMENT.sub("", wikitext)
    text = _WIKI_REF.sub("", text)
    text = _WIKI_DROPPED_ELEMENTS.sub("", text)
    text = _replace_until_stable(_WIKI_TEMPLATE, "", text)
    text = _replace_until_stable(_WIKI_TABLE, "", text)
    text = _replace_until_stable(_WIKI_LINK, _link_text, text)
    text = _WIKI_EXTERNAL.sub(r"\1", text)
    text = _WIKI_EMPHASIS.sub("", text)
    text = _WIKI_TAG.sub("", text)
    text = html.unescape(text)
    paragraphs = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if _WIKI_PROSE_LINE.match(line):
            paragraphs.append(line)
    return paragraphs
