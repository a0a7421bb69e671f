"""Tests for archcalc.kernels.

Expected values come from plain nested-loop references defined here (float64,
bounds-checked indexing instead of padding), from hand computation, or from
the worked examples in /work/shared/seeds.  Nothing here calls kernels.py to
produce an expected value.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from archcalc import kernels as K
from archcalc import kernels_conv as KC
from archcalc import kernels_grouped as KG


# ============================================================ loop references


def ref_conv2d(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    n, cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    top, bottom, left, right = pads
    ho = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cout_g = cout // groups
    out = np.zeros((n, cout, ho, wo))
    for bn in range(n):
        for co in range(cout):
            g = co // cout_g
            for oh in range(ho):
                for ow in range(wo):
                    acc = 0.0 if b is None else float(b[co])
                    for ci in range(cin_g):
                        for i in range(kh):
                            for j in range(kw):
                                r = oh * stride[0] - top + i * dilation[0]
                                c = ow * stride[1] - left + j * dilation[1]
                                if 0 <= r < h and 0 <= c < wd:
                                    xv = float(x[bn, g * cin_g + ci, r, c])
                                    acc += xv * float(w[co, ci, i, j])
                    out[bn, co, oh, ow] = acc
    return out


def ref_conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0),
                         dilation=(1, 1), groups=1):
    """Scatter definition: input pixel (r, c) adds w * x at (r*s - p + i*d, c*s - p + j*d)."""
    n, cin, h, wd = x.shape
    _, cout_g, kh, kw = w.shape
    ho = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    wo = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    cin_g = cin // groups
    out = np.zeros((n, cout_g * groups, ho, wo))
    for bn in range(n):
        for ci in range(cin):
            g = ci // cin_g
            for r in range(h):
                for c in range(wd):
                    for i in range(kh):
                        for j in range(kw):
                            orow = r * stride[0] - padding[0] + i * dilation[0]
                            ocol = c * stride[1] - padding[1] + j * dilation[1]
                            if 0 <= orow < ho and 0 <= ocol < wo:
                                for co in range(cout_g):
                                    out[bn, g * cout_g + co, orow, ocol] += (
                                        float(x[bn, ci, r, c]) * float(w[ci, co, i, j]))
    if b is not None:
        out += np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)
    return out


def ref_pool_len(size, k, s, p, d=1, ceil_mode=False):
    """PyTorch pooling_output_shape written out longhand."""
    span = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = math.ceil(span / s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
    else:
        out = math.floor(span / s) + 1
    return out


def ref_max_pool2d(x, k, s, p, d=(1, 1), ceil_mode=False):
    n, c, h, wd = x.shape
    ho = ref_pool_len(h, k[0], s[0], p[0], d[0], ceil_mode)
    wo = ref_pool_len(wd, k[1], s[1], p[1], d[1], ceil_mode)
    out = np.zeros((n, c, ho, wo))
    for bn, ch, oh, ow in itertools.product(range(n), range(c), range(ho), range(wo)):
        best = -math.inf
        for i in range(k[0]):
            for j in range(k[1]):
                r = oh * s[0] - p[0] + i * d[0]
                col = ow * s[1] - p[1] + j * d[1]
                if 0 <= r < h and 0 <= col < wd:
                    best = max(best, float(x[bn, ch, r, col]))
        out[bn, ch, oh, ow] = best
    return out


def ref_avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=True):
    """Transcription of PyTorch's AvgPool2d CPU kernel loop."""
    n, c, h, wd = x.shape
    ho = ref_pool_len(h, k[0], s[0], p[0], 1, ceil_mode)
    wo = ref_pool_len(wd, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    for bn, ch, oh, ow in itertools.product(range(n), range(c), range(ho), range(wo)):
        hstart, wstart = oh * s[0] - p[0], ow * s[1] - p[1]
        hend, wend = min(hstart + k[0], h + p[0]), min(wstart + k[1], wd + p[1])
        pool_size = (hend - hstart) * (wend - wstart)
        hstart, wstart = max(hstart, 0), max(wstart, 0)
        hend, wend = min(hend, h), min(wend, wd)
        total = 0.0
        for r in range(hstart, hend):
            for col in range(wstart, wend):
                total += float(x[bn, ch, r, col])
        divisor = pool_size if count_include_pad else (hend - hstart) * (wend - wstart)
        out[bn, ch, oh, ow] = total / divisor
    return out


def ref_adaptive_avg_pool2d(x, oh, ow):
    n, c, h, wd = x.shape
    out = np.zeros((n, c, oh, ow))
    for bn, ch, i, j in itertools.product(range(n), range(c), range(oh), range(ow)):
        r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
        c0, c1 = (j * wd) // ow, math.ceil((j + 1) * wd / ow)
        vals = [float(x[bn, ch, r, col]) for r in range(r0, r1) for col in range(c0, c1)]
        out[bn, ch, i, j] = sum(vals) / len(vals)
    return out


def ref_lrn(x, size, alpha, beta, k):
    n, c, h, wd = x.shape
    out = np.zeros(x.shape)
    for bn, ch, r, col in itertools.product(range(n), range(c), range(h), range(wd)):
        sq = 0.0
        for cc in range(ch - size // 2, ch + (size - 1) // 2 + 1):
            if 0 <= cc < c:
                sq += float(x[bn, cc, r, col]) ** 2
        out[bn, ch, r, col] = float(x[bn, ch, r, col]) / (k + alpha / size * sq) ** beta
    return out


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def close(a, b, tol=1e-4):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b, rtol=tol, atol=tol)


# ============================================================ conv2d grid

PADS = [0, 1, 2, (0, 1, 2, 0), (2, 1, 0, 1)]
KERNELS = [(1, 1), (3, 3), (2, 5), (5, 3), (4, 4)]
GROUPS = ["1", "2", "dw", "dw_x2"]


def _pads4(p):
    return (p,) * 4 if isinstance(p, int) else p


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", PADS, ids=str)
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("groups", GROUPS)
@pytest.mark.parametrize("kernel", KERNELS, ids=str)
def test_conv2d_matches_loop_reference(stride, padding, dilation, groups, kernel):
    cin = 4
    g, cout = {"1": (1, 6), "2": (2, 6), "dw": (4, 4), "dw_x2": (4, 8)}[groups]
    x = rand((2, cin, 7, 8), 1)
    w = rand((cout, cin // g, *kernel), 2)
    b = rand((cout,), 3)
    pads = _pads4(padding)
    ho = (7 + pads[0] + pads[1] - dilation * (kernel[0] - 1) - 1) // stride + 1
    wo = (8 + pads[2] + pads[3] - dilation * (kernel[1] - 1) - 1) // stride + 1
    if ho <= 0 or wo <= 0:
        with pytest.raises(ValueError):
            K.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=g)
        return
    got = K.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=g)
    assert got.dtype == np.float32
    assert got.shape == (2, cout, ho, wo)
    close(got, ref_conv2d(x, w, b, (stride, stride), pads, (dilation, dilation), g))


def test_conv2d_anisotropic_stride_dilation():
    x, w = rand((1, 3, 9, 11), 4), rand((5, 3, 3, 2), 5)
    got = K.conv2d(x, w, stride=(2, 3), padding=(1, 0, 2, 1), dilation=(2, 1))
    close(got, ref_conv2d(x, w, None, (2, 3), (1, 0, 2, 1), (2, 1)))


@pytest.mark.parametrize("budget", [4096, 600])
def test_conv2d_chunked_im2col_matches(monkeypatch, budget):
    # 4096 B forces row chunks; 600 B forces batch chunks of single rows
    x, w, b = rand((3, 2, 6, 7), 6), rand((3, 2, 3, 3), 7), rand((3,), 8)
    expected = ref_conv2d(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1))
    monkeypatch.setattr(KC, "IM2COL_BUDGET_BYTES", budget)
    close(K.conv2d(x, w, b, padding=1), expected)


