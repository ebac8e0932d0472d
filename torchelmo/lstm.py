"""ELMo's stacked bidirectional LSTM with cell clipping, projection and skip connections.

Both directions run in one loop. The backward direction sees every sentence reversed
*within its own length*, so at step ``t`` both directions work on the same rows: those of
the length-sorted batch whose sentence is longer than ``t``. Per step there is one batched
GEMM for the recurrence (``(2, rows, proj) x (2, proj, 4 * cell)``); the input projections
of all timesteps are computed up front in one GEMM per layer. Padding is never computed.

Gate order inside the weights is PyTorch's (input, forget, cell, output); ``weights.py``
converts from TensorFlow's (input, cell, forget, output) and folds in the forget bias.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
from torch import nn

from .options import LSTMOptions


@dataclass
class LstmState:
    """Recurrent state carried from one batch to the next, one row per batch position.

    ``hidden``: ``(num_layers, 2, rows, projection_dim)``; ``memory``:
    ``(num_layers, 2, rows, cell_dim)``; index 1 is the direction (0 forward, 1 backward).
    """

    hidden: torch.Tensor
    memory: torch.Tensor

    @property
    def rows(self) -> int:
        return self.hidden.size(2)

    def for_batch(self, batch_size: int) -> "LstmState":
        """The first ``batch_size`` rows, zero-extended when the batch is larger."""
        missing = batch_size - self.rows
        if missing <= 0:
            return LstmState(self.hidden[:, :, :batch_size], self.memory[:, :, :batch_size])
        pad = (0, 0, 0, missing)
        return LstmState(nn.functional.pad(self.hidden, pad), nn.functional.pad(self.memory, pad))

    def merged_with(self, new: "LstmState") -> "LstmState":
        """This state with its first ``new.rows`` rows replaced by ``new`` (detached)."""
        if new.rows >= self.rows:
            return LstmState(new.hidden.detach(), new.memory.detach())
        return LstmState(torch.cat([new.hidden.detach(), self.hidden[:, :, new.rows:]], dim=2),
                         torch.cat([new.memory.detach(), self.memory[:, :, new.rows:]], dim=2))


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row of ``x`` ``(batch, time, ...)`` over its first ``lengths[b]`` steps.

    Padding positions stay where they are, so applying it twice gives ``x`` back.
    """
    time = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(time < lengths, lengths - 1 - time, time)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class BiLstmLayer(nn.Module):
    """One layer, forward and backward cells with projection, weights stacked by direction.

    ``input_weight`` ``(2, 4 * cell, input)``, ``state_weight`` ``(2, 4 * cell, proj)``,
    ``bias`` ``(2, 4 * cell)``, ``projection`` ``(2, proj, cell)``.
    """

    def __init__(self, input_dim: int, projection_dim: int, cell_dim: int,
                 cell_clip: Optional[float], proj_clip: Optional[float]) -> None:
        super().__init__()
        self.cell_dim = cell_dim
        self.projection_dim = projection_dim
        self.cell_clip = cell_clip
        self.proj_clip = proj_clip
        self.input_weight = nn.Parameter(torch.empty(2, 4 * cell_dim, input_dim))
        self.state_weight = nn.Parameter(torch.empty(2, 4 * cell_dim, projection_dim))
        self.bias = nn.Parameter(torch.zeros(2, 4 * cell_dim))
        self.projection = nn.Parameter(torch.empty(2, projection_dim, cell_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(cell), 1/sqrt(cell)) weights, forget-gate bias 1 (for training)."""
        bound = self.cell_dim ** -0.5
        for weight in (self.input_weight, self.state_weight, self.projection):
            nn.init.uniform_(weight, -bound, bound)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[:, self.cell_dim:2 * self.cell_dim] = 1.0

    def forward(self, inputs: torch.Tensor, batch_sizes: List[int], hidden: torch.Tensor,
                memory: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run both directions over a length-sorted batch.

        ``inputs`` ``(2, batch, time, input)`` (direction 1 already reversed within lengths),
        ``batch_sizes[t]`` rows are active at step ``t`` (non-increasing), ``hidden``
        ``(2, batch, proj)`` and ``memory`` ``(2, batch, cell)`` initial states. Returns outputs
        ``(2, batch, time, proj)`` (zeros at padding) and the final hidden and memory states,
        taken for each row after its last step.
        """
        cell = self.cell_dim
        # One GEMM for all timesteps' input projections, bias folded in: (2, batch, time, 4*cell).
        projected = torch.baddbmm(self.bias.unsqueeze(1), inputs.flatten(1, 2),
                                  self.input_weight.transpose(1, 2)).view(*inputs.shape[:3], 4 * cell)
        state_weight = self.state_weight.transpose(1, 2)
        projection = self.projection.transpose(1, 2)
        outputs = inputs.new_zeros(*inputs.shape[:3], self.projection_dim)
        finished_hidden, finished_memory = [], []
        for t, rows in enumerate(batch_sizes):
            if rows < hidden.size(1):  # rows past `rows` have ended: keep their final state
                finished_hidden.append(hidden[:, rows:])
                finished_memory.append(memory[:, rows:])
                hidden, memory = hidden[:, :rows], memory[:, :rows]
            gates = torch.baddbmm(projected[:, :rows, t], hidden, state_weight)
            input_gate, forget_gate, cell_input, output_gate = gates.chunk(4, dim=-1)
            memory = (torch.sigmoid(input_gate) * torch.tanh(cell_input)
                      + torch.sigmoid(forget_gate) * memory)
            if self.cell_clip:
                memory = memory.clamp(-self.cell_clip, self.cell_clip)
            hidden = torch.bmm(torch.sigmoid(output_gate) * torch.tanh(memory), projection)
            if self.proj_clip:
                hidden = hidden.clamp(-self.proj_clip, self.proj_clip)
            outputs[:, :rows, t] = hidden
        finished_hidden.append(hidden)
        finished_memory.append(memory)
        return (outputs, torch.cat(finished_hidden[::-1], dim=1),
                torch.cat(finished_memory[::-1], dim=1))


class ElmoLstm(nn.Module):
    """Stacked :class:`BiLstmLayer` with residual connections above the first layer.

    Stateful by default (as AllenNLP and bilm-tf): each batch row starts from the state the
    same row ended with in the previous batch. ``reset_states()`` forgets it;
    ``stateful=False`` starts every batch from zeros (deterministic). ``dropout`` (for
    training, as bilm-tf) drops each layer's input in ``train()`` mode; 0 by default.
    """

    def __init__(self, options: LSTMOptions, input_dim: int, stateful: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.options = options
        self.stateful = stateful
        self.dropout = dropout
        dims = [input_dim] + [options.projection_dim] * (options.n_layers - 1)
        self.layers = nn.ModuleList(
            BiLstmLayer(d, options.projection_dim, options.dim, options.cell_clip, options.proj_clip)
            for d in dims)
        self.state: Optional[LstmState] = None

    def reset_states(self) -> None:
        """Forget the carried state: the next batch starts from zeros."""
        self.state = None

    def _initial_state(self, batch_size: int, like: torch.Tensor) -> LstmState:
        n = len(self.layers)
        if self.stateful and self.state is not None:
            state = self.state.for_batch(batch_size)
            return LstmState(state.hidden.to(like), state.memory.to(like))
        return LstmState(like.new_zeros(n, 2, batch_size, self.options.projection_dim),
                         like.new_zeros(n, 2, batch_size, self.options.dim))

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``inputs`` ``(batch, time, input)``, ``mask`` ``(batch, time)`` (a prefix per row).

        Returns ``(num_layers, batch, time, 2 * projection_dim)``: forward and backward
        outputs concatenated, zeros at padding.
        """
        batch_size, time = mask.shape
        lengths = mask.long().sum(dim=1)
        sorted_lengths, order = lengths.sort(descending=True)
        restore = order.argsort()
        steps = torch.arange(int(sorted_lengths[0]), device=lengths.device)
        batch_sizes = (sorted_lengths.unsqueeze(0) > steps.unsqueeze(1)).sum(dim=1).tolist()
        x = inputs.index_select(0, order)
        x = torch.stack([x, reverse_within_lengths(x, sorted_lengths)])  # (2, batch, time, input)
        state = self._initial_state(batch_size, inputs)
        hidden = state.hidden.index_select(2, order)
        memory = state.memory.index_select(2, order)

        layer_outputs, final_hidden, final_memory = [], [], []
        for i, layer in enumerate(self.layers):
            if self.dropout and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            out, h, c = layer(x, batch_sizes, hidden[i], memory[i])
            if i > 0 and self.options.use_skip_connections:
                out = out + x
            layer_outputs.append(out)
            final_hidden.append(h)
            final_memory.append(c)
            x = out

        if self.stateful:
            new_state = LstmState(torch.stack(final_hidden).index_select(2, restore),
                                  torch.stack(final_memory).index_select(2, restore))
            self.state = self.state.merged_with(new_state) if self.state is not None else \
                LstmState(new_state.hidden.detach(), new_state.memory.detach())

        stacked = torch.stack(layer_outputs)  # (layers, 2, batch, time, proj)
        forward_out = stacked[:, 0]
        backward_out = torch.stack([reverse_within_lengths(o, sorted_lengths) for o in stacked[:, 1]])
        both = torch.cat([forward_out, backward_out], dim=-1).index_select(1, restore)
        return both
