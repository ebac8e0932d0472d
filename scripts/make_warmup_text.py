#!/usr/bin/env python
"""Write the warm-up text of ``state="warm"`` (torchelmo/data/warmup.txt) from the corpus sources.

    python -m scripts.make_warmup_text --corpus /work/cache/corpus --output torchelmo/data/warmup.txt

Takes running text, in reading order, from public-domain sources of the project's corpus
(docs/data.md): for each ``SOURCE:START:TOKENS`` passage, the source's sentences (cleaned and
tokenized exactly as ``prepare_corpus.py`` does) from the first paragraph containing START,
until TOKENS tokens: the opening of *Pride and Prejudice* and of Kennedy's 1962 State of the
Union address, both public domain. Sentences of the corpus's held-out split (``heldout/heldout.txt``, the
perplexity evaluation set) are skipped, so the warm-up text never overlaps an evaluation set.
Needs the archives already fetched by ``prepare_corpus.py`` (in ``--cache-dir``).
"""
import argparse
import sys
from pathlib import Path

from scripts.corpusprep.fetch import Fetcher, extract
from scripts.corpusprep.filters import SentenceFilter
from scripts.corpusprep.pipeline import sentences_of
from scripts.corpusprep.sources import SOURCES

PASSAGES = ("austen:It is a truth universally acknowledged:1500",
            "sotu:It is a pleasure to return from whence I came:1500")


def passage(spec: str, cache_dir: Path, heldout: set) -> list:
    name, rest = spec.split(":", 1)
    start, tokens = rest.rsplit(":", 1)[0], int(rest.rsplit(":", 1)[1])
    source = next(s for s in SOURCES if s.name == name)
    fetcher = Fetcher(cache_dir / "archives")
    group = "+".join(sorted({a.name.replace("/", "_") for a in source.archives}))
    root = extract([(a, *fetcher.fetch(a)[::2]) for a in source.archives], cache_dir / "extracted" / group)
    keep = SentenceFilter(require_complete=source.complete_sentences)
    started, lines, count = False, [], 0
    for unit in source.reader(root):
        started = started or start in unit
        if not started:
            continue
        for sentence in sentences_of(unit, source.split_sentences):
            text = " ".join(sentence)
            if keep.reject_reason(sentence) is None and text not in heldout:
                lines.append(text)
                count += len(sentence)
            if count >= tokens:
                return lines
    sys.exit(f"{name}: no paragraph contains {start!r}, or the source ends before {tokens} tokens")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="prepare_corpus.py's output (for heldout/)")
    p.add_argument("--cache-dir", type=Path, default=Path("/work/cache/corpus-src"))
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--passage", nargs="+", default=list(PASSAGES), help="SOURCE:START:TOKENS ...")
    args = p.parse_args()
    heldout = set((args.corpus / "heldout" / "heldout.txt").read_text(encoding="utf-8").splitlines())
    lines = [line for spec in args.passage for line in passage(spec, args.cache_dir, heldout)]
    args.output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{args.output}: {len(lines)} sentences, {sum(len(l.split()) for l in lines)} tokens")


if __name__ == "__main__":
    main()
