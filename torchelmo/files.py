"""Writing files so that nothing is lost: every writer in torchelmo goes through here.

Nothing lost, nothing clobbered, nothing followed:

- :func:`atomic_path` gives a temporary path for a target; the block writes it, and only if
  the block succeeds is it flushed to disk and renamed over the target (``os.replace``), so a
  reader sees the old file or the complete new one. The temporary lives in a private folder
  ``.NAME.tmp-PID-XXXXXXXX`` beside the target, created exclusively (``mkdtemp``, mode 0700)
  and holding a marker file (:data:`MARKER`) naming the folder: nothing can be planted in it,
  so no link is ever followed. It is removed whatever ends the block (an exception, Ctrl-C, or
  SIGTERM/SIGHUP once :func:`torchelmo.signals.signals_raise` is
  installed, as the CLI does); after ``kill -9``
  the next write into that folder removes temporaries whose process is gone, and only those it
  can prove it made (a folder of this user holding the marker), never a file of that name.
- :func:`atomic_directory` does the same for a folder of outputs (a task model).
- Free space is checked before a write of a known size (HDF5 libraries can crash when the disk
  fills while a file is open), and ``ENOSPC``, ``EDQUOT``, ``EROFS``, ``ENAMETOOLONG``,
  ``EACCES`` become one :class:`OutputError` naming the path.
- :func:`output_lock` makes a second writer of the same output refuse at once; a link or any
  other file planted at the lock's name is refused, never written through.
- :func:`check_not_input` and :func:`refuse_existing`: no command writes onto a file it
  reads, nor replaces an output unless asked (``overwrite``).
"""
import atexit
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from contextlib import contextmanager
from typing import IO, Any, Dict, Iterable, Iterator, Optional, Sequence, Tuple, Union

from .errors import ConfigurationError, LockedError, OutputError, OutputExistsError

PathLike = Union[str, os.PathLike]  # a file name, as every public function takes one
TEMPORARY = re.compile(r"^\..*\.tmp-(\d+)-[a-z0-9_]{8}$")  # what mkdtemp names: prefix + 8 characters
MARKER = ".torchelmo-temporary"  # inside every temporary folder: proof that torchelmo made it
NAME_MAX = 255
REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
           errno.EROFS: "read-only file system", errno.ENAMETOOLONG: "file name too long",
           errno.EACCES: "permission denied", errno.EPERM: "operation not permitted"}
MIN_MARGIN = 64 << 10  # bytes kept free beyond an estimate


def _errno(error: OSError) -> Optional[int]:
    """The errno of an OSError, also when h5py only writes it into the message."""
    if error.errno is not None:
        return error.errno
    match = re.search(r"errno = (\d+)", str(error))
    return int(match.group(1)) if match else None


@contextmanager
def output_errors(path: str) -> Iterator[None]:
    """Turn the OSErrors of a full, read-only or forbidden target into :class:`OutputError`."""
    try:
        yield
    except OSError as error:
        code = _errno(error)
        if code not in REASONS:
            raise
        raise OutputError(f"{path}: cannot write ({REASONS[code]})", path) from error


def free_bytes(directory: str) -> int:
    return shutil.disk_usage(directory).free


