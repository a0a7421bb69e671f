"""Convolution kernels behind `kernels.conv2d` (NCHW, float32): im2col + GEMM, shifted GEMMs, depthwise.

Which formulation runs is decided by `kernels.conv2d` from the layer's shape; each keeps its working
set bounded (IM2COL_BUDGET_BYTES, DEPTHWISE_BLOCK_BYTES) and within it sized for the cache.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .layout import channels_last, full_like_layout

DTYPE = np.float32
# Upper bound for one im2col buffer; larger convolutions are chunked over output rows.
IM2COL_BUDGET_BYTES = 256 * 2**20
# The block size aimed at below that bound: a column block that stays in the last-level cache is written
# and read back by the GEMM at cache speed (and its buffer is reused, not freshly page-faulted), as long
# as each GEMM still has at least IM2COL_MIN_COLUMNS output positions to work on.
IM2COL_BLOCK_BYTES = 8 * 2**20
IM2COL_MIN_COLUMNS = 2048
# A 1×1 convolution (or channel-wise Linear) of a channels-last map of at most this many positions runs as
# W @ Xᵀ (NCHW result) instead of X @ Wᵀ: OpenBLAS is ~20% faster with the few positions as the short
# side (one thread, X @ Wᵀ / W @ Xᵀ ms, 7×7: 768→3072 2.48 / 2.05, 3072→768 2.58 / 2.05, 192→1152 0.19 /
# 0.16; 14×14: within 5%), and a depthwise convolution after it on such a map is as fast from NCHW.
SMALL_MAP_POSITIONS = 64
# A work buffer up to this size is kept from one call to the next (per role and thread, so at most a few
# times this much stays allocated, until `release_scratch`): a fresh multi-megabyte buffer per layer, or
# per forward pass, costs a page fault per 4 KiB page (vgg16: 8 ms a pass).
SCRATCH_KEEP_BYTES = 16 * 2**20
_kept = threading.local()


def scratch(role: str, size: int) -> np.ndarray:
    """A float32 work buffer of `size` elements (contents undefined), reused across calls for `role`."""
    if size * DTYPE().itemsize > SCRATCH_KEEP_BYTES:
        return np.empty(size, dtype=DTYPE)
    pool: dict[str, np.ndarray] = _kept.__dict__.setdefault("pool", {})
    buf = pool.get(role)
    if buf is None or buf.size < size:
        buf = pool[role] = np.empty(size, dtype=DTYPE)
    return buf[:size]


def release_scratch() -> None:
    """Free the kept work buffers of this thread."""
    _kept.__dict__.pop("pool", None)


def pad_hw(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0,
           keep_layout: bool = False) -> np.ndarray:
    """Pad (positive) or crop (negative) the last two axes; `keep_layout`: a channels-last NCHW map stays
    channels-last in memory (otherwise the padded copy is C-contiguous)."""
    x, (t, b, l, r) = crop_first(x, pads)
    if t == b == l == r == 0:
        return x
    h, w = x.shape[-2:]
    shape = x.shape[:-2] + (t + h + b, l + w + r)
    if keep_layout:
        out = full_like_layout(x, shape, value)
    else:
        out = np.zeros(shape, dtype=x.dtype) if value == 0 else np.full(shape, value, dtype=x.dtype)
    out[..., t: t + h, l: l + w] = x   # np.pad's constant mode, without its per-call overhead
    return out


def crop_first(x: np.ndarray, pads: tuple[int, int, int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The negative pads applied as a crop (a view) and the padding left to apply, all ≥ 0."""
    if min(pads) >= 0:
        return x, pads
    t, b, l, r = pads
    h, w = x.shape[-2:]
    return (x[..., max(-t, 0): h - max(-b, 0), max(-l, 0): w - max(-r, 0)],
            (max(t, 0), max(b, 0), max(l, 0), max(r, 0)))