@pytest.mark.parametrize("path", ["gemv", "nhwc"])
@pytest.mark.parametrize("budget", [1 << 19, 1500])
@pytest.mark.parametrize("stride,dilation,mult", [(1, 1, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2)])
def test_depthwise_paths_and_blocks_match(monkeypatch, path, budget, stride, dilation, mult):
    # both formulations on the same map; the GEMV path in blocks of one channel at 1500 B
    monkeypatch.setattr(KC, "DEPTHWISE_GEMV_MIN_POSITIONS", 0 if path == "gemv" else 10**9)
    monkeypatch.setattr(KC, "DEPTHWISE_BLOCK_BYTES", budget)
    x, w, b = rand((2, 5, 13, 36), 21), rand((5 * mult, 1, 3, 3), 22), rand((5 * mult,), 23)
    pads = (1, 2, 0, 1)
    got = K.conv2d(x, w, b, stride=stride, padding=pads, dilation=dilation, groups=5)
    close(got, ref_conv2d(x, w, b, (stride, stride), pads, (dilation, dilation), 5))


def test_depthwise_gemv_rule_and_many_channels(monkeypatch):
    # the measured crossovers: many channels on a large map with a 3×3 window take the GEMV path, a 7×7
    # window or a small map from a small input the einsum; then a many-channel map on the GEMV path against
    # the reference
    assert KC.depthwise_gemv_pays(256, 3, 3, 56, 56, 58, 58) and KC.depthwise_gemv_pays(96, 7, 7, 56, 56, 62, 62)
    assert KC.depthwise_gemv_pays(192, 3, 3, 28, 28, 58, 58, (2, 2)) and KC.depthwise_gemv_pays(960, 3, 3, 12, 12, 26, 26, (2, 2))
    assert not KC.depthwise_gemv_pays(192, 7, 7, 56, 56, 62, 62) and not KC.depthwise_gemv_pays(1024, 3, 3, 14, 14, 16, 16)
    assert not KC.depthwise_gemv_pays(2048, 3, 3, 7, 7, 16, 16) and not KC.depthwise_gemv_pays(100, 3, 3, 15, 15, 17, 17)
    # unit stride: the einsum (channels-last result) up to 28×28, the GEMV from 32×32
    assert not KC.depthwise_gemv_pays(960, 3, 3, 24, 24, 26, 26) and not KC.depthwise_gemv_pays(192, 3, 3, 28, 28, 30, 30)
    assert KC.depthwise_gemv_pays(192, 3, 3, 32, 32, 34, 34) and KC.depthwise_gemv_pays(960, 3, 3, 24, 24, 50, 50, (2, 2))
    monkeypatch.setattr(KC, "DEPTHWISE_GEMV_WIDE_POSITIONS", 256)
    monkeypatch.setattr(KC, "DEPTHWISE_GEMV_UNIT_POSITIONS", 256)
    assert KC.depthwise_gemv_pays(170, 3, 3, 16, 16, 18, 18) and not KC.depthwise_gemv_pays(170, 3, 3, 15, 16, 17, 18)
    x, w, b = rand((1, 170, 16, 16), 24), rand((170, 1, 3, 3), 25), rand((170,), 26)
    close(K.conv2d(x, w, b, padding=1, groups=170), ref_conv2d(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 170))


@pytest.mark.parametrize("k,pads,stride", [(3, (-1, 2, 1, -2), 1), (5, (2, -1, 0, 3), 2), (3, (0, 0, 0, 0), 2)])
def test_depthwise_gemv_gather_crops_and_pads(monkeypatch, k, pads, stride):
    # the GEMV path's gather from the unpadded input (≤ 9 taps) and from a padded copy (5×5), cropping
    # (negative padding) and padding, a tap whose rectangle is empty (k=5 on a 4-row crop)
    monkeypatch.setattr(KC, "DEPTHWISE_GEMV_MIN_POSITIONS", 0)
    x, w = rand((2, 4, 6, 9), 27), rand((4, 1, k, k), 28)
    got = K.conv2d(x, w, stride=stride, padding=pads, groups=4)
    close(got, ref_conv2d(x, w, None, (stride, stride), pads, (1, 1), 4))


@pytest.mark.parametrize("block", [8 << 20, 1])
@pytest.mark.parametrize("k,dilation,pads", [(3, 1, (1, 1, 1, 1)), (3, 2, (2, 0, 1, 3)), (2, 1, (0, 0, 0, 0)),
                                             (5, 1, (-1, 2, 2, -1)), ((1, 3), 1, (0, 0, 1, 1))])
def test_shifted_gemm_conv_matches(monkeypatch, block, k, dilation, pads):
    # fewer output than input channels at unit stride: the shifted-GEMM path, in blocks of one row at 1 B
    monkeypatch.setattr(KC, "IM2COL_BLOCK_BYTES", block)
    kh, kw = (k, k) if isinstance(k, int) else k
    x, w, b = rand((2, 8, 9, 11), 31), rand((3, 8, kh, kw), 32), rand((3,), 33)
    assert KC.shifted_pays(8, 3, kh, kw, (1, 1), 1)
    got = K.conv2d(x, w, b, padding=pads, dilation=dilation)
    close(got, ref_conv2d(x, w, b, (1, 1), pads, (dilation, dilation), 1))


