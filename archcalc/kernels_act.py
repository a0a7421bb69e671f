"""Elementwise activations of the NumPy forward pass (NCHW or any layout, float32): ReLU and ReLU6 as one
ufunc, multi-step ones (sigmoid, swish, hardswish, hardsigmoid) as a chain of ufuncs run chunk by chunk
(`elementwise`) so that every pass stays in cache. Semantics of torch.nn.functional."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .layout import dense_order

DTYPE = np.float32


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=DTYPE)


# 0-d float32 constants: a ufunc takes them faster than a Python or NumPy scalar
_HALF, _ONE, _THREE, _SIX, _ZERO = (np.array(v, dtype=DTYPE) for v in (0.5, 1.0, 3.0, 6.0, 0.0))


# `out=` on an activation: where to write (the input itself for an in-place pass), a C-contiguous float32
# array of x's shape.
def relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(_f32(x), _ZERO, out=out)


def relu6(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.clip(_f32(x), _ZERO, _SIX, out=out)


ELEMENTWISE_CHUNK = 1 << 15   # elements a multi-step activation works on at once (its scratch stays in cache)


def elementwise(x: np.ndarray, steps: Callable[[np.ndarray, np.ndarray, list[np.ndarray]], None],
                scratch: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    """A chain of ufuncs applied chunk by chunk: `steps(x_chunk, out_chunk, scratch_chunks)` writes out_chunk
    in place. Each step is one pass over a chunk that stays in cache, instead of a pass over the whole
    tensor into a fresh temporary. Every `steps` reads each x element before or as it writes the same
    element of out, so `out` may be x itself."""
    x = _f32(x)
    order = dense_order(x)
    if order is None:
        x, order = np.ascontiguousarray(x), tuple(range(x.ndim))
    if out is not None and not out.transpose(order).flags.c_contiguous:   # laid out unlike x
        np.copyto(out, elementwise(x, steps, scratch))
        return out
    if out is None:
        out = np.empty_like(x)   # x's memory layout (order 'K')
    xf, of = x.transpose(order).reshape(-1), out.transpose(order).reshape(-1)
    size = min(ELEMENTWISE_CHUNK, xf.size)
    bufs = [np.empty(size, dtype=DTYPE) for _ in range(scratch)]
    for i in range(0, xf.size, ELEMENTWISE_CHUNK):
        j = min(i + ELEMENTWISE_CHUNK, xf.size)
        steps(xf[i:j], of[i:j], [b[: j - i] for b in bufs])
    return out


def _sigmoid_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    # sigmoid(x) = (1 + tanh(x/2)) / 2, overflow-free
    np.multiply(x, _HALF, out=o)
    np.tanh(o, out=o)
    o += _ONE
    o *= _HALF


def _swish_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    # x·sigmoid(x) = h·(1 + tanh(h)) with h = x/2
    h = s[0]
    np.multiply(x, _HALF, out=h)
    np.tanh(h, out=o)
    o += _ONE
    o *= h


def _hardswish_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    # x * relu6(x + 3) / 6  (Howard et al. 2019, MobileNetV3)
    r = s[0]
    np.add(x, _THREE, out=r)
    np.clip(r, _ZERO, _SIX, out=r)
    np.multiply(x, r, out=o)
    o /= _SIX


def _hardsigmoid_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    # relu6(x + 3) / 6 (PyTorch nn.Hardsigmoid)
    np.add(x, _THREE, out=o)
    np.clip(o, _ZERO, _SIX, out=o)
    o /= _SIX


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return elementwise(x, _sigmoid_steps, 0, out)


def tanh(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(_f32(x), out=out)


def swish(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return elementwise(x, _swish_steps, 1, out)


def hardswish(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return elementwise(x, _hardswish_steps, 1, out)


def hardsigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return elementwise(x, _hardsigmoid_steps, 0, out)
