"""The transformer ops' NumPy forward pass against PyTorch/torchvision modules with the same weights.

Runs only where torch and torchvision are importable (the reference venv: /work/refvenv); CI skips it.
Truth: torch.nn.MultiheadAttention, torch.nn.LayerNorm, torch.nn.GELU and torchvision 0.29.1's
ShiftedWindowAttention(V2), _patch_merging_pad, LayerNorm2d and MaxViT's RelativePositionalMultiHeadAttention
with WindowPartition/SwapAxes, run on the same random input.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tv_swin = pytest.importorskip("torchvision.models.swin_transformer")
tv_maxvit = pytest.importorskip("torchvision.models.maxvit")

from archcalc.numeric import forward
from archcalc.spec import loads


def _run(body: str, shape: list[int], x: np.ndarray, weights: dict) -> np.ndarray:
    spec = loads(f"name: t\ninput: {shape}\nbody:\n{body}")
    return forward(spec, x=x, weights=weights).output


def _np(t) -> np.ndarray:
    return t.detach().numpy().astype(np.float32)


def test_multihead_attention_on_tokens() -> None:
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(32, 4, batch_first=True).eval()
    x = torch.randn(2, 10, 32)
    want = _np(mha(x, x, x, need_weights=False)[0])
    w = {"qkv_weight": _np(mha.in_proj_weight), "qkv_bias": _np(mha.in_proj_bias),
         "proj_weight": _np(mha.out_proj.weight), "proj_bias": _np(mha.out_proj.bias)}
    got = _run("  - {attention: {heads: 4}, name: a}\n", [10, 32], _np(x), {"a": w})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("v2", [False, True])
@pytest.mark.parametrize("shift", [0, 3])
def test_shifted_window_attention_with_padding(v2: bool, shift: int) -> None:
    torch.manual_seed(1)
    cls = tv_swin.ShiftedWindowAttentionV2 if v2 else tv_swin.ShiftedWindowAttention
    m = cls(32, [7, 7], [shift, shift], 4).eval()
    with torch.no_grad():
        if not v2:
            m.relative_position_bias_table.normal_()
    x = torch.randn(1, 10, 13, 32)                     # B, H, W, C: padded to 14×14, 4 windows
    want = _np(m(x)).transpose(0, 3, 1, 2)
    w = {"qkv_weight": _np(m.qkv.weight), "qkv_bias": _np(m.qkv.bias),
         "proj_weight": _np(m.proj.weight), "proj_bias": _np(m.proj.bias)}
    if v2:
        w |= {"cpb_fc1_weight": _np(m.cpb_mlp[0].weight), "cpb_fc1_bias": _np(m.cpb_mlp[0].bias),
              "cpb_fc2_weight": _np(m.cpb_mlp[2].weight), "logit_scale": _np(m.logit_scale).reshape(-1)}
        w["qkv_bias"] = w["qkv_bias"].copy()
        w["qkv_bias"][32:64] = 0                          # V2 zeroes the key bias in the forward pass
    else:
        w["relative_position_bias_table"] = _np(m.relative_position_bias_table)
    extra = "rel_pos: cpb, cosine: true" if v2 else "rel_pos: table"
    got = _run(f"  - {{attention: {{heads: 4, window: 7, shift: {shift}, {extra}}}, name: a}}\n", [32, 10, 13],
               np.ascontiguousarray(_np(x).transpose(0, 3, 1, 2)), {"a": w})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["window", "grid"])
def test_maxvit_partition_attention(kind: str) -> None:
    torch.manual_seed(2)
    m = tv_maxvit.RelativePositionalMultiHeadAttention(64, 16, 49).eval()
    with torch.no_grad():
        m.relative_position_bias_table.normal_()
    x = torch.randn(1, 64, 14, 14)
    n_part = 14 // 7
    p = 7 if kind == "window" else n_part
    part, depart = tv_maxvit.WindowPartition(), tv_maxvit.WindowDepartition()
    t = part(x, p)
    if kind == "grid":
        t = t.swapaxes(-2, -3)
    y = m(t)
    if kind == "grid":
        y = y.swapaxes(-2, -3)
    want = _np(depart(y, p, 14 // p, 14 // p))
    w = {"qkv_weight": _np(m.to_qkv.weight), "qkv_bias": _np(m.to_qkv.bias), "proj_weight": _np(m.merge.weight),
         "proj_bias": _np(m.merge.bias), "relative_position_bias_table": _np(m.relative_position_bias_table)}
    got = _run(f"  - {{attention: {{head_dim: 16, window: 7, partition: {kind}, rel_pos: table, scale: features}}, name: a}}\n",
               [64, 14, 14], _np(x), {"a": w})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_norms_gelu_patch_merge_tokens() -> None:
    torch.manual_seed(3)
    x = torch.randn(2, 8, 5, 7)
    ln = tv_swin.nn.LayerNorm(8, eps=1e-6)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    want_ln = _np(ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
    got = _run("  - {layernorm: {eps: 0.000001}, name: n}\n", [8, 5, 7], _np(x),
               {"n": {"weight": _np(ln.weight), "bias": _np(ln.bias)}})
    np.testing.assert_allclose(got, want_ln, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_run("  - gelu\n", [8, 5, 7], _np(x), {}), _np(torch.nn.GELU()(x)), atol=2e-6)
    want_pm = _np(tv_swin._patch_merging_pad(x.permute(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(_run("  - patch_merge\n", [8, 5, 7], _np(x), {}), want_pm)
    want_tok = _np(x.flatten(2).transpose(1, 2))
    np.testing.assert_array_equal(_run("  - tokens\n", [8, 5, 7], _np(x), {}), want_tok)
