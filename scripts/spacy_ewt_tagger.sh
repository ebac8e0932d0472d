#!/usr/bin/env bash
# The EWT tagging comparison in docs/spacy.md: spaCy's default CNN tok2vec against the same
# tok2vec + ELMo (bundled model), same config otherwise (seed 0, 1,500 steps). Run from the repo
# root with torchelmo[spacy] installed (pip install -e '.[spacy]'; the entry points register
# the layer). Subsample: the first 3,000 EWT train sentences, the first 600 dev sentences (to
# select the best checkpoint); scored on the full test set. Outputs go to $OUT.
set -euo pipefail
EWT=${EWT:-../shared/data/ud-english-ewt}
OUT=${OUT:-runs/spacy-ewt}
mkdir -p "$OUT/corpus"
python - "$EWT" "$OUT" <<'PY'
import sys
ewt, out = sys.argv[1:]
for name, count, target in [("train", 3000, "train3000"), ("dev", 600, "dev600")]:
    with open(f"{ewt}/en_ewt-ud-{name}.conllu", encoding="utf-8") as f:
        blocks = f.read().strip("\n").split("\n\n")[:count]
    with open(f"{out}/{target}.conllu", "w", encoding="utf-8") as f:
        f.write("\n\n".join(blocks) + "\n\n")
PY
for file in "$OUT/train3000.conllu" "$OUT/dev600.conllu" "$EWT/en_ewt-ud-test.conllu"; do
    python -m spacy convert "$file" "$OUT/corpus" --converter conllu --n-sents 1
done
for config in tagger_ewt tagger_ewt_elmo; do
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} /usr/bin/time -v python -m spacy train "configs/spacy/$config.cfg" \
        --paths.train "$OUT/corpus/train3000.spacy" --paths.dev "$OUT/corpus/dev600.spacy" \
        --output "$OUT/$config" 2>&1 | tee "$OUT/$config.train.log"
    /usr/bin/time -v python -m spacy evaluate "$OUT/$config/model-best" "$OUT/corpus/en_ewt-ud-test.spacy" \
        --output "$OUT/$config.test.json" 2>&1 | tee "$OUT/$config.test.log"
done
