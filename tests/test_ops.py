"""Every op's shape, parameter and MAC rule, on one-layer specs.

Expected values are hand formulas written next to the assertions: output sizes from
floor((N + 2P − F)/S) + 1 and the relations of Dumoulin & Visin, "A guide to convolution
arithmetic for deep learning" (arXiv 1603.07285), params K·K·(C_in/g)·C_out + C_out, MACs
params-without-bias × output positions, pooling as PyTorch's `pooling_shape.h`.
"""
from __future__ import annotations

from typing import Any

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import ShapeError, SpecError
from archcalc.spec import loads


def net(body: str, input: str = "[3, 32, 32]", top: str = "") -> Analysis:
    """Analyse a spec whose body is the YAML flow list `body`."""
    return analyze(loads(f"archcalc: 1\nname: t\ninput: {input}\n{top}body: {body}\n"))


def layer(body: str, input: str = "[3, 32, 32]", top: str = "", index: int = -1) -> Any:
    return net(body, input, top).rows[index]


def shape_params_macs(body: str, input: str = "[3, 32, 32]", top: str = "") -> tuple[tuple[Any, ...], Any, Any]:
    r = layer(body, input, top)
    return r.layer.output, r.params, r.macs


# ---------------------------------------------------------------- conv
def test_conv_basic() -> None:
    # (32 − 3)/1 + 1 = 30
    assert shape_params_macs("[{conv: {c: 16, k: 3}}]") == ((16, 30, 30), 3*3*3*16 + 16, 3*3*3*16 * 30*30)


def test_conv_stride_and_padding() -> None:
    # (32 + 2·1 − 4)/2 + 1 = 16
    assert shape_params_macs("[{conv: {c: 8, k: 4, s: 2, p: 1}}]") == ((8, 16, 16), 4*4*3*8 + 8, 4*4*3*8 * 16*16)
    # AlexNet conv1 (seed 001): (227 − 11)/4 + 1 = 55, (11x11x3)x96 + 96 = 34,944
    assert shape_params_macs("[{conv: {c: 96, k: 11, s: 4}}]", "[3, 227, 227]") == \
        ((96, 55, 55), 11*11*3*96 + 96, 11*11*3*96 * 55*55)


def test_conv_rectangular_kernel_stride_padding() -> None:
    # H: (20 + 2·2 − 5)/1 + 1 = 20 ; W: (30 + 2·0 − 1)/2 + 1 = 15.5 → not integer; use W = 31: (31 − 1)/2 + 1 = 16
    out, params, macs = shape_params_macs("[{conv: {c: 4, k: [5, 1], s: [1, 2], p: [2, 0]}}]", "[2, 20, 31]")
    assert out == (4, 20, 16)
    assert params == 5*1*2*4 + 4
    assert macs == 5*1*2*4 * 20*16


def test_conv_asymmetric_padding_tblr() -> None:
    # p = [top, bottom, left, right] = [0, 1, 2, 3]: H (10 + 0 + 1 − 3)/1 + 1 = 9, W (10 + 2 + 3 − 3)/1 + 1 = 13
    r = layer("[{conv: {c: 2, k: 3, p: [0, 1, 2, 3]}}]", "[1, 10, 10]")
    assert r.layer.output == (2, 9, 13)
    assert r.layer.attrs["pad"] == (0, 1, 2, 3)
    # TF 'same' with stride 2 on an even size pads (0, 1): (8 + 0 + 1 − 3)/2 + 1 = 4
    r = layer("[{conv: {c: 2, k: 3, s: 2, p: [0, 1, 0, 1]}}]", "[1, 8, 8]")
    assert r.layer.output == (2, 4, 4)


def test_conv_hw_padding_pair() -> None:
    # p = [h, w] = [1, 2]: H (10 + 2 − 3) + 1 = 10, W (10 + 4 − 3) + 1 = 12
    assert layer("[{conv: {c: 1, k: 3, p: [1, 2]}}]", "[1, 10, 10]").layer.output == (1, 10, 12)


