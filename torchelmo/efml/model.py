"""An EFML model folder read and checked as a whole, and its weights put into torchelmo's modules.

Nothing is built until every file has been read and agrees with the others: the
architecture (:mod:`.options`), both state dicts (:mod:`.tensors`: names and shapes), and
the dictionaries (:mod:`.vocabulary`: one entry per row of their tables). Vocabulary sizes
come from the tensors. Every problem is one :class:`~torchelmo.errors.ElmoError` line.
"""
import os
from dataclasses import dataclass
from typing import Dict

import torch

from ..errors import ConfigurationError
from ..files import PathLike
from ..lstm import ElmoLstm
from .options import EfmlOptions
from .tensors import (CHAR_TABLE, DIRECTIONS, ENCODER_FILE, TOKEN_EMBEDDER_FILE, WORD_TABLE, check_tensors,
                      encoder_shapes, read_state_dict, token_embedder_shapes)
from .token_encoder import EfmlTokenEncoder
from .vocabulary import CHAR_SPECIALS, WORD_SPECIALS, EfmlVocabulary, check_dictionary, read_dictionary

WORD_FILE, CHAR_FILE = "word.dic", "char.dic"


@dataclass
class EfmlModel:
    """Everything an EFML folder holds for inference, checked to agree."""

    directory: str
    options: EfmlOptions
    vocabulary: EfmlVocabulary
    token_tensors: Dict[str, torch.Tensor]
    encoder_tensors: Dict[str, torch.Tensor]

    @property
    def encoder_file(self) -> str:
        return os.path.join(self.directory, ENCODER_FILE)

    @property
    def token_embedder_file(self) -> str:
        return os.path.join(self.directory, TOKEN_EMBEDDER_FILE)

    def token_encoder(self) -> EfmlTokenEncoder:
        """The token layer with this model's weights (EFML's highway convention converted)."""
        tensors = self.token_tensors
        rows = {name: tensors[name].size(0) if name in tensors else 0 for name in (WORD_TABLE, CHAR_TABLE)}
        encoder = EfmlTokenEncoder(self.options, self.vocabulary, rows[WORD_TABLE], rows[CHAR_TABLE])
        with torch.no_grad():
            if encoder.word_embedding is not None:
                encoder.word_embedding.weight.copy_(tensors[WORD_TABLE])
            if encoder.char_embedding is not None:
                encoder.char_embedding.weight.copy_(tensors[CHAR_TABLE])
            for i, conv in enumerate(encoder.convolutions):
                conv.weight.copy_(tensors[f"convolutions.{i}.weight"])
                conv.bias.copy_(tensors[f"convolutions.{i}.bias"])
            n = self.options.token.n_filters
            for k, layer in enumerate(encoder.highway.layers):
                # EFML: g * x + (1 - g) * relu(transform), g = sigmoid(gate rows); torchelmo's Highway
                # scales the transform by its gate, so it gets the negated gate rows: sigmoid(-z) = 1 - g.
                weight, bias = tensors[f"highways._layers.{k}.weight"], tensors[f"highways._layers.{k}.bias"]
                layer.weight.copy_(torch.cat([weight[:n], -weight[n:]]))
                layer.bias.copy_(torch.cat([bias[:n], -bias[n:]]))
            encoder.projection.weight.copy_(tensors["projection.weight"])
            encoder.projection.bias.copy_(tensors["projection.bias"])
        return encoder

    def load_lstm(self, lstm: ElmoLstm) -> None:
        """Copy ``encoder.pkl`` into ``lstm`` (built from :attr:`options`)."""
        with torch.no_grad():
            for index, layer in enumerate(lstm.layers):
                for d, direction in enumerate(DIRECTIONS):
                    prefix = f"{direction}_layer_{index}"
                    layer.input_weight[d].copy_(self.encoder_tensors[f"{prefix}.input_linearity.weight"])
                    layer.state_weight[d].copy_(self.encoder_tensors[f"{prefix}.state_linearity.weight"])
                    layer.bias[d].copy_(self.encoder_tensors[f"{prefix}.state_linearity.bias"])
                    layer.projection[d].copy_(self.encoder_tensors[f"{prefix}.state_projection.weight"])


def _dictionary(directory: str, name: str, tensors: Dict[str, torch.Tensor], table: str, specials) -> Dict[str, int]:
    path = os.path.join(directory, name)
    entries = read_dictionary(path)
    check_dictionary(entries, tensors[table].size(0), path, f"{TOKEN_EMBEDDER_FILE} {table}", specials)
    return entries


def read_model(model_dir: PathLike) -> EfmlModel:
    """Read and check an EFML model folder (see the module)."""
    directory = os.fspath(model_dir)
    if not os.path.isdir(directory):
        raise ConfigurationError(f"{directory}: not a folder (expected an ELMoForManyLangs model folder)")
    options = EfmlOptions.from_folder(directory)
    token_file, encoder_file = (os.path.join(directory, name) for name in (TOKEN_EMBEDDER_FILE, ENCODER_FILE))
    token_tensors = read_state_dict(token_file)
    rows = [token_tensors[name].size(0) if name in token_tensors else 0 for name in (WORD_TABLE, CHAR_TABLE)]
    check_tensors(token_tensors, token_embedder_shapes(options, *rows), token_file, options.architecture_file)
    encoder_tensors = read_state_dict(encoder_file)
    check_tensors(encoder_tensors, encoder_shapes(options), encoder_file, options.architecture_file)
    token = options.token
    words = _dictionary(directory, WORD_FILE, token_tensors, WORD_TABLE, WORD_SPECIALS) if token.word_dim else None
    chars = _dictionary(directory, CHAR_FILE, token_tensors, CHAR_TABLE, CHAR_SPECIALS) if token.char_dim else None
    vocabulary = EfmlVocabulary(words, chars, token.max_characters_per_token)
    return EfmlModel(directory, options, vocabulary, token_tensors, encoder_tensors)
