"""Reading sentence files: one whitespace-tokenized sentence per line, UTF-8.

A file is checked in a first streaming pass (blank lines, invalid UTF-8 and over-long
sentences, with line numbers) and read again lazily for embedding, so memory does not grow
with the file. Anything that is not a regular file (``-`` for stdin, ``/dev/stdin``, a pipe,
``<(...)``, an open file object) is first copied to a temporary file and read only from it.
Lines end with ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files); a missing final newline
is fine, and a UTF-8 byte-order mark at the start of the file is dropped.
"""
import hashlib
import io
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from typing import IO, BinaryIO, Iterator, List, Optional, Tuple, Union

from .errors import InputError
from .files import sweep_stale_temporaries

Source = Union[str, os.PathLike, IO]
ENCODING_ERRORS = ("strict", "replace", "skip")
BLANK_LINES = ("error", "skip", "empty")
DEFAULT_MAX_SENTENCE_LENGTH = 1000
BOM = b"\xef\xbb\xbf"
SPOOL_PREFIX = ".torchelmo-input-"


def raw_lines(f: BinaryIO) -> Iterator[bytes]:
    """The lines of a binary file without their ends: ``\\n``, ``\\r\\n`` and a lone ``\\r`` end
    a line; a leading UTF-8 byte-order mark is dropped."""
    for number, raw in enumerate(f):
        if number == 0 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        yield from raw.split(b"\r") if b"\r" in raw else (raw,)


@dataclass
class InputPolicy:
    """What to do with lines that cannot be embedded as they are.

    ``errors``: invalid UTF-8 -> ``strict`` (fail, naming the line), ``replace`` (U+FFFD), or
    ``skip`` (no dataset for that line). ``blank_lines``: ``error`` (AllenNLP's behaviour),
    ``skip``, or ``empty`` (a dataset with 0 tokens). ``max_sentence_length``: longer
    sentences fail with their line number (0 = no limit).
    """

    errors: str = "strict"
    blank_lines: str = "error"
    max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH

    def __post_init__(self) -> None:
        if self.errors not in ENCODING_ERRORS:
            raise ValueError(f"errors must be one of {ENCODING_ERRORS}, got {self.errors!r}")
        if self.blank_lines not in BLANK_LINES:
            raise ValueError(f"blank_lines must be one of {BLANK_LINES}, got {self.blank_lines!r}")
        if self.max_sentence_length < 0:
            raise ValueError(f"max_sentence_length must be >= 0, got {self.max_sentence_length}")


@dataclass
class SentenceFile:
    """A checked input file. Line ``i`` (0-based) becomes sentence ``i`` unless skipped."""

    path: str
    display_name: str
    num_lines: int
    policy: InputPolicy
    sha256: str = ""
    skipped: List[int] = field(default_factory=list)  # 0-based indexes of lines not embedded
    temporary: bool = False

    def lines(self) -> Iterator[Tuple[int, Optional[str]]]:
        """``(index, stripped text)`` for every line; text is None for a skipped line."""
        skipped = set(self.skipped)
        decode_errors = "replace" if self.policy.errors == "replace" else "strict"
        with open(self.path, "rb") as f:
            for index, raw in enumerate(raw_lines(f)):
                yield index, None if index in skipped else raw.decode("utf-8", decode_errors).strip()

    def close(self) -> None:
        if self.temporary and os.path.exists(self.path):
            os.remove(self.path)


def _spool(stream: IO) -> str:
    """Copy a stream (stdin, an open file) to a temporary file so it can be read twice (named
    ``.torchelmo-input-*.tmp-PID`` so that a later run removes it after ``kill -9``)."""
    sweep_stale_temporaries(tempfile.gettempdir(), SPOOL_PREFIX)
    fd, path = tempfile.mkstemp(prefix=SPOOL_PREFIX, suffix=f".tmp-{os.getpid()}")
    with os.fdopen(fd, "wb") as out:
        if hasattr(stream, "buffer"):  # a text file or sys.stdin: copy its bytes
            shutil.copyfileobj(stream.buffer, out)
        elif isinstance(stream, io.TextIOBase):  # e.g. io.StringIO
            for line in stream:
                out.write(line.encode("utf-8"))
        else:
            shutil.copyfileobj(stream, out)
    return path


def _shown(indexes: List[int]) -> str:
    lines = ", ".join(str(i + 1) for i in indexes[:10])
    return lines + (f" (and {len(indexes) - 10} more)" if len(indexes) > 10 else "")


def open_sentence_file(source: Source, policy: Optional[InputPolicy] = None) -> SentenceFile:
    """Check a sentence file (a path, ``"-"`` for stdin, or an open file object).

    Raises :class:`InputError` naming the file and 1-based line numbers for a missing path, a
    directory, invalid UTF-8 (with ``errors="strict"``), blank lines (with
    ``blank_lines="error"``) and sentences over ``max_sentence_length`` tokens.
    """
    policy = policy or InputPolicy()
    temporary = False
    if isinstance(source, str) and source == "-":
        path, name, temporary = _spool(sys.stdin), "<stdin>", True
    elif isinstance(source, (str, os.PathLike)):
        path = name = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"{path}: input file not found")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, expected a text file with one sentence per line")
        if not stat.S_ISREG(os.stat(path).st_mode):  # /dev/stdin, a pipe, <(...): readable once
            with open(path, "rb") as stream:
                path, temporary = _spool(stream), True
    else:
        path, temporary = _spool(source), True
        name = getattr(source, "name", "<input>")
    try:
        return _scan(path, name, policy, temporary)
    except BaseException:
        if temporary:
            os.remove(path)
        raise


def _scan(path: str, name: str, policy: InputPolicy, temporary: bool) -> SentenceFile:
    blank, invalid, long_lines, count = [], [], [], 0
    decode_errors = "replace" if policy.errors == "replace" else "strict"
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
        f.seek(0)
        for count, raw in enumerate(raw_lines(f), start=1):
            try:
                text = raw.decode("utf-8", decode_errors)
            except UnicodeDecodeError as error:
                if policy.errors == "strict":
                    raise InputError(f"{name}: line {count} is not valid UTF-8 ({error.reason} at byte "
                                     f"{error.start})", hint="errors") from None
                invalid.append(count - 1)
                continue
            tokens = text.split()
            if not tokens:
                blank.append(count - 1)
            elif policy.max_sentence_length and len(tokens) > policy.max_sentence_length:
                long_lines.append((count, len(tokens)))
    if long_lines:
        line, n = long_lines[0]
        raise InputError(f"{name}: line {line} has {n} tokens, more than the limit of "
                         f"{policy.max_sentence_length} ({len(long_lines)} such line(s))", hint="max_sentence_length")
    if blank and policy.blank_lines == "error":
        raise InputError(f"{name}: {len(blank)} empty line(s), at line(s) {_shown(blank)}", hint="blank_lines")
    skipped = sorted(invalid + (blank if policy.blank_lines == "skip" else []))
    return SentenceFile(path=path, display_name=name, num_lines=count, policy=policy, sha256=digest.hexdigest(),
                        skipped=skipped, temporary=temporary)
