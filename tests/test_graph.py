"""Spec expansion: blocks, repeat (vars, first/rest, index), tables, if/when, joins, naming,
input overrides, symbolic sizes and limits. Expected values are derived by hand next to each test."""
from __future__ import annotations

from pathlib import Path

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import SpecError
from archcalc.graph import Limits
from archcalc.spec import loads

DATA = Path(__file__).parent / "data"


def net(body: str, input: str = "[8, 16, 16]", top: str = "", **kw: object) -> Analysis:
    return analyze(loads(f"archcalc: 1\nname: t\ninput: {input}\n{top}body:\n{body}"), **kw)  # type: ignore[arg-type]


def outputs(a: Analysis, op: str | None = None) -> list[tuple[object, ...]]:
    return [r.layer.output for r in a.rows if op is None or r.layer.op == op]


def test_repeat_index_first_rest_vars() -> None:
    a = net("  - repeat: {n: 3, vars: {s: 1}, first: {s: 2}, body: [{conv: {c: \"8*(i + 1)\", k: 3, s: s, p: same}}]}\n")
    # first repeat stride 2: ceil(16/2) = 8; then stride 1; channels 8·(i + 1)
    assert outputs(a) == [(8, 8, 8), (16, 8, 8), (24, 8, 8)]
    a = net("  - repeat: {n: 3, index: j, rest: {c: 4}, first: {c: 2}, body: [{conv: {c: \"c + j\", k: 1}}]}\n")
    assert [o[0] for o in outputs(a)] == [2 + 0, 4 + 1, 4 + 2]


def test_repeat_zero_times_is_identity() -> None:
    a = net("  - repeat: {n: 0, body: [{conv: {c: 3, k: 1}}]}\n  - relu\n")
    assert outputs(a) == [(8, 16, 16)]


def test_stage_table() -> None:
    # MobileNetV2-style rows t, c, n, s: stride only on the first repeat of a stage
    body = ("  - table:\n      columns: [t, c, n, s]\n      repeat: n\n      rest: {s: 1}\n"
            "      rows:\n        - [1, 16, 1, 1]\n        - [6, 24, 2, 2]\n        - [6, 32, 3, 2]\n"
            "      body: [{conv: {c: \"c\", k: 3, s: s, p: same}}]\n")
    a = net(body, "[8, 16, 16]")
    assert outputs(a) == [(16, 16, 16), (24, 8, 8), (24, 8, 8), (32, 4, 4), (32, 4, 4), (32, 4, 4)]


def test_if_and_when_with_vars_and_overrides() -> None:
    top = "vars:\n  depth: {default: shallow, choices: [shallow, deep]}\n  width: 4\n"
    body = ("  - if: \"depth == 'deep'\"\n    then: [{conv: {c: width, k: 1}}, {conv: {c: width, k: 1}}]\n"
            "    else: [{conv: {c: width, k: 1}}]\n  - {relu: null, when: \"width > 4\"}\n")
    assert outputs(net(body, top=top)) == [(4, 16, 16)]
    a = net(body, top=top, vars={"depth": "deep", "width": 6})
    assert outputs(a) == [(6, 16, 16), (6, 16, 16), (6, 16, 16)]


def test_when_sees_the_current_tensor() -> None:
    # a projection only when the channel count changes
    body = "  - {conv: {c: 8, k: 1}, when: \"C != 8\"}\n  - {conv: {c: 16, k: 1}}\n  - {conv: {c: 8, k: 1}, when: \"C != 8\"}\n"
    assert outputs(net(body)) == [(16, 16, 16), (8, 16, 16)]


def test_block_defaults_can_use_tensor_and_other_params() -> None:
    top = "blocks:\n  widen:\n    params: {f: 2, c: \"C*f\"}\n    body: [{conv: {c: c, k: 1}}]\n"
    a = net("  - widen: {}\n  - widen: {f: 3}\n  - widen: {c: 5}\n", top=top)
    assert [o[0] for o in outputs(a)] == [8*2, 16*3, 5]


def test_nested_block_naming() -> None:
    top = ("blocks:\n  inner: {body: [{conv: {c: 4, k: 1}}, relu]}\n"
           "  outer: {body: [inner, inner]}\n")
    a = net("  - outer\n  - {outer: {}, name: second}\n", top=top)
    assert [r.layer.name for r in a.rows] == [
        "outer1.inner1.conv1", "outer1.inner1.relu1", "outer1.inner2.conv1", "outer1.inner2.relu1",
        "second.inner1.conv1", "second.inner1.relu1", "second.inner2.conv1", "second.inner2.relu1"]
    assert a.rows[4].layer.scope == ("second", "inner1")


def test_duplicate_names_made_unique() -> None:
    a = net("  - {conv: {c: 4, k: 1}, name: x}\n  - {conv: {c: 4, k: 1}, name: x}\n")
    assert [r.layer.name for r in a.rows] == ["x", "x_2"]
    assert a.rows[1].layer.inputs == ("x",)


