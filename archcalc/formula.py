"""Closed forms of a network's cost in chosen symbols (input size, batch, α, ρ, φ, ...).

Sizes stay sympy expressions through the same graph code the numbers use. Ideal mode drops
channel rounding (floor, ceil, int, round, make_divisible, at_least) so width multipliers give
polynomials, as the papers write them; exact mode keeps the floors that strides introduce.
"""
from __future__ import annotations

from typing import Any

from . import canon, num
from .analysis import Analysis, analyze, load_spec
from .domain import Domain, domains
from .errors import UsageError, did_you_mean
from .record import field, record, replace

SPATIAL = ("H", "W")
RATIONAL_HINT = ("alpha", "rho", "phi", "beta", "gamma", "width", "depth")


def symbol(name: str) -> Any:
    import sympy

    if name in RATIONAL_HINT:
        return sympy.Symbol(name, positive=True)
    return sympy.Symbol(name, positive=True, integer=True)


@record(frozen=False)
class Formulas:
    name: str
    symbols: list[str]
    ideal: bool
    output: list[Any]
    params: Any
    macs: Any
    activations: Any
    ratio: Any = None
    ratio_to: str | None = None
    notes: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)      # where the closed forms hold, one line per input symbol
    at: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)    # the untidied totals (for evaluation and printing)
    steps: Any = None                                    # stepforms.StepTable: a width/depth knob without --ideal

    def items(self) -> list[tuple[str, Any]]:
        out = [("output", self.output), ("params", self.params), ("macs", self.macs), ("activations", self.activations)]
        if self.ratio_to:
            out.append((f"macs / macs({self.ratio_to})", self.ratio))
        return out


def tidy(expr: Any) -> Any:
    """Totals are already flat sums (added once, like terms collected by sympy); only a product
    holding a sum is multiplied out. No blind simplify: it costs seconds on φ's powers."""
    import sympy

    expr = sympy.sympify(expr) if not isinstance(expr, sympy.Basic) else expr
    if expr.is_Mul and any(a.is_Add for a in expr.args):
        return sympy.expand(expr, power_base=False, power_exp=False, log=False, multinomial=False)
    return expr


def _analysis(spec: str, symbols: list[str], ideal: bool, sets: dict[str, Any], rounding: str | None = None) -> Analysis:
    parsed, preset = load_spec(spec)
    if rounding:
        parsed = replace(parsed, round=rounding)
    input_override: tuple[Any, ...] | None = None
    vars_ = dict(sets)
    batch: Any = 1
    for name in symbols:
        if name in SPATIAL:
            continue
        if name in ("B", "batch"):
            batch = symbol("B")
        elif name in parsed.vars:
            if parsed.vars[name].choices:
                raise UsageError(f"--symbols {name}: `{name}` is a choice ({', '.join(parsed.vars[name].choices)}), "
                                 f"not a number, so it cannot be a symbol; pick one with --set {name}=...")
            vars_[name] = symbol(name)
        elif name != "C":
            known = set(parsed.vars) | {"H", "W", "C", "B"}
            raise UsageError(f"`{name}` is not a symbol of `{parsed.name}`{did_you_mean(name, known)}; "
                             f"use H, W (input size), C (input channels), B (batch) or a spec variable: "
                             f"{', '.join(v for v in parsed.vars if v != 'impl')}")
    if "H" in symbols or "W" in symbols or "C" in symbols:
        h = symbol("H") if "H" in symbols else None
        w = symbol("W") if "W" in symbols else h
        input_override = ((symbol("C"),) if "C" in symbols else ()) + tuple(x for x in (h, w) if x is not None)
        if "C" in symbols and h is None:
            raise UsageError("give H with C (e.g. --symbols C,H)")
    return analyze(parsed, input=input_override, vars=vars_, batch=batch, preset=preset, ideal=ideal)


