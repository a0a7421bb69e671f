"""Memory: activation bytes per layer, peak inference memory from tensor lifetimes, and a training estimate.

Inference model (what must be alive at once):
- a tensor lives from the layer that produces it until its last consumer has run; the network
  input lives until its last consumer, the network output to the end;
- views share their input's storage: flatten, identity, select/split (slicing), crop (a slice) and
  dropout and stochastic depth at inference;
- with `inplace` (default, as torchvision builds its models: nn.ReLU(inplace=True), nn.SiLU(inplace=True),
  `out += identity`), relu/relu6/swish/hardswish and a residual add write into their (first) input when
  no later layer still reads it; with `fuse_bn`, batch norm is folded into the previous layer
  (inference only) and also writes in place;
- the memory at a layer = every storage alive while it runs (its inputs, its output and every tensor
  a later layer still needs, branches included). Peak = the largest such sum; parameters are counted
  separately (all weights stay resident).

Training estimate (stated, not measured): weights (params + buffers) + gradients (trainable params)
+ optimizer state (sgd 0, momentum 1, adam 2 copies of the trainable params) + saved activations.
Saved activations assume every layer's output is kept for backward (views add nothing), plus the
input; in-place ops are not subtracted and framework workspaces, BN's saved statistics, dropout masks
and allocator fragmentation are not included.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import num
from .analysis import DTYPE_BYTES, Analysis
from .errors import UsageError

VIEW_OPS = ("flatten", "identity", "select", "dropout", "split", "crop", "stochastic_depth")
INPLACE_OPS = ("relu", "relu6", "swish", "hardswish", "add")
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class LayerMemory:
    name: str
    op: str
    activations: int          # output elements × batch
    activation_bytes: int     # … × bytes per element
    new_bytes: int            # storage this layer allocates (0 for views and in-place writes)
    live_bytes: int           # every storage alive while this layer runs
    reuse: str                # "" | "view" | "in-place"


@dataclass(frozen=True)
class Memory:
    name: str
    batch: int
    dtype: str
    inplace: bool
    fuse_bn: bool
    optimizer: str
    layers: tuple[LayerMemory, ...]
    input_bytes: int
    activation_bytes: int     # sum of every layer's output bytes (no reuse)
    param_bytes: int          # (params + buffers) × bytes
    peak_activation_bytes: int
    peak_layer: str
    peak_inference_bytes: int  # param_bytes + peak_activation_bytes
    gradient_bytes: int
    optimizer_bytes: int
    saved_activation_bytes: int
    training_bytes: int


def _int(x: Any, what: str) -> int:
    x = num.norm(x)
    if not isinstance(x, int):
        raise UsageError(f"memory needs concrete sizes; {what} is {num.fmt(x)} (give a numeric --input and --batch)")
    return x


def memory(a: Analysis, inplace: bool = True, fuse_bn: bool = False, optimizer: str = "adam") -> Memory:
    if optimizer not in OPTIMIZER_STATES:
        raise UsageError(f"unknown optimizer `{optimizer}`; known: {', '.join(OPTIMIZER_STATES)}")
    width = DTYPE_BYTES[a.dtype]
    batch = _int(a.batch, "the batch")
    rows = a.rows
    last_use = {"input": -1}
    for i, r in enumerate(rows):
        for name in r.layer.inputs:
            last_use[name] = i
    end = len(rows)
    last_use[a.network.output_source] = end

    # storage[tensor] = id of the buffer it lives in; size and end of life per buffer
    input_bytes = _int(num.prod(list(a.network.input)), "the input") * batch * width
    storage: dict[str, str] = {"input": "input"}
    size: dict[str, int] = {"input": input_bytes}
    born: dict[str, int] = {"input": -1}
    dies: dict[str, int] = {"input": last_use.get("input", -1)}
    reuse: list[str] = []
    for i, r in enumerate(rows):
        layer = r.layer
        first = layer.inputs[0]
        own = last_use.get(layer.name, i)
        if layer.op in VIEW_OPS:
            kind = "view"
        elif ((inplace and layer.op in INPLACE_OPS) or (fuse_bn and layer.op == "bn")) \
                and dies[storage[first]] <= i and storage[first] != "input":
            kind = "in-place"   # nothing after this layer reads the input: overwrite it
        else:
            kind = ""
        if kind:
            buf = storage[first]
            dies[buf] = max(dies[buf], own)
        else:
            buf = layer.name
            size[buf] = _int(r.activations, f"{layer.name}'s output") * width
            born[buf], dies[buf] = i, own
        storage[layer.name] = buf
        reuse.append(kind)

    live = [0] * len(rows)
    for buf, n in size.items():
        for i in range(max(born[buf], 0), min(dies[buf], end - 1) + 1):
            live[i] += n
    out = []
    for i, r in enumerate(rows):
        act = _int(r.activations, f"{r.layer.name}'s output")
        out.append(LayerMemory(r.layer.name, r.layer.op, act, act * width,
                               0 if reuse[i] else act * width, live[i], reuse[i]))
    peak_i = max(range(len(rows)), key=lambda i: (live[i], -i)) if rows else 0
    t = a.totals
    params = _int(t.trainable_params, "params") + _int(t.non_trainable_params, "params")
    params_and_buffers = params + (0 if a.convention == "keras" else _int(t.buffers, "buffers"))
    param_bytes = params_and_buffers * width
    trainable = _int(t.trainable_params, "params")
    saved = input_bytes + sum(m.activation_bytes for m in out if m.op not in VIEW_OPS)
    gradients = trainable * width
    opt = OPTIMIZER_STATES[optimizer] * trainable * width
    return Memory(
        name=a.name, batch=batch, dtype=a.dtype, inplace=inplace, fuse_bn=fuse_bn, optimizer=optimizer,
        layers=tuple(out), input_bytes=input_bytes, activation_bytes=sum(m.activation_bytes for m in out),
        param_bytes=param_bytes, peak_activation_bytes=live[peak_i] if rows else input_bytes,
        peak_layer=rows[peak_i].layer.name if rows else "input",
        peak_inference_bytes=param_bytes + (live[peak_i] if rows else input_bytes),
        gradient_bytes=gradients, optimizer_bytes=opt, saved_activation_bytes=saved,
        training_bytes=param_bytes + gradients + opt + saved)
