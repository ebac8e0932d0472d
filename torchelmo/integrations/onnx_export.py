"""The biLM as an ONNX graph: any batch size, any length, the time loop inside the graph.

ONNX's ``LSTM`` operator has no projection or clipping, so the recurrence is built from
plain operators inside one ``Scan`` over the timesteps (:data:`OPSET`). The graph reads the
biLM's weights only (its ``state_dict`` and options), so it is the same computation as
:class:`~torchelmo.ElmoBiLm` with the state mode ``"zero"`` (or ``"warm"``, baked in):

* input ``char_ids``: int64 ``(batch, timesteps, 50)`` as :func:`~torchelmo.batch_to_ids`
  makes it (all-zero rows are padding, a prefix of each row holds the tokens);
* output ``layers``: float32 ``(num_layers, batch, timesteps, output_dim)`` without
  ``<S>``/``</S>``, zeros at padding; ``mask``: int64 ``(batch, timesteps)``;
* with ``state_io``: inputs ``initial_hidden`` ``(lstm layers, 2, batch, projection_dim)`` and
  ``initial_memory`` ``(lstm layers, 2, batch, cell_dim)`` (direction 0 forward, 1 backward,
  as :class:`~torchelmo.lstm.LstmState`), outputs ``final_hidden`` and ``final_memory``.

The character CNN (Gather, Conv, ReduceMax), highway and projection run once per distinct
token (Unique);
the LSTM steps all layers of both directions in one ``Scan``: the backward direction scans in
reverse, and a position past a sentence's end leaves the state as it is and outputs zeros, so
every sentence's backward pass starts at its own last token from its initial state.
"""
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..char_ids import BOS_CHAR_IDS, EOS_CHAR_IDS, MAX_WORD_LENGTH
from ..errors import ConfigurationError, OutputError, OutputExistsError
from ..files import PathLike, atomic_file
from ..options import ElmoOptions

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # reported by export_onnx, with the extra to install
    onnx = None

OPSET = 17
EXPORT_STATES = ("zero", "warm")


@dataclass
class OnnxExportSettings:
    """What the graph starts each sentence from: ``state`` ``"zero"`` or ``"warm"`` (the
    model's warm state, baked in), or, with ``state_io``, state inputs and outputs."""

    state: str = "zero"
    state_io: bool = False

    def __post_init__(self) -> None:
        if self.state not in EXPORT_STATES:
            hint = "; to carry state between batches, export with state_io" if self.state == "carry" else ""
            raise ConfigurationError(f"export state must be one of {EXPORT_STATES}, got {self.state!r}{hint}")
        if self.state_io and self.state != "zero":
            raise ConfigurationError("state inputs and outputs take the initial state as an input: they cannot "
                                     "be combined with the warm state (feed it as initial_hidden/initial_memory)")


