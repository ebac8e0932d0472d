"""The bidirectional language model body: character encoder + stacked biLSTM.

Produces ELMo's three layers (token layer, LSTM 1, LSTM 2), each
``(batch, timesteps + 2, 2 * projection_dim)`` with ``<S>``/``</S>`` positions included.
:class:`ElmoBiLm` is the only place these are assembled, by two forward paths sharing the
token layer: :meth:`ElmoBiLm.forward` (one padded batch of character ids) and
:meth:`ElmoBiLm.embed_batches` (consecutive batches of token strings run row by row as
streams, see :mod:`torchelmo.row_streams`). It also owns the LSTM state between batches
(the state modes of :mod:`torchelmo.states`) and the inference settings.
"""
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .char_encoder import CharacterEncoder
from .errors import ConfigurationError
from .gemm import check_precision
from .lstm import ElmoLstm, LstmState
from .model_files import ModelFiles
from .options import ElmoOptions
from .row_streams import StreamLayout, stream_tokens
from .sentence_boundaries import add_sentence_boundaries, remove_sentence_boundaries
from .states import StateMode, resolve_state_mode, warm_state_for
from .weights import check_weight_file, load_weights
from .files import PathLike

if TYPE_CHECKING:
    from .efml.options import EfmlOptions

logger = logging.getLogger(__name__)
Sentence = Sequence[str]