@pytest.mark.parametrize("block", [1 << 20, 1])
@pytest.mark.parametrize("k,stride,dilation,pads", [
    ((3, 3), (1, 1), (1, 1), (1, 1, 1, 1)), ((3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
    ((3, 3), (1, 1), (2, 1), (2, 0, 1, 3)), ((2, 5), (1, 1), (1, 2), (0, 1, 4, 2)),
    ((3, 1), (1, 1), (1, 1), (1, 1, 0, 0)), ((1, 3), (2, 1), (1, 1), (0, 0, 1, 1)),
    ((5, 3), (1, 1), (1, 1), (-1, 2, 2, -1)), ((3, 3), (2, 3), (2, 1), (-1, 0, 2, 1)), ((4, 4), (3, 3), (1, 1), (0, 0, 0, 0))])
@pytest.mark.parametrize("groups,cout", [(2, 8), (3, 9), (3, 3)])
@pytest.mark.parametrize("wide", [0, 10**9])
def test_grouped_conv_matches(monkeypatch, block, k, stride, dilation, pads, groups, cout, wide):
    # 1 < groups < Cin: at unit stride the row fold (the taps along a row in the GEMM's rows) and the wide
    # im2col, the gather of valid rectangles at stride > 1; all groups in one block and one group per block
    # (1 B); Cout/G ≠ Cin/G, cropping
    monkeypatch.setattr(KG, "GROUPED_BLOCK_BYTES", block)
    monkeypatch.setattr(KG, "GROUPED_WIDE_MAX_POSITIONS", wide)
    x, w, b = rand((2, 6, 9, 11), 41), rand((cout, 6 // groups, *k), 42), rand((cout,), 43)
    got = K.conv2d(x, w, b, stride=stride, padding=pads, dilation=dilation, groups=groups)
    close(got, ref_conv2d(x, w, b, stride, pads, dilation, groups))
    assert got.flags.c_contiguous and got.dtype == np.float32


def test_grouped_conv_bounded_on_huge_maps(monkeypatch):
    # a map whose one group's columns would pass the im2col bound goes to the row-chunked im2col (here a
    # 600 B bound: chunks of single rows), the same result
    x, w, b = rand((2, 6, 9, 11), 48), rand((9, 2, 3, 3), 49), rand((9,), 50)
    calls = []
    monkeypatch.setattr(KG, "conv_im2col", lambda *a: (calls.append(a[-1]), KC.conv_im2col(*a))[1])
    monkeypatch.setattr(KC, "IM2COL_BUDGET_BYTES", 600)
    for stride in (1, 2):
        got = K.conv2d(x, w, b, stride=stride, padding=1, groups=3)
        close(got, ref_conv2d(x, w, b, (stride, stride), (1, 1, 1, 1), (1, 1), 3))
    assert calls == [3, 3]


def test_grouped_conv_channels_last_input_and_resnext_shape():
    # a channels-last (NHWC in memory) input, and one 32-group 3×3 layer of ResNeXt's shape against the float64
    # reference (4 channels a group)
    x = rand((1, 6, 8, 10), 44).transpose(0, 3, 1, 2)
    w = rand((10, 2, 3, 3), 45)
    close(K.conv2d(x, w, padding=1, groups=5), ref_conv2d(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 5))
    x, w = rand((1, 128, 6, 6), 46), rand((128, 4, 3, 3), 47)
    assert KG.GROUPED_WIDE_MAX_POSITIONS >= 28 * 30 and KG.GROUPED_WIDE_MAX_POSITIONS < 48 * 50
    for stride in (1, 2):
        close(K.conv2d(x, w, stride=stride, padding=1, groups=32),
              ref_conv2d(x, w, None, (stride, stride), (1, 1, 1, 1), (1, 1), 32))


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    h=st.integers(1, 9), wd=st.integers(1, 9), kh=st.integers(1, 5), kw=st.integers(1, 5),
    sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
    pads=st.tuples(*[st.integers(0, 2)] * 4), gsel=st.sampled_from([1, 2, 6]),
    seed=st.integers(0, 2**16),
)
def test_conv2d_hypothesis(h, wd, kh, kw, sh, sw, dh, dw, pads, gsel, seed):
    ho = (h + pads[0] + pads[1] - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pads[2] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    if ho <= 0 or wo <= 0:
        return
    x, w = rand((1, 6, h, wd), seed), rand((6, 6 // gsel, kh, kw), seed + 1)
    got = K.conv2d(x, w, stride=(sh, sw), padding=pads, dilation=(dh, dw), groups=gsel)
    close(got, ref_conv2d(x, w, None, (sh, sw), pads, (dh, dw), gsel))


# ============================================================ conv_transpose2d


# PyTorch requires output_padding < max(stride, dilation)
CT_GRID = [(s, p, op, d)
           for s, p, op, d in itertools.product([1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2])
           if op < max(s, d)]


@pytest.mark.parametrize("stride,padding,output_padding,dilation", CT_GRID)
@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (2, 4), (5, 3)], ids=str)
@pytest.mark.parametrize("groups", [1, 2])
def test_conv_transpose2d_matches_scatter_reference(stride, padding, output_padding, dilation,
                                                    kernel, groups):
    x, w, b = rand((2, 4, 4, 5), 10), rand((4, 3, *kernel), 11), rand((3 * groups,), 12)
    ho = (4 - 1) * stride - 2 * padding + dilation * (kernel[0] - 1) + output_padding + 1
    wo = (5 - 1) * stride - 2 * padding + dilation * (kernel[1] - 1) + output_padding + 1
    if ho <= 0 or wo <= 0:
        return
    got = K.conv_transpose2d(x, w, b, stride=stride, padding=padding,
                             output_padding=output_padding, dilation=dilation, groups=groups)
    assert got.shape == (2, 3 * groups, ho, wo)
    expected = ref_conv_transpose2d(x, w, b, (stride,) * 2, (padding,) * 2,
                                    (output_padding,) * 2, (dilation,) * 2, groups)
    close(got, expected)


def test_conv_transpose2d_is_adjoint_of_conv2d():
    # <conv(x), y> == <x, conv_T(y)> for the same weight (definition of the transpose)
    x, w = rand((1, 3, 9, 8), 13), rand((5, 3, 3, 3), 14)
    y = K.conv2d(x, w, stride=2, padding=1)
    g = rand(y.shape, 15)
    # output_padding recovers the sizes lost to floor division in the forward conv
    xt = K.conv_transpose2d(g, w, stride=2, padding=1, output_padding=(0, 1))
    assert xt.shape == x.shape
    assert np.isclose(float(np.vdot(y.astype(np.float64), g)),
                      float(np.vdot(x.astype(np.float64), xt)), rtol=1e-4)


def test_conv_transpose2d_hand_example():
    # 2x2 input, 2x2 ones kernel, stride 2: each input pixel becomes a 2x2 block
    x = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    got = K.conv_transpose2d(x, np.ones((1, 1, 2, 2), np.float32), stride=2)
    expected = [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    np.testing.assert_array_equal(got[0, 0], expected)


# ============================================================ pooling


POOL_KERNELS = [(1, 1), (2, 2), (3, 3), (2, 3), (3, 2)]
# PyTorch requires pad <= kernel/2
POOL_KP = [(k, p) for k in POOL_KERNELS for p in (0, 1) if p <= min(k) // 2]


@pytest.mark.parametrize("kernel,padding", POOL_KP, ids=str)
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("size", [(7, 6), (5, 5)], ids=str)
def test_max_pool2d_matches_loop_reference(kernel, stride, padding, dilation, ceil_mode, size):
    x = rand((2, 3, *size), 20)
    k, s, p, d = kernel, (stride,) * 2, (padding,) * 2, (dilation,) * 2
    expected = ref_max_pool2d(x, k, s, p, d, ceil_mode)
    got = K.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    assert got.shape == expected.shape
    close(got, expected)


@pytest.mark.parametrize("kernel,padding", POOL_KP, ids=str)
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("size", [(7, 6), (5, 5), (6, 6)], ids=str)
def test_avg_pool2d_matches_loop_reference(kernel, stride, padding, ceil_mode,
                                           count_include_pad, size):
    x = rand((2, 3, *size), 21)
    expected = ref_avg_pool2d(x, kernel, (stride,) * 2, (padding,) * 2, ceil_mode,
                              count_include_pad)
    got = K.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    assert got.shape == expected.shape
    close(got, expected)


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad",
                         [(3, 2, 1, False, True), (3, 1, 1, False, False), (2, 2, 0, True, True), (3, 2, 1, True, False)])
def test_avg_pool2d_on_channels_last_keeps_its_layout(kernel, stride, padding, ceil_mode, count_include_pad):
    # a channels-last input is pooled (padded, summed) in its own layout: a channels-last result of the
    # reference's values
    from archcalc.layout import channels_last

    x = np.ascontiguousarray(rand((2, 7, 9, 8), 23).transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    got = K.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    assert channels_last(got)
    close(got, ref_avg_pool2d(x, (kernel,) * 2, (stride,) * 2, (padding,) * 2, ceil_mode, count_include_pad))


def test_avg_pool2d_ceil_overhang_divisor_by_hand():
    # 6x6 ones, k=3, s=2, p=1, ceil_mode: out = ceil((6+2-3)/2)+1 = 4, and (4-1)*2=6 < 6+1.
    # Row windows start at -1, 1, 3, 5.  The last covers rows 5 (real), 6 (pad), 7 (overhang);
    # PyTorch divides by the part inside input+padding: 2 rows.
    x = np.ones((1, 1, 6, 6), np.float32)
    inc = K.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True)[0, 0]
    exc = K.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)[0, 0]
    assert inc.shape == (4, 4)
    assert inc[0, 0] == pytest.approx(4 / 9)  # 2x2 real of a 3x3 padded window
    assert inc[3, 3] == pytest.approx(1 / 4)  # 1 real of a 2x2 window (overhang excluded)
    assert inc[1, 1] == pytest.approx(1.0)
    np.testing.assert_allclose(exc, np.ones((4, 4)))


def test_max_pool_ceil_mode_drops_window_starting_in_right_padding():
    # H=5, k=2, s=2, p=1, ceil: ceil((5+2-2)/2)+1 = 4, but (4-1)*2 = 6 >= 5+1 -> 3
    x = rand((1, 1, 5, 5), 22)
    assert K.max_pool2d(x, 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert K.max_pool2d(np.ones((1, 1, 5, 5)), 2, 2, 0, ceil_mode=True).shape == (1, 1, 3, 3)
    assert K.max_pool2d(np.ones((1, 1, 5, 5)), 2, 2, 0, ceil_mode=False).shape == (1, 1, 2, 2)


def test_max_pool_padding_is_minus_infinity():
    x = -np.ones((1, 1, 2, 2), np.float32)
    got = K.max_pool2d(x, 2, 1, 1)
    np.testing.assert_array_equal(got, -np.ones((1, 1, 3, 3)))


@pytest.mark.parametrize("in_hw,out_hw", [((7, 7), (7, 7)), ((10, 9), (3, 4)), ((5, 6), (1, 1)),
                                          ((4, 4), (6, 5)), ((13, 13), (6, 6))])
def test_adaptive_avg_pool2d_matches_loop_reference(in_hw, out_hw):
    x = rand((2, 3, *in_hw), 23)
    close(K.adaptive_avg_pool2d(x, out_hw), ref_adaptive_avg_pool2d(x, *out_hw))


def test_global_avg_pool_keeps_dims():
    x = rand((2, 3, 5, 4), 24)
    got = K.global_avg_pool(x)
    assert got.shape == (2, 3, 1, 1)
    close(got[:, :, 0, 0], x.astype(np.float64).sum(axis=(2, 3)) / 20)


def test_global_avg_pool_in_every_layout():
    # the GEMV against ones from an NCHW and a channels-last map, the mean over axes of a map with gaps: each
    # within float32 rounding of the float64 mean (1e-6 of the largest |value|), shape (N, C, 1, 1), float32
    base = rand((2, 24, 24, 160), 25) + 3
    for x in (np.ascontiguousarray(base.transpose(0, 3, 1, 2)), base.transpose(0, 3, 1, 2), base.transpose(0, 3, 1, 2)[:, ::2]):
        got = K.global_avg_pool(x)
        want = x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
        assert got.shape == want.shape and got.dtype == np.float32
        assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()


# ============================================================ worked examples from the seeds

# --- seed 002, "PHÉP TÍNH CONVOLUTION": 5x5 X, 3x3 W, no padding, stride 1
SEED002_X = [[1, 9, 5, 12, 8], [18, 19, 14, 16, 7], [0, 20, 12, 11, 15],
             [10, 22, 46, 39, 37], [25, 14, 21, 2, 5]]
SEED002_W = [[1, 0, -1], [2, 1, 0], [-4, 3, 5]]
SEED002_CONV_CORRECT = [[171, 60, 101], [280, 300, 160], [77, 116, 75]]
# Slide 002 prints Y[1][1] = 90 and Y[1][2] = 43.  Correct values are 300 and 160:
#   Y[1][1] = 19-16 + 40+12 + (-88)+138+195 = 300  (patch rows 1-3, cols 1-3)
#   Y[1][2] = 14-7  + 24+11 + (-184)+117+185 = 160 (patch rows 1-3, cols 2-4)
# No patch of X with W (flipped or not) gives 90 or 43; the other 7 entries are right.
SEED002_CONV_SLIDE_PRINTS = [[171, 60, 101], [280, 90, 43], [77, 116, 75]]

# --- seed 002, "PADDING": 5x5 X zero-padded by 1, 3x3 W, stride 1
SEED002_PAD_X = [[1, 2, 3, 4, 8], [7, 0, 9, 18, 12], [5, 4, 6, 0, 9],
                 [10, 5, 22, 33, 6], [8, 80, 66, 6, 55]]
SEED002_PAD_W = [[-1, 2, -1], [2, -1, 2], [-1, 2, -1]]
SEED002_PAD_CORRECT = [[17, -10, 9, 33, 6], [-1, 29, 35, 6, 54], [32, -20, 8, 83, -24],
                       [-58, 142, 108, -101, 182], [167, 46, 112, 274, -64]]
# Slide 002 prints Y[1][3] = 8 and Y[4][0] = -49.  Correct values are 6 and 167:
#   Y[1][3]: window [[3,4,8],[9,18,12],[6,0,9]] -> (-3+8-8) + (18-18+24) + (-6+0-9) = 6
#   Y[4][0]: window [[0,10,5],[0,8,80],[0,0,0]] -> (0+20-5) + (0-8+160) + 0 = 167
SEED002_PAD_SLIDE_PRINTS = [[17, -10, 9, 33, 6], [-1, 29, 35, 8, 54], [32, -20, 8, 83, -24],
                            [-58, 142, 108, -101, 182], [-49, 46, 112, 274, -64]]

# --- seed 003 "Demo": one 3x3 patch with the blur kernel (also the kernel in seed 000)
SEED003_BLUR_PATCH = [[139, 192, 190], [139, 191, 197], [149, 191, 190]]
BLUR = [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]
SEED003_BLUR_CORRECT = 179.375
SEED003_BLUR_SLIDE_PRINTS = 179  # slide shows the 8-bit pixel value; exact sum is 179.375

# --- seed 003 "Padding": 5x5 input, zero padding 1, stride 2, kernel from the subscripts.
# This is vdumoulin/conv_arithmetic's numerical_padding_strides figure (input/kernel are the
# ones its generator draws with numpy seed 1234).
SEED003_PAD_X = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                 [2, 0, 0, 0, 1]]
SEED003_PAD_W = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
SEED003_PAD_CORRECT = [[6, 17, 3], [8, 17, 13], [6, 4, 4]]
# Slide 003 prints 6 14 17 / 14 12 12 / 8 10 17; only the top-left 6 is right.  E.g. Y[0][1]
# (padded rows 0-2, cols 2-4: [[0,0,0],[3,2,1],[0,1,3]]) = 3*2 + 2*2 + 1*0 + 1*1 + 3*2 = 17.
# Known error in the source figure: github.com/vdumoulin/conv_arithmetic/issues/17.
SEED003_PAD_SLIDE_PRINTS = [[6, 14, 17], [14, 12, 12], [8, 10, 17]]

# --- seed 000 "Cách thức hoạt động của filter": 5x5 binary image, 3x3 X-shaped filter
SEED000_IMG = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0],
               [0, 1, 1, 0, 0]]
SEED000_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
SEED000_CONVOLVED = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]  # slide prints only the first: 4

# --- 4x4 pooling input (seed 003 "Average pooling", also seed 000 max pooling)
POOL_X = [[1, 0, 2, 3], [4, 6, 6, 8], [3, 1, 1, 0], [1, 2, 2, 4]]
POOL_MAX_CORRECT = [[6, 8], [3, 4]]  # seeds 000 and 003 both print 6 8 / 3 4
# Seed 000's image description says the 2x2 result has 6 top-left, 8 bottom-right and 0
# elsewhere; the printed matrix 6 8 / 3 4 (8 top-right) is the correct one.
SEED000_MAXPOOL_ALT_TEXT = [[6, 0], [0, 8]]
POOL_AVG_CORRECT = [[2.75, 4.75], [1.75, 1.75]]  # (1+0+4+6)/4, (2+3+6+8)/4, (3+1+1+2)/4, ...
# Slide 003 prints the averages rounded to integers.
SEED003_AVGPOOL_SLIDE_PRINTS = [[3, 5], [2, 2]]


def _img(a):
    return np.asarray(a, dtype=np.float32)[None, None]


def test_seed002_convolution_example():
    got = K.conv2d(_img(SEED002_X), _img(SEED002_W))[0, 0]
    np.testing.assert_array_equal(got, SEED002_CONV_CORRECT)
    np.testing.assert_array_equal(ref_conv2d(_img(SEED002_X), _img(SEED002_W))[0, 0],
                                  SEED002_CONV_CORRECT)
    wrong = np.argwhere(np.asarray(SEED002_CONV_SLIDE_PRINTS) != SEED002_CONV_CORRECT)
    assert wrong.tolist() == [[1, 1], [1, 2]]
    assert int(got[0, 0]) == 171  # the slide's fully worked y11


def test_seed002_padding_example():
    got = K.conv2d(_img(SEED002_PAD_X), _img(SEED002_PAD_W), padding=1)[0, 0]
    np.testing.assert_array_equal(got, SEED002_PAD_CORRECT)
    np.testing.assert_array_equal(
        ref_conv2d(_img(SEED002_PAD_X), _img(SEED002_PAD_W), pads=(1, 1, 1, 1))[0, 0],
        SEED002_PAD_CORRECT)
    wrong = np.argwhere(np.asarray(SEED002_PAD_SLIDE_PRINTS) != SEED002_PAD_CORRECT)
    assert wrong.tolist() == [[1, 3], [4, 0]]


def test_seed003_blur_demo():
    got = K.conv2d(_img(SEED003_BLUR_PATCH), _img(BLUR))[0, 0]
    assert got.shape == (1, 1)
    assert float(got[0, 0]) == SEED003_BLUR_CORRECT  # exact in binary floating point
    assert round(float(got[0, 0])) == SEED003_BLUR_SLIDE_PRINTS


def test_seed003_padding_stride2_example():
    got = K.conv2d(_img(SEED003_PAD_X), _img(SEED003_PAD_W), stride=2, padding=1)[0, 0]
    assert got.shape == (3, 3)  # "výsledek je 3x3, protože v příkladu stride=2"
    np.testing.assert_array_equal(got, SEED003_PAD_CORRECT)
    np.testing.assert_array_equal(
        ref_conv2d(_img(SEED003_PAD_X), _img(SEED003_PAD_W), stride=(2, 2),
                   pads=(1, 1, 1, 1))[0, 0], SEED003_PAD_CORRECT)
    assert not np.array_equal(SEED003_PAD_SLIDE_PRINTS, SEED003_PAD_CORRECT)


def test_seed000_filter_example():
    got = K.conv2d(_img(SEED000_IMG), _img(SEED000_FILTER))[0, 0]
    assert int(got[0, 0]) == 4
    np.testing.assert_array_equal(got, SEED000_CONVOLVED)
    np.testing.assert_array_equal(ref_conv2d(_img(SEED000_IMG), _img(SEED000_FILTER))[0, 0],
                                  SEED000_CONVOLVED)


def test_seed_pooling_examples():
    mx = K.max_pool2d(_img(POOL_X), 2, 2)[0, 0]
    av = K.avg_pool2d(_img(POOL_X), 2, 2)[0, 0]
    np.testing.assert_array_equal(mx, POOL_MAX_CORRECT)
    np.testing.assert_allclose(av, POOL_AVG_CORRECT)
    np.testing.assert_allclose(ref_avg_pool2d(_img(POOL_X), (2, 2), (2, 2), (0, 0))[0, 0],
                               POOL_AVG_CORRECT)
    assert not np.array_equal(mx, SEED000_MAXPOOL_ALT_TEXT)
    np.testing.assert_array_equal(np.floor(av + 0.5), SEED003_AVGPOOL_SLIDE_PRINTS)


@pytest.mark.parametrize("n,f,s,p,expected", [
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3),  # seed 000: (7-3)/1+1 = 5, (7-3)/2+1 = 3
    (7, 3, 3, 0, 2),                   # seed 000: 2.33 "doesn't fit"; frameworks floor to 2
    (7, 3, 1, 1, 7),                   # seed 000: 7x7, 3x3, stride 1, pad 1 -> 7x7
    (4, 3, 1, 0, 2), (5, 3, 1, 1, 5), (5, 3, 1, 2, 7),  # seed 003: Q = M-(K-1)+2P
])
def test_seed_output_size_examples(n, f, s, p, expected):
    x = np.zeros((1, 1, n, n), np.float32)
    assert K.conv2d(x, np.zeros((1, 1, f, f), np.float32), stride=s, padding=p).shape[2:] == (
        expected, expected)