def conv_im2col(xp: np.ndarray, w: np.ndarray, ho: int, wo: int,
                stride: tuple[int, int], dilation: tuple[int, int], groups: int = 1) -> np.ndarray:
    """Dense conv on a padded input as GEMM: W (Cout, C*kh*kw) @ cols (C*kh*kw, N*rows*Wo).

    The column matrix is laid out (C, kh, kw, N, Ho, Wo) (Caffe im2col order), so the
    copy reads contiguous input rows and the GEMM result is already channel-major. With groups,
    each group's rows of the column matrix are one contiguous slab: one batched matmul
    (G, Cout/G, K/G) @ (G, K/G, P) computes every group at once.
    """
    n, c, _, _ = xp.shape
    cout, _, kh, kw = w.shape
    k = c * kh * kw
    wmat = w.reshape(cout, k) if groups == 1 else w.reshape(groups, cout // groups, k // groups)

    def gemm(cols: np.ndarray) -> np.ndarray:
        return wmat @ cols if groups == 1 else np.matmul(wmat, cols.reshape(groups, k // groups, -1))

    if kh == kw == 1 and stride == (1, 1):
        x = xp[:, :, :ho, :wo]
        if n == 1 and groups == 1 and channels_last(x):
            xm = x.transpose(0, 2, 3, 1).reshape(ho * wo, c)
            if ho * wo <= SMALL_MAP_POSITIONS:   # W @ Xᵀ: the positions as the GEMM's short side, NCHW out
                return (wmat @ xm.T).reshape(1, cout, ho, wo)
            return (xm @ wmat.T).reshape(1, ho, wo, cout).transpose(0, 3, 1, 2)   # stays channels-last
        cols = x.transpose(1, 0, 2, 3).reshape(k, n * ho * wo)
        return np.ascontiguousarray(gemm(cols).reshape(cout, n, ho, wo).transpose(1, 0, 2, 3))

    sn, sc, sh, sw = xp.strides
    (st_h, st_w), (dl_h, dl_w) = stride, dilation
    # view[c, i, j, b, oh, ow] = xp[b, c, oh*st_h + i*dl_h, ow*st_w + j*dl_w]
    view = as_strided(xp, shape=(c, kh, kw, n, ho, wo),
                      strides=(sc, dl_h * sh, dl_w * sw, sn, st_h * sh, st_w * sw),
                      writeable=False)

    out = np.empty((cout, n, ho, wo), dtype=DTYPE)
    row_bytes = k * n * wo * DTYPE().itemsize
    budget = min(IM2COL_BUDGET_BYTES,
                 max(IM2COL_BLOCK_BYTES, k * min(IM2COL_MIN_COLUMNS, n * ho * wo) * DTYPE().itemsize))
    if row_bytes * ho <= budget:
        blocks = [(0, n, 0, ho)]
    elif row_bytes <= budget:
        rows = budget // row_bytes
        blocks = [(0, n, r, min(r + rows, ho)) for r in range(0, ho, rows)]
    else:
        per = max(1, budget // (k * wo * DTYPE().itemsize))
        blocks = [(b0, min(b0 + per, n), r, r + 1) for b0 in range(0, n, per) for r in range(ho)]

    buf = scratch("im2col", max((b1 - b0) * (r1 - r0) * wo * k for b0, b1, r0, r1 in blocks))
    for b0, b1, r0, r1 in blocks:
        shape = (c, kh, kw, b1 - b0, r1 - r0, wo)
        cols = buf[: int(np.prod(shape))].reshape(shape)
        np.copyto(cols, view[:, :, :, b0:b1, r0:r1])
        target = out[:, b0:b1, r0:r1].reshape(cout, -1)
        if groups == 1 and np.may_share_memory(target, out):   # a view: the GEMM writes the output in place
            np.matmul(wmat, cols.reshape(k, -1), out=target)
        else:
            out[:, b0:b1, r0:r1] = gemm(cols.reshape(k, -1)).reshape(cout, b1 - b0, r1 - r0, wo)
    # no copy when n == 1: (1, Cout, Ho, Wo) is already contiguous
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def shifted_pays(cin: int, cout: int, kh: int, kw: int, stride: tuple[int, int], groups: int) -> bool:
    """Shifted GEMMs instead of im2col: unit stride, one group, a real window, and fewer output than input
    channels, where im2col's copy (Cin·kh·kw per position) outweighs the shifted form's extra
    accumulation passes ((kh·kw − 1)·Cout per position)."""
    return stride == (1, 1) and groups == 1 and kh * kw > 1 and 2 * cout <= cin


def conv_shifted(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                 dilation: tuple[int, int]) -> np.ndarray:
    """Unit-stride dense conv as a sum of kh·kw GEMMs W[:, :, i, j] (Cout, Cin) @ X shifted by (i, j),
    with no im2col copy: on the padded input flattened row by row, a shift is a contiguous slice
    (output rows are computed Wp wide, the Wp − Wo columns past the edge dropped at the end)."""
    x, pads = crop_first(x, pads)
    n, c, h, wd = x.shape
    cout, _, kh, kw = w.shape
    t, b, l, r = pads
    dl_h, dl_w = dilation
    hp, wp = t + h + b, l + wd + r
    extra = -(-((kw - 1) * dl_w) // wp)   # rows of slack: the last output row's wide slice runs past Hp
    xp = np.zeros((n, c, hp + extra, wp), dtype=DTYPE)
    xp[:, :, t: t + h, l: l + wd] = x
    flat = xp.reshape(n, c, -1)
    taps = np.ascontiguousarray(w.transpose(2, 3, 0, 1))    # (kh, kw, Cout, Cin)
    out = np.empty((n, cout, ho, wp), dtype=DTYPE)
    wide = out.reshape(n, cout, -1)
    rows = max(1, min(ho, IM2COL_BLOCK_BYTES // (DTYPE().itemsize * wp * (c + 2 * cout))))
    tmp = scratch("shifted", cout * rows * wp).reshape(cout, rows * wp)
    for bi in range(n):
        for r0 in range(0, ho, rows):
            r1 = min(r0 + rows, ho)
            span = (r1 - r0) * wp
            acc, part = wide[bi, :, r0 * wp: r1 * wp], tmp[:, :span]
            for k, (i, j) in enumerate((i, j) for i in range(kh) for j in range(kw)):
                start = (r0 + i * dl_h) * wp + j * dl_w
                np.matmul(taps[i, j], flat[bi, :, start: start + span], out=acc if k == 0 else part)
                if k:
                    acc += part
    return np.ascontiguousarray(out[:, :, :, :wo])


DEPTHWISE_BLOCK_BYTES = 1 << 19      # channels gathered at once by the GEMV path (its copy stays in cache)
DEPTHWISE_GEMV_MAX_CHANNELS = 160    # fewer channels than this on a map of at least
DEPTHWISE_GEMV_MIN_POSITIONS = 256   # this many output positions: GEMV; otherwise channels-last einsum
# ... and with any number of channels, a window of at most DEPTHWISE_GEMV_MAX_TAPS taps on an output map
# of at least DEPTHWISE_GEMV_WIDE_POSITIONS, or of at least DEPTHWISE_GEMV_MANY_POSITIONS from a padded
# input past DEPTHWISE_EINSUM_MAX_BYTES (the einsum's NHWC copy and strided reads then run out of cache).
# Measured at one thread, 3×3 (einsum / GEMV ms): 192 channels on 28×28 0.59 / 0.48; 768 on 28×28
# 3.8 / 1.8; 256 on 48×48 stride 2 1.41 / 0.89; 1024 on 14×14 0.68 / 0.78; 1536 on 12×12 0.78 / 0.92;
# 2048 on 14×14 stride 2 (7×7 out) 0.65 / 0.83.
DEPTHWISE_GEMV_MAX_TAPS = 9
DEPTHWISE_GEMV_WIDE_POSITIONS = 576
DEPTHWISE_GEMV_MANY_POSITIONS = 144
DEPTHWISE_EINSUM_MAX_BYTES = 2 * 2**20
# At unit stride the einsum keeps up with the GEMV on maps up to 28×28 (einsum / GEMV ms: 960 on 24×24
# 1.56 / 1.50, 768 on 28×28 1.21 / 1.56, 960 on 26×26 1.48 / 1.87; on 56×56 the GEMV is 8–20% ahead) and
# returns its result channels-last, so the layers after it (SE gate, 1×1 projection, the next block's
# depthwise: 960 on 24×24 from a channels-last input 1.01 ms) stay channels-last: there the GEMV takes
# many channels only from this many output positions.
DEPTHWISE_GEMV_UNIT_POSITIONS = 1024


def depthwise_gemv_pays(c: int, kh: int, kw: int, ho: int, wo: int, hp: int, wp: int,
                        stride: tuple[int, int] = (1, 1)) -> bool:
    """The per-channel GEMV formulation instead of the channels-last einsum (output Ho×Wo, padded input
    Hp×Wp): its gathered taps fit the im2col budget, and either few channels on a map of at least
    DEPTHWISE_GEMV_MIN_POSITIONS outputs or a small window on a map where the einsum falls out of cache
    (at unit stride: a map of at least DEPTHWISE_GEMV_UNIT_POSITIONS outputs)."""
    positions = ho * wo
    if kh * kw * positions * DTYPE().itemsize > IM2COL_BUDGET_BYTES:
        return False
    if c < DEPTHWISE_GEMV_MAX_CHANNELS:
        return positions >= DEPTHWISE_GEMV_MIN_POSITIONS
    if stride == (1, 1):
        return kh * kw <= DEPTHWISE_GEMV_MAX_TAPS and positions >= DEPTHWISE_GEMV_UNIT_POSITIONS
    return kh * kw <= DEPTHWISE_GEMV_MAX_TAPS and (
        positions >= DEPTHWISE_GEMV_WIDE_POSITIONS or (
            positions >= DEPTHWISE_GEMV_MANY_POSITIONS and c * hp * wp * DTYPE().itemsize >= DEPTHWISE_EINSUM_MAX_BYTES))


def conv_depthwise(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                   stride: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """groups == Cin (a channel multiplier allowed), without the kh·kw-fold im2col of the whole map.

    Two formulations, each where it is fast:
      * few channels on a large map, or a small window on a map too large for the einsum's cache
        (depthwise_gemv_pays): per channel, its taps gathered into a (kh·kw, Ho·Wo) block (a
        block of channels at a time) and one BLAS product (1, kh·kw) @ (kh·kw, Ho·Wo);
      * otherwise channels-last: einsum over a strided view (N, Ho, Wo, kh, kw, C) of the NHWC input,
        whose inner loop is a multiply-accumulate along C, contiguous in input, weight and output
        (one pass per tap, no temporaries).
    """
    c, h, wd = x.shape[1:]
    cout, _, kh, kw = w.shape
    if cout // c > 1:
        x = np.repeat(x, cout // c, axis=1)  # output channel o reads input channel o // mult
    if channels_last(x) and cout >= DEPTHWISE_GEMV_MAX_CHANNELS:   # no layout change either way
        return _depthwise_nhwc(x, pads, w, ho, wo, stride, dilation)
    if depthwise_gemv_pays(cout, kh, kw, ho, wo, h + pads[0] + pads[1], wd + pads[2] + pads[3], stride):
        x = np.ascontiguousarray(x)
        if kh * kw <= DEPTHWISE_GEMV_MAX_TAPS:
            return _depthwise_gemv(x, pads, w, ho, wo, stride, dilation)
        if stride == (1, 1):
            return _depthwise_gemv_wide(x, pads, w, ho, wo, dilation)
        return _depthwise_gemv(pad_hw(x, pads), (0, 0, 0, 0), w, ho, wo, stride, dilation)
    return _depthwise_nhwc(x, pads, w, ho, wo, stride, dilation)


def _tap_spans(h: int, wd: int, pads: tuple[int, int, int, int], kh: int, kw: int, ho: int, wo: int,
               stride: tuple[int, int], dilation: tuple[int, int]) -> list[tuple[int, int, slice, slice, slice, slice]]:
    """Per tap (i, j) of a window on an input of h×wd padded by pads: the output rows and columns whose
    input lies inside the unpadded input, and those input rows and columns (the rest read padding: zero)."""
    (sh, sw), (dh, dw) = stride, dilation

    def span(size: int, before: int, out: int, s: int, offset: int) -> tuple[slice, slice] | None:
        o0 = max(0, -(-(before - offset) // s))
        o1 = min(out, (size - 1 + before - offset) // s + 1)
        if o1 <= o0:
            return None
        r0 = o0 * s + offset - before
        return slice(o0, o1), slice(r0, r0 + (o1 - o0 - 1) * s + 1, s)

    spans = []
    for i in range(kh):
        for j in range(kw):
            rows, cols = span(h, pads[0], ho, sh, i * dh), span(wd, pads[2], wo, sw, j * dw)
            if rows is not None and cols is not None:
                spans.append((i, j, rows[0], cols[0], rows[1], cols[1]))
    return spans


def _depthwise_gemv(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                    stride: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """Per block of channels, the taps gathered into a (kh, kw, Ho, Wo) block per channel, then the batched
    GEMV. With padding, each tap's valid rectangle is copied from the unpadded input into a zeroed block
    (padding is never materialised); without, one strided copy of all taps."""
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    taps, positions = kh * kw, ho * wo
    spans = _tap_spans(h, wd, pads, kh, kw, ho, wo, stride, dilation)
    whole = sum((o_r.stop - o_r.start) * (o_c.stop - o_c.start) for _, _, o_r, o_c, _, _ in spans) == taps * positions
    if whole:
        sn, sc, sh, sw = x.strides
        (st_h, st_w), (dl_h, dl_w) = stride, dilation
        x = as_strided(x[:, :, max(-pads[0], 0):, max(-pads[2], 0):], shape=(n, c, kh, kw, ho, wo),
                       strides=(sn, sc, dl_h * sh, dl_w * sw, st_h * sh, st_w * sw), writeable=False)
    wm = np.ascontiguousarray(w.reshape(c, 1, taps))
    out = np.empty((n, c, 1, positions), dtype=DTYPE)
    per = min(c, max(1, DEPTHWISE_BLOCK_BYTES // (DTYPE().itemsize * taps * positions)))
    buf = scratch("depthwise", per * taps * positions).reshape(per, kh, kw, ho, wo)
    if not whole:
        buf[...] = 0   # the taps' padded parts; the copies below never write there
    for b in range(n):
        for c0 in range(0, c, per):
            c1 = min(c0 + per, c)
            cols, xb = buf[: c1 - c0], x[b, c0:c1]
            if whole:
                np.copyto(cols, xb)
            for i, j, o_r, o_c, i_r, i_c in spans if not whole else ():
                np.copyto(cols[:, i, j, o_r, o_c], xb[:, i_r, i_c])
            np.matmul(wm[c0:c1], cols.reshape(c1 - c0, taps, positions), out=out[b, c0:c1])
    return out.reshape(n, c, ho, wo)


def _depthwise_gemv_wide(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                         dilation: tuple[int, int]) -> np.ndarray:
    """Unit stride, a large window: on the padded input flattened row by row, tap (i, j) of every output
    computed Wp wide is one contiguous run (as in conv_shifted), so the gather copies kh·kw long runs per
    channel instead of kh·kw·Ho short rows; the Wp − Wo columns past the edge are dropped at the end."""
    x, pads = crop_first(x, pads)
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    t, b, l, r = pads
    dl_h, dl_w = dilation
    hp, wp = t + h + b, l + wd + r
    extra = -(-((kw - 1) * dl_w) // wp)   # rows of slack: the last output row's wide run passes Hp
    xp = np.zeros((n, c, hp + extra, wp), dtype=DTYPE)
    xp[:, :, t: t + h, l: l + wd] = x
    taps, span = kh * kw, ho * wp
    sn, sc = xp.strides[:2]
    item = DTYPE().itemsize
    view = as_strided(xp, shape=(n, c, kh, kw, span), strides=(sn, sc, dl_h * wp * item, dl_w * item, item),
                      writeable=False)
    wm = np.ascontiguousarray(w.reshape(c, 1, taps))
    out = np.empty((n, c, ho, wp), dtype=DTYPE)
    per = min(c, max(1, DEPTHWISE_BLOCK_BYTES // (item * taps * span)))
    buf = scratch("depthwise", per * taps * span).reshape(per, kh, kw, span)
    for bi in range(n):
        for c0 in range(0, c, per):
            c1 = min(c0 + per, c)
            cols = buf[: c1 - c0]
            np.copyto(cols, view[bi, c0:c1])
            np.matmul(wm[c0:c1], cols.reshape(c1 - c0, taps, span), out=out[bi, c0:c1].reshape(c1 - c0, 1, span))
    return np.ascontiguousarray(out[:, :, :, :wo])


def _depthwise_nhwc(x: np.ndarray, pads: tuple[int, int, int, int], w: np.ndarray, ho: int, wo: int,
                    stride: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    x, pads = crop_first(x, pads)
    n, c, h, wd = x.shape
    t, b, l, r = pads
    kh, kw = w.shape[2:]
    xt = np.zeros((n, t + h + b, l + wd + r, c), dtype=DTYPE)   # padded and channels-last in one copy
    xt[:, t: t + h, l: l + wd] = x.transpose(0, 2, 3, 1)
    sn, sh, sw, sc = xt.strides
    (st_h, st_w), (dl_h, dl_w) = stride, dilation
    view = as_strided(xt, shape=(n, ho, wo, kh, kw, c),
                      strides=(sn, st_h * sh, st_w * sw, dl_h * sh, dl_w * sw, sc), writeable=False)
    wt = np.ascontiguousarray(w[:, 0].transpose(1, 2, 0))          # (kh, kw, C)
    out = np.einsum("nyxijc,ijc->nyxc", view, wt)
    return out.transpose(0, 3, 1, 2)   # channels-last in memory: no copy back
