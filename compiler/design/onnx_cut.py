"""Cut an ONNX model in two: find the valid cut points, score them, build both halves.

A *cut* splits the nodes of the graph into a first half ``S`` and a second half ``T`` such that
``S`` is closed under producers (every node that feeds a node of ``S`` is in ``S``): then half 1
runs alone on the model's inputs, and half 2 needs only the *boundary* — the tensors made by
``S`` (or model inputs) that ``T`` reads or that are model outputs. The two halves talk through
that single set of tensors, whatever the graph looks like (branches, skip connections, several
inputs and outputs, any opset).

Which closed sets are tried (their number is exponential in general):

* every prefix of one deterministic topological order (the model's node order when it is one);
* for every node ``n``, its ancestors with ``n`` ("cut right after ``n``, as little as possible
  before it");
* for every node ``n``, everything that does not descend from ``n`` ("cut right after ``n``,
  with every side branch that does not need ``n`` — e.g. the SSD heads of earlier scales —
  already computed").

Constants (``Constant`` nodes without inputs) and initializers are never cut: each half gets the
ones it reads (duplicated when both read them). Integer-valued nodes at the edge of ``S`` whose
results only ``T`` reads (``Shape -> Gather -> Unsqueeze -> Concat`` feeding a ``Reshape``) move to
``T`` when their inputs already cross: half 2 recomputes them instead of receiving them. The sets
left with at most ``max_boundary_tensors`` boundary tensors and real work (FLOPs) on both sides
are the *valid cuts*.

Scoring: boundary size in bytes (element count × element size, from shape inference; dimensions
inference leaves open are measured by one ONNX Runtime run on zeros at batch 1) and the share of
the model's FLOPs (estimated per node from the shapes) computed by half 1.

Choosing (``choose``): a cut is *balanced* when each half does at least ``min_share`` (10 %) of
the FLOPs — a cut that leaves almost all the work on one side gains nothing from a second
machine and only adds a network hop. Among the valid cuts keep the Pareto front of (boundary
bytes, half-1 FLOPs), both minimised: less to send and less to compute on the first (edge)
device. Balanced cuts come first, then by boundary bytes, then by half-1 share, then by
position; the first ``num_partitions`` are the chosen ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compiler import __version__

PRODUCER = "aisprint-gitops"
METADATA_KEY = "aisprint.partition"
DEFAULT_MAX_BOUNDARY = 8
DEFAULT_MIN_SHARE = 0.10

_ELEMENTWISE = frozenset({
    "Abs", "Add", "And", "Ceil", "Clip", "Cos", "Div", "Elu", "Equal", "Erf", "Exp", "Floor",
    "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "LeakyRelu", "Less", "LessOrEqual",
    "Log", "Max", "Mean", "Min", "Mod", "Mul", "Neg", "Not", "Or", "PRelu", "Pow", "Reciprocal",
    "Relu", "Round", "Selu", "Sigmoid", "Sign", "Sin", "Softplus", "Softsign", "Sqrt", "Sub",
    "Sum", "Tan", "Tanh", "ThresholdedRelu", "Where", "Xor", "Celu", "Gelu", "Mish", "Dropout",
})
_NORMALISE = frozenset({"BatchNormalization", "InstanceNormalization", "LayerNormalization",
                        "GroupNormalization", "LpNormalization", "Softmax", "LogSoftmax",
                        "Hardmax", "LRN"})
_REDUCE = frozenset({"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "ReduceMean",
                     "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                     "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin",
                     "CumSum", "TopK"})
_MOVE = frozenset({"Reshape", "Transpose", "Concat", "Split", "Slice", "Gather", "GatherND",
                   "GatherElements", "Squeeze", "Unsqueeze", "Flatten", "Shape", "Size",
                   "Identity", "Cast", "Expand", "Tile", "Pad", "Constant", "ConstantOfShape",
                   "Range", "NonZero", "ScatterND", "ScatterElements", "DepthToSpace",
                   "SpaceToDepth", "Resize", "Upsample", "CastLike", "Trilu", "EyeLike"})
_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 9, 12, 13})  # uint8..int64, bool, uint32/64


class PartitionError(Exception):
    """Why a model cannot be partitioned: ``kind`` is missing | invalid | no-cut."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Tensor:
    name: str
    elem_type: int  # onnx.TensorProto data type (0 = unknown)
    shape: tuple[int, ...] | None  # concrete (batch 1) shape, None when unknown
    nbytes: int