# ============================================================ shape formulas


@pytest.mark.parametrize("n,k,s,p,d", list(itertools.product([1, 5, 8, 13], [1, 2, 3, 5],
                                                               [1, 2, 3], [0, 1, 2], [1, 2])))
def test_conv_and_pool_output_size_formula(n, k, s, p, d):
    expected = (n + 2 * p - d * (k - 1) - 1) // s + 1
    assert K.conv_out_size(n, k, s, 2 * p, d) == expected
    if expected <= 0:
        return
    x = np.zeros((1, 1, n, n + 1), np.float32)
    w = np.zeros((1, 1, k, k), np.float32)
    got = K.conv2d(x, w, stride=s, padding=p, dilation=d).shape[2:]
    assert got == (expected, (n + 1 + 2 * p - d * (k - 1) - 1) // s + 1)
    if p <= k // 2:
        assert K.max_pool2d(x, k, s, p, d).shape[2] == expected
        for ceil_mode in (False, True):
            assert K.pool_out_size(n, k, s, p, p, d, ceil_mode) == ref_pool_len(n, k, s, p, d,
                                                                                ceil_mode)
            assert K.max_pool2d(x, k, s, p, d, ceil_mode).shape[2] == ref_pool_len(
                n, k, s, p, d, ceil_mode)


@pytest.mark.parametrize("h,k,s,p,op,d", [(1, 1, 1, 0, 0, 1), (4, 3, 2, 1, 1, 1),
                                          (7, 4, 2, 1, 0, 1),
                                          (5, 3, 3, 0, 2, 1), (6, 3, 1, 2, 0, 2),
                                          (3, 5, 2, 2, 1, 2), (8, 2, 2, 0, 0, 1)])
def test_conv_transpose_output_size_formula(h, k, s, p, op, d):
    expected = (h - 1) * s - 2 * p + d * (k - 1) + op + 1
    assert K.conv_transpose_out_size(h, k, s, p, op, d) == expected
    x = np.zeros((1, 2, h, h), np.float32)
    got = K.conv_transpose2d(x, np.zeros((2, 3, k, k), np.float32), stride=s, padding=p,
                             output_padding=op, dilation=d)
    assert got.shape == (1, 3, expected, expected)


@pytest.mark.parametrize("in_size,k,s,d,expected", [
    (224, 3, 2, 1, (0, 1)), (224, 7, 2, 1, (2, 3)), (6, 3, 2, 1, (0, 1)), (5, 3, 2, 1, (1, 1)),
    (4, 1, 2, 1, (0, 0)), (7, 3, 1, 1, (1, 1)), (7, 3, 1, 2, (2, 2)), (10, 4, 3, 1, (1, 2)),
    (1, 5, 1, 1, (2, 2)),
])
def test_same_padding_tensorflow_rule(in_size, k, s, d, expected):
    assert K.same_padding(in_size, k, s, d) == expected
    before, after = expected
    x = np.zeros((1, 1, in_size, in_size), np.float32)
    out = K.conv2d(x, np.zeros((1, 1, k, k), np.float32), stride=s,
                   padding=(before, after, before, after), dilation=d)
    assert out.shape[2] == math.ceil(in_size / s)  # 'SAME' keeps ceil(in / s)


# ============================================================ dense, norm, activations


def test_linear():
    x, w, b = rand((3, 5), 30), rand((4, 5), 31), rand((4,), 32)
    expected = [[sum(float(x[i, k]) * float(w[o, k]) for k in range(5)) + float(b[o])
                 for o in range(4)] for i in range(3)]
    close(K.linear(x, w, b), expected)


def test_batch_norm():
    x = rand((2, 3, 2, 2), 33)
    gamma, beta, mean = rand((3,), 34), rand((3,), 35), rand((3,), 36)
    var = np.abs(rand((3,), 37)) + 0.1
    got = K.batch_norm(x, gamma, beta, mean, var, eps=1e-3)
    for c in range(3):
        xhat = (x[:, c].astype(np.float64) - mean[c]) / math.sqrt(var[c] + 1e-3)
        expect = xhat * gamma[c] + beta[c]
        close(got[:, c], expect)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_local_response_norm_matches_loop_reference(size):
    x = rand((2, 6, 3, 2), 38) * 3
    close(K.local_response_norm(x, size, alpha=0.5, beta=0.75, k=2.0),
          ref_lrn(x, size, 0.5, 0.75, 2.0))
    close(K.local_response_norm(x, size), ref_lrn(x, size, 1e-4, 0.75, 1.0))


def test_activations_pointwise():
    vals = [-100.0, -6.5, -3.0, -1.0, -0.25, 0.0, 0.5, 2.0, 3.0, 6.0, 7.5, 100.0]
    x = np.array(vals, np.float32).reshape(1, 12, 1, 1)

    def sig(v):
        return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))

    cases = {
        K.relu: lambda v: max(v, 0.0),
        K.relu6: lambda v: min(max(v, 0.0), 6.0),
        K.sigmoid: sig,
        K.tanh: math.tanh,
        K.swish: lambda v: v * sig(v),
        K.hardswish: lambda v: v * min(max(v + 3, 0.0), 6.0) / 6,
    }
    for fn, scalar in cases.items():
        got = fn(x)
        assert got.dtype == np.float32 and got.shape == x.shape
        close(got.ravel(), [scalar(v) for v in vals], tol=1e-6)


