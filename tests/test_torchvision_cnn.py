"""Every torchvision convolutional classifier under torchvision's own name, against the real model.

Truth: tests/data/torch_reference.json (tools/torch_reference.py: torch 2.14.1, torchvision 0.29.1,
fvcore 0.1.5, torchinfo 1.8.0), each model built by `torchvision.models.get_model(name)` and run at
the eval crop of its DEFAULT weights (`weights.transforms().crop_size`), never from archcalc. For each:
  params            == sum(p.numel())
  BN buffers        == running mean + running var elements
  output shape      == the model's output without the batch
  conv / fc layers  == every Conv2d / Linear forward hook: output shape and parameter count
  paper MACs / 1e9  == the DEFAULT weights' `_ops`, to the 3 decimals torchvision prints, and
                       == fvcore's conv + linear counts exactly
  fvcore MACs       == FlopCountAnalysis(model, x).total()
  torchinfo MACs    == summary(model).total_mult_adds
All with `--set impl=torchvision` (a no-op for the specs that only follow torchvision).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from archcalc import conventions
from archcalc.analysis import Analysis, load_spec, summarize
from archcalc.graph import Network, build

DATA = json.loads((Path(__file__).parent / "data" / "torch_reference.json").read_text())["models"]

# torchvision.models.list_models(module=torchvision.models) less the transformers and ConvNeXt
# (convnext_*, vit_*, swin_*, swin_v2_*, maxvit_t: tests of the transformer ops)
CNNS = (
    ["alexnet", "googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1", "mobilenet_v2",
     "mobilenet_v3_large", "mobilenet_v3_small"]
    + [f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")]
    + [f"resnet{d}" for d in (18, 34, 50, 101, 152)]
    + ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"]
    + [f"densenet{d}" for d in (121, 161, 169, 201)]
    + [f"efficientnet_b{i}" for i in range(8)] + [f"efficientnet_v2_{s}" for s in "sml"]
    + [f"mnasnet{a}" for a in ("0_5", "0_75", "1_0", "1_3")]
    + [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")]
    + [f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + [f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")]
)


def test_the_list_is_every_torchvision_cnn() -> None:
    """The reference file holds every torchvision classifier; CNNS is all of them but the transformers."""
    torchvision = {k for k, v in DATA.items() if v.get("source") == "torchvision"}
    transformers = {k for k in torchvision if k.split("_")[0] in ("convnext", "vit", "swin", "maxvit")}
    assert len(torchvision) == 80
    assert set(CNNS) == torchvision - transformers and len(CNNS) == len(set(CNNS)) == 64


def _ref(name: str) -> tuple[dict, dict, tuple[int, int]]:
    ref = DATA[name]
    crop = ref["eval_crop"]
    return ref, ref["runs"][f"{crop}x{crop}"], (crop, crop)


@cache
def _network(name: str) -> Network:
    _, _, hw = _ref(name)
    spec, preset = load_spec(name)
    return build(spec, {"impl": "torchvision"}, hw, preset)


@cache
def _analysis(name: str, convention: str) -> Analysis:
    return summarize(_network(name), conventions.get(convention), 1, "float32", name)


@pytest.mark.parametrize("name", CNNS)
def test_params_buffers_output(name: str) -> None:
    ref, run, _ = _ref(name)
    a = _analysis(name, "paper")
    assert a.totals.params == ref["num_params"]
    assert a.totals.buffers == ref["buffers"]["bn_running_stats"]
    assert list(a.network.output) == run["output_shape"]


@pytest.mark.parametrize("name", CNNS)
def test_every_conv_and_linear(name: str) -> None:
    """Each Conv2d / Linear call of the real model is one conv / fc layer here with the same
    output shape and parameter count (compared as multisets: branch order may differ)."""
    _, run, _ = _ref(name)
    theirs = sorted((tuple(row[2]), row[3]) for row in run["modules"]["rows"] if row[1] in ("Conv2d", "Linear"))
    ours = sorted((tuple(r.layer.output), r.params) for r in _analysis(name, "paper").rows if r.layer.kind in ("conv", "fc"))
    assert ours == theirs


@pytest.mark.parametrize("name", CNNS)
def test_paper_macs(name: str) -> None:
    ref, run, _ = _ref(name)
    macs = _analysis(name, "paper").totals.macs
    ops = ref["weights"][ref["default_weights"]]["_ops"]
    assert round(macs / 1e9, 3) == pytest.approx(ops, abs=1e-9)
    fv = run["fvcore"]["by_operator"]
    assert macs == fv.get("conv", 0) + fv.get("linear", 0)


@pytest.mark.parametrize("name", CNNS)
def test_fvcore_total(name: str) -> None:
    _, run, _ = _ref(name)
    assert _analysis(name, "fvcore").totals.macs == run["fvcore"]["total"]


@pytest.mark.parametrize("name", CNNS)
def test_torchinfo_total(name: str) -> None:
    _, run, _ = _ref(name)
    assert _analysis(name, "torchinfo").totals.macs == run["torchinfo"]["total_mult_adds"]


def test_inception_v3_meta_counts_the_aux_head() -> None:
    """torchvision's Inception_V3_Weights num_params counts InceptionAux, which eval never calls.
    Hand derivation of InceptionAux(768, 1000) (torchvision/models/inception.py): conv0 1×1 768→128
    (98,304) + BN (256); conv1 5×5 128→768 (2,457,600) + BN (1,536); fc 768→1000 (769,000)."""
    aux = 98_304 + 256 + 2_457_600 + 1_536 + 769_000
    meta = DATA["inception_v3"]["weights"]["IMAGENET1K_V1"]["num_params"]
    assert _analysis("inception_v3", "paper").totals.params == meta - aux == 23_834_568


def test_mean_is_not_counted_by_fvcore_but_pooling_is() -> None:
    """MNASNet and ShuffleNetV2 end in x.mean([2, 3]): fvcore reports aten::mean unsupported
    (0), where MobileNetV3's AdaptiveAvgPool2d counts its input elements."""
    for name in ("mnasnet1_0", "shufflenet_v2_x1_0"):
        assert DATA[name]["runs"]["224x224"]["fvcore"]["unsupported_ops"]["aten::mean"] == 1
        rows = {r.layer.op: r for r in _analysis(name, "fvcore").rows}
        assert rows["mean"].macs == 0
    gap = next(r for r in _analysis("mobilenet_v3_large", "fvcore").rows if r.layer.name == "avgpool")
    assert gap.macs == 960 * 7 * 7


