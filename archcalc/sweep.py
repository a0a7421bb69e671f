"""`scale`: params and MACs over a grid of var values, beside what the paper's rule predicts.

A spec states each scaling var's rule (`macs_rule: alpha**2`); the predicted ratio of a point is
the product of its vars' rules divided by the same product at the first point.
"""
from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

from . import num
from .analysis import Totals, analyze
from .errors import UsageError
from .record import record
from .spec import Spec

MAX_POINTS = 10_000   # analyses in one sweep (each keeps only its totals: time, not memory, grows)


@record
class Point:
    """One point of the sweep: its totals, not its layers (a sweep of thousands keeps only what it prints)."""
    values: Mapping[str, Any]
    name: str
    input: tuple[Any, ...]
    totals: Totals
    macs_ratio: Any
    params_ratio: Any
    macs_rule: Any          # None when the spec states no rule for a varied var
    params_rule: Any


def _rule(spec: Spec, values: Mapping[str, Any], which: str) -> Any:
    out: Any = 1
    for name, value in values.items():
        rule = getattr(spec.vars[name], which) if name in spec.vars else None
        if rule is None:
            return None
        out = out * rule.eval({name: value}, spec.vars[name].where)
    return num.norm(out)


def sweep(spec_name: str, grid: Mapping[str, Sequence[Any]], fixed: Mapping[str, Any] | None = None,
          **options: Any) -> list[Point]:
    if not grid:
        raise UsageError("scale needs at least one --set name=v1,v2,... to sweep")
    names = list(grid)
    count = 1
    for n in names:
        count *= len(grid[n])
    if count > MAX_POINTS:
        raise UsageError(f"scale: the sweep has {count:,} points (limit {MAX_POINTS}); sweep fewer values at once")
    points: list[Point] = []
    base: tuple[Totals, Any, Any] | None = None
    for combo in itertools.product(*(grid[n] for n in names)):
        values = dict(zip(names, combo))
        a = analyze(spec_name, vars={**(fixed or {}), **values}, **options)
        spec = a.network.spec
        macs_rule, params_rule = _rule(spec, values, "macs_rule"), _rule(spec, values, "params_rule")
        t = a.totals
        if base is None:
            base = (t, macs_rule, params_rule)
        b, bm, bp = base
        points.append(Point(values, a.name, a.network.input, t, num.div(t.macs, b.macs) if b.macs else None,
                            num.div(t.params, b.params) if b.params else None,
                            num.div(macs_rule, bm) if macs_rule is not None and bm else None,
                            num.div(params_rule, bp) if params_rule is not None and bp else None))
    return points
