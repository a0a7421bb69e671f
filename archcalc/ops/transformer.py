"""Transformer ops: layer norm, GELU, learned tensors, token reshapes, patch merging, attention.

Layouts: a C×H×W tensor is channels-first; a token tensor is N×D (N tokens of D features,
torch's (batch, seq, dim) without the batch). Sources: torchvision/models/vision_transformer.py,
swin_transformer.py, convnext.py, maxvit.py (torchvision 0.29.1).
"""
from __future__ import annotations

from .. import num
from ..errors import ShapeError
from . import Args, ArgSpec, OpResult, Shape, register
from .sizes import require_whole

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any


def _show(shape: Shape) -> str:
    return "×".join(num.fmt(x) for x in shape)


def _features(shape: Shape) -> Any:
    """The normalised/projected axis: channels of C×H×W, features of N×D or of a flat vector."""
    return shape[0] if len(shape) in (1, 3) else shape[-1]


@register("layernorm", {"eps": ArgSpec("num", None), "affine": ArgSpec("bool", True), "bias": ArgSpec("bool", True)})
def layernorm(inputs: list[Shape], a: Args) -> OpResult:
    """Layer norm over the features of each position: channels of C×H×W (ConvNeXt's LayerNorm2d,
    Swin's channels-last nn.LayerNorm), D of N×D, or a flat vector. γ (and β) per feature; no buffers."""
    shape = inputs[0]
    c = _features(shape)
    affine, bias = a.bool("affine"), a.bool("bias")
    eps = a.value("eps")
    params = (c + (c if bias else 0)) if affine else 0
    return OpResult(output=shape, params=params, attrs={"eps": eps if eps is not None else num.div(1, 10**5),
                                                        "affine": affine, "bias": affine and bias},
                    counts={"elements": num.prod(shape)})


@register("gelu", {"approximate": ArgSpec("text", "none", choices=("none", "tanh"))})
def gelu(inputs: list[Shape], a: Args) -> OpResult:
    """GELU x·Φ(x) (exact erf form; `approximate: tanh` for the tanh form)."""
    return OpResult(output=inputs[0], attrs={"approximate": a.text("approximate")},
                    counts={"elements": num.prod(inputs[0])})


@register("param", {"shape": ArgSpec("list", required=True)})
def param(inputs: list[Shape], a: Args) -> OpResult:
    """A learned tensor of the given shape (class token, position embedding, layer scale), independent
    of the input: its elements are parameters; it computes nothing (join it with add/mul/concat)."""
    raw = a.value("shape")
    if not isinstance(raw, (list, tuple)) or not 1 <= len(raw) <= 3:
        raise a.error("shape", "expected a list of 1 to 3 sizes, e.g. [1, C] or [C, 1, 1]")
    shape = tuple(a._check_int("shape", a._eval("shape", v), 1) for v in raw)
    return OpResult(output=shape, params=num.prod(shape))


@register("tokens")
def tokens(inputs: list[Shape], a: Args) -> OpResult:
    """C×H×W → (H·W)×C: each position becomes a token of C features, row by row
    (torch `x.flatten(2).transpose(1, 2)`, ViT's `_process_input`)."""
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"`tokens` needs a C×H×W input, got {_show(shape)}")
    c, h, w = shape
    return OpResult(output=(num.norm(h * w), c))


@register("token", {"index": ArgSpec("int", 0)})
def token(inputs: list[Shape], a: Args) -> OpResult:
    """One token of an N×D sequence as a flat D vector (ViT's class token `x[:, 0]`)."""
    shape = inputs[0]
    if len(shape) != 2:
        raise ShapeError(f"`token` needs an N×D token sequence, got {_show(shape)}")
    i = a.int("index", 0)
    if num.is_exact(i) and num.is_exact(shape[0]) and i >= shape[0]:
        raise a.error("index", f"token {i} does not exist in a sequence of {shape[0]}")
    return OpResult(output=(shape[1],), attrs={"index": i})