def test_softmax_over_channels():
    x = rand((2, 5, 3, 3), 39) * 50
    got = K.softmax(x)
    for n, i, j in itertools.product(range(2), range(3), range(3)):
        col = [float(v) for v in x[n, :, i, j]]
        m = max(col)
        e = [math.exp(v - m) for v in col]
        close(got[n, :, i, j], [v / sum(e) for v in e], tol=1e-6)


def test_channel_shuffle():
    x = np.arange(2 * 6 * 2 * 2, dtype=np.float32).reshape(2, 6, 2, 2)
    got = K.channel_shuffle(x, 3)
    # ShuffleNet: output channel j*g + i comes from input channel i*(C/g) + j
    order = [0, 2, 4, 1, 3, 5]
    np.testing.assert_array_equal(got, x[:, order])


def test_tensor_plumbing():
    a, b2 = rand((2, 3, 4, 4), 40), rand((2, 2, 4, 4), 41)
    assert K.flatten(a).shape == (2, 48)
    np.testing.assert_array_equal(K.flatten(a)[1], a[1].ravel())
    np.testing.assert_array_equal(K.dropout(a), a)
    cat = K.concat([a, b2])
    assert cat.shape == (2, 5, 4, 4)
    np.testing.assert_array_equal(cat[:, 3:], b2)
    close(K.add([a, a, a]), 3 * a.astype(np.float64))
    se = rand((2, 3, 1, 1), 42)
    got = K.mul(a, se)
    for n, c in itertools.product(range(2), range(3)):
        close(got[n, c], a[n, c].astype(np.float64) * float(se[n, c, 0, 0]))