@pytest.mark.parametrize("n, k, s, out, before, after", [
    # TensorFlow 'same': out = ceil(N/S); total = max((out − 1)·S + K − N, 0), extra pixel after
    (7, 3, 2, 4, 1, 1),      # total = 3·2 + 3 − 7 = 2
    (8, 3, 2, 4, 0, 1),      # total = 3·2 + 3 − 8 = 1
    (14, 5, 1, 14, 2, 2),    # total = 13 + 5 − 14 = 4
    (224, 7, 2, 112, 2, 3),  # total = 111·2 + 7 − 224 = 5
    (5, 1, 2, 3, 0, 0),      # total = max(2·2 + 1 − 5, 0) = 0
    (56, 1, 2, 28, 0, 0),    # 1×1 stride-2 projection: total = max(27·2 + 1 − 56, 0) = 0, still ceil(56/2)
    (6, 1, 4, 2, 0, 0),      # total = max(1·4 + 1 − 6, 0) = 0: ceil(6/4) = 2
])
def test_conv_same(n: int, k: int, s: int, out: int, before: int, after: int) -> None:
    r = layer(f"[{{conv: {{c: 1, k: {k}, s: {s}, p: same}}}}]", f"[1, {n}, {n}]")
    assert r.layer.output == (1, out, out)
    assert r.layer.attrs["pad"] == (before, after, before, after)


def test_conv_valid() -> None:
    # valid = no padding: (10 − 3)/1 + 1 = 8
    assert layer("[{conv: {c: 1, k: 3, p: valid}}]", "[1, 10, 10]").layer.output == (1, 8, 8)
    # (10 − 3)/2 + 1 = 4.5: exact mode refuses; Keras 'valid' floors to 4
    with pytest.raises(ShapeError, match=r"\(10 \+ 2·0 − 3\)/2 \+ 1 = 9/2"):
        layer("[{conv: {c: 1, k: 3, s: 2, p: valid}}]", "[1, 10, 10]")
    assert layer("[{conv: {c: 1, k: 3, s: 2, p: valid, round: floor}}]", "[1, 10, 10]").layer.output == (1, 4, 4)
    assert layer("[{conv: {c: 1, k: 3, s: 2, p: valid, round: ceil}}]", "[1, 10, 10]").layer.output == (1, 5, 5)


def test_spec_level_round_floor() -> None:
    # torchvision conv1 of ResNet: 7×7/2 pad 3 on 224: floor((224 + 6 − 7)/2) + 1 = floor(111.5) + 1 = 112
    r = layer("[{conv: {c: 64, k: 7, s: 2, p: 3, bias: false}}]", "[3, 224, 224]", top="round: floor\n")
    assert r.layer.output == (64, 112, 112)
    assert r.params == 7*7*3*64


def test_conv_dilation() -> None:
    # Dumoulin & Visin relation 15: o = floor((i + 2p − k − (k − 1)(d − 1))/s) + 1 = (10 − 3 − 2) + 1 = 6
    out, params, macs = shape_params_macs("[{conv: {c: 4, k: 3, d: 2}}]", "[2, 10, 10]")
    assert out == (4, 6, 6)
    assert params == 3*3*2*4 + 4          # dilation adds no weights
    assert macs == 3*3*2*4 * 6*6
    # dilation 2 with padding 2 keeps the size: (10 + 4 − 5) + 1 = 10
    assert layer("[{conv: {c: 4, k: 3, d: 2, p: 2}}]", "[2, 10, 10]").layer.output == (4, 10, 10)


