"""Where model files come from: explicit paths, or the default model bundled with the package."""
import hashlib
import os
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from .errors import ConfigurationError

PathLike = Union[str, os.PathLike]
BUNDLED_DIR = Path(__file__).parent / "data" / "default"


def resolve_model_files(options_file: Optional[PathLike], weight_file: Optional[PathLike]) -> Tuple[str, str]:
    """Both paths as given, or the bundled default model's when both are left out."""
    if (options_file is None) != (weight_file is None):
        raise ConfigurationError("give both an options file and a weight file, or neither (to use the "
                                 "bundled default model)")
    if options_file is not None:
        return os.fspath(options_file), os.fspath(weight_file)
    options, weights = BUNDLED_DIR / "options.json", BUNDLED_DIR / "weights.hdf5"
    if not (options.is_file() and weights.is_file()):
        raise ConfigurationError(f"no model files given and no bundled default model in {BUNDLED_DIR}; "
                                 f"pass an options file and a weight file")
    return str(options), str(weights)


def file_sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_info(options_file: PathLike, weight_file: PathLike) -> Dict[str, str]:
    """What produced an output: the model's name, files and weight checksum (for HDF5 attributes)."""
    options_file, weight_file = os.fspath(options_file), os.fspath(weight_file)
    bundled = Path(weight_file).resolve() == (BUNDLED_DIR / "weights.hdf5").resolve()
    return {"model": "default" if bundled else os.path.basename(weight_file),
            "options_file": options_file, "weight_file": weight_file,
            "weights_sha256": file_sha256(weight_file)}