def test_init_weights_deterministic_he_normal():
    w1 = K.init_weights((64, 32, 3, 3), np.random.default_rng(7))
    w2 = K.init_weights((64, 32, 3, 3), np.random.default_rng(7))
    assert w1.dtype == np.float32 and w1.shape == (64, 32, 3, 3)
    np.testing.assert_array_equal(w1, w2)
    assert w1.std() == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.05)


def test_deep_stack_stays_order_one():
    # He init keeps ReLU activations O(1) through a deep conv stack
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 8, 16, 16)).astype(np.float32)
    for _ in range(12):
        x = K.relu(K.conv2d(x, K.init_weights((8, 8, 3, 3), rng), padding=1))
    assert 0.05 < float(np.sqrt((x ** 2).mean())) < 20


def test_kernels_import_only_numpy():
    import ast
    import pathlib

    roots = set()
    for node in (n for f in (K.__file__, KG.__file__) for n in ast.walk(ast.parse(pathlib.Path(f).read_text()))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert roots <= {"numpy", "__future__", "collections", "math", "typing", "itertools"}


def test_max_pool2d_asymmetric_padding_tensorflow_same():
    # TF 'SAME' pooling pads (0, 1) on a 5-wide axis with k=2, s=2; padded cells never win
    x = rand((1, 2, 5, 5), 43)
    pads = K.same_padding(5, 2, 2) * 2
    assert pads == (0, 1, 0, 1)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=-np.inf)
    expected = ref_max_pool2d(xp, (2, 2), (2, 2), (0, 0))
    close(K.max_pool2d(x, 2, 2, pads), expected)


