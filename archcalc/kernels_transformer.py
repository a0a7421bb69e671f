"""Pure-NumPy transformer kernels, float32: layer norm, GELU, token reshapes, patch merging and
multi-head self-attention (global, Swin's shifted windows, MaxViT's block and grid partitions).

Layouts: NCHW maps and (batch, tokens, features) sequences. Semantics follow
torchvision/models/swin_transformer.py (shifted_window_attention, _patch_merging_pad,
ShiftedWindowAttentionV2) and maxvit.py (WindowPartition, SwapAxes, _get_relative_position_index).
Attention runs as batched matmuls over (groups·batch, heads) in float32.
"""
from __future__ import annotations

import math

import numpy as np

from .kernels import elementwise
from .layout import channels_last

DTYPE = np.float32


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=DTYPE)


# ---------------------------------------------------------------- elementwise and norms


def layer_norm(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None, eps: float, axis: int) -> np.ndarray:
    """(x − mean)/sqrt(var + eps)·γ + β over one axis (biased variance, as torch)."""
    x = _f32(x)
    axis %= x.ndim
    n = x.shape[axis]
    rows = np.moveaxis(x, axis, -1)
    if rows.flags.c_contiguous and n > 1:
        # the normalised axis innermost in memory: the mean as one GEMV (rows @ 1/n), 5× np.mean's time less
        mean = np.expand_dims((rows.reshape(-1, n) @ np.full(n, 1 / n, dtype=DTYPE)).reshape(rows.shape[:-1]), axis)
    else:
        mean = x.mean(axis=axis, keepdims=True)
    y = np.subtract(x, mean)
    every = "abcdefgh"[: x.ndim]
    rest = every.replace(every[axis], "")
    var = np.expand_dims(np.einsum(f"{every},{every}->{rest}", y, y), axis)   # Σ (x − mean)², no temporary
    var *= DTYPE(1 / x.shape[axis])
    var += DTYPE(eps)
    np.sqrt(var, out=var)
    np.reciprocal(var, out=var)   # 1/σ once per row, then a product per element (as torch's rstd): a division costs more
    y *= var
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    if gamma is not None:
        y *= _f32(gamma).reshape(shape)
    if beta is not None:
        y += _f32(beta).reshape(shape)
    return y


