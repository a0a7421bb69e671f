"""What each op's backward keeps: one pure rule per op name (the saved-tensor table).

A rule gets the layer and a `Ctx` and returns the tensors autograd saves for that op, as `Save`s
(it reads only the layer's op, output, attrs, counts and number of inputs: training.step reuses the
answer for layers alike):
`input` i (the storage of the layer's i-th input), `output` (the storage it writes), or `new` (a
storage made only to be saved: a clone, max-pool indices, a dropout mask, BN statistics).
Parameters are never listed (they are weights, counted once); under autocast the half-precision
weight copy a conv/fc saves is a `new` storage (`weight_copy`).

Sources: PyTorch `tools/autograd/derivatives.yaml` (which inputs/results each formula uses; the
generated code saves only those needed for inputs that require grad), the in-place codegen
(an in-place op whose formula needs the original input saves `original_self`, a clone), and the
modules' Python code (torchvision, torch.nn.functional). Each rule was checked on torch 2.14.1 with
`saved_tensors_hooks` (benchmarks/torch_memory.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import num
from ..record import record


@record(slots=True)
class Save:
    kind: str                 # input | output | new
    index: int = 0            # which input, for `input`
    elements: int = 0         # for `new`: elements (batch included)
    itemsize: int = 0         # for `new`: bytes per element
    what: str = ""            # shown in the per-layer table


@record(slots=True)
class Ctx:
    batch: int
    act_bytes: int            # bytes per element of activations (2 under autocast where the op runs in half)
    inplace: bool             # this layer writes into its input
    device: str               # cuda | cpu
    amp: bool                 # autocast on


def _el(shape: tuple[Any, ...]) -> int:
    return int(num.norm(num.prod(list(shape))))


_INPUTS: dict[tuple[int, str], Save] = {}


def _inp(i: int = 0, what: str = "input") -> Save:
    save = _INPUTS.get((i, what))
    if save is None:   # a frozen value: one per (index, label), however many layers save their input
        save = _INPUTS[(i, what)] = Save("input", i, what=what)
    return save


OUT = Save("output", what="output")
Rule = Callable[[Any, Ctx], tuple[Save, ...]]
RULES: dict[str, Rule] = {}


def rule(*names: str) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for n in names:
            RULES[n] = fn
        return fn
    return deco


@rule("conv", "dwconv", "conv_transpose", "fc")
def weighted(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # convolution_backward / addmm: mat1 (input) and weight; under autocast the weight is a cached
    # half copy (a storage of its own), the input is whatever reached the op (cast when it was fp32)
    saves = (_inp(),)
    if c.amp:
        w = int(num.norm(layer.counts.get("weights", 0)))
        saves += (Save("new", elements=w, itemsize=2, what="half weight copy"),)
    return saves


@rule("bn")
def bn(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # _batch_norm_with_update: input, weight, running stats (buffers) and result1/result2 =
    # save_mean, save_invstd: C each, float32 whatever the input dtype
    ch = _el(layer.output[:1])
    return (_inp(), Save("new", elements=ch, itemsize=4, what="mean"), Save("new", elements=ch, itemsize=4, what="invstd"))


@rule("layernorm", "layer_norm")
def layer_norm(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # native_layer_norm: input, mean, rstd (one per normalised row, float32), weight, bias. The
    # normalised axis is the features: C of a (C, H, W) map (ConvNeXt's LayerNorm2d and Swin/MaxViT
    # norms run on the channels, after a permute), D of (tokens, D), the vector itself of (D,)
    ch = layer.output[0] if len(layer.output) == 3 else layer.output[-1]
    rows = c.batch * (_el(layer.output) // int(num.norm(ch)))
    return (_inp(), Save("new", elements=rows, itemsize=4, what="mean"), Save("new", elements=rows, itemsize=4, what="rstd"))


@rule("relu", "sigmoid", "tanh", "softmax")
def result_saver(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # threshold_backward(grad, result), sigmoid_backward(grad, result), tanh_backward, _softmax_backward_data
    return (OUT,)


@rule("relu6", "swish", "hardswish", "hardsigmoid")
def input_saver(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # hardtanh_backward(grad, self), silu_backward(grad, self), hardswish_backward(grad, self),
    # hardsigmoid_backward(grad, self): the formula needs the input; the in-place variant
    # (nn.ReLU6/SiLU/Hardswish(inplace=True)) overwrites it, so autograd saves a clone (original_self)
    if c.inplace:
        return (Save("new", elements=c.batch * _el(layer.output), itemsize=c.act_bytes, what="input clone (in-place)"),)
    return (_inp(),)


@rule("gelu")
def gelu(layer: Any, c: Ctx) -> tuple[Save, ...]:
    return (_inp(),)                                 # gelu_backward(grad, self)


@rule("maxpool")
def maxpool(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # max_pool2d_with_indices: self and result1, the int64 indices (output-sized)
    return (_inp(), Save("new", elements=c.batch * _el(layer.output), itemsize=8, what="int64 indices"))


@rule("avgpool")
def avgpool(layer: Any, c: Ctx) -> tuple[Save, ...]:
    return (_inp(),)                                 # avg_pool2d_backward(grad, self, ...)


@rule("adaptive_avgpool")
def adaptive_avgpool(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # F.adaptive_avg_pool2d to 1×1 is a mean (saves only sizes); otherwise _adaptive_avg_pool2d saves self
    return () if tuple(layer.output[1:]) == (1, 1) else (_inp(),)


@rule("dropout")
def dropout(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # CUDA: native_dropout saves result1, a bool mask (1 byte); CPU: input * noise saves the noise
    # (a float tensor of the input's dtype)
    item = 1 if c.device == "cuda" else c.act_bytes
    if num.is_exact(layer.attrs.get("p", 0)) and layer.attrs.get("p", 0) == 0:
        return ()
    return (Save("new", elements=c.batch * _el(layer.output), itemsize=item, what="mask"),)


@rule("stochastic_depth")
def stochastic_depth(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # torchvision.ops.stochastic_depth: input * noise, noise B×1×1×1 ("row") or 1×1×1×1 ("batch") of the
    # input's dtype; mul saves the noise (the input's gradient needs it); p = 0 returns the input
    p = layer.attrs.get("p", 0)
    if num.is_exact(p) and p == 0:
        return ()
    n = 1 if layer.attrs.get("mode", "row") == "batch" else c.batch
    return (Save("new", elements=n, itemsize=c.act_bytes, what="noise"),)


@rule("mul")
def mul(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # mul: self's gradient needs other, other's needs self; both branches require grad
    return tuple(_inp(i, f"input {i}") for i in range(len(layer.inputs)))


@rule("lrn")
def lrn(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # torch.nn.functional.local_response_norm: x·x (saves x), pad, avg_pool3d (saves the padded
    # B×1×(C+size−1)×H×W), ·α + k, pow β (saves its base), x / div (saves x and div)
    ch, h, w = (int(num.norm(v)) for v in layer.output)
    size = int(layer.attrs.get("size", 5))
    el = c.batch * ch * h * w
    return (_inp(), Save("new", elements=c.batch * (ch + size - 1) * h * w, itemsize=c.act_bytes, what="padded squares"),
            Save("new", elements=el, itemsize=c.act_bytes, what="pow base"),
            Save("new", elements=el, itemsize=c.act_bytes, what="divisor"))


@rule("attention")
def attention(layer: Any, c: Ctx) -> tuple[Save, ...]:
    """Multi-head self-attention with its projections, by how it is computed (attrs `products`):
    sdpa (torchvision ViT, nn.MultiheadAttention → scaled_dot_product_attention): the in-projection
    saves its input; the packed q, k, v (a contiguous copy, 3·T·D), SDPA's output (T·D) and its
    logsumexp (heads·T float32) are saved by the fused kernel; the out-projection saves its input,
    the heads merged back, which is a view of SDPA's output (the fused kernel writes it token-major,
    so `permute(...).contiguous()` copies nothing: checked on the CPU flash kernel, torch 2.14.1).
    matmul (Swin) and einsum (MaxViT): three T·D operands of the two batched products — Swin's q·scale
    and the contiguous copies torch.matmul makes of the permuted views k and v to fold them into bmm;
    MaxViT's einsum copies q, k·scale and v the same way (qkv itself is not kept) — the softmax
    probabilities (G·heads·P·P, counts `scores`), the merged heads (T·D); a windowed layer's
    in-projection saves the partitioned copy of its input rather than the input itself (MaxViT
    partitions before its LayerNorm, which then saves the copy: the same count). Checked with
    saved_tensors_hooks on torch 2.14.1 (swin_t, maxvit_t).
    Under CUDA autocast (training.py lists attention with the half ops: linear, matmul, bmm, einsum and
    scaled_dot_product_attention are in autocast's lower-precision list) everything above is half but
    softmax's probabilities (softmax is in the float32 list: saved in float32, and bmm then saves a half
    copy of them) and logsumexp; the in- and out-projection weights' half copies (4·D²) are cached and
    saved. Derived from aten/src/ATen/autocast_mode.h, not measured: CPU autocast keeps softmax and
    layer_norm in bf16, so the CPU cannot check it."""
    td = c.batch * _el(layer.output)
    heads = int(num.norm(layer.attrs.get("heads", 1)))
    tokens = int(num.norm(layer.counts.get("groups", 1) * layer.counts.get("tokens", 1)))
    a = c.act_bytes
    d = int(num.norm(layer.output[-1] if len(layer.output) == 2 else layer.output[0]))
    copies = (Save("new", elements=4 * d * d, itemsize=2, what="half weight copy"),) if c.amp else ()
    if layer.attrs.get("products") == "sdpa":
        return (_inp(), Save("new", elements=3 * td, itemsize=a, what="packed q, k, v"),
                Save("new", elements=td, itemsize=a, what="attention output"),
                Save("new", elements=c.batch * heads * tokens, itemsize=4, what="logsumexp")) + copies
    first = _inp() if not layer.attrs.get("window") else Save("new", elements=td, itemsize=a, what="windows")
    scores = int(num.norm(layer.counts.get("scores", heads * tokens * tokens)))
    if layer.attrs.get("products") == "matmul" and layer.attrs.get("cosine"):
        return _cosine_attention(layer, c, first, td, heads, tokens, scores) + copies
    return (first, Save("new", elements=td, itemsize=a, what="q (bmm operand)"),
            Save("new", elements=td, itemsize=a, what="k (bmm operand)"),
            Save("new", elements=td, itemsize=a, what="v (bmm operand)")) + _probabilities(c, scores) + \
        (Save("new", elements=td, itemsize=a, what="merged heads"),) + copies


def _probabilities(c: Ctx, scores: int) -> tuple[Save, ...]:
    """softmax's output (float32 under autocast) and, under autocast, the half copy bmm casts it to."""
    if not c.amp:
        return (Save("new", elements=c.batch * scores, itemsize=c.act_bytes, what="probabilities"),)
    return (Save("new", elements=c.batch * scores, itemsize=4, what="probabilities"),
            Save("new", elements=c.batch * scores, itemsize=2, what="half probabilities (bmm operand)"))


