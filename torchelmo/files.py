"""Writing files so that nothing is lost: every writer in torchelmo goes through here.

:func:`atomic_path` gives a temporary name in the target's folder (``.NAME.tmp-PID``); the
block writes it, and only if the block succeeds is it flushed to disk and renamed over the
target (``os.replace``), so a reader sees the old file or the complete new one. The temporary
is removed whatever ends the block (an exception, Ctrl-C, or SIGTERM/SIGHUP once
:func:`torchelmo.signals.signals_raise` is installed, as the CLI does); after ``kill -9`` the next write into
that folder removes temporaries whose process is gone. Free space is checked before a write
of a known size (HDF5 libraries can crash when the disk fills while a file is open), and
``ENOSPC``, ``EDQUOT``, ``EROFS``, ``ENAMETOOLONG``, ``EACCES`` become one :class:`OutputError`
naming the path. :func:`output_lock` makes a second writer of the same output refuse at once.
"""
import errno
import fcntl
import json
import os
import re
import shutil
from contextlib import contextmanager
from typing import IO, Any, Dict, Iterable, Iterator, Optional, Union

from .errors import ConfigurationError, LockedError, OutputError

PathLike = Union[str, os.PathLike]  # a file name, as every public function takes one
TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)$")
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


def sweep_stale_temporaries(directory: str, prefix: str = ".") -> None:
    """Remove temporaries (``.NAME.tmp-PID``, NAME starting with ``prefix``) in ``directory`` left
    by processes that are gone."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = TEMPORARY.match(name)
        if match and name.startswith(prefix) and int(match.group(1)) != os.getpid() \
                and not _pid_alive(int(match.group(1))):
            _remove(os.path.join(directory, name))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def temporary_name(path: str) -> str:
    """``.NAME.tmp-PID`` beside ``path``, NAME shortened if the whole would be too long."""
    directory, base = os.path.split(os.path.abspath(path))
    suffix = f".tmp-{os.getpid()}"
    base = base[:NAME_MAX - len(suffix) - 1]
    return os.path.join(directory, f".{base}{suffix}")


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: PathLike, needed_bytes: int = 0) -> Iterator[str]:
    """A temporary path beside ``path``; renamed over it when the block succeeds.

    ``needed_bytes``: an estimate of the file's size, checked against the free space first.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = temporary_name(path)
    with output_errors(path):
        sweep_stale_temporaries(directory)
        ensure_free_space(directory, needed_bytes, path)
        try:
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync(directory)
        finally:
            _remove(tmp)


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


@contextmanager
def output_lock(path: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a ``.lock`` file) or raise :class:`LockedError` at once.

    The lock file is removed on release; a waiter that locked a file removed meanwhile retries.
    """
    while True:
        with output_errors(path):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(f"{path}: another process is writing this output now (it holds this lock); "
                              f"wait for it to finish") from None
        try:
            same = os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:  # a full disk: the lock holds without the pid
            pass
        yield
    finally:
        try:
            os.remove(path)
        except OSError:
            pass
        os.close(fd)
