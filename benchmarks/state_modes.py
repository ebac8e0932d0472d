"""The state modes measured on the bundled model: held-out perplexity and distance from carry.

    python -m benchmarks.state_modes fit-softmax --corpus CORPUS --work-dir DIR
    python -m benchmarks.state_modes perplexity --corpus CORPUS --work-dir DIR
    python -m benchmarks.state_modes deviation --corpus CORPUS --sentences 1000

``CORPUS`` is ``scripts/prepare_corpus.py``'s output. The bundled model ships without the
softmax it was trained with, so ``fit-softmax`` fits one over the frozen biLM (the vocabulary
rebuilt as ``scripts/train_default_model.sh`` does: the 20,000 most frequent train tokens),
on the top layer of the first ``--tokens`` train tokens, half embedded with ``zero`` and half
with ``carry`` state (so neither mode is favoured), full softmax, Adam. ``perplexity`` scores
the held-out split (and its first 20 sentences) in file order, consecutive batches of
``--batch-size``, per mode and per warm-state recipe (rows x reduction, see
:class:`torchelmo.states.WarmRecipe`). ``deviation``: per layer, the mean cosine and the max
abs difference of each mode's token vectors from the carried-state ones (same batches).
"""
import argparse
import glob
import math
import os
import time
from typing import List

import numpy as np
import torch

from torchelmo import ElmoEmbedder
from torchelmo.hub import resolve_model_files
from torchelmo.states import WARM_RECIPE, WarmRecipe, compute_warm_state
from torchelmo.training.corpus import DataPosition, iter_sentences, make_batch
from torchelmo.training.export import load_language_model, save_softmax
from torchelmo.training.model import BidirectionalLM
from torchelmo.training.vocab import Vocabulary, build_vocabulary, count_tokens
from torchelmo.weights import load_weights
from torchelmo.options import ElmoOptions

RECIPES = [WarmRecipe(16, "mean"), WarmRecipe(16, "median"), WarmRecipe(64, "mean"), WarmRecipe(1, "mean"),
           WarmRecipe(160, "mean")]


def batches_of(sentences, size):
    return [sentences[i:i + size] for i in range(0, len(sentences), size)]


def heldout(corpus: str) -> List[List[str]]:
    return list(iter_sentences([os.path.join(corpus, "heldout", "heldout.txt")]))