@dataclass(frozen=True)
class Cut:
    """One valid cut: the nodes of half 1 (indices in the model's node list) and the boundary."""

    nodes: tuple[int, ...]
    boundary: tuple[str, ...]  # tensor names, in a stable order
    boundary_bytes: int
    flops_first: float
    flops_total: float
    after: str  # the last node of half 1 in model order, for people

    @property
    def share(self) -> float:
        """Fraction of the model's FLOPs computed by half 1."""
        return self.flops_first / self.flops_total if self.flops_total else 0.0

    def balanced(self, min_share: float = DEFAULT_MIN_SHARE) -> bool:
        return min_share <= self.share <= 1.0 - min_share

    @property
    def boundary_mb(self) -> float:
        return self.boundary_bytes / 1e6


@dataclass(frozen=True)
class Analysis:
    """Every valid cut of one model, with what is needed to score and extract them."""

    candidates: int  # distinct closed sets examined
    cuts: tuple[Cut, ...]  # the valid ones, in a stable order
    input_bytes: int  # size of the model's (non-weight) inputs at batch 1
    flops_total: float
    tensors: dict[str, Tensor]


# ----------------------------------------------------------------------------- graph


def _subgraph_reads(node) -> set[str]:
    """Names a node's subgraphs (If/Loop/Scan bodies) read from the enclosing scope."""
    import onnx

    reads: set[str] = set()
    for attr in node.attribute:
        graphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else \
            list(attr.graphs) if attr.type == onnx.AttributeProto.GRAPHS else []
        for graph in graphs:
            defined = {i.name for i in graph.input} | {i.name for i in graph.initializer} | \
                {i.name for i in graph.sparse_initializer}
            for inner in graph.node:
                for name in list(inner.input) + sorted(_subgraph_reads(inner)):
                    if name and name not in defined:
                        reads.add(name)
                defined.update(inner.output)
    return reads


def _node_reads(node) -> list[str]:
    reads = [n for n in node.input if n]
    extra = _subgraph_reads(node)
    return reads + sorted(extra - set(reads))


def _is_free(node) -> bool:
    """A node each half may recompute: a Constant with no inputs."""
    return node.op_type == "Constant" and node.domain in ("", "ai.onnx") and not node.input


class Graph:
    """Index of a model's graph: producers, consumers, a topological order, bit sets."""

    def __init__(self, model):
        graph = model.graph
        self.model = model
        self.nodes = list(graph.node)
        self.initializers = {i.name for i in graph.initializer} | \
            {i.name for i in graph.sparse_initializer}
        self.inputs = [i.name for i in graph.input if i.name not in self.initializers]
        self.outputs = [o.name for o in graph.output]
        self.free = [i for i, n in enumerate(self.nodes) if _is_free(n)]
        free = set(self.free)
        self.static = set(self.initializers) | {o for i in free for o in self.nodes[i].output}
        self.reads = [_node_reads(n) for n in self.nodes]
        self.producer: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if i not in free:
                for name in node.output:
                    if name:
                        self.producer[name] = i
        self.consumers: dict[str, int] = {}  # tensor -> bit set of consumer nodes
        for i, names in enumerate(self.reads):
            if i in free:
                continue
            for name in names:
                if name not in self.static:
                    self.consumers[name] = self.consumers.get(name, 0) | (1 << i)
        missing = sorted({n for i, names in enumerate(self.reads) if i not in free
                          for n in names if n not in self.static and n not in self.producer
                          and n not in self.inputs})
        if missing:
            raise PartitionError("invalid", f"tensors read but never produced: {missing[:5]}")
        self.order = self._topological_order(free)
        self.work = [i for i in range(len(self.nodes)) if i not in free]
        self.all = 0
        for i in self.work:
            self.all |= 1 << i

    def _topological_order(self, free: set[int]) -> list[int]:
        """Kahn's algorithm, ties broken by position in the model (its order when valid)."""
        import heapq

        preds = {i: {self.producer[n] for n in self.reads[i] if n in self.producer}
                 for i in range(len(self.nodes)) if i not in free}
        succs: dict[int, list[int]] = {i: [] for i in preds}
        for i, ps in preds.items():
            for p in ps:
                succs[p].append(i)
        indegree = {i: len(ps) for i, ps in preds.items()}
        ready = [i for i, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for s in succs[i]:
                indegree[s] -= 1
                if indegree[s] == 0:
                    heapq.heappush(ready, s)
        if len(order) != len(preds):
            raise PartitionError("invalid", "the graph has a cycle")
        self.preds, self.succs = preds, succs
        return order

    def ancestors(self) -> dict[int, int]:
        anc: dict[int, int] = {}
        for i in self.order:
            bits = 1 << i
            for p in self.preds[i]:
                bits |= anc[p]
            anc[i] = bits
        return anc

    def descendants(self) -> dict[int, int]:
        desc: dict[int, int] = {}
        for i in reversed(self.order):
            bits = 1 << i
            for s in self.succs[i]:
                bits |= desc[s]
            desc[i] = bits
        return desc


# ----------------------------------------------------------------------------- shapes, FLOPs


def _static_input_feeds(model) -> dict[str, np.ndarray]:
    """Zeros for every model input, symbolic dimensions set to 1."""
    from onnx import helper

    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                 for d in t.shape.dim]
        feeds[vi.name] = np.zeros(shape, dtype=helper.tensor_dtype_to_np_dtype(t.elem_type))
    return feeds


