"""Words that take a period without ending a sentence (shared by the splitter and tokenizer)."""
import re
from typing import FrozenSet

_DOTTED = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}\.?")

# Titles and words that are almost always followed by more of the same sentence.
NON_FINAL: FrozenSet[str] = frozenset("""
Mr Mrs Ms Messrs Mme Mlle Dr Drs Prof Rev Revd Hon St Ste Mt Ft Gen Col Lt Capt Cmdr Maj Sgt Cpl
Adm Gov Sen Rep Pres Supt Insp Det Brig Fr Jan Feb Apr Aug Sept Oct Nov Dec vs viz cf al ca
approx resp esp incl ed eds Jas Geo Wm Chas Thos Jos Benj Robt Edw Saml
""".split())

# Words that are abbreviations only before a number ("No. 5", "Fig. 2", "pp. 10-12").
BEFORE_NUMBER: FrozenSet[str] = frozenset("""
No Nos no nos Vol Vols vol vols Fig Figs fig figs Eq Eqs eq Ch Chap ch chap Sec sec Art art
Pt pt p pp Para para
""".split())

# Abbreviations that may also end a sentence ("... and so on, etc. The next ...").
MAY_BE_FINAL: FrozenSet[str] = frozenset("""
etc Inc Ltd Co Corp Bros Jr Sr Esq
""".split())


def is_dotted(word: str) -> bool:
    """Whether ``word`` is an abbreviation with inner periods: ``U.S.``, ``e.g.``, ``Ph.D``."""
    return _DOTTED.fullmatch(word) is not None
