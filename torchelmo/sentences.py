"""Reading sentence files: one whitespace-tokenized sentence per line, UTF-8 (or, with
``tokenize``, one line of raw text, tokenized by :mod:`torchelmo.tokenizer`).

A file is checked in a first streaming pass (blank lines, invalid UTF-8 and over-long
sentences, with line numbers) and read again lazily for embedding, so memory does not grow
with the file. Anything that is not a regular file (``-`` for stdin, ``/dev/stdin``, a pipe,
``<(...)``, an open file object) is first copied to a temporary file and read only from it.
The input is pinned: every later pass checks that the file is the one checked (same file,
size and modification time) and, reading it whole, that its contents hash the same; a file
replaced or rewritten during a run fails with one line instead of mixing two texts.
Lines end with ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files); a missing final newline
is fine, and a UTF-8 byte-order mark at the start of the file is dropped. With ``tokenize`` the
checking pass tokenizes each line once and keeps the tokens in a temporary file (JSON lines)
that the embedding pass reads, so both passes see the same tokens. Temporary files live in a
private folder in ``$TMPDIR`` (see :func:`torchelmo.files.temporary_folder`), removed by
:meth:`SentenceFile.close` or, after ``kill -9``, by a later run.
"""
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator, List, Optional, Tuple, Union

from .errors import ConfigurationError, InputChangedError, InputError
from .files import PathLike, output_errors, temporary_folder
from .tokenizer import tokenize_with_offsets, tokenizer_name

Source = Union[PathLike, IO]  # a file name, or an open file
ENCODING_ERRORS = ("strict", "replace", "skip")
BLANK_LINES = ("error", "skip", "empty")
DEFAULT_MAX_SENTENCE_LENGTH = 1000
BOM = b"\xef\xbb\xbf"
SCRATCH_NAME = "torchelmo-input"  # the temporary folder in $TMPDIR: .torchelmo-input.tmp-PID-XXXXXXXX
Identity = Tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns
WHITESPACE = "whitespace"  # the tokenizer of a file read without ``tokenize``: str.split


def default_max_sentence_length(window: int = 0) -> int:
    """The length limit when none is given: :data:`DEFAULT_MAX_SENTENCE_LENGTH`, or none (0)
    when long sentences are embedded in windows of ``window`` tokens."""
    return 0 if window else DEFAULT_MAX_SENTENCE_LENGTH


