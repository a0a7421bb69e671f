"""The NumPy reference forward pass over a built layer graph.

`forward` runs every layer of a `Network` with the vectorised kernels of `archcalc.kernels`
(NCHW, float32) on seeded or caller-given weights. The shape/params cross-check built on it: `verification`.

Arrays per layer: `numeric_weights`.
"""
from __future__ import annotations

import math
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import kernels as K
from . import kernels_parts as KP
from . import num
from . import numeric_transformer as NT
from .errors import ShapeError, SpecError, UsageError
from .graph import Layer, Network, build
from .layout import dense_order
from .numeric_weights import (CHUNK_BYTES, INITS, Arrays, concrete, fc_tiled, fold_bn, init_layer, layer_arrays,
                              make_weights, prefold_bn, weight_shapes)
from .record import field, record
from .spec import Spec

__all__ = ["CHUNK_BYTES", "FORWARD", "Result", "concrete", "fold_bn", "forward", "init_layer", "make_weights",
           "network_of", "weight_shapes"]



@record(frozen=False)
class Result:
    """The forward pass of one batch: the final output and, per layer, what it produced."""

    network: Network
    output: np.ndarray
    outputs: dict[str, np.ndarray]         # every layer's output (empty when keep=False)
    shapes: dict[str, tuple[int, ...]]     # every layer's actual output shape, without the batch
    weight_sizes: dict[str, int]           # elements in the arrays the layer used
    weights: dict[str, Arrays] = field(default_factory=dict)  # the arrays (only when keep=True)
    seconds: float = 0.0                   # compute time of the layers (weight creation excluded)


def network_of(spec: str | Path | Spec | Network, vars: Mapping[str, Any] | None = None,
               input: tuple[int, ...] | None = None, preset: str | None = None) -> Network:
    """A Network from a built-in name, a YAML path, a parsed Spec, or a Network (returned as is)."""
    if isinstance(spec, Network):
        return spec
    from .analysis import load_spec

    parsed, named = load_spec(spec)
    return build(parsed, vars, input, preset or named)


# ---------------------------------------------------------------- one layer
def _f(v: Any) -> float:
    return float(v)


