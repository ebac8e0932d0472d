"""Dataset readers that fit in one file: ``read(path, config) -> Iterator[Instance]``, each
registered with its config (:func:`torchelmo.tasks.registry.register_reader`); a family's own
reader sits in its folder (``coreference/reader.py``, ``qa/reader.py``)."""