def closed_forms(spec: str, symbols: list[str], ideal: bool = False, sets: dict[str, Any] | None = None,
                 ratio_to: str | None = None, rounding: str | None = None,
                 ratio_sets: dict[str, Any] | None = None,
                 at: list[dict[str, Any]] | None = None, steps_range: Any = None) -> Formulas:
    """Closed forms of `spec` in `symbols`; with `ratio_to`, also MACs divided by that spec's MACs
    (its vars: `sets` overridden by `ratio_sets`); with `at`, their values at those points."""
    if not symbols:
        raise UsageError("formula needs --symbols, e.g. --symbols H or --symbols alpha,rho")
    for point in at or []:
        for key in point:
            if key not in symbols and not (key == "W" and "H" in symbols):
                raise UsageError(f"--at {key}: `{key}` is not one of --symbols {','.join(symbols)}")
    if not ideal:
        from .stepforms import step_table, stepped_knob

        stepped = stepped_knob(spec, symbols, sets or {}, rounding)
        if stepped is not None:
            knob, probe = stepped
            f = Formulas(spec, symbols, ideal, [], None, None, None)
            f.steps = step_table(spec, symbols, knob, probe, sets or {}, rounding, steps_range,
                                 ratio_to, ratio_sets)
            parsed, preset = load_spec(spec)
            f.name = preset or parsed.name
            return f
    a = _analysis(spec, symbols, ideal, sets or {}, rounding)
    t = a.totals
    f = Formulas(a.name, symbols, ideal, [tidy(x) if not num.is_exact(x) else x for x in a.network.output],
                 tidy(t.params), tidy(t.macs), tidy(t.activations))
    f.raw = {"params": t.params, "macs": t.macs, "activations": t.activations}
    found = domains(a.network.obligations) if a.network.obligations else []
    f.domain = [d.text() for d in found]
    f.at = [evaluate(f, point, found) for point in at or []]
    if ratio_to:
        b = _analysis(ratio_to, symbols, ideal, {**(sets or {}), **(ratio_sets or {})}, rounding)
        import sympy

        f.ratio = sympy.cancel(num.to_sympy(t.macs) / num.to_sympy(b.totals.macs))   # once, at the end
        f.ratio_to = " ".join([ratio_to] + [f"--set {k}={num.fmt(v) if not isinstance(v, str) else v}"
                                            for k, v in (ratio_sets or {}).items()])
    if ideal:
        f.notes.append("ideal: channel rounding (floor, ceil, int, round, make_divisible, at_least) is ignored")
        if any(n in SPATIAL for n in symbols):
            f.notes.append("ideal: sizes are N/S exactly (the papers' sizes), equal to the real ones only where "
                           "every stride divides; drop --ideal for the exact forms and their domain")
    if rounding == "floor":
        f.notes.append("sizes floor as frameworks do (floor((N + 2P − F)/S) + 1 at every layer)")
    return f


def evaluate(f: Formulas, point: dict[str, Any], found: list[Domain]) -> dict[str, Any]:
    """The closed forms at one point: {"H": 224, "params": ..., "macs": ..., "activations": ...}."""
    import sympy

    swap: dict[Any, Any] = {}
    bases: dict[Any, int] = {}
    out: dict[str, Any] = dict(point)
    for key, value in point.items():
        sym = symbol("H" if key == "W" and "W" not in f.symbols else key)
        unit = canon.base_unit(sym)
        if unit is not None:
            b = unit * value
            if not (num.is_exact(b) and num.is_integer(b)):
                raise UsageError(f"--at {key}={num.fmt(value)}: the input size {num.fmt(b)} is not a whole number")
            bases[sym] = int(b)
            where = next((d for d in found if d.x0 == sym), None)
            if where is not None and not where.contains(int(b)):
                out["in_domain"] = False
                out["why"] = f"{key}={num.fmt(value)} is outside the domain: {where.text()}"
        else:
            swap[sym] = num.to_sympy(value)
    if out.get("in_domain") is False:
        return out
    for name in ("params", "macs", "activations"):
        v = canon.at(f.raw[name], bases) if bases else f.raw[name]
        v = num.norm(sympy.sympify(v).xreplace(swap) if swap else v)
        out[name] = v
    return out