def _conv(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    return K.conv2d(xs[0], w["weight"], w.get("bias"), stride=a["s"], padding=a["pad"], dilation=a["d"],
                    groups=a["groups"])


def _conv_transpose(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    return K.conv_transpose2d(xs[0], w["weight"], w.get("bias"), stride=a["s"], padding=a["p"],
                              output_padding=a["output_padding"], dilation=a["d"], groups=a["groups"])


def _maxpool(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    return K.max_pool2d(xs[0], a["k"], a["s"], a["pad"], a["d"], a["ceil_mode"])


def _avgpool(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    if tuple(a["d"]) != (1, 1):
        raise ShapeError(f"layer {layer.name}: average pooling with dilation {a['d']} has no forward pass "
                         f"(PyTorch has none either)")
    return K.avg_pool2d(xs[0], a["k"], a["s"], a["pad"], a["ceil_mode"], a["count_include_pad"])


def _bn(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    c = layer.output[0]
    gamma = w["weight"] if "weight" in w else np.ones(c, dtype=K.DTYPE)
    beta = w["bias"] if "bias" in w else np.zeros(c, dtype=K.DTYPE)
    return K.batch_norm(xs[0], gamma, beta, w["running_mean"], w["running_var"], _f(layer.attrs["eps"]))


def _lrn(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    return K.local_response_norm(xs[0], a["size"], _f(a["alpha"]), _f(a["beta"]), _f(a["k"]))


def _mul(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    out = xs[0]
    for x in xs[1:]:
        out = K.mul(out, x)
    return out


def _select(layer: Layer, x: np.ndarray) -> np.ndarray:
    a = layer.attrs
    if "channels" in a:
        return np.ascontiguousarray(x[:, list(a["channels"])])
    return KP.channel_range(x, a["start"], a["stop"])


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[Layer, list[np.ndarray], Arrays], np.ndarray]:
    return lambda layer, xs, w: fn(xs[0])


FORWARD: dict[str, Callable[[Layer, list[np.ndarray], Arrays], np.ndarray]] = {
    "conv": _conv,
    "dwconv": _conv,
    "conv_transpose": _conv_transpose,
    "fc": lambda layer, xs, w: K.linear(xs[0], w["weight"], w.get("bias")),
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "gap": _unary(K.global_avg_pool),
    "adaptive_avgpool": lambda layer, xs, w: K.adaptive_avg_pool2d(xs[0], layer.attrs["out"]),
    "flatten": _unary(K.flatten),
    "bn": _bn,
    "lrn": _lrn,
    "relu": _unary(K.relu),
    "relu6": _unary(K.relu6),
    "sigmoid": _unary(K.sigmoid),
    "tanh": _unary(K.tanh),
    "swish": _unary(K.swish),
    "hardswish": _unary(K.hardswish),
    "softmax": _unary(K.softmax),
    "identity": _unary(lambda x: x),
    "dropout": _unary(K.dropout),
    "select": lambda layer, xs, w: _select(layer, xs[0]),
    "split": lambda layer, xs, w: KP.channel_range(xs[0], layer.attrs["start"], layer.attrs["stop"]),
    "crop": lambda layer, xs, w: KP.center_crop(xs[0], layer.attrs["size"], layer.attrs["top"], layer.attrs["left"]),
    "mean": lambda layer, xs, w: KP.spatial_mean(xs[0], layer.attrs["keepdim"]),
    "hardsigmoid": _unary(KP.hardsigmoid),
    "stochastic_depth": _unary(lambda x: x),
    "channel_shuffle": lambda layer, xs, w: K.channel_shuffle(xs[0], layer.attrs["groups"]),
    "concat": lambda layer, xs, w: K.concat(xs),
    "add": lambda layer, xs, w: K.add(xs),
    "mul": _mul,
} | NT.FORWARD

# Elementwise ops computed in place over their one input when nothing else can see it (forward with
# keep=False): no fresh output to allocate and page in, and numpy's in-place loop.
INPLACE: dict[str, Callable[[Layer, np.ndarray], np.ndarray]] = {
    "relu": lambda layer, x: K.relu(x, out=x),
    "relu6": lambda layer, x: K.relu6(x, out=x),
    "sigmoid": lambda layer, x: K.sigmoid(x, out=x),
    "tanh": lambda layer, x: K.tanh(x, out=x),
    "swish": lambda layer, x: K.swish(x, out=x),
    "hardswish": lambda layer, x: K.hardswish(x, out=x),
    "hardsigmoid": lambda layer, x: KP.hardsigmoid(x, out=x),
} | NT.INPLACE
# Ops whose output is a new array that aliases no other (views, the input passed through, and learned
# tensors are not): an in-place op may overwrite it when it is that output's only reader.
FRESH = frozenset({"conv", "dwconv", "conv_transpose", "fc", "bn", "add", "mul", "concat", "layernorm"}) | INPLACE.keys()
# Ops that return their one input itself (inference mode): an output of theirs may be overwritten when
# their input could have been.
PASS_THROUGH = frozenset({"identity", "dropout", "stochastic_depth"})
# Ops that read only their input's shape (a learned tensor broadcast over the batch): no reader of its values.
SHAPE_ONLY = frozenset({"param"})
# Joins computed into one of their inputs when it may be overwritten (keep=False): its array becomes the
# output, without the copy of the first input (the same operations in the same order).
JOINS: dict[str, Callable[..., Any]] = {"add": np.add, "mul": np.multiply}
# Ops whose output is never a view of an input (a join of two or more inputs: only of one no one reads after
# it). An output all of whose readers are such ops may also be overwritten by a join that reads it last (a
# squeeze-excitation multiply after the pool that read the same map: efficientnet_v2_s's 4.5 → 2.1 ms a pass).
NEW_OUTPUT = FRESH | SHAPE_ONLY | {"gap", "mean", "maxpool", "avgpool", "adaptive_avgpool"}


# ---------------------------------------------------------------- the pass
VERIFY_BYTES = 1024 * 2**20   # activations one forward pass may hold at once


def check_memory(net: Network, batch: int) -> None:
    """Refuse, before anything is allocated, a forward pass whose largest layer (its inputs and its
    output, float32, times the batch) would pass the budget: a huge input written in a spec or
    `verify vgg16 --batch 64` fail with a placed message instead of growing to gigabytes."""
    limit = VERIFY_BYTES
    itemsize = np.dtype(K.DTYPE).itemsize
    if not isinstance(batch, int) or batch < 1:
        raise UsageError(f"batch must be a whole number ≥ 1, got {batch}")
    worst, where_ = 0, None
    shapes = [(tuple(net.input), None)] + [(la.output, la) for la in net.layers]
    for shape, la in shapes:
        held = num.prod(shape) + (sum(num.prod(s) for s in la.in_shapes) if la is not None else 0)
        need = batch * int(held) * itemsize
        if need > worst:
            worst, where_ = need, la
    if worst > limit:
        at = f"layer {where_.name} ({where_.op}) holds" if where_ is not None else "the input holds"
        raise SpecError(f"verify: {at} about {worst / 2**30:.3g} GiB of float32 activations at batch {batch}, "
                        f"over the {limit // 2**20} MiB budget of a forward pass; use a smaller --batch or --input", where_.where if where_ is not None else net.spec.where)


def forward(spec_or_network: str | Path | Spec | Network, x: np.ndarray | None = None, batch: int = 1, seed: int = 0,
            weights: Mapping[str, Any] | None = None, keep: bool = True, vars: Mapping[str, Any] | None = None,
            input: tuple[int, ...] | None = None, init: str = "normal") -> Result:
    """Run a network on `x` (N×C×H×W, or N×F for a flat input) or on a seeded normal batch.

    `spec_or_network`: a built-in name, a YAML path, a parsed Spec (built with `vars`, and with
    `input` or x's shape) or a built Network. `weights`: layer name → {array name → array}
    (a bare array means `weight`); missing layers or arrays are seeded. `keep=False` keeps only
    shapes and frees each output once its last consumer has run, bounding memory. `init`: seeded
    weights are `normal` (He-normal draws) or `tiled` (He-scaled windows of one seeded normal pool:
    as fast as a copy, and with keep=False a big fc weight is made block by block, never whole).

    >>> r = forward("vgg16")
    >>> r.output.shape, r.shapes["fc3"]
    ((1, 1000), (1000,))
    """
    if x is not None and input is None and not isinstance(spec_or_network, Network):
        input = tuple(int(v) for v in np.shape(x)[1:])
    net = network_of(spec_or_network, vars, input)
    plan = _plan(net, batch if x is None else int(np.shape(x)[0]))
    if x is None:
        x = np.random.default_rng(seed).standard_normal((batch,) + tuple(net.input), dtype=K.DTYPE)
    x = np.asarray(x, dtype=K.DTYPE)
    if tuple(x.shape[1:]) != tuple(net.input):
        raise UsageError(f"the input has shape {tuple(x.shape[1:])} (without the batch), "
                         f"but the network takes {tuple(net.input)}")
    if init not in INITS:
        raise UsageError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    weights = weights or {}
    unknown = set(weights) - {la.name for la in net.layers}
    if unknown:
        raise UsageError(f"weights given for unknown layer(s): {', '.join(sorted(unknown))}")

    return _run(net, x, weights, keep, seed, init, plan)


@record
class _Plan:
    """What a forward pass needs to know about a network before its first layer, the same on every call."""

    readers: dict[str, int]                       # each output's readers (the network's output counts one)
    shapes: tuple[dict[str, tuple[int, ...]], ...]  # each layer's array shapes
    folds: tuple[Layer | None, ...]               # the batch norm folded into each layer, if any
    prefolds: tuple[Layer | None, ...]            # the batch norm before each layer folded into it, if any
    owned: frozenset[str]                         # outputs that their one reader of values may overwrite
    unviewed: frozenset[str]                      # fresh outputs no reader returns a view of (NEW_OUTPUT)


_PLANS: dict[tuple[int, int, int], tuple[weakref.ref[Network], _Plan]] = {}
PLANS_KEPT = 32


def _plan(net: Network, batch: int) -> _Plan:
    """The network's plan for this batch, built (after `concrete` and `check_memory`) on the first call and
    kept for later ones while the network lives (a Network is frozen)."""
    key = (id(net), batch, VERIFY_BYTES)
    hit = _PLANS.get(key)
    if hit is not None and hit[0]() is net:
        return hit[1]
    concrete(net)
    check_memory(net, batch)
    readers: dict[str, int] = {}
    for la in net.layers:
        for name in la.inputs:
            readers[name] = readers.get(name, 0) + 1
    readers[net.output_source] = readers.get(net.output_source, 0) + 1
    layers = net.layers
    shapes = tuple(weight_shapes(la) for la in layers)
    folds = tuple(_foldable_bn(la, layers, i, readers, batch, shapes[i]) for i, la in enumerate(layers))
    owned: set[str] = set()
    value_readers = dict(readers)
    for la in layers:
        if la.op in SHAPE_ONLY:
            for name in la.inputs:
                value_readers[name] -= 1
    for la in layers:
        if value_readers.get(la.name) == 1 and (la.op in FRESH or (la.op in PASS_THROUGH and la.inputs[0] in owned)):
            owned.add(la.name)
    viewed = {name for la in layers if la.op not in NEW_OUTPUT or (la.op in JOINS and len(la.inputs) < 2)
              for name in la.inputs}
    unviewed = frozenset(la.name for la in layers if la.op in FRESH and la.name not in viewed)
    prefolds = tuple(_prefoldable_bn(la, layers, i, readers, folds, batch, shapes[i]) for i, la in enumerate(layers))
    plan = _Plan(readers, shapes, folds, prefolds, frozenset(owned), unviewed)
    if len(_PLANS) >= PLANS_KEPT:
        _PLANS.clear()
    _PLANS[key] = (weakref.ref(net), plan)
    return plan


def _run(net: Network, x: np.ndarray, weights: Mapping[str, Any], keep: bool, seed: int, init: str,
         plan: _Plan) -> Result:
    """The layers in order; `consumers` counts each output's readers still to run (an output is freed
    at zero unless `keep`)."""
    consumers = dict(plan.readers)
    live: dict[str, np.ndarray] = {"input": x}
    outputs: dict[str, np.ndarray] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    sizes: dict[str, int] = {}
    kept: dict[str, Arrays] = {}
    seconds = 0.0
    layers = net.layers
    folded: Arrays | None = None        # the next batch norm's arrays, folded into this conv
    before: Arrays | None = None        # the arrays of a batch norm folded into the conv after it
    fused: np.ndarray | None = None     # that batch norm's output
    for index, la in enumerate(layers):
        fn = FORWARD.get(la.op)
        if fn is None:
            raise UsageError(f"layer {la.name}: op `{la.op}` has no forward pass yet")
        xs = [live[name] for name in la.inputs]
        if folded is not None:   # a batch norm whose output the conv before it computed
            arrays, folded = folded, None
            sizes[la.name] = sum(int(a.size) for a in arrays.values())
            y, fused, spent = fused, None, 0.0
        elif la.op == "fc" and len(la.in_shapes[0]) == 1 and init == "tiled" and not keep and la.name not in weights:
            arrays = {}
            sizes[la.name] = sum(int(np.prod(v)) for v in weight_shapes(la).values())
            y, spent = fc_tiled(la, xs[0], seed)
        else:
            arrays = layer_arrays(la, seed, weights.get(la.name), init, plan.shapes[index])
            sizes[la.name] = sum(int(a.size) for a in arrays.values())
            bn, pre = plan.folds[index], plan.prefolds[index]
            start = time.perf_counter()
            used, ins = arrays, xs
            if pre is not None:   # the batch norm before: its input, and the weights with it folded in
                used, ins = prefold_bn(arrays, before, pre), [live[pre.inputs[0]]] if keep else xs
            if index + 1 < len(layers) and plan.prefolds[index + 1] is la:   # folded into the next conv
                before = arrays
                y = fn(la, xs, arrays) if keep else xs[0]
            elif bn is None and not keep and la.op in INPLACE and _overwritable(la, xs, plan.owned):
                y = INPLACE[la.op](la, xs[0])
            elif bn is None and not keep and la.op in JOINS and (
                    into := _join_target(la, xs, plan.owned, plan.unviewed, consumers)) is not None:
                y = xs[into]
                for j, other in enumerate(xs):
                    if j != into:
                        JOINS[la.op](y, other, out=y)
            elif bn is None:
                y = fn(la, ins, used)
            else:   # the next layer's output now; this conv's own output only when every output is kept
                folded = layer_arrays(bn, seed, weights.get(bn.name), init, plan.shapes[index + 1])
                fused = fn(la, ins, fold_bn(used, folded, bn))
                y = fn(la, ins, used) if keep else fused
            spent = time.perf_counter() - start
        seconds += spent
        shapes[la.name] = y.shape[1:]
        live[la.name] = y
        if keep:
            outputs[la.name] = y
            if arrays:
                kept[la.name] = arrays
        else:
            for name in la.inputs:
                consumers[name] -= 1
                if consumers[name] == 0:
                    live.pop(name, None)
            if consumers.get(la.name, 0) == 0:
                live.pop(la.name, None)
        del xs, y, arrays
    final = live[net.output_source] if net.output_source in live else x
    return Result(net, final, outputs, shapes, sizes, kept, seconds)


def _overwritable(layer: Layer, xs: list[np.ndarray], owned: frozenset[str]) -> bool:
    """An op's one input may be overwritten: a fresh array (FRESH, or passed through PASS_THROUGH ops from one)
    that this op alone ever reads (`_writable_alone`)."""
    return len(xs) == 1 and layer.inputs[0] in owned and _writable_alone(layer, xs, 0)


def _writable_alone(layer: Layer, xs: list[np.ndarray], index: int) -> bool:
    """Input `index` is read once by this op and is a float32 array without gaps (any axis order), writeable."""
    arr = xs[index]
    return (list(layer.inputs).count(layer.inputs[index]) == 1 and arr.dtype == K.DTYPE
            and dense_order(arr) is not None and arr.flags.writeable)


def _join_target(layer: Layer, xs: list[np.ndarray], owned: frozenset[str], unviewed: frozenset[str],
                 consumers: Mapping[str, int]) -> int | None:
    """The input of an add or mul that can hold its result: overwritable (owned, or fresh, unviewed and read
    last by this op), of the output's full shape and laid out as the first full-shape input (the layout the
    copying kernels give the result, which later reductions sum in); the first such input, or either of two
    (a + b = b + a exactly; with more inputs the order would change)."""
    if any(x.dtype != K.DTYPE for x in xs):
        return None
    layout: tuple[int, ...] | None = None
    for i in range(len(xs) if len(xs) == 2 else 1):
        arr, name = xs[i], layer.inputs[i]
        if not all(_broadcasts_to(x.shape, arr.shape) for x in xs):
            continue
        layout = arr.strides if layout is None else layout
        if (arr.strides == layout and (name in owned or (name in unviewed and consumers.get(name) == 1))
                and _writable_alone(layer, xs, i)):
            return i
    return None


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """numpy's broadcasting rule against a given result shape (np.broadcast_shapes costs ~10 µs a call)."""
    return len(shape) <= len(target) and all(d in (1, t) for d, t in zip(shape[::-1], target[::-1]))


def _prefoldable_bn(layer: Layer, layers: tuple[Layer, ...], index: int, readers: Mapping[str, int],
                    folds: tuple[Layer | None, ...], batch: int, shapes: Mapping[str, tuple[int, ...]]) -> Layer | None:
    """The batch norm right before an unpadded, ungrouped convolution that alone reads it (MBConv's pre-norm
    before its 1×1 expansion), not itself folded into a conv before it, when folding it into the conv's
    weights (exact without padding: no padded zero is normalised) costs less than its two passes over the
    activations (as `_foldable_bn` weighs it). maxvit_t's batch norms: 1.36 → 0.48 ms a pass."""
    if layer.op != "conv" or index == 0 or int(layer.attrs["groups"]) != 1 or any(int(p) for p in layer.attrs["pad"]):
        return None
    prev = layers[index - 1]
    if (prev.op != "bn" or tuple(layer.inputs) != (prev.name,) or readers.get(prev.name) != 1
            or (index >= 2 and folds[index - 2] is prev) or len(prev.output) != 3):
        return None
    weights = sum(math.prod(shape) for shape in shapes.values())
    return None if weights > 2 * batch * math.prod(prev.output) else prev


def _foldable_bn(layer: Layer, layers: tuple[Layer, ...], index: int, consumers: Mapping[str, int],
                 batch: int, shapes: Mapping[str, tuple[int, ...]]) -> Layer | None:
    """The batch norm right after a convolution that only it reads, when folding it into the conv's
    weights (as inference runtimes do) is the cheaper pass: one over the weights, where they are no larger
    than twice the conv's output, instead of two over the activations (efficientnet_v2_s's 256→1536 1×1
    convolutions on 12×12: the conv and its batch norm 17.6 → 13.8 ms a pass). Both `keep` modes compute that
    batch norm's output the same way."""
    if layer.op not in ("conv", "dwconv") or index + 1 >= len(layers) or consumers.get(layer.name) != 1:
        return None
    nxt = layers[index + 1]
    if nxt.op != "bn" or tuple(nxt.inputs) != (layer.name,):
        return None
    weights = sum(math.prod(shape) for shape in shapes.values())
    return None if weights > 2 * batch * math.prod(layer.output) else nxt