def _measure(model, names: list[str]) -> dict[str, np.ndarray]:
    """Run the model once on zeros with ``names`` as extra outputs (ONNX Runtime)."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for name in names:
        if name not in known:
            probe.graph.output.append(onnx.ValueInfoProto(name=name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(probe.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    values = session.run(names, _static_input_feeds(model))
    return dict(zip(names, values, strict=True))


def tensor_infos(model, inferred) -> dict[str, Tensor]:
    """Type, batch-1 shape and size of every tensor a cut may carry."""
    from onnx import helper

    by_name = {vi.name: vi for vi in list(inferred.graph.value_info) +
               list(inferred.graph.input) + list(inferred.graph.output)}
    weights = {i.name for i in model.graph.initializer}
    names = [vi.name for vi in model.graph.input if vi.name not in weights] + \
        [o for n in model.graph.node for o in n.output if o]
    infos: dict[str, Tensor] = {}
    open_: list[str] = []
    for name in names:
        vi = by_name.get(name)
        t = vi.type.tensor_type if vi is not None and vi.type.HasField("tensor_type") else None
        shape = None
        if t is not None and t.HasField("shape") and \
                all(d.HasField("dim_value") for d in t.shape.dim):
            shape = tuple(int(d.dim_value) for d in t.shape.dim)
        elem = t.elem_type if t is not None else 0
        if shape is None or not elem:
            open_.append(name)
        infos[name] = Tensor(name, elem, shape, 0)
    if open_:
        measured = _measure(model, open_)
        for name, value in measured.items():
            old = infos[name]
            elem = old.elem_type or helper.np_dtype_to_tensor_dtype(value.dtype)
            infos[name] = Tensor(name, elem, tuple(value.shape), 0)
    out = {}
    for name, t in infos.items():
        size = 0
        if t.shape is not None and t.elem_type:
            try:
                item = np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type)).itemsize
            except (KeyError, TypeError, ValueError):
                item = 8
            size = int(np.prod(t.shape, dtype=np.int64)) * item
        out[name] = Tensor(name, t.elem_type, t.shape, size)
    return out


def _elements(t: Tensor | None) -> int:
    return int(np.prod(t.shape, dtype=np.int64)) if t is not None and t.shape is not None else 0


def node_flops(node, tensors: dict[str, Tensor], weights: dict[str, tuple[int, ...]]) -> float:
    """An estimate of the floating-point operations of one node (multiply-add = 2)."""
    op = node.op_type
    outs = [tensors.get(o) for o in node.output if o]
    out = _elements(outs[0]) if outs else 0

    def shape_of(name: str) -> tuple[int, ...] | None:
        if name in weights:
            return weights[name]
        t = tensors.get(name)
        return t.shape if t is not None else None

    if op in ("Conv", "ConvInteger", "QLinearConv"):
        w = shape_of(node.input[1 if op != "QLinearConv" else 3])
        per = 2 * int(np.prod(w[1:])) if w else 2
        return float(out * per)
    if op == "ConvTranspose":
        w, x = shape_of(node.input[1]), shape_of(node.input[0])
        n_in = int(np.prod(x)) if x else 0
        return float(n_in * 2 * int(np.prod(w[1:]))) if w else float(out)
    if op in ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
        a = shape_of(node.input[0])
        if not a:
            return float(out)
        trans = any(at.name == "transA" and at.i for at in node.attribute)
        k = a[0] if (op == "Gemm" and trans and len(a) == 2) else a[-1]
        return float(2 * out * k)
    if op in ("MaxPool", "AveragePool", "LpPool"):
        kernel = next((list(at.ints) for at in node.attribute if at.name == "kernel_shape"), [1])
        return float(out * int(np.prod(kernel)))
    if op in _REDUCE:
        return float(_elements(tensors.get(node.input[0])) if node.input else out)
    if op in _NORMALISE:
        return float(3 * out)
    if op in _ELEMENTWISE:
        return float(out)
    if op in _MOVE:
        return 0.0
    return float(out)


# ----------------------------------------------------------------------------- analysis


def load_model(path: str | Path):
    import onnx

    path = Path(path)
    if not path.is_file():
        raise PartitionError("missing", f"{path} does not exist")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf raises several kinds
        raise PartitionError("invalid", f"{path} is not an ONNX model ({exc})") from exc
    if not model.graph.node:
        raise PartitionError("invalid", f"{path} has no graph nodes (not an ONNX model?)")
    return model


def analyse(model, *, max_boundary_tensors: int = DEFAULT_MAX_BOUNDARY,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Every valid cut of ``model`` (see the module's docstring), scored."""
    import onnx
    from onnx import numpy_helper, shape_inference

    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:  # noqa: BLE001 - onnx raises InferenceError and others
        raise PartitionError("invalid", f"shape inference fails: {exc}") from exc
    graph = Graph(model)
    tensors = tensor_infos(model, inferred)
    weights = {i.name: tuple(i.dims) for i in model.graph.initializer}
    for i in graph.free:
        attr = graph.nodes[i].attribute
        if attr and attr[0].type == onnx.AttributeProto.TENSOR:
            weights[graph.nodes[i].output[0]] = tuple(numpy_helper.to_array(attr[0].t).shape)
    flops = {i: node_flops(graph.nodes[i], tensors, weights) for i in graph.work}
    total = float(sum(flops.values()))

    # the integer-valued nodes (shape arithmetic) that may sink into half 2
    integer_nodes = [i for i in reversed(graph.order)
                     if graph.nodes[i].output and all(
                         o in tensors and tensors[o].elem_type in _INTEGER_TYPES
                         and o not in graph.outputs for o in graph.nodes[i].output if o)]

    candidates: list[int] = []
    prefix = 0
    for i in graph.order[:-1]:
        prefix |= 1 << i
        candidates.append(prefix)
    anc, desc = graph.ancestors(), graph.descendants()
    for i in graph.order:
        candidates.append(anc[i])
        candidates.append(graph.all & ~(desc[i] & ~(1 << i)))

    tensor_names = [n for n in graph.inputs if n in graph.consumers or n in graph.outputs] + \
        [o for i in graph.order for o in graph.nodes[i].output if o and o in graph.producer]
    outputs = set(graph.outputs)
    seen: set[int] = set()
    cuts: list[Cut] = []
    total_candidates = len(candidates)
    for done, mask in enumerate(candidates, 1):
        if progress is not None:
            progress(done, total_candidates)
        mask = _sink_integer_nodes(mask, graph, integer_nodes)
        if mask in seen or mask == 0 or mask == graph.all:
            continue
        seen.add(mask)
        boundary = []
        for name in tensor_names:
            p = graph.producer.get(name)
            if p is not None and not (mask >> p) & 1:
                continue
            if name in outputs or graph.consumers.get(name, 0) & ~mask:
                boundary.append(name)
        if len(boundary) > max_boundary_tensors:
            continue
        first = [i for i in graph.work if (mask >> i) & 1]
        f1 = float(sum(flops[i] for i in first))
        if f1 <= 0 or f1 >= total:
            continue  # no real work on one side
        last = max(first)
        cuts.append(Cut(tuple(first), tuple(boundary),
                        sum(tensors[n].nbytes for n in boundary), f1, total,
                        graph.nodes[last].name or graph.nodes[last].output[0]))
    cuts.sort(key=lambda c: (len(c.nodes), c.nodes))
    input_bytes = sum(tensors[n].nbytes for n in graph.inputs)
    return Analysis(len(seen), tuple(cuts), input_bytes, total, tensors)


