"""Fully connected, flatten, batch norm, local response norm."""
from __future__ import annotations

from fractions import Fraction

from .. import num
from ..errors import ShapeError
from . import ArgSpec, Args, OpResult, Shape, register


@register("fc", {"c": ArgSpec("int", required=True), "bias": ArgSpec("bool", True),
                 "pointwise": ArgSpec("bool", False)})
def fc(inputs: list[Shape], a: Args) -> OpResult:
    """Fully connected: params F_in·F_out (+ F_out bias); MACs F_in·F_out per position. On a flat
    vector one position; on N×D tokens it maps the last axis of each of the N tokens; on C×H×W with
    `pointwise: true` it maps the channels at each of the H·W positions (torch's nn.Linear on a
    channels-last tensor, as ConvNeXt, Swin and MaxViT use it)."""
    shape = inputs[0]
    pointwise = a.bool("pointwise")
    if len(shape) == 3 and not pointwise:
        raise ShapeError(f"`fc` needs a flat input or N×D tokens, got {'×'.join(num.fmt(x) for x in shape)}; "
                         f"add `flatten` before it, or say `pointwise: true` to map the channels at every position")
    c_out = a.int("c")
    c_in, positions = (shape[0], 1) if len(shape) == 1 else (shape[-1], shape[0]) if len(shape) == 2 \
        else (shape[0], num.norm(shape[1] * shape[2]))
    out = (c_out,) if len(shape) == 1 else (shape[0], c_out) if len(shape) == 2 else (c_out,) + tuple(shape[1:])
    weights = num.norm(c_in * c_out)
    bias = c_out if a.bool("bias") else 0
    return OpResult(output=out, params=num.norm(weights + bias), macs=num.norm(weights * positions),
                    rf="global" if len(shape) == 1 else None,
                    attrs={"bias": bool(bias)}, counts={"weights": weights, "bias": bias, "positions": positions})


@register("flatten")
def flatten(inputs: list[Shape], a: Args) -> OpResult:
    """C×H×W → C·H·W."""
    return OpResult(output=(num.prod(inputs[0]),), rf="global" if len(inputs[0]) == 3 else None)


@register("bn", {"eps": ArgSpec("num", Fraction(1, 100000)), "affine": ArgSpec("bool", True)})
def bn(inputs: list[Shape], a: Args) -> OpResult:
    """Batch norm: γ, β trainable (2C); running mean and variance non-trainable (2C)."""
    c = inputs[0][0]
    return OpResult(output=inputs[0], params=2 * c if a.bool("affine") else 0, buffers=2 * c,
                    attrs={"eps": a.number("eps"), "affine": a.bool("affine")},
                    counts={"elements": num.prod(inputs[0])})


@register("lrn", {"size": ArgSpec("int", 5), "alpha": ArgSpec("num", Fraction(1, 10000)),
                  "beta": ArgSpec("num", Fraction(3, 4)), "k": ArgSpec("num", 1)})
def lrn(inputs: list[Shape], a: Args) -> OpResult:
    """Local response normalisation across channels (AlexNet): no parameters."""
    return OpResult(output=inputs[0], attrs={"size": a.int("size"), "alpha": a.number("alpha"),
                                             "beta": a.number("beta"), "k": a.number("k")})