def _cosine_attention(layer: Any, c: Ctx, first: Save, td: int, heads: int, tokens: int, scores: int) -> tuple[Save, ...]:
    """Swin v2 (torchvision shifted_window_attention with logit_scale and the continuous position bias):
    F.normalize(q), F.normalize(k) save their inputs, views of the qkv tensor (3·T·D, kept whole), and
    each its norm and the clamped norm (heads·tokens each); the products save q̂ (T·D) and the bmm copy of
    k̂ᵀ (T·D); exp(clamped logit_scale) (heads); `attn * logit_scale` saves the raw cosine scores and the
    softmax its probabilities (G·heads·P² each); v's bmm copy and the merged heads (T·D each). The
    position-bias MLP runs once per layer, without the batch: ReLU's output ((2w−1)²·hidden) and
    16·sigmoid's (heads·P²). Checked with saved_tensors_hooks on torch 2.14.1 (swin_v2_t)."""
    a = c.act_bytes
    rows = c.batch * heads * tokens
    w = int(num.norm(layer.attrs.get("window", 0)))
    hidden = int(num.norm(layer.attrs.get("cpb_hidden", 0)))
    per_group = int(num.norm(layer.counts.get("tokens", tokens)))
    return (first, Save("new", elements=3 * td, itemsize=a, what="q, k, v"),
            Save("new", elements=rows, itemsize=a, what="|q|"), Save("new", elements=rows, itemsize=a, what="clamped |q|"),
            Save("new", elements=rows, itemsize=a, what="|k|"), Save("new", elements=rows, itemsize=a, what="clamped |k|"),
            Save("new", elements=td, itemsize=a, what="q̂"), Save("new", elements=td, itemsize=a, what="k̂ (bmm copy)"),
            Save("new", elements=heads, itemsize=4, what="logit scale"),
            # autocast: `attn * logit_scale` promotes to the float32 scale's dtype
            Save("new", elements=c.batch * scores, itemsize=4 if c.amp else a, what="cosine scores")) + \
        _probabilities(c, scores) + \
        (Save("new", elements=td, itemsize=a, what="v (bmm copy)"),
         Save("new", elements=td, itemsize=a, what="merged heads"),
         Save("new", elements=(2 * w - 1) ** 2 * hidden, itemsize=a, what="position-bias MLP hidden"),
         Save("new", elements=heads * per_group * per_group, itemsize=a, what="16·sigmoid(bias)"))


@rule("add", "concat", "flatten", "identity", "gap", "mean", "split", "crop", "param", "select", "channel_shuffle",
      "token", "tokens", "patch_merge")
def nothing(layer: Any, c: Ctx) -> tuple[Save, ...]:
    # add/cat: gradients pass through; views (flatten, slicing, split, a token): nothing; gap = mean over
    # H, W (saves sizes only); channel shuffle, tokens (flatten + transpose), patch merging (strided
    # slices + cat): copies whose backward needs no data; param: a leaf parameter
    return ()


def fallback(layer: Any, c: Ctx) -> tuple[Save, ...]:
    """An op without a rule: assume its backward needs every input (the common case), and say so."""
    return tuple(_inp(i, f"input {i} (no rule: assumed)") for i in range(len(layer.inputs)))


def saves_of(layer: Any, c: Ctx) -> tuple[tuple[Save, ...], bool]:
    """The layer's saves and whether a rule (not the fallback) gave them."""
    fn = RULES.get(layer.op)
    return (fn(layer, c), True) if fn else (fallback(layer, c), False)
