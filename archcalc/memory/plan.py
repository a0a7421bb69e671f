"""Storages of a forward pass: which layer writes a new buffer, which is a view or writes in place,
and when each buffer is last read.

- views share their input's storage: flatten, identity, select, split, crop, token, and dropout and
  stochastic depth at inference;
- with `inplace` (as torchvision builds its models: nn.ReLU(inplace=True), nn.SiLU(inplace=True),
  `out += identity`), relu/relu6/swish/hardswish/hardsigmoid and a residual add write into their
  first input when no later layer still reads it; with `fuse_bn` (inference only) batch norm is folded
  into the previous layer and writes in place too;
- a block's input is held by its caller until the block returns (eager PyTorch: `y = block(x)`), so
  nothing inside the block writes into it in place;
- the tensor a join's branches fan out from lives until the join has run (torchvision's Fire:
  `torch.cat([expand1x1(x), expand3x3(x)], 1)` keeps the squeeze output x in its frame);
- a `concat` written `list: true` is torchvision's DenseNet: the block keeps a Python list of
  feature maps (`features.append(new_features)`) and each layer reads `torch.cat(features)` made
  afresh, so every new piece (the join's last branch output) lives until the block owning the list
  (the join's enclosing block's caller) returns;
- an `add` written `inplace: false` in the spec is PyTorch's `a + b` (MobileNetV2, MNASNet, RegNet,
  ViT, Swin, MaxViT): it always allocates; otherwise it is `out += identity` (ResNet, EfficientNet,
  MobileNetV3, ConvNeXt) and writes into its first branch when nothing later reads it;
- a `param` layer's output is a weight (its bytes are in the parameters, not the activations);
- the network input belongs to the caller (`y = model(x)` holds x for the whole pass): it is never
  written in place and is not an activation here.
"""
from __future__ import annotations

import itertools

from .. import num
from ..errors import UsageError
from ..record import record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

VIEW_OPS = ("flatten", "identity", "select", "split", "crop", "token")
WEIGHT_OPS = ("param",)
INPLACE_OPS = ("relu", "relu6", "swish", "hardswish", "hardsigmoid", "add")


def concrete(x: Any, what: str) -> int:
    if type(x) is int:
        return x
    x = num.norm(x)
    if not isinstance(x, int):
        raise UsageError(f"memory needs concrete sizes; {what} is {num.fmt(x)} (give a numeric --input and --batch)")
    return x


@record
class Plan:
    storage: dict[str, str]        # tensor (layer name or "input") -> storage id
    elements: dict[str, int]       # storage id -> elements (batch included)
    born: dict[str, int]           # storage id -> layer index that wrote it (-1: the input)
    last: dict[str, int]           # storage id -> last layer index that reads it (len(rows): the output)
    reuse: tuple[str, ...]         # per layer: "" | "view" | "in-place"


def plan(rows: Any, network: Any, batch: int, inplace: bool, fuse_bn: bool, training: bool) -> Plan:
    layers = [r.layer for r in rows]
    last_use: dict[str, int] = {"input": -1}
    for i, layer in enumerate(layers):
        for name in layer.inputs:
            last_use[name] = i
    end = len(rows)
    last_use[network.output_source] = end
    storage = {"input": "input"}
    elements = {"input": concrete(num.prod(list(network.input)), "the input") * batch}
    born, last = {"input": -1}, {"input": end}
    views = _VIEWS_TRAINING if training else _VIEWS_INFERENCE
    in_place = _INPLACE if inplace else _NONE
    held, owner_end = _held_by_callers(layers)
    last["input"] = max(last["input"], held.get("input", -1))
    reuse = []
    fuse = fuse_bn and not training
    for i, layer in enumerate(layers):
        name, op, inputs, attrs = layer.name, layer.op, layer.inputs, layer.attrs
        first = storage[inputs[0]] if inputs else "input"
        if op in views:
            kind = "view"
        elif ((op in in_place and attrs.get("inplace", True)) or (fuse and op == "bn")) \
                and last[first] <= i and first != "input" and not first.startswith("weight:"):
            kind = "in-place"     # nothing after this layer reads the input: overwrite it
        else:
            kind = ""
        if op in WEIGHT_OPS:                # a learned tensor (layer scale, class token): a weight
            sid = storage[name] = f"weight:{name}"
            elements[sid], born[sid], last[sid] = 0, i, i
        elif kind:
            own = last_use.get(name, i)
            if own > last[first]:
                last[first] = own
            sid = storage[name] = first
        else:
            sid = storage[name] = name
            act = rows[i].activations
            elements[name] = act if type(act) is int else concrete(act, f"{name}'s output")
            born[name], last[name] = i, last_use.get(name, i)
        if attrs:
            if attrs.get("list") and len(inputs) > 1:
                # DenseNet's `features.append(new)`: each new piece stays in the list, alive until the
                # block that owns the list returns (`torch.cat(features)` at its end)
                piece = storage[inputs[-1]]
                if piece in last:
                    last[piece] = max(last[piece], owner_end.get(layer.scope[:-1], end - 1))
            fan = attrs.get("fanout")
            if fan in storage and storage[fan] in last:      # the join's fan-out tensor lives until the join
                last[storage[fan]] = max(last[storage[fan]], i)
        if held and name in held and sid in last:   # a block's input, held by its caller: never overwritten before the block returns
            last[sid] = max(last[sid], held[name])
        reuse.append(kind)
    return Plan(storage, elements, born, last, tuple(reuse))


