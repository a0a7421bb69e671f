"""Grouped convolutions (1 < groups < Cin, a window of more than one tap) behind `kernels.conv2d`, NCHW, float32.

A block of groups at a time (GROUPED_BLOCK_BYTES), its columns gathered into a kept work buffer and one
batched GEMM (G, ·, K/G) @ (G, K/G, positions) per block, written straight into the output. Three
gathers, chosen by the layer's shape (measured at one thread against whole-map im2col and each other):
  * unit stride, at most GROUPED_WIDE_MAX_POSITIONS output positions computed Wp wide: the im2col of the
    input flattened row by row, where each tap of every output is one contiguous run (as in
    `kernels_conv.conv_shifted`); the Wp − Wo columns past the edge are dropped at the end;
  * unit stride on larger maps: the kh rows of each tap row only (a kh-fold copy instead of kh·kw), the kw
    taps along a row moved into the GEMM's rows, Z[j] = W[:, :, :, j] @ cols, and the output Σ_j Z[j]
    shifted by j·dilation;
  * stride > 1: each tap's valid rectangle copied from the unpadded input (padding is never materialised).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import kernels_conv as KC
from .kernels_conv import _tap_spans, conv_im2col, crop_first, pad_hw, scratch

DTYPE = np.float32
# Bytes of columns (and GEMM result) gathered per block of groups, so that the block's copy is read back by
# its GEMM from the L2 cache (2 MiB a core here). One thread, ResNeXt-50's 32-group 3×3 layers, ms (whole-map
# im2col / blocks of 256 KiB, 512 KiB, 1 MiB, 2 MiB): 128 channels on 56×56 2.70 / 1.16, 1.05, 0.99, 1.16;
# 256 on 28×28 1.01 / 0.77, 0.65, 0.75, 0.80.
GROUPED_BLOCK_BYTES = 1 << 20
# Unit stride: the wide im2col up to this many output positions computed Wp wide (Ho·Wp), the row fold past
# it. One thread, 3×3, ms (row fold / wide im2col), 4 channels a group: 128 on 28×28 (840) 0.77 / 0.59,
# on 36×36 (1368) 0.68 / 0.54, on 40×40 (1680) 0.78 / 0.62, on 48×48 (2400) 0.78 / 0.84, on 56×56 (3248)
# 0.99 / 1.13; 8 a group: 256 on 40×40 1.74 / 1.37, on 48×48 2.16 / 2.84, on 56×56 2.82 / 3.68; 16 a
# group: 512 on 14×14 0.71 / 0.55, 128 on 56×56 1.85 / 2.65; 1024 on 7×7 0.77 / 0.60.
GROUPED_WIDE_MAX_POSITIONS = 2048


def conv_grouped(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                 stride: tuple[int, int], dilation: tuple[int, int], groups: int) -> np.ndarray:
    """x: (N, Cin, H, W), w: (Cout, Cin/groups, kh, kw), pads (top, bottom, left, right), negative ones crop.
    A map so large that one group's columns pass `kernels_conv.IM2COL_BUDGET_BYTES` goes to the im2col of
    `conv_im2col`, which works a block of output rows at a time within that bound."""
    cout, cg, kh, kw = w.shape
    wp = x.shape[3] + pads[2] + pads[3]
    og = cout // groups
    columns = ho * max(wo, wp) + (kw - 1) * dilation[1]   # a group's columns and GEMM result, any formulation
    one_group = DTYPE().itemsize * max(cg * kh * kw + og, cg * kh + kw * og) * columns
    if one_group > KC.IM2COL_BUDGET_BYTES:
        return conv_im2col(pad_hw(x, pads), w, ho, wo, stride, dilation, groups)
    if stride != (1, 1):
        return _grouped_strided(x, pads, w, ho, wo, stride, dilation, groups)
    if ho * wp <= GROUPED_WIDE_MAX_POSITIONS:
        return _grouped_wide(x, pads, w, ho, wo, dilation, groups)
    return _grouped_rows(x, pads, w, ho, wo, dilation, groups)


def _padded_flat(x: np.ndarray, pads: tuple[int, int, int, int], extra: int) -> tuple[np.ndarray, int, int]:
    """x padded into a kept work buffer, each channel's padded map flattened row by row with `extra` zeros
    after it: (N, C, Hp·Wp + extra), Hp, Wp. Only the border is zeroed (the buffer is reused, its
    pages already mapped)."""
    x, pads = crop_first(x, pads)
    n, c, h, wd = x.shape
    t, b, l, r = pads
    hp, wp = t + h + b, l + wd + r
    flat = scratch("grouped_in", n * c * (hp * wp + extra)).reshape(n, c, hp * wp + extra)
    grid = flat[:, :, : hp * wp].reshape(n, c, hp, wp)
    grid[:, :, :t] = 0
    grid[:, :, t + h:] = 0
    grid[:, :, t: t + h, :l] = 0
    grid[:, :, t: t + h, l + wd:] = 0
    flat[:, :, hp * wp:] = 0
    grid[:, :, t: t + h, l: l + wd] = x
    return flat, hp, wp


def _blocks(groups: int, per_group_bytes: int) -> tuple[int, range]:
    per = max(1, min(groups, GROUPED_BLOCK_BYTES // per_group_bytes))
    return per, range(0, groups, per)


def _grouped_strided(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                     stride: tuple[int, int], dilation: tuple[int, int], groups: int) -> np.ndarray:
    n, _, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    og, kg = cout // groups, cg * kh * kw
    spans = _tap_spans(h, wd, pads, kh, kw, ho, wo, stride, dilation)
    wm = w.reshape(groups, og, kg)
    out = np.empty((n, groups, og, ho * wo), dtype=DTYPE)
    per, starts = _blocks(groups, DTYPE().itemsize * kg * ho * wo)
    buf = scratch("grouped", per * kg * ho * wo).reshape(per, cg, kh, kw, ho, wo)
    buf[...] = 0   # the taps' padded parts; the copies below never write there
    xg = x.reshape(n, groups, cg, h, wd)
    for b in range(n):
        for g0 in starts:
            g1 = min(g0 + per, groups)
            cols, xb = buf[: g1 - g0], xg[b, g0:g1]
            for i, j, o_r, o_c, i_r, i_c in spans:
                np.copyto(cols[:, :, i, j, o_r, o_c], xb[:, :, i_r, i_c])
            np.matmul(wm[g0:g1], cols.reshape(g1 - g0, kg, ho * wo), out=out[b, g0:g1])
    return out.reshape(n, cout, ho, wo)


def _grouped_wide(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                  dilation: tuple[int, int], groups: int) -> np.ndarray:
    n = x.shape[0]
    cout, cg, kh, kw = w.shape
    og, kg = cout // groups, cg * kh * kw
    dl_h, dl_w = dilation
    flat, _, wp = _padded_flat(x, pads, (kw - 1) * dl_w)
    span, item = ho * wp, DTYPE().itemsize
    sn, sc = flat.strides[:2]
    # view[b, g, c, i, j, q] = flat[b, g·Cg + c, i·dl_h·Wp + j·dl_w + q]
    view = as_strided(flat, shape=(n, groups, cg, kh, kw, span),
                      strides=(sn, cg * sc, sc, dl_h * wp * item, dl_w * item, item), writeable=False)
    wm = w.reshape(groups, og, kg)
    out = np.empty((n, groups, og, ho, wo), dtype=DTYPE)
    per, starts = _blocks(groups, item * (kg + og) * span)
    cols_buf = scratch("grouped", per * kg * span).reshape(per, kg, span)
    z_buf = scratch("grouped_z", per * og * span).reshape(per, og, span)
    for b in range(n):
        for g0 in starts:
            g1 = min(g0 + per, groups)
            cols, z = cols_buf[: g1 - g0], z_buf[: g1 - g0]
            np.copyto(cols.reshape(g1 - g0, cg, kh, kw, span), view[b, g0:g1])
            np.matmul(wm[g0:g1], cols, out=z)
            out[b, g0:g1] = z.reshape(g1 - g0, og, ho, wp)[..., :wo]
    return out.reshape(n, cout, ho, wo)


def _grouped_rows(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                  dilation: tuple[int, int], groups: int) -> np.ndarray:
    n = x.shape[0]
    cout, cg, kh, kw = w.shape
    og = cout // groups
    dl_h, dl_w = dilation
    flat, _, wp = _padded_flat(x, pads, (kw - 1) * dl_w)
    span = ho * wp
    run, item = span + (kw - 1) * dl_w, DTYPE().itemsize
    sn, sc = flat.strides[:2]
    # view[b, g, c, i, q] = flat[b, g·Cg + c, i·dl_h·Wp + q]
    view = as_strided(flat, shape=(n, groups, cg, kh, run), strides=(sn, cg * sc, sc, dl_h * wp * item, item),
                      writeable=False)
    # taps[g, j·og + o, c·kh + i] = w[g·og + o, c, i, j]
    taps = np.ascontiguousarray(w.reshape(groups, og, cg, kh, kw).transpose(0, 4, 1, 2, 3)).reshape(
        groups, kw * og, cg * kh)
    out = np.empty((n, groups, og, ho, wo), dtype=DTYPE)
    per, starts = _blocks(groups, item * (cg * kh + kw * og) * run)
    cols_buf = scratch("grouped", per * cg * kh * run).reshape(per, cg * kh, run)
    z_buf = scratch("grouped_z", per * kw * og * run).reshape(per, kw, og, run)
    for b in range(n):
        for g0 in starts:
            g1 = min(g0 + per, groups)
            cols, z = cols_buf[: g1 - g0], z_buf[: g1 - g0]
            np.copyto(cols.reshape(g1 - g0, cg, kh, run), view[b, g0:g1])
            np.matmul(taps[g0:g1], cols, out=z.reshape(g1 - g0, kw * og, run))
            acc = z[:, 0, :, :span]
            for j in range(1, kw):
                acc += z[:, j, :, j * dl_w: j * dl_w + span]
            out[b, g0:g1] = acc.reshape(g1 - g0, og, ho, wp)[..., :wo]
    return out.reshape(n, cout, ho, wo)