def ensure_free_space(directory: str, needed: int, path: str) -> None:
    """Raise :class:`OutputError` unless ``directory`` has room for ``needed`` bytes and a margin."""
    if needed <= 0:
        return
    free = free_bytes(directory)
    wanted = needed + max(MIN_MARGIN, needed // 16)
    if free < wanted:
        raise OutputError(f"{path}: cannot write (no space left on device: about {_size(wanted)} needed, "
                          f"{_size(free)} free in {directory})", path)


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{count / 1e3:.0f} kB"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temporaries(directory: str) -> None:
    """Remove the temporary folders (``.NAME.tmp-PID-XXXXXXXX``) in ``directory`` that torchelmo made for processes that are gone: only folders of this user
    that hold the marker naming them; any other entry of such a name is left alone."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = TEMPORARY.match(name)
        if match and int(match.group(1)) != os.getpid() \
                and not _pid_alive(int(match.group(1))) and _made_here(os.path.join(directory, name)):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def _marker_text(folder: str) -> bytes:
    return f"torchelmo temporary {os.path.basename(folder)}\n".encode()


def _made_here(folder: str) -> bool:
    """Whether ``folder`` is a temporary folder torchelmo made (a real folder of this user
    holding the marker that names it)."""
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        fd = os.open(os.path.join(folder, MARKER), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, 1024) == _marker_text(folder)
        finally:
            os.close(fd)
    except OSError:
        return False


def create_exclusive(path: str, data: bytes = b"", mode: int = 0o644) -> None:
    """Create the new file ``path`` holding ``data``; fails if anything (a link too) is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def no_follow(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that refuses a symbolic link at ``path`` (``ELOOP``)."""
    return os.open(path, flags | os.O_NOFOLLOW, 0o644)


def temporary_folder(directory: str, name: str) -> str:
    """A new private folder ``.NAME.tmp-PID-XXXXXXXX`` in ``directory`` (created exclusively,
    mode 0700, NAME shortened if the whole would be too long) holding the marker that lets a
    later run prove torchelmo made it; stale ones are swept first."""
    sweep_stale_temporaries(directory)
    prefix = f".{name[:NAME_MAX - 40]}.tmp-{os.getpid()}-"
    folder = tempfile.mkdtemp(prefix=prefix, dir=directory)
    try:
        create_exclusive(os.path.join(folder, MARKER), _marker_text(folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike, needed_bytes: int = 0) -> Iterator[str]:
    """A temporary path for ``path`` (in a private folder beside it); renamed over ``path`` when
    the block succeeds. ``needed_bytes``: an estimate of the file's size, checked against the
    free space first."""
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    with output_errors(path):
        ensure_free_space(directory, needed_bytes, path)
        folder = temporary_folder(directory, base)
        try:
            tmp = os.path.join(folder, base)
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync(directory)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def atomic_file(path: PathLike, mode: str = "w", needed_bytes: int = 0) -> Iterator[IO]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds."""
    with atomic_path(path, needed_bytes) as tmp:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f


def write_json(path: PathLike, data: Any, sort_keys: bool = False) -> None:
    """``data`` as indented UTF-8 JSON, atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
    with atomic_file(path, needed_bytes=len(text.encode("utf-8"))) as f:
        f.write(text)


def write_jsonl(path: PathLike, records: Iterable[Any]) -> None:
    """One JSON object per line, atomically."""
    with atomic_file(path) as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_lines(path: PathLike, lines: Iterable[str]) -> None:
    """One ``\\n``-terminated line per item, atomically."""
    with atomic_file(path) as f:
        f.writelines(f"{line}\n" for line in lines)


def tensor_bytes(obj: Any) -> int:
    """Bytes held by the tensors and arrays inside nested dicts, lists and tuples."""
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    if hasattr(obj, "element_size") and hasattr(obj, "nelement"):
        return obj.nelement() * obj.element_size()
    return int(getattr(obj, "nbytes", 0))


def save_tensors(path: PathLike, state: Any) -> None:
    """``torch.save(state)`` atomically, after checking there is room for its tensors."""
    import torch

    with atomic_path(path, tensor_bytes(state)) as tmp:
        torch.save(state, tmp)


def load_tensors(path: PathLike, device: str = "cpu") -> Dict[str, Any]:
    """What :func:`save_tensors` wrote (a dict of tensors), on ``device``; a missing,
    truncated or foreign file fails with one line naming it."""
    import torch

    if not os.path.isfile(path):
        raise ConfigurationError(f"{path}: no trained weights")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types (RuntimeError, EOFError, UnpicklingError, ...)
        reason = str(error).split(". ")[0] or type(error).__name__
        raise ConfigurationError(f"{path}: not a readable torch file, truncated or damaged? ({reason})") from None
    if not isinstance(state, dict):
        raise ConfigurationError(f"{path}: expected a dict of tensors, found a {type(state).__name__}")
    return state


def _open_lock(path: str) -> int:
    """A descriptor of the lock file ``path``, a regular file of this user's with one name;
    a link (followed never) or any other file there is refused with one line."""
    with output_errors(path):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise OutputError(f"{path}: is a symbolic link, which torchelmo did not make; remove it", path) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid != os.getuid():
        os.close(fd)
        raise OutputError(f"{path}: is not a lock file torchelmo made (another kind of file, a hard link or "
                          f"another user's); remove it", path)
    return fd


def _same_file(path: str, fd: int) -> bool:
    """Whether ``path`` (not followed) is the file open as ``fd``."""
    try:
        named, opened = os.lstat(path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


@contextmanager
def output_lock(path: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a ``.lock`` file) or raise :class:`LockedError` at once.

    The lock file is removed on release (if it is still the one locked); a waiter that locked
    a file removed meanwhile retries. A link or another kind of file at ``path`` is refused.
    """
    while True:
        fd = _open_lock(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(f"{path}: another process is writing this output now (it holds this lock); "
                              f"wait for it to finish") from None
        if _same_file(path, fd):
            break
        os.close(fd)
    try:
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:  # a full disk: the lock holds without the pid
            pass
        yield
    finally:
        if _same_file(path, fd):
            try:
                os.remove(path)
            except OSError:
                pass
        os.close(fd)


def check_not_input(output: str, inputs: Iterable[Tuple[str, Optional[str]]]) -> None:
    """Refuse to write ``output`` when it is (or links to) one of ``inputs``, ``(what, path)``
    pairs: no command writes onto a file it reads."""
    if not os.path.exists(output):
        return
    for what, path in inputs:
        try:
            same = path is not None and os.path.samefile(path, output)
        except OSError:
            same = False
        if same:
            raise OutputError(f"{output}: is {what}; choose another output", output)


def refuse_existing(path: str, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when ``path`` exists and ``overwrite`` is not given."""
    if os.path.lexists(path) and not overwrite:
        raise OutputExistsError(f"{path}: already exists", hint="overwrite")


@contextmanager
def atomic_directory(path: PathLike, overwrite: bool = False,
                     inputs: Sequence[Tuple[str, Optional[str]]] = ()) -> Iterator[str]:
    """A new, private folder to fill in place of the folder ``path``: when the block succeeds
    its files move into ``path`` (made if missing); otherwise it is removed and ``path`` is
    unchanged, so an interrupted run never leaves what looks like a finished one.

    A ``path`` holding files is refused unless ``overwrite``; then only the files the block
    wrote replace theirs there (others are left alone), and never one of ``inputs``."""
    path = os.fspath(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: is not a folder", path)
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputExistsError(f"{path}: already holds files", hint="overwrite")
    parent, base = os.path.split(os.path.abspath(path))
    with output_errors(path):
        os.makedirs(parent, exist_ok=True)
        folder = temporary_folder(parent, base)
    try:
        work = os.path.join(folder, base)
        os.mkdir(work)
        yield work
        names = sorted(os.listdir(work))
        if os.path.isdir(path):
            for name in names:
                check_not_input(os.path.join(path, name), inputs)
        with output_errors(path):
            for name in names:
                _fsync(os.path.join(work, name))
            if not os.path.isdir(path) or not os.listdir(path):
                os.replace(work, path)  # a missing or empty folder: all at once
            else:
                for name in names:
                    os.replace(os.path.join(work, name), os.path.join(path, name))
            _fsync(parent)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_SCRATCH: Dict[str, str] = {}  # the process's folder for copies of streams, removed at exit


def read_once(path: str) -> str:
    """``path`` itself when it is a regular file (or missing: its reader says so); a pipe,
    ``/dev/stdin`` or ``<(...)``, readable once, is copied into a temporary folder (removed at
    exit) and the copy's path returned, so that it can be read as often as needed."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return path
    if "folder" not in _SCRATCH:
        _SCRATCH["folder"] = temporary_folder(tempfile.gettempdir(), "torchelmo-stream")
        atexit.register(shutil.rmtree, _SCRATCH["folder"], True)
    fd, copy = tempfile.mkstemp(dir=_SCRATCH["folder"], suffix=os.path.splitext(path)[1])
    with os.fdopen(fd, "wb") as out, open(path, "rb") as stream:
        shutil.copyfileobj(stream, out)
    return copy
