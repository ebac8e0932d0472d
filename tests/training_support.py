"""Shared by the training tests: a tiny architecture, and real English text that every Python
installation has (the docstrings of standard-library modules, split into sentences and
tokenized into words and punctuation)."""
import ast
import os
import re
import sysconfig
from pathlib import Path
from typing import Iterator, List, Sequence

import pytest
import torch


@pytest.fixture()
def one_thread() -> Iterator[None]:
    """Tiny models are made of small operations, which extra threads only slow down (badly so
    on a busy machine): train them on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# A tiny biLM: trains at thousands of tokens per second on one CPU thread.
TINY_OPTIONS = {
    "char_cnn": {"embedding": {"dim": 8}, "filters": [[1, 16], [2, 16], [3, 32], [4, 32]], "n_highway": 1},
    "lstm": {"dim": 128, "projection_dim": 32, "n_layers": 2, "cell_clip": 3, "proj_clip": 3,
             "use_skip_connections": True},
}

MODULES = ("argparse.py", "subprocess.py", "threading.py", "typing.py", "pathlib.py", "tarfile.py",
           "logging/__init__.py", "unittest/case.py", "email/message.py", "http/client.py",
           "collections/__init__.py", "inspect.py", "socket.py", "ssl.py", "os.py", "shutil.py",
           "configparser.py", "optparse.py", "pickle.py", "functools.py", "textwrap.py", "calendar.py",
           "csv.py", "gettext.py", "difflib.py", "imaplib.py", "smtplib.py", "ftplib.py", "mailbox.py")
HELDOUT_EVERY = 10  # every 10th sentence is held out

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _docstrings(path: Path) -> List[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree] + [n for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [d for d in (ast.get_docstring(n) for n in nodes) if d]


def sentences(modules: Sequence[str]) -> List[str]:
    """Tokenized sentences (space-separated) from the docstrings of ``modules``."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    out: List[str] = []
    for name in modules:
        path = stdlib / name
        if not path.is_file():
            continue
        for doc in _docstrings(path):
            prose = " ".join(line.strip() for line in doc.splitlines()
                             if line.strip() and not line.strip().startswith((">>>", "...")))
            for sentence in _SENTENCE_END.split(prose):
                tokens = _TOKEN.findall(sentence)
                words = sum(t.isalpha() for t in tokens)
                if 3 <= len(tokens) <= 40 and words >= 0.7 * len(tokens):
                    out.append(" ".join(tokens))
    return out


def write_corpus(directory: os.PathLike, train_files: int = 1) -> List[Path]:
    """``train_*.txt`` (``train_files`` of them) and ``heldout.txt`` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    every = sentences(MODULES)
    train = [s for i, s in enumerate(every) if i % HELDOUT_EVERY]
    paths = []
    for i in range(train_files):
        path = directory / f"train_{i}.txt"
        path.write_text("".join(s + "\n" for s in train[i::train_files]), encoding="utf-8")
        paths.append(path)
    heldout = directory / "heldout.txt"
    heldout.write_text("".join(s + "\n" for s in every[::HELDOUT_EVERY]), encoding="utf-8")
    return paths + [heldout]
