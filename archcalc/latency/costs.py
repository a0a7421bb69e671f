"""Per-op cost rules and the fusion model: which layers run as kernels, and what each kernel moves and computes.

Every leaf layer is looked up in `RULES` by its op name. A rule gives the layer's *class* (how a device
executes it) and its FLOPs; bytes are counted the same way for every kernel: every input tensor read
once, the output written once, the weights (params + buffers) read once, all at the dtype's width.

Classes:
- `gemm`      conv (groups = 1), fc, conv_transpose: tensor-core matrix multiplies; FLOPs = 2 × MACs.
- `grouped`   grouped convs (1 < groups < C_in): tensor cores, one small GEMM per group.
- `depthwise` groups = C_in: CUDA-core stencils (no tensor cores); FLOPs = 2 × MACs.
- `norm`      batch norm / LRN when they run as their own pass (2 FLOPs an element for BN).
- `eltwise`   activations, residual adds, softmax: one pass over memory.
- `broadcast` a join whose inputs differ in shape (SE scaling: C×H×W times C×1×1): one pass, but a
              broadcast over a channels-last tensor does not vectorise like a same-shape pass.
- `pool`      max/avg pooling: k_h·k_w FLOPs per output element.
- `reduce`    global/adaptive average pooling: one FLOP per input element.
- `copy`      concat, channel shuffle, crop: every input read, the output written.
- `view`      flatten, identity, dropout (inference), select: no kernel, no cost.

Fallback (an op with no rule, e.g. one added after this table): a layer with weight MACs is a `gemm`
kernel (FLOPs = 2 × MACs), any other layer one `eltwise` pass reading its inputs and writing its output.
The fallback is reported per layer (`rule: fallback`) so a user sees where the estimate guesses.

Fusion model (`fusion="inference"`, what an inference engine such as TensorRT or torch.compile does):
- batch norm folds into the conv/fc/conv_transpose before it (the weights absorb the scale and shift)
  when that layer's output has no other consumer: no pass of its own;
- an activation fuses into the kernel that produces its input (conv, BN, add, pool, ...) when that
  output has no other consumer: the producer writes the activated output, no pass of its own;
- pooling, adds, concats, SE scaling and depthwise convs each read and write memory.
`fusion="none"` runs every non-view layer as its own kernel: PyTorch eager, with or without CUDA graphs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import num
from ..analysis import DTYPE_BYTES, Analysis
from ..errors import UsageError
from ..graph import Layer
from ..record import record

CLASSES = ("gemm", "grouped", "depthwise", "norm", "eltwise", "broadcast", "pool", "reduce", "copy", "view")
ACTIVATIONS = frozenset({"relu", "relu6", "sigmoid", "tanh", "swish", "hardswish", "hardsigmoid", "gelu",
                         "leaky_relu", "elu", "mish", "silu"})
FOLDS_INTO = frozenset({"gemm", "grouped", "depthwise"})
FUSIONS = ("inference", "none")


def _elements(shape: tuple[Any, ...]) -> Any:
    return num.prod(list(shape))


def _conv_class(layer: Layer) -> str:
    groups = layer.attrs.get("groups", 1)
    c_in = layer.in_shapes[0][0]
    if groups == 1:
        return "gemm"
    return "depthwise" if groups == c_in else "grouped"


def _macs_flops(layer: Layer) -> Any:
    return 2 * layer.macs


Rule = tuple[Callable[[Layer], str], Callable[[Layer], Any]]


def _const(cls: str) -> Callable[[Layer], str]:
    return lambda layer: cls


def _per_out(k: int) -> Callable[[Layer], Any]:
    return lambda layer: k * _elements(layer.output)


def _pool_flops(layer: Layer) -> Any:
    kh, kw = layer.attrs.get("k", (1, 1))
    return kh * kw * _elements(layer.output)


def _per_in(layer: Layer) -> Any:
    return sum((_elements(s) for s in layer.in_shapes), 0)


def _join_class(layer: Layer) -> str:
    return "eltwise" if all(tuple(s) == tuple(layer.output) for s in layer.in_shapes) else "broadcast"


def _lrn_flops(layer: Layer) -> Any:
    return (layer.attrs.get("size", 5) + 4) * _elements(layer.output)


RULES: dict[str, Rule] = {
    "conv": (_conv_class, _macs_flops),
    "dwconv": (_const("depthwise"), _macs_flops),
    "conv_transpose": (_conv_class, _macs_flops),
    "fc": (_const("gemm"), _macs_flops),
    "attention": (_const("gemm"), _macs_flops),
    "bn": (_const("norm"), _per_out(2)),
    "layernorm": (_const("norm"), _per_out(5)),
    "lrn": (_const("norm"), _lrn_flops),
    "maxpool": (_const("pool"), _pool_flops),
    "avgpool": (_const("pool"), _pool_flops),
    "gap": (_const("reduce"), _per_in),
    "adaptive_avgpool": (_const("reduce"), _per_in),
    "mean": (_const("reduce"), _per_in),
    "concat": (_const("copy"), _per_out(0)),
    "add": (_join_class, _per_out(1)),
    "mul": (_join_class, _per_out(1)),
    "channel_shuffle": (_const("copy"), _per_out(0)),
    "crop": (_const("copy"), _per_out(0)),
    "softmax": (_const("eltwise"), _per_out(5)),
    "flatten": (_const("view"), _per_out(0)),
    "identity": (_const("view"), _per_out(0)),
    "dropout": (_const("view"), _per_out(0)),
    "select": (_const("view"), _per_out(0)),
    "split": (_const("view"), _per_out(0)),
    "stochastic_depth": (_const("view"), _per_out(0)),   # identity at inference
    "param": (_const("view"), _per_out(0)),              # a stored tensor: its join (add/mul/concat) reads it
    "tokens": (_const("view"), _per_out(0)),             # flatten + transpose: the next kernel reads it strided
    "token": (_const("view"), _per_out(0)),              # one token (the class token): a slice
    "patch_merge": (_const("copy"), _per_out(0)),        # Swin: four strided slices concatenated, one copy
    **{a: (_const("eltwise"), _per_out(4 if a in ("swish", "silu", "sigmoid", "gelu", "tanh", "mish", "elu") else 1))
       for a in ACTIVATIONS},
}


@record
class Kernel:
    """One pass over memory: a layer, plus the layers fused into it."""
    name: str                 # the layer that launches the kernel
    op: str                   # its registry op
    kind: str                 # its JSON op (`conv` for every convolution)
    cls: str                  # one of CLASSES
    flops: int
    bytes: int
    weight_bytes: int
    fused: tuple[str, ...]    # later layers folded or fused into this kernel
    rule: str                 # `table` or `fallback`
    batch: int
    output: tuple[int, ...]   # the kernel's output shape (without batch)
    positions: int            # output positions × batch (the GEMM's M for convs)
    c_out: int
    c_in: int
    groups: int


def _int(x: Any, what: str) -> int:
    x = num.norm(x)
    if not isinstance(x, int):
        raise UsageError(f"latency needs concrete sizes; {what} is {num.fmt(x)} (give a numeric --input and --batch)")
    return x


def rule_for(layer: Layer) -> tuple[str, Any, str]:
    """(class, FLOPs per image, `table`|`fallback`) of one layer."""
    rule = RULES.get(layer.op)
    if rule is not None:
        return rule[0](layer), rule[1](layer), "table"
    if layer.macs:
        return "gemm", 2 * layer.macs, "fallback"
    return "eltwise", _elements(layer.output), "fallback"


def kernels(a: Analysis, fusion: str = "inference") -> list[Kernel]:
    """The kernels a runtime launches for one forward pass of `a` (its batch and dtype)."""
    if fusion not in FUSIONS:
        raise UsageError(f"unknown fusion `{fusion}`; known: {', '.join(FUSIONS)}")
    width = DTYPE_BYTES[a.dtype]
    batch = _int(a.batch, "the batch")
    layers = [r.layer for r in a.rows]
    consumers: dict[str, int] = {}
    for layer in layers:
        for name in layer.inputs:
            consumers[name] = consumers.get(name, 0) + 1
    consumers[a.network.output_source] = consumers.get(a.network.output_source, 0) + 1

    owner: dict[str, int] = {}            # tensor name -> index of the open kernel that produces it
    alias: dict[str, str] = {}            # a view's name -> the tensor it shows
    built: list[dict[str, Any]] = []
    for layer in layers:
        cls, flops, how = rule_for(layer)
        flops = _int(num.norm(flops * layer.times), f"{layer.name}'s FLOPs")
        src = alias.get(layer.inputs[0], layer.inputs[0])
        if cls == "view":
            alias[layer.name] = src
            continue
        k = owner.get(src)
        single = len(layer.inputs) == 1 and consumers.get(src, 0) == 1 and k is not None
        if fusion == "inference" and single and (
                (layer.op == "bn" and built[k]["cls"] in FOLDS_INTO and not built[k]["fused"])
                or layer.op in ACTIVATIONS):
            built[k]["fused"].append(layer.name)
            built[k]["flops"] += flops * batch
            built[k]["out"] = layer.output
            owner[layer.name] = k
            del owner[src]
            continue
        reads = sum((_int(_elements(s), f"{layer.name}'s input") for s in layer.in_shapes), 0)
        c_in = layer.in_shapes[0][0] if layer.in_shapes and layer.in_shapes[0] else 1
        owner[layer.name] = len(built)
        built.append({"layer": layer, "cls": cls, "flops": flops * batch, "reads": reads, "fused": [], "rule": how,
                      "out": layer.output, "weights": _int(num.norm((layer.params + layer.buffers) * layer.times),
                                                           f"{layer.name}'s weights"),
                      "c_in": _int(c_in, f"{layer.name}'s channels")})
    out = []
    for b in built:
        layer = b["layer"]
        out_elems = _int(_elements(b["out"]), f"{layer.name}'s output")
        weight_bytes = b["weights"] * width
        positions = _int(_elements(layer.output[1:]) if len(layer.output) == 3 else 1, f"{layer.name}'s output")
        out.append(Kernel(
            name=layer.name, op=layer.op, kind=layer.kind, cls=b["cls"], flops=b["flops"],
            bytes=(b["reads"] + out_elems) * batch * width + weight_bytes, weight_bytes=weight_bytes,
            fused=tuple(b["fused"]), rule=b["rule"], batch=batch, output=tuple(_int(x, "output") for x in b["out"]),
            positions=positions * batch, c_out=_int(layer.output[0], "channels"), c_in=b["c_in"],
            groups=_int(layer.attrs.get("groups", 1), "groups")))
    return out


def describe(fusion: str) -> str:
    return {"inference": "BN folded into the conv before it, activations fused into their producer",
            "none": "no fusion: every layer its own kernel (PyTorch eager)"}[fusion]



