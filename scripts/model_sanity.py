"""Sanity table for an ELMo model: do contextual vectors separate word senses?

Prints a markdown table (for docs/models.md):
- "bank" in river sentences vs. money sentences: mean cosine similarity of the "bank" vectors
  within a sense and across senses, per layer (layer 0 is context-free, so all equal there);
- the apple/carrot example of AllenNLP's ELMo tutorial: cosine distance between "apple" in
  "I ate an apple for breakfast" and "carrot" in "I ate a carrot for breakfast" (top layer;
  the tutorial reports 0.180 for AllenNLP's original model).

    python -m scripts.model_sanity                      # the bundled default model
    python -m scripts.model_sanity --options-file O --weight-file W
"""
import argparse
import itertools

import numpy as np

from torchelmo import ElmoEmbedder

RIVER = ["We sat on the bank of the river and watched the water .",
         "The boat drifted toward the muddy bank of the stream .",
         "Fishermen lined the grassy bank of the lake ."]
MONEY = ["She deposited the money at the bank on Monday .",
         "The bank raised its interest rates on loans .",
         "He opened a savings account at the bank downtown ."]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def bank_vectors(embedder: ElmoEmbedder, sentences):
    """``(num_layers, dim)`` vectors of "bank" in each sentence."""
    out = []
    for sentence in sentences:
        tokens = sentence.split()
        out.append(embedder.embed_sentence(tokens)[:, tokens.index("bank")])
    return out


def mean_similarity(pairs, layer: int) -> float:
    return float(np.mean([cosine(a[layer], b[layer]) for a, b in pairs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--options-file")
    parser.add_argument("--weight-file")
    parser.add_argument("--model")
    args = parser.parse_args()
    embedder = ElmoEmbedder(args.options_file, args.weight_file, stateful=False, model=args.model)
    river, money = bank_vectors(embedder, RIVER), bank_vectors(embedder, MONEY)
    within = list(itertools.combinations(river, 2)) + list(itertools.combinations(money, 2))
    across = list(itertools.product(river, money))
    print("| layer | cos(bank, bank) same sense | cos(bank, bank) other sense | margin |")
    print("|---|---|---|---|")
    for layer in range(embedder.elmo_bilm.num_layers):
        same, other = mean_similarity(within, layer), mean_similarity(across, layer)
        print(f"| {layer} | {same:.3f} | {other:.3f} | {same - other:+.3f} |")
    apple = embedder.embed_sentence("I ate an apple for breakfast".split())
    carrot = embedder.embed_sentence("I ate a carrot for breakfast".split())
    print()
    print("| layer | cosine distance apple / carrot (AllenNLP tutorial: 0.180, original model, top layer) |")
    print("|---|---|")
    for layer in range(embedder.elmo_bilm.num_layers):
        print(f"| {layer} | {1 - cosine(apple[layer, 3], carrot[layer, 3]):.3f} |")


if __name__ == "__main__":
    main()
