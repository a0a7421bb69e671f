"""Memory layouts of NCHW arrays: the kernels take any strides; channels-last ones (N, H, W, C in memory,
as the depthwise einsum and a 1×1 conv on such an input return them) pass from layer to layer without a
transposing copy."""
from __future__ import annotations

import numpy as np


def dense_order(x: np.ndarray) -> tuple[int, ...] | None:
    """The axis order in which x is C-contiguous (its memory order: (0, 2, 3, 1) for an NCHW view of a
    channels-last buffer), or None when x has gaps."""
    if x.flags.c_contiguous:
        return tuple(range(x.ndim))
    order = tuple(sorted(range(x.ndim), key=lambda a: -x.strides[a]))
    return order if x.transpose(order).flags.c_contiguous else None


def channels_last(x: np.ndarray) -> bool:
    """An NCHW array laid out (N, H, W, C) in memory (as the channels-last kernels return it)."""
    return x.ndim == 4 and x.shape[1] > 1 and not x.flags.c_contiguous and np.transpose(x, (0, 2, 3, 1)).flags.c_contiguous


def full_like_layout(x: np.ndarray, shape: tuple[int, ...], value: float = 0.0) -> np.ndarray:
    """An array of `shape` filled with `value`, of x's dtype, channels-last in memory when x is (NCHW)."""
    last = channels_last(x)
    alloc = (shape[0], *shape[2:], shape[1]) if last else shape
    out = np.zeros(alloc, dtype=x.dtype) if value == 0 else np.full(alloc, value, dtype=x.dtype)
    return out.transpose(0, 3, 1, 2) if last else out
