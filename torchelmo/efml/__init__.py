"""ELMoForManyLangs (EFML, HIT-SCIR) models: 44 languages in their own format, read as data.

An EFML model folder (``config.json``, the architecture JSON it names, ``char.dic``,
``word.dic``, ``token_embedder.pkl``, ``encoder.pkl``) is accepted wherever torchelmo takes
a model (``model=DIR``); it loads into the one :class:`~torchelmo.ElmoBiLm` with EFML's
token layer (:mod:`.token_encoder`) and torchelmo's LSTM, and reproduces EFML's numbers.
Modules: :mod:`.options` (architecture), :mod:`.vocabulary` (dictionaries and ids),
:mod:`.tensors` (the ``.pkl`` files, tensors only), :mod:`.model` (a folder read and
checked as a whole), :mod:`.embedder` (EFML's ``Embedder`` API).
"""
from .embedder import Embedder

__all__ = ["Embedder"]
