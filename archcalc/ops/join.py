"""Joins of branches: concat along channels, elementwise add (residual), broadcast multiply (SE)."""
from __future__ import annotations

from .. import num
from ..errors import ShapeError
from . import Args, OpResult, Shape, register


def _show(shape: Shape) -> str:
    return "×".join(num.fmt(x) for x in shape)


def _same(a: object, b: object) -> bool:
    if num.is_exact(a) and num.is_exact(b):
        return a == b
    from .. import canon

    known = canon.join_equal(num.to_sympy(a), num.to_sympy(b))
    if known is not None:
        return known
    import sympy

    return sympy.simplify(num.to_sympy(a) - num.to_sympy(b)) == 0


@register("concat", arity="many")
def concat(inputs: list[Shape], a: Args) -> OpResult:
    """Concatenate along channels; spatial sizes must agree."""
    first = inputs[0]
    for i, shape in enumerate(inputs[1:], 1):
        if len(shape) != len(first) or not all(_same(x, y) for x, y in zip(shape[1:], first[1:])):
            raise ShapeError(f"concat: branch {i} gives {_show(shape)} but branch 0 gives {_show(first)}; "
                             f"spatial sizes must match")
    return OpResult(output=(num.norm(sum(s[0] for s in inputs)),) + tuple(first[1:]))


@register("add", arity="many")
def add(inputs: list[Shape], a: Args) -> OpResult:
    """Elementwise sum (residual connection); shapes must match exactly."""
    first = inputs[0]
    for i, shape in enumerate(inputs[1:], 1):
        if len(shape) != len(first) or not all(_same(x, y) for x, y in zip(shape, first)):
            raise ShapeError(f"add: branch {i} gives {_show(shape)} but branch 0 gives {_show(first)}; "
                             f"a residual sum needs equal shapes (use a projection shortcut)")
    return OpResult(output=first, counts={"elements": num.prod(first)})


@register("mul", arity="many")
def mul(inputs: list[Shape], a: Args) -> OpResult:
    """Elementwise product with broadcasting of 1×1 maps (squeeze-excitation scaling)."""
    # each axis takes the size that is not 1 (symbolic sizes such as H count as not 1)
    out = [next((s[i] for s in inputs if i < len(s) and not (num.is_exact(s[i]) and s[i] == 1)), 1)
           for i in range(len(inputs[0]))]
    for shape in inputs:
        if len(shape) != len(out) or not all(x == 1 or _same(x, y) for x, y in zip(shape, out)):
            raise ShapeError(f"mul: {_show(shape)} does not broadcast to {_show(tuple(out))}")
    return OpResult(output=tuple(out), counts={"elements": num.prod(tuple(out))})
