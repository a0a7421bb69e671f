"""Forward-pass adapters of the transformer ops: their arrays (PyTorch names and layouts) and kernels.

Arrays per layer:
  layernorm   weight γ (C,) = 1, bias β (C,) = 0 (PyTorch's initial values)
  param       weight, the learned tensor itself
  fc          weight (F_out, F_in), bias (F_out,): on the last axis of tokens, on the channels of a map
  attention   qkv_weight (3D, D), qkv_bias (3D,), proj_weight (D, D), proj_bias (D,);
              rel_pos table: relative_position_bias_table ((2w−1)², heads) + buffer relative_position_index (w⁴,);
              rel_pos cpb (Swin V2): cpb_fc1_weight (hidden, 2), cpb_fc1_bias, cpb_fc2_weight (heads, hidden),
              buffers relative_coords_table ((2w−1)², 2) and relative_position_index; cosine: logit_scale (heads,)
Buffers are computed, never drawn; logit_scale starts at log 10 as in torchvision.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import kernels_transformer as T
from .graph import Layer

Arrays = dict[str, np.ndarray]


def _features(shape: tuple[Any, ...]) -> int:
    return int(shape[-1] if len(shape) == 2 else shape[0])


def weight_shapes(layer: Layer) -> dict[str, tuple[int, ...]] | None:
    """Array shapes of a transformer op, or None when the op is not one of them."""
    a, op = layer.attrs, layer.op
    if op == "layernorm":
        c = _features(layer.output)
        if not a["affine"]:
            return {}
        return {"weight": (c,)} | ({"bias": (c,)} if a["bias"] else {})
    if op == "param":
        return {"weight": tuple(int(v) for v in layer.output)}
    if op == "attention":
        d, heads, w = _features(layer.output), int(a["heads"]), int(a["window"])
        out = {"qkv_weight": (3 * d, d)} | ({"qkv_bias": (3 * d,)} if a["qkv_bias"] else {})
        out |= {"proj_weight": (d, d)} | ({"proj_bias": (d,)} if a["proj_bias"] else {})
        offsets = (2 * w - 1) ** 2
        if a["rel_pos"] == "table":
            out |= {"relative_position_bias_table": (offsets, heads), "relative_position_index": (w ** 4,)}
        elif a["rel_pos"] == "cpb":
            hidden = int(a["cpb_hidden"])
            out |= {"cpb_fc1_weight": (hidden, 2), "cpb_fc1_bias": (hidden,), "cpb_fc2_weight": (heads, hidden),
                    "relative_coords_table": (offsets, 2), "relative_position_index": (w ** 4,)}
        if a["cosine"]:
            out["logit_scale"] = (heads,)
        return out
    return None


def fixed_arrays(layer: Layer) -> Arrays:
    """Arrays with set values (norm γ/β, computed buffers), overriding the seeded draws."""
    if layer.op == "layernorm":
        c = _features(layer.output)
        shapes = weight_shapes(layer) or {}
        return {k: np.full((c,), 1.0 if k == "weight" else 0.0, dtype=T.DTYPE) for k in shapes}
    if layer.op == "attention":
        a, out = layer.attrs, {}
        w = int(a["window"])
        if a["rel_pos"] in ("table", "cpb"):
            out["relative_position_index"] = T.relative_position_index(w)
        if a["rel_pos"] == "cpb":
            out["relative_coords_table"] = T.relative_coords_table(w)
        if a["cosine"]:
            out["logit_scale"] = np.full((int(a["heads"]),), math.log(10.0), dtype=T.DTYPE)
        return out
    return {}


def _fc(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    x = xs[0]
    if x.ndim == 4:
        return T.linear_channels(x, w["weight"], w.get("bias"))
    return T.linear_last(x, w["weight"], w.get("bias"))


def _layernorm(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    x = xs[0]
    axis = 1 if x.ndim == 4 else x.ndim - 1
    return T.layer_norm(x, w.get("weight"), w.get("bias"), float(layer.attrs["eps"]), axis)


def _param(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    batch = xs[0].shape[0]
    return np.broadcast_to(w["weight"][None], (batch,) + w["weight"].shape)


def _attention(layer: Layer, xs: list[np.ndarray], w: Arrays) -> np.ndarray:
    a = layer.attrs
    heads, win = int(a["heads"]), int(a["window"])
    bias = None
    if "relative_position_index" in w:   # given arrays arrive as float32: the index is an index
        w = w | {"relative_position_index": np.asarray(w["relative_position_index"]).astype(np.int64)}
    if a["rel_pos"] == "table":
        bias = T.position_bias(w["relative_position_bias_table"], w["relative_position_index"], win * win)
    elif a["rel_pos"] == "cpb":
        hidden = np.maximum(T.linear_last(w["relative_coords_table"], w["cpb_fc1_weight"], w["cpb_fc1_bias"]), 0)
        table = T.linear_last(hidden, w["cpb_fc2_weight"])
        bias = (16.0 / (1.0 + np.exp(-T.position_bias(table, w["relative_position_index"], win * win)))).astype(T.DTYPE)
    return T.attention(xs[0], w["qkv_weight"], w.get("qkv_bias"), w["proj_weight"], w.get("proj_bias"), heads,
                       win, int(a["shift"]), a["partition"], bias, w.get("logit_scale"),
                       _features(layer.output) ** -0.5 if a["scale"] == "features" else None)


FORWARD: dict[str, Callable[[Layer, list[np.ndarray], Arrays], np.ndarray]] = {
    "layernorm": _layernorm,
    "gelu": lambda layer, xs, w: T.gelu(xs[0], layer.attrs["approximate"]),
    "param": _param,
    "tokens": lambda layer, xs, w: T.tokens(xs[0]),
    "token": lambda layer, xs, w: xs[0][:, int(layer.attrs["index"])],
    "patch_merge": lambda layer, xs, w: T.patch_merge(xs[0]),
    "attention": _attention,
    "fc": _fc,
}

# Ops that can overwrite their one input (see numeric.INPLACE)
INPLACE: dict[str, Callable[[Layer, np.ndarray], np.ndarray]] = {
    "gelu": lambda layer, x: T.gelu(x, layer.attrs["approximate"], out=x),
}