@register("patch_merge")
def patch_merge(inputs: list[Shape], a: Args) -> OpResult:
    """Swin patch merging without its norm and linear: each 2×2 neighbourhood is concatenated,
    C×H×W → 4C×⌈H/2⌉×⌈W/2⌉ (odd sizes are zero-padded at the bottom/right first)."""
    shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(f"`patch_merge` needs a C×H×W input, got {_show(shape)}")
    c, h, w = shape
    return OpResult(output=(num.norm(4 * c), num.ceil(num.div(h, 2)), num.ceil(num.div(w, 2))),
                    rf=((2, 2, 0), (2, 2, 0)))


ATTENTION_ARGS = {
    "heads": ArgSpec("int"), "head_dim": ArgSpec("int"),
    "window": ArgSpec("int", 0), "shift": ArgSpec("int", 0),
    "partition": ArgSpec("text", "window", choices=("window", "grid")),
    "rel_pos": ArgSpec("text", "none", choices=("none", "table", "cpb")),
    "cpb_hidden": ArgSpec("int", 512), "cosine": ArgSpec("bool", False),
    "qkv_bias": ArgSpec("bool", True), "proj_bias": ArgSpec("bool", True),
    "products": ArgSpec("text", "matmul", choices=("matmul", "bmm", "einsum", "sdpa")),
    "projections": ArgSpec("text", "modules", choices=("modules", "functional", "mha")),
    "scale": ArgSpec("text", "head", choices=("head", "features")),   # 1/√(D/heads), or MaxViT's 1/√D
}