class ElmoBiLm(nn.Module):
    """Character CNN + forward/backward LSTM language model, without the softmax.

    Parameters
    ----------
    options : the architecture (:class:`~torchelmo.options.ElmoOptions`, or an EFML model's
        :class:`~torchelmo.efml.options.EfmlOptions` with its ``token_encoder``).
    state : where each batch row's LSTM state starts (see :mod:`torchelmo.states`):
        ``"carry"`` (default; from the state the same row ended the previous batch with, as
        AllenNLP and bilm-tf), ``"zero"`` (from zeros) or ``"warm"`` (from one fixed state
        the model reaches on real English; every sentence's vectors are then independent of
        its batch).
    requires_grad : train the biLM's own weights (fine-tuning); frozen by default.
    stateful : the former switch, kept as an alias: ``True`` is ``"carry"``, ``False`` ``"zero"``.
    token_encoder : the token layer, when not the AllenNLP character CNN of ``options``
        (an EFML model's :class:`~torchelmo.efml.token_encoder.EfmlTokenEncoder`).
    warmup_text : the warm-up text of ``"warm"`` (one whitespace-tokenized sentence per
        line) when not the shipped English one; needed for EFML models.
    """

    def __init__(self, options: Union[ElmoOptions, "EfmlOptions"], state: Union[StateMode, bool, None] = None,
                 requires_grad: bool = False, stateful: Optional[bool] = None,
                 token_encoder: Optional[nn.Module] = None, warmup_text: Optional[PathLike] = None) -> None:
        super().__init__()
        options.check_fits_in_memory()
        self.options = options
        if token_encoder is None and not isinstance(options, ElmoOptions):
            raise ConfigurationError("an ELMoForManyLangs model's biLM needs its token_encoder (use ElmoBiLm.from_efml)")
        self.char_encoder = token_encoder if token_encoder is not None else \
            CharacterEncoder(options.char_cnn, options.lstm.projection_dim)
        self.lstm = ElmoLstm(options.lstm, options.lstm.projection_dim)
        self.requires_grad_(requires_grad)
        # (2 + vocab, projection_dim): <S>, </S>, then the cached vocabulary (see cache_vocabulary).
        self.register_buffer("word_embedding", None, persistent=False)
        self.weight_file: Optional[str] = None  # what the warm state is looked up by
        self.other_weight_files: Tuple[str, ...] = ()  # further files the weights came from
        self.warmup_text = None if warmup_text is None else Path(warmup_text)
        self._state_mode = resolve_state_mode(state, stateful)
        self._carried: Optional[LstmState] = None  # carry: the state each row ended with
        self._warm: Optional[LstmState] = None  # warm: the start of every row (1 row), once resolved
        self._inference = ("fp32", False)  # (precision, compile) of the LSTM layers

    @classmethod
    def from_files(cls, options_file: PathLike, weight_file: PathLike, **kwargs) -> "ElmoBiLm":
        """Build from an ``options.json`` and load an official ``weights.hdf5``."""
        options = ElmoOptions.from_file(options_file)
        check_weight_file(weight_file, options)  # before anything is allocated
        model = cls(options, **kwargs)
        load_weights(model, weight_file)
        model.weight_file = os.fspath(weight_file)
        logger.info("Loaded ELMo weights from %s (options %s)", os.fspath(weight_file), os.fspath(options_file))
        if model.state_mode == "warm":
            model.warm_state()
        return model

    @classmethod
    def from_efml(cls, model_dir: PathLike, **kwargs) -> "ElmoBiLm":
        """Build from an ELMoForManyLangs model folder (see :mod:`torchelmo.efml`); ``kwargs``
        as the constructor's. ``state="warm"`` needs a ``warmup_text`` in the model's language."""
        from .efml.model import read_model

        efml = read_model(model_dir)
        model = cls(efml.options, token_encoder=efml.token_encoder(), **kwargs)
        efml.load_lstm(model.lstm)
        model.weight_file, model.other_weight_files = efml.encoder_file, (efml.token_embedder_file,)
        logger.info("Loaded the ELMoForManyLangs model %s", efml.directory)
        if model.state_mode == "warm":
            model.warm_state()
        return model

    @classmethod
    def from_model_files(cls, files: ModelFiles, **kwargs) -> "ElmoBiLm":
        """Build from a model on disk in either format (see :mod:`torchelmo.model_files`)."""
        if files.efml_dir is not None:
            return cls.from_efml(files.efml_dir, **kwargs)
        return cls.from_files(files.options_file, files.weight_file, **kwargs)

    def batch_to_ids(self, batch: Sequence[Sentence]) -> torch.Tensor:
        """Tokenized sentences -> the ids :meth:`forward` reads, by this model's token layer:
        :func:`torchelmo.batch_to_ids` ``(batch, timesteps, 50)`` for AllenNLP models, an EFML
        model's own ids ``(batch, timesteps, 1 + max_characters_per_token)``."""
        return self.char_encoder.batch_to_ids(batch)

    @property
    def output_dim(self) -> int:
        return self.options.output_dim

    @property
    def num_layers(self) -> int:
        return self.options.lstm.n_layers + 1

    @property
    def token_dim(self) -> int:
        """Width of the token layer, ``projection_dim`` (layer 0 holds it twice: ``output_dim``)."""
        return self.options.lstm.projection_dim

    # ------------------------------------------------------------------ training
    def set_training_dropout(self, dropout: float) -> None:
        """Dropout on each LSTM layer's input in training mode (bilm-tf trains with 0.1)."""
        self.lstm.dropout = dropout

    def initialize_for_training(self, carry_bias: float = -2.0) -> None:
        """bilm-tf's starting point for training from scratch: character embeddings uniform in
        [-1, 1] (padding row zero) and highway carry-gate biases ``carry_bias`` (near identity)."""
        encoder = self.char_encoder
        with torch.no_grad():
            nn.init.uniform_(encoder.char_embedding.weight, -1.0, 1.0)
            encoder.char_embedding.weight[0].zero_()
            for layer in encoder.highway.layers:
                layer.bias[encoder.highway.dim:] = carry_bias

    # ------------------------------------------------------------------ state
    @property
    def state_mode(self) -> StateMode:
        """``"carry"``, ``"zero"`` or ``"warm"``."""
        return self._state_mode

    def set_state_mode(self, state: StateMode, warm_state: Optional[LstmState] = None) -> None:
        """Switch the state mode (see the class); forgets any carried state. ``warm_state``
        (one row, as :meth:`warm_state` returns it) replaces the stored warm state."""
        self._state_mode = resolve_state_mode(state, None)
        self._carried = None
        if warm_state is not None:
            self._warm = LstmState(warm_state.hidden.detach(), warm_state.memory.detach())
        if self._state_mode == "warm":
            self.warm_state()

    def get_state(self) -> Optional[LstmState]:
        """The state carried to the next batch (``"carry"`` mode), one row per batch row:
        ``hidden`` ``(lstm layers, 2, rows, projection_dim)``, ``memory`` ``(lstm layers, 2,
        rows, cell_dim)``; None when nothing is carried (a fresh start, or another mode)."""
        return self._carried

    def set_state(self, state: Optional[LstmState]) -> None:
        """Make the next batch's rows start from ``state`` (as :meth:`get_state` returns it;
        None: from zeros). Only in ``"carry"`` mode, the one that carries state."""
        if state is not None and self._state_mode != "carry":
            raise ValueError(f"set_state needs state mode 'carry'; this model's is {self._state_mode!r}")
        self._carried = None if state is None else LstmState(state.hidden.detach(), state.memory.detach())

    def reset_states(self) -> None:
        """Forget the LSTM state carried over from previous batches."""
        self._carried = None

    def warm_state(self) -> LstmState:
        """The ``"warm"`` start state, one row: shipped or cached for these weights, else
        computed now (in fp32 whatever the inference settings) and cached (see
        :mod:`torchelmo.states`)."""
        if self._warm is None:
            if self.warmup_text is None and not isinstance(self.char_encoder, CharacterEncoder):
                raise ConfigurationError("state 'warm' with an ELMoForManyLangs model needs a warm-up text in the "
                                         "model's language (the shipped one is English)", hint="warmup_text")
            settings = self._inference
            self._configure_layers("fp32", False)
            try:
                self._warm = warm_state_for(self)
            finally:
                self._configure_layers(*settings)
        return self._warm

    def carried_state_after(self, batches: Sequence[Sequence[Sentence]]) -> LstmState:
        """The state ``"carry"`` mode holds after embedding ``batches`` from zeros, whatever
        this model's mode, without dropout; changes nothing here. Used to compute the warm state."""
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self._run_streams(batches, carry=True, initial=lambda rows, like: None)[1]
        finally:
            self.train(was_training)

    def _initial_state(self, rows: int, like: torch.Tensor) -> Optional[LstmState]:
        """Where ``rows`` batch rows start, by the state mode (None: zeros)."""
        if self._state_mode == "warm":
            warm = self.warm_state()
            return LstmState(warm.hidden.to(like).expand(-1, -1, rows, -1),
                             warm.memory.to(like).expand(-1, -1, rows, -1))
        if self._state_mode == "carry" and self._carried is not None:
            return self._carried.for_batch(rows)
        return None

    def _keep_final(self, final: LstmState) -> None:
        """Carry ``final`` to the next batch (``"carry"`` mode only); rows beyond it keep theirs."""
        if self._state_mode == "carry":
            self._carried = self._carried.merged_with(final) if self._carried is not None else \
                LstmState(final.hidden.detach(), final.memory.detach())

    # ------------------------------------------------------------------ inference settings
    def set_inference(self, precision: str = "fp32", compile: bool = False) -> None:
        """The LSTM's inference matrix products in ``"fp32"`` (default, exact), ``"bf16"`` or
        ``"int8"`` (dynamic quantization, CPU only), and its cell update fused with
        ``torch.compile``; see :meth:`torchelmo.lstm.BiLstmLayer.configure_inference`."""
        check_precision(precision)
        if precision == "int8" and next(self.parameters()).device.type != "cpu":
            raise ConfigurationError("precision 'int8' (dynamic quantization) runs on the CPU only; "
                                     "use 'bf16' on a GPU")
        self._configure_layers(precision, compile)

    @property
    def inference_settings(self) -> Tuple[str, bool]:
        """``(precision, compile)`` as last set by :meth:`set_inference`."""
        return self._inference

    def _configure_layers(self, precision: str, compile: bool) -> None:
        self._inference = (precision, compile)
        for layer in self.lstm.layers:
            layer.configure_inference(precision, compile)

    # ------------------------------------------------------------------ forward paths
    def cache_vocabulary(self, tokens: Sequence[str]) -> None:
        """Precompute the token layer for ``tokens`` so ``word_inputs`` can index into it.

        Index 0 of ``tokens`` is the padding entry (word id 0 marks padding).
        """
        with torch.no_grad():
            self.word_embedding = self.char_encoder.embed_words([*self.char_encoder.boundary_tokens, *tokens])

    def _token_layer(self, char_ids: torch.Tensor, word_ids: Optional[torch.Tensor]):
        table = self.word_embedding
        if table is not None and word_ids is not None and (
                word_ids.numel() == 0 or int(word_ids.max()) < table.size(0) - 2):
            mask = word_ids > 0
            return add_sentence_boundaries(table[2:][word_ids], mask, table[0], table[1])
        encoded = self.char_encoder(char_ids)
        return encoded["token_embedding"], encoded["mask"]

    @staticmethod
    def layer_zero(token_vectors: torch.Tensor) -> torch.Tensor:
        """ELMo's layer 0: each token vector ``(..., proj)`` twice, ``(..., 2 * proj)``, as the
        two directions of the LSTM layers."""
        return torch.cat([token_vectors, token_vectors], dim=-1)

    def token_layer_of(self, activations: Sequence[torch.Tensor]) -> torch.Tensor:
        """The token layer ``(batch, timesteps + 2, token_dim)`` inside :meth:`forward`'s
        ``activations`` (layer 0 holds it twice); :meth:`layer_zero` gives layer 0 back."""
        return activations[0][..., : self.token_dim]

    def forward(self, char_ids: torch.Tensor, word_ids: Optional[torch.Tensor] = None
                ) -> Dict[str, Union[torch.Tensor, List[torch.Tensor]]]:
        """``char_ids`` ``(batch, timesteps, 50)``; optional ``word_ids`` ``(batch, timesteps)``
        into the cached vocabulary.

        Returns ``activations``: a list of ``num_layers`` tensors
        ``(batch, timesteps + 2, output_dim)`` and ``mask`` ``(batch, timesteps + 2)`` (long).
        """
        token_layer, mask = self._token_layer(char_ids, word_ids)
        lstm_outputs, final = self.lstm(token_layer, mask, self._initial_state(mask.size(0), token_layer))
        self._keep_final(final)
        activations = [self.layer_zero(token_layer) * mask.unsqueeze(-1).to(token_layer.dtype)]
        activations.extend(lstm_outputs.unbind(0))
        return {"activations": activations, "mask": mask.long()}

    def embed_layers(self, char_ids: torch.Tensor):
        """All layers without ``<S>``/``</S>``: ``(batch, num_layers, timesteps, output_dim)``
        and mask ``(batch, timesteps)`` (bool)."""
        output = self(char_ids)
        layers, mask = [], None
        for activation in output["activations"]:
            layer, mask = remove_sentence_boundaries(activation, output["mask"])
            layers.append(layer)
        return torch.stack(layers, dim=1), mask

    def embed_batches(self, batches: Sequence[Sequence[Sentence]]) -> List[List[torch.Tensor]]:
        """Each batch's sentences (token strings) -> ``(num_layers, tokens, output_dim)`` float
        tensors on the CPU; an empty sentence gives ``(num_layers, 0, output_dim)``.

        Equal to :meth:`forward` on the batches one after another, with the same final state,
        but the batches' rows run as streams: with carried state, row ``r`` of every batch is
        one stream; otherwise every sentence has its own row. Each distinct token string is
        embedded once. A batch of only empty sentences is not run.
        """
        carry = self._state_mode == "carry"
        embedded, final = self._run_streams(batches, carry, self._initial_state)
        if final is not None:
            self._keep_final(final)
        return embedded

    def _run_streams(self, batches: Sequence[Sequence[Sentence]], carry: bool, initial
                     ) -> Tuple[List[List[torch.Tensor]], Optional[LstmState]]:
        """:meth:`embed_batches` with the layout (``carry``) and the start state
        (``initial(rows, like)``) given; returns the vectors and the final state (None when
        nothing ran)."""
        layout = StreamLayout.for_batches(batches, carry)
        empty = torch.zeros(self.num_layers, 0, self.output_dim)
        if not layout.segments:
            return [[empty.clone() for _ in batch] for batch in batches], None
        words, index = stream_tokens(batches, layout, self.char_encoder.boundary_tokens)
        vectors = self.char_encoder.embed_words(words)
        vectors = torch.cat([vectors, vectors.new_zeros(1, vectors.size(1))])  # zeros past the ends
        lstm_layers, final = self.lstm.forward_streams(vectors, layout.segments, index.to(vectors.device),
                                                       initial(len(layout.segments), vectors))
        lstm_layers, vectors = lstm_layers.cpu(), vectors.cpu()  # (layers, rows, time, 2 * proj), (words, proj)

        def sentence_layers(row: int, start: int, length: int) -> torch.Tensor:
            tokens = slice(start + 1, start + 1 + length)  # without <S> and </S>
            token_layer = self.layer_zero(vectors[index[row, tokens]]).unsqueeze(0)
            return torch.cat([token_layer, lstm_layers[:, row, tokens]])

        embedded = [[sentence_layers(*place, len(sentence)) if place is not None and sentence else empty.clone()
                     for sentence, place in zip(batch, batch_places)]
                    for batch, batch_places in zip(batches, layout.places)]
        return embedded, final


class BiLmControls:
    """The state and inference controls of a wrapped :class:`ElmoBiLm` (``self.bilm``), for
    the classes built around one (:class:`~torchelmo.Elmo`, :class:`~torchelmo.ElmoEmbedder`)."""

    bilm: ElmoBiLm

    @property
    def state_mode(self) -> StateMode:
        """``"carry"``, ``"zero"`` or ``"warm"`` (see :mod:`torchelmo.states`)."""
        return self.bilm.state_mode

    def get_state(self) -> Optional[LstmState]:
        """See :meth:`ElmoBiLm.get_state`."""
        return self.bilm.get_state()

    def set_state(self, state: Optional[LstmState]) -> None:
        """See :meth:`ElmoBiLm.set_state`."""
        self.bilm.set_state(state)

    def reset_states(self) -> None:
        """Forget the LSTM state carried over from previous batches."""
        self.bilm.reset_states()

    def set_inference(self, precision: str = "fp32", compile: bool = False) -> None:
        """See :meth:`ElmoBiLm.set_inference`."""
        self.bilm.set_inference(precision, compile)
