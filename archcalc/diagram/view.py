"""What a diagram shows: the traced nesting cut at --depth, pointwise layers folded into the node before
them, each node labelled in the slides' notation ("conv 3×3/2, 64") with its shape and totals."""
from __future__ import annotations

from typing import Any, Callable, Sequence, Union

from .. import num
from ..analysis import DTYPE_BYTES, Analysis
from ..record import record
from .structure import Group, Join, Leaf, Seq, group_id, leaves

METRICS = ("params", "macs", "memory", "latency")
POINTWISE = ("bn", "relu", "relu6", "sigmoid", "swish", "hardswish", "tanh", "softmax", "dropout", "identity")
SHORT = {"bn": "BN", "relu": "ReLU", "relu6": "ReLU6", "sigmoid": "sigmoid", "swish": "swish", "hardswish": "h-swish",
         "tanh": "tanh", "softmax": "softmax", "identity": "identity", "lrn": "LRN", "flatten": "flatten",
         "gap": "global avgpool"}


@record
class VNode:
    id: str
    kind: str                   # layer | block | join | input
    title: str                  # the first line (op and arguments, or the block's name and ×n)
    shape: str
    layers: tuple[int, ...]     # leaf rows it stands for
    group: str = ""             # the group id a collapsed box stands for ("" otherwise)
    op: str = ""                # registry op of the main layer (for styling)
    hint: str = ""              # a collapsed box's contents when they are short: `2× conv 3×3, 64 · maxpool 2×2/2`


@record
class VSeq:
    items: tuple["VItem", ...]


@record
class VJoin:
    kind: str
    branches: tuple[VSeq, ...]
    node: VNode


@record
class VFrame:
    title: str
    body: VSeq
    group: str


VItem = Union[VNode, VJoin, VFrame]


def shape_text(shape: Sequence[Any]) -> str:
    return "×".join(num.fmt(v) for v in shape)


