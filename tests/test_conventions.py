"""`--convention keras` against Keras's model.summary(), and per-layer agreement with torchinfo and fvcore.

Truth: tests/data/keras_reference.json (keras.applications, weights=None, `model.summary()` counts)
and tests/data/torch_reference.json (torchinfo's per-layer `macs` column and fvcore's
`by_module()` for leaf modules), both generated from the real tools, never from archcalc.
"""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from archcalc.analysis import analyze

DATA = Path(__file__).parent / "data"
KERAS = json.loads((DATA / "keras_reference.json").read_text())["models"]
TORCH = json.loads((DATA / "torch_reference.json").read_text())["models"]


def _keras(key: str) -> tuple[int, int, int]:
    m = KERAS[key]
    return m["total_params"], m["trainable_params"], m["non_trainable_params"]


def _ours(name: str, **vars: Any) -> tuple[int, int, int]:
    t = analyze(name, vars=vars or None, convention="keras").totals
    return t.params, t.trainable_params, t.non_trainable_params


@pytest.mark.parametrize("name, vars, key", [
    ("vgg16", {}, "vgg16"),
    ("mobilenet_v1", {"impl": "keras", "alpha": Fraction(1)}, "mobilenet_v1_1.0_224"),
    ("mobilenet_v1", {"impl": "keras", "alpha": Fraction(3, 4)}, "mobilenet_v1_0.75_224"),
    ("mobilenet_v1", {"impl": "keras", "alpha": Fraction(1, 2)}, "mobilenet_v1_0.5_224"),
    ("mobilenet_v1", {"impl": "keras", "alpha": Fraction(1, 4)}, "mobilenet_v1_0.25_224"),
    ("mobilenet_v2", {}, "mobilenet_v2_1.0_224"),
    ("densenet121", {}, "densenet121"),
])
def test_keras_totals(name: str, vars: dict[str, Any], key: str) -> None:
    """total / trainable / non-trainable exactly as Keras's summary prints them."""
    assert _ours(name, **vars) == _keras(key)


def test_keras_resnet50_differs_by_conv_biases() -> None:
    """Keras's ResNet50 (keras/src/applications/resnet.py) builds every Conv2D with the default
    use_bias=True before its BatchNormalization; torchvision's and the paper's have no conv bias.
    So Keras total = ours + one bias per conv output channel; BN moving stats agree exactly."""
    a = analyze("resnet50", convention="keras")
    conv_biases = sum(r.layer.output[0] for r in a.rows if r.layer.op == "conv" and r.layer.counts["bias"] == 0)
    total, trainable, non_trainable = _keras("resnet50")
    assert a.totals.non_trainable_params == non_trainable == 53_120
    assert a.totals.params + conv_biases == total == 25_636_712
    assert a.totals.trainable_params + conv_biases == trainable
    # and the per-layer Keras conv params are exactly ours plus C_out
    keras_convs = [layer["params"] for layer in KERAS["resnet50"]["layers"] if layer["class"] == "Conv2D"]
    ours = [r.params + r.layer.output[0] for r in a.rows if r.layer.op == "conv"]
    assert sorted(keras_convs) == sorted(ours)


def _torch_run(name: str) -> tuple[dict[str, Any], tuple[int, int]]:
    runs = TORCH[name]["runs"]
    key = max(runs, key=lambda k: int(k.split("x")[0]))
    h, w = (int(x) for x in key.split("x"))
    return runs[key], (h, w)


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_b0", "googlenet", "densenet121", "mobilenet_v2"])
def test_torchinfo_per_layer(name: str) -> None:
    """Each conv / batch-norm / linear leaf, in call order: params and torchinfo's mult-adds."""
    run, hw = _torch_run(name)
    want = [(row[4], row[6]) for row in run["torchinfo"]["layers"]["rows"]
            if row[1] in ("Conv2d", "BatchNorm2d", "Linear")]
    a = analyze(name, vars={"impl": "torchvision"}, input=hw, convention="torchinfo")
    got = [(r.params, r.macs) for r in a.rows if r.layer.op in ("conv", "dwconv", "bn", "fc")]
    assert got == want


@pytest.mark.parametrize("name", ["resnet50", "efficientnet_b0", "googlenet", "resnext50_32x4d"])
def test_fvcore_per_layer(name: str) -> None:
    """fvcore's per-leaf-module counts (modules it counts, in call order) equal our non-zero rows.
    (DenseNet and MobileNetV2 call F.adaptive_avg_pool2d in forward(), not a module, so fvcore
    books that count on the whole model rather than a leaf; their totals are in test_reference_torch.)"""
    run, hw = _torch_run(name)
    want = [v for v in run["fvcore"]["by_leaf_module"].values() if v]
    a = analyze(name, vars={"impl": "torchvision"}, input=hw, convention="fvcore")
    assert [r.macs for r in a.rows if r.macs] == want