def test_gelu_against_erfc_with_no_tiny_tail():
    # x·Φ(x) = x·½·erfc(−x/√2) (math.erfc, float64) to 1.5e-7·max(1, |x|) over a dense sweep of [−16, 16] (every
    # float32 step of 1/2^14 there, the fit's whole range and its tails), far tails and tiny inputs; the
    # negative tail is exactly 0 (as torch's), and no output of a negative input is a tiny number that a later
    # layer could turn into float32 subnormals (which slow every product on them)
    from archcalc import kernels_transformer as KT

    tiny = [s * v for v in (1e-12, 1e-20, 1e-30, 1e-40) for s in (-1, 1)]   # 1e-40: a subnormal input
    tails = np.geomspace(16, 3e38, 400)
    x = np.concatenate([np.arange(-16 * 2**14, 16 * 2**14 + 1) / 2**14, tails, -tails, [0.0], tiny]).astype(np.float32)
    x64 = x.astype(np.float64)
    ref = x64 * 0.5 * np.frompyfunc(math.erfc, 1, 1)(-x64 / math.sqrt(2)).astype(np.float64)
    y = KT.gelu(x)
    assert np.all(np.abs(y - ref) <= 1.5e-7 * np.maximum(1, np.abs(x64)))
    assert np.all(y[x < -5.7] == 0) and np.all(y[x > 6] == x[x > 6])
    negative = (x < 0) & (y != 0)
    assert np.all(np.abs(y[negative]) >= 1e-7 * np.minimum(1, np.abs(x[negative])))
    assert not np.any((y != 0) & (np.abs(y) < np.finfo(np.float32).tiny) & (np.abs(x) >= np.finfo(np.float32).tiny))
    # no step underflows (a subnormal intermediate: severalfold slower) for any input from 3e-15 to 3e38 in size
    wide = np.concatenate([np.geomspace(3e-15, 3e38, 20_000), -np.geomspace(3e-15, 3e38, 20_000), np.linspace(-1e3, 1e3, 20_001)])
    with np.errstate(under="raise"):
        out = KT.gelu(wide.astype(np.float32))
    np.testing.assert_array_equal(KT.gelu(np.array([np.inf, -np.inf], np.float32)), [np.inf, np.nan])
    assert np.all(np.isfinite(out))


def test_gelu_fit_keeps_logit_phi_rising_past_its_span():
    # beyond the fitted [0, 5.5], h = x·P(x²) must keep Φ(−x) = 1/(1 + e^h) under 5e-8 (h ≥ 16.9) up to where
    # x² overflows, or the output of a large x would not be x (the test above samples; this checks densely)
    from archcalc import kernels_transformer as KT

    x = np.concatenate([np.linspace(5.3, 100, 200_001), np.geomspace(100, 1.8e19, 20_001)])
    h = np.polyval(KT.GELU_LOGIT_PHI[::-1], x * x) * x
    assert h.min() >= -math.log(5e-8)


def test_attention_softmax_floor_leaves_no_subnormals():
    # scores masked by −100 (Swin's shifted windows): the probabilities match a float64 softmax (float32 exp:
    # relative 1e-5; the masked ones, exactly ~e^-100, within 1e-30) and none is a float32 subnormal
    from archcalc import kernels_transformer as KT

    s = rand((3, 49, 49), 41) * 4
    s[:, :, 20:] -= 100
    ref = np.exp(s.astype(np.float64) - s.max(axis=-1, keepdims=True))
    ref /= ref.sum(axis=-1, keepdims=True)
    p = KT._softmax_last(s.copy())
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-30)
    assert not np.any((p != 0) & (p < np.finfo(np.float32).tiny))


def ref_attention(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias=None, mask=None, logit_scale=None, scale=None):
    """Self-attention group by group and head by head in float64 (softmax(q·kᵀ·s + bias + mask)·v, then proj)."""
    t, qkv_w, proj_w = (np.asarray(a, np.float64) for a in (t, qkv_w, proj_w))
    g, p, d = t.shape
    dh = d // heads
    out = np.zeros((g, p, d))
    for gi in range(g):
        qkv = t[gi] @ qkv_w.T + (0 if qkv_b is None else qkv_b)
        for h in range(heads):
            q, k, v = (qkv[:, j * d + h * dh: j * d + (h + 1) * dh] for j in range(3))
            if logit_scale is not None:
                q = q / np.linalg.norm(q, axis=-1, keepdims=True)
                k = k / np.linalg.norm(k, axis=-1, keepdims=True)
                s = q @ k.T * np.exp(min(float(logit_scale[h]), math.log(100.0)))
            else:
                s = q @ k.T * (dh ** -0.5 if scale is None else scale)
            s = s + (0 if bias is None else bias[h]) + (0 if mask is None else mask[gi % mask.shape[0]])
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            out[gi, :, h * dh: (h + 1) * dh] = (e / e.sum(axis=-1, keepdims=True)) @ v
    return out @ proj_w.T + (0 if proj_b is None else proj_b)


@pytest.mark.parametrize("block,few", [(1, 0), (40_000, 0), (1 << 30, 0), (1 << 30, 1 << 30)])
@pytest.mark.parametrize("g,p,d,heads,masked,cosine", [(8, 9, 12, 3, True, False), (6, 9, 8, 2, False, False),
                                                      (2, 7, 48, 4, False, False), (6, 9, 8, 2, True, True)])
