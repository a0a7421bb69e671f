"""Sums and products of NCHW arrays (residual sums, squeeze-excitation's gating), float32, broadcast: in a
new array or accumulated into one of the inputs (`numeric` decides when an input may be overwritten)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .layout import channels_last

DTYPE = np.float32


def join_layout(xs: Sequence[np.ndarray]) -> np.ndarray:
    """The input whose memory layout a sum or product takes: the first channels-last one of the result's
    shape, else the first of it (a residual stream meeting a channels-last branch, as attention returns,
    stays channels-last from there on instead of transposing at every sum)."""
    shape = np.broadcast_shapes(*(x.shape for x in xs))
    full = [x for x in xs if x.shape == shape]
    return next((x for x in full if channels_last(x)), full[0] if full else xs[0])


def _join(ufunc: np.ufunc, xs: Sequence[np.ndarray], into: int | None) -> np.ndarray:
    """xs combined left to right by ufunc (add, multiply; broadcast), into a new array laid out as
    `join_layout`, or `into` (0 or 1: the same result, the first step being commutative) of the result's
    shape and layout."""
    xs = [np.asarray(x, dtype=DTYPE) for x in xs]
    if into is None:
        shape = np.broadcast_shapes(*(x.shape for x in xs))
        like = join_layout(xs)
        out = np.empty_like(like) if like.shape == shape else np.empty(shape, dtype=DTYPE)
        ufunc(xs[0], xs[1], out=out) if len(xs) > 1 else np.copyto(out, xs[0])
    else:
        out = xs[into]
        ufunc(out, xs[1 - into], out=out)
    for x in xs[2:]:
        ufunc(out, x, out=out)
    return out


def add(xs: Sequence[np.ndarray], into: int | None = None) -> np.ndarray:
    """The sum of xs (broadcast), see `_join`."""
    return _join(np.add, xs, into)


def product(xs: Sequence[np.ndarray], into: int | None = None) -> np.ndarray:
    """The product of xs (broadcast, e.g. (N, C, H, W) · (N, C, 1, 1) for squeeze-excitation), see `_join`."""
    return _join(np.multiply, xs, into)