def einsum_fvcore(macs: int) -> int:
    """fvcore's einsum handler (jit_handles.einsum_flop_jit) reads numpy.einsum_path's printed
    'Optimized FLOP count' (format %.3e, multiply and add counted apart) and halves it with a floor:
    a product of `macs` multiply-adds counts floor(float('%.3e' % (2·macs)) / 2)."""
    return int(float(f"{2 * macs:.3e}") // 2)


@register("attention", ATTENTION_ARGS)
def attention(inputs: list[Shape], a: Args) -> OpResult:
    """Multi-head self-attention with its qkv and output projections.

    On N×D tokens: global attention over the N tokens (ViT). On C×H×W: over windows of
    window×window positions (Swin, zero-padded at the bottom/right to a multiple of the window,
    optionally cyclically shifted; MaxViT block attention) or, with `partition: grid`, over
    window×window positions spaced H/window apart (MaxViT grid attention); window 0 attends over
    all H·W positions. MACs (paper, torchvision `_ops`): qkv T·D·3D + the products QKᵀ and A·V,
    G·P²·D each (G groups of P tokens, T = G·P) + output projection T·D² (+ Swin V2's continuous
    position bias MLP on the (2w−1)² relative offsets)."""
    shape = inputs[0]
    if len(shape) not in (2, 3):
        raise ShapeError(f"`attention` needs N×D tokens or a C×H×W map, got {_show(shape)}")
    d = _features(shape)
    heads, head_dim = a.value("heads"), a.value("head_dim")
    if (heads is None) == (head_dim is None):
        raise a.error("heads", "give exactly one of `heads` and `head_dim`")
    if heads is None:
        head_dim = a.int("head_dim")
        if num.is_exact(d) and d % head_dim:
            raise ShapeError(f"head_dim {head_dim} does not divide the {d} features")
        heads = num.div(d, head_dim)
    else:
        heads = a.int("heads")
        if num.is_exact(d) and d % heads:
            raise ShapeError(f"{heads} heads do not divide the {d} features")
    w, shift, partition = a.int("window", 0), a.int("shift", 0), a.text("partition")
    rel_pos = a.text("rel_pos")
    if len(shape) == 2:
        if w or shift or partition == "grid":
            raise ShapeError("window, shift and grid attention need a C×H×W map; N×D tokens attend globally")
        if rel_pos != "none":
            raise a.error("rel_pos", "relative position bias needs a C×H×W map and a window")
        groups, per = 1, shape[0]
        rf: Any = "input"
    else:
        _, h, wd = shape
        if w == 0:
            if rel_pos != "none":
                raise a.error("rel_pos", "relative position bias needs a window")
            groups, per, rf = 1, num.norm(h * wd), "input"
        elif partition == "grid":
            for size, axis in ((h, "height"), (wd, "width")):
                if num.is_exact(size) and size % w:
                    raise ShapeError(f"grid attention: the {axis} {size} is not a multiple of the grid {w}")
                require_whole(num.div(size, w))
            groups, per, rf = num.norm(num.div(h, w) * num.div(wd, w)), w * w, "input"
        else:
            ph, pw = num.ceil(num.div(h, w)), num.ceil(num.div(wd, w))   # windows after padding
            groups, per = num.norm(ph * pw), w * w
            rf = ((2 * w - 1, 1, w - 1), (2 * w - 1, 1, w - 1))  # any position within w − 1 may share a window
        if num.is_exact(shift) and num.is_exact(w) and shift >= max(w, 1) and shift:
            raise a.error("shift", f"a shift of {shift} must be smaller than the window {w}")
    tokens_in = num.norm(groups * per)
    qkv_w, qkv_b = num.norm(3 * d * d), (3 * d if a.bool("qkv_bias") else 0)
    proj_w, proj_b = num.norm(d * d), (d if a.bool("proj_bias") else 0)
    params, buffers, cpb_params, cpb_macs = qkv_w + qkv_b + proj_w + proj_b, 0, 0, 0
    if rel_pos != "none":
        offsets = (2 * w - 1) ** 2
        buffers += per * per                                    # relative_position_index
        if rel_pos == "table":
            params += offsets * heads                           # relative_position_bias_table
        else:                                                   # Swin V2 cpb_mlp: Linear(2, h) + ReLU + Linear(h, heads, no bias)
            hidden = a.int("cpb_hidden")
            cpb_params = 2 * hidden + hidden + hidden * heads
            cpb_macs = offsets * (2 * hidden + hidden * heads)
            params += cpb_params
            buffers += offsets * 2                              # relative_coords_table
    if a.bool("cosine"):
        params += heads                                         # logit_scale
    product = num.norm(groups * per * per * d)                  # one of QKᵀ, A·V: G·heads·P·P·(D/heads)
    projections = num.norm(tokens_in * (qkv_w + proj_w))
    macs = num.norm(projections + 2 * product + cpb_macs)
    products = a.text("products")
    if products in ("matmul", "bmm"):                           # matmul_flop_jit, bmm_flop_jit: exact
        fv_products = 2 * product
    elif products == "einsum":
        fv_products = 2 * einsum_fvcore(product) if num.is_exact(product) else 2 * product
    else:                                                        # aten::scaled_dot_product_attention: no fvcore handle
        fv_products = 0
    style = a.text("projections")
    ti = {"modules": qkv_w + qkv_b + proj_w + proj_b, "functional": 0, "mha": 0}[style] + cpb_params
    return OpResult(
        output=shape, params=num.norm(params), buffers=num.norm(buffers), macs=macs, rf=rf,
        attrs={"heads": heads, "window": w, "shift": shift, "partition": partition, "rel_pos": rel_pos,
               "cpb_hidden": a.int("cpb_hidden") if rel_pos == "cpb" else 0, "cosine": a.bool("cosine"),
               "qkv_bias": bool(qkv_b), "proj_bias": bool(proj_b), "scale": a.text("scale"),
               "products": products, "projections": style},
        counts={"projections": projections, "products": num.norm(2 * product), "cpb": cpb_macs,
                "fvcore": num.norm(projections + fv_products + cpb_macs), "torchinfo": num.norm(ti),
                "groups": groups, "tokens": per, "scores": num.norm(groups * heads * per * per)})