def test_attention_in_blocks_of_groups_matches_reference(monkeypatch, block, few, g, p, d, heads, masked, cosine):
    # groups attended a block at a time (one group, uneven blocks, all at once), a mask repeating every 4
    # groups (blocks never straddle its period), the scale on q's weights (3·D ≤ G·P) or on q, cosine attention;
    # `few`: every token count counts as few (feature-major projections; not for cosine attention)
    from archcalc import kernels_transformer as KT

    monkeypatch.setattr(KT, "ATTENTION_BLOCK_BYTES", block)
    monkeypatch.setattr(KT, "ATTENTION_FEW_TOKENS", few)
    t, qkv_w, qkv_b = rand((g, p, d), 60), rand((3 * d, d), 61) * 0.3, rand((3 * d,), 62)
    proj_w, proj_b, bias = rand((d, d), 63) * 0.3, rand((d,), 64), rand((heads, p, p), 65)
    mask = np.where(rand((4, p, p), 66) > 0, 0, -100).astype(np.float32) if masked else None
    logit = np.log(np.array([5.0, 20.0, 200.0, 1.0][:heads], np.float32)) if cosine else None
    scale = None if d != 48 else 0.1
    got = KT.multi_head_attention(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias, mask, logit, scale)
    close(got, ref_attention(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias, mask, logit, scale))


def test_scratch_is_kept_per_role_until_released(monkeypatch):
    # a role's buffer is reused (grown when asked for more); one past SCRATCH_KEEP_BYTES is never kept
    KC.release_scratch()
    a = KC.scratch("t", 100)
    assert np.shares_memory(a, KC.scratch("t", 50)) and not np.shares_memory(a, KC.scratch("u", 50))
    assert KC.scratch("t", 200).size == 200 and np.shares_memory(KC.scratch("t", 150), KC.scratch("t", 200))
    monkeypatch.setattr(KC, "SCRATCH_KEEP_BYTES", 400)
    assert not np.shares_memory(KC.scratch("v", 101), KC.scratch("v", 101))
    KC.release_scratch()
    assert not np.shares_memory(a, KC.scratch("t", 100))


def test_activations_in_place_equal_out_of_place():
    # out=x: every step of the chunked chain reads an element before (or as) it writes it
    from archcalc import kernels_parts as KP
    from archcalc import kernels_transformer as KT

    x = rand((2, 3, 150, 151), 42) * 4   # more than one chunk of ELEMENTWISE_CHUNK
    fns = [K.relu, K.relu6, K.sigmoid, K.tanh, K.swish, K.hardswish, KP.hardsigmoid,
           KT.gelu, lambda a, out=None: KT.gelu(a, "tanh", out)]
    for fn in fns:
        a = x.copy()
        assert fn(a, out=a) is a
        np.testing.assert_array_equal(a, fn(x))


@pytest.mark.parametrize("pads,dilation", [((2, 2, 2, 2), 1), ((-1, 3, 0, 1), 1), ((4, 1, 2, 0), 2)])
def test_depthwise_gemv_wide_rows_for_large_windows(monkeypatch, pads, dilation):
    # unit stride, 5×5: the GEMV over wide rows (taps as contiguous runs of the flattened padded input),
    # with a crop, asymmetric padding, dilation, a channel multiplier and blocks of one channel
    monkeypatch.setattr(KC, "DEPTHWISE_GEMV_MIN_POSITIONS", 0)
    monkeypatch.setattr(KC, "DEPTHWISE_BLOCK_BYTES", 1)
    x, w, b = rand((2, 3, 11, 10), 43), rand((6, 1, 5, 5), 44), rand((6,), 45)
    got = K.conv2d(x, w, b, padding=pads, dilation=dilation, groups=3)
    close(got, ref_conv2d(x, w, b, (1, 1), pads, (dilation, dilation), 3))


def test_channels_last_arrays_flow_through_without_copies():
    # the depthwise einsum returns a channels-last view; a 1×1 conv on it stays channels-last; activations keep
    # the layout (and work in place on it); every value matches the contiguous computation
    from archcalc.layout import channels_last, dense_order

    x, wd, w1 = rand((1, 170, 9, 10), 46), rand((170, 1, 3, 3), 47), rand((9, 170, 1, 1), 48)
    y = K.conv2d(x, wd, padding=1, groups=170)
    assert channels_last(y) and dense_order(y) == (0, 2, 3, 1)
    close(y, ref_conv2d(x, wd, None, (1, 1), (1, 1, 1, 1), (1, 1), 170))
    z = K.conv2d(y, w1)
    assert channels_last(z)
    close(z, ref_conv2d(np.ascontiguousarray(y), w1, None, (1, 1), (0, 0, 0, 0), (1, 1)))
    for fn in (K.swish, K.hardswish, K.relu):
        a = z.copy(order="K")
        assert channels_last(fn(z)) and fn(a, out=a) is a and channels_last(a)
        np.testing.assert_array_equal(a, fn(np.ascontiguousarray(z)))
    c = np.empty(z.shape, np.float32)   # an out laid out unlike x
    np.testing.assert_array_equal(K.swish(z, out=c), K.swish(np.ascontiguousarray(z)))
    close(K.conv2d(y, rand((4, 170, 3, 3), 49), padding=1),   # a dense 3×3 conv reads it as NCHW
          ref_conv2d(np.ascontiguousarray(y), rand((4, 170, 3, 3), 49), None, (1, 1), (1, 1, 1, 1), (1, 1)))
    # on a map of at most SMALL_MAP_POSITIONS positions a 1×1 conv and a channel-wise Linear of a channels-last
    # input compute W @ Xᵀ and return NCHW
    from archcalc import kernels_transformer as KT

    small = K.conv2d(x[:, :, :8, :8], wd, padding=1, groups=170)
    assert channels_last(small) and 8 * 8 <= KC.SMALL_MAP_POSITIONS
    for got in (K.conv2d(small, w1), KT.linear_channels(small, w1[:, :, 0, 0], rand((9,), 50))):
        assert got.flags.c_contiguous
    close(K.conv2d(small, w1), ref_conv2d(np.ascontiguousarray(small), w1, None, (1, 1), (0, 0, 0, 0), (1, 1)))
    close(KT.linear_channels(small, w1[:, :, 0, 0], rand((9,), 50)),
          KT.linear_channels(np.ascontiguousarray(small), w1[:, :, 0, 0], rand((9,), 50)))


def test_linear_on_small_channels_last_maps_takes_positions_as_the_short_side():
    # a channel-wise Linear of a channels-last map of at most LINEAR_SMALL_MAP_POSITIONS (14×14 = 196 here)
    # computes W @ Xᵀ (an NCHW result), larger maps X @ Wᵀ (channels-last); both equal the NCHW input's result
    from archcalc import kernels_transformer as KT
    from archcalc.layout import channels_last

    w, b = rand((24, 16), 51), rand((24,), 52)
    for side, nchw in ((14, True), (17, False)):
        x = np.ascontiguousarray(rand((1, side, side, 16), 53)).transpose(0, 3, 1, 2)
        assert channels_last(x) and (side * side <= KT.LINEAR_SMALL_MAP_POSITIONS) == nchw
        got = KT.linear_channels(x, w, b)
        assert got.flags.c_contiguous == nchw and channels_last(got) != nchw
        close(got, np.einsum("oc,nchw->nohw", w.astype(np.float64), x.astype(np.float64)) + b.reshape(1, -1, 1, 1))
