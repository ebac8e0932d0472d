"""Reading data files: numbered lines decoded as a reader's config says (UTF-8 by default),
and the blank-line separated blocks (one sentence each) CoNLL formats lay them out in."""
import codecs
from dataclasses import dataclass
from typing import Callable, Iterator, List, Literal, Optional, Tuple

from ...errors import InputError

NumberedLine = Tuple[int, str]  # (1-based line number, the line without its end)
BOM = b"\xef\xbb\xbf"


@dataclass
class TextFileConfig:
    """How a reader decodes its files (the base of every reader config). ``encoding``: an
    ASCII-compatible Python codec (default ``utf-8``, whose byte-order mark is dropped; e.g.
    ``latin-1`` for a file kept in its original encoding, as TREC). ``errors``: ``strict``
    (a line that does not decode fails with ``file:line``) or ``replace`` (bad bytes become
    U+FFFD)."""

    encoding: str = "utf-8"
    errors: Literal["strict", "replace"] = "strict"

    def __post_init__(self) -> None:
        try:
            codec = codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"encoding: unknown encoding {self.encoding!r}") from None
        if b"\n\t ;,".decode(codec.name, "replace") != "\n\t ;,":
            raise ValueError(f"encoding: {self.encoding!r} does not keep ASCII as it is (UTF-16 or -32?); "
                             f"convert the file to UTF-8")

    @property
    def encoding_name(self) -> str:
        """The encoding as messages name it (``UTF-8``, ``latin-1``, ...)."""
        return "UTF-8" if codecs.lookup(self.encoding).name == "utf-8" else self.encoding


def decode_file(path: str, config: Optional[TextFileConfig] = None) -> str:
    """The whole of ``path`` decoded as ``config`` says; a byte that does not decode fails
    naming the file, line and byte."""
    return "".join(line for _, line in text_lines(path, config, keep_ends=True))


def text_lines(path: str, config: Optional[TextFileConfig] = None, keep_ends: bool = False) -> Iterator[NumberedLine]:
    """The lines of ``path`` (``\\n``-separated), decoded as ``config`` says (UTF-8 with a
    leading BOM dropped by default), streaming; a line that does not decode fails with
    ``file:line``, unless ``config.errors`` is ``replace``."""
    config = config or TextFileConfig()
    utf8 = codecs.lookup(config.encoding).name == "utf-8"
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if number == 1 and utf8 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            try:
                line = raw.decode(config.encoding, config.errors)
            except UnicodeDecodeError as error:
                raise InputError(f"{path}:{number}: not valid {config.encoding_name} ({error.reason} at byte "
                                 f"{error.start + 1} of the line); set encoding, or errors: replace, in the reader "
                                 f"config") from None
            yield number, line if keep_ends else line.rstrip("\r\n")


def line_blocks(path: str, is_comment: Callable[[str], bool],
                config: Optional[TextFileConfig] = None) -> Iterator[List[NumberedLine]]:
    """The non-empty blocks of ``path``: the lines between blank (or whitespace-only) lines,
    comment lines left out. Decoded as ``config`` says, streaming."""
    block: List[NumberedLine] = []
    for number, line in text_lines(path, config):
        if not line.strip():
            if block:
                yield block
            block = []
        elif not is_comment(line):
            block.append((number, line))
    if block:
        yield block
