"""ELMo in spaCy pipelines: the ``elmo`` component and the ``torchelmo.ElmoTok2Vec.v1`` /
``torchelmo.ElmoFeatures.v1`` layers for ``spacy train``. Importing registers them (the
package's entry points do it without an import). Needs ``pip install 'torchelmo[spacy]'``.
"""
from .component import ElmoComponent, make_elmo
from .layers import elmo_features, elmo_tok2vec
from .settings import ElmoSettings

__all__ = ["ElmoComponent", "ElmoSettings", "make_elmo", "elmo_features", "elmo_tok2vec"]
