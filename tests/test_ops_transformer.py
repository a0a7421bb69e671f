"""Transformer ops: shapes, params, buffers, MACs under each convention, receptive fields, bad input.

Every expected number is derived by hand next to its assertion (formulas from torchvision's
vision_transformer.py, swin_transformer.py and maxvit.py; fvcore's jit_handles.py and flop_count.py;
torchinfo's layer_info.py).
"""
from __future__ import annotations

import pytest

from archcalc.analysis import analyze
from archcalc.errors import ArchcalcError
from archcalc.ops.transformer import einsum_fvcore
from archcalc.spec import loads


def _net(body: str, shape: str, convention: str = "paper"):
    return analyze(loads(f"name: t\ninput: {shape}\nbody:\n{body}"), convention=convention)


def _one(body: str, shape: str, convention: str = "paper"):
    a = _net(body, shape, convention)
    return a.rows[-1], a


def test_global_attention_on_tokens() -> None:
    # ViT-B/16 block: N = 197 tokens, D = 768, 12 heads
    row, _ = _one("  - {attention: {heads: 12}}\n", "[197, 768]")
    assert row.layer.output == (197, 768)
    assert row.params == 4 * 768 * 768 + 4 * 768 == 2_362_368          # in_proj (3D² + 3D), out_proj (D² + D)
    proj = 197 * 4 * 768 * 768                                           # 464,781,312
    prod = 197 * 197 * 768                                               # QKᵀ = A·V = N²·D = 29,805,312
    assert row.macs == proj + 2 * prod == 524_391_936
    # nn.MultiheadAttention: need_weights=False → scaled_dot_product_attention (0), True → torch.bmm (exact)
    for products, fv in (("matmul", proj + 2 * prod), ("bmm", proj + 2 * prod), ("sdpa", proj),
                         ("einsum", proj + 2 * 29_805_000)):            # %.3e of 59,610,624 = 5.961e7, halved
        r, _ = _one(f"  - {{attention: {{heads: 12, products: {products}}}}}\n", "[197, 768]", "fvcore")
        assert r.macs == fv
    for projections, ti in (("modules", 2_362_368), ("functional", 0), ("mha", 0)):
        r, _ = _one(f"  - {{attention: {{heads: 12, projections: {projections}}}}}\n", "[197, 768]", "torchinfo")
        assert r.macs == ti


def test_swin_window_attention_pads_to_whole_windows() -> None:
    # 10×13 map, window 7: padded to 14×14, 2×2 windows of 49 tokens, T = 196
    row, _ = _one("  - {attention: {heads: 4, window: 7, shift: 3, rel_pos: table}}\n", "[32, 10, 13]")
    assert row.layer.output == (32, 10, 13)
    assert row.params == 4 * 32 * 32 + 4 * 32 + 13 * 13 * 4             # + (2w−1)²·heads bias table
    assert row.layer.buffers == 49 * 49                                   # relative_position_index
    assert row.macs == 196 * 4 * 32 * 32 + 2 * 4 * 49 * 49 * 32 == 1_417_472
    # receptive field: any position within w − 1 = 6 may share a window: 1 + 2·6
    assert row.layer.rf.size == (13, 13)


def test_swin_v2_continuous_position_bias() -> None:
    # window 8, 3 heads: cpb_mlp Linear(2, 512) + ReLU + Linear(512, 3, no bias) on (2·8 − 1)² = 225 offsets
    row, _ = _one("  - {attention: {heads: 3, window: 8, rel_pos: cpb, cosine: true}}\n", "[96, 64, 64]")
    cpb = 2 * 512 + 512 + 512 * 3
    assert row.params == 4 * 96 * 96 + 4 * 96 + cpb + 3                  # + logit_scale per head
    assert row.layer.buffers == 225 * 2 + 64 * 64                         # relative_coords_table + index
    tokens = 64 * 64
    assert row.macs == tokens * 4 * 96 * 96 + 2 * tokens * 64 * 96 + 225 * (2 * 512 + 512 * 3)
    ti, _ = _one("  - {attention: {heads: 3, window: 8, rel_pos: cpb, cosine: true, projections: functional}}\n",
                 "[96, 64, 64]", "torchinfo")
    assert ti.macs == cpb                                                 # only the cpb_mlp Linears are module calls


def test_maxvit_grid_attention() -> None:
    # 56×56 map, 64 channels, head_dim 32: grid of 7×7 tokens spaced 8 apart, 64 groups of 49
    row, _ = _one("  - {attention: {head_dim: 32, window: 7, partition: grid, rel_pos: table}}\n", "[64, 56, 56]")
    assert row.layer.attrs["heads"] == 2
    assert row.macs == 3136 * 4 * 64 * 64 + 2 * 64 * 49 * 49 * 64
    assert row.layer.rf.size == (56, 56)                                  # the grid spans the whole input
    with pytest.raises(ArchcalcError, match="not a multiple of the grid 7"):
        _one("  - {attention: {head_dim: 32, window: 7, partition: grid}}\n", "[64, 50, 56]")


