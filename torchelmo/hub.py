"""Named models -> local files: the bundled default, and AllenNLP's published ELMo models.

Published models are downloaded once into a cache directory (``$TORCHELMO_CACHE`` or
``~/.cache/torchelmo``) with a progress bar into a temporary file, checked there (the options
parse, the weights hold every tensor the options need, with the right shapes; a file fetched by
URL must parse as JSON or HDF5 by its suffix), and only then moved into the cache. Set
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
from typing import Callable, Dict, Optional, Tuple

from tqdm import tqdm

from .errors import ConfigurationError, ElmoError, ModelDownloadError
from .cache import cache_dir, file_sha256
from .files import PathLike, atomic_path, read_once, write_lines
from .model_files import ModelFiles, folder_model

logger = logging.getLogger(__name__)
BUNDLED_DIR = Path(__file__).parent / "data" / "default"
DEFAULT_MODEL = "default"
ALLENNLP_BASE_URL = "https://s3-us-west-2.amazonaws.com/allennlp/models/elmo/"
DOWNLOAD_TIMEOUT_S = 30


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


def download(url: str, destination: Path, progress: bool = True,
             validate: Optional[Callable[[str], None]] = None) -> None:
    """Fetch ``url`` into a temporary file, ``validate`` it (raises :class:`ElmoError`), and
    only then move it to ``destination``; clear error when any step fails."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(destination) as tmp:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                received = 0
                with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name,
                          disable=not progress) as bar:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        out.write(block)
                        received += len(block)
                        bar.update(len(block))
            if total is not None and received != total:
                raise ModelDownloadError(f"{url}: download incomplete ({received} of {total} bytes); try again")
            if validate is not None:
                try:
                    validate(tmp)
                except ElmoError as error:
                    raise ModelDownloadError(f"{url}: downloaded model is not valid ({error}); nothing was "
                                             f"cached, try again") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ModelDownloadError(
            f"could not download {url} ({reason}). If this machine is offline, place the file at "
            f"{destination}", hint="model_files") from None


def _options_check(path: str) -> None:
    from .options import ElmoOptions

    ElmoOptions.from_file(path)


def _weights_check(options_file: Path) -> Callable[[str], None]:
    """A check that a weight file holds every tensor ``options_file`` needs, with its shape."""
    from .options import ElmoOptions
    from .weights import check_shapes, read_datasets

    def check(path: str) -> None:
        check_shapes(read_datasets(path), ElmoOptions.from_file(options_file), path)
    return check


def _suffix_check(suffix: str) -> Callable[[str], None]:
    """A check that a file fetched by URL parses as what its name's suffix says (JSON or HDF5);
    a file of another suffix (or none) must be one of the two."""
    def check(path: str) -> None:
        import json

        import h5py

        kinds = {".json": ("JSON",), ".hdf5": ("HDF5",), ".h5": ("HDF5",)}.get(suffix, ("HDF5", "JSON"))
        problems = []
        for kind in kinds:
            try:
                if kind == "JSON":
                    with open(path, encoding="utf-8") as f:
                        json.load(f)
                else:
                    with h5py.File(path, "r"):
                        pass
                return
            except (OSError, ValueError) as error:
                problems.append(f"{kind}: {error}")
        raise ElmoError(f"not a readable {' or '.join(kinds)} file ({'; '.join(problems)})") from None
    return check


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
        download(options_url, options, progress, _options_check)
    if not weights.is_file():
        download(weights_url, weights, progress, _weights_check(options))
    write_lines(verified, [file_sha256(weights)])
    return str(options), str(weights)


def fetch_url(url: str, progress: bool = True) -> str:
    """A local copy of a file given by URL (as AllenNLP accepted), downloaded once into the cache."""
    local = cache_dir() / "urls" / hashlib.sha256(url.encode()).hexdigest()[:16] / url.rstrip("/").split("/")[-1]
    if not local.is_file():
        logger.info("Downloading %s into %s", url, local.parent)
        download(url, local, progress, _suffix_check(local.suffix.lower()))
    return str(local)


def _local(path: PathLike) -> str:
    path = os.fspath(path)
    return fetch_url(path) if path.startswith(("http://", "https://")) else read_once(path)


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
        raise ConfigurationError(f"unknown model {name!r}; known models: {', '.join(model_names())}, "
                                 f"efml-CODE (ELMoForManyLangs, 44 languages: efml-zh, efml-ru, ...) or a folder")
    options, weights = BUNDLED_DIR / "options.json", BUNDLED_DIR / "weights.hdf5"
    if not (options.is_file() and weights.is_file()):
        raise ConfigurationError(f"the bundled default model is missing from {BUNDLED_DIR}; reinstall "
                                 f"torchelmo or pass an options file and a weight file")
    return str(options), str(weights)


def resolve_model(options_file: Optional[PathLike] = None, weight_file: Optional[PathLike] = None,
                  model: Optional[PathLike] = None) -> ModelFiles:
    """The model to load, on local disk: ``model`` may also be ``efml-CODE``, a published
    ELMoForManyLangs model (downloaded once, see :mod:`torchelmo.efml.published`), or a folder
    (AllenNLP's ``options.json`` + ``weights.hdf5``, or an ELMoForManyLangs model) recognised
    from its files; a name wins over a folder of the same name (write ``./NAME``). Otherwise
    as :func:`resolve_model_files`."""
    from .efml.published import fetch_published_efml_model, is_published

    if model is None or os.fspath(model) in model_names():
        return ModelFiles(*resolve_model_files(options_file, weight_file, model))
    if options_file is not None or weight_file is not None:
        raise ConfigurationError("give either model files or a model, not both")
    if is_published(os.fspath(model)):
        return folder_model(fetch_published_efml_model(os.fspath(model)))
    if os.path.isdir(model):
        return folder_model(model)
    if os.sep in os.fspath(model):
        raise ConfigurationError(f"{os.fspath(model)}: model folder not found")
    return ModelFiles(*resolve_model_files(None, None, model))  # an unknown name: the error lists the known ones


def model_info(options_file: PathLike, weight_file: PathLike) -> Dict[str, str]:
    """What produced an output: the model's name, files and weight checksum (for HDF5 attributes)."""
    options_file, weight_file = os.fspath(options_file), os.fspath(weight_file)
    path = Path(weight_file).resolve()
    name = os.path.basename(weight_file)
    if path == (BUNDLED_DIR / "weights.hdf5").resolve():
        name = DEFAULT_MODEL
    elif path.parent.parent == cache_dir().resolve() and path.parent.name in PUBLISHED_MODELS:
        name = path.parent.name
    elif path.name == "encoder.pkl":  # an ELMoForManyLangs folder: named by the folder (efml-CODE if published)
        name = path.parent.name
    return {"model": name, "options_file": options_file, "weight_file": weight_file,
            "weights_sha256": file_sha256(weight_file)}
