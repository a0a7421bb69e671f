"""The NumPy forward pass over the layer graph (`archcalc.numeric`) and `archcalc verify`.

Two independent computations meet here: the symbolic shapes/params of `archcalc.ops` and the
arrays the NumPy kernels actually produce. Values that are not cross-checks are derived by hand
next to the assertion, or come from the seeds' worked examples (tests/test_kernels.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from archcalc import catalog, numeric, numeric_weights, verification
from archcalc import kernels as K
from archcalc.errors import UsageError
from archcalc.graph import Network, build
from archcalc.ops import REGISTRY
from archcalc.record import replace
from archcalc.spec import loads


def spec_net(body: str, input: str = "[4, 9, 9]", top: str = "") -> Network:
    return build(loads(f"archcalc: 1\nname: t\ninput: {input}\n{top}body: {body}\n"))


def assert_agrees(net: Network, **kw: Any) -> numeric.Result:
    r = numeric.forward(net, **kw)
    for la in net.layers:
        assert r.shapes[la.name] == tuple(la.output), la.name
        assert r.weight_sizes[la.name] == la.params + la.buffers, la.name
    assert r.output.shape[1:] == tuple(net.output)
    return r


# ---------------------------------------------------------------- every op, shapes and weight counts
OP_CASES = {
    # hand sizes on 4×9×9: conv (9 + 2·1 − 3)/2 + 1 = 5; dilated k_eff = 2·(3−1)+1 = 5 → 9 − 5 + 1 = 5
    "conv": "[{conv: {c: 6, k: 3, s: 2, p: 1}}]",
    "conv_dilated_grouped": "[{conv: {c: 6, k: 3, d: 2, groups: 2, bias: false}}]",
    "conv_same_stride": "[{conv: {c: 8, k: 4, s: 2, p: same}}]",            # ceil(9/2) = 5
    "conv_asymmetric_pad": "[{conv: {c: 2, k: [3, 1], p: [0, 2, 1, 0]}}]",   # (9+2−3)+1 = 9, (9+1−1)+1 = 10
    "dwconv": "[{dwconv: {k: 3, p: 1, m: 2}}]",                           # 8×9×9
    "conv_transpose": "[{conv_transpose: {c: 3, k: 3, s: 2, p: 1, output_padding: 1}}]",  # 8·2 − 2 + 2 + 1 + 1 = 18
    "maxpool_ceil": "[{maxpool: {k: 2, s: 2, ceil_mode: true}}]",           # ceil(7/2) + 1 = 5
    "maxpool_padded_dilated": "[{maxpool: {k: 3, s: 1, p: 1, d: 2, round: floor}}]",  # 9 + 2 − 5 + 1 = 7
    "avgpool": "[{avgpool: {k: 3, s: 2, p: 1, count_include_pad: false}}]",  # (9 + 2 − 3)/2 + 1 = 5
    "gap": "[gap]",
    "adaptive_avgpool": "[{adaptive_avgpool: {out: 4}}]",
    "flatten_fc": "[flatten, {fc: {c: 7}}, {fc: {c: 3, bias: false}}]",   # 324 → 7 → 3
    "bn": "[bn, {bn: {affine: false}}]",
    "lrn": "[{lrn: {size: 3}}]",
    "activations": "[relu, relu6, sigmoid, tanh, swish, hardswish, softmax, identity, {dropout: {p: 0.3}}]",
    "select": "[{select: {channels: [3, 0]}}]",
    "channel_shuffle": "[{channel_shuffle: {groups: 2}}]",
    "joins": "[{concat: [[], [{conv: {c: 2, k: 1}}]]}, {add: [[], [relu]]}, {mul: [[], [gap, sigmoid]]}]",
    "layernorm_gelu": "[layernorm, {layernorm: {affine: false}}, gelu, {gelu: {approximate: tanh}}]",
    # 8×9×9 → 81×8 tokens, class token → 82×8, position embedding, global attention, fc on tokens
    "tokens": "[tokens, {concat: [[{param: {shape: [1, C]}}], []]}, {add: [[], [{param: {shape: [N, C]}}]]}, "
              "{attention: {heads: 2}}, {fc: {c: 6}}, layernorm, {token: {index: 0}}]",
    # 9×9 in windows of 4 (padded to 12×12, shifted), a 3×3 grid, Swin V2's cpb; pointwise fc; 2×2 merge → 16×5×5
    "window_attention": "[{attention: {heads: 2, window: 4, shift: 2, rel_pos: table}}, "
                        "{attention: {head_dim: 4, window: 3, partition: grid, rel_pos: table, scale: features}}, "
                        "{attention: {heads: 2, window: 4, rel_pos: cpb, cpb_hidden: 16, cosine: true}}, "
                        "{fc: {c: 4, pointwise: true}}, patch_merge, {mul: [[], [{param: {shape: [C, 1, 1]}}]]}]",
    # chunk 1 of 2 = channels 2-3; range [0, 1); centre crop 6×5 of 9×9; x.mean([2, 3]) → 1 (keepdim 1×1×1)
    "slices_and_mean": "[{split: {chunks: 2, index: 1}}, {select: {start: 0, stop: 1}}, hardsigmoid, "
                       "{stochastic_depth: {p: 0.2}}, {crop: {size: [6, 5]}}, {mean: {keepdim: true}}, mean]",
}


@pytest.mark.parametrize("body", OP_CASES.values(), ids=OP_CASES.keys())
def test_every_op_matches_symbolic_shape_and_params(body: str) -> None:
    assert_agrees(spec_net(body), batch=2)


def test_every_registered_op_has_a_forward_and_is_covered() -> None:
    assert set(REGISTRY) <= set(numeric.FORWARD)
    used = {la.op for body in OP_CASES.values() for la in spec_net(body).layers}
    assert used == set(REGISTRY)


def test_flat_input_and_bn_after_fc() -> None:
    assert_agrees(spec_net("[{fc: {c: 5}}, bn, softmax]", input="[12]"))


# ---------------------------------------------------------------- values, not just shapes
def test_seed002_convolution_with_given_weights() -> None:
    # seed 002 "PHÉP TÍNH CONVOLUTION": 5×5 X, 3×3 W, stride 1, no padding; the slide prints
    # 90 and 43 for the two middle-row cells that are really 300 and 160 (see tests/test_kernels.py)
    x = np.array([[1, 9, 5, 12, 8], [18, 19, 14, 16, 7], [0, 20, 12, 11, 15],
                  [10, 22, 46, 39, 37], [25, 14, 21, 2, 5]], dtype=np.float32)[None, None]
    w = np.array([[1, 0, -1], [2, 1, 0], [-4, 3, 5]], dtype=np.float32)[None, None]
    net = spec_net("[{conv: {c: 1, k: 3, bias: false}, name: y}]", input="[1, 5, 5]")
    r = numeric.forward(net, x, weights={"y": {"weight": w}})
    np.testing.assert_array_equal(r.output[0, 0], [[171, 60, 101], [280, 300, 160], [77, 116, 75]])
    # a bare array means `weight`; a given bias is added to every cell
    net_b = spec_net("[{conv: {c: 1, k: 3}, name: y}]", input="[1, 5, 5]")
    rb = numeric.forward(net_b, x, weights={"y": {"weight": w, "bias": np.array([10], np.float32)}})
    np.testing.assert_array_equal(rb.output[0, 0], [[181, 70, 111], [290, 310, 170], [87, 126, 85]])


def test_pooling_values_follow_the_seed_examples() -> None:
    # seeds 000 and 003: 2×2/2 max pooling of this 4×4 gives 6 8 / 3 4, average 2.75 4.75 / 1.75 1.75
    x = np.array([[1, 0, 2, 3], [4, 6, 6, 8], [3, 1, 1, 0], [1, 2, 2, 4]], np.float32)[None, None]
    mx = numeric.forward(spec_net("[{maxpool: {k: 2}}]", input="[1, 4, 4]"), x).output
    av = numeric.forward(spec_net("[{avgpool: {k: 2}}]", input="[1, 4, 4]"), x).output
    np.testing.assert_array_equal(mx[0, 0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(av[0, 0], [[2.75, 4.75], [1.75, 1.75]])


def test_select_and_channel_shuffle_move_channels() -> None:
    x = np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1) * np.ones((1, 1, 2, 2), np.float32)
    sel = numeric.forward(spec_net("[{select: {channels: [3, 0]}}]", input="[4, 2, 2]"), x).output
    assert sel[0, :, 0, 0].tolist() == [3, 0]
    # ShuffleNet, groups 2 over channels 0 1 | 2 3 → 0 2 1 3
    sh = numeric.forward(spec_net("[{channel_shuffle: {groups: 2}}]", input="[4, 2, 2]"), x).output
    assert sh[0, :, 0, 0].tolist() == [0, 2, 1, 3]


RESIDUAL_CONCAT_SE = """
blocks:
  se:
    params: [r, c]
    body:
      - mul:
          - []
          - [gap, {conv: {c: r, k: 1}, name: squeeze}, relu, {conv: {c: c, k: 1}, name: excite}, {sigmoid: {}, name: gate}]
        name: scale
