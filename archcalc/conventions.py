"""Counting conventions: how other counters count, reproduced from the layer graph.

Each convention is a pure function of a layer. Sources: fvcore `fvcore/nn/jit_handles.py` and
`flop_count.py` (default handles), torchinfo `torchinfo/layer_info.py` (`calculate_macs`), Keras
`keras/src/utils/summary_utils.py`; the rules and the totals they reproduce are recorded in
tests/data/torch_reference.json and keras_reference.json.
"""
from __future__ import annotations

from . import num
from .errors import UsageError, did_you_mean
from .graph import Layer
from .record import record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Callable


@record
class Convention:
    name: str
    description: str
    macs: Callable[[Layer], Any]
    buffers_are_params: bool = False   # Keras counts BN moving statistics as non-trainable params


def paper_macs(layer: Layer) -> Any:
    """Multiply-accumulates of conv and fc weights only (papers, slides, torchvision `_ops`)."""
    return layer.macs


def fvcore_macs(layer: Layer) -> Any:
    """fvcore FlopCountAnalysis (one multiply-add = one flop): conv and linear weights without
    bias; batch norm in eval counts its input elements ×2 (affine) or ×1; layer norm ×5 (affine) or ×4;
    adaptive average pooling counts its input elements; attention its projections and, by the torch
    op that computes them, its products (matmul/bmm exactly, einsum rounded to 4 digits,
    scaled_dot_product_attention 0: no handle); every other op (activations, add, mul, max/avg
    pooling, LRN, GELU) 0, among them `mean` (aten::mean has no handle: x.mean([2, 3]) counts 0 where
    the same average as an AdaptiveAvgPool2d module counts its input), hardsigmoid (no handle), and
    the slices select/split/crop (aten::slice, narrow, chunk: ignored ops)."""
    if layer.op == "bn":
        return num.norm(layer.counts["elements"] * (2 if layer.attrs.get("affine", True) else 1))
    if layer.op in ("gap", "adaptive_avgpool"):
        return layer.counts["input"]
    if layer.op == "layernorm":   # norm_flop_counter: 5 per element with γ/β ("a rough estimate"), else 4
        return num.norm(layer.counts["elements"] * (5 if layer.attrs.get("affine", True) else 4))
    if layer.op == "attention":   # projections (aten::linear); products by how they are computed, see ops/transformer.py
        return layer.counts["fvcore"]
    return layer.macs


def torchinfo_macs(layer: Layer) -> Any:
    """torchinfo "Total mult-adds": a convolution counts (weights + bias) per output position;
    any other leaf module with parameters counts its parameters once per sample (nn.Linear on tokens
    too); parameter-free layers, bare parameters and modules never called as modules count 0."""
    if layer.kind in ("conv", "conv_transpose"):
        return num.norm((layer.counts["weights"] + layer.counts["bias"]) * layer.counts["positions"])
    if layer.op == "attention":   # only leaf modules count: see ops/transformer.py `projections`
        return layer.counts["torchinfo"]
    if layer.op == "param":       # a bare nn.Parameter lives in a non-leaf module: never counted
        return 0
    return layer.params


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (
    Convention("paper", "MACs of conv and fc weights only; params exclude BN running statistics", paper_macs),
    Convention("torchvision", "torchvision's `_ops` and `num_params`: the paper counts (`_ops` is GMACs)", paper_macs),
    Convention("fvcore", "fvcore FlopCountAnalysis: conv/linear weights, BN 2 per element, adaptive pooling 1 per input element",
               fvcore_macs),
    Convention("torchinfo", "torchinfo mult-adds: conv (weights + bias) per output position, other layers their params",
               torchinfo_macs),
    Convention("keras", "Keras summary: params include BN moving mean/variance as non-trainable; MACs as paper",
               paper_macs, buffers_are_params=True),
)}


def get(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise UsageError(f"unknown convention `{name}`{did_you_mean(name, set(CONVENTIONS))}; "
                         f"known: {', '.join(CONVENTIONS)}") from None
