"""The classic networks against the slides (seed 001), the papers, torchvision's published
num_params / _ops, hand derivations written inline, and (when present) tests/data/torch_reference.json
produced by real torchvision runs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archcalc.analysis import Analysis, analyze

TORCH_REF = Path(__file__).parent / "data" / "torch_reference.json"
WEIGHT_OPS = ("conv", "dwconv", "fc")


def weight_rows(a: Analysis) -> list[Any]:
    return [r for r in a.rows if r.layer.op in WEIGHT_OPS]


def chw(h: int, w: int, c: int) -> tuple[int, int, int]:
    """The slides write H×W×C; archcalc shapes are C×H×W."""
    return (c, h, w)


def torch_rows(model: str) -> list[tuple[str, tuple[int, ...], int]]:
    """(class, output shape, params) of the modules torchvision ran, if the reference file is present."""
    if not TORCH_REF.exists():
        pytest.skip("tests/data/torch_reference.json not generated")
    data = json.loads(TORCH_REF.read_text())
    run = data["models"][model]["runs"]["224x224"]
    return [(row[1], tuple(row[2]), row[3]) for row in run["modules"]["rows"]]


TORCH_OPS = {"Conv2d": "conv", "Linear": "fc", "MaxPool2d": "maxpool", "AdaptiveAvgPool2d": "adaptive_avgpool"}


def compare_with_torch(a: Analysis, model: str) -> None:
    theirs = [(TORCH_OPS[c], shape, p) for c, shape, p in torch_rows(model) if c in TORCH_OPS]
    ours = [(r.layer.op, r.layer.output, r.params) for r in a.rows if r.layer.op in TORCH_OPS.values()]
    assert ours == theirs


# ---------------------------------------------------------------- VGG
# Seed 001 "Size cho từng layer" and "Tính tổng tham số cho VGG-16" (H×W×C, params per layer).
# The slides list only two CONV3-256 layers (and their Keras listing also has two, total 137,767,464);
# configuration D of the paper (Table 1) has three. The missing layer is exactly the difference:
# 138,357,544 − 137,767,464 = 590,080 = (3x3x256)x256 + 256.
VGG16_SLIDES = [
    ("conv", chw(224, 224, 64), 3*3*3*64 + 64),           # 1,792
    ("conv", chw(224, 224, 64), 3*3*64*64 + 64),          # 36,928
    ("maxpool", chw(112, 112, 64), 0),
    ("conv", chw(112, 112, 128), 3*3*64*128 + 128),       # 73,856
    ("conv", chw(112, 112, 128), 3*3*128*128 + 128),      # 147,584
    ("maxpool", chw(56, 56, 128), 0),
    ("conv", chw(56, 56, 256), 3*3*128*256 + 256),        # 295,168
    ("conv", chw(56, 56, 256), 3*3*256*256 + 256),        # 590,080
    ("conv", chw(56, 56, 256), 3*3*256*256 + 256),        # the third CONV3-256 the slides drop
    ("maxpool", chw(28, 28, 256), 0),
    ("conv", chw(28, 28, 512), 3*3*256*512 + 512),        # 1,180,160
    ("conv", chw(28, 28, 512), 3*3*512*512 + 512),        # 2,359,808
    ("conv", chw(28, 28, 512), 3*3*512*512 + 512),
    ("maxpool", chw(14, 14, 512), 0),
    ("conv", chw(14, 14, 512), 3*3*512*512 + 512),
    ("conv", chw(14, 14, 512), 3*3*512*512 + 512),
    ("conv", chw(14, 14, 512), 3*3*512*512 + 512),
    ("maxpool", chw(7, 7, 512), 0),
    ("fc", (4096,), 7*7*512*4096 + 4096),                 # 102,764,544 (slides' FC-4096)
    ("fc", (4096,), 4096*4096 + 4096),                    # 16,781,312
    ("fc", (1000,), 4096*1000 + 1000),                    # 4,097,000
]


def test_vgg16_every_layer() -> None:
    a = analyze("vgg16")
    ours = [(r.layer.op, r.layer.output, r.params) for r in a.rows if r.layer.op in ("conv", "maxpool", "fc")]
    assert ours == VGG16_SLIDES
    assert VGG16_SLIDES[-3][2] == 102_764_544
    flatten = next(r for r in a.rows if r.layer.op == "flatten")
    assert flatten.layer.output == (7*7*512,)             # Keras listing: flatten (None, 25088)


def test_vgg16_totals() -> None:
    t = analyze("vgg16").totals
    assert t.params == 138_357_544 == sum(p for _, _, p in VGG16_SLIDES)
    assert 138_357_544 - 137_767_464 == 3*3*256*256 + 256  # the slides' total misses one conv
    # MACs: 3·3·C_in·C_out·H·W per conv plus F_in·F_out per fc
    convs = [(3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56), (256, 256, 56),
             (256, 256, 56), (256, 512, 28), (512, 512, 28), (512, 512, 28), (512, 512, 14), (512, 512, 14),
             (512, 512, 14)]
    macs = sum(9*ci*co*h*h for ci, co, h in convs) + 25088*4096 + 4096*4096 + 4096*1000
    assert t.macs == macs == 15_470_264_320
    assert t.flops == 2 * 15_470_264_320
    assert t.trainable_params == 138_357_544 and t.non_trainable_params == 0
    assert t.param_bytes == 4 * 138_357_544 == 553_430_176
    assert t.weight_layers == 16
    assert t.rf == 404                                    # RF of the flattened 7×7 map: 212 + 6·32


def test_vgg16_receptive_fields() -> None:
    # conv5_3 sees 196×196, pool5 212×212 (Araujo et al., Distill 2019, and r' = r + (k − 1)·j)
    a = analyze("vgg16")
    convs5 = [r for r in a.rows if r.layer.name.startswith("convs5.")]
    assert convs5[-2].layer.rf.size == (196, 196)
    assert convs5[-1].layer.rf.size == (212, 212)


@pytest.mark.parametrize("name, params, ops, paper_m", [
    # torchvision VGG*_Weights.IMAGENET1K_V1 meta (docs/references.md §0); VGG paper Table 2 (millions)
    ("vgg11", 132_863_336, "7.609", 133),
    ("vgg13", 133_047_848, "11.308", 133),
    ("vgg16", 138_357_544, "15.47", 138),
    ("vgg19", 143_667_240, "19.632", 144),
])
def test_vgg_family(name: str, params: int, ops: str, paper_m: int) -> None:
    for impl in ("paper", "torchvision"):
        t = analyze(name, vars={"impl": impl}).totals
        assert t.params == params
        assert f"{t.macs / 1e9:.3f}".rstrip("0") == ops     # `_ops` GMACs, 3 decimals
        assert round(t.params / 1e6) == paper_m


@pytest.mark.parametrize("name", ["vgg11", "vgg13", "vgg16", "vgg19"])
def test_vgg_layers_match_torchvision_run(name: str) -> None:
    compare_with_torch(analyze(name, vars={"impl": "torchvision"}), name)


def test_vgg_macs_match_fvcore() -> None:
    if not TORCH_REF.exists():
        pytest.skip("tests/data/torch_reference.json not generated")
    data = json.loads(TORCH_REF.read_text())["models"]
    for name in ("vgg11", "vgg13", "vgg16", "vgg19"):
        ops = data[name]["runs"]["224x224"]["fvcore"]["by_operator"]
        assert analyze(name).totals.macs == ops["conv"] + ops["linear"]


# ---------------------------------------------------------------- AlexNet
# Seed 001, AlexNET slides: H×W×C per layer and Param = (K×K×C_in)×C_out + C_out
ALEXNET_SLIDES = [
    ("conv1", chw(55, 55, 96), 11*11*3*96 + 96),          # 34,944
    ("pool1", chw(27, 27, 96), 0),
    ("norm1", chw(27, 27, 96), 0),
    ("conv2", chw(27, 27, 256), 5*5*96*256 + 256),        # 614,656
    ("pool2", chw(13, 13, 256), 0),
    ("norm2", chw(13, 13, 256), 0),
    ("conv3", chw(13, 13, 384), 3*3*256*384 + 384),       # 885,120
    ("conv4", chw(13, 13, 384), 3*3*384*384 + 384),       # 1,327,488
    ("conv5", chw(13, 13, 256), 3*3*384*256 + 256),       # 884,992
    ("pool5", chw(6, 6, 256), 0),
    ("fc6", (4096,), 6*6*256*4096 + 4096),                # 37,752,832
    ("fc7", (4096,), 4096*4096 + 4096),                   # 16,781,312
    ("fc8", (1000,), 4096*1000 + 1000),                   # 4,097,000
]


def test_alexnet_every_layer() -> None:
    a = analyze("alexnet")
    by_name = {r.layer.name: r for r in a.rows}
    assert [(n, by_name[n].layer.output, by_name[n].params) for n, _, _ in ALEXNET_SLIDES] == ALEXNET_SLIDES
    assert [p for _, _, p in ALEXNET_SLIDES if p] == [34_944, 614_656, 885_120, 1_327_488, 884_992, 37_752_832,
                                                      16_781_312, 4_097_000]
    assert a.network.input == (3, 227, 227)


def test_alexnet_totals() -> None:
    t = analyze("alexnet").totals
    assert t.params == 62_378_344 == sum(p for _, _, p in ALEXNET_SLIDES)
    macs = (11*11*3*96 * 55*55         # conv1 105,415,200
            + 5*5*96*256 * 27*27       # conv2 447,897,600
            + 3*3*256*384 * 13*13      # conv3 149,520,384
            + 3*3*384*384 * 13*13      # conv4 224,280,576
            + 3*3*384*256 * 13*13      # conv5 149,520,384
            + 9216*4096 + 4096*4096 + 4096*1000)
    assert t.macs == macs == 1_135_256_096
    assert t.weight_layers == 8
    pool5 = next(r for r in analyze("alexnet").rows if r.layer.name == "pool5")
    assert pool5.layer.rf.size == (195, 195)  # AlexNet's well-known 195-pixel field at pool5


def test_alexnet_torchvision() -> None:
    a = analyze("alexnet", vars={"impl": "torchvision"})
    assert a.network.input == (3, 224, 224)
    # torchvision AlexNet_Weights.IMAGENET1K_V1: num_params 61,100,840, _ops 0.714
    params = ((11*11*3*64 + 64) + (5*5*64*192 + 192) + (3*3*192*384 + 384) + (3*3*384*256 + 256)
              + (3*3*256*256 + 256) + (9216*4096 + 4096) + (4096*4096 + 4096) + (4096*1000 + 1000))
    assert a.totals.params == params == 61_100_840
    # conv1 floor((224 + 4 − 11)/4) + 1 = 55; pools 27, 13, 6
    macs = (11*11*3*64 * 55*55 + 5*5*64*192 * 27*27 + 3*3*192*384 * 13*13 + 3*3*384*256 * 13*13
            + 3*3*256*256 * 13*13 + 9216*4096 + 4096*4096 + 4096*1000)
    assert a.totals.macs == macs == 714_188_480
    assert f"{a.totals.macs / 1e9:.3f}" == "0.714"
    compare_with_torch(a, "alexnet")


def test_alexnet_paper_two_gpu() -> None:
    a = analyze("alexnet", vars={"impl": "paper"})
    # conv2, conv4, conv5 split in two groups: K·K·(C_in/2)·C_out + C_out
    params = ((11*11*3*96 + 96) + (5*5*48*256 + 256) + (3*3*256*384 + 384) + (3*3*192*384 + 384)
              + (3*3*192*256 + 256) + (9216*4096 + 4096) + (4096*4096 + 4096) + (4096*1000 + 1000))
    assert a.totals.params == params == 60_965_224    # the commonly cited AlexNet count
    macs = (11*11*3*96 * 55*55 + 5*5*48*256 * 27*27 + 3*3*256*384 * 169 + 3*3*192*384 * 169
            + 3*3*192*256 * 169 + 9216*4096 + 4096*4096 + 4096*1000)
    assert a.totals.macs == macs


# ---------------------------------------------------------------- ZFNet
# Seed 001, ZFNET Keras listing (the text has typos: "S = 4", "(7x7x96)", pool3 "(13x13x256)")
ZFNET_LISTING = [
    ("conv1", chw(111, 111, 96), 14_208),        # (7x7x3)x96 + 96
    ("pool1", chw(55, 55, 96), 0),
    ("conv2", chw(55, 55, 256), 614_656),        # (5x5x96)x256 + 256
    ("pool2", chw(27, 27, 256), 0),
    ("conv3", chw(27, 27, 512), 1_180_160),      # (3x3x256)x512 + 512
    ("conv4", chw(27, 27, 1024), 4_719_616),     # (3x3x512)x1024 + 1024
    ("conv5", chw(27, 27, 512), 4_719_104),      # (3x3x1024)x512 + 512
    ("pool5", chw(13, 13, 512), 0),
    ("fc6", (4096,), 354_422_784),               # (13x13x512)x4096 + 4096
    ("fc7", (4096,), 16_781_312),
    ("fc8", (1000,), 4_097_000),
]


def test_zfnet() -> None:
    a = analyze("zfnet")
    by_name = {r.layer.name: r for r in a.rows}
    assert [(n, by_name[n].layer.output, by_name[n].params) for n, _, _ in ZFNET_LISTING] == ZFNET_LISTING
    assert ZFNET_LISTING[0][2] == 7*7*3*96 + 96 and ZFNET_LISTING[8][2] == 13*13*512*4096 + 4096
    assert next(r for r in a.rows if r.layer.op == "flatten").layer.output == (86_528,)
    assert a.totals.params == 386_548_840 == sum(p for _, _, p in ZFNET_LISTING)


# ---------------------------------------------------------------- LeNet-5
def test_lenet5_paper() -> None:
    # LeCun et al. 1998, Sec. II-B; C3's connections from Table I (6 maps see 3 inputs, 9 see 4, 1 sees 6)
    c1 = 6 * (5*5*1 + 1)                                  # 156
    s2 = 6 * 2                                            # coefficient + bias per map: 12
    c3 = 6 * (3*25 + 1) + 9 * (4*25 + 1) + 1 * (6*25 + 1)  # 1,516
    s4 = 16 * 2                                           # 32
    c5 = 120 * (16*25 + 1)                                # 48,120
    f6 = 84 * (120 + 1)                                   # 10,164
    out = 10 * 84                                         # Euclidean RBF units: 840
    assert (c1, s2, c3, s4, c5, f6, out) == (156, 12, 1_516, 32, 48_120, 10_164, 840)
    a = analyze("lenet5")
    rows = a.rows
    names = [r.layer.name for r in rows]
    by_name = {r.layer.name: r for r in rows}

    def block(prefix: str) -> int:
        return sum(r.params for r in rows if r.layer.name.startswith(prefix + "."))

    c3_rows = rows[names.index("S2.tanh1") + 1: names.index("C3") + 1]
    assert by_name["C1"].params == c1 and by_name["C1"].layer.output == (6, 28, 28)
    assert block("S2") == s2 and rows[names.index("S2.tanh1")].layer.output == (6, 14, 14)
    assert sum(r.params for r in c3_rows) == c3 and by_name["C3"].layer.output == (16, 10, 10)
    assert block("S4") == s4 and rows[names.index("S4.tanh1")].layer.output == (16, 5, 5)
    assert by_name["C5"].params == c5 and by_name["C5"].layer.output == (120, 1, 1)
    assert by_name["F6"].params == f6 and by_name["F6"].layer.output == (84,)
    assert by_name["output"].params == out and by_name["output"].layer.output == (10,)
    assert a.totals.params == c1 + s2 + c3 + s4 + c5 + f6 + out == 60_840


def test_lenet5_modern() -> None:
    # full C3 (16 maps over all 6 inputs), max pools without parameters, a biased linear output
    params = 6*(25 + 1) + 16*(6*25 + 1) + 120*(16*25 + 1) + 84*(120 + 1) + 10*(84 + 1)
    assert params == 156 + 2_416 + 48_120 + 10_164 + 850 == 61_706
    assert analyze("lenet5", vars={"impl": "modern"}).totals.params == params


# ---------------------------------------------------------------- JSON contract
def test_json_contract_fields_and_exact_ints(cli_run: Any) -> None:
    code, out, err = cli_run("summary", "vgg16", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("name", "input", "batch", "convention", "vars", "layers", "totals"):
        assert key in data
    assert data["name"] == "vgg16" and data["input"] == [3, 224, 224] and data["batch"] == 1
    assert data["convention"] == "paper"
    first = data["layers"][0]
    assert first == {**first, "name": first["name"], "op": "conv", "output": [64, 224, 224], "params": 1792,
                     "macs": 3*3*3*64 * 224*224, "activations": 64*224*224, "rf": 3}
    assert first["macs"] == 86_704_128 and first["activations"] == 3_211_264
    for layer in data["layers"]:
        for key in ("name", "op", "output", "params", "macs", "activations", "rf"):
            assert key in layer
        for key in ("params", "macs", "activations", "rf"):
            assert type(layer[key]) is int
        assert all(type(x) is int for x in layer["output"])
    totals = data["totals"]
    expected = {"params": 138_357_544, "trainable_params": 138_357_544, "non_trainable_params": 0,
                "macs": 15_470_264_320, "flops": 30_940_528_640, "param_bytes": 553_430_176}
    for key, value in expected.items():
        assert totals[key] == value and type(totals[key]) is int
    for key in ("activations", "activation_bytes"):
        assert type(totals[key]) is int
    # activations: every leaf layer's output elements
    assert totals["activations"] == sum(layer["activations"] for layer in data["layers"])
    assert totals["activation_bytes"] == 4 * totals["activations"]
    ops = {layer["op"] for layer in data["layers"]}
    assert ops == {"conv", "relu", "maxpool", "flatten", "fc", "dropout"}


def test_json_depthwise_reports_conv(cli_run: Any) -> None:
    code, out, _ = cli_run("summary", "lenet5", "--format", "json")
    assert code == 0
    assert {layer["op"] for layer in json.loads(out)["layers"] if layer["name"].endswith("dwconv1")} == {"conv"}
