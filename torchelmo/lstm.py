"""ELMo's stacked bidirectional LSTM with cell clipping, projection and skip connections.

Both directions run in one loop. The backward direction sees every sentence reversed
*within its own length*, so at step ``t`` both directions work on the same rows: those of
the length-sorted batch whose sentence is longer than ``t``. Padding is never computed.
The input projections of many timesteps are computed together in one GEMM per direction;
per step there remain the recurrent GEMM (``(rows, proj) x (proj, 4 * cell)``), the cell
update and the output projection. Without autograd these run through oneDNN
(:mod:`torchelmo.gemm`) with the cell update in place; with autograd, through batched torch
ops. :meth:`ElmoLstm.forward_streams` runs consecutive stateful batches row by row as
streams (see :meth:`torchelmo.bilm.ElmoBiLm.embed_batches`).

Gate order inside the weights is PyTorch's (input, forget, cell, output); ``weights.py``
converts from TensorFlow's (input, cell, forget, output) and folds in the forget bias.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .gemm import InferenceLinear, check_inference_support, check_precision
from .options import LSTMOptions

# Input projections are precomputed for as many timesteps as fit in this many floats (32 MB;
# a buffer per direction stays under glibc's 32 MB limit for reusing freed heap memory),
PROJECTION_CHUNK_ELEMENTS = 8 * 2 ** 20
# and for a table of distinct tokens (TokenTable) when its projections fit in this many (256 MB).
TABLE_PROJECTION_ELEMENTS = 64 * 2 ** 20


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


@dataclass
class TokenTable:
    """A layer input given as distinct vectors: slot ``(direction, row, t)`` holds
    ``vectors[index[direction, row, t]]``. ``vectors`` ``(n, input)``, ``index``
    ``(2, rows, time)``. Lets the first layer project each distinct token once."""

    vectors: torch.Tensor
    index: torch.Tensor


def segment_reversal(segments: Sequence[Sequence[int]], time: int) -> torch.Tensor:
    """A ``(rows, time)`` gather index that mirrors every segment of every row.

    Row ``r`` holds segments of lengths ``segments[r]`` back to back from slot 0; slot ``t`` of
    a segment ``[s, e)`` maps to ``s + e - 1 - t``, slots past the last segment to themselves.
    Applying it twice is the identity.
    """
    index = torch.arange(time).repeat(len(segments), 1)
    for row, lengths in enumerate(segments):
        start = 0
        for n in lengths:
            index[row, start:start + n] = torch.arange(start + n - 1, start - 1, -1)
            start += n
    return index


def reverse_segments(x: torch.Tensor, reversal: torch.Tensor) -> torch.Tensor:
    """``x`` ``(rows, time, ...)`` with each segment mirrored by ``reversal`` ``(rows, time)``."""
    index = reversal.view(*reversal.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def sigmoid_tanh(x: torch.Tensor) -> torch.Tensor:
    """``tanh(x)`` as ``2 * sigmoid(2x) - 1``, a new tensor: within 3e-7 of ``torch.tanh`` and
    several times faster on CPUs where torch's vectorized tanh is slow (as on this project's)."""
    return torch.mul(x, 2.0).sigmoid_().mul_(2.0).sub_(1.0)


def lstm_cell(gates: torch.Tensor, memory: torch.Tensor, cell_clip: Optional[float],
              inplace: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """The LSTM cell update after the gate GEMMs.

    ``gates`` ``(..., 4 * cell)`` pre-activations in the order (input, forget, cell, output),
    ``memory`` ``(..., cell)``. Returns the new memory and ``output_gate * tanh(memory)``
    (the projection's input). ``inplace`` overwrites ``gates`` and ``memory`` (inference),
    taking every gate's activation in one ``sigmoid_`` (``tanh`` as in :func:`sigmoid_tanh`).
    """
    cell = memory.size(-1)
    if inplace:
        cell_input = gates[..., 2 * cell:3 * cell].mul_(2.0)
        gates.sigmoid_()
        cell_input.mul_(2.0).sub_(1.0)
        input_gate, forget_gate, cell_input, output_gate = gates.chunk(4, dim=-1)
        memory = memory.mul_(forget_gate).addcmul_(input_gate, cell_input)
        if cell_clip:
            memory.clamp_(-cell_clip, cell_clip)
        return memory, output_gate.mul_(sigmoid_tanh(memory))
    input_gate, forget_gate, cell_input, output_gate = gates.chunk(4, dim=-1)
    memory = torch.sigmoid(input_gate) * torch.tanh(cell_input) + torch.sigmoid(forget_gate) * memory
    if cell_clip:
        memory = memory.clamp(-cell_clip, cell_clip)
    return memory, torch.sigmoid(output_gate) * torch.tanh(memory)


class _TrainingRecurrence:
    """Both directions batched with torch ops (autograd-safe): ``(2, ...)`` tensors."""

    def __init__(self, layer: "BiLstmLayer") -> None:
        self.layer = layer
        self.state_weight = layer.state_weight.transpose(1, 2)
        self.projection = layer.projection.transpose(1, 2)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(2, ..., input)`` -> ``(2, ..., 4 * cell)``, bias added."""
        layer = self.layer
        out = torch.baddbmm(layer.bias.unsqueeze(1), x.flatten(1, -2), layer.input_weight.transpose(1, 2))
        return out.view(*x.shape[:-1], -1)

    @staticmethod
    def select(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Rows ``index`` ``(2, ...)`` of a projected ``table`` ``(2, n, 4 * cell)``."""
        return torch.stack(_InferenceRecurrence.select(table, index))

    def step(self, projected: Sequence[torch.Tensor], i: int, hidden: torch.Tensor,
             memory: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One timestep for the ``rows = hidden.size(1)`` active rows: new hidden and memory.

        ``projected[i]`` is step ``i``'s ``(2, rows, 4 * cell)`` input projection: a separate
        tensor per step (not a slice of one big tensor), so that the backward pass does not
        zero-fill the whole projection once per step.
        """
        gates = torch.baddbmm(projected[i][:, :hidden.size(1)], hidden, self.state_weight)
        # Under autocast the products come out in bfloat16; the state keeps its own dtype.
        memory, activated = lstm_cell(gates.to(memory.dtype), memory, self.layer.cell_clip)
        hidden = torch.bmm(activated, self.projection).to(memory.dtype)
        if self.layer.proj_clip:
            hidden = hidden.clamp(-self.layer.proj_clip, self.layer.proj_clip)
        return hidden, memory


class _InferenceRecurrence:
    """Per-direction :class:`~torchelmo.gemm.InferenceLinear` products, state updated in place."""

    def __init__(self, layer: "BiLstmLayer", kernels: List[Tuple[InferenceLinear, ...]]) -> None:
        self.layer = layer
        self.kernels = kernels  # per direction: (input, state, projection)

    def project(self, x: torch.Tensor) -> List[torch.Tensor]:
        """``x`` ``(2, ..., input)`` -> per direction ``(..., 4 * cell)``, bias added."""
        return [k[0](x[d].reshape(-1, x.size(-1))).view(*x.shape[1:-1], -1) for d, k in enumerate(self.kernels)]

    @staticmethod
    def select(table: List[torch.Tensor], index: torch.Tensor) -> List[torch.Tensor]:
        """Rows ``index`` ``(2, ...)`` of per-direction projected tables ``(n, 4 * cell)``."""
        return [t.index_select(0, i.flatten()).view(*i.shape, -1) for t, i in zip(table, index)]

    def step(self, projected: List[torch.Tensor], i: int, hidden: torch.Tensor,
             memory: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """As :meth:`_TrainingRecurrence.step`, writing into ``hidden`` and ``memory``."""
        layer, rows = self.layer, hidden.size(1)
        for d, (_, state_kernel, projection_kernel) in enumerate(self.kernels):
            gates = state_kernel(hidden[d], add=projected[d][i, :rows])
            if layer.compiled_cell is None:
                _, activated = lstm_cell(gates, memory[d], layer.cell_clip, inplace=True)
            else:
                memory[d], activated = layer.compiled_cell(gates, memory[d], layer.cell_clip)
            out = projection_kernel(activated)
            hidden[d] = out.clamp_(-layer.proj_clip, layer.proj_clip) if layer.proj_clip else out
        return hidden, memory


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
        self.precision = "fp32"
        self._converted: Optional[List[Tuple[InferenceLinear, ...]]] = None
        self._checked_device: Optional[torch.device] = None  # where precision and compile were checked
        self.compiled_cell: Optional[Callable] = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(cell), 1/sqrt(cell)) weights, forget-gate bias 1 (for training)."""
        bound = self.cell_dim ** -0.5
        for weight in (self.input_weight, self.state_weight, self.projection):
            nn.init.uniform_(weight, -bound, bound)
        with torch.no_grad():
            self.bias.zero_()
            self.bias[:, self.cell_dim:2 * self.cell_dim] = 1.0

    def configure_inference(self, precision: str = "fp32", compile: bool = False) -> None:
        """Inference matrix products in ``"fp32"`` (default), ``"bf16"`` or ``"int8"``, and
        the cell update through ``torch.compile`` (fused by inductor) or eagerly in place.

        Whether the device can run them is checked on the next inference call, on the device
        the weights are on then (raising HardwareError), so that a layer configured on the CPU
        and then moved (``.cuda()``) is checked, and its bf16/int8 copies of the weights made,
        on the GPU. Call this again after changing the weights.
        """
        self.precision = check_precision(precision)
        self._converted, self._checked_device = None, None
        self.compiled_cell = torch.compile(lstm_cell, dynamic=True) if compile else None

    def _inference_kernels(self) -> List[Tuple[InferenceLinear, ...]]:
        """Per direction: (input + bias, state, projection) products, for the device the
        weights are on now (made again after a move to another device)."""
        device = self.input_weight.device
        if self._checked_device != device:
            check_inference_support(self.precision, self.compiled_cell is not None, device)
            self._converted, self._checked_device = None, device
        if self._converted is not None:
            return self._converted
        kernels = [(InferenceLinear(self.input_weight[d], self.bias[d], self.precision),
                    InferenceLinear(self.state_weight[d], None, self.precision),
                    InferenceLinear(self.projection[d], None, self.precision)) for d in range(2)]
        if self.precision != "fp32":  # fp32 kernels only reference the parameters
            self._converted = kernels
        return kernels

    def forward(self, inputs: Union[torch.Tensor, TokenTable], batch_sizes: List[int], hidden: torch.Tensor,
                memory: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run both directions over a length-sorted batch.

        ``inputs`` ``(2, batch, time, input)`` (direction 1 already reversed within lengths)
        or a :class:`TokenTable` of them, ``batch_sizes[t]`` rows are active at step ``t``
        (non-increasing), ``hidden`` ``(2, batch, proj)`` and ``memory`` ``(2, batch, cell)``
        initial states. Returns outputs ``(2, batch, time, proj)`` (zeros at padding) and the
        final hidden and memory states, taken for each row after its last step.

        Without autograd the products run through :class:`~torchelmo.gemm.InferenceLinear`
        (oneDNN on the CPU) and the cell update works in place. Input projections are computed
        a chunk of timesteps at a time, in one GEMM per direction (for a table, once per row
        of the table).
        """
        training = torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters())
        step_outputs: List[torch.Tensor] = []
        if training:
            recurrence = _TrainingRecurrence(self)
        else:
            recurrence = _InferenceRecurrence(self, self._inference_kernels())
            hidden, memory = hidden.clone(), memory.clone()
        if isinstance(inputs, TokenTable):
            table = recurrence.project(inputs.vectors.expand(2, *inputs.vectors.shape))
            batch, time = inputs.index.shape[1:]
        else:
            batch, time = inputs.shape[1:3]
        outputs = hidden.new_zeros(2, batch, time, self.projection_dim)
        finished_hidden, finished_memory = [], []
        chunk = max(1, PROJECTION_CHUNK_ELEMENTS // (2 * 4 * self.cell_dim * max(1, batch_sizes[0])))
        for start in range(0, len(batch_sizes), chunk):
            steps = batch_sizes[start:start + chunk]
            window = (slice(None), slice(0, steps[0]), slice(start, start + len(steps)))
            if isinstance(inputs, TokenTable):
                projected = recurrence.select(table, inputs.index[window].transpose(1, 2))
            else:
                projected = recurrence.project(inputs[window].transpose(1, 2))  # (2, steps, rows, 4 * cell)
            if training:
                projected = projected.unbind(1)
            for i, rows in enumerate(steps):
                if rows < hidden.size(1):  # rows past `rows` have ended: keep their final state
                    finished_hidden.append(hidden[:, rows:])
                    finished_memory.append(memory[:, rows:])
                    hidden, memory = hidden[:, :rows], memory[:, :rows]
                hidden, memory = recurrence.step(projected, i, hidden, memory)
                if training:
                    step_outputs.append(nn.functional.pad(hidden, (0, 0, 0, batch - rows)))
                else:
                    outputs[:, :rows, start + i] = hidden
        if training and step_outputs:
            # Stacked once at the end: in-place writes into `outputs` would make autograd copy
            # the whole output gradient once per step.
            outputs = nn.functional.pad(torch.stack(step_outputs, dim=2), (0, 0, 0, time - len(step_outputs)))
        finished_hidden.append(hidden)
        finished_memory.append(memory)
        return (outputs, torch.cat(finished_hidden[::-1], dim=1),
                torch.cat(finished_memory[::-1], dim=1))


class ElmoLstm(nn.Module):
    """Stacked :class:`BiLstmLayer` with residual connections above the first layer.

    Holds no state between calls: each call starts from the ``initial`` state it is given
    (zeros by default) and returns the final one; :class:`~torchelmo.bilm.ElmoBiLm` decides
    what the next batch starts from (its state modes). ``dropout`` (for training, as bilm-tf)
    drops each layer's input in ``train()`` mode; 0 by default.
    """

    def __init__(self, options: LSTMOptions, input_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.options = options
        self.dropout = dropout
        dims = [input_dim] + [options.projection_dim] * (options.n_layers - 1)
        self.layers = nn.ModuleList(
            BiLstmLayer(d, options.projection_dim, options.dim, options.cell_clip, options.proj_clip)
            for d in dims)

    def zero_state(self, rows: int, like: torch.Tensor) -> LstmState:
        """All-zero state for ``rows`` rows, with the dtype and device of ``like``."""
        n = len(self.layers)
        return LstmState(like.new_zeros(n, 2, rows, self.options.projection_dim),
                         like.new_zeros(n, 2, rows, self.options.dim))

    @staticmethod
    def state_dtype(inputs: torch.Tensor) -> torch.dtype:
        """The dtype of the recurrent state (hidden and memory) for ``inputs``: at least float32
        under autocast, whose bfloat16/float16 products would otherwise round the state at
        every timestep; the inputs' dtype otherwise."""
        if torch.is_autocast_enabled(inputs.device.type):
            return torch.promote_types(inputs.dtype, torch.float32)
        return inputs.dtype

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor,
                initial: Optional[LstmState] = None) -> Tuple[torch.Tensor, LstmState]:
        """``inputs`` ``(batch, time, input)``, ``mask`` ``(batch, time)`` (a prefix per row),
        ``initial`` state of ``batch`` rows (zeros when None).

        Returns ``(num_layers, batch, time, 2 * projection_dim)`` (forward and backward
        outputs concatenated, zeros at padding) and the final state.
        """
        return self.forward_streams(inputs, [[n] for n in mask.long().sum(dim=1).tolist()], initial=initial)

    def forward_streams(self, inputs: torch.Tensor, segments: Sequence[Sequence[int]],
                        index: Optional[torch.Tensor] = None, initial: Optional[LstmState] = None
                        ) -> Tuple[torch.Tensor, LstmState]:
        """Several consecutive batches at once, each batch row run as one stream.

        Row ``r`` of ``inputs`` ``(rows, time, input)`` holds, back to back from slot 0, the
        sentences that row ``r`` of consecutive batches holds, of lengths ``segments[r]``
        (a batch smaller than ``rows`` has no sentence in its missing rows). The result equals
        calling :meth:`forward` batch after batch, passing each row's final state to the same
        row of the next batch; but no row waits for its batch's longest sentence.
        The backward direction reads each sentence from its end. With ``index``
        ``(rows, time)``, ``inputs`` ``(n, input)`` are distinct vectors and slot ``(r, t)``
        holds ``inputs[index[r, t]]``: the first layer then projects each of them once.
        ``initial``: the state of ``rows`` rows the streams start from (zeros when None).
        Returns ``(num_layers, rows, time, 2 * projection_dim)``, zeros past each row's end,
        and the state each row ends with.
        """
        rows = len(segments)
        time = inputs.size(1) if index is None else index.size(1)
        lengths = torch.tensor([sum(s) for s in segments], dtype=torch.long)
        sorted_lengths, order = lengths.sort(descending=True)
        steps = torch.arange(int(sorted_lengths[0]) if rows else 0)
        batch_sizes = (sorted_lengths.unsqueeze(0) > steps.unsqueeze(1)).sum(dim=1).tolist()
        reversal = segment_reversal([segments[r] for r in order.tolist()], time).to(inputs.device)
        order = order.to(inputs.device)
        restore = order.argsort()
        if index is not None and (self.dropout and self.training or
                                  2 * 4 * self.options.dim * inputs.size(0) > TABLE_PROJECTION_ELEMENTS):
            inputs, index = inputs[index], None  # per-slot vectors after all
        if index is None:
            x = inputs.index_select(0, order)
            x = torch.stack([x, reverse_segments(x, reversal)])  # (2, rows, time, input)
        else:
            sorted_index = index.index_select(0, order)
            x = TokenTable(inputs, torch.stack([sorted_index, sorted_index.gather(1, reversal)]))
        like = inputs.new_empty(0, dtype=self.state_dtype(inputs))
        state = initial if initial is not None else self.zero_state(rows, like)
        hidden = state.hidden.to(like).index_select(2, order)
        memory = state.memory.to(like).index_select(2, order)

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

        final = LstmState(torch.stack(final_hidden).index_select(2, restore),
                          torch.stack(final_memory).index_select(2, restore))
        stacked = torch.stack(layer_outputs)  # (layers, 2, rows, time, proj)
        backward_out = torch.stack([reverse_segments(o, reversal) for o in stacked[:, 1]])
        return torch.cat([stacked[:, 0], backward_out], dim=-1).index_select(1, restore), final