@pytest.mark.parametrize("name", CNNS)
def test_torchinfo_per_layer(name: str) -> None:
    """torchinfo's own per-layer table: every Conv2d / BatchNorm2d / Linear leaf in call order,
    its params and mult-adds, equal our conv / bn / fc rows in spec order."""
    _, run, _ = _ref(name)
    want = [(row[4], row[6]) for row in run["torchinfo"]["layers"]["rows"] if row[1] in ("Conv2d", "BatchNorm2d", "Linear")]
    got = [(r.params, r.macs) for r in _analysis(name, "torchinfo").rows if r.layer.kind in ("conv", "bn", "fc")]
    assert got == want


# DenseNet and MobileNetV2 pool with F.adaptive_avg_pool2d in forward(), not through a module, so fvcore books
# that count on the whole model rather than on a leaf module (their totals agree above)
FVCORE_FUNCTIONAL_POOL = {"densenet121", "densenet161", "densenet169", "densenet201", "mobilenet_v2"}


@pytest.mark.parametrize("name", [n for n in CNNS if n not in FVCORE_FUNCTIONAL_POOL])
def test_fvcore_per_leaf_module(name: str) -> None:
    """fvcore's by_module() of every leaf module with a non-zero count, in module order, equals our
    non-zero fvcore rows in spec order."""
    _, run, _ = _ref(name)
    want = [v for v in run["fvcore"]["by_leaf_module"].values() if v]
    assert [r.macs for r in _analysis(name, "fvcore").rows if r.macs] == want
