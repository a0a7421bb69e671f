"""The ops modern CNNs need (issue 11): hardsigmoid, mean, select ranges, split, crop, stochastic depth.

Each: shape, params, buffers, MACs under every convention, the NumPy kernel's values, receptive
field and memory. Expected values are hand derivations written next to the assertions, or read
from the counters' sources: fvcore `fvcore/nn/flop_count.py` (_DEFAULT_SUPPORTED_OPS has no
aten::mean, aten::hardsigmoid, aten::slice/narrow/chunk; `jit_analysis.py` _IGNORED_OPS lists
aten::chunk, aten::narrow, aten::slice, aten::split, which count 0 silently), torchinfo
`layer_info.py` (a layer counts MACs only through its weight and bias parameters), PyTorch
`nn.Hardsigmoid` (relu6(x + 3)/6), `Tensor.chunk` (chunks of ceil(C/n)),
torchvision `transforms.functional.center_crop` (top = int(round((H − h)/2.0))).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from archcalc import kernels_parts as K
from archcalc import numeric
from archcalc.analysis import Analysis, analyze
from archcalc.errors import ShapeError, SpecError
from archcalc.graph import build
from archcalc.memory import memory
from archcalc.spec import loads


def net(body: str, input: str = "[8, 10, 10]", convention: str = "paper") -> Analysis:
    return analyze(loads(f"archcalc: 1\nname: t\ninput: {input}\nbody: {body}\n"), convention=convention)


def last(body: str, input: str = "[8, 10, 10]", convention: str = "paper") -> Any:
    return net(body, input, convention).rows[-1]


# ---------------------------------------------------------------- shapes, params, MACs
@pytest.mark.parametrize("convention", ["paper", "torchvision", "fvcore", "torchinfo", "keras"])
@pytest.mark.parametrize("body, shape", [
    ("[hardsigmoid]", (8, 10, 10)),
    ("[{stochastic_depth: {p: 0.3, mode: batch}}]", (8, 10, 10)),
    ("[mean]", (8,)),
    ("[{mean: {keepdim: true}}]", (8, 1, 1)),
    ("[{select: {start: 2, stop: 5}}]", (3, 10, 10)),
    ("[{select: {start: 6}}]", (2, 10, 10)),          # stop defaults to C = 8
    ("[{split: {chunks: 3, index: 2}}]", (2, 10, 10)),  # ceil(8/3) = 3: [0,3) [3,6) [6,8)
    ("[{crop: {size: [7, 4]}}]", (8, 7, 4)),
])
def test_shape_and_nothing_counted(body: str, shape: tuple[int, ...], convention: str) -> None:
    """None of these ops has weights: 0 params, 0 buffers, 0 MACs under every convention
    (fvcore: no handle for aten::mean / hardsigmoid, slices ignored; torchinfo: no parameters)."""
    r = last(body, convention=convention)
    assert r.layer.output == shape
    assert (r.params, r.layer.buffers, r.macs) == (0, 0, 0)


def test_mean_differs_from_gap_only_under_fvcore() -> None:
    """fvcore's adaptive_avg_pool2d handle counts one flop per input element (8·10·10 = 800);
    x.mean([2, 3]) has no handle and counts 0. torchinfo and paper count neither."""
    assert last("[gap]", convention="fvcore").macs == 800
    assert last("[mean]", convention="fvcore").macs == 0
    for conv in ("paper", "torchinfo"):
        assert last("[gap]", convention=conv).macs == last("[mean]", convention=conv).macs == 0


def test_split_matches_torch_chunk() -> None:
    # torch.chunk(10 channels, 4): size ceil(10/4) = 3 → 3, 3, 3, 1
    sizes = [last(f"[{{split: {{chunks: 4, index: {i}}}}}]", "[10, 2, 2]").layer.output[0] for i in range(4)]
    assert sizes == [3, 3, 3, 1]
    # chunk(5, 4): size 2 → only three chunks (2, 2, 1): there is no chunk 3
    with pytest.raises(ShapeError, match="no chunk 3"):
        last("[{split: {chunks: 4, index: 3}}]", "[5, 2, 2]")


def test_select_errors() -> None:
    with pytest.raises(ShapeError, match="ends at 9 but the input has 8"):
        last("[{select: {start: 2, stop: 9}}]")
    with pytest.raises(ShapeError, match="empty"):
        last("[{select: {start: 5, stop: 5}}]")
    with pytest.raises(SpecError, match="not both"):
        last("[{select: {channels: [1], start: 0}}]")
    with pytest.raises(SpecError, match="needs `channels`"):
        last("[{select: {}}]")


def test_crop_errors_and_symbolic_size() -> None:
    with pytest.raises(ShapeError, match="height 11 is larger"):
        last("[{crop: {size: 11}}]")
    # U-Net's first skip: 64×568×568 cropped to the 392×392 of its decoder partner (Ronneberger et al. Fig. 1)
    assert last("[{crop: {size: 392}}]", "[64, 568, 568]").layer.output == (64, 392, 392)
    # the size as an expression of the current tensor: H − 8
    assert last("[{crop: {size: H - 8}}]", "[3, 64, 64]").layer.output == (3, 56, 56)


def test_stochastic_depth_probability_checked() -> None:
    with pytest.raises(SpecError, match="probability"):
        last("[{stochastic_depth: {p: 1.5}}]")


# ---------------------------------------------------------------- receptive field
def test_crop_keeps_the_field_size_and_moves_its_centre() -> None:
    """Crop is a window of stride 1: field size and jump unchanged; the first output's centre moves
    by the offset. After a 3×3 conv (pad 1: field 3, centre 0), crop 10 → 6 has offset
    round(4/2) = 2: centre 0 + 2 = 2. The global mean then sees 3 + (6 − 1)·1 = 8 pixels."""
    a = net("[{conv: {c: 2, k: 3, p: 1}}, {crop: {size: 6}}, mean]")
    rf = {r.layer.name: r.layer.rf for r in a.rows}
    assert rf["crop1"].size == (3, 3) and rf["crop1"].jump == (1, 1) and rf["crop1"].start == (2, 2)
    assert rf["mean1"].size == (8, 8)


def test_crop_offset_rounds_half_to_even_as_torchvision() -> None:
    # (9 − 6)/2 = 1.5 → round → 2; (9 − 4)/2 = 2.5 → 2 (Python's round, halves to even)
    assert [r.layer.attrs["top"] for r in net("[{crop: {size: [6, 4]}}]", "[1, 9, 9]").rows] == [2]
    assert [r.layer.attrs["left"] for r in net("[{crop: {size: [6, 4]}}]", "[1, 9, 9]").rows] == [2]


# ---------------------------------------------------------------- memory
def test_slices_and_stochastic_depth_are_views() -> None:
    m = memory(net("[{split: {chunks: 2, index: 0}}, {crop: {size: 4}}, {stochastic_depth: {}}, hardsigmoid, mean]"))
    kinds = {la.name: (la.reuse, la.new_bytes) for la in m.layers}
    assert kinds["split1"] == ("view", 0) and kinds["crop1"] == ("view", 0)
    assert kinds["stochastic_depth1"] == ("view", 0)
    assert kinds["hardsigmoid1"] == ("", 4 * 4 * 4 * 4)   # a new 4×4×4 float32 tensor (nn.Hardsigmoid() is not in-place)
    assert kinds["mean1"] == ("", 4 * 4)


# ---------------------------------------------------------------- kernels
def test_hardsigmoid_values() -> None:
    # relu6(x + 3)/6: −4 → 0, −3 → 0, 0 → 0.5, 1.5 → 0.75, 3 → 1, 10 → 1
    x = np.array([-4, -3, 0, 1.5, 3, 10], np.float32)
    np.testing.assert_array_equal(K.hardsigmoid(x), [0, 0, 0.5, 0.75, 1, 1])


def test_mean_range_crop_values() -> None:
    x = np.arange(2 * 4 * 3 * 3, dtype=np.float32).reshape(2, 4, 3, 3)
    # channel c of sample n holds 36n + 9c … 36n + 9c + 8: mean 36n + 9c + 4
    np.testing.assert_array_equal(K.spatial_mean(x), [[4, 13, 22, 31], [40, 49, 58, 67]])
    assert K.spatial_mean(x, keepdim=True).shape == (2, 4, 1, 1)
    np.testing.assert_array_equal(K.channel_range(x, 1, 3), x[:, 1:3])
    # 3×3 → 1×1 centre crop keeps the middle pixel (offset round(1.0) = 1): 9c + 4
    np.testing.assert_array_equal(K.center_crop(x, 1)[0, :, 0, 0], [4, 13, 22, 31])
    with pytest.raises(ValueError):
        K.channel_range(x, 3, 5)


def test_forward_pass_of_a_shufflenet_unit() -> None:
    """chunk → branch → concat → shuffle: with an identity branch the unit is a pure permutation:
    channels [x0, x1 | x2, x3] → concat [x0, x1, x2, x3] → shuffle(2): [x0, x2, x1, x3]."""
    spec = loads("archcalc: 1\nname: t\ninput: [4, 2, 2]\nbody:\n"
                 "  - concat: [[{split: {chunks: 2, index: 0}}], [{split: {chunks: 2, index: 1}}, stochastic_depth]]\n"
                 "  - channel_shuffle: {groups: 2}\n")
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 2, 2)
    out = numeric.forward(build(spec), x).output
    np.testing.assert_array_equal(out, x[:, [0, 2, 1, 3]])


# ---------------------------------------------------------------- messages that point at the idiom
@pytest.mark.parametrize("word, suggestion", [("linear", "fc"), ("dense", "fc"), ("batchnorm2d", "bn"),
                                              ("silu", "swish"), ("chunk", "split"), ("drop_path", "stochastic_depth")])
def test_other_frameworks_names_point_at_ours(word: str, suggestion: str) -> None:
    with pytest.raises(SpecError, match=f"archcalc calls it `{suggestion}`"):
        net(f"[flatten, {{{word}: {{}}}}]")


def test_every_alias_whose_op_exists_is_pointed_at() -> None:
    from archcalc.ops import REGISTRY
    from archcalc.spec import OP_ALIASES

    live = {word: op for word, op in OP_ALIASES.items() if op in REGISTRY}
    assert len(live) >= 30
    for word, op in live.items():
        with pytest.raises(SpecError, match=f"archcalc calls it `{op}`"):
            net(f"[{{{word}: {{}}}}]")


def test_unquoted_word_in_a_table_row_says_to_quote_it() -> None:
    spec = ("archcalc: 1\nname: t\ninput: [3, 8, 8]\nbody:\n  - table:\n      columns: [c, act]\n"
            "      rows: [[4, HS]]\n      body: [{conv: {c: c, k: 1}}]\n")
    with pytest.raises(SpecError, match="quoted inside the string: \"'HS'\""):
        analyze(loads(spec))
    quoted = spec.replace("[4, HS]", "[4, \"'HS'\"]").replace("body: [{conv: {c: c, k: 1}}]",
                                                             "body: [{conv: {c: c, k: 1}}, {hardswish: {}, when: \"act == 'HS'\"}]")
    assert [r.layer.op for r in analyze(loads(quoted)).rows] == ["conv", "hardswish"]


def test_a_preset_may_name_a_choice_bare() -> None:
    spec = ("archcalc: 1\nname: t\nvars: {arch: {default: a, choices: [a, b]}}\npresets: {tb: {arch: b}}\n"
            "input: [3, 8, 8]\nbody: [{relu: {}, when: \"arch == 'b'\"}]\n")
    assert [r.layer.op for r in analyze(loads(spec), preset="tb").rows] == ["relu"]
    assert analyze(loads(spec)).rows == ()
