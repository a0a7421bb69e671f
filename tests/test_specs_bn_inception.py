"""BN-Inception, SE-BN-Inception, VGG-16 with BN and SE-VGG-16: SENet's Table 2 networks.

Sources: seed 000 = /work/shared/seeds/000_5aedd73902b871e9.txt (SENet Table 2, 728-741: GFLOPs
BN-Inception 2.03 / SE 2.04, VGG-16 15.47 / SE 15.48); Cadene pretrained-models.pytorch
`pretrainedmodels/models/bninception.py` (the Caffe BN-Inception: conv + bias + BN + ReLU) run under
torch 2.14.1 / fvcore 0.1.5 (/work/refvenv): 11,295,240 parameters, fvcore conv 2,031,576,064 +
linear 1,024,000 = 2,032,600,064 MACs; hujie-frank/SENet `models/SE-BN-Inception.prototxt` (no conv
biases; SE after every module's concat with 1×1 down/up convs of widths 16, 20, 36, …, 38, 66, 64, 64);
docs/seed-claims.md s0-senet-bninc (hand count per module); SENet §3.3 (SE "after the non-linearity
following each convolution" of VGGNet); torchvision vgg16_bn num_params 138,365,992, _ops 15.47
(docs/references.md §1.3). Hand derivations are written out below; nothing here comes from archcalc.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archcalc.analysis import Analysis, analyze

TORCH_REF = Path(__file__).parent / "data" / "torch_reference.json"


def in_scope(a: Analysis, scope: str) -> list[Any]:
    return [r for r in a.rows if r.layer.scope[:1] == (scope,)]


def mul_elements(a: Analysis) -> int:
    return sum(r.layer.counts["elements"] for r in a.rows if r.layer.kind == "mul")


# ---------------------------------------------------------------- BN-Inception, one module by hand

def test_inception_3a_by_hand() -> None:
    a = analyze("bn_inception")
    rows = in_scope(a, "inception_3a")
    convs = [r for r in rows if r.layer.kind == "conv"]
    # input 28×28×192; Fig. 5 row 3a: #1×1 64, #3×3 reduce 64, #3×3 64, double reduce 64, double #3×3 96, avg + 32
    weights = [192 * 64, 192 * 64, 9 * 64 * 64, 192 * 64, 9 * 64 * 96, 9 * 96 * 96, 192 * 32]
    assert weights == [12_288, 12_288, 36_864, 12_288, 55_296, 82_944, 6_144]
    assert [r.macs for r in convs] == [28 * 28 * w for w in weights]
    assert sum(r.macs for r in rows) == 784 * 218_112 == 170_999_808          # seed-claims: 3a 171.0M
    # no conv bias (SENet's prototxt); BN γ, β per output channel: 2·(64+64+64+64+96+96+32) = 960
    assert sum(r.params for r in rows) == 218_112 + 960 == 219_072
    assert rows[-1].layer.output == (64 + 64 + 96 + 32, 28, 28)               # 256


def test_inception_3c_reduction_by_hand() -> None:
    a = analyze("bn_inception")
    rows = in_scope(a, "inception_3c")
    # input 28×28×320; 3×3 reduce 128 → 3×3/2 160; double reduce 64 → 3×3 96 → 3×3/2 96; max pool 3×3/2 passes 320
    macs = (28 * 28 * 320 * 128 + 14 * 14 * 9 * 128 * 160 + 28 * 28 * 320 * 64 + 28 * 28 * 9 * 64 * 96
            + 14 * 14 * 9 * 96 * 96)
    assert sum(r.macs for r in rows) == macs == 143_904_768                 # seed-claims: 3c 143.9M
    assert rows[-1].layer.output == (160 + 96 + 320, 14, 14)                # 576


def test_bn_inception_shapes() -> None:
    a = analyze("bn_inception")
    outs = {r.layer.name: r.layer.output for r in a.rows}
    # Caffe / pretrainedmodels: conv1 112, pool1 (ceil) 56, pool2 28, 3c → 14, 4e → 7
    assert outs["conv1.conv"] == (64, 112, 112)
    assert outs["pool1"] == (64, 56, 56) and outs["pool2"] == (192, 28, 28)
    concat = {m: outs[f"inception_{m}.concat"] for m in ("3a", "3b", "3c", "4a", "4b", "4c", "4d", "4e", "5a", "5b")}
    # the input widths of the next module in bninception.py: 256, 320, 576, 576, 576, 608, 608, 1056, 1024; last 1024
    assert [c[0] for c in concat.values()] == [256, 320, 576, 576, 576, 608, 608, 1056, 1024, 1024]
    assert concat["3c"][1:] == (14, 14) and concat["4e"][1:] == (7, 7)
    assert a.network.output == (1000,)


# ---------------------------------------------------------------- BN-Inception totals vs sources

def test_bn_inception_macs_match_seed_claims_and_fvcore() -> None:
    a = analyze("bn_inception")
    # docs/seed-claims.md: conv1 118.0M + conv2 359.7M + 3a … 5b + fc 1.0M; fvcore on pretrainedmodels: same
    assert a.totals.macs == 2_031_576_064 + 1_024_000 == 2_032_600_064
    # conv1 7×7/2: 112²·7·7·3·64; conv2 = 1×1 reduce 56²·64·64 + 3×3 56²·9·64·192
    assert 112 * 112 * 147 * 64 == 118_013_952
    assert 56 * 56 * 64 * 64 + 56 * 56 * 9 * 64 * 192 == 359_661_568
    # SENet Table 2: BN-Inception 2.03 GFLOPs = these multiply-adds (no residual additions to count)
    assert round(a.totals.macs / 10**7) == 203


# every conv's output channels (= its bias count = its BN's channels), per stage of bninception.py
CONV_CHANNELS = {"stem": 64 + 64 + 192, "3a": 480, "3b": 544, "3c": 544, "4a": 864, "4b": 896, "4c": 1024,
                 "4d": 1088, "4e": 1024, "5a": 1600, "5b": 1632}


def test_bn_inception_params_match_pretrainedmodels() -> None:
    assert sum(CONV_CHANNELS.values()) == 10_016
    # pretrainedmodels' Caffe port has biased convs: torch counts 11,295,240
    assert analyze("bn_inception", vars={"conv_bias": 1}).totals.params == 11_295_240
    plain = analyze("bn_inception")
    assert plain.totals.params == 11_295_240 - 10_016 == 11_285_224       # SENet's prototxt: no conv bias
    assert plain.totals.buffers == 2 * 10_016                             # BN running mean and variance
    assert analyze("bn_inception", vars={"conv_bias": 1}).totals.macs == plain.totals.macs


# ---------------------------------------------------------------- SE-BN-Inception

# SE after each module's concat: channels C and spatial size
SE_AT = [(256, 28), (320, 28), (576, 14), (576, 14), (576, 14), (608, 14), (608, 14), (1056, 7), (1024, 7),
         (1024, 7)]


def test_se_bn_inception_widths_follow_the_prototxt() -> None:
    a = analyze("se_bn_inception")
    fc1 = [r.layer.output[0] for r in a.rows if r.layer.name.endswith(".se.fc1")]
    # SE-BN-Inception.prototxt `*_1x1_down` num_output: 3a 16, 3b 20, 3c 36, 4a 36, 4d 38, 4e 66, 5a 64, 5b 64
    # (4b, 4c: C/16 = 36, 38)
    assert fc1 == [c // 16 for c, _ in SE_AT] == [16, 20, 36, 36, 36, 38, 38, 66, 64, 64]


def test_se_bn_inception_overhead_by_hand() -> None:
    base, se = analyze("bn_inception"), analyze("se_bn_inception")
    fc_macs = sum(2 * c * (c // 16) for c, _ in SE_AT)
    assert fc_macs == 8_192 + 12_800 + 3 * 41_472 + 2 * 46_208 + 139_392 + 2 * 131_072 == 639_360
    assert se.totals.macs - base.totals.macs == fc_macs
    # the fcs are biased 1×1 convs: + C/16 + C per block; ΣC = 6,624, 17·6,624/16 = 7,038
    assert se.totals.params - base.totals.params == fc_macs + 7_038 == 646_398
    scale = sum(c * s * s for c, s in SE_AT)
    assert scale == 200_704 + 250_880 + 3 * 112_896 + 2 * 119_168 + 51_744 + 2 * 50_176 == 1_180_704
    assert mul_elements(se) == scale


def test_se_bn_inception_senet_gflops() -> None:
    se = analyze("se_bn_inception")
    # SENet Table 2 prints 2.04. The SE-ResNet-50/152 and SE-VGG-16 convention (MACs + one multiply per
    # scaled element) gives 2,032,600,064 + 639,360 + 1,180,704 = 2,034,420,128 → 2.03; only adding the
    # squeeze's pooling adds (another 1,180,704) reaches 2,035,600,832 → 2.04.
    with_scale = se.totals.macs + mul_elements(se)
    assert with_scale == 2_034_420_128 and round(with_scale / 10**7) == 203
    assert round((with_scale + 1_180_704) / 10**7) == 204


# ---------------------------------------------------------------- VGG-16 with BN, SE-VGG-16

VGG16_CONVS = [(64, 224)] * 2 + [(128, 112)] * 2 + [(256, 56)] * 3 + [(512, 28)] * 3 + [(512, 14)] * 3


def test_vgg16_bn_matches_torchvision() -> None:
    a = analyze("vgg16_bn")
    # torchvision VGG16_BN_Weights: num_params 138,365,992, _ops 15.47 (BN not counted)
    assert a.totals.params == 138_365_992 == 138_357_544 + 2 * sum(c for c, _ in VGG16_CONVS)
    assert a.totals.macs == 15_470_264_320
    assert a.totals.buffers == 2 * 4_224
    # make_layers(batch_norm=True): Conv2d, BatchNorm2d, ReLU
    assert [r.layer.kind for r in a.rows[:6]] == ["conv", "bn", "relu", "conv", "bn", "relu"]


def test_se_vgg16_by_hand() -> None:
    bn, se = analyze("vgg16_bn"), analyze("se_vgg16")
    # SENet §3.3: an SE block after the ReLU of each of the 13 convs, r = 16
    assert [r.layer.kind for r in se.rows[:9]] == ["conv", "bn", "relu", "gap", "conv", "relu", "conv", "sigmoid",
                                                  "mul"]
    fc_macs = sum(2 * c * (c // 16) for c, _ in VGG16_CONVS)
    assert fc_macs == 2 * 512 + 2 * 2_048 + 3 * 8_192 + 6 * 32_768 == 226_304
    assert se.totals.macs - bn.totals.macs == fc_macs
    biases = sum(c // 16 + c for c, _ in VGG16_CONVS)
    assert se.totals.params == 138_365_992 + fc_macs + biases == 138_596_784
    scale = sum(c * s * s for c, s in VGG16_CONVS)
    assert scale == 6_422_528 + 3_211_264 + 2_408_448 + 1_204_224 + 301_056 == 13_547_520
    assert mul_elements(se) == scale


def test_se_vgg16_senet_gflops() -> None:
    se = analyze("se_vgg16")
    # SENet Table 2: SE-VGG-16 15.48 = MACs 15,470,490,624 + 13,547,520 scale multiplies = 15.484;
    # MACs alone (15.4705) would print 15.47
    total = se.totals.macs + mul_elements(se)
    assert total == 15_484_038_144 and round(total / 10**7) == 1548
    assert round(se.totals.macs / 10**7) == 1547


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_plain_vgg_presets_unchanged(name: str) -> None:
    # the new vars default to off: no BN, no SE, the torchvision run's num_params and fvcore conv + linear MACs
    if not TORCH_REF.exists():
        pytest.skip("tests/data/torch_reference.json not generated")
    ref = json.loads(TORCH_REF.read_text())["models"][name]
    ops = ref["runs"]["224x224"]["fvcore"]["by_operator"]
    a = analyze(name)
    assert (a.totals.params, a.totals.macs) == (ref["num_params"], ops["conv"] + ops["linear"])
    assert a.totals.buffers == 0 and not any(r.layer.kind in ("bn", "mul") for r in a.rows)
