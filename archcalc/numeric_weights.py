"""The arrays of a layer for the NumPy forward pass: their names and shapes (PyTorch layouts), seeded
initialisation, the caller's arrays checked against the shapes, and the batch norm folded into a conv.

Weight arrays per layer (PyTorch names and layouts):
  conv, dwconv     weight (C_out, C_in/groups, K_h, K_w), bias (C_out,)
  conv_transpose   weight (C_in, C_out/groups, K_h, K_w), bias (C_out,)
  fc               weight (F_out, F_in), bias (F_out,)
  bn               weight γ, bias β (C,) when affine; running_mean, running_var (C,)
Seeded weights are He-normal (`kernels.init_weights`), biases N(0, 0.01²), BN γ = 1, β = 0,
mean 0, variance 1 (PyTorch's initial values), each layer from its own generator
`default_rng([seed, crc32(layer name)])`, so a layer's weights do not depend on the others.
"""
from __future__ import annotations

import time
import zlib
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from . import kernels as K
from . import num
from . import numeric_transformer as NT
from .errors import UsageError
from .graph import Layer, Network

Arrays = dict[str, np.ndarray]


def concrete(network: Network) -> None:
    """Refuse symbolic sizes: a forward pass needs every size as a whole number."""
    for label, shape in [("input", network.input)] + [(f"layer {la.name}", la.output) for la in network.layers]:
        for v in shape:
            if not (isinstance(v, int) and not isinstance(v, bool)):
                raise UsageError(f"the forward pass needs concrete sizes, but the {label} has size "
                                 f"{num.fmt(v)}; give numbers (--input 224, --set alpha=1)")