def test_branched_spec_by_hand() -> None:
    a = analyze(str(DATA / "branched.yaml"))
    by = {r.layer.name: r for r in a.rows}
    # inception on 16×8×8: 1×1→8 | 1×1→4, 3×3→8 | pool, 1×1→4 → 8 + 8 + 4 = 20 channels
    assert by["inc.b1"].params == 16*8 + 8 and by["inc.b1"].macs == 16*8 * 64
    assert by["inc.b2_reduce"].params == 16*4 + 4
    assert by["inc.b2"].params == 3*3*4*8 + 8 and by["inc.b2"].macs == 3*3*4*8 * 64
    assert by["inc.b3"].layer.inputs == ("inc.b3_pool",)
    assert by["inc.out"].layer.inputs == ("inc.b1", "inc.b2", "inc.b3")
    assert by["inc.out"].layer.output == (8 + 8 + 4, 8, 8)
    # residual: conv (no bias) 3·3·20·20, bn 2·20 (+ 2·20 running stats), conv 3·3·20·20 + 20, add
    assert by["res.sum"].layer.inputs == ("res.conv_b", "inc.out")
    assert by["res.conv_a"].layer.inputs == ("inc.out",)
    params = (16*8 + 8) + (16*4 + 4) + (3*3*4*8 + 8) + (16*4 + 4) + 3*3*20*20 + 2*20 + (3*3*20*20 + 20) + (20*10 + 10)
    macs = (16*8 + 16*4 + 3*3*4*8 + 16*4) * 64 + 2 * 3*3*20*20 * 64 + 20*10
    assert a.totals.params == params == 8_038
    assert a.totals.macs == macs == 495_816
    assert a.totals.buffers == 2*20
    # activations: every leaf output; inception 8+4+8+16+4+20 maps, residual 5 + relu of 20 maps, then 20, 20, 10
    assert a.totals.activations == (8 + 4 + 8 + 16 + 4 + 20) * 64 + 6 * 20 * 64 + 20 + 20 + 10
    # receptive field: 1×1 then 3×3 → 3; conv_a, conv_b → 5, 7; gap over 8×8 with jump 1 → 7 + 7 = 14
    assert by["inc.out"].layer.rf.size == (3, 3) and by["res.sum"].layer.rf.size == (7, 7)
    assert a.totals.rf == 14


def test_input_override() -> None:
    # VGG-16 at 32×32: sizes 32, 16, 8, 4, 2 → 1×1×512 before the classifier
    a = analyze("vgg16", input=(32,))
    assert outputs(a, "maxpool")[-1] == (512, 1, 1)
    assert outputs(a, "fc")[0] == (4096,) and a.rows[-1].layer.output == (1000,)
    assert analyze("vgg16", input=(64, 32)).rows[0].layer.output == (64, 64, 32)
    with pytest.raises(SpecError, match="--input gives 4 sizes"):
        analyze("vgg16", input=(1, 2, 3, 4))


def test_symbolic_input_vgg16() -> None:
    import sympy

    H = sympy.Symbol("H", positive=True, integer=True)
    t = analyze("vgg16", input=(H,)).totals
    # conv MACs at stage k are 9·C_in·C_out·(H/2^k)²; fc6 sees 512·(H/32)²
    conv_h2 = sympy.Rational(9) * (3*64 + 64*64
                                   + sympy.Rational(64*128 + 128*128, 4)
                                   + sympy.Rational(128*256 + 2*256*256, 16)
                                   + sympy.Rational(256*512 + 2*512*512, 64)
                                   + sympy.Rational(3*512*512, 256))
    macs = conv_h2 * H**2 + 512 * (H/32)**2 * 4096 + 4096*4096 + 4096*1000
    assert sympy.expand(t.macs - macs) == 0
    assert sympy.expand(macs) == 307_904*H**2 + 20_873_216
    assert macs.subs(H, 224) == 15_470_264_320
    params = 138_357_544 - 7*7*512*4096 + 512*(H/32)**2*4096
    assert sympy.expand(t.params - params) == 0


def test_layer_limit() -> None:
    with pytest.raises(SpecError, match="more than 10 layers"):
        net("  - repeat: {n: 2, body: [relu, relu, relu, relu, relu, relu]}\n", limits=Limits(max_layers=10))
    with pytest.raises(SpecError, match="exceeds the layer limit"):
        net("  - repeat: {n: 100000000000, body: [relu]}\n")


def test_block_depth_limit() -> None:
    blocks = "".join(f"  b{i}: {{body: [b{i+1}]}}\n" for i in range(80)) + "  b80: {body: [relu]}\n"
    with pytest.raises(SpecError, match="nest deeper"):
        net("  - b0\n", top="blocks:\n" + blocks)


def test_presets() -> None:
    # vgg11 is configuration A: 1, 1, 2, 2, 2 convs per stage
    a = analyze("vgg11")
    assert a.name == "vgg11" and len(outputs(a, "conv")) == 8
    assert a.network.vars["n3"] == 2
