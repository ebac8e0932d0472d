"""Reading sentence files: one whitespace-tokenized sentence per line, UTF-8.

Files are checked in a first streaming pass (blank lines, invalid UTF-8, with line numbers)
and read again lazily for embedding, so memory does not grow with the file.
"""
import io
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import IO, Iterator, List, Union

from .errors import InputError

Source = Union[str, os.PathLike, IO]


@dataclass
class SentenceFile:
    """A checked input: its path on disk and how many sentences it holds."""

    path: str
    num_sentences: int
    blank_lines: List[int] = field(default_factory=list)  # 0-based indexes
    temporary: bool = False

    def lines(self) -> Iterator[str]:
        """Each line, decoded and stripped of surrounding whitespace (in file order)."""
        with open(self.path, "rb") as f:
            for raw in f:
                yield raw.decode("utf-8").strip()

    def close(self) -> None:
        if self.temporary and os.path.exists(self.path):
            os.remove(self.path)


def _spool(stream: IO) -> str:
    """Copy a stream (stdin, an open file) to a temporary file so it can be read twice."""
    fd, path = tempfile.mkstemp(prefix="torchelmo-input-", suffix=".txt")
    with os.fdopen(fd, "wb") as out:
        if hasattr(stream, "buffer"):  # a text file or sys.stdin: copy its bytes
            shutil.copyfileobj(stream.buffer, out)
        elif isinstance(stream, io.TextIOBase):  # e.g. io.StringIO
            for line in stream:
                out.write(line.encode("utf-8"))
        else:
            shutil.copyfileobj(stream, out)
    return path


def open_sentence_file(source: Source) -> SentenceFile:
    """Check a sentence file (a path, ``"-"`` for stdin, or an open file object).

    Raises :class:`InputError` for a missing path, a directory, or invalid UTF-8 (naming
    the line). Blank lines are counted and reported in ``blank_lines``.
    """
    temporary = False
    if source == "-":
        path, temporary = _spool(sys.stdin), True
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"{path}: input file not found")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, expected a text file with one sentence per line")
    else:
        path, temporary = _spool(source), True
    blank, count = [], 0
    with open(path, "rb") as f:
        for count, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                if temporary:
                    os.remove(path)
                raise InputError(f"{path}: line {count} is not valid UTF-8 ({error.reason} at byte "
                                 f"{error.start})") from None
            if not text.strip():
                blank.append(count - 1)
    return SentenceFile(path=path, num_sentences=count, blank_lines=blank, temporary=temporary)