def weight_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the arrays a layer needs."""
    a, op = layer.attrs, layer.op
    special = NT.weight_shapes(layer)
    if special is not None:
        return special
    if op in ("conv", "dwconv"):
        c_in, c_out = layer.in_shapes[0][0], layer.output[0]
        (kh, kw), g = a["k"], a["groups"]
        out = {"weight": (c_out, c_in // g, kh, kw)}
        return out | ({"bias": (c_out,)} if a["bias"] else {})
    if op == "conv_transpose":
        c_in, c_out = layer.in_shapes[0][0], layer.output[0]
        (kh, kw), g = a["k"], a["groups"]
        out = {"weight": (c_in, c_out // g, kh, kw)}
        return out | ({"bias": (c_out,)} if a["bias"] else {})
    if op == "fc":   # features: the last axis of tokens, the channels of a map (pointwise), a flat vector
        shape_in, shape_out = layer.in_shapes[0], layer.output
        f_in, f_out = (shape_in[-1], shape_out[-1]) if len(shape_in) == 2 else (shape_in[0], shape_out[0])
        out = {"weight": (f_out, f_in)}
        return out | ({"bias": (f_out,)} if a["bias"] else {})
    if op == "bn":
        c = layer.output[0]
        stats = {"running_mean": (c,), "running_var": (c,)}
        return ({"weight": (c,), "bias": (c,)} if a["affine"] else {}) | stats
    return {}


INITS = ("normal", "tiled")
POOL_SIZE = 1_048_573          # a prime, so tiled weights do not repeat along power-of-two axes
CHUNK_BYTES = 64 * 2**20       # a seeded fc weight larger than this is made and used row-block by row-block


@lru_cache(maxsize=4)
def _pool(seed: int) -> np.ndarray:
    return np.random.default_rng([seed, POOL_SIZE]).standard_normal(POOL_SIZE, dtype=K.DTYPE)


def _tiled(seed: int, name: str, key: str, shape: tuple[int, ...], start: int = 0, stop: int | None = None) -> np.ndarray:
    """Elements [start, stop) of the flattened He-scaled array: a window of a seeded normal pool from a
    per-array offset. Costs a copy instead of a normal draw per element (verify's whole zoo is ~1.5G weights)."""
    size = int(np.prod(shape))
    stop = size if stop is None else stop
    pool = _pool(seed)
    offset = zlib.crc32(f"{name}/{key}".encode()) % POOL_SIZE
    out = np.empty(stop - start, dtype=K.DTYPE)
    i, pos = 0, (offset + start) % POOL_SIZE
    while i < out.size:
        n = min(out.size - i, POOL_SIZE - pos)
        out[i:i + n] = pool[pos:pos + n]
        i, pos = i + n, 0
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    out *= K.DTYPE(np.sqrt(2.0 / max(fan_in, 1)) if key == "weight" else 0.01)
    return out


def init_layer(layer: Layer, seed: int, init: str = "normal") -> Arrays:
    """Deterministic arrays for one layer (see the module docstring)."""
    shapes = weight_shapes(layer)
    if not shapes:
        return {}
    rng = np.random.default_rng([seed, zlib.crc32(layer.name.encode())])
    out: Arrays = {}
    for key, shape in shapes.items():
        if layer.op == "bn":
            fill = 1.0 if key in ("weight", "running_var") else 0.0
            out[key] = np.full(shape, fill, dtype=K.DTYPE)
        elif init == "tiled":
            out[key] = _tiled(seed, layer.name, key, shape).reshape(shape)
        elif key == "weight":
            out[key] = K.init_weights(shape, rng)
        else:
            out[key] = rng.standard_normal(shape, dtype=K.DTYPE) * K.DTYPE(0.01)
    out.update(NT.fixed_arrays(layer))
    return out


def make_weights(network: Network, seed: int = 0, init: str = "normal") -> dict[str, Arrays]:
    """Every layer's seeded arrays, for reuse across calls of `forward`."""
    concrete(network)
    return {la.name: arrays for la in network.layers if (arrays := init_layer(la, seed, init))}


def layer_arrays(layer: Layer, seed: int, given: Mapping[str, Any] | None, init: str,
                 shapes: Mapping[str, tuple[int, ...]] | None = None) -> Arrays:
    """The caller's arrays for this layer where given (checked against the expected shapes, `weight_shapes`
    unless given), seeded ones otherwise."""
    if given is None:
        return init_layer(layer, seed, init) if shapes is None or shapes else {}
    shapes = weight_shapes(layer) if shapes is None else shapes
    if isinstance(given, np.ndarray):
        given = {"weight": given}
    unknown = set(given) - set(shapes)
    if unknown:
        raise UsageError(f"weights for layer {layer.name} ({layer.op}): unknown array(s) {', '.join(sorted(unknown))}; "
                         f"it takes {', '.join(shapes) or 'none'}")
    out = init_layer(layer, seed, init) if set(given) != set(shapes) else {}
    for key, value in given.items():
        arr = np.asarray(value, dtype=K.DTYPE)
        if arr.shape != shapes[key]:
            raise UsageError(f"weights for layer {layer.name}: `{key}` has shape {arr.shape}, expected {shapes[key]}")
        out[key] = arr
    return out


def _bn_affine(bn_arrays: Arrays, bn: Layer) -> tuple[np.ndarray, np.ndarray]:
    """An inference batch norm as x·s + t per channel: s = γ / √(σ² + ε), t = β − μ·s (γ = 1, β = 0 when absent)."""
    c = bn.output[0]
    gamma = bn_arrays["weight"] if "weight" in bn_arrays else np.ones(c, dtype=K.DTYPE)
    beta = bn_arrays["bias"] if "bias" in bn_arrays else np.zeros(c, dtype=K.DTYPE)
    return K.bn_scale_shift(gamma, beta, bn_arrays["running_mean"], bn_arrays["running_var"], float(bn.attrs["eps"]))


def fold_bn(conv: Arrays, bn_arrays: Arrays, bn: Layer) -> Arrays:
    """Conv weights and bias with an inference batch norm folded in: W·s per output channel and
    (b − μ)·s + β, where s = γ / √(σ² + ε)."""
    scale, shift = _bn_affine(bn_arrays, bn)
    w = conv["weight"]
    out = {"weight": w * scale.reshape((-1,) + (1,) * (w.ndim - 1))}
    out["bias"] = shift + conv["bias"] * scale if conv.get("bias") is not None else shift
    return out


def prefold_bn(conv: Arrays, bn_arrays: Arrays, bn: Layer) -> Arrays:
    """Unpadded conv weights and bias with the inference batch norm before it folded in: the conv of
    x·s + t (per input channel) is the conv with W·s per input channel and bias b + Σ_{c,i,j} W·t."""
    scale, shift = _bn_affine(bn_arrays, bn)
    w = conv["weight"]
    bias = w.sum(axis=(2, 3)) @ shift
    if conv.get("bias") is not None:
        bias += conv["bias"]
    return {"weight": w * scale.reshape(1, -1, 1, 1), "bias": bias}


def fc_tiled(layer: Layer, x: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """A seeded `tiled` fc, its weight made and applied a block of output rows at a time; returns the compute time."""
    f_out, f_in = weight_shapes(layer)["weight"]
    rows = max(1, CHUNK_BYTES // (4 * f_in))
    y = np.empty((x.shape[0], f_out), dtype=K.DTYPE)
    spent = 0.0
    for r0 in range(0, f_out, rows):
        r1 = min(r0 + rows, f_out)
        w = _tiled(seed, layer.name, "weight", (f_out, f_in), r0 * f_in, r1 * f_in).reshape(r1 - r0, f_in)
        start = time.perf_counter()
        y[:, r0:r1] = x @ w.T
        spent += time.perf_counter() - start
    if layer.attrs["bias"]:
        y += _tiled(seed, layer.name, "bias", (f_out,))
    return y, spent
