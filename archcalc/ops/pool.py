"""Pooling: max, average, global average, adaptive average, spatial mean."""
from __future__ import annotations

from .. import num
from ..errors import ShapeError
from . import ArgSpec, Args, OpResult, Shape, register, spatial
from .conv import window

POOL_ARGS = {
    "k": ArgSpec("pair", required=True), "s": ArgSpec("pair", None), "p": ArgSpec("pad", 0),
    "d": ArgSpec("pair", 1), "ceil_mode": ArgSpec("bool", False),
    "round": ArgSpec("text", None, choices=("exact", "floor", "ceil")),
}


def _pool(inputs: list[Shape], a: Args, extra: dict[str, object]) -> OpResult:
    c = spatial(inputs[0], a.op.name)[0]
    k = a.pair("k")
    s = a.pair("s") if a.has("s") else k  # PyTorch and Keras: stride defaults to the window
    d = a.pair("d")
    ceil_mode = a.bool("ceil_mode")
    (oh, ow), pad, k_eff = window(inputs[0], a, k, s, d, ceil_mode)
    for axis, (kk, before, after) in enumerate(((k_eff[0], pad[0], pad[1]), (k_eff[1], pad[2], pad[3]))):
        if num.is_exact(before) and num.is_exact(kk) and max(before, after) * 2 > kk and a.value("p") != "same":
            raise ShapeError(f"padding {max(before, after)} is more than half the {kk}-wide window "
                             f"(PyTorch refuses this: a window could see only padding)")
    return OpResult(output=(c, oh, ow), rf=((k_eff[0], s[0], pad[0]), (k_eff[1], s[1], pad[2])),
                    attrs={"k": k, "s": s, "d": d, "pad": pad, "ceil_mode": ceil_mode, **extra},
                    counts={"window": num.norm(k[0] * k[1]), "input": num.prod(inputs[0])})


@register("maxpool", POOL_ARGS)
def maxpool(inputs: list[Shape], a: Args) -> OpResult:
    """Max pooling: no parameters; output floor((N + 2P − F)/S) + 1 (ceil with ceil_mode)."""
    return _pool(inputs, a, {})


@register("avgpool", POOL_ARGS | {"count_include_pad": ArgSpec("bool", True)})
def avgpool(inputs: list[Shape], a: Args) -> OpResult:
    """Average pooling: no parameters."""
    return _pool(inputs, a, {"count_include_pad": a.bool("count_include_pad")})


@register("gap")
def gap(inputs: list[Shape], a: Args) -> OpResult:
    """Global average pooling: C×H×W → C×1×1."""
    c, h, w = spatial(inputs[0], "gap")
    return OpResult(output=(c, 1, 1), rf="global", counts={"input": num.prod(inputs[0])})


@register("adaptive_avgpool", {"out": ArgSpec("pair", required=True)})
def adaptive_avgpool(inputs: list[Shape], a: Args) -> OpResult:
    """Adaptive average pooling to a fixed out×out grid (torchvision's AlexNet/VGG heads)."""
    c, h, w = spatial(inputs[0], "adaptive_avgpool")
    oh, ow = a.pair("out")
    rf = "global" if (oh, ow) == (1, 1) else None
    return OpResult(output=(c, oh, ow), rf=rf, attrs={"out": (oh, ow)}, counts={"input": num.prod(inputs[0])})


@register("mean", {"keepdim": ArgSpec("bool", False)})
def mean(inputs: list[Shape], a: Args) -> OpResult:
    """Spatial mean `x.mean([2, 3])` (torchvision's MNASNet and ShuffleNetV2 heads): C×H×W → C
    (C×1×1 with keepdim). The same numbers as global average pooling, but a tensor method,
    not a module: fvcore has no handle for aten::mean (0, where adaptive_avg_pool2d counts
    its input elements) and torchinfo sees no layer."""
    c = spatial(inputs[0], "mean")[0]
    keep = a.bool("keepdim")
    return OpResult(output=(c, 1, 1) if keep else (c,), rf="global", attrs={"keepdim": keep},
                    counts={"input": num.prod(inputs[0])})
