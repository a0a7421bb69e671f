"""Convolutions: standard, grouped, depthwise, transposed."""
from __future__ import annotations


from .. import num
from ..errors import ShapeError
from . import ArgSpec, Args, OpResult, Shape, register, spatial
from .sizes import conv_out, effective_kernel, same_out, same_padding, transposed_out

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

CONV_ARGS = {
    "c": ArgSpec("int"), "k": ArgSpec("pair", required=True), "s": ArgSpec("pair", 1),
    "p": ArgSpec("pad", 0), "d": ArgSpec("pair", 1), "groups": ArgSpec("int", 1),
    "bias": ArgSpec("bool", True), "round": ArgSpec("text", None, choices=("exact", "floor", "ceil")),
}


def padding(a: Args, sizes: tuple[Any, Any], k_eff: tuple[Any, Any], s: tuple[Any, Any]) -> tuple[Any, Any, Any, Any]:
    """Padding as (top, bottom, left, right) from an int, [h, w], [t, b, l, r], 'same' or 'valid'."""
    v = a.value("p")
    if v == "same":
        if a.ideal:  # output exactly N/S: total padding K_eff − S, split evenly
            (t, b), (l, r) = ((num.div(k_eff[i] - s[i], 2),) * 2 for i in range(2))
            return t, b, l, r
        (t, b), (l, r) = (same_padding(sizes[i], k_eff[i], s[i]) for i in range(2))
        return t, b, l, r
    if v == "valid":
        return 0, 0, 0, 0
    if isinstance(v, str):
        raise a.error("p", f"expected a number, [h, w], [top, bottom, left, right], 'same' or 'valid', got {v!r}")
    values = [a._check_int("p", a._eval("p", x), 0) for x in v] if isinstance(v, (list, tuple)) else [a._check_int("p", v, 0)]
    if len(values) == 1:
        return values[0], values[0], values[0], values[0]
    if len(values) == 2:
        return values[0], values[0], values[1], values[1]
    if len(values) == 4:
        return tuple(values)  # type: ignore[return-value]
    raise a.error("p", f"expected 1, 2 or 4 padding values, got {len(values)}")


def window(shape: Shape, a: Args, k: tuple[Any, Any], s: tuple[Any, Any], d: tuple[Any, Any],
           ceil_mode: bool = False) -> tuple[tuple[Any, Any], tuple[Any, Any, Any, Any], tuple[Any, Any]]:
    """Output (H, W), padding and effective kernel of a sliding window over a C×H×W input."""
    _, h, w = shape
    k_eff = (effective_kernel(k[0], d[0]), effective_kernel(k[1], d[1]))
    pad = padding(a, (h, w), k_eff, s)
    # 'same' gives ceil(N/S) by definition; when the kernel is smaller than the stride its padding
    # clips at 0 and (N − K)/S need not divide, so the size floors (TensorFlow, Keras)
    mode = a.rounding()
    if a.value("p") == "same" and mode != "ideal":
        if not (num.is_exact(h) and num.is_exact(w)):
            return (same_out(h, s[0]), same_out(w, s[1])), pad, k_eff
        mode = "floor"
    oh = conv_out(h, k_eff[0], s[0], pad[0], pad[1], mode, "height", ceil_mode)
    ow = conv_out(w, k_eff[1], s[1], pad[2], pad[3], mode, "width", ceil_mode)
    return (oh, ow), pad, k_eff


def _conv(shape: Shape, a: Args, c_out: Any, groups: Any) -> OpResult:
    c_in, _, _ = spatial(shape, a.op.name)
    k, s, d = a.pair("k"), a.pair("s"), a.pair("d")
    if num.is_exact(groups) and num.is_exact(c_in) and c_in % groups:
        raise ShapeError(f"groups={groups} does not divide the {c_in} input channels")
    if num.is_exact(groups) and num.is_exact(c_out) and c_out % groups:
        raise ShapeError(f"groups={groups} does not divide the {c_out} output channels")
    (oh, ow), pad, k_eff = window(shape, a, k, s, d)
    weights = num.norm(k[0] * k[1] * num.div(c_in, groups) * c_out)
    bias = c_out if a.bool("bias") else 0
    return OpResult(
        output=(c_out, oh, ow), params=num.norm(weights + bias), macs=num.norm(weights * oh * ow),
        rf=((k_eff[0], s[0], pad[0]), (k_eff[1], s[1], pad[2])),
        attrs={"k": k, "s": s, "d": d, "pad": pad, "groups": groups, "bias": bool(bias)},
        counts={"weights": weights, "bias": bias, "positions": num.norm(oh * ow)})


@register("conv", CONV_ARGS | {"c": ArgSpec("int", required=True)})
def conv(inputs: list[Shape], a: Args) -> OpResult:
    """2-D convolution: params K_h·K_w·(C_in/g)·C_out (+ C_out bias); MACs params·H_out·W_out."""
    return _conv(inputs[0], a, a.int("c"), a.int("groups"))


@register("dwconv", {k: v for k, v in CONV_ARGS.items() if k not in ("c", "groups")} | {"m": ArgSpec("int", 1)},
          kind="conv")
def dwconv(inputs: list[Shape], a: Args) -> OpResult:
    """Depthwise convolution: groups = C_in, C_out = m·C_in (depth multiplier m)."""
    c_in = spatial(inputs[0], "dwconv")[0]
    return _conv(inputs[0], a, num.norm(c_in * a.int("m")), c_in)


@register("conv_transpose", {k: v for k, v in CONV_ARGS.items() if k != "round"}
          | {"c": ArgSpec("int", required=True), "p": ArgSpec("pair", 0), "output_padding": ArgSpec("pair", 0)},
          kind="conv_transpose")
def conv_transpose(inputs: list[Shape], a: Args) -> OpResult:
    """Transposed convolution (PyTorch): out = (N−1)·S − 2P + d·(K−1) + output_padding + 1.
    Each input position scatters K_h·K_w·C_out/g products: MACs K_h·K_w·(C_out/g)·C_in·H_in·W_in."""
    c_in, h, w = spatial(inputs[0], "conv_transpose")
    c_out, groups = a.int("c"), a.int("groups")
    k, s, d = a.pair("k"), a.pair("s"), a.pair("d")
    p, op = a.pair("p", 0), a.pair("output_padding", 0)
    for axis in range(2):
        if num.is_exact(op[axis]) and num.is_exact(s[axis]) and num.is_exact(d[axis]) and op[axis] >= max(s[axis], d[axis]):
            raise ShapeError(f"output_padding {op[axis]} must be smaller than the stride or the dilation")
    if num.is_exact(c_in) and c_in % groups or num.is_exact(c_out) and c_out % groups:
        raise ShapeError(f"groups={groups} must divide both {c_in} input and {c_out} output channels")
    oh = transposed_out(h, k[0], s[0], p[0], d[0], op[0])
    ow = transposed_out(w, k[1], s[1], p[1], d[1], op[1])
    weights = num.norm(k[0] * k[1] * c_in * num.div(c_out, groups))
    bias = c_out if a.bool("bias") else 0
    return OpResult(
        output=(c_out, oh, ow), params=num.norm(weights + bias), macs=num.norm(weights * h * w),
        rf=None, attrs={"k": k, "s": s, "d": d, "p": p, "output_padding": op, "groups": groups, "bias": bool(bias)},
        counts={"weights": weights, "bias": bias, "positions": num.norm(oh * ow)})
