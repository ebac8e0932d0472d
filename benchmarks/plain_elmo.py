"""A plain, per-timestep ELMo biLM with AllenNLP 0.9's semantics.

This is both the speed baseline of ``embed_throughput.py`` and the tests' reference for every
fast path of torchelmo. It takes its parameters from a :class:`torchelmo.ElmoBiLm` and does
everything the straightforward way, as AllenNLP's ``_ElmoBiLm`` does:

- the character CNN embeds every position of the padded batch, padding included, with one
  ``conv1d`` per filter width (full fp32 on a GPU too: no TF32), max over time, highway
  layers and the projection, the products through ``torch.nn.functional.linear``;
- each LSTM direction of each layer loops over timesteps: per step it slices the rows of the
  length-sorted batch that are still active, runs one GEMM for the input and one for the
  state, clones the full-batch state and writes the new rows into it;
- the backward direction walks from the last timestep to the first, so every sentence
  starts from its own end;
- in stateful mode each batch row starts from the state that row ended with in the previous
  batch; the stored state is zero-extended when a batch is larger and keeps its extra rows
  when a batch is smaller (ELMo batches never hold all-padding rows, since every sentence
  has ``<S>`` and ``</S>``, so every row of a batch updates its state).
"""
import contextlib
from typing import Iterator, List, Optional, Tuple

import torch
from torch.nn import functional as F

from torchelmo import ElmoBiLm
from torchelmo.sentence_boundaries import add_sentence_boundaries, remove_sentence_boundaries

State = Tuple[torch.Tensor, torch.Tensor]


@contextlib.contextmanager
def fp32_convolutions() -> Iterator[None]:
    """cuDNN convolutions in full fp32 inside (torch lets them use TF32 by default, which
    rounds inputs to 10 mantissa bits; torchelmo's character CNN is a plain fp32 product)."""
    allowed = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = allowed