_ERF_P = DTYPE(0.3275911)
_ERF_A = tuple(DTYPE(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _as_poly(a: np.ndarray, p: np.floating, coefs: tuple[np.floating, ...], t: np.ndarray, o: np.ndarray) -> None:
    """o = t·P(t) with t = 1/(1 + p·a) (Abramowitz & Stegun 7.1.26's polynomial, Horner, coefficients
    from the highest degree down); t is left holding t."""
    np.multiply(a, p, out=t)
    t += DTYPE(1)
    np.reciprocal(t, out=t)
    np.multiply(t, coefs[0], out=o)
    for coef in coefs[1:]:
        o += coef
        o *= t


def _erf_steps(u: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    """erf(u) into o, to |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26): sign(u)·(1 − t·P(t)·exp(−u²)),
    t = 1/(1 + p·|u|), P a degree-4 polynomial (Horner); s: two scratch chunks."""
    a, t = s
    np.abs(u, out=a)
    _as_poly(a, _ERF_P, _ERF_A, t, o)
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    o *= a
    np.subtract(DTYPE(1), o, out=o)
    np.copysign(o, u, out=o)


# logit Φ(x) = ln(Φ(x)/Φ(−x)) ≈ x·P(x²) with these coefficients of P (x⁰ first): a weighted minimax fit
# (tools/fit_gelu.py) on [0, 5.5] of the error it makes in x·Φ(x), |x|·σ'(h)·|Δh|/max(1, |x|), which
# asks for ~1e-8 near 0–3 and little past 4 (where σ saturates); beyond the fit P's leading term keeps
# x·P(x²) ≥ 17.08 for x ≥ 5.33 (Φ(−x) ≤ 3.9e-8). tests/test_kernels.py sweeps the bound against math.erfc.
GELU_LOGIT_PHI = (1.595770615138508, 0.07266412969634031, -6.348293914674305e-05, -0.00011120790706788693,
                  8.025202676949661e-06, -2.7146092865394517e-07, 3.693324934773269e-09)
# 0-d float32 arrays (a ufunc takes them faster than a scalar): P's coefficients halved, highest first, then ½ and 1.
_GELU = tuple(np.array(c / 2, dtype=DTYPE) for c in reversed(GELU_LOGIT_PHI)) + (np.array(0.5, dtype=DTYPE),
                                                                              np.array(1.0, dtype=DTYPE))


def _gelu_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    """x·Φ(x) = x·σ(h) = x·½(1 + tanh(h/2)), h = logit Φ(x) = x·P(x²) (GELU_LOGIT_PHI): 18 passes.
    tanh saturates: below x ≈ −5.69 it rounds to −1 and the output is exactly 0 (torch's ½x(1 + erf(x/√2)) is 0
    from about −5.9), the nonzero outputs of negative x are at least ~1.5e-7 in size, so no tiny values leave
    here for later layers to turn into float32 subnormals (which slow every product on them severalfold); and
    no step underflows at any x (an exp of h would, past x ≈ −6, and run severalfold slower there: the old A&S
    erfc form needed a cap and a floor on |x| for that). ±inf give ±inf·1 and −inf·0 = NaN, as torch."""
    q, p = s
    *coefs, half, one = _GELU
    np.square(x, out=q)
    np.multiply(q, coefs[0], out=p)
    for c in coefs[1:-1]:
        p += c
        p *= q
    p += coefs[-1]
    p *= x
    np.tanh(p, out=p)
    p += one
    p *= half
    np.multiply(p, x, out=o)


def _gelu_tanh_steps(x: np.ndarray, o: np.ndarray, s: list[np.ndarray]) -> None:
    r = s[0]
    np.multiply(x, x, out=r)
    r *= DTYPE(0.044715)
    r += DTYPE(1)
    r *= x
    r *= DTYPE(math.sqrt(2 / math.pi))
    np.tanh(r, out=r)
    r += DTYPE(1)
    r *= x
    np.multiply(r, DTYPE(0.5), out=o)


def erf(x: np.ndarray) -> np.ndarray:
    """erf to |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26), enough for float32."""
    return elementwise(x, _erf_steps, 2)


def gelu(x: np.ndarray, approximate: str = "none", out: np.ndarray | None = None) -> np.ndarray:
    """x·Φ(x) (torch.nn.GELU); `tanh`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). `out` may be x."""
    if approximate == "tanh":
        return elementwise(x, _gelu_tanh_steps, 1, out)
    with np.errstate(over="ignore", invalid="ignore"):   # x² = inf past |x| ≈ 1.8e19 (tanh is then ±1); −inf·0
        return elementwise(x, _gelu_steps, 2, out)


def linear_last(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """nn.Linear on the last axis of any tensor: x @ w.T + b (one 2-D GEMM: numpy loops stacked matmuls)."""
    x = _f32(x)
    y = x.reshape(-1, x.shape[-1]) @ _f32(w).T
    if b is not None:
        y += _f32(b)
    return y.reshape(x.shape[:-1] + (y.shape[-1],))


# A channel-wise Linear of a channels-last map of at most this many positions runs as W @ Xᵀ (NCHW result):
# OpenBLAS is 3–20% faster with the positions as the GEMM's short side (one thread, X @ Wᵀ / W @ Xᵀ ms,
# positions×in→out: 64×256→1024 0.34/0.27, 100×256→1024 0.46/0.40, 144×512→2048 2.29/2.12,
# 196×768→768 1.62/1.57, 256×384→1536 2.08/1.96, 256×1536→384 2.14/2.02; 324 and 400 positions within 4%;
# 784×192→768 equal). The 1×1 convolution keeps kernels_conv.SMALL_MAP_POSITIONS (64): after it, batch norm
# and depthwise convolutions on NCHW made maxvit_t slower at 196.
LINEAR_SMALL_MAP_POSITIONS = 256


def linear_channels(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """nn.Linear on the channels of an NCHW map (torch's Linear on the channels-last permute); a
    channels-last map gives a channels-last result."""
    n, c, h, wd = x.shape
    x = _f32(x)
    if channels_last(x) and n * h * wd <= LINEAR_SMALL_MAP_POSITIONS:   # (out, in) @ (in, positions): NCHW out
        y = _f32(w) @ x.transpose(1, 0, 2, 3).reshape(c, n * h * wd)
        if b is not None:
            y += _f32(b)[:, None]
        return y.reshape(-1, n, h, wd).transpose(1, 0, 2, 3)
    if channels_last(x):                                 # (positions, in) @ (in, out)
        y = x.transpose(0, 2, 3, 1).reshape(n * h * wd, c) @ _f32(w).T
        if b is not None:
            y += _f32(b)
        return y.reshape(n, h, wd, -1).transpose(0, 3, 1, 2)
    y = _f32(w) @ x.reshape(n, c, h * wd)                # (out, in) @ (in, positions): no transposes
    if b is not None:
        y += _f32(b)[:, None]
    return y.reshape(n, -1, h, wd)


# ---------------------------------------------------------------- reshapes


def tokens(x: np.ndarray) -> np.ndarray:
    """NCHW → (N, H·W, C), row-major positions (x.flatten(2).transpose(1, 2))."""
    n, c, h, w = x.shape
    return np.ascontiguousarray(_f32(x).reshape(n, c, h * w).transpose(0, 2, 1))


def patch_merge(x: np.ndarray) -> np.ndarray:
    """Swin's _patch_merging_pad on NCHW: pad odd H/W at the bottom/right, then concatenate
    x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] along channels."""
    x = _f32(x)
    h, w = x.shape[2:]
    if h % 2 or w % 2:
        x = np.pad(x, ((0, 0), (0, 0), (0, h % 2), (0, w % 2)))
    return np.concatenate([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], axis=1)


# ---------------------------------------------------------------- relative positions


def relative_position_index(w: int) -> np.ndarray:
    """Index into a (2w−1)² table for every pair of the w² window positions, flattened (w⁴,)."""
    coords = np.stack(np.meshgrid(np.arange(w), np.arange(w), indexing="ij")).reshape(2, -1)
    rel = (coords[:, :, None] - coords[:, None, :]).transpose(1, 2, 0)
    rel[:, :, 0] += w - 1
    rel[:, :, 1] += w - 1
    rel[:, :, 0] *= 2 * w - 1
    return rel.sum(-1).reshape(-1).astype(np.int64)


def relative_coords_table(w: int) -> np.ndarray:
    """Swin V2's log-spaced relative coordinates ((2w−1)², 2): sign·log2(|8·d/(w−1)| + 1)/3."""
    r = np.arange(-(w - 1), w, dtype=np.float64)
    table = np.stack(np.meshgrid(r, r, indexing="ij")).transpose(1, 2, 0) / max(w - 1, 1) * 8
    return (np.sign(table) * np.log2(np.abs(table) + 1.0) / 3.0).reshape(-1, 2).astype(DTYPE)


def position_bias(table: np.ndarray, index: np.ndarray, p: int) -> np.ndarray:
    """(heads, P, P) bias from a ((2w−1)², heads) table and the flattened index."""
    return np.ascontiguousarray(table[index.reshape(-1)].reshape(p, p, -1).transpose(2, 0, 1))


# ---------------------------------------------------------------- attention


def _shift_mask(hp: int, wp: int, w: int, sh: int, sw: int) -> np.ndarray:
    """Swin's mask for shifted windows: (windows, P, P), −100 between positions of different regions."""
    region = np.zeros((hp, wp), dtype=DTYPE)
    count = 0
    for hs in (slice(0, -w), slice(-w, -sh), slice(-sh, None)):
        for ws in (slice(0, -w), slice(-w, -sw), slice(-sw, None)):
            region[hs, ws] = count
            count += 1
    r = region.reshape(hp // w, w, wp // w, w).transpose(0, 2, 1, 3).reshape(-1, w * w)
    diff = r[:, None, :] - r[:, :, None]
    return np.where(diff != 0, DTYPE(-100.0), DTYPE(0.0)).astype(DTYPE)


# The exponent floor of the softmax: below it (masked scores, −100 in Swin's shifted windows) exp and the
# division by the row sum give float32 subnormals, which slow the product with V severalfold; at −70 a
# probability stays ≥ 4e-31 / keys, normal for up to 10^6 keys, and moves by less than 4e-31.
SOFTMAX_FLOOR = DTYPE(-70)


def _softmax_last(a: np.ndarray) -> np.ndarray:
    """In place over the last axis of a C-contiguous float32 array. The row sums as one GEMV (rows @ 1):
    numpy's reduction over a short last axis takes 6× longer (64·2·49 rows of 49: 0.13 / 0.02 ms); the
    division as a product with the sums' reciprocals."""
    n = a.shape[-1]
    a -= a.max(axis=-1, keepdims=True)
    np.maximum(a, SOFTMAX_FLOOR, out=a)
    np.exp(a, out=a)
    sums = (a.reshape(-1, n) @ np.ones(n, dtype=DTYPE)).reshape(a.shape[:-1] + (1,))
    a *= np.reciprocal(sums, out=sums)
    return a


# Token groups (windows) are attended ATTENTION_BLOCK_BYTES of work arrays (their q, k, v, scores and merged
# heads) at a time, in blocks of equal size, so that each step reads what the one before wrote from cache
# (one L2). MaxViT's layers, one thread, all groups at once / blocks of 1, 2, 4 MiB (ms): 64 windows of 49
# tokens at D = 64: 3.2 / 2.3, 2.2, 3.6; 16 at D = 128: 1.44 / 1.48, 1.44, 1.29; 4 at D = 256: 1.08 / 1.26,
# 1.02, 1.08; maxvit_t's 22 attention layers: 34.6 → 30.1 ms at 2 MiB.
ATTENTION_BLOCK_BYTES = 2 << 20
# At most this many tokens in all (groups × tokens), attention runs feature-major (`_attention_few_tokens`):
# 49 tokens, 512 → 1536 0.85 / 0.66 ms (T @ Wᵀ / W @ Tᵀ); at 196 tokens the two are within 5% (256 → 768:
# 0.51 / 0.48) and the token-major blocks keep their cache gains.
ATTENTION_FEW_TOKENS = 64


def multi_head_attention(t: np.ndarray, qkv_w: np.ndarray, qkv_b: np.ndarray | None, proj_w: np.ndarray,
                         proj_b: np.ndarray | None, heads: int, bias: np.ndarray | None = None,
                         mask: np.ndarray | None = None, logit_scale: np.ndarray | None = None,
                         scale: float | None = None) -> np.ndarray:
    """Self-attention over (groups, P, D) token groups: softmax(q·kᵀ/√d_h + bias + mask)·v, then proj.
    `mask` is (windows, P, P) and repeats over groups (groups = batch·windows); `logit_scale` turns it
    into Swin V2's cosine attention (normalised q, k, times exp(min(scale, log 100))); `scale` replaces
    1/√d_h (MaxViT scales by 1/√D)."""
    t = _f32(t)
    g, p, d = t.shape
    dh = d // heads
    q_scale = DTYPE(dh ** -0.5 if scale is None else scale)
    if logit_scale is None and g * p <= ATTENTION_FEW_TOKENS:
        return _attention_few_tokens(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias, mask, q_scale)
    folded = logit_scale is None and 3 * d <= g * p
    if folded:   # the scale on q's weights (3·D² elements) rather than on q itself (G·P·D)
        qkv_w, qkv_b = _scaled_q(qkv_w, qkv_b, d, q_scale)
    wt, pt = _f32(qkv_w).T, _f32(proj_w).T
    per = max(1, min(g, ATTENTION_BLOCK_BYTES // (DTYPE().itemsize * (5 * p * d + heads * p * p))))
    per = -(-g // -(-g // per))   # blocks of equal size
    nw = 0 if mask is None else mask.shape[0]
    if nw:   # a block stays inside one batch element's windows: its mask is one slice
        per = max(b for b in range(1, min(per, nw) + 1) if nw % b == 0)
    out = np.empty((g, p, d), dtype=DTYPE)
    merged = np.empty((per, p, heads, dh), dtype=DTYPE)
    for g0 in range(0, g, per):
        g1 = min(g0 + per, g)
        m = g1 - g0
        qkv = np.matmul(t[g0:g1].reshape(m * p, d), wt)
        if qkv_b is not None:
            qkv += qkv_b
        qkv = qkv.reshape(m, p, 3, heads, dh).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if logit_scale is not None:
            q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), DTYPE(1e-12))
            k = k / np.maximum(np.linalg.norm(k, axis=-1, keepdims=True), DTYPE(1e-12))
            a = q @ k.transpose(0, 1, 3, 2)
            a *= np.exp(np.minimum(_f32(logit_scale), DTYPE(math.log(100.0)))).reshape(1, heads, 1, 1)
        else:
            if not folded:
                q *= q_scale   # a view of the fresh qkv: no temporary
            a = q @ k.transpose(0, 1, 3, 2)
        if bias is not None:
            a += bias[None]
        if nw:
            a += mask[g0 % nw: g0 % nw + m, None]
        a = _softmax_last(a.astype(DTYPE, copy=False))
        heads_out = merged[:m]
        np.matmul(a, v, out=heads_out.transpose(0, 2, 1, 3))   # the heads merged as the products write them
        block = out[g0:g1].reshape(m * p, d)
        np.matmul(heads_out.reshape(m * p, d), pt, out=block)
        if proj_b is not None:
            block += proj_b
    return out


def _attention_few_tokens(t: np.ndarray, qkv_w: np.ndarray, qkv_b: np.ndarray | None, proj_w: np.ndarray,
                          proj_b: np.ndarray | None, heads: int, bias: np.ndarray | None, mask: np.ndarray | None,
                          scale: np.floating) -> np.ndarray:
    """`multi_head_attention` on at most ATTENTION_FEW_TOKENS tokens in all: both projections as W @ Tᵀ, the
    tokens as the GEMM's short side (OpenBLAS, one thread, T @ Wᵀ / W @ Tᵀ ms: 49 tokens 512 → 1536 0.85 /
    0.66, 512 → 512 0.26 / 0.21), q, k, v and the merged heads feature-major; the result is a (G, P, D) view
    of the feature-major projection (for one window: an NCHW map)."""
    g, p, d = t.shape
    dh = d // heads
    qkv = _f32(qkv_w) @ t.reshape(g * p, d).T                        # (3D, G·P)
    if qkv_b is not None:
        qkv += _f32(qkv_b)[:, None]
    qkv = qkv.reshape(3, heads, dh, g, p)
    qkv[0] *= scale
    a = qkv[0].transpose(2, 0, 3, 1) @ qkv[1].transpose(2, 0, 1, 3)   # (G, heads, P, P)
    if bias is not None:
        a += bias[None]
    if mask is not None:
        nw = mask.shape[0]
        a.reshape(g // nw, nw, heads, p, p)[...] += mask[None, :, None]
    a = _softmax_last(a)
    merged = np.empty((heads, dh, g, p), dtype=DTYPE)
    np.matmul(qkv[2].transpose(2, 0, 1, 3), a.transpose(0, 1, 3, 2), out=merged.transpose(2, 0, 1, 3))
    y = _f32(proj_w) @ merged.reshape(d, g * p)
    if proj_b is not None:
        y += _f32(proj_b)[:, None]
    return y.T.reshape(g, p, d)


def _scaled_q(qkv_w: np.ndarray, qkv_b: np.ndarray | None, d: int, s: np.floating) -> tuple[np.ndarray, np.ndarray | None]:
    """The qkv projection's weights and bias with the q rows (the first D) times s."""
    w = np.array(qkv_w, dtype=DTYPE)
    w[:d] *= s
    if qkv_b is None:
        return w, None
    b = np.array(qkv_b, dtype=DTYPE)
    b[:d] *= s
    return w, b


def attention(x: np.ndarray, qkv_w: np.ndarray, qkv_b: np.ndarray | None, proj_w: np.ndarray,
              proj_b: np.ndarray | None, heads: int, window: int = 0, shift: int = 0, partition: str = "window",
              bias: np.ndarray | None = None, logit_scale: np.ndarray | None = None,
              scale: float | None = None) -> np.ndarray:
    """Self-attention on (N, tokens, D) or on an NCHW map (window 0: over all positions; `window`:
    Swin's padded, optionally shifted windows; `grid`: MaxViT's grid of positions H/w apart)."""
    x = _f32(x)
    if x.ndim == 3:
        return multi_head_attention(x, qkv_w, qkv_b, proj_w, proj_b, heads, bias, None, logit_scale, scale)
    n, c, h, wd = x.shape
    y = x.transpose(0, 2, 3, 1)                                          # N, H, W, C
    if window == 0:
        out = multi_head_attention(y.reshape(n, h * wd, c), qkv_w, qkv_b, proj_w, proj_b, heads, bias, None, logit_scale, scale)
        return out.reshape(n, h, wd, c).transpose(0, 3, 1, 2)   # channels-last (archcalc.layout)
    w = window
    if partition == "grid":
        a, b = h // w, wd // w                                           # tokens of a group are a, b apart
        t = y.reshape(n, w, a, w, b, c).transpose(0, 2, 4, 1, 3, 5).reshape(n * a * b, w * w, c)
        out = multi_head_attention(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias, None, logit_scale, scale)
        out = out.reshape(n, a, b, w, w, c).transpose(0, 3, 1, 4, 2, 5).reshape(n, h, wd, c)
        return out.transpose(0, 3, 1, 2)
    pad_b, pad_r = (w - h % w) % w, (w - wd % w) % w
    if pad_b or pad_r:
        y = np.pad(y, ((0, 0), (0, pad_b), (0, pad_r), (0, 0)))
    hp, wp = h + pad_b, wd + pad_r
    sh = shift if w < hp else 0
    sw = shift if w < wp else 0
    if sh or sw:
        y = np.roll(y, (-sh, -sw), axis=(1, 2))
    t = y.reshape(n, hp // w, w, wp // w, w, c).transpose(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)
    mask = _shift_mask(hp, wp, w, sh, sw) if sh or sw else None
    out = multi_head_attention(t, qkv_w, qkv_b, proj_w, proj_b, heads, bias, mask, logit_scale, scale)
    out = out.reshape(n, hp // w, wp // w, w, w, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, hp, wp, c)
    if sh or sw:
        out = np.roll(out, (sh, sw), axis=(1, 2))
    return out[:, :h, :wd].transpose(0, 3, 1, 2)
