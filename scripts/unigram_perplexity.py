"""Held-out perplexity of an add-one unigram model: the baseline for a trained biLM.

Scores the same predictions the biLM makes (each word, mapped to ``<UNK>`` outside the
vocabulary, plus ``</S>`` per sentence) with counts from the training files.

    python -m scripts.unigram_perplexity --train-data 'corpus/train/*.txt' \\
        --heldout corpus/heldout/heldout.txt --vocab run/vocab.txt
"""
import argparse
import glob
import math
from collections import Counter
from typing import Iterator, Set


def predictions(path: str, vocab: Set[str]) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                yield from (w if w in vocab else "<UNK>" for w in words)
                yield "</S>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-data", required=True, help="glob of training files")
    parser.add_argument("--heldout", required=True)
    parser.add_argument("--vocab", required=True, help="the model's vocab.txt")
    args = parser.parse_args()
    with open(args.vocab, encoding="utf-8") as f:
        vocab = {line.strip() for line in f if line.strip()}
    counts: Counter = Counter()
    for path in sorted(glob.glob(args.train_data)):
        counts.update(predictions(path, vocab))
    total = sum(counts.values())
    heldout = list(predictions(args.heldout, vocab))
    log_likelihood = sum(math.log((counts[w] + 1) / (total + len(vocab))) for w in heldout)
    print(f"unigram perplexity {math.exp(-log_likelihood / len(heldout)):.1f} over {len(heldout)} predictions "
          f"(vocabulary {len(vocab)}, {total} training predictions)")


if __name__ == "__main__":
    main()