"""


def test_residual_concat_and_squeeze_excitation_network() -> None:
    body = ("[{conv: {c: 8, k: 3, p: 1}, name: stem}, "
            "{concat: [[{conv: {c: 4, k: 1}, name: a}], [{maxpool: {k: 3, s: 1, p: 1}, name: b}]], name: cat}, "
            "{add: [[{conv: {c: 12, k: 3, p: 1}, name: c3}, bn, {se: {r: 3, c: 12}, name: se}], []], name: sum}, "
            "relu, gap, flatten, {fc: {c: 5}, name: head}]")
    net = spec_net(body, input="[3, 10, 10]", top=RESIDUAL_CONCAT_SE)
    r = assert_agrees(net, batch=3, seed=7)
    o = r.outputs
    # concat: the 4 conv channels then the 8 pooled stem channels → 12×10×10
    np.testing.assert_array_equal(o["cat"], np.concatenate([o["a"], o["b"]], axis=1))
    assert o["cat"].shape == (3, 12, 10, 10)
    # SE: the block input times the per-channel gate (C×1×1 broadcast over C×H×W)
    se_in = o[net.layers[[la.name for la in net.layers].index("se.scale")].inputs[0]]
    assert o["se.gate"].shape == (3, 12, 1, 1)
    np.testing.assert_allclose(o["se.scale"], se_in * o["se.gate"], rtol=1e-6)
    # residual: the branch output plus the block input (the concat)
    np.testing.assert_allclose(o["sum"], o["se.scale"] + o["cat"], rtol=1e-6)
    assert r.output.shape == (3, 5)


# ---------------------------------------------------------------- seeds, memory, weights
def test_determinism_by_seed_and_keep_false_gives_the_same_output() -> None:
    net = spec_net("[{conv: {c: 6, k: 3}}, bn, relu, {add: [[], [{dwconv: {k: 3, p: 1}}]]}, gap, flatten, {fc: {c: 4}}]")
    a, b = numeric.forward(net, seed=3), numeric.forward(net, seed=3)
    np.testing.assert_array_equal(a.output, b.output)
    assert not np.array_equal(a.output, numeric.forward(net, seed=4).output)
    lean = numeric.forward(net, seed=3, keep=False)
    np.testing.assert_array_equal(lean.output, a.output)
    assert lean.outputs == {} and lean.weights == {} and lean.shapes == a.shapes
    assert set(a.outputs) == {la.name for la in net.layers}


def test_seeded_weights_are_he_scaled_and_reusable() -> None:
    net = spec_net("[flatten, {fc: {c: 400}}]", input="[10, 10, 10]")
    w = numeric.make_weights(net, seed=1)
    fc = w["fc1"]["weight"]
    assert fc.shape == (400, 1000) and fc.dtype == np.float32
    assert abs(float(fc.std()) - np.sqrt(2 / 1000)) < 0.05 * np.sqrt(2 / 1000)  # He: std √(2/fan_in)
    np.testing.assert_array_equal(numeric.forward(net, weights=w, seed=1).output, numeric.forward(net, seed=1).output)


def test_tiled_fc_made_in_row_blocks_equals_the_whole_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    net = spec_net("[flatten, {fc: {c: 300}}, relu, {fc: {c: 7}}]", input="[5, 6, 6]")
    whole = numeric.forward(net, seed=2, init="tiled", keep=True)
    monkeypatch.setattr(numeric_weights, "CHUNK_BYTES", 4 * 180 * 11)  # 11 rows of 180 inputs per block
    blocks = numeric.forward(net, seed=2, init="tiled", keep=False)
    np.testing.assert_allclose(blocks.output, whole.output, rtol=1e-5)
    assert blocks.weight_sizes == whole.weight_sizes == {"flatten1": 0, "fc1": 180 * 300 + 300, "relu1": 0,
                                                         "fc2": 300 * 7 + 7}


def test_bad_weights_and_symbolic_sizes_are_clear_errors() -> None:
    net = spec_net("[{conv: {c: 2, k: 3}, name: y}]")
    with pytest.raises(UsageError, match="shape"):
        numeric.forward(net, weights={"y": {"weight": np.zeros((2, 4, 2, 2))}})
    with pytest.raises(UsageError, match="unknown layer"):
        numeric.forward(net, weights={"z": np.zeros(3)})
    with pytest.raises(UsageError, match="unknown array"):
        numeric.forward(net, weights={"y": {"gamma": np.zeros(3)}})
    with pytest.raises(UsageError, match="input has shape"):
        numeric.forward(net, np.zeros((1, 4, 8, 8), np.float32))
    import sympy

    symbolic = build(loads("archcalc: 1\nname: t\ninput: [3, 32, 32]\nbody: [{conv: {c: 2, k: 3}}]\n"),
                     input_shape=(sympy.Symbol("H", positive=True, integer=True),))
    with pytest.raises(UsageError, match="concrete sizes"):
        numeric.forward(symbolic)


def test_forward_by_name_with_an_array_uses_its_size() -> None:
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32), dtype=np.float32)
    r = numeric.forward("lenet5", x, vars={"impl": "modern"})
    assert r.output.shape == (2, 10)


# ---------------------------------------------------------------- whole networks
def test_verify_vgg16_and_alexnet() -> None:
    vgg = verification.verify_name("vgg16")
    assert vgg.ok and vgg.output_actual == (1000,)
    # 138,357,544 params: VGG-16 (Simonyan & Zisserman; torchvision VGG16_Weights num_params)
    assert sum(c.weights for c in vgg.layers) == 138_357_544
    alex = verification.verify_name("alexnet")
    assert alex.ok
    # 62,378,344: the slides' single-tower AlexNet at 227×227 (docs/references.md)
    assert sum(c.weights for c in alex.layers) == 62_378_344


def test_verify_many_reports_a_broken_spec_as_a_row(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("archcalc: 1\nname: broken\ninput: [3, 8, 8]\nbody: [{conv: {c: 2, k: 9}}]\n")
    rows = list(verification.verify_many(["lenet5", str(broken)]))
    assert [r.ok for r in rows] == [True, False]
    assert rows[1].verification is None and "broken.yaml" in (rows[1].error or "")


# ---------------------------------------------------------------- CLI
def test_cli_verify_ok_and_json_fields(cli_run: Any) -> None:
    code, out, _ = cli_run("verify", "lenet5")
    assert code == 0 and "C1" in out and "all layers agree" in out
    code, out, _ = cli_run("verify", "mobilenet_v1", "--set", "alpha=0.25", "--input", "64", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["input"] == [3, 64, 64]
    assert isinstance(data["forward_seconds"], float)
    first = data["layers"][0]
    # conv 3×3/2 pad 1 at width 0.25: 32·0.25 = 8 channels, (64 + 2 − 3)//2 + 1 = 32
    assert first["expected"] == first["actual"] == [8, 32, 32]
    assert first["params"] == first["weights"]
    assert all(la["ok"] for la in data["layers"])


def test_cli_verify_exit_1_on_a_wrong_expectation(cli_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real_build = verification.build

    def wrong(*args: Any, **kw: Any) -> Network:
        net = real_build(*args, **kw)
        layers = list(net.layers)
        layers[0] = replace(layers[0], output=(6, 27, 27))  # C1 really gives 6×28×28
        return replace(net, layers=tuple(layers))

    monkeypatch.setattr(verification, "build", wrong)
    code, out, _ = cli_run("verify", "lenet5", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["failures"] == 1
    bad = [la for la in data["layers"] if not la["ok"]]
    assert bad == [{"name": "C1", "op": "conv", "expected": [6, 27, 27], "actual": [6, 28, 28],
                    "params": 156, "weights": 156, "ok": False}]
    code, out, _ = cli_run("verify", "lenet5")
    assert code == 1 and "1 layer(s) disagree" in out


def test_cli_verify_all_rows_and_failures(cli_run: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("archcalc: 1\nname: broken\ninput: [3, 8, 8]\nbody: [{nosuchop: {}}]\n")
    small = {"lenet5": catalog.entries()["lenet5"], "inception_naive": catalog.entries()["inception_naive"],
             "broken": catalog.Entry("broken", broken)}
    monkeypatch.setattr(catalog, "entries", lambda: small)
    code, out, err = cli_run("verify", "--all", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    rows = {s["name"]: s for s in data["specs"]}
    assert rows["lenet5"]["ok"] and rows["inception_naive"]["ok"] and not rows["broken"]["ok"]
    assert "nosuchop" in rows["broken"]["error"]
    assert err == ""  # no progress bar when stderr is not a terminal
    del small["broken"]
    code, out, _ = cli_run("verify", "--all")
    assert code == 0 and "2 specs, all agree" in out


def test_cli_verify_usage_errors(cli_run: Any) -> None:
    assert cli_run("verify")[0] == 2
    assert cli_run("verify", "vgg16", "--all")[0] == 2
    code, _, err = cli_run("verify", "vgg16", "--input", "H")
    assert code == 2 and "concrete sizes" in err


def test_numeric_core_imports_no_cli_libraries() -> None:
    import ast

    for module in (numeric, numeric_weights):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
        assert names <= {"numpy", "math", "time", "weakref", "zlib", "dataclasses", "functools", "pathlib", "typing",
                         "__future__"}


def test_batch_norm_folded_into_the_conv_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # conv (with bias) → bn with non-trivial statistics; a depthwise conv → bn; a conv read twice is not folded
    net = spec_net("[{conv: {c: 6, k: 3, bias: true}}, bn, relu, {dwconv: {k: 3, p: 1}}, bn, "
                   "{add: [[{conv: {c: 6, k: 1}}], [bn]]}]")
    rng = np.random.default_rng(5)
    weights = {la.name: {"running_mean": rng.standard_normal(6).astype(np.float32),
                         "running_var": rng.uniform(0.5, 2.0, 6).astype(np.float32),
                         "weight": rng.standard_normal(6).astype(np.float32),
                         "bias": rng.standard_normal(6).astype(np.float32)}
               for la in net.layers if la.op == "bn"}
    x = rng.standard_normal((2, 4, 9, 9)).astype(np.float32)
    kept = numeric.forward(net, x, seed=1, weights=weights, keep=True)
    calls: list[str] = []
    bn = numeric.FORWARD["bn"]
    monkeypatch.setitem(numeric.FORWARD, "bn", lambda la, xs, arr: (calls.append(la.name), bn(la, xs, arr))[1])
    lean = numeric.forward(net, x, seed=1, weights=weights, keep=False)
    assert len(calls) == 1   # the two batch norms right after a conv were folded; the third one runs
    np.testing.assert_array_equal(lean.output, kept.output)
    assert lean.shapes == kept.shapes and lean.weight_sizes == kept.weight_sizes
    o, w = kept.outputs, kept.weights
    for la in net.layers:
        if la.op == "bn":   # the folded output is the batch norm of the conv's own (kept) output
            src, arr = la.inputs[0], w[la.name]
            expected = K.batch_norm(o[src], arr["weight"], arr["bias"], arr["running_mean"], arr["running_var"],
                                    float(la.attrs["eps"]))
            np.testing.assert_allclose(o[la.name], expected, rtol=1e-5, atol=1e-5)
    conv = net.layers[0]   # kept: the conv's output itself, not the folded one
    np.testing.assert_array_equal(o[conv.name], K.conv2d(x, w[conv.name]["weight"], w[conv.name]["bias"]))


def test_in_place_activations_overwrite_only_private_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    # keep=False runs an activation in place only over a fresh array it alone reads: never over the caller's
    # input, a view (split), an array passed through (identity), or an output another layer also reads
    net = spec_net("[relu, {conv: {c: 6, k: 3, p: 1}}, swish, {add: [[], [hardswish]]}, gelu, "
                   "{concat: [[{split: {chunks: 2, index: 0}}, relu6], [identity, sigmoid], [tanh]]}, "
                   "{add: [[{conv: {c: 15, k: 1}}, hardsigmoid], [{gelu: {approximate: tanh}}]]}]")
    x = np.random.default_rng(6).standard_normal((2, 4, 9, 9)).astype(np.float32)
    before = x.copy()
    kept = numeric.forward(net, x, seed=3, keep=True)
    overwritten: list[str] = []
    for op, fn in list(numeric.INPLACE.items()):
        monkeypatch.setitem(numeric.INPLACE, op, lambda la, a, fn=fn: (overwritten.append(la.name), fn(la, a))[1])
    lean = numeric.forward(net, x, seed=3, keep=False)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(lean.output, kept.output)
    assert overwritten == ["swish1", "gelu1", "hardsigmoid1"]


def test_joins_in_place_only_into_private_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    # keep=False computes an add or mul into an input that it alone reads (a fresh array, or one passed
    # through identity/stochastic_depth from one) when laid out as the first input: the same result bit for
    # bit, the caller's input and arrays other layers read untouched; a join of three sums in its own order
    net = spec_net("[{conv: {c: 6, k: 3, p: 1}}, {add: [[{conv: {c: 6, k: 1}}, {mul: [[], [{param: {shape: [6, 1, 1]}}]]}, "
                   "{stochastic_depth: {p: 0.1}}], []]}, {add: [[identity], [relu], [{conv: {c: 6, k: 1}}]]}, "
                   "{mul: [[], [{conv: {c: 6, k: 1}}]]}]")
    x = np.random.default_rng(8).standard_normal((2, 4, 9, 9)).astype(np.float32)
    before = x.copy()
    weights = {la.name: {"weight": np.random.default_rng(9).standard_normal(la.output).astype(np.float32)}
               for la in net.layers if la.op == "param"}
    kept = numeric.forward(net, x, seed=3, keep=True, weights=weights)
    owned = numeric._plan(net, 2).owned
    names = {la.name: la for la in net.layers}
    assert all(names[n].op != "param" for n in owned) and {"conv2", "stochastic_depth1"} <= owned
    assert not {"conv1", "add1", "identity1"} & owned
    into: list[tuple[str, int | None]] = []
    real = numeric._join_target
    monkeypatch.setattr(numeric, "_join_target", lambda la, xs, *rest: (into.append((la.name, real(la, xs, *rest))),
                                                                        into[-1][1])[1])
    lean = numeric.forward(net, x, seed=3, keep=False, weights=weights)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(lean.output, kept.output)
    # mul1 into the 1×1 conv's output (its other reader, the param, reads only its batch size), add1 into the
    # stochastic depth output (the residual conv1 is read twice), add2 (three inputs) only into its first,
    # identity1's, which passes add1 (read by three): none; mul2 into add2's output, which conv4 read before
    # it (mul2 is its last reader, and neither returns a view of it)
    assert dict(into) == {"mul1": 0, "add1": 0, "add2": None, "mul2": 0}


def test_batch_norm_folded_into_the_unpadded_conv_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # a batch norm that only an unpadded, ungrouped conv reads is folded into its weights (W·s per input
    # channel, bias + Σ W·t): not before a padded conv, not one already folded into the conv before it, not
    # where the weights outweigh the activations; the same values as unfolded, keep=True bit for bit
    body = ("[{conv: {c: 6, k: 3, p: 1}}, relu, bn, {conv: {c: 12, k: 1}}, bn, relu, bn, {conv: {c: 5, k: 3, p: 1}}, "
            "bn, {conv: {c: 4, k: 3, s: 2}}, relu, bn, {conv: {c: 3, k: 2}}]")
    net = spec_net(body)
    plan = numeric._plan(net, 2)
    names = [la.name for la in net.layers]
    assert {names[i]: la.name for i, la in enumerate(plan.prefolds) if la is not None} == {"conv2": "bn1", "conv5": "bn5"}
    wide = spec_net("[bn, {conv: {c: 64, k: 1}}]", input="[48, 2, 2]")   # 3072 weights > 2·48·2·2
    assert numeric._plan(wide, 1).prefolds == (None, None)
    x = np.random.default_rng(10).standard_normal((2, 4, 9, 9)).astype(np.float32)
    rng = np.random.default_rng(11)
    weights = {la.name: {"weight": rng.uniform(0.5, 1.5, la.output[0]).astype(np.float32),
                         "bias": rng.uniform(-1, 1, la.output[0]).astype(np.float32),
                         "running_mean": rng.uniform(-1, 1, la.output[0]).astype(np.float32),
                         "running_var": rng.uniform(0.5, 2, la.output[0]).astype(np.float32)}
               for la in net.layers if la.op == "bn"}
    lean = numeric.forward(net, x, seed=2, keep=False, weights=weights)
    kept = numeric.forward(net, x, seed=2, keep=True, weights=weights)
    np.testing.assert_array_equal(lean.output, kept.output)
    bn1 = kept.outputs["bn1"]   # kept: the batch norm's own output
    np.testing.assert_allclose(bn1, K.batch_norm(kept.outputs["relu1"], *(weights["bn1"][k] for k in
                               ("weight", "bias", "running_mean", "running_var")), float(net.layers[2].attrs["eps"])),
                               rtol=1e-6)
    monkeypatch.setattr(numeric, "_prefoldable_bn", lambda *a: None)
    plain = numeric.forward(spec_net(body), x, seed=2, keep=False, weights=weights)
    np.testing.assert_allclose(lean.output, plain.output, rtol=1e-5, atol=1e-5)


def test_forward_plan_is_kept_per_network_batch_and_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # the per-network plan (readers, array shapes, BN folds) is built once per network and batch; a changed
    # network or memory budget gets its own checks
    from archcalc.errors import SpecError

    net = spec_net("[{conv: {c: 6, k: 3}}, bn, relu]")
    assert numeric._plan(net, 1) is numeric._plan(net, 1) and numeric._plan(net, 2) is not numeric._plan(net, 1)
    assert numeric._plan(net, 1).folds[0] is net.layers[1]
    # folded while the conv's weights (48·64 = 3072) are at most twice its output (the batch norm's two
    # passes): 64·6·6 = 2304 yes, 64·4·4 = 1024 no
    for side, folded in ((6, True), (4, False)):
        wide = spec_net("[{conv: {c: 64, k: 1, bias: false}}, bn]", input=f"[48, {side}, {side}]")
        assert (numeric._plan(wide, 1).folds[0] is wide.layers[1]) is folded
    other = replace(net, layers=net.layers[:1])
    assert numeric._plan(other, 1) is not numeric._plan(net, 1)
    np.testing.assert_array_equal(numeric.forward(net, seed=4, keep=False).output,
                                  numeric.forward(net, seed=4, keep=True).output)
    monkeypatch.setattr(numeric, "VERIFY_BYTES", 1000)
    with pytest.raises(SpecError, match="budget"):
        numeric.forward(net, seed=4)


def test_residual_adds_and_gates_merge_into_an_input_read_last(monkeypatch: pytest.MonkeyPatch) -> None:
    # keep=False computes an add or a squeeze-excitation multiply into an input that this op reads last, a fresh
    # array no reader made a view of and of the output's shape: never into the gate (broadcast), an input read
    # again later, one passed through (identity) or split, or the caller's input; the output equals keep=True's
    net = spec_net("[{add: [[], [relu]]}, {conv: {c: 6, k: 3, p: 1}}, "
                   "{mul: [[{gap: {}}, {conv: {c: 6, k: 1}}, sigmoid], [swish]]}, "
                   "{add: [[identity], [{conv: {c: 6, k: 1}}]]}, "
                   "{add: [[{split: {chunks: 2, index: 0}}], [{split: {chunks: 2, index: 1}}]]}, "
                   "{conv: {c: 4, k: 1}, name: c2}, {add: [[{conv: {c: 4, k: 1}, name: c3}], [relu]]}, "
                   "{conv: {c: 4, k: 1}}, {concat: [[identity], [{add: [[], [relu]]}]]}]")
    x = np.random.default_rng(7).standard_normal((2, 4, 9, 9)).astype(np.float32)
    before = x.copy()
    kept = numeric.forward(net, x, seed=3, keep=True)
    merged: list[tuple[str, tuple[int, ...]]] = []
    for op, fn in list(numeric.JOINS.items()):
        monkeypatch.setitem(numeric.JOINS, op, lambda a, b, out, fn=fn, op=op: (
            merged.append((op, out.shape)), fn(a, b, out=out))[1])
    lean = numeric.forward(net, x, seed=3, keep=False)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(lean.output, kept.output)
    # the first add into relu's output (not the caller's input), the multiply into swish's output (not the
    # broadcast gate), the next add into its 1×1 conv branch (not the identity), none for the two split views,
    # the next into c3's output, the last into relu's output (not the conv's, which identity passed to concat)
    assert merged == [("add", (2, 4, 9, 9)), ("mul", (2, 6, 9, 9)), ("add", (2, 6, 9, 9)), ("add", (2, 4, 9, 9)),
                      ("add", (2, 4, 9, 9))]
    assert numeric._broadcasts_to((1, 6, 1, 1), (2, 6, 9, 9)) and not numeric._broadcasts_to((2, 6, 9, 9), (1, 6, 1, 1))
    assert not numeric._broadcasts_to((3,), (2, 6, 9, 2)) and numeric._broadcasts_to((9, 1), (6, 9, 9))


def test_merge_keeps_the_layout_the_op_would_give(monkeypatch: pytest.MonkeyPatch) -> None:
    # a residual add of a channels-last map (the depthwise einsum's, read again later by relu) and an NCHW one
    # (a 1×1 conv of a map of ≤ 64 positions): not computed into the NCHW input, so the sum stays
    # channels-last as an out-of-place add leaves it; where both inputs are channels-last, into the fresh one
    from archcalc.layout import channels_last

    net = spec_net("[{dwconv: {k: 3, p: 1}}, {concat: [[{add: [[], [{conv: {c: 160, k: 1}}]]}], [relu]]}, "
                   "{add: [[{dwconv: {k: 3, p: 1}}], [identity]]}]", input="[160, 8, 8]")
    kept = numeric.forward(net, seed=5, keep=True)
    assert channels_last(kept.outputs["dwconv1"]) and not channels_last(kept.outputs["conv1"])
    assert channels_last(kept.outputs["add1"])
    merged: list[bool] = []
    for op, fn in list(numeric.JOINS.items()):
        monkeypatch.setitem(numeric.JOINS, op, lambda a, b, out, fn=fn: (merged.append(channels_last(out)),
                                                                         fn(a, b, out=out))[1])
    lean = numeric.forward(net, seed=5, keep=False)
    np.testing.assert_array_equal(lean.output, kept.output)
    assert merged == [True] and channels_last(lean.output)