def _pair(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        a, b = v
        return num.fmt(a) if str(a) == str(b) else f"{num.fmt(a)}×{num.fmt(b)}"
    return num.fmt(v)


def _kernel(v: Any) -> str:
    if isinstance(v, (tuple, list)):
        return f"{num.fmt(v[0])}×{num.fmt(v[1])}"
    return f"{num.fmt(v)}×{num.fmt(v)}"


def _unit(v: Any) -> bool:
    return all(str(x) == "1" for x in (v if isinstance(v, (tuple, list)) else (v,)))


def layer_label(a: Analysis, i: int) -> str:
    """The slides' notation: `conv 3×3/2, 64`, `dwconv 3×3`, `maxpool 3×3/2`, `fc 4096`."""
    layer = a.rows[i].layer
    at, op = layer.attrs, layer.op
    if op in ("conv", "dwconv", "conv_transpose"):
        name = {"conv": "conv", "dwconv": "dwconv", "conv_transpose": "convT"}[op]
        text = f"{name} {_kernel(at['k'])}" + ("" if _unit(at["s"]) else f"/{_pair(at['s'])}")
        if op != "dwconv":
            text += f", {num.fmt(layer.output[0])}"
            if str(at.get("groups", 1)) != "1":
                text += f", g={num.fmt(at['groups'])}"
        elif str(layer.output[0]) != str(layer.in_shapes[0][0]):
            text += f", ×{num.fmt(num.div(layer.output[0], layer.in_shapes[0][0]))}"
        if not _unit(at.get("d", 1)):
            text += f", d={_pair(at['d'])}"
        return text
    if op == "fc":
        return f"fc {num.fmt(layer.output[0])}"
    if op in ("maxpool", "avgpool"):
        return f"{op} {_kernel(at['k'])}" + ("" if _unit(at["s"]) else f"/{_pair(at['s'])}")
    if op == "adaptive_avgpool":
        return f"adaptive avgpool {_kernel(at['out'])}"
    if op == "dropout":
        return f"dropout {float(at['p']):g}" if num.is_exact(at["p"]) else f"dropout {at['p']}"
    if op == "channel_shuffle":
        return f"shuffle g={num.fmt(at['groups'])}"
    if op == "select":
        if "channels" in at:
            return f"select {len(at['channels'])}"
        return f"select {num.fmt(at['start'])}:{num.fmt(at['stop'])}"
    return SHORT.get(op, op)


def group_title(g: Group) -> str:
    times = f" ×{g.count}" if g.kind == "repeat" else ""
    inner = g.template or ("repeat" if g.kind == "repeat" else g.name)
    if g.name and g.name != "repeat" and g.name != inner and not _numbered(g.name, inner):
        return f"{g.name}: {inner}{times}"
    return f"{g.name if g.kind == 'block' else inner}{times}"


def _numbered(name: str, template: str) -> bool:
    return name.startswith(template) and name[len(template):].lstrip("_").isdigit()


def merge_sole_repeat(g: Group) -> Group:
    """A block whose whole body is one repeat (ResNet's stage) is one box: `layer1: bottleneck ×3`."""
    if g.kind == "block" and len(g.body.items) == 1 and isinstance(g.body.items[0], Group) \
            and g.body.items[0].kind == "repeat":
        r = g.body.items[0]
        return Group("repeat", g.name, r.template or g.template, r.count, r.body, g.path)
    return g


class Viewer:
    def __init__(self, a: Analysis, depth: int | None, fold: bool = True) -> None:
        self.a, self.depth, self.fold = a, depth, fold

    def node_id(self, first_layer: int, prefix: str = "n") -> str:
        return f"{prefix}{first_layer}"

    def root(self, tree: Seq) -> VSeq:
        inp = VNode("input", "input", "input", shape_text(self.a.network.input), ())
        return VSeq((inp,) + self.seq(tree, 1).items)

    def seq(self, s: Seq, level: int) -> VSeq:
        out: list[VItem] = []
        for item in s.items:
            v = self.item(item, level)
            prev = out[-1] if out else None
            if self.fold and isinstance(v, VNode) and v.kind == "layer" and v.op in POINTWISE and len(v.layers) == 1:
                target = prev.node if isinstance(prev, VJoin) else prev
                if isinstance(target, VNode) and target.kind in ("layer", "join"):
                    merged = _fold(target, v)
                    out[-1] = VJoin(prev.kind, prev.branches, merged) if isinstance(prev, VJoin) else merged
                    continue
            out.append(v)
        return VSeq(tuple(out))

    def item(self, item: Any, level: int) -> VItem:
        a = self.a
        if isinstance(item, Leaf):
            row = a.rows[item.index]
            return VNode(self.node_id(item.index), "layer", layer_label(a, item.index), shape_text(row.layer.output),
                         (item.index,), op=row.layer.op)
        if isinstance(item, Join):
            layer = a.rows[item.index].layer
            node = VNode(self.node_id(item.index), "join", item.kind, shape_text(layer.output), (item.index,), op=item.kind)
            return VJoin(item.kind, tuple(self.seq(b, level) for b in item.branches), node)
        g = merge_sole_repeat(item)
        title = group_title(g)
        gid = group_id(g)
        if self.depth is not None and level >= self.depth:
            inner = self.seq(g.body, level + 1) if g.kind == "block" else None
            if inner is not None and len(inner.items) == 1 and isinstance(inner.items[0], VNode) \
                    and inner.items[0].kind == "layer":
                one = inner.items[0]          # a small block (conv_relu) reads best as its layer
                return VNode(one.id, one.kind, f"{g.name}: {one.title}" if g.name else one.title, one.shape,
                             one.layers, op=one.op)
            rows = leaves(g)
            hint = contents(a, rows)
            return VNode(self.node_id(rows[0], "b"), "block", title, shape_text(a.rows[rows[-1]].layer.output),
                         tuple(rows), group=gid, hint=hint)
        body = self.seq(g.body, level + 1)
        if len(body.items) == 1 and isinstance(body.items[0], VNode) and body.items[0].kind == "layer":
            one = body.items[0]               # a frame around one node says no more than the node
            return VNode(one.id, one.kind, f"{g.name}: {one.title}" if g.name else one.title, one.shape,
                         one.layers, op=one.op)
        return VFrame(title, body, gid)


HINT_OPS = ("conv", "dwconv", "conv_transpose", "fc", "maxpool", "avgpool")
HINT_RUNS, HINT_CHARS = 3, 52


def contents(a: Analysis, rows: Sequence[int]) -> str:
    """The weight and pooling layers of a block, runs of equal ones counted, when that reads in one line."""
    runs: list[list[Any]] = []
    for i in rows:
        if a.rows[i].layer.op not in HINT_OPS:
            continue
        label = layer_label(a, i)
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    text = " · ".join((f"{n}× " if n > 1 else "") + label for label, n in runs)
    return text if runs and len(runs) <= HINT_RUNS and len(text) <= HINT_CHARS else ""


def _fold(target: VNode, v: VNode) -> VNode:
    return VNode(target.id, target.kind, f"{target.title} · {v.title}", v.shape, target.layers + v.layers,
                 target.group, target.op)


def view(a: Analysis, tree: Seq, depth: int | None = None, fold: bool = True) -> VSeq:
    return Viewer(a, depth, fold).root(tree)


# ---------------------------------------------------------------- numbers on nodes
def metric_values(a: Analysis, metric: str, latency: Sequence[float] | None = None) -> Callable[[VNode], Any]:
    """A node's total of one metric over the layers it stands for (exact ints; seconds for latency)."""
    width = DTYPE_BYTES[a.dtype]

    def value(n: VNode) -> Any:
        if metric == "params":
            return num.norm(sum((a.rows[i].params for i in n.layers), 0))
        if metric == "macs":
            return num.norm(sum((a.rows[i].macs for i in n.layers), 0))
        if metric == "memory":
            return num.norm(sum((a.rows[i].activations for i in n.layers), 0) * width)
        if metric == "latency":
            return sum(latency[i] for i in n.layers) if latency is not None else None
        raise ValueError(metric)
    return value


def human(x: Any, unit: str = "") -> str:
    if isinstance(x, float) and unit == "s":
        for factor, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if abs(x) >= factor:
                return f"{x / factor:.3g} {suffix}"
        return f"{x * 1e9:.3g} ns"
    if not isinstance(x, float) and not num.is_exact(x):
        return str(x)
    x = float(x) if not isinstance(x, int) else x
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(x) >= factor:
            return f"{x / factor:.2f}{suffix}{unit}"
    return f"{x:g}{unit}" if isinstance(x, float) else f"{x}{unit}"


METRIC_LABEL = {"params": "params", "macs": "MACs", "memory": "act.", "latency": "time"}
METRIC_UNIT = {"params": "", "macs": "", "memory": "B", "latency": "s"}


def walk_nodes(v: VSeq) -> list[VNode]:
    out: list[VNode] = []
    for item in v.items:
        if isinstance(item, VNode):
            out.append(item)
        elif isinstance(item, VJoin):
            for b in item.branches:
                out.extend(walk_nodes(b))
            out.append(item.node)
        else:
            out.extend(walk_nodes(item.body))
    return out