_VIEWS_TRAINING = frozenset(VIEW_OPS)
_VIEWS_INFERENCE = frozenset(VIEW_OPS + ("dropout", "stochastic_depth"))
_INPLACE = frozenset(INPLACE_OPS)
_NONE: frozenset[str] = frozenset()


def _held_by_callers(layers: Any) -> tuple[dict[str, int], dict[tuple[str, ...], int]]:
    """A block's input stays referenced by its caller (`y = block(x)` in eager PyTorch: the caller's
    frame, nn.Sequential's loop variable) until the block returns: tensor -> last layer of the block;
    and each block's last layer (block scope -> index)."""
    first: dict[tuple[str, ...], int] = {}
    end: dict[tuple[str, ...], int] = {}
    n = len(layers)
    i = 0
    while i < n:   # a run of layers in one block call shares its scope tuple: its prefixes are set once
        scope = layers[i].scope
        j = i + 1
        while j < n and layers[j].scope is scope:
            j += 1
        for k in range(1, len(scope) + 1):
            first.setdefault(scope[:k], i)
            end[scope[:k]] = j - 1
        i = j
    out: dict[str, int] = {}
    if not first:
        return out, end
    from bisect import bisect_right

    index = {layer.name: i for i, layer in enumerate(layers)}
    # a layer reads earlier layers only: within a block [a, b] a layer that reads nothing before its
    # predecessor reads nothing outside the block unless it is the block's first; the others (joins of
    # branches, skips) are the few `far` ones
    far = []
    for i, layer in enumerate(layers):
        inputs = layer.inputs
        if (len(inputs) != 1 or index.get(inputs[0], -1) < i - 1) \
                and min([index.get(src, -1) for src in inputs], default=i) < i - 1:
            far.append(i)
    for block, a in first.items():
        b = end[block]
        for i in [a] + far[bisect_right(far, a):bisect_right(far, b)]:
            for src in layers[i].inputs:
                if not a <= index.get(src, -1) <= b:
                    out[src] = max(out.get(src, -1), b)
    return out, end


def live_per_layer(p: Plan, n: int, sizes: dict[str, int], scale: int = 1) -> list[int]:
    """Bytes of every activation storage (not the input) alive while each layer runs: `sizes` × `scale`
    per storage (bytes, or elements and the bytes of one)."""
    delta = [0] * (n + 1)                  # a difference array: linear however long tensors live
    born, last, stop_max = p.born, p.last, n - 1
    for sid, b in sizes.items():
        start, stop = born[sid], last[sid]
        if start < 0:
            if sid == "input":
                continue
            start = 0
        stop = min(stop, stop_max)
        if start <= stop:
            b *= scale
            delta[start] += b
            delta[stop + 1] -= b
    return list(itertools.accumulate(delta[:n]))


def workspace(layer: Any) -> int:
    """Elements a layer holds only while it runs (per sample). Attention, unfused as torch's math path
    and torchvision's Swin/MaxViT code run it: its qkv tensor (3·T·D) and its scores (groups·heads·P²)
    are alive together. Fused kernels (`products: sdpa`, ViT's scaled_dot_product_attention on its flash or
    memory-efficient backend) never hold the scores: only qkv."""
    if layer.op == "attention":
        d = layer.output[-1] if len(layer.output) == 2 else layer.output[0]
        scores = 0 if layer.attrs.get("products") == "sdpa" else layer.counts["scores"]
        return concrete(3 * layer.counts["groups"] * layer.counts["tokens"] * d + scores, f"{layer.name}'s workspace")
    return 0
