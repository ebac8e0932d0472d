"""The local cache folder and file checksums: what the download hub (:mod:`torchelmo.hub`)
and the warm-state cache (:mod:`torchelmo.states`) share, without the downloader."""
import hashlib
import os
from pathlib import Path

from .files import PathLike


def cache_dir() -> Path:
    """``$TORCHELMO_CACHE``, or ``~/.cache/torchelmo``."""
    return Path(os.environ.get("TORCHELMO_CACHE", Path.home() / ".cache" / "torchelmo"))


def file_sha256(path: PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex (read in 1 MB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