class PlainElmoBiLm:
    """Per-timestep reference biLM sharing the parameters of ``bilm``.

    ``embed_layers(char_ids)`` mirrors :meth:`torchelmo.ElmoBiLm.embed_layers`.
    """

    def __init__(self, bilm: ElmoBiLm, stateful: bool = True) -> None:
        self.bilm = bilm
        self.stateful = stateful
        # (layers, rows, 2 * proj) and (layers, rows, 2 * cell): forward half, then backward.
        self.states: Optional[State] = None

    def reset_states(self) -> None:
        self.states = None

    @torch.no_grad()
    def embed_layers(self, char_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``char_ids`` ``(batch, timesteps, 50)`` -> layers ``(batch, 3, timesteps, 2 * proj)``
        (zeros past each sentence) and bool mask ``(batch, timesteps)``."""
        token_layer, mask = self._token_layer(char_ids)
        lstm_layers = self._lstm(token_layer, mask)
        activations = [torch.cat([token_layer, token_layer], dim=-1) * mask.unsqueeze(-1).float()]
        activations.extend(lstm_layers)
        layers = []
        for activation in activations:
            layer, inner_mask = remove_sentence_boundaries(activation, mask)
            layers.append(layer)
        return torch.stack(layers, dim=1), inner_mask

    def _token_layer(self, char_ids: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Token vectors ``(batch, timesteps + 2, proj)`` for every position, and the mask."""
        encoder = self.bilm.char_encoder
        mask = (char_ids > 0).any(dim=-1)
        ids, mask = add_sentence_boundaries(char_ids, mask, encoder.bos_ids, encoder.eos_ids)
        batch, timesteps, width = ids.shape
        x = F.embedding(ids.reshape(-1, width), encoder.char_embedding.weight).transpose(1, 2)  # (n, dim, 50)
        with fp32_convolutions():
            features = [encoder.activation(F.conv1d(x, conv.weight, conv.bias).max(dim=-1).values)
                        for conv in encoder.convolutions]
        x = torch.cat(features, dim=-1)
        for layer in encoder.highway.layers:
            transform, carry = F.linear(x, layer.weight, layer.bias).chunk(2, dim=-1)
            gate = torch.sigmoid(carry)
            x = gate * encoder.highway.activation(transform) + (1 - gate) * x
        vectors = F.linear(x, encoder.projection.weight, encoder.projection.bias)
        return vectors.view(batch, timesteps, -1), mask

    def _initial_states(self, batch_size: int, like: torch.Tensor) -> State:
        """Stored states resized to ``batch_size`` rows (zeros for rows never seen)."""
        options = self.bilm.options.lstm
        zeros = (like.new_zeros(options.n_layers, batch_size, 2 * options.projection_dim),
                 like.new_zeros(options.n_layers, batch_size, 2 * options.dim))
        if not self.stateful or self.states is None:
            return zeros
        stored_rows = self.states[0].size(1)
        if stored_rows < batch_size:
            self.states = tuple(torch.cat([s, z[:, stored_rows:]], dim=1) for s, z in zip(self.states, zeros))
        return tuple(s[:, :batch_size] for s in self.states)

    def _store_states(self, final: State) -> None:
        """Replace the first ``batch`` stored rows by ``final``; keep the others."""
        if self.states is None or self.states[0].size(1) <= final[0].size(1):
            self.states = tuple(s.clone() for s in final)
            return
        rows = final[0].size(1)
        self.states = tuple(torch.cat([new, old[:, rows:]], dim=1) for new, old in zip(final, self.states))

    def _lstm(self, inputs: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
        """``inputs`` ``(batch, timesteps, proj)`` -> one ``(batch, timesteps, 2 * proj)`` per layer."""
        options = self.bilm.options.lstm
        proj, cell = options.projection_dim, options.dim
        lengths, order = mask.sum(dim=1).sort(descending=True)
        restore = order.argsort()
        lengths = lengths.tolist()
        hidden, memory = (s.index_select(1, order) for s in self._initial_states(mask.size(0), inputs))
        forward_input = backward_input = inputs.index_select(0, order)
        outputs, final_hidden, final_memory = [], [], []
        for i, layer in enumerate(self.bilm.lstm.layers):
            results = []
            for direction, layer_input in ((0, forward_input), (1, backward_input)):
                state = (hidden[i, :, direction * proj:(direction + 1) * proj],
                         memory[i, :, direction * cell:(direction + 1) * cell])
                out, h, c = run_direction(layer, direction, layer_input, lengths, state)
                if i > 0 and options.use_skip_connections:
                    out = out + layer_input
                results.append((out, h, c))
            (forward_input, fh, fc), (backward_input, bh, bc) = results
            outputs.append(torch.cat([forward_input, backward_input], dim=-1).index_select(0, restore))
            final_hidden.append(torch.cat([fh, bh], dim=-1))
            final_memory.append(torch.cat([fc, bc], dim=-1))
        if self.stateful:
            self._store_states((torch.stack(final_hidden).index_select(1, restore),
                                torch.stack(final_memory).index_select(1, restore)))
        return outputs


def run_direction(layer, direction: int, inputs: torch.Tensor, lengths: List[int],
                  state: State) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One direction of one :class:`torchelmo.lstm.BiLstmLayer`, one timestep at a time.

    ``inputs`` ``(batch, timesteps, input)`` sorted by ``lengths`` (descending); ``state`` is
    hidden ``(batch, proj)`` and memory ``(batch, cell)``. Direction 1 runs backwards in time.
    Returns outputs ``(batch, timesteps, proj)`` (zeros at padding) and the final hidden and
    memory, ``(batch, proj)`` and ``(batch, cell)``.
    """
    input_weight, state_weight = layer.input_weight[direction], layer.state_weight[direction]
    bias, projection = layer.bias[direction], layer.projection[direction]
    hidden, memory = state
    batch, timesteps, _ = inputs.shape
    outputs = inputs.new_zeros(batch, timesteps, layer.projection_dim)
    for step in range(timesteps):
        index = step if direction == 0 else timesteps - 1 - step
        rows = sum(1 for n in lengths if n > index)
        previous_hidden, previous_memory = hidden[:rows].clone(), memory[:rows].clone()
        gates = F.linear(inputs[:rows, index], input_weight) + F.linear(previous_hidden, state_weight, bias)
        input_gate, forget_gate, cell_input, output_gate = gates.chunk(4, dim=-1)
        new_memory = torch.sigmoid(input_gate) * torch.tanh(cell_input) + torch.sigmoid(forget_gate) * previous_memory
        if layer.cell_clip:
            new_memory = new_memory.clamp(-layer.cell_clip, layer.cell_clip)
        new_hidden = F.linear(torch.sigmoid(output_gate) * torch.tanh(new_memory), projection)
        if layer.proj_clip:
            new_hidden = new_hidden.clamp(-layer.proj_clip, layer.proj_clip)
        hidden, memory = hidden.clone(), memory.clone()
        hidden[:rows], memory[:rows] = new_hidden, new_memory
        outputs[:rows, index] = new_hidden
    return outputs, hidden, memory
