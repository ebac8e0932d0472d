"""What raw-text input (``embed_file(tokenize=True)``, ``torchelmo embed --tokenize``) costs.

The same real English sentences (UD English-EWT dev, lengths 1-60) are embedded with the bundled
default model (``--all``, carried state, batch size 64) by the whole ``embed_file`` job: the
baseline from their gold tokens joined by spaces (the default input), and ``tokenize=True`` from
their raw text (the ``# text =`` lines). Rows: seconds per 1k lines of the tokenizer alone
(``torchelmo.tokenizer.tokenize_with_offsets``, best of 3 rounds), of the checking pass
(``open_sentence_file``; with ``tokenize`` it tokenizes each line and writes the tokens file;
best of 3) and of the whole job (best of ``--rounds``, default 5, run alternately: the machine
is shared); bytes per token of the output (the ``tokens`` and ``token_offsets`` attributes are
the difference). Last, how often spaCy's tokens equal UD's.

    python -m benchmarks.tokenize_cost                  # the figures in docs/embedding.md
    python -m benchmarks.tokenize_cost --sentences 100  # quicker
"""
import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from torchelmo import ElmoEmbedder
from torchelmo.sentences import open_sentence_file
from torchelmo.tokenizer import tokenize, tokenize_with_offsets

from benchmarks.embed_throughput import DEFAULT_TEXT, read_texts

NAMES = {False: "whitespace (baseline)", True: "tokenize (raw text)"}


def best_seconds(run: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5, help="whole jobs of each kind; the fastest is shown")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT, help="CoNLL-U file of sentences")
    args = parser.parse_args()
    pairs = read_texts(args.text.resolve(), args.sentences, 1, 60)
    texts = [text for text, _ in pairs]
    gold = sum(len(tokens) for _, tokens in pairs)
    spacy_tokens = [tokenize(text) for text in texts]
    per_1k = 1000 / len(pairs)
    print(f"bundled default model, {len(pairs)} sentences, {gold} UD tokens, {sum(map(len, spacy_tokens))} spaCy "
          f"tokens, torch {torch.__version__}, {torch.get_num_threads()} threads, --all")
    print(f"{'step':<44} {'s/1k lines':>11} {'bytes/token':>12}")
    tokenizer = best_seconds(lambda: [tokenize_with_offsets(text) for text in texts])
    print(f"{'tokenizer alone':<44} {tokenizer * per_1k:>11.3f} {'-':>12}")
    with tempfile.TemporaryDirectory() as folder:
        inputs = {False: os.path.join(folder, "tokens.txt"), True: os.path.join(folder, "raw.txt")}
        Path(inputs[False]).write_text("".join(" ".join(t) + "\n" for _, t in pairs), encoding="utf-8")
        Path(inputs[True]).write_text("".join(text + "\n" for text in texts), encoding="utf-8")
        for tokenized in (False, True):
            check = best_seconds(lambda: open_sentence_file(inputs[tokenized], tokenize=tokenized).close())
            print(f"{'checking pass, ' + NAMES[tokenized]:<44} {check * per_1k:>11.3f} {'-':>12}")
        jobs = {False: [], True: []}
        for _ in range(args.rounds):  # alternating, so that a busy moment of the machine hits both
            for tokenized in (False, True):
                output = os.path.join(folder, f"{tokenized}.hdf5")
                embedder = ElmoEmbedder()
                start = time.perf_counter()
                embedder.embed_file(inputs[tokenized], output, progress=False, tokenize=tokenized, overwrite=True)
                jobs[tokenized].append(time.perf_counter() - start)
        for tokenized in (False, True):
            count = sum(map(len, spacy_tokens)) if tokenized else gold
            size = os.path.getsize(os.path.join(folder, f"{tokenized}.hdf5"))
            seconds = min(jobs[tokenized])
            print(f"{'whole job, ' + NAMES[tokenized]:<44} {seconds * per_1k:>11.2f} {size / count:>12.0f}")
    same = sum(tokens == mine for (_, tokens), mine in zip(pairs, spacy_tokens))
    print(f"spaCy's tokens equal UD's in {same} of {len(pairs)} sentences ({100 * same / len(pairs):.1f}%)")


if __name__ == "__main__":
    main()
