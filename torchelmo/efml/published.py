"""ELMoForManyLangs' 44 released models by name (``efml-<language code>``), from their public
download addresses (the NLPL vector repository, ``http://vectors.nlpl.eu/repository/11/N.zip``).

A model is fetched once into the cache (``$TORCHELMO_CACHE``, default ``~/.cache/torchelmo``,
as AllenNLP's names): the zip is downloaded into a temporary file, unpacked into a temporary
folder beside its final place (members with absolute paths, ``..`` or links are refused),
read and checked as a whole (:func:`~.model.read_model`), and only then renamed into place;
the zip is deleted. ``$TORCHELMO_MIRROR`` (the AllenNLP names' mirror variable) replaces the
address with ``$TORCHELMO_MIRROR/elmoformanylangs/N.zip``. Offline, the error says where to
put the unpacked folder instead.
"""
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Tuple

from ..errors import ElmoError, ModelDownloadError
from ..cache import cache_dir
from ..hub import download
from .model import read_model
from .options import CONFIG_FILE

EFML_BASE_URL = "http://vectors.nlpl.eu/repository/11/"
MIRROR_FOLDER = "elmoformanylangs"
PREFIX = "efml-"

# language code -> (NLPL repository id, language), as listed in ELMoForManyLangs' README
LANGUAGES: Dict[str, Tuple[int, str]] = {
    "ar": (136, "Arabic"), "bg": (137, "Bulgarian"), "ca": (138, "Catalan"), "cs": (139, "Czech"),
    "cu": (140, "Old Church Slavonic"), "da": (141, "Danish"), "de": (142, "German"), "el": (143, "Greek"),
    "en": (144, "English"), "es": (145, "Spanish"), "et": (146, "Estonian"), "eu": (147, "Basque"),
    "fa": (148, "Persian"), "fi": (149, "Finnish"), "fr": (150, "French"), "ga": (151, "Irish"),
    "gl": (152, "Galician"), "grc": (153, "Ancient Greek"), "he": (154, "Hebrew"), "hi": (155, "Hindi"),
    "hr": (156, "Croatian"), "hu": (157, "Hungarian"), "id": (158, "Indonesian"), "it": (159, "Italian"),
    "ja": (160, "Japanese"), "ko": (161, "Korean"), "la": (162, "Latin"), "lv": (163, "Latvian"),
    "nl": (164, "Dutch"), "nb": (165, "Norwegian Bokmål"), "nn": (166, "Norwegian Nynorsk"), "pl": (167, "Polish"),
    "pt": (168, "Portuguese"), "ro": (169, "Romanian"), "ru": (170, "Russian"), "sk": (171, "Slovak"),
    "sl": (172, "Slovene"), "sv": (173, "Swedish"), "tr": (174, "Turkish"), "ug": (175, "Uyghur"),
    "uk": (176, "Ukrainian"), "ur": (177, "Urdu"), "vi": (178, "Vietnamese"), "zh": (179, "Chinese (traditional)"),
}


def is_published(name: str) -> bool:
    return name.startswith(PREFIX) and name[len(PREFIX):] in LANGUAGES


def model_url(name: str) -> str:
    number = LANGUAGES[name[len(PREFIX):]][0]
    mirror = os.environ.get("TORCHELMO_MIRROR")
    if mirror:
        return f"{mirror.rstrip('/')}/{MIRROR_FOLDER}/{number}.zip"
    return f"{EFML_BASE_URL}{number}.zip"


def _unpack(archive: str, target: Path) -> None:
    """Extract ``archive`` into ``target`` (which exists), refusing unsafe members."""
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            parts = Path(member.filename).parts
            if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in member.filename:
                raise ElmoError(f"unsafe member {member.filename!r} in the archive")
            if stat.S_ISLNK(member.external_attr >> 16):
                raise ElmoError(f"the archive holds a link ({member.filename!r})")
            if member.is_dir() or not parts:
                continue
            destination = target.joinpath(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as source, open(destination, "xb") as out:
                shutil.copyfileobj(source, out, 1 << 20)


def _model_folder(root: Path) -> Path:
    """The folder holding ``config.json``: ``root``, or its one subfolder (``xx.model/``)."""
    if (root / CONFIG_FILE).is_file():
        return root
    folders = [p for p in root.iterdir() if p.is_dir()]
    if len(folders) == 1 and (folders[0] / CONFIG_FILE).is_file():
        return folders[0]
    raise ElmoError(f"no {CONFIG_FILE} at the top of the archive or in its one folder")


def _check_zip(path: str) -> None:
    if not zipfile.is_zipfile(path):
        raise ElmoError("not a zip archive")


def fetch_published_efml_model(name: str, progress: bool = True) -> str:
    """The local folder of the published EFML model ``name`` (see the module). A zip already
    at the download's place (put there by hand, offline) is used, and kept."""
    final = cache_dir() / name
    if (final / CONFIG_FILE).is_file():
        return str(final)
    url = model_url(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    archive = final.parent / f"{name}.zip"
    downloaded = not archive.is_file()
    if downloaded:
        download(url, archive, progress, _check_zip)
    unpacked = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=final.parent))
    try:
        _unpack(str(archive), unpacked)
        folder = _model_folder(unpacked)
        read_model(folder)  # every file read and checked before the folder is used
        os.rename(folder, final)
    except (ElmoError, OSError, zipfile.BadZipFile) as error:
        raise ModelDownloadError(f"{url if downloaded else archive}: not a valid ELMoForManyLangs model ({error}); "
                                 f"nothing was cached") from None
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
        if downloaded:
            archive.unlink(missing_ok=True)
    return str(final)
