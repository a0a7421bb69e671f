"""Property tests: random valid networks, generated as YAML text from the op set.

Each network is a chain with branches (concat, add with a projection, squeeze-excitation `mul`),
random kernel/stride/padding/dilation/groups that fit, pools with ceil_mode, and an fc head after
flatten. The generator tracks shapes with PyTorch's size rules (floor division; ceil_mode drops a
last window that starts in the right padding) only to keep every layer valid. Checked:
  * symbolic output shapes and parameter counts equal the NumPy forward pass's array shapes and
    weight array sizes (archcalc.numeric: real convolutions on real arrays), and the final shape
    equals the generator's own;
  * `summary --format json` round-trips exactly: json.loads(output) == report.summary_json(...),
    with every count an int;
  * `compare` of a network with itself gives ratio 1.

CI uses the `ci` profile (tests/conftest.py: derandomized, 60 examples); a bigger run:
HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from archcalc import report
from archcalc.analysis import analyze
from archcalc.cli import main
from archcalc.graph import build
from archcalc.numeric import forward
from archcalc.spec import loads

Shape = tuple[int, int, int]
ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "swish", "hardswish", "hardsigmoid", "identity", "stochastic_depth"]


def _conv_size(n: int, k_eff: int, s: int, before: int, after: int) -> int:
    return (n + before + after - k_eff) // s + 1


def _pool_size(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    if not ceil_mode:
        return (n + 2 * p - k) // s + 1
    out = -(-(n + 2 * p - k) // s) + 1
    return out - 1 if (out - 1) * s >= n + p else out   # PyTorch: the last window starts inside


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def conv_item(draw: st.DrawFn, shape: Shape, c_out: int | None = None, stride: int | None = None,
              same: bool = False) -> tuple[dict[str, Any], Shape]:
    """A conv that fits `shape`; `same`: size-preserving padding (output floor((N − 1)/s) + 1)."""
    c, h, w = shape
    d = draw(st.integers(1, 2))
    k = draw(st.sampled_from([1, 3, 5] if same else [1, 2, 3, 5, 7]))
    k_eff = d * (k - 1) + 1
    s = stride if stride is not None else draw(st.integers(1, 3))
    if same:
        pad: Any = (k_eff - 1) // 2
        ph = pw = (pad, pad)
    else:
        p = draw(st.integers(0, k_eff // 2))
        if draw(st.booleans()):
            pad, ph, pw = p, (p, p), (p, p)
        else:
            t, b, l, r = (draw(st.integers(0, k_eff // 2)) for _ in range(4))
            pad, ph, pw = [t, b, l, r], (t, b), (l, r)
    if h + sum(ph) < k_eff or w + sum(pw) < k_eff:
        k, d, k_eff, pad, ph, pw = 1, 1, 1, 0, (0, 0), (0, 0)
    g = draw(st.sampled_from(_divisors(c)))
    if c_out is None:
        c_out = g * draw(st.integers(1, max(1, 12 // g)))
    elif c_out % g:
        g = 1
    args: dict[str, Any] = {"c": c_out, "k": k, "s": s, "p": pad}
    if d > 1:
        args["d"] = d
    if g > 1:
        args["groups"] = g
    if draw(st.booleans()):
        args["bias"] = False
    out = (c_out, _conv_size(h, k_eff, s, *ph), _conv_size(w, k_eff, s, *pw))
    return {"conv": args}, out


@st.composite
def pool_item(draw: st.DrawFn, shape: Shape) -> tuple[dict[str, Any], Shape]:
    c, h, w = shape
    k = draw(st.integers(1, min(3, h, w)))
    s = draw(st.integers(1, k))
    p = draw(st.integers(0, k // 2))
    ceil_mode = draw(st.booleans())
    op = draw(st.sampled_from(["maxpool", "avgpool"]))
    args: dict[str, Any] = {"k": k, "s": s, "p": p}
    if ceil_mode:
        args["ceil_mode"] = True
    return {op: args}, (c, _pool_size(h, k, s, p, ceil_mode), _pool_size(w, k, s, p, ceil_mode))


@st.composite
def image_item(draw: st.DrawFn, shape: Shape) -> tuple[Any, Shape]:
    c, h, w = shape
    kind = draw(st.sampled_from(["conv", "conv", "dwconv", "pool", "act", "bn", "shuffle", "concat", "add", "se",
                                 "dropout", "slice", "crop"]))
    if kind == "conv":
        return draw(conv_item(shape))
    if kind == "dwconv":
        item, out = draw(conv_item(shape, c_out=c))
        args = {k: v for k, v in item["conv"].items() if k not in ("c", "groups")}
        m = draw(st.integers(1, 2))
        if m > 1:
            args["m"] = m
        return {"dwconv": args}, (c * m, out[1], out[2])
    if kind == "pool":
        return draw(pool_item(shape))
    if kind == "act":
        return draw(st.sampled_from(ACTIVATIONS)), shape
    if kind == "bn":
        return ({"bn": {"affine": False}} if draw(st.booleans()) else "bn"), shape
    if kind == "dropout":
        return {"dropout": {"p": 0.25}}, shape
    if kind == "shuffle":
        return {"channel_shuffle": {"groups": draw(st.sampled_from(_divisors(c)))}}, shape
    if kind == "slice":
        if draw(st.booleans()):
            start = draw(st.integers(0, c - 1))
            stop = draw(st.integers(start + 1, c))
            return {"select": {"start": start, "stop": stop}}, (stop - start, h, w)
        chunks = draw(st.integers(1, c))
        size = -(-c // chunks)                    # torch.chunk: chunks of ceil(C/n), fewer when they run out
        index = draw(st.integers(0, -(-c // size) - 1))
        return {"split": {"chunks": chunks, "index": index}}, (min(size, c - index * size), h, w)
    if kind == "crop":
        ch, cw = draw(st.integers(1, h)), draw(st.integers(1, w))
        return {"crop": {"size": [ch, cw]}}, (c, ch, cw)
    if kind == "concat":
        branches, channels = [], 0
        for _ in range(draw(st.integers(2, 3))):
            if draw(st.booleans()):
                item, out = draw(conv_item(shape, stride=1, same=True))
                branches.append([item, "relu"])
                channels += out[0]
            else:
                branches.append([])
                channels += c
        return {"concat": branches}, (channels, h, w)
    if kind == "add":
        s = draw(st.integers(1, 2))
        c_out = draw(st.integers(1, 12))
        main_item, out = draw(conv_item(shape, c_out=c_out, stride=s, same=True))
        if s == 1 and c_out == c and draw(st.booleans()):
            shortcut: list[Any] = []
        else:
            shortcut = [{"conv": {"c": c_out, "k": 1, "s": s, "bias": False}}, "bn"]
        return {"add": [[main_item, "bn", "relu"], shortcut]}, out
    r = draw(st.integers(1, max(1, c // 2)))   # squeeze-excitation
    return {"mul": [[], ["gap", {"conv": {"c": r, "k": 1}}, "relu", {"conv": {"c": c, "k": 1}}, "sigmoid"]]}, shape


@st.composite
def networks(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    """(YAML text, the output shape the generator expects)."""
    first: Shape = (draw(st.integers(1, 4)), draw(st.integers(5, 33)), draw(st.integers(5, 33)))
    shape, body = first, []
    for _ in range(draw(st.integers(1, 8))):
        item, shape = draw(image_item(shape))
        body.append(item)
    out: tuple[int, ...] = shape
    if draw(st.booleans()):
        oh, ow = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        body.append({"adaptive_avgpool": {"out": [oh, ow]}})
        out = (shape[0], oh, ow)
    if draw(st.booleans()):
        body.append("flatten")
        for _ in range(draw(st.integers(1, 2))):
            features = draw(st.integers(1, 20))
            body += [{"fc": {"c": features, "bias": draw(st.booleans())}}, draw(st.sampled_from(["relu", "softmax"]))]
        out = (features,)
    spec = {"archcalc": 1, "name": "random", "description": "a generated network", "input": list(first),
            "round": "floor", "body": body}
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None), out


def _ints_are_ints(value: Any, key: str = "") -> None:
    """Every count in the JSON is a Python int (never a float or a string)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _ints_are_ints(v, k)
    elif isinstance(value, list):
        for v in value:
            _ints_are_ints(v, key)
    elif key in ("params", "macs", "activations", "trainable_params", "non_trainable_params", "buffers", "flops"):
        assert isinstance(value, int) and not isinstance(value, bool), (key, value)


def _cli_json(*argv: str) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return json.loads(out.getvalue())


@given(networks())
def test_symbolic_equals_numpy_forward(case: tuple[str, tuple[int, ...]]) -> None:
    text, expected = case
    net = build(loads(text, "random.yaml"))
    assert tuple(net.output) == expected, text
    result = forward(net, keep=False)
    for layer in net.layers:
        assert tuple(layer.output) == result.shapes[layer.name], (layer.name, text)
        assert layer.params + layer.buffers == result.weight_sizes[layer.name], (layer.name, text)
    assert tuple(result.output.shape[1:]) == expected


@given(networks())
def test_summary_json_round_trips_and_compare_with_itself_is_one(case: tuple[str, tuple[int, ...]]) -> None:
    text, _ = case
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "random.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        printed = _cli_json("summary", path, "--format", "json")
        assert printed == report.summary_json(analyze(path))
        _ints_are_ints(printed)
        compared = _cli_json("compare", path, path, "--format", "json")
    first, second = compared["networks"]
    assert second["params"] == first["params"] and second["macs"] == first["macs"]
    assert second["params_ratio"] == (1 if first["params"] else None)   # 0/0 has no ratio
    assert second["macs_ratio"] == (1 if first["macs"] else None)
