"""Inception modules and GoogLeNet against the slides, the paper's Table 1 and torchvision.

Sources: seed 001 = /work/shared/seeds/001_133092e84e6b4fe5.txt (naive module 593-630, module with
dimension reductions 641-668, Table 1 686-705); seed 000 = 000_5aedd73902b871e9.txt (487-528);
torchvision = docs/references.md §1.5 (googlenet.py, num_params, _ops, min_size) and
tests/data/torch_reference.json (a real torchvision 0.29.1 run). Hand derivations are written out
below; nothing expected here comes from archcalc.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import ShapeError

SPECS = Path(__file__).resolve().parent.parent / "specs"
TORCH_REF = Path(__file__).parent / "data" / "torch_reference.json"
TV = {"impl": "torchvision"}


def convs(a: Analysis) -> list[Any]:
    return [r for r in a.rows if r.layer.kind == "conv"]


def scope_sum(a: Analysis, scope: str, what: str) -> int:
    """Sum over the layers inside one named scope (an inception module) or with that exact name."""
    rows = [r for r in a.rows if r.layer.scope[:1] == (scope,) or r.layer.name == scope]
    if what == "weights":
        return sum(r.layer.counts.get("weights", 0) for r in rows)
    return sum(getattr(r, what) for r in rows)


# ---------------------------------------------------------------- single modules (slides)

def test_naive_module_matches_the_slide() -> None:
    a = analyze("inception_naive")
    # seed 001 "Độ phức tạp tính toán": OUTPUT 28x28x672 = 28x28x(128+192+96+256)
    assert a.network.output == (672, 28, 28)
    # seed 001: (28x28x128)x1x1x256 = 25,690,112; (28x28x192)x3x3x256 = 346,816,512;
    # (28x28x96)x5x5x256 = 481,689,600
    assert [r.macs for r in convs(a)] == [25_690_112, 346_816_512, 481_689_600]
    # seed 001: "Tổng cộng: 854,196,224 (854M)"; seed 000: "854M ops"
    assert a.totals.macs == 28 * 28 * (128 * 256 + 192 * 9 * 256 + 96 * 25 * 256) == 854_196_224
    # weights + one bias per filter (Caffe bvlc_googlenet convs have biases)
    assert a.totals.params == (256 * 128 + 128) + (9 * 256 * 192 + 192) + (25 * 256 * 96 + 96) == 1_089_952
    assert a.totals.depth == 1   # three parallel convs: one layer deep


def test_bottleneck_module_matches_the_slide() -> None:
    a = analyze("inception_bottleneck")
    # seed 001 "(b) Inception module with dimension reductions": 28x28x(128+192+96+64) = 28x28x480
    assert a.network.output == (480, 28, 28)
    # seed 000 lists the six convs in the order 1x1 64, 1x1 64, 1x1 128, 3x3 192, 5x5 96, 1x1 64;
    # the spec runs them branch by branch: 1x1 128, 1x1 64 → 3x3 192, 1x1 64 → 5x5 96, pool → 1x1 64
    assert [r.macs for r in convs(a)] == [28 * 28 * 128 * 256, 28 * 28 * 64 * 256, 28 * 28 * 192 * 9 * 64,
                                          28 * 28 * 64 * 256, 28 * 28 * 96 * 25 * 64, 28 * 28 * 64 * 256]
    # seed 001: "Tổng cộng: 271,351,808 (271M)". Seed 000:526 prints "Tổng số: 353M ops" under the
    # same six products, which sum to 271,351,808: the 353M there is wrong.
    assert a.totals.macs == 28 * 28 * (256 * (128 + 64 + 64 + 64) + 64 * (192 * 9 + 96 * 25)) == 271_351_808
    weights = 256 * (128 + 64 + 64 + 64) + 64 * (192 * 9 + 96 * 25)
    assert a.totals.params == weights + (128 + 64 + 192 + 64 + 96 + 64) == 346_720
    assert a.totals.depth == 2


def test_torchvision_single_module() -> None:
    """impl=torchvision: BN after every conv, and the '5×5' branch really is 3×3 (pytorch/vision #906)."""
    a = analyze("inception_bottleneck", vars=TV)
    assert a.network.output == (480, 28, 28)
    five = next(r for r in a.rows if r.layer.name == "inception.5x5.conv")
    assert five.params == 9 * 64 * 96                  # bias-free 3×3, 64 → 96
    assert five.macs == 28 * 28 * 9 * 64 * 96


def _block_text(name: str) -> str:
    text = (SPECS / f"{name}.yaml").read_text(encoding="utf-8")
    found = re.search(r"^  # BEGIN inception blocks.*?^  # END inception blocks", text, re.S | re.M)
    assert found, f"{name}.yaml has no marked inception blocks"
    return found.group(0)


def test_the_inception_block_text_is_shared() -> None:
    """A spec cannot include another yet: the block is copied, and the copies must not drift."""
    texts = {_block_text(n) for n in ("inception_naive", "inception_bottleneck", "googlenet")}
    assert len(texts) == 1


# ---------------------------------------------------------------- GoogLeNet, paper Table 1

# Table 1 (seed 001:686-705): (#1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj),
# output size (C, H, W), params (K), ops (M).
TABLE1 = {
    "inception3a": ((64, 96, 128, 16, 32, 32), (256, 28, 28), 159, 128),
    "inception3b": ((128, 128, 192, 32, 96, 64), (480, 28, 28), 380, 304),
    "inception4a": ((192, 96, 208, 16, 48, 64), (512, 14, 14), 364, 73),
    "inception4b": ((160, 112, 224, 24, 64, 64), (512, 14, 14), 437, 88),
    "inception4c": ((128, 128, 256, 24, 64, 64), (512, 14, 14), 463, 100),
    "inception4d": ((112, 144, 288, 32, 64, 64), (528, 14, 14), 580, 119),
    "inception4e": ((256, 160, 320, 32, 128, 128), (832, 14, 14), 840, 170),
    "inception5a": ((256, 160, 320, 32, 128, 128), (832, 7, 7), 1072, 54),
    "inception5b": ((384, 192, 384, 48, 128, 128), (1024, 7, 7), 1388, 71),
}
# every layer's input channels: the previous row's output (3b → 4a through max pool 3)
MODULE_INPUT = {"inception3a": 192, "inception3b": 256, "inception4a": 480, "inception4b": 512,
                "inception4c": 512, "inception4d": 512, "inception4e": 528, "inception5a": 832,
                "inception5b": 832}


def module_weights(cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int, k5: int = 5) -> int:
    """Hand formula: 1×1 + (1×1 reduce + 3×3) + (1×1 reduce + k5×k5) + pool projection, no biases."""
    return cin * c1 + cin * c3r + 9 * c3r * c3 + cin * c5r + k5 * k5 * c5r * c5 + cin * pp


def test_table1_output_sizes() -> None:
    a = analyze("googlenet")
    out = {r.layer.name: r.layer.output for r in a.rows}
    # Table 1, "output size" column (written there as H×W×C)
    assert out["conv1.conv"] == (64, 112, 112)       # 7×7/2, pad 3: floor((224 + 6 − 7)/2) + 1 = 112
    assert out["maxpool1"] == (64, 56, 56)           # 3×3/2
    assert out["conv3.conv"] == (192, 56, 56)        # 3×3/1
    assert out["maxpool2"] == (192, 28, 28)
    assert out["maxpool3"] == (480, 14, 14)
    assert out["maxpool4"] == (832, 7, 7)
    assert out["avgpool"] == (1024, 1, 1)            # 7×7/1
    assert out["fc"] == (1000,)
    for name, (_, size, _, _) in TABLE1.items():
        assert out[f"{name}.output"] == size, name


@pytest.mark.parametrize("name", list(TABLE1))
def test_table1_module_weights_and_macs(name: str) -> None:
    """Each inception scope against a hand derivation from the table's own channel columns."""
    a = analyze("googlenet")
    widths, (c, h, w), _, _ = TABLE1[name]
    weights = module_weights(MODULE_INPUT[name], *widths)
    assert scope_sum(a, name, "weights") == weights
    assert scope_sum(a, name, "macs") == h * w * weights
    assert scope_sum(a, name, "params") == weights + sum(widths)   # one bias per filter


# Where Table 1 agrees with its own architecture. The params column is in units of 1024 (conv2:
# 114,688 = 112.0 K; linear: 1,024,000 = 1000 K), the ops column in millions of multiply-adds.
# A row agrees when the exact value is within half a unit of the printed one.
#
# Rows that do NOT agree (exact value from the architecture in the table's own columns):
#   conv1        params 2.7K, ops 34M   — 7×7×3×64 = 9,408 weights (9.2 K), 112·112·9,408 = 118,013,952
#                                          MACs (118M). The printed pair is self-consistent
#                                          (2.7 K·12,544 ≈ 34M) but not a 7×7 conv on 3 channels.
#   inception3b  params 380K  — 388,096 weights = 379.0 K (ops 304M agrees: 304,267,264)
#   inception4a  params 364K  — 375,552 = 366.75 K; ops 73M — 73,608,192 (74M); the printed ops
#                                follow the printed params (364·1024·196 = 73.06M)
#   inception4b  params 437K  — 448,512 = 438.0 K (ops 88M agrees: 87,908,352)
#   inception4c  params 463K  — 509,440 = 497.5 K, off by 34.5 K (ops 100M agrees: 99,850,240)
#   inception4d  params 580K  — 604,672 = 590.5 K (ops 119M agrees: 118,515,712)
#   inception4e  params 840K  — 867,328 = 847.0 K (ops 170M agrees: 169,996,288)
#   inception5a  params 1072K — 1,042,432 = 1018.0 K; ops 54M — 51,079,168 (51M); again the printed
#                                ops follow the printed params (1072·1024·49 = 53.8M)
#   inception5b  params 1388K — 1,442,816 = 1409.0 K (ops 71M agrees: 70,697,984)
# Totals: the params column sums to 6,797.7 K and the ops column to 1,502M; the architecture has
# 6,990,272 weights (6,826.4 K) and 1,582,671,872 MACs (1,583M). The slides' "only 5M parameters"
# (seed 001:560, seed 000:481) is too low as well: 6,998,552 with biases.
PARAMS_DISAGREE = {"conv1", "inception3b", "inception4a", "inception4b", "inception4c", "inception4d",
                   "inception4e", "inception5a", "inception5b"}
OPS_DISAGREE = {"conv1", "inception4a", "inception5a"}


def _table_rows() -> dict[str, tuple[int, int, float, int]]:
    """name → (exact weights, exact MACs, table params K, table ops M), exact values by hand."""
    rows = {
        "conv1": (7 * 7 * 3 * 64, 112 * 112 * 7 * 7 * 3 * 64, 2.7, 34),
        # the table's second convolution row (depth 2): 1×1 64 reduce and 3×3 192 on 56×56
        "conv2+conv3": (64 * 64 + 9 * 64 * 192, 56 * 56 * (64 * 64 + 9 * 64 * 192), 112, 360),
        "fc": (1024 * 1000, 1024 * 1000, 1000, 1),
    }
    for name, (widths, (_, h, w), k, m) in TABLE1.items():
        weights = module_weights(MODULE_INPUT[name], *widths)
        rows[name] = (weights, h * w * weights, k, m)
    return rows


def test_table1_rows_against_the_paper() -> None:
    a = analyze("googlenet")
    params_off, ops_off = set(), set()
    for name, (weights, macs, table_k, table_m) in _table_rows().items():
        parts = name.split("+")
        assert sum(scope_sum(a, p, "weights") for p in parts) == weights, name
        assert sum(scope_sum(a, p, "macs") for p in parts) == macs, name
        if abs(weights / 1024 - table_k) > 0.5:
            params_off.add(name)
        if abs(macs / 1e6 - table_m) > 0.5:
            ops_off.add(name)
    assert params_off == PARAMS_DISAGREE
    assert ops_off == OPS_DISAGREE


def test_googlenet_paper_totals() -> None:
    a = analyze("googlenet")
    weights = sum(w for w, _, _, _ in _table_rows().values())
    assert weights == 6_990_272
    # biases: conv1 64, conv2 64, conv3 192, each module's filters (sum of its six widths), fc 1000
    biases = 64 + 64 + 192 + sum(sum(widths) for widths, _, _, _ in TABLE1.values()) + 1000
    assert a.totals.params == weights + biases == 6_998_552
    assert a.totals.macs == sum(m for _, m, _, _ in _table_rows().values()) == 1_582_671_872
    # seed 001:676: "22 total layers with weights (parallel layers count as 1 layer)"
    assert a.totals.depth == 22
    ops = {r.layer.op for r in a.rows}
    assert "lrn" in ops and "bn" not in ops           # Fig. 3: LocalRespNorm after pool1 and after conv 3×3


def test_googlenet_layer_scopes_name_the_table_rows() -> None:
    a = analyze("googlenet")
    scopes = {r.layer.scope[0] for r in a.rows if r.layer.scope}
    assert set(TABLE1) <= scopes
    names = [r.layer.name for r in a.rows if r.layer.scope == ("inception3a", "3x3_reduce")]
    assert names == ["inception3a.3x3_reduce.conv", "inception3a.3x3_reduce.relu"]


# ---------------------------------------------------------------- GoogLeNet, impl=torchvision

def test_googlenet_torchvision_totals() -> None:
    a = analyze("googlenet", vars=TV)
    # torchvision GoogLeNet_Weights.IMAGENET1K_V1: "num_params": 6624904, "_ops": 1.498 (references §1.5)
    assert a.totals.params == 6_624_904
    assert round(a.totals.macs / 1e9, 3) == 1.498
    # hand: the paper's layers with a 3×3 conv in branch 3; the pools carry no weights
    stem = 112 * 112 * 7 * 7 * 3 * 64 + 56 * 56 * (64 * 64 + 9 * 64 * 192)
    modules = sum(h * w * module_weights(MODULE_INPUT[n], *widths, k5=3)
                  for n, (widths, (_, h, w), _, _) in TABLE1.items())
    assert a.totals.macs == stem + modules + 1024 * 1000 == 1_498_376_192
    # BN running mean + var: 2 per channel of every BasicConv2d (torch_reference.json: 14,560)
    bn_channels = 64 + 64 + 192 + sum(sum(widths) for widths, _, _, _ in TABLE1.values())
    assert a.totals.buffers == 2 * bn_channels == 14_560
    assert a.totals.depth == 22
    ops = {r.layer.op for r in a.rows}
    assert "lrn" not in ops and "softmax" not in ops
    assert next(r for r in a.rows if r.layer.name == "maxpool4").layer.attrs["k"] == (2, 2)


@pytest.mark.parametrize("size,ok", [(15, True), (14, False)])
def test_googlenet_torchvision_min_size(size: int, ok: bool) -> None:
    """torchvision's meta "min_size": (15, 15): the smallest input its layers accept."""
    if ok:
        assert analyze("googlenet", vars=TV, input=(size,)).network.output == (1000,)
    else:
        with pytest.raises(ShapeError):
            analyze("googlenet", vars=TV, input=(size,))


KIND = {"Conv2d": "conv", "BatchNorm2d": "bn", "Linear": "fc", "MaxPool2d": "maxpool",
        "AvgPool2d": "avgpool", "AdaptiveAvgPool2d": "adaptive_avgpool"}


def torch_layers(model: str) -> list[tuple[str, list[int], int]]:
    """(op, output shape, params) of every conv/BN/linear/pool module of a real torchvision run."""
    if not TORCH_REF.exists():
        pytest.skip("tests/data/torch_reference.json is not there")
    run = json.loads(TORCH_REF.read_text())["models"][model]["runs"]["224x224"]
    return [(KIND[cls], list(out), params) for _, cls, out, params in run["modules"]["rows"] if cls in KIND]


def archcalc_layers(a: Analysis) -> list[tuple[str, list[int], int]]:
    return [(r.layer.op, list(r.layer.output), r.params) for r in a.rows if r.layer.op in KIND.values()]


def test_googlenet_torchvision_layer_by_layer() -> None:
    assert archcalc_layers(analyze("googlenet", vars=TV)) == torch_layers("googlenet")