def test_conv_groups() -> None:
    # 8 → 16 in 4 groups: 3·3·(8/4)·16 + 16
    assert shape_params_macs("[{conv: {c: 16, k: 3, p: 1, groups: 4}}]", "[8, 5, 5]") == \
        ((16, 5, 5), 3*3*(8//4)*16 + 16, 3*3*(8//4)*16 * 5*5)


def test_conv_bias_off() -> None:
    assert shape_params_macs("[{conv: {c: 16, k: 3, bias: false}}]") == ((16, 30, 30), 3*3*3*16, 3*3*3*16 * 30*30)


def test_conv_1x1() -> None:
    # seed 000: pointwise 1×1×3 → 128 on 5×5: 128·3·5·5 = 9,600 multiplications
    assert shape_params_macs("[{conv: {c: 128, k: 1, bias: false}}]", "[3, 5, 5]") == ((128, 5, 5), 3*128, 9_600)


# ---------------------------------------------------------------- depthwise
def test_dwconv_depthwise_separable_seed_000() -> None:
    # seed 000 lines 626-644: 3×3 depthwise on 7×7×3 → 5×5×3 costs 3·3·3·5·5 = 675 multiplications,
    # pointwise 128·3·5·5 = 9,600, a standard 3×3 conv 128·3·3·3·5·5 = 86,400
    a = net("[{dwconv: {k: 3, bias: false}}, {conv: {c: 128, k: 1, bias: false}}]", "[3, 7, 7]")
    dw, pw = a.rows
    assert dw.layer.output == (3, 5, 5) and dw.macs == 675 and dw.layer.kind == "conv"
    assert pw.layer.output == (128, 5, 5) and pw.macs == 9_600
    assert layer("[{conv: {c: 128, k: 3, bias: false}}]", "[3, 7, 7]").macs == 86_400


def test_dwconv_params_and_multiplier() -> None:
    # groups = C_in = 8: 3·3·1·8 + 8
    assert shape_params_macs("[{dwconv: {k: 3, p: 1}}]", "[8, 5, 5]") == ((8, 5, 5), 3*3*1*8 + 8, 3*3*1*8 * 5*5)
    # multiplier 2: C_out = 16, weights 3·3·1·16
    assert shape_params_macs("[{dwconv: {k: 3, p: 1, m: 2}}]", "[8, 5, 5]") == ((16, 5, 5), 3*3*1*16 + 16, 3*3*16 * 5*5)
    # stride 2 with 'same': ceil(9/2) = 5
    assert layer("[{dwconv: {k: 3, s: 2, p: same}}]", "[8, 9, 9]").layer.output == (8, 5, 5)


# ---------------------------------------------------------------- transposed
@pytest.mark.parametrize("i, k, s, p, a, out", [
    # Dumoulin & Visin relation 8 (Fig. 4.1): k=3, s=1, p=0: o' = i' + (k − 1); i'=2 → 4
    (2, 3, 1, 0, 0, 4),
    # relation 13/14: o' = s(i' − 1) + a + k − 2p
    (3, 3, 2, 1, 0, 5),      # Fig. 4.5: transpose of 5×5, k=3, s=2, p=1 → 2·2 + 3 − 2 = 5
    (3, 3, 2, 1, 1, 6),      # Fig. 4.6: transpose of 6×6, same kernel, a = 1 → 6
    (5, 3, 2, 1, 0, 9),      # 2·4 + 3 − 2 = 9
    (7, 4, 2, 1, 0, 14),     # DCGAN-style doubling: 2·6 + 4 − 2 = 14
])
def test_conv_transpose_sizes(i: int, k: int, s: int, p: int, a: int, out: int) -> None:
    r = layer(f"[{{conv_transpose: {{c: 2, k: {k}, s: {s}, p: {p}, output_padding: {a}}}}}]", f"[4, {i}, {i}]")
    assert r.layer.output == (2, out, out)
    # PyTorch ConvTranspose2d weight is (C_in, C_out/g, k, k): params k·k·C_in·C_out + C_out
    assert r.params == k*k*4*2 + 2
    # every input position scatters k·k·C_out products per input channel
    assert r.macs == k*k*4*2 * i*i
    assert r.layer.kind == "conv_transpose"


def test_conv_transpose_groups_dilation_and_errors() -> None:
    # dilation 2: (4 − 1)·1 − 0 + 2·(3 − 1) + 1 = 8
    r = layer("[{conv_transpose: {c: 4, k: 3, d: 2, groups: 2}}]", "[4, 4, 4]")
    assert r.layer.output == (4, 8, 8)
    assert r.params == 3*3*4*(4//2) + 4
    with pytest.raises(ShapeError, match="output_padding"):
        layer("[{conv_transpose: {c: 2, k: 3, s: 2, output_padding: 2}}]", "[4, 4, 4]")


# ---------------------------------------------------------------- pooling
def test_maxpool_and_default_stride() -> None:
    # AlexNet pool1 (seed 001): (55 − 3)/2 + 1 = 27
    r = layer("[{maxpool: {k: 3, s: 2}}]", "[96, 55, 55]")
    assert (r.layer.output, r.params, r.macs) == ((96, 27, 27), 0, 0)
    # stride defaults to the window (PyTorch, Keras): k=2 → (224 − 2)/2 + 1 = 112
    assert layer("[{maxpool: {k: 2}}]", "[64, 224, 224]").layer.output == (64, 112, 112)
    assert layer("[{avgpool: {k: 4}}]", "[8, 16, 16]").layer.output == (8, 4, 4)


@pytest.mark.parametrize("op", ["maxpool", "avgpool"])
@pytest.mark.parametrize("n, k, s, p, out", [
    # PyTorch ceil_mode: out = ceil((N + 2P − K)/S) + 1, minus one if (out − 1)·S ≥ N + P
    (112, 3, 2, 0, 56),    # GoogLeNet pool: ceil(109/2) + 1 = 56
    (111, 3, 2, 0, 55),    # SqueezeNet pool: (111 − 3)/2 + 1 = 55 exactly
    (5, 2, 2, 1, 3),       # ceil(5/2) + 1 = 4, but (4 − 1)·2 = 6 ≥ 5 + 1: last window only sees padding → 3
    (6, 2, 2, 1, 4),       # ceil(6/2) + 1 = 4, (4 − 1)·2 = 6 < 7: kept
    (13, 3, 2, 0, 6),      # integer case unchanged: 10/2 + 1 = 6
])
def test_pool_ceil_mode(op: str, n: int, k: int, s: int, p: int, out: int) -> None:
    r = layer(f"[{{{op}: {{k: {k}, s: {s}, p: {p}, ceil_mode: true}}}}]", f"[1, {n}, {n}]")
    assert r.layer.output == (1, out, out)


def test_pool_without_ceil_mode_is_exact() -> None:
    # (112 − 3)/2 + 1 = 55.5: error in exact mode, 55 with round: floor (PyTorch default)
    with pytest.raises(ShapeError, match="109/2|111/2"):
        layer("[{maxpool: {k: 3, s: 2}}]", "[1, 112, 112]")
    assert layer("[{maxpool: {k: 3, s: 2, round: floor}}]", "[1, 112, 112]").layer.output == (1, 55, 55)


def test_pool_padding_more_than_half_window() -> None:
    with pytest.raises(ShapeError, match="half"):
        layer("[{maxpool: {k: 2, s: 1, p: 2}}]", "[1, 8, 8]")


def test_gap_and_adaptive() -> None:
    r = layer("[gap]", "[512, 7, 7]")
    assert (r.layer.output, r.params, r.macs, r.layer.kind) == ((512, 1, 1), 0, 0, "gap")
    assert layer("[{adaptive_avgpool: {out: 6}}]", "[256, 13, 13]").layer.output == (256, 6, 6)
    assert layer("[{adaptive_avgpool: {out: [2, 3]}}]", "[4, 9, 9]").layer.output == (4, 2, 3)


# ---------------------------------------------------------------- dense and norm
def test_flatten_and_fc() -> None:
    a = net("[flatten, {fc: {c: 4096}}]", "[256, 6, 6]")
    flat, fc = a.rows
    assert flat.layer.output == (256*6*6,) and flat.params == 0
    # AlexNet FC6 (seed 001): (6x6x256)x4096 + 4096 = 37,752,832
    assert (fc.layer.output, fc.params, fc.macs) == ((4096,), 6*6*256*4096 + 4096, 6*6*256*4096)
    assert fc.params == 37_752_832
    assert layer("[{fc: {c: 10, bias: false}}]", "[84]").params == 84*10


def test_fc_needs_flat_input() -> None:
    with pytest.raises(ShapeError, match="flatten"):
        layer("[{fc: {c: 10}}]", "[4, 2, 2]")


def test_bn_trainable_and_buffers() -> None:
    a = net("[{conv: {c: 64, k: 3, p: 1, bias: false}}, bn]", "[3, 8, 8]")
    bn = a.rows[1]
    # γ, β trainable: 2·64; running mean and variance: 2·64 buffers, not params (PyTorch)
    assert bn.layer.output == (64, 8, 8)
    assert bn.params == 2*64 and bn.layer.buffers == 2*64 and bn.macs == 0
    assert a.totals.params == 3*3*3*64 + 2*64
    assert a.totals.trainable_params == 3*3*3*64 + 2*64
    assert a.totals.non_trainable_params == 0
    assert a.totals.buffers == 2*64
    # affine: false keeps only the running statistics
    assert layer("[{bn: {affine: false}}]", "[16, 4, 4]").params == 0


def test_lrn_activations_dropout_have_no_params() -> None:
    body = "[{lrn: {size: 5, alpha: 0.0001, beta: 0.75, k: 2}}, relu, relu6, sigmoid, swish, hardswish, tanh, softmax, identity, {dropout: {p: 0.5}}]"
    a = net(body, "[96, 27, 27]")
    assert [r.layer.op for r in a.rows] == ["lrn", "relu", "relu6", "sigmoid", "swish", "hardswish", "tanh",
                                            "softmax", "identity", "dropout"]
    for r in a.rows:
        assert r.layer.output == (96, 27, 27)
        assert r.params == 0 and r.macs == 0
        assert r.activations == 96*27*27


def test_dropout_probability_checked() -> None:
    with pytest.raises(SpecError, match="probability"):
        layer("[{dropout: {p: 1}}]", "[4]")


def test_select() -> None:
    r = layer("[{select: {channels: [0, 2, 5]}}]", "[6, 14, 14]")
    assert (r.layer.output, r.params) == ((3, 14, 14), 0)
    with pytest.raises(ShapeError, match="channel 6"):
        layer("[{select: {channels: [0, 6]}}]", "[6, 14, 14]")


def test_channel_shuffle() -> None:
    r = layer("[{channel_shuffle: {groups: 3}}]", "[12, 4, 4]")
    assert (r.layer.output, r.params) == ((12, 4, 4), 0)
    with pytest.raises(ShapeError, match="groups=3"):
        layer("[{channel_shuffle: {groups: 3}}]", "[8, 4, 4]")


# ---------------------------------------------------------------- joins
def test_concat_sums_channels() -> None:
    a = net("[{concat: [[{conv: {c: 8, k: 1}}], [{conv: {c: 4, k: 3, p: 1}}], []]}]", "[16, 7, 7]")
    join = a.rows[-1]
    assert join.layer.op == "concat" and join.layer.output == (8 + 4 + 16, 7, 7)
    assert len(join.layer.inputs) == 3 and join.layer.inputs[2] == "input"


def test_concat_spatial_mismatch() -> None:
    with pytest.raises(ShapeError, match=r"concat: branch 1 gives 4×5×5 but branch 0 gives 8×7×7"):
        net("[{concat: [[{conv: {c: 8, k: 1}}], [{conv: {c: 4, k: 3}}]]}]", "[16, 7, 7]")


def test_add_identity_and_mismatch() -> None:
    a = net("[{add: [[{conv: {c: 16, k: 3, p: 1}}], []]}]", "[16, 7, 7]")
    assert a.rows[-1].layer.output == (16, 7, 7) and a.rows[-1].params == 0
    with pytest.raises(ShapeError, match=r"add: branch 1 gives 16×7×7 but branch 0 gives 32×7×7"):
        net("[{add: [[{conv: {c: 32, k: 1}}], []]}]", "[16, 7, 7]")


def test_mul_broadcasts_squeeze_excitation() -> None:
    # SE on 64 channels, reduction 4: squeeze 64·16 + 16, excite 16·64 + 64 (1×1 convs with bias)
    a = net("[{mul: [[], [gap, {conv: {c: 16, k: 1}}, relu, {conv: {c: 64, k: 1}}, sigmoid]]}]", "[64, 7, 7]")
    assert a.rows[-1].layer.output == (64, 7, 7)
    assert a.totals.params == 64*16 + 16 + 16*64 + 64
    assert a.totals.macs == 64*16 + 16*64
    with pytest.raises(ShapeError, match="does not broadcast"):
        net("[{mul: [[], [gap, {conv: {c: 32, k: 1}}]]}]", "[64, 7, 7]")


def test_mul_broadcasts_symbolic_sizes() -> None:
    import sympy

    H = sympy.Symbol("H", positive=True, integer=True)
    spec = loads("archcalc: 1\nname: t\ninput: [64, 7, 7]\nbody: [{mul: [[], [gap, {conv: {c: 64, k: 1}}, sigmoid]]}]\n")
    a = analyze(spec, input=(H,))
    assert a.rows[-1].layer.output == (64, H, H)
    assert a.totals.params == 64*64 + 64


# ---------------------------------------------------------------- shape errors
def test_kernel_larger_than_input() -> None:
    with pytest.raises(ShapeError, match="larger than the padded input"):
        layer("[{conv: {c: 1, k: 5}}]", "[1, 3, 3]")


def test_groups_must_divide_channels() -> None:
    with pytest.raises(ShapeError, match="groups=3 does not divide the 8 input channels"):
        layer("[{conv: {c: 9, k: 1, groups: 3}}]", "[8, 4, 4]")
    with pytest.raises(ShapeError, match="groups=2 does not divide the 9 output channels"):
        layer("[{conv: {c: 9, k: 1, groups: 2}}]", "[8, 4, 4]")


def test_non_integer_output_names_layer_and_formula() -> None:
    # the slides' example: (7 − 3)/3 + 1 = 2.33
    with pytest.raises(ShapeError) as e:
        net("[{conv: {c: 1, k: 3, s: 3}, name: conv_a}]", "[1, 7, 7]")
    msg = str(e.value)
    assert "conv_a" in msg and "(7 + 2·0 − 3)/3 + 1 = 7/3 ≈ 2.333" in msg


def test_activations_and_rf() -> None:
    # two 3×3 convs see 5×5, three see 7×7 (VGG paper Sec. 2.3)
    a = net("[{conv: {c: 1, k: 3, p: 1}}, {conv: {c: 1, k: 3, p: 1}}, {conv: {c: 1, k: 3, p: 1}}]", "[1, 9, 9]")
    assert [r.layer.rf.size[0] for r in a.rows] == [3, 5, 7]
    assert [r.activations for r in a.rows] == [81, 81, 81]