def _sink_integer_nodes(mask: int, graph: Graph, integer_nodes: list[int]) -> int:
    """Move shape arithmetic at the edge of half 1 to half 2 when its inputs already cross.

    ``integer_nodes`` is in reverse topological order. The group taken is the largest set of
    integer-valued nodes of half 1 read only by half 2 or by the group, minus the nodes (and
    what they feed in the group) that would make a new tensor cross."""
    while True:
        group = 0
        for i in integer_nodes:
            if (mask >> i) & 1 and not any(
                    graph.consumers.get(o, 0) & mask & ~group for o in graph.nodes[i].output if o):
                group |= 1 << i
        if not group:
            return mask
        keep = mask & ~group
        bad = [i for i in integer_nodes if (group >> i) & 1 and any(
            name not in graph.static and name in graph.producer
            and (keep >> graph.producer[name]) & 1
            and not (graph.consumers.get(name, 0) & ~mask or name in graph.outputs)
            for name in graph.reads[i])]
        if not bad:
            return keep
        for i in bad:  # stays in half 1, and so does what it feeds in the group
            mask_out = 0
            stack = [i]
            while stack:
                j = stack.pop()
                if (group >> j) & 1 and not (mask_out >> j) & 1:
                    mask_out |= 1 << j
                    stack.extend(graph.succs.get(j, ()))
            integer_nodes = [k for k in integer_nodes if not (mask_out >> k) & 1]


