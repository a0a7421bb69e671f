"""Shape-preserving ops: activations, dropout, stochastic depth, identity, channel shuffle."""
from __future__ import annotations

from fractions import Fraction

from .. import num
from ..errors import ShapeError
from . import ArgSpec, Args, OpResult, Shape, register


def _pointwise(name: str, doc: str) -> None:
    def handler(inputs: list[Shape], a: Args) -> OpResult:
        return OpResult(output=inputs[0], counts={"elements": num.prod(inputs[0])})
    handler.__doc__ = doc
    register(name)(handler)


for _name, _doc in [("relu", "max(0, x)"), ("relu6", "min(max(0, x), 6)"), ("sigmoid", "1/(1+e^−x)"),
                    ("tanh", "tanh x"), ("swish", "x·sigmoid(x) (SiLU)"), ("hardswish", "x·relu6(x+3)/6"),
                    ("hardsigmoid", "relu6(x+3)/6 (MobileNetV3's SE gate, PyTorch nn.Hardsigmoid)"),
                    ("softmax", "softmax over channels"), ("identity", "x")]:
    _pointwise(_name, _doc)


@register("dropout", {"p": ArgSpec("num", Fraction(1, 2))})
def dropout(inputs: list[Shape], a: Args) -> OpResult:
    """Dropout: the identity at inference."""
    p = a.number("p")
    if num.is_exact(p) and not 0 <= p < 1:
        raise a.error("p", f"expected a probability in [0, 1), got {num.fmt(p)}")
    return OpResult(output=inputs[0], attrs={"p": p})


@register("stochastic_depth", {"p": ArgSpec("num", Fraction(1, 10)), "mode": ArgSpec("text", "row", choices=("row", "batch"))})
def stochastic_depth(inputs: list[Shape], a: Args) -> OpResult:
    """Stochastic depth (Huang et al. 2016; torchvision.ops.StochasticDepth): drops the residual
    branch with probability p while training; the identity at inference (no params, no MACs)."""
    p = a.number("p")
    if num.is_exact(p) and not 0 <= p <= 1:
        raise a.error("p", f"expected a probability in [0, 1], got {num.fmt(p)}")
    return OpResult(output=inputs[0], attrs={"p": p, "mode": a.text("mode")})


@register("channel_shuffle", {"groups": ArgSpec("int", required=True)})
def channel_shuffle(inputs: list[Shape], a: Args) -> OpResult:
    """ShuffleNet channel shuffle: no parameters."""
    g = a.int("groups")
    c = inputs[0][0]
    if num.is_exact(c) and c % g:
        raise ShapeError(f"groups={g} does not divide the {c} channels")
    return OpResult(output=inputs[0], attrs={"groups": g})
