"""``Elmo``: the biLM's layers mixed into task-ready representations (AllenNLP's contract)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .bilm import BiLmControls, ElmoBiLm
from .scalar_mix import ScalarMix
from .sentence_boundaries import remove_sentence_boundaries
from .states import StateMode, resolve_state_mode
from .files import PathLike



class Elmo(BiLmControls, nn.Module):
    """ELMo representations: ``num_output_representations`` learned mixes of the biLM layers.

    Same signature and outputs as ``allennlp.modules.elmo.Elmo``; switching is one import.

    Parameters
    ----------
    options_file, weight_file : an official ``options.json`` and ``weights.hdf5``. Leave both
        out to use the bundled default model (see :mod:`torchelmo.hub`).
    num_output_representations : how many independent scalar mixes to compute (e.g. one for
        the input and one for the output of a task model).
    requires_grad : fine-tune the biLM itself (frozen by default; the mixes always train).
    do_layer_norm : layer-normalise each layer before mixing.
    dropout : dropout on each output representation (active in ``train()`` mode).
    vocab_to_cache : precompute the token layer for these words; then pass ``word_inputs``.
    keep_sentence_boundaries : keep the ``<S>``/``</S>`` positions in the output.
    scalar_mix_parameters : fixed (not learned) mix weights before softmax, e.g.
        ``[-9e10, 1, -9e10]`` to select LSTM 1 only.
    module : a prebuilt :class:`ElmoBiLm` to use instead of loading files (its state mode
        is kept unless ``state`` or ``stateful`` is given).
    stateful : the former switch, an alias of ``state``: ``True`` is ``"carry"``, ``False`` ``"zero"``.
    model : a model name or folder instead of files, in either format (AllenNLP, or an
        ELMoForManyLangs folder; see :func:`torchelmo.hub.resolve_model`). Character ids
        for ``forward`` then come from ``elmo.bilm.batch_to_ids(sentences)``.
    state : where each sentence's LSTM state starts: ``"carry"`` (default; from the state
        the same batch row ended the previous batch with, like AllenNLP), ``"zero"`` or
        ``"warm"`` (a fixed state; outputs independent of the batch). See
        :mod:`torchelmo.states`. ``get_state()``, ``set_state()``, ``reset_states()`` and
        ``set_inference()`` act on the biLM.
    warmup_text : the warm-up text of ``"warm"`` in the model's language (needed for
        ELMoForManyLangs models).
    """

    def __init__(self, options_file: Optional[PathLike] = None, weight_file: Optional[PathLike] = None,
                 num_output_representations: int = 1, requires_grad: bool = False,
                 do_layer_norm: bool = False, dropout: float = 0.5,
                 vocab_to_cache: Optional[List[str]] = None, keep_sentence_boundaries: bool = False,
                 scalar_mix_parameters: Optional[Sequence[float]] = None,
                 module: Optional[ElmoBiLm] = None, stateful: Optional[bool] = None, model: Optional[str] = None,
                 state: Optional[StateMode] = None, warmup_text: Optional[PathLike] = None) -> None:
        super().__init__()
        if module is None:
            from .hub import resolve_model  # the bundled default when no files are given
            module = ElmoBiLm.from_model_files(resolve_model(options_file, weight_file, model), state=state,
                                               stateful=stateful, requires_grad=requires_grad, warmup_text=warmup_text)
        elif state is not None or stateful is not None:
            module.set_state_mode(resolve_state_mode(state, stateful))
        self._elmo_lstm = module
        if vocab_to_cache:
            module.cache_vocabulary(vocab_to_cache)
        self._has_cached_vocab = bool(vocab_to_cache)
        self._keep_sentence_boundaries = keep_sentence_boundaries
        self._dropout = nn.Dropout(p=dropout)
        self._scalar_mixes: List[ScalarMix] = []
        for k in range(num_output_representations):
            mix = ScalarMix(module.num_layers, do_layer_norm=do_layer_norm,
                            initial_scalar_parameters=scalar_mix_parameters,
                            trainable=scalar_mix_parameters is None)
            self.add_module(f"scalar_mix_{k}", mix)
            self._scalar_mixes.append(mix)

    @property
    def bilm(self) -> ElmoBiLm:
        """The biLM whose layers are mixed."""
        return self._elmo_lstm

    @staticmethod
    def bilm_state_prefix() -> str:
        """The state-dict key prefix of the biLM's own weights, e.g. to leave a frozen biLM out
        of a checkpoint (its weights stay in their file)."""
        return "_elmo_lstm."

    def get_output_dim(self) -> int:
        return self._elmo_lstm.output_dim

    def mix(self, layers: List[torch.Tensor], mask: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """The scalar mixes (with dropout) of the biLM's layers: ``layers`` 3 ×
        ``(batch, timesteps + 2, dim)`` with ``mask`` ``(batch, timesteps + 2)`` →
        ``num_output_representations`` × ``(batch, timesteps, dim)`` and the mask
        ``(batch, timesteps)`` (long; both keep <S> </S> with ``keep_sentence_boundaries``)."""
        representations = []
        for mix in self._scalar_mixes:
            mixed = mix(layers, mask)
            if not self._keep_sentence_boundaries:
                mixed, out_mask = remove_sentence_boundaries(mixed, mask)
            else:
                out_mask = mask
            representations.append(self._dropout(mixed))
        if not self._scalar_mixes:
            out_mask = mask if self._keep_sentence_boundaries else remove_sentence_boundaries(layers[0], mask)[1]
        return representations, out_mask.long()

    def forward(self, inputs: torch.Tensor, word_inputs: Optional[torch.Tensor] = None
                ) -> Dict[str, Union[torch.Tensor, List[torch.Tensor]]]:
        """``inputs``: character ids ``(batch, timesteps, 50)`` or ``(..., timesteps, 50)``;
        ``word_inputs``: optional ``(batch, timesteps)`` ids into ``vocab_to_cache``.

        Returns ``elmo_representations``: ``num_output_representations`` tensors
        ``(batch, timesteps, dim)`` (leading dims as in the input) and ``mask``
        ``(batch, timesteps)`` (long). With ``keep_sentence_boundaries`` timesteps grow by 2.
        """
        original_shape = inputs.shape
        char_ids = inputs.reshape(-1, *original_shape[-2:]) if inputs.dim() > 3 else inputs
        word_ids = None
        if word_inputs is not None:
            word_ids = word_inputs.reshape(-1, word_inputs.size(-1)) if word_inputs.dim() > 2 else word_inputs
        output = self._elmo_lstm(char_ids, word_ids)
        representations, out_mask = self.mix(output["activations"], output["mask"])
        if inputs.dim() > 3:
            lead = original_shape[:-2]
            out_mask = out_mask.view(*lead, -1)
            representations = [r.view(*lead, *r.shape[-2:]) for r in representations]
        return {"elmo_representations": representations, "mask": out_mask}