def score(cut: Cut, input_bytes: int) -> float:
    """The larger of what half 1 sends (relative to the model's input) and what it computes
    (relative to the whole model): 0 is a free cut, 1 is no better than not cutting."""
    sent = cut.boundary_bytes / input_bytes if input_bytes else 0.0
    return max(sent, cut.share)


def pareto_front(cuts: Iterable[Cut]) -> list[Cut]:
    """The cuts no other cut beats on both boundary bytes and half-1 FLOPs."""
    ordered = sorted(cuts, key=lambda c: (c.boundary_bytes, c.flops_first, len(c.nodes),
                                          c.nodes))
    front, best_flops = [], float("inf")
    for cut in ordered:
        if cut.flops_first < best_flops:
            front.append(cut)
            best_flops = cut.flops_first
    return front


def choose(analysis: Analysis, count: int, *, min_share: float = DEFAULT_MIN_SHARE
           ) -> tuple[Cut, ...]:
    """The ``count`` best cuts (see the module's docstring)."""
    front = pareto_front(analysis.cuts)
    front.sort(key=lambda c: (not c.balanced(min_share), score(c, analysis.input_bytes),
                              c.boundary_bytes, c.flops_first, len(c.nodes), c.nodes))
    return tuple(front[:count])


# ----------------------------------------------------------------------------- extraction


def _value_info(name: str, inferred_by_name: dict, tensors: dict[str, Tensor],
                static: bool):
    """What inference knows of a tensor; else its measured shape (``static`` models) or its
    rank with open dimensions."""
    import onnx
    from onnx import helper

    vi = inferred_by_name.get(name)
    if vi is not None and vi.type.HasField("tensor_type") and \
            vi.type.tensor_type.elem_type and vi.type.tensor_type.HasField("shape"):
        out = onnx.ValueInfoProto()
        out.CopyFrom(vi)
        out.doc_string = ""
        return out
    t = tensors.get(name)
    elem = (t.elem_type if t is not None else 0) or \
        (vi.type.tensor_type.elem_type if vi is not None else 0) or onnx.TensorProto.FLOAT
    shape = None if t is None or t.shape is None else \
        list(t.shape) if static else [None] * len(t.shape)
    return helper.make_tensor_value_info(name, elem, shape)


