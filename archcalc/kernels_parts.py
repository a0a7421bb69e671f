"""NumPy kernels of the ops modern CNNs add: hardsigmoid, spatial mean, channel ranges, centre crop.

NCHW, float32, semantics of PyTorch (torch.nn.functional, Tensor methods) and torchvision.
"""
from __future__ import annotations

import numpy as np

from . import kernels as K
from .kernels import DTYPE, Pair, _check_nchw, _f32, _pair

__all__ = ["center_crop", "channel_range", "hardsigmoid", "spatial_mean"]


def hardsigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """relu6(x + 3) / 6 (PyTorch nn.Hardsigmoid; MobileNetV3's squeeze-excitation gate)."""
    return K.hardsigmoid(x, out)


def spatial_mean(x: np.ndarray, keepdim: bool = False) -> np.ndarray:
    """x.mean([2, 3]) of an NCHW tensor: (N, C), or (N, C, 1, 1) with keepdim."""
    x = _f32(x)
    _check_nchw(x)
    return x.mean(axis=(2, 3), keepdims=keepdim, dtype=DTYPE)


def channel_range(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """x[:, start:stop] (torch.chunk / narrow along channels)."""
    x = _f32(x)
    if not 0 <= start < stop <= x.shape[1]:
        raise ValueError(f"channel range [{start}, {stop}) outside {x.shape[1]} channels")
    return x[:, start:stop]


def center_crop(x: np.ndarray, size: Pair, top: int | None = None, left: int | None = None) -> np.ndarray:
    """Centre crop of an NCHW tensor to size (h, w); offsets as torchvision's center_crop
    (int(round((H − h) / 2))) unless given."""
    x = _f32(x)
    _check_nchw(x)
    h, w = _pair(size)
    big_h, big_w = x.shape[2:]
    if h > big_h or w > big_w:
        raise ValueError(f"crop {h}x{w} larger than the input {big_h}x{big_w}")
    top = round((big_h - h) / 2.0) if top is None else top
    left = round((big_w - w) / 2.0) if left is None else left
    return x[:, :, top:top + h, left:left + w]
