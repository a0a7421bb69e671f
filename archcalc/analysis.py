"""The Python API: analyse a network and get per-layer rows and totals under a convention."""
from __future__ import annotations

from . import catalog, conventions, num
from .dtypes import DTYPE_BYTES
from .errors import UsageError
from .graph import Builder, Layer, Limits, Network, build
from .record import record
from .spec import Spec
from .yamlio import gc_paused

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping

WEIGHT_KINDS = ("conv", "conv_transpose", "fc", "attention")


@record(slots=True)
class Row:
    layer: Layer
    params: Any
    non_trainable: Any
    macs: Any
    activations: Any


@record
class Totals:
    params: Any
    trainable_params: Any
    non_trainable_params: Any
    buffers: Any
    macs: Any
    flops: Any
    activations: Any
    param_bytes: Any
    activation_bytes: Any
    weight_layers: int       # every conv/fc layer
    depth: int               # weight layers on the longest path (parallel branches count once)
    rf: Any


@record
class Analysis:
    network: Network
    rows: tuple[Row, ...]
    totals: Totals
    convention: str
    batch: Any
    dtype: str
    label: str | None = None   # the preset name when one was chosen (vgg16 is a preset of vgg)

    @property
    def name(self) -> str:
        return self.label or self.network.spec.name


def load_spec(spec: str | Path | Spec) -> tuple[Spec, str | None]:
    if isinstance(spec, Spec):
        return spec, None
    entry = catalog.resolve(str(spec))
    return catalog.load_entry(entry), entry.preset


def analyze(spec: str | Path | Spec, input: tuple[Any, ...] | None = None, vars: Mapping[str, Any] | None = None,
            convention: str = "paper", batch: Any = 1, dtype: str = "float32", preset: str | None = None,
            limits: Limits | None = None, ideal: bool = False, builder: type[Builder] | None = None) -> Analysis:
    """Analyse a built-in spec name, a YAML path or a parsed Spec.

    >>> a = analyze("vgg16")
    >>> a.totals.params, a.totals.macs
    (138357544, 15470264320)
    """
    parsed, named_preset = load_spec(spec)
    if dtype not in DTYPE_BYTES:
        raise UsageError(f"unknown dtype `{dtype}`; known: {', '.join(DTYPE_BYTES)}")
    if isinstance(batch, bool) or (num.is_exact(batch) and (num.is_integer(batch) is not True or batch < 1)):
        raise UsageError(f"batch must be a whole number ≥ 1, got {batch}")
    conv = conventions.get(convention)
    chosen = preset or named_preset
    with gc_paused():
        return summarize(build(parsed, vars, input, chosen, limits, ideal, builder), conv, batch, dtype, chosen)


def summarize(net: Network, conv: conventions.Convention, batch: Any, dtype: str, label: str | None = None) -> Analysis:
    rows = []
    with_buffers = conv.buffers_are_params
    macs_of = conv.macs
    ints = type(batch) is int
    for layer in net.layers:
        k = layer.times
        p, b, m, act = layer.params, layer.buffers, macs_of(layer), layer.activations
        if ints and type(k) is int and type(p) is int and type(b) is int and type(m) is int and type(act) is int:
            rows.append(Row(layer, k * (p + b) if with_buffers else k * p, k * ((b if with_buffers else 0) + (p if layer.frozen else 0)),
                            k * m * batch, k * act * batch))
            continue
        non_trainable = num.norm(k * ((b if with_buffers else 0) + (p if layer.frozen else 0)))
        rows.append(Row(layer, num.norm(k * (p + (b if with_buffers else 0))), non_trainable,
                        num.norm(k * m * batch), num.norm(k * act * batch)))
    trainable = num.total([r.layer.times * r.layer.params for r in rows if not r.layer.frozen])
    non_trainable = num.total([r.non_trainable for r in rows])
    buffers = num.total([r.layer.times * r.layer.buffers for r in rows])
    macs = num.total([r.macs for r in rows])
    activations = num.total([r.activations for r in rows])
    width = DTYPE_BYTES[dtype]
    rf = net.rf.size[0] if _equal(net.rf.size[0], net.rf.size[1]) else list(net.rf.size)
    totals = Totals(
        params=num.norm(trainable + non_trainable), trainable_params=trainable, non_trainable_params=non_trainable,
        buffers=buffers, macs=macs, flops=num.norm(2 * macs), activations=activations,
        param_bytes=num.norm((trainable + non_trainable + (0 if conv.buffers_are_params else buffers)) * width), activation_bytes=num.norm(activations * width),
        weight_layers=sum(1 for r in rows if r.layer.kind in WEIGHT_KINDS), depth=longest_weight_path(net), rf=rf)
    return Analysis(net, tuple(rows), totals, conv.name, batch, dtype, label)


def longest_weight_path(net: Network) -> int:
    """Depth as the papers count it: weight layers along the longest input→output path."""
    depth = {"input": 0}
    for layer in net.layers:
        inputs = layer.inputs
        before = depth[inputs[0]] if len(inputs) == 1 else max(depth[i] for i in inputs)
        depth[layer.name] = before + (layer.kind in WEIGHT_KINDS)
    return depth[net.output_source]


def _equal(a: Any, b: Any) -> bool:
    return bool(a == b) if num.is_exact(a) and num.is_exact(b) else str(a) == str(b)