def test_einsum_rounding_as_fvcore() -> None:
    # MaxViT stage 1 product: 3136·49·64 = 9,834,496 MACs → einsum_path prints 1.967e+07 flops → 9,835,000
    assert einsum_fvcore(3136 * 49 * 64) == 9_835_000
    assert einsum_fvcore(49 * 49 * 512) == 1_229_500                     # 2,458,624 → 2.459e+06
    assert einsum_fvcore(10) == 10


def test_fc_on_tokens_and_pointwise() -> None:
    row, _ = _one("  - {fc: {c: 3072}}\n", "[197, 768]")
    assert row.layer.output == (197, 3072)
    assert row.params == 768 * 3072 + 3072
    assert row.macs == 197 * 768 * 3072
    ti, _ = _one("  - {fc: {c: 3072}}\n", "[197, 768]", "torchinfo")
    assert ti.macs == 768 * 3072 + 3072                                   # torchinfo: Linear counts params × batch
    pw, _ = _one("  - {fc: {c: 384, pointwise: true}}\n", "[96, 56, 56]")
    assert pw.layer.output == (384, 56, 56) and pw.macs == 96 * 384 * 56 * 56
    with pytest.raises(ArchcalcError, match="pointwise: true"):
        _one("  - {fc: {c: 10}}\n", "[3, 8, 8]")


def test_layernorm_counts() -> None:
    row, _ = _one("  - layernorm\n", "[96, 56, 56]")
    assert row.params == 2 * 96 and row.layer.buffers == 0
    fv, _ = _one("  - layernorm\n", "[96, 56, 56]", "fvcore")
    assert fv.macs == 5 * 96 * 56 * 56                                    # norm_flop_counter: 5 per element (affine)
    fv, _ = _one("  - {layernorm: {affine: false}}\n", "[197, 768]", "fvcore")
    assert fv.macs == 4 * 197 * 768 and fv.params == 0
    ti, _ = _one("  - layernorm\n", "[197, 768]", "torchinfo")
    assert ti.macs == 2 * 768


def test_tokens_class_token_position_embedding() -> None:
    body = ("  - {conv: {c: 768, k: 16, s: 16}}\n  - tokens\n"
            "  - concat: [[{param: {shape: [1, C]}, name: cls}], []]\n"
            "  - add: [[], [{param: {shape: [N, C]}, name: pos}]]\n"
            "  - {attention: {heads: 12}}\n  - {token: {index: 0}}\n")
    a = _net(body, "[3, 224, 224]")
    shapes = {r.layer.name: r.layer.output for r in a.rows}
    assert shapes["tokens1"] == (196, 768)
    assert shapes["concat1"] == (197, 768) and shapes["pos"] == (197, 768)
    assert a.network.output == (768,)
    params = {r.layer.name: r.params for r in a.rows}
    assert params["cls"] == 768 and params["pos"] == 197 * 768
    assert a.totals.rf == 224                                             # attention sees the whole image
    ti = _net(body, "[3, 224, 224]", "torchinfo")
    assert sum(r.macs for r in ti.rows if r.layer.op == "param") == 0     # bare nn.Parameters: never counted


def test_var_named_n_wins_over_token_count() -> None:
    a = analyze(loads("name: t\nvars: {N: 5}\ninput: [10, 8]\nbody:\n  - {fc: {c: N}}\n"))
    assert a.network.output == (10, 5)


def test_patch_merge_odd_sizes() -> None:
    row, _ = _one("  - patch_merge\n", "[96, 7, 7]")
    assert row.layer.output == (384, 4, 4)


@pytest.mark.parametrize("args,message", [
    ("{heads: 12, head_dim: 64}", "exactly one of `heads` and `head_dim`"),
    ("{heads: 5}", "5 heads do not divide the 768 features"),
    ("{heads: 12, window: 7}", "window, shift and grid attention need a C×H×W map"),
    ("{heads: 12, products: fast}", "expected one of matmul, bmm, einsum, sdpa"),
])
def test_attention_bad_arguments(args: str, message: str) -> None:
    with pytest.raises(ArchcalcError, match=message):
        _one(f"  - {{attention: {args}}}\n", "[197, 768]")


def test_attention_memory_holds_qkv_and_scores() -> None:
    from archcalc.memory import memory

    m = memory(_net("  - {attention: {heads: 12}}\n", "[197, 768]"))
    # the output (197·768) + the qkv tensor (3·197·768) + the scores (12·197²), float32; the network
    # input is the caller's and counted apart (m.input_bytes)
    assert m.peak_activation_bytes == 4 * (197 * 768 + 3 * 197 * 768 + 12 * 197 * 197)
    assert m.input_bytes == 4 * 197 * 768
