"""ConvNeXt, ViT, Swin (v1, v2) and MaxViT against the real tools, to the unit.

Truth: tests/data/torch_reference.json (tools/torch_reference.py: torch 2.14.1, torchvision 0.29.1,
fvcore 0.1.5, torchinfo 1.8.0, weights=None, batch 1, eval, at the default weights' eval crop), never archcalc.
Per model:
  params, buffers (BN running stats + relative position index/coords tables), output shape;
  paper MACs == torchvision `_ops` to the digits it prints, and exactly: fvcore's conv + linear + matmul
    counts plus the attention products fvcore does not count exactly (hand derivation below);
  fvcore total == FlopCountAnalysis(model, x).total(); torchinfo total == summary(...).total_mult_adds;
  every Conv2d/Linear output shape in call order (torch's channels-last Linear outputs compared as
    (features, positions)).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from archcalc.analysis import analyze

MODELS = ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
          "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14",
          "swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b", "maxvit_t"]

DATA = json.loads((Path(__file__).parent / "data" / "torch_reference.json").read_text())["models"]


# the default weights' eval crop (torchvision/models/*.py: `DEFAULT` and its transforms' crop_size)
CROP = {name: 224 for name in MODELS} | {"vit_h_14": 518, "swin_v2_t": 256, "swin_v2_s": 256, "swin_v2_b": 256}


def _ref(name: str) -> tuple[dict, dict, tuple[int, int]]:
    ref = DATA[name]
    crop = CROP[name]
    assert ref.get("eval_crop", crop) == crop
    return ref, ref["runs"][f"{crop}x{crop}"], (crop, crop)


def _analyze(name: str, convention: str = "paper"):
    return analyze(name, input=_ref(name)[2], convention=convention)


# Attention products that fvcore does not report exactly (hand derivation from torchvision's code):
# ViT: nn.MultiheadAttention runs QKᵀ and A·V in scaled_dot_product_attention, which fvcore has no handle
#   for (listed in unsupported_ops): each is N·N·D per layer with N = (res/patch)² + 1 tokens.
# MaxViT: torch.einsum, which fvcore rounds to 4 digits: each is G·P²·C per attention layer with P = 49
#   tokens in G = H·W/49 groups; 2 layers (window, grid) per MaxVitLayer.
VIT = {"vit_b_16": (16, 12, 768), "vit_b_32": (32, 12, 768), "vit_l_16": (16, 24, 1024),
       "vit_l_32": (32, 24, 1024), "vit_h_14": (14, 32, 1280)}


def _products(name: str, res: int) -> int:
    if name in VIT:
        patch, layers, d = VIT[name]
        n = (res // patch) ** 2 + 1
        return layers * 2 * n * n * d
    if name == "maxvit_t":
        total, size = 0, res // 2
        for c, layers in ((64, 2), (128, 2), (256, 5), (512, 2)):
            size //= 2
            total += layers * 2 * 2 * (size * size) * 49 * c
        return total
    return 0


@pytest.mark.parametrize("name", MODELS)
def test_params_buffers_output(name: str) -> None:
    ref, run, _ = _ref(name)
    a = _analyze(name)
    assert a.totals.params == ref["num_params"]
    assert a.totals.buffers == ref["buffers"]["bn_running_stats"] + ref["buffers"]["other"]
    assert list(a.network.output) == run["output_shape"]


@pytest.mark.parametrize("name", MODELS)
def test_paper_macs(name: str) -> None:
    ref, run, hw = _ref(name)
    fv = run["fvcore"]["by_operator"]
    exact = fv.get("conv", 0) + fv.get("linear", 0) + fv.get("matmul", 0) + _products(name, hw[0])
    macs = _analyze(name).totals.macs
    assert macs == exact
    default = ref["weights"][ref["default_weights"]] if "default_weights" in ref else \
        next(w for w in ref["weights"].values() if w.get("crop_size") == [hw[0]])
    assert round(macs / 1e9, 3) == pytest.approx(default["_ops"], abs=1e-9)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("convention,key", [("fvcore", "fvcore"), ("torchinfo", "torchinfo")])
def test_tool_totals(name: str, convention: str, key: str) -> None:
    _, run, _ = _ref(name)
    want = run["fvcore"]["total"] if key == "fvcore" else run["torchinfo"]["total_mult_adds"]
    assert _analyze(name, convention).totals.macs == want


def _torch_calls(layer) -> list[tuple]:
    """The Conv2d/Linear module calls torch makes for one archcalc layer: a conv's (C, H, W), a Linear's
    (features, positions) (torch keeps Linear inputs channels-last: [..., F])."""
    out = list(layer.output)
    if layer.op in ("conv", "dwconv"):
        return [tuple(out)]
    if layer.op == "fc":
        return [(out[-1], out[0]) if len(out) == 2 else (out[0], 1 if len(out) == 1 else out[1] * out[2])]
    if layer.op != "attention":
        return []
    a, c = layer.attrs, layer.counts
    calls = []
    if a["rel_pos"] == "cpb":                     # cpb_mlp runs on the (2w−1)² offsets, before the attention
        offsets = (2 * a["window"] - 1) ** 2
        calls += [(a["cpb_hidden"], offsets), (a["heads"], offsets)]
    if a["projections"] == "modules":             # MaxViT: to_qkv and merge are called as modules
        d, tokens = out[-1] if len(out) == 2 else out[0], c["groups"] * c["tokens"]
        calls += [(3 * d, tokens), (d, tokens)]
    return calls


@pytest.mark.parametrize("name", MODELS)
def test_conv_and_linear_shapes(name: str) -> None:
    _, run, _ = _ref(name)
    cols = run["modules"]["columns"]
    want = []
    for r in run["modules"]["rows"]:
        row = dict(zip(cols, r))
        if row["class"] == "Conv2d":
            want.append(tuple(row["output"]))
        elif row["class"] == "Linear":
            positions = 1
            for v in row["output"][:-1]:
                positions *= v
            want.append((row["output"][-1], positions))
    got = [call for la in _analyze(name).network.layers for call in _torch_calls(la)]
    assert got == want