def fit_softmax(args) -> None:
    options_file, weight_file = resolve_model_files(None, None, None)
    files = sorted(glob.glob(os.path.join(args.corpus, "train", "*.txt")))
    start = time.time()
    vocab = build_vocabulary(count_tokens(iter_sentences(files)), 1, 20000)
    vocab.save(os.path.join(args.work_dir, "vocab.txt"))
    model = BidirectionalLM(ElmoOptions.from_file(options_file), len(vocab))
    load_weights(model.bilm, weight_file)
    model.eval()
    sentences, count = [], 0
    for tokens in iter_sentences(files):
        sentences.append(tokens)
        count += len(tokens)
        if count >= args.tokens:
            break
    hidden, targets = [], []
    with torch.no_grad():
        for half, mode in ((sentences[:len(sentences) // 2], "zero"), (sentences[len(sentences) // 2:], "carry")):
            model.bilm.set_state_mode(mode)
            for batch in batches_of(half, 64):
                b = make_batch(batch, vocab, DataPosition())
                top = model.bilm(b.char_ids.long())["activations"][-1]
                proj, valid = top.size(-1) // 2, b.targets[:, 1:] >= 0
                hidden += [top[:, :-1, :proj][valid], top[:, 1:, proj:][valid]]
                targets += [b.targets[:, 1:][valid], b.targets[:, :-1][valid]]
    hidden, targets = torch.cat(hidden), torch.cat(targets)
    print(f"features: {len(sentences)} sentences, {hidden.size(0)} predictions, {time.time() - start:.0f} s")
    softmax = model.softmax
    with torch.no_grad():
        counts = torch.bincount(targets, minlength=len(vocab)).float() + 1.0
        softmax.bias.copy_(counts.log() - counts.sum().log())
    optimizer = torch.optim.Adam(softmax.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(args.epochs):
        order, total = torch.randperm(hidden.size(0), generator=generator), 0.0
        for i in range(0, hidden.size(0), args.step_size):
            rows = order[i:i + args.step_size]
            loss = softmax.full_loss(hidden[rows], targets[rows]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * rows.numel()
        print(f"epoch {epoch + 1}: train perplexity {math.exp(total / hidden.size(0)):.1f}, "
              f"{time.time() - start:.0f} s", flush=True)
    save_softmax(model, os.path.join(args.work_dir, "softmax.hdf5"))


def perplexity_of(model, vocab, sentences, batch_size) -> float:
    totals, count = 0.0, 0
    with torch.no_grad():
        for batch in batches_of(sentences, batch_size):
            b = make_batch(batch, vocab, DataPosition())
            forward, backward = model.token_losses(b.char_ids.long(), b.targets)
            totals += forward.double().sum().item() + backward.double().sum().item()
            count += 2 * forward.numel()
    return math.exp(totals / count)


def perplexity(args) -> None:
    options_file, weight_file = resolve_model_files(None, None, None)
    vocab = Vocabulary.from_file(os.path.join(args.work_dir, "vocab.txt"))
    model = load_language_model(options_file, weight_file, vocab, os.path.join(args.work_dir, "softmax.hdf5"))
    model.eval()
    sentences = heldout(args.corpus)
    variants = [("carry", None), ("zero", None)] + [("warm", r) for r in RECIPES]
    print(f"held-out: {len(sentences)} sentences, {sum(map(len, sentences))} tokens; batches of "
          f"{args.batch_size} in file order; shipped recipe {WARM_RECIPE}\n")
    print("| mode | warm recipe | perplexity, all | first 20 sentences | seconds |\n|---|---|---|---|---|")
    for mode, recipe in variants:
        start = time.time()
        warm = compute_warm_state(model.bilm, recipe) if recipe else None
        scores = []
        for subset in (sentences, sentences[:20]):
            model.bilm.set_state_mode(mode, warm_state=warm)
            scores.append(perplexity_of(model, vocab, subset, args.batch_size))
        described = f"{recipe.rows} rows, {recipe.reduction}" if recipe else ""
        print(f"| {mode} | {described} | {scores[0]:.2f} | {scores[1]:.2f} | {time.time() - start:.0f} |", flush=True)


def deviation(args) -> None:
    sentences = heldout(args.corpus)[:args.sentences]
    embedded = {}
    for mode in ("carry", "zero", "warm"):
        embedder = ElmoEmbedder(state=mode)
        embedded[mode] = list(embedder.embed_sentences(sentences, batch_size=args.batch_size))
    print(f"{len(sentences)} held-out sentences, batches of {args.batch_size} in file order\n")
    print("| mode | layer | mean cosine to carry | max abs difference |\n|---|---|---|---|")
    for mode in ("zero", "warm"):
        for layer in range(embedded["carry"][0].shape[0]):
            a = np.concatenate([v[layer] for v in embedded[mode]])
            b = np.concatenate([v[layer] for v in embedded["carry"]])
            cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
            print(f"| {mode} | {layer} | {cos.mean():.4f} | {np.abs(a - b).max():.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, function in (("fit-softmax", fit_softmax), ("perplexity", perplexity), ("deviation", deviation)):
        p = commands.add_parser(name)
        p.add_argument("--corpus", required=True)
        p.add_argument("--work-dir", default=".")
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--tokens", type=int, default=250_000)
        p.add_argument("--epochs", type=int, default=2)
        p.add_argument("--step-size", type=int, default=2048, help="predictions per Adam step")
        p.add_argument("--lr", type=float, default=0.005)
        p.add_argument("--sentences", type=int, default=1000)
        p.set_defaults(func=function)
    args = parser.parse_args()
    torch.manual_seed(0)
    args.func(args)


if __name__ == "__main__":
    main()
