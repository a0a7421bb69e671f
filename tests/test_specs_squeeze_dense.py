"""SqueezeNet 1.0 / 1.1 and DenseNet-121 against torchvision and hand derivations.

Sources: docs/references.md §1.6 and §1.7 (torchvision squeezenet.py / densenet.py, weights meta
num_params, _ops, min_size), tests/data/torch_reference.json (a real torchvision 0.29.1 run) and
tests/data/keras_reference.json (keras.applications.DenseNet121). Nothing expected here comes from
archcalc.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import ShapeError

DATA = Path(__file__).parent / "data"

KIND = {"Conv2d": "conv", "BatchNorm2d": "bn", "Linear": "fc", "MaxPool2d": "maxpool",
        "AvgPool2d": "avgpool", "AdaptiveAvgPool2d": "adaptive_avgpool"}


def torch_layers(model: str) -> list[tuple[str, list[int], int]]:
    """(op, output shape, params) of every conv/BN/linear/pool module of a real torchvision run."""
    path = DATA / "torch_reference.json"
    if not path.exists():
        pytest.skip("tests/data/torch_reference.json is not there")
    run = json.loads(path.read_text())["models"][model]["runs"]["224x224"]
    return [(KIND[cls], list(out), params) for _, cls, out, params in run["modules"]["rows"] if cls in KIND]


def archcalc_layers(a: Analysis) -> list[tuple[str, list[int], int]]:
    return [(r.layer.op, list(r.layer.output), r.params) for r in a.rows if r.layer.op in KIND.values()]


# ---------------------------------------------------------------- SqueezeNet

# (squeeze, expand) of fire2 … fire9, the same in 1.0 and 1.1 (torchvision squeezenet.py: Fire(in, s, e, e))
FIRES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]


def squeezenet_by_hand(stem_c: int, stem_k: int, stem_out: int, sizes: list[int]) -> tuple[int, int]:
    """(params, MACs): stem conv, eight fires at the given spatial sizes, conv10 (512 → 1000) at 13×13."""
    params = stem_k * stem_k * 3 * stem_c + stem_c
    macs = stem_out * stem_out * stem_k * stem_k * 3 * stem_c
    cin = stem_c
    for (s, e), n in zip(FIRES, sizes):
        w = cin * s + s * e + 9 * s * e          # squeeze 1×1, expand 1×1, expand 3×3
        params += w + s + 2 * e                   # every conv has a bias
        macs += n * n * w
        cin = 2 * e
    params += 512 * 1000 + 1000
    macs += 13 * 13 * 512 * 1000
    return params, macs


def test_squeezenet1_0() -> None:
    a = analyze("squeezenet1_0")
    # conv 7×7/2 on 224: floor(217/2) + 1 = 109; ceil-mode pools: 109 → 54 → 27 → 13
    params, macs = squeezenet_by_hand(96, 7, 109, [54, 54, 54, 27, 27, 27, 27, 13])
    # torchvision SqueezeNet1_0_Weights: "num_params": 1248424, "_ops": 0.819 (references §1.6)
    assert a.totals.params == params == 1_248_424
    assert a.totals.macs == macs == 818_924_576
    assert round(a.totals.macs / 1e9, 3) == 0.819
    assert a.network.output == (1000,)


def test_squeezenet1_1() -> None:
    a = analyze("squeezenet1_1")
    # conv 3×3/2 on 224: floor(221/2) + 1 = 111; ceil-mode pools: 111 → 55 → 27 → 13
    params, macs = squeezenet_by_hand(64, 3, 111, [55, 55, 27, 27, 13, 13, 13, 13])
    # torchvision SqueezeNet1_1_Weights: "num_params": 1235496, "_ops": 0.349 (references §1.6)
    assert a.totals.params == params == 1_235_496
    assert a.totals.macs == macs == 349_151_936
    assert round(a.totals.macs / 1e9, 3) == 0.349


def test_fire_module_names_and_counts() -> None:
    a = analyze("squeezenet1_0")
    rows = {r.layer.name: r for r in a.rows if r.layer.scope == ("fire2",)}
    # torchvision Fire(96, 16, 64, 64): squeeze 96·16 + 16, expand1x1 16·64 + 64, expand3x3 9·16·64 + 64
    assert rows["fire2.squeeze"].params == 96 * 16 + 16 == 1552
    assert rows["fire2.expand1x1"].params == 16 * 64 + 64 == 1088
    assert rows["fire2.expand3x3"].params == 9 * 16 * 64 + 64 == 9280
    assert rows["fire2.output"].layer.output == (128, 54, 54)


@pytest.mark.parametrize("model", ["squeezenet1_0", "squeezenet1_1"])
def test_squeezenet_layer_by_layer(model: str) -> None:
    assert archcalc_layers(analyze(model)) == torch_layers(model)


# ---------------------------------------------------------------- DenseNet-121

def densenet121_by_hand() -> tuple[int, int, int, list[int]]:
    """(params, MACs, BN buffers, channels after each block/transition) from torchvision densenet.py."""
    growth, bn_size = 32, 4
    params = 7 * 7 * 3 * 64 + 2 * 64                    # conv0 (no bias) + norm0
    macs = 112 * 112 * 7 * 7 * 3 * 64
    bn = 64
    c, size, trail = 64, 56, []
    for i, n in enumerate((6, 12, 24, 16)):
        for _ in range(n):
            w = c * bn_size * growth + 9 * bn_size * growth * growth
            params += w + 2 * c + 2 * bn_size * growth  # conv1, conv2, norm1 (c), norm2 (128)
            bn += c + bn_size * growth
            macs += size * size * w
            c += growth
        trail.append(c)
        if i < 3:                                      # transition: norm, conv 1×1 to c // 2, avg pool 2
            params += 2 * c + c * (c // 2)
            bn += c
            macs += size * size * c * (c // 2)
            c, size = c // 2, size // 2
            trail.append(c)
    params += 2 * c + c * 1000 + 1000                   # norm5, classifier
    bn += c
    macs += c * 1000
    return params, macs, 2 * bn, trail


def test_densenet121() -> None:
    a = analyze("densenet121")
    params, macs, buffers, trail = densenet121_by_hand()
    # torchvision DenseNet121_Weights: "num_params": 7978856, "_ops": 2.834 (references §1.7)
    assert a.totals.params == params == 7_978_856
    assert a.totals.macs == macs == 2_834_161_664
    assert round(a.totals.macs / 1e9, 3) == 2.834
    # torch_reference.json: bn_running_stats 83,648
    assert a.totals.buffers == buffers == 83_648
    # references §1.7: channel trail 64 → 256 → 128 → 512 → 256 → 1024 → 512 → 1024
    assert trail == [256, 128, 512, 256, 1024, 512, 1024]
    outs = {r.layer.name: r.layer.output for r in a.rows}
    assert [outs[n][0] for n in ("denseblock1.denselayer6.output", "transition1.pool", "denseblock2.denselayer12.output",
                                 "transition2.pool", "denseblock3.denselayer24.output", "transition3.pool",
                                 "denseblock4.denselayer16.output")] == trail
    # the 121 of the name: 120 convs + 1 fc on the longest path
    assert a.totals.depth == 121


def test_densenet121_keras_counts_bn_statistics() -> None:
    # keras_reference.json, keras.applications.DenseNet121: total_params 8,062,504 = 7,978,856 trainable
    # + 83,648 non-trainable moving mean/variance
    a = analyze("densenet121", convention="keras")
    assert (a.totals.params, a.totals.non_trainable_params) == (8_062_504, 83_648)


def test_densenet121_layer_by_layer() -> None:
    # torchvision's forward calls F.adaptive_avg_pool2d, a function, so the run lists no module for it
    ours = [x for x in archcalc_layers(analyze("densenet121")) if x[0] != "adaptive_avgpool"]
    assert ours == torch_layers("densenet121")


@pytest.mark.parametrize("model,min_size", [("squeezenet1_0", 21), ("squeezenet1_1", 17), ("densenet121", 29)])
def test_min_size(model: str, min_size: int) -> None:
    """torchvision's weights meta "min_size": the smallest input the layers accept (references §1.6, §1.7)."""
    assert analyze(model, input=(min_size,)).network.output == (1000,)
    with pytest.raises(ShapeError):
        analyze(model, input=(min_size - 1,))
