"""What a claim computes: a whole spec's metric, one conv layer, an expression, or a worked forward pass."""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .. import num
from ..errors import ArchcalcError, SpecError, UsageError, did_you_mean

CACHE_SIZE = 8   # analyses kept alive at once: claims on one network share it, memory stays bounded


class SpecMissing(Exception):
    """A pending claim's spec is not built in yet."""


_SET = re.compile(r"^--set (\w+)(=\S*)?:")


def _claim_words(message: str) -> str:
    """graph.py words a bad variable as a command-line option; in a claim it is `compute.vars`."""
    return _SET.sub(lambda m: f"`compute.vars.{m.group(1)}`" + (f" {m.group(2)[1:]}" if m.group(2) else "") + ":",
                    message)


class Evaluator:
    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        self._analyses: OrderedDict[Any, Any] = OrderedDict()
        self._size = cache_size

    def analysis(self, c: Mapping[str, Any]) -> Any:
        from .. import catalog
        from ..analysis import analyze

        try:
            catalog.resolve(c["spec"])
        except UsageError as e:
            raise SpecMissing(str(e)) from None
        inp = tuple(c["input"]) if c.get("input") is not None else None
        vars_ = dict(c.get("vars") or {})
        key = (c["spec"], tuple(sorted((k, str(v)) for k, v in vars_.items())), inp, c.get("convention", "paper"))
        if key in self._analyses:
            self._analyses.move_to_end(key)
            return self._analyses[key]
        try:
            a = analyze(c["spec"], input=inp, vars=vars_, convention=c.get("convention", "paper"))
        except ArchcalcError as e:
            raise SpecError(_claim_words(getattr(e, "message", str(e))), getattr(e, "where", None)) from None
        self._analyses[key] = a
        while len(self._analyses) > self._size:
            self._analyses.popitem(last=False)
        return a

    def compute(self, c: Mapping[str, Any]) -> Any:
        if "spec" in c:
            return self._spec(c)
        if "conv" in c:
            return self._conv(c)
        if "expr" in c:
            from ..expr import evaluate, parse_constant

            env = {k: (self.compute(v) if isinstance(v, dict) else parse_constant(v) if isinstance(v, str) else v)
                   for k, v in (c.get("vars") or {}).items()}
            return num.norm(evaluate(c["expr"], env))
        return forward(c["forward"])

    def _spec(self, c: Mapping[str, Any]) -> Any:
        a = self.analysis(c)
        metric = c["metric"]
        if metric == "depth":
            return a.totals.depth
        if metric == "input":
            return tuple(a.network.input)
        rows = list(a.rows)
        if c.get("layer"):
            rows = [r for r in rows if r.layer.name == c["layer"]]
            if not rows:
                raise SpecError(f"`{a.name}` has no layer `{c['layer']}`"
                                f"{did_you_mean(c['layer'], [r.layer.name for r in a.rows])}")
        elif c.get("scope"):
            prefix = c["scope"] + "."
            rows = [r for r in rows if r.layer.name == c["scope"] or r.layer.name.startswith(prefix)]
            if not rows:
                raise SpecError(f"`{a.name}` has no layers in scope `{c['scope']}`")
        if c.get("kinds"):
            rows = [r for r in rows if r.layer.kind in c["kinds"]]
            if not rows and metric in ("output", "channels", "size", "rf"):
                raise SpecError(f"`{a.name}` has no layers of kinds {', '.join(c['kinds'])} here")
        if metric in ("output", "channels", "size", "rf"):
            layer = rows[-1].layer if (c.get("layer") or c.get("scope") or c.get("kinds")) else None
            shape = layer.output if layer else a.network.output
            if metric == "rf":
                return (layer.rf if layer else a.network.rf).size[0]
            return shape[0] if metric == "channels" else shape[1] if metric == "size" else tuple(shape)
        if metric == "count":
            return len(rows)
        if metric == "weights":
            return sum(r.layer.counts.get("weights", 0) for r in rows)
        if metric == "trainable":
            return num.norm(sum((r.layer.params for r in rows if not r.layer.frozen), 0))
        field_ = {"flops": "macs"}.get(metric, metric)
        total = num.norm(sum((getattr(r, field_) for r in rows), 0))
        return 2 * total if metric == "flops" else total

    def _conv(self, c: Mapping[str, Any]) -> Any:
        res = one_layer(c["conv"])
        metric = c["metric"]
        args = c["conv"]
        if metric == "exact":
            return res.exact
        if res.error:
            raise SpecError(res.error)
        if metric == "output":
            return (args["c_out"], res.output, res.output) if args.get("c_out") else res.output
        if metric in ("params", "macs"):
            return getattr(res, metric)
        if metric == "channels" and args.get("c_out"):
            return args["c_out"]
        raise SpecError(f"metric `{metric}` is not defined for one conv layer (use output, exact, channels, params "
                        "or macs)")


def one_layer(args: Mapping[str, Any]) -> Any:
    from .. import onelayer

    a = dict(args)
    rounding = a.pop("round", "exact")
    if a.get("transposed") and a.get("p", 0) != "same":
        out = (a["n"] - 1) * a.get("s", 1) - 2 * a.get("p", 0) + a.get("d", 1) * (a["f"] - 1) \
            + a.get("output_padding", 0) + 1
        if out < 1:
            raise SpecError(f"the transposed convolution's output size is {out}; it must be at least 1")
    return onelayer.compute(**a, rounding=rounding)


def forward(f: Mapping[str, Any]) -> Any:
    import numpy as np

    from .. import kernels

    def arr(v: Any) -> Any:
        a = np.array([[float(x) for x in row] for row in v], dtype=np.float64)
        return a.reshape((1, 1) + a.shape)

    x = arr(f["x"])
    pad = tuple(f["padding"]) if isinstance(f.get("padding"), list) else f.get("padding", 0)
    if f["op"] == "conv2d":
        bias = np.array([float(f["b"])], dtype=np.float64) if "b" in f else None
        out = kernels.conv2d(x, arr(f["w"]), bias, stride=f.get("stride", 1), padding=pad,
                             dilation=f.get("dilation", 1))
    elif f["op"] == "max_pool2d":
        out = kernels.max_pool2d(x, f["kernel"], f.get("stride"), pad, ceil_mode=bool(f.get("ceil_mode", False)))
    else:
        out = kernels.avg_pool2d(x, f["kernel"], f.get("stride"), pad, ceil_mode=bool(f.get("ceil_mode", False)))
    values: Any = [[_exact(v) for v in row] for row in out[0, 0]]
    for depth, i in enumerate(f.get("at") or []):
        if not -len(values) <= i < len(values):
            axis = "row" if depth == 0 else "column"
            raise SpecError(f"`at` asks for {axis} {i}, but the output has {len(values)} {axis}s")
        values = values[i]
    return values


def _exact(v: float) -> Any:
    return num.norm(Fraction(float(v)).limit_denominator(1 << 20))
