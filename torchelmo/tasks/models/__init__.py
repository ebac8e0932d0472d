"""Task models that fit in one file, and the base they share (:mod:`.base`). A family that
spans several files has its own folder beside this one (``coreference/``, ``qa/``)."""
