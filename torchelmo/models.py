"""Named models -> local files: the bundled default, and AllenNLP's published ELMo models.

Published models are downloaded once into a cache directory (``$TORCHELMO_CACHE`` or
``~/.cache/torchelmo``) with a progress bar, checked (the options parse, the weights hold
every tensor the options need, with the right shapes), and moved into place atomically. Set
``$TORCHELMO_MIRROR`` to fetch from a mirror of AllenNLP's model bucket instead. Nothing is
downloaded unless a published model is asked for by name.
"""
import hashlib
import http.client
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from tqdm import tqdm

from .errors import ConfigurationError, ElmoError

logger = logging.getLogger(__name__)
PathLike = Union[str, os.PathLike]
BUNDLED_DIR = Path(__file__).parent / "data" / "default"
DEFAULT_MODEL = "default"
ALLENNLP_BASE_URL = "https://s3-us-west-2.amazonaws.com/allennlp/models/elmo/"
DOWNLOAD_TIMEOUT_S = 30


class ModelDownloadError(ElmoError):
    """A published model could not be downloaded or is not a valid ELMo model."""


@dataclass(frozen=True)
class PublishedModel:
    """A model on AllenNLP's ELMo page: file paths relative to the model bucket."""

    options_path: str
    weights_path: str
    description: str

    def urls(self) -> Tuple[str, str]:
        base = os.environ.get("TORCHELMO_MIRROR", ALLENNLP_BASE_URL)
        base = base if base.endswith("/") else base + "/"
        return base + self.options_path, base + self.weights_path


def _allennlp(directory: str, description: str) -> PublishedModel:
    return PublishedModel(f"{directory}/elmo_{directory}_options.json",
                          f"{directory}/elmo_{directory}_weights.hdf5", description)


PUBLISHED_MODELS: Dict[str, PublishedModel] = {
    "small": _allennlp("2x1024_128_2048cnn_1xhighway", "13.6M parameters, LSTM 1024/128, 1 highway; 1B Word"),
    "medium": _allennlp("2x2048_256_2048cnn_1xhighway", "28.0M parameters, LSTM 2048/256, 1 highway; 1B Word"),
    "original": _allennlp("2x4096_512_2048cnn_2xhighway", "93.6M parameters, LSTM 4096/512, 2 highway; 1B Word"),
    "original-5.5B": _allennlp("2x4096_512_2048cnn_2xhighway_5.5B",
                               "93.6M parameters; Wikipedia + WMT news, 5.5B tokens"),
    "pubmed": PublishedModel("contributed/pubmed/elmo_2x4096_512_2048cnn_2xhighway_options.json",
                             "contributed/pubmed/elmo_2x4096_512_2048cnn_2xhighway_weights_PubMed_only.hdf5",
                             "original architecture trained on PubMed (biomedical)"),
    "portuguese": PublishedModel("contributed/pt/elmo_pt_options.json", "contributed/pt/elmo_pt_weights.hdf5",
                                 "Portuguese (contributed)"),
}


def model_names() -> Tuple[str, ...]:
    return (DEFAULT_MODEL, *PUBLISHED_MODELS)


def cache_dir() -> Path:
    return Path(os.environ.get("TORCHELMO_CACHE", Path.home() / ".cache" / "torchelmo"))


def file_sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, destination: Path, progress: bool = True) -> None:
    """Fetch ``url`` to ``destination`` via a temporary file; clear error when it fails."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".download")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
        if total is not None and received != total:
            raise ModelDownloadError(f"{url}: download incomplete ({received} of {total} bytes); try again")
        os.replace(tmp, destination)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ModelDownloadError(
            f"could not download {url} ({reason}). If this machine is offline, download the file "
            f"elsewhere and pass --options-file/--weight-file (or options_file=/weight_file=), or "
            f"place it at {destination}") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _verify(options_file: Path, weight_file: Path) -> None:
    from .options import ElmoOptions
    from .weights import check_shapes, read_datasets

    try:
        options = ElmoOptions.from_file(options_file)
        check_shapes(read_datasets(weight_file), options, weight_file)
    except ElmoError as error:
        raise ModelDownloadError(f"downloaded model is not valid ({error}); delete {options_file.parent} "
                                 f"and try again") from None


def fetch_published_model(name: str, progress: bool = True) -> Tuple[str, str]:
    """Local ``(options, weights)`` paths of a published model, downloading it if needed."""
    model = PUBLISHED_MODELS[name]
    directory = cache_dir() / name
    options, weights = directory / "options.json", directory / "weights.hdf5"
    verified = directory / "weights.sha256"
    if options.is_file() and weights.is_file() and verified.is_file():
        return str(options), str(weights)
    options_url, weights_url = model.urls()
    logger.info("Downloading ELMo model %r (%s) into %s", name, model.description, directory)
    if not options.is_file():
        download(options_url, options, progress)
    if not weights.is_file():
        download(weights_url, weights, progress)
    _verify(options, weights)
    verified.write_text(file_sha256(weights) + "\n")
    return str(options), str(weights)


def fetch_url(url: str, progress: bool = True) -> str:
    """A local copy of a file given by URL (as AllenNLP accepted), downloaded once into the cache."""
    local = cache_dir() / "urls" / hashlib.sha256(url.encode()).hexdigest()[:16] / url.rstrip("/").split("/")[-1]
    if not local.is_file():
        logger.info("Downloading %s into %s", url, local.parent)
        download(url, local, progress)
    return str(local)


def _local(path: PathLike) -> str:
    path = os.fspath(path)
    return fetch_url(path) if path.startswith(("http://", "https://")) else path


def resolve_model_files(options_file: Optional[PathLike] = None, weight_file: Optional[PathLike] = None,
                        model: Optional[str] = None) -> Tuple[str, str]:
    """Local ``(options, weights)`` paths: the files given (paths, or URLs downloaded once into
    the cache), a named model, or the bundled default."""
    if (options_file is None) != (weight_file is None):
        raise ConfigurationError("give both an options file and a weight file, or neither")
    if options_file is not None:
        if model is not None:
            raise ConfigurationError("give either model files or a model name, not both")
        return _local(options_file), _local(weight_file)
    name = model or DEFAULT_MODEL
    if name in PUBLISHED_MODELS:
        return fetch_published_model(name)
    if name != DEFAULT_MODEL:
        raise ConfigurationError(f"unknown model {name!r}; known models: {', '.join(model_names())}")
    options, weights = BUNDLED_DIR / "options.json", BUNDLED_DIR / "weights.hdf5"
    if not (options.is_file() and weights.is_file()):
        raise ConfigurationError(f"the bundled default model is missing from {BUNDLED_DIR}; reinstall "
                                 f"torchelmo or pass an options file and a weight file")
    return str(options), str(weights)


def model_info(options_file: PathLike, weight_file: PathLike) -> Dict[str, str]:
    """What produced an output: the model's name, files and weight checksum (for HDF5 attributes)."""
    options_file, weight_file = os.fspath(options_file), os.fspath(weight_file)
    path = Path(weight_file).resolve()
    name = os.path.basename(weight_file)
    if path == (BUNDLED_DIR / "weights.hdf5").resolve():
        name = DEFAULT_MODEL
    elif path.parent.parent == cache_dir().resolve() and path.parent.name in PUBLISHED_MODELS:
        name = path.parent.name
    return {"model": name, "options_file": options_file, "weight_file": weight_file,
            "weights_sha256": file_sha256(weight_file)}
