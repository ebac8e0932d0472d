"""Writing documents and their mention clusters as CoNLL-2012 coreference text.

Each token line is ``name <TAB> part <TAB> word-in-sentence <TAB> word <TAB> chains`` (the
first four columns of CoNLL-2012, then the chains column the reference scorer reads), a
blank line after each sentence. The reader reads it back with ``token_column: 3``.
"""
from typing import Dict, List, Sequence

from .document import Cluster, Document


def chain_columns(length: int, clusters: Sequence[Cluster]) -> List[str]:
    """The chains column for ``length`` tokens: chain ``i`` is ``clusters[i]``. On a token,
    longer mentions open before shorter ones and close after them, so nesting reads back."""
    opens: Dict[int, List[tuple]] = {}
    closes: Dict[int, List[tuple]] = {}
    singles: Dict[int, List[int]] = {}
    for chain, cluster in enumerate(clusters):
        for first, last in cluster:
            if first == last:
                singles.setdefault(first, []).append(chain)
            else:
                opens.setdefault(first, []).append((-last, chain))
                closes.setdefault(last, []).append((-first, chain))
    columns = []
    for token in range(length):
        parts = [f"({chain}" for _, chain in sorted(opens.get(token, []))]
        parts += [f"({chain})" for chain in sorted(singles.get(token, []))]
        parts += [f"{chain})" for _, chain in sorted(closes.get(token, []))]
        columns.append("|".join(parts) or "-")
    return columns


def format_document(document: Document, clusters: Sequence[Cluster]) -> str:
    """``document``'s words with ``clusters`` as one CoNLL-2012 document block."""
    chains = chain_columns(len(document.tokens), clusters)
    lines = [f"#begin document ({document.name}); part {document.part}"]
    token = 0
    for length in document.sentence_lengths:
        for word in range(length):
            lines.append(f"{document.name}\t{document.part}\t{word}\t{document.tokens[token]}\t{chains[token]}")
            token += 1
        lines.append("")
    lines.append("#end document")
    return "\n".join(lines) + "\n"