def raw_lines(f: Iterable[bytes]) -> Iterator[bytes]:
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
    sentences fail with their line number (0 = no limit). Raises :class:`ConfigurationError`
    for other values.
    """

    errors: str = "strict"
    blank_lines: str = "error"
    max_sentence_length: int = DEFAULT_MAX_SENTENCE_LENGTH

    def __post_init__(self) -> None:
        for name, choices in (("errors", ENCODING_ERRORS), ("blank_lines", BLANK_LINES)):
            if getattr(self, name) not in choices:
                raise ConfigurationError(f"{name} must be one of {choices}, got {getattr(self, name)!r}",
                                         settings=(name,))
        if self.max_sentence_length < 0:
            raise ConfigurationError(f"max_sentence_length must be >= 0, got {self.max_sentence_length}",
                                     settings=("max_sentence_length",))


@dataclass
class SentenceFile:
    """A checked input file. Line ``i`` (0-based) becomes sentence ``i`` unless skipped."""

    path: str
    display_name: str
    num_lines: int
    policy: InputPolicy
    sha256: str = ""
    skipped: List[int] = field(default_factory=list)  # 0-based indexes of lines not embedded
    temporary: bool = False  # ``path`` is a copy in ``scratch``
    tokens_path: Optional[str] = None  # with ``tokenize``: one JSON line per line, [tokens, starts] or null
    scratch: Optional[str] = None  # the temporary folder holding the copy and the tokens, removed by close()
    identity: Optional[Identity] = None  # of the file the checking pass read
    language: str = "en"  # with ``tokenize``: the tokenizer's language

    @property
    def tokenize(self) -> bool:
        """Whether lines are raw text, tokenized by :mod:`torchelmo.tokenizer`."""
        return self.tokens_path is not None

    @property
    def tokenizer(self) -> str:
        """How lines became tokens: ``"whitespace"`` or the tokenizer's name and version."""
        return tokenizer_name(self.language) if self.tokenize else WHITESPACE

    def lines(self) -> Iterator[Tuple[int, Optional[str]]]:
        """``(index, stripped text)`` for every line; text is None for a skipped line."""
        skipped = set(self.skipped)
        decode_errors = "replace" if self.policy.errors == "replace" else "strict"
        digest = hashlib.sha256()
        with self._open() as f:
            for index, raw in enumerate(raw_lines(_hashed(f, digest))):
                yield index, None if index in skipped else raw.decode("utf-8", decode_errors).strip()
        if self.sha256 and digest.hexdigest() != self.sha256:
            raise self._changed("its contents differ")

    def _open(self) -> IO[bytes]:
        """The input, opened for reading, after checking it is the file that was checked."""
        f = open(self.path, "rb")
        if self.identity is not None and _identity(f) != self.identity:
            f.close()
            raise self._changed("another file, size or modification time")
        return f

    def _changed(self, how: str) -> InputChangedError:
        return InputChangedError(f"{self.display_name}: changed since it was checked ({how}); run the command "
                                 f"again")

    def sentences(self) -> Iterator[Tuple[int, List[str], Optional[List[int]]]]:
        """``(index, tokens, starts)`` for every line not skipped: the line split on whitespace
        and None, or with ``tokenize`` the tokenizer's tokens and their character offsets in the
        stripped line (``line[start:start + len(token)] == token``)."""
        if not self.tokenize:
            yield from ((index, text.split(), None) for index, text in self.lines() if text is not None)
            return
        skipped = set(self.skipped)
        with open(self.tokens_path, encoding="utf-8") as f:
            for index, record in enumerate(f):
                if index not in skipped:
                    tokens, starts = json.loads(record)
                    yield index, tokens, starts

    def close(self) -> None:
        """Remove the temporary files (a spooled copy, the tokens)."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _hashed(f: IO[bytes], digest) -> Iterator[bytes]:
    """The lines of ``f``, each added to ``digest`` as read."""
    for line in f:
        digest.update(line)
        yield line


def _identity(f: IO[bytes]) -> Identity:
    info = os.fstat(f.fileno())
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def _spool(stream: IO, scratch: str) -> str:
    """Copy a stream (stdin, an open file) into the folder ``scratch`` so it can be read twice."""
    path = os.path.join(scratch, "input")
    with output_errors(path), open(path, "xb") as out:
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


def open_sentence_file(source: Source, policy: Optional[InputPolicy] = None, tokenize: bool = False,
                       language: str = "en") -> SentenceFile:
    """Check a sentence file (a path, ``"-"`` for stdin, or an open file object).

    ``tokenize``: each line is raw text, tokenized by :mod:`torchelmo.tokenizer` by the rules
    of ``language`` (a blank line is one without tokens; the length limit counts its tokens). Raises :class:`InputError`
    naming the file and 1-based line numbers for a missing path, a directory, invalid UTF-8
    (with ``errors="strict"``), blank lines (with ``blank_lines="error"``) and sentences over
    ``max_sentence_length`` tokens.
    """
    policy = policy or InputPolicy()
    stream: Optional[IO] = None
    if isinstance(source, str) and source == "-":
        if sys.stdin is None:
            raise InputError("<stdin>: standard input is closed; give a file or pipe the text in")
        stream, name = sys.stdin, "<stdin>"
    elif isinstance(source, (str, os.PathLike)):
        path = name = os.fspath(source)
        if not os.path.exists(path):
            raise InputError(f"{path}: input file not found")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, expected a text file with one sentence per line")
    else:
        stream, name = source, getattr(source, "name", "<input>")
    temporary = stream is not None or not stat.S_ISREG(os.stat(path).st_mode)  # else: read in place
    scratch = None
    try:
        if tokenize:
            tokenizer_name(language)  # an unknown language fails before the file is read
        if temporary or tokenize:
            scratch = temporary_folder(tempfile.gettempdir(), SCRATCH_NAME)
        if stream is not None:
            path = _spool(stream, scratch)
        elif temporary:  # /dev/stdin, a pipe, <(...): readable once
            with open(path, "rb") as once:
                path = _spool(once, scratch)
        tokens_path = os.path.join(scratch, "tokens.jsonl") if tokenize else None
        return _scan(path, name, policy, tokens_path, temporary, scratch, language)
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise


def _scan(path: str, name: str, policy: InputPolicy, tokens_path: Optional[str], temporary: bool,
          scratch: Optional[str], language: str = "en") -> SentenceFile:
    """The checking pass; with ``tokens_path`` each line is tokenized and its tokens written there."""
    blank, invalid, long_lines, nul_lines, count = [], [], [], [], 0
    decode_errors = "replace" if policy.errors == "replace" else "strict"
    digest = hashlib.sha256()
    with open(path, "rb") as f, open(tokens_path or os.devnull, "w", encoding="utf-8") as tokens_out:
        identity = _identity(f)
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
                tokens_out.write("null\n")
                continue
            if tokens_path is None:
                tokens = text.split()
            else:
                if "\x00" in text:  # an HDF5 string (the tokens attribute) ends at a NUL
                    nul_lines.append(count - 1)
                tokens = tokenize_with_offsets(text.strip(), language)
                tokens_out.write(json.dumps([[t.text for t in tokens], [t.start for t in tokens]],
                                            ensure_ascii=False) + "\n")
            if not tokens:
                blank.append(count - 1)
            elif policy.max_sentence_length and len(tokens) > policy.max_sentence_length:
                long_lines.append((count, len(tokens)))
    if nul_lines:
        raise InputError(f"{name}: {len(nul_lines)} line(s) hold a NUL character (U+0000), which the tokens "
                         f"attribute cannot store, at line(s) {_shown(nul_lines)}; remove it")
    if long_lines:
        line, n = long_lines[0]
        raise InputError(f"{name}: line {line} has {n} tokens, more than the limit of "
                         f"{policy.max_sentence_length} ({len(long_lines)} such line(s))", hint="max_sentence_length")
    if blank and policy.blank_lines == "error":
        raise InputError(f"{name}: {len(blank)} empty line(s), at line(s) {_shown(blank)}", hint="blank_lines")
        if _identity(f) != identity:
            raise InputChangedError(f"{name}: changed while it was being checked; run the command again")
    skipped = sorted(invalid + (blank if policy.blank_lines == "skip" else []))
    return SentenceFile(path=path, display_name=name, num_lines=count, policy=policy, sha256=digest.hexdigest(),
                        skipped=skipped, temporary=temporary, tokens_path=tokens_path,
                        scratch=scratch, identity=identity, language=language)
