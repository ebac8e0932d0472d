"""Maintenance scripts (corpus, default model, sanity checks); the ``corpusprep`` package builds the corpus.

Run the Python ones from the repository root as modules: ``python -m scripts.prepare_corpus``.
"""