class _GraphBuilder:
    """Nodes and initializers of one graph, with unique value names."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes: List["onnx.NodeProto"] = []
        self.initializers: List["onnx.TensorProto"] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str) -> str:
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.require(value, requirements="C"), name))  # keeps 0-d
        return name

    def ints(self, values: Sequence[int], hint: str = "ints") -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint)

    def op(self, op_type: str, inputs: Sequence[str], outputs: int = 1, out: Optional[str] = None,
           **attrs) -> Union[str, List[str]]:
        """Add a node; its outputs get fresh names (``out``: the single output's name)."""
        names = [out] if out else [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names


def _float(array) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def _clip_bounds(g: _GraphBuilder, bound: Optional[float]) -> Optional[Tuple[str, str]]:
    """Constants ``-bound`` and ``bound`` for a Clip (None without clipping)."""
    return (g.const(_float(-bound), "clip_min"), g.const(_float(bound), "clip_max")) if bound else None


def _clip(g: _GraphBuilder, x: str, bounds: Optional[Tuple[str, str]]) -> str:
    return g.op("Clip", [x, *bounds]) if bounds else x


def _token_layer(g: _GraphBuilder, weights: Dict[str, np.ndarray], options, char_ids: str,
                 batch_time: str) -> Tuple[str, str, str]:
    """Character CNN -> highway -> projection of each distinct token of the batch (padding
    included) and of ``<S>``, ``</S>``.

    Returns ``(tokens, bos, eos)``: ``(batch, timesteps, proj)``, ``(1, 1, proj)`` twice."""
    rows = g.op("Reshape", [char_ids, g.ints([-1, MAX_WORD_LENGTH])])
    specials = g.const(np.asarray([BOS_CHAR_IDS, EOS_CHAR_IDS], dtype=np.int64), "boundary_char_ids")
    rows = g.op("Concat", [specials, rows], axis=0)  # (2 + batch * timesteps, 50)
    distinct, _, inverse, _ = g.op("Unique", [rows], outputs=4, axis=0, sorted=0)  # each distinct token once
    embedded = g.op("Gather", [g.const(_float(weights["char_encoder.char_embedding.weight"]), "char_embedding"),
                               distinct])
    channels = g.op("Transpose", [embedded], perm=[0, 2, 1])  # (n, embedding_dim, 50)
    activation = "Relu" if options.char_cnn.activation == "relu" else "Tanh"
    features = []
    for i in range(len(options.char_cnn.filters)):
        prefix = f"char_encoder.convolutions.{i}"
        conv = g.op("Conv", [channels, g.const(_float(weights[f"{prefix}.weight"]), f"conv{i}_weight"),
                             g.const(_float(weights[f"{prefix}.bias"]), f"conv{i}_bias")])
        features.append(g.op(activation, [g.op("ReduceMax", [conv], axes=[2], keepdims=0)]))
    x = g.op("Concat", features, axis=1)  # (n, n_filters)
    one = g.const(_float(1.0), "one")
    for k in range(options.char_cnn.n_highway):
        prefix = f"char_encoder.highway.layers.{k}"
        both = g.op("Add", [g.op("MatMul", [x, g.const(_float(weights[f"{prefix}.weight"]).T, f"highway{k}_weight")]),
                            g.const(_float(weights[f"{prefix}.bias"]), f"highway{k}_bias")])
        transform, carry = g.op("Split", [both], outputs=2, axis=1)
        gate = g.op("Sigmoid", [carry])
        x = g.op("Add", [g.op("Mul", [gate, g.op("Relu", [transform])]),
                         g.op("Mul", [g.op("Sub", [one, gate]), x])])
    projected = g.op("Add", [
        g.op("MatMul", [x, g.const(_float(weights["char_encoder.projection.weight"]).T, "projection_weight")]),
        g.const(_float(weights["char_encoder.projection.bias"]), "projection_bias")])
    projected = g.op("Gather", [projected, inverse], axis=0)  # (2 + batch * timesteps, proj)
    dim = options.lstm.projection_dim
    bos = g.op("Reshape", [g.op("Slice", [projected, g.ints([0]), g.ints([1])]), g.ints([1, 1, dim])])
    eos = g.op("Reshape", [g.op("Slice", [projected, g.ints([1]), g.ints([2])]), g.ints([1, 1, dim])])
    tokens = g.op("Slice", [projected, g.ints([2]), g.ints([np.iinfo(np.int64).max])])
    shape = g.op("Concat", [batch_time, g.ints([dim])], axis=0)
    return g.op("Reshape", [tokens, shape]), bos, eos


def _cell_step(body: _GraphBuilder, weights: Dict, x: str, hidden: str, memory: str, mask: str
               ) -> Tuple[str, str, str]:
    """One LSTM step of one layer and direction for ``(batch, ...)`` rows; rows whose ``mask``
    ``(batch, 1)`` is false keep their state and output zeros. ``weights``: names of the outer
    graph's constants. Returns (hidden, memory, output)."""
    gates = body.op("Add", [body.op("MatMul", [body.op("Concat", [x, hidden], axis=1), weights["kernel"]]),
                            weights["bias"]])
    input_gate, forget_gate, cell_input, output_gate = body.op("Split", [gates], outputs=4, axis=1)
    new_memory = body.op("Add", [body.op("Mul", [body.op("Sigmoid", [input_gate]), body.op("Tanh", [cell_input])]),
                                 body.op("Mul", [body.op("Sigmoid", [forget_gate]), memory])])
    new_memory = _clip(body, new_memory, weights["cell_clip"])
    activated = body.op("Mul", [body.op("Sigmoid", [output_gate]), body.op("Tanh", [new_memory])])
    new_hidden = _clip(body, body.op("MatMul", [activated, weights["projection"]]), weights["proj_clip"])
    return (body.op("Where", [mask, new_hidden, hidden]), body.op("Where", [mask, new_memory, memory]),
            body.op("Where", [mask, new_hidden, weights["zero"]]))


def _lstm_scan(g: _GraphBuilder, weights: Dict[str, np.ndarray], options, inputs: str, mask: str,
               initial: List[Tuple[str, str]], zero: str) -> Tuple[List[List[str]], List[Tuple[str, str]]]:
    """Both directions of every layer in one Scan over ``inputs`` ``(time, batch, proj)`` with
    ``mask`` ``(time, batch, 1)``; ``initial[l * 2 + d]`` the (hidden, memory) of layer ``l``,
    direction ``d``. Returns outputs ``[layer][direction]`` ``(time, batch, proj)`` and the
    final states in the order of ``initial``."""
    lstm = options.lstm
    clips = {"cell_clip": _clip_bounds(g, lstm.cell_clip), "proj_clip": _clip_bounds(g, lstm.proj_clip), "zero": zero}
    layer_weights = []
    for layer in range(lstm.n_layers):
        prefix = f"lstm.layers.{layer}"
        per_direction = []
        for d in range(2):
            kernel = np.concatenate([_float(weights[f"{prefix}.input_weight"][d]).T,
                                     _float(weights[f"{prefix}.state_weight"][d]).T])  # (input + proj, 4 * cell)
            per_direction.append({
                "kernel": g.const(kernel, f"lstm{layer}_{d}_kernel"),
                "bias": g.const(_float(weights[f"{prefix}.bias"][d]), f"lstm{layer}_{d}_bias"),
                "projection": g.const(_float(weights[f"{prefix}.projection"][d]).T, f"lstm{layer}_{d}_projection"),
                **clips})
        layer_weights.append(per_direction)

    body = _GraphBuilder("scan_")
    proj, cell = lstm.projection_dim, lstm.dim
    state_inputs, state_outputs, scan_outputs = [], [], []
    states = []
    for layer in range(lstm.n_layers):
        for d in range(2):
            hidden, memory = f"scan_h{layer}_{d}", f"scan_c{layer}_{d}"
            state_inputs += [helper.make_tensor_value_info(hidden, TensorProto.FLOAT, ["batch", proj]),
                             helper.make_tensor_value_info(memory, TensorProto.FLOAT, ["batch", cell])]
            states.append((hidden, memory))
    step_inputs = ["scan_x_forward", "scan_x_backward"]
    step_masks = ["scan_mask_forward", "scan_mask_backward"]
    scan_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", proj]) for n in step_inputs] + \
        [helper.make_tensor_value_info(n, TensorProto.BOOL, ["batch", 1]) for n in step_masks]
    new_states: List[Tuple[str, str]] = [("", "")] * len(states)
    outputs_by_direction: List[List[str]] = [[], []]
    for d in range(2):
        x = step_inputs[d]
        for layer in range(lstm.n_layers):
            hidden, memory = states[layer * 2 + d]
            h, c, y = _cell_step(body, layer_weights[layer][d], x, hidden, memory, step_masks[d])
            if layer > 0 and lstm.use_skip_connections:
                y = body.op("Add", [y, x])
            new_states[layer * 2 + d] = (h, c)
            outputs_by_direction[d].append(y)
            x = y
    for h, c in new_states:
        state_outputs += [helper.make_tensor_value_info(h, TensorProto.FLOAT, ["batch", proj]),
                          helper.make_tensor_value_info(c, TensorProto.FLOAT, ["batch", cell])]
    for layer in range(lstm.n_layers):
        for d in range(2):
            y = outputs_by_direction[d][layer]
            scan_outputs.append(helper.make_tensor_value_info(y, TensorProto.FLOAT, ["batch", proj]))
    graph = helper.make_graph(body.nodes, "elmo_lstm_step", state_inputs + scan_inputs, state_outputs + scan_outputs)
    results = g.op("Scan", [name for pair in initial for name in pair] + [inputs, inputs, mask, mask],
                   outputs=len(state_outputs) + len(scan_outputs), body=graph, num_scan_inputs=4,
                   scan_input_directions=[0, 1, 0, 1], scan_output_directions=[0, 1] * lstm.n_layers)
    finals = [(results[2 * i], results[2 * i + 1]) for i in range(len(states))]
    sequences = results[2 * len(states):]
    return [[sequences[2 * layer], sequences[2 * layer + 1]] for layer in range(lstm.n_layers)], finals


def _initial_states(g: _GraphBuilder, options, batch: str, warm: Optional[Tuple[np.ndarray, np.ndarray]],
                    state_io: bool) -> List[Tuple[str, str]]:
    """(hidden, memory) ``(batch, dim)`` per layer and direction: zeros, the warm state, or
    the ``initial_hidden``/``initial_memory`` inputs."""
    lstm = options.lstm
    states = []
    for layer in range(lstm.n_layers):
        for d in range(2):
            pair = []
            for name, dim, index in (("initial_hidden", lstm.projection_dim, 0), ("initial_memory", lstm.dim, 1)):
                if state_io:
                    pair.append(g.op("Gather", [g.op("Gather", [name, g.ints(layer, "layer")], axis=0),
                                                g.ints(d, "direction")], axis=0))
                    continue
                start = np.zeros((1, dim), np.float32) if warm is None else _float(warm[index][layer, d])
                pair.append(g.op("Expand", [g.const(start, f"start_{name}"),
                                            g.op("Concat", [batch, g.ints([1])], axis=0)]))
            states.append(tuple(pair))
    return states


def _stack(g: _GraphBuilder, values: Sequence[str], out: Optional[str] = None) -> str:
    """``values`` of one shape stacked along a new first axis."""
    axes = g.ints([0], "axes")
    return g.op("Concat", [g.op("Unsqueeze", [v, axes]) for v in values], axis=0, out=out)


def build_onnx_model(options, weights: Dict[str, np.ndarray], settings: OnnxExportSettings,
                     warm: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> "onnx.ModelProto":
    """The graph of a biLM with these ``options`` (:class:`~torchelmo.ElmoOptions`) and
    ``weights`` (its ``state_dict`` as float arrays); ``warm`` the (hidden, memory) start state
    ``(lstm layers, 2, 1, dim)`` when ``settings.state`` is ``"warm"``."""
    g = _GraphBuilder("")
    lstm = options.lstm
    shape = g.op("Shape", ["char_ids"])
    batch = g.op("Slice", [shape, g.ints([0]), g.ints([1])])
    batch_time = g.op("Slice", [shape, g.ints([0]), g.ints([2])])
    token_mask = g.op("Greater", [g.op("ReduceMax", ["char_ids"], axes=[2], keepdims=0),
                                  g.ints(0, "zero_id")])  # (batch, timesteps)
    lengths = g.op("ReduceSum", [g.op("Cast", [token_mask], to=TensorProto.INT64), g.ints([1])], keepdims=0)
    tokens, bos, eos = _token_layer(g, weights, options, "char_ids", batch_time)

    # Time-major with <S> before and </S> after each sentence: (timesteps + 2, batch, proj).
    dim_shape = g.op("Concat", [g.ints([1]), batch, g.ints([lstm.projection_dim])], axis=0)
    padded = g.op("Concat", [g.op("Expand", [bos, dim_shape]), g.op("Transpose", [tokens], perm=[1, 0, 2]),
                             g.op("Expand", [g.const(np.zeros((1, 1, lstm.projection_dim), np.float32), "pad"),
                                             dim_shape])], axis=0)
    time = g.op("Gather", [g.op("Shape", [padded]), g.ints(0, "time_axis")], axis=0)
    positions = g.op("Unsqueeze", [g.op("Range", [g.ints(0, "start"), time, g.ints(1, "step")]), g.ints([1])])
    one, two = g.ints(1, "one"), g.ints(2, "two")
    is_end = g.op("Unsqueeze", [g.op("Equal", [positions, g.op("Add", [lengths, one])]), g.ints([2])])
    inputs = g.op("Where", [is_end, eos, padded])
    mask = g.op("Unsqueeze", [g.op("Less", [positions, g.op("Add", [lengths, two])]), g.ints([2])])

    warm_state = warm if settings.state == "warm" else None
    zero = g.const(_float(0.0), "zero")
    layers, finals = _lstm_scan(g, weights, options, inputs, mask,
                                _initial_states(g, options, batch, warm_state, settings.state_io), zero)
    stacked = [g.op("Concat", [inputs, inputs], axis=2)] + [g.op("Concat", pair, axis=2) for pair in layers]
    all_layers = g.op("Slice", [_stack(g, stacked), g.ints([1]), g.ints([-1]), g.ints([1])])  # drop <S>, </S>
    all_layers = g.op("Transpose", [all_layers], perm=[0, 2, 1, 3])  # (layers, batch, timesteps, dim)
    keep = g.op("Unsqueeze", [token_mask, g.ints([0, 3])])
    g.op("Where", [keep, all_layers, zero], out="layers")
    g.op("Cast", [token_mask], to=TensorProto.INT64, out="mask")

    n_layers, out_dim = lstm.n_layers + 1, 2 * lstm.projection_dim
    graph_inputs = [helper.make_tensor_value_info("char_ids", TensorProto.INT64, ["batch", "timesteps", 50])]
    graph_outputs = [helper.make_tensor_value_info("layers", TensorProto.FLOAT,
                                                   [n_layers, "batch", "timesteps", out_dim]),
                     helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "timesteps"])]
    if settings.state_io:
        for name, index, dim in (("hidden", 0, lstm.projection_dim), ("memory", 1, lstm.dim)):
            graph_inputs.append(helper.make_tensor_value_info(f"initial_{name}", TensorProto.FLOAT,
                                                              [lstm.n_layers, 2, "batch", dim]))
            per_layer = [_stack(g, [finals[layer * 2 + d][index] for d in range(2)]) for layer in range(lstm.n_layers)]
            _stack(g, per_layer, out=f"final_{name}")
            graph_outputs.append(helper.make_tensor_value_info(f"final_{name}", TensorProto.FLOAT,
                                                               [lstm.n_layers, 2, "batch", dim]))
    graph = helper.make_graph(g.nodes, "elmo_bilm", graph_inputs, graph_outputs, initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="torchelmo", doc_string=__doc__.split("\n\n")[0])
    onnx.checker.check_model(model, full_check=True)  # with strict shape inference
    return model


def _require_onnx() -> None:
    if onnx is None:
        raise ConfigurationError("ONNX export needs the onnx package; install it with pip install 'torchelmo[onnx]'")


def bilm_graph(bilm, settings: OnnxExportSettings) -> "onnx.ModelProto":
    """The ONNX graph of an :class:`~torchelmo.ElmoBiLm` (its weights as they are now)."""
    _require_onnx()
    if not isinstance(bilm.options, ElmoOptions):  # e.g. ELMoForManyLangs: another token encoder
        raise ConfigurationError("only AllenNLP/bilm-tf models (ELMo's character CNN token layer) can be exported "
                                 "to ONNX")
    weights = {name: value.detach().float().cpu().numpy() for name, value in bilm.state_dict().items()}
    warm = None
    if settings.state == "warm":
        state = bilm.warm_state()
        warm = (state.hidden.float().cpu().numpy(), state.memory.float().cpu().numpy())
    return build_onnx_model(bilm.options, weights, settings, warm)


def _check_output(output: str, inputs: Sequence[Optional[str]], overwrite: bool) -> None:
    if os.path.isdir(output):
        raise OutputError(f"{output}: is a directory, expected an .onnx file name", output)
    parent = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(parent):
        raise OutputError(f"{output}: the folder {parent} does not exist", output)
    if not os.path.lexists(output):
        return
    if any(path is not None and os.path.exists(path) and os.path.exists(output) and os.path.samefile(path, output)
           for path in inputs):
        raise OutputError(f"{output}: is one of the model's files; choose another output", output)
    if not overwrite:
        raise OutputExistsError(f"{output}: already exists", hint="overwrite")


def export_onnx(output_file: PathLike, options_file: Optional[PathLike] = None,
                weight_file: Optional[PathLike] = None, model: Optional[str] = None, state: str = "zero",
                state_io: bool = False, overwrite: bool = False, bilm=None) -> str:
    """Write the biLM as an ONNX graph (opset :data:`OPSET`) to ``output_file``; returns its path.

    The model is chosen as for :class:`~torchelmo.ElmoEmbedder` (``options_file`` and
    ``weight_file``, or a ``model`` name; the bundled model by default), or given as an
    :class:`~torchelmo.ElmoBiLm` (``bilm``). ``state``: every sentence starts from zeros
    (``"zero"``) or from the model's warm state (``"warm"``); ``state_io`` adds the initial
    state as inputs and the final state as outputs instead. The file is written atomically;
    an existing one is replaced only with ``overwrite``. Inputs and outputs: see
    :mod:`torchelmo.integrations.onnx_export`.
    """
    _require_onnx()
    settings = OnnxExportSettings(state, state_io)
    output = os.fspath(output_file)
    if bilm is None:
        from ..bilm import ElmoBiLm
        from ..hub import resolve_model

        files = resolve_model(options_file, weight_file, model)
        _check_output(output, [files.options_file, files.weight_file], overwrite)
        bilm = ElmoBiLm.from_model_files(files, state="zero")
    elif options_file is not None or weight_file is not None or model is not None:
        raise ConfigurationError("give either a bilm or model files/a model name, not both")
    else:
        _check_output(output, [bilm.weight_file], overwrite)
    data = bilm_graph(bilm, settings).SerializeToString()
    with atomic_file(output, "wb", needed_bytes=len(data)) as f:
        f.write(data)
    return output