def _interface(names: list[str], by_name: dict) -> list[dict]:
    from onnx import helper

    out = []
    for name in names:
        vi = by_name.get(name)
        t = vi.type.tensor_type if vi is not None else None
        shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                 for d in t.shape.dim] if t is not None and t.HasField("shape") else None
        kind = helper.tensor_dtype_to_np_dtype(t.elem_type).name if t is not None and \
            t.elem_type else None
        out.append({"name": name, "shape": shape, "type": f"tensor({_ort_type(kind)})"})
    return out


def _ort_type(np_name: str | None) -> str:
    names = {"float32": "float", "float64": "double", "float16": "float16", "bool": "bool"}
    return names.get(np_name or "", np_name or "unknown")


def split(model, cut: Cut, *, cut_number: int = 1, source: str = "",
          tensors: dict[str, Tensor] | None = None, inferred=None):
    """The two halves of ``model`` at ``cut`` as ModelProtos (deterministic)."""
    import onnx
    from onnx import shape_inference

    if inferred is None:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    graph = Graph(model)
    if tensors is None:
        tensors = tensor_infos(model, inferred)
    by_name = {vi.name: vi for vi in list(inferred.graph.value_info) +
               list(inferred.graph.input) + list(inferred.graph.output)}
    first = set(cut.nodes)
    second = set(graph.work) - first
    static = all(d.HasField("dim_value") for vi in model.graph.input
                 if vi.name in graph.inputs for d in vi.type.tensor_type.shape.dim)
    boundary = list(cut.boundary)
    made_first = [n for n in boundary if n in graph.producer]
    original_inputs = graph.inputs
    original_outputs = graph.outputs
    interface = {
        "source_model": source,
        "cut": cut_number,
        "inputs": _interface(original_inputs, by_name),
        "outputs": _interface(original_outputs, by_name),
        "boundary": boundary,
        "first_outputs": made_first,
    }

    def build(part: int, members: set[int], inputs: list[str], outputs: list[str]):
        reads = {n for i in members for n in graph.reads[i]}
        free = [i for i in graph.free if set(graph.nodes[i].output) & reads]
        rank = {i: k for k, i in enumerate(graph.order)}  # a valid order even if the
        keep = sorted(free) + sorted(members, key=rank.__getitem__)  # model's is not
        used = reads | set(outputs)
        g = onnx.GraphProto()
        g.name = f"{model.graph.name or 'graph'}_partition{cut_number}_{part}"
        g.node.extend(graph.nodes[i] for i in keep)
        g.initializer.extend(i for i in model.graph.initializer if i.name in used)
        g.sparse_initializer.extend(i for i in model.graph.sparse_initializer if i.name in used)
        g.input.extend(_value_info(n, by_name, tensors, static) for n in inputs)
        if model.ir_version < 4:  # initializers must also be inputs before IR 4
            g.input.extend(_value_info(i.name, by_name, tensors, static) for i in g.initializer)
        g.output.extend(_value_info(n, by_name, tensors, static) for n in outputs)
        m = onnx.ModelProto()
        m.ir_version = model.ir_version
        m.opset_import.extend(model.opset_import)
        m.functions.extend(model.functions)
        m.producer_name = PRODUCER
        m.producer_version = __version__
        m.domain = model.domain
        m.model_version = model.model_version
        m.doc_string = f"Half {part} of cut {cut_number} of {source or 'the model'}, " \
            f"made by aisprint design."
        for prop in model.metadata_props:
            if prop.key != METADATA_KEY:
                m.metadata_props.add(key=prop.key, value=prop.value)
        m.metadata_props.add(key=METADATA_KEY, value=json.dumps(
            {**interface, "part": part}, sort_keys=True))
        m.graph.CopyFrom(g)
        return m

    first_inputs = [n for n in original_inputs
                    if any(n in graph.reads[i] for i in first)]
    half1 = build(1, first, first_inputs, made_first)
    half2 = build(2, second, boundary, original_outputs)
    return half1, half2


def serialize(model) -> bytes:
    """Bytes of a model, the same for the same model every time."""
    return model.SerializeToString(deterministic=True)
