"""Exact step functions of a width or depth knob (α, width, depth): the knob's intervals on which
every rounded channel count and repeat count is constant, each with its closed form.

A probe builds the network once with the knob symbolic: each rounding rule that sees the knob
(int/trunc and floor as TF-slim, make_divisible as torchvision/timm, ceil for depth, round, and
max/min clamps such as TF-slim's min_depth) returns its value at the probe point and registers a
*site*: the rule as a function of the knob alone. A site's breakpoints are the knob values where
its value changes, found exactly (linear arguments: k·α + c crosses a rule's threshold) and
filtered by evaluating the rule on both sides. Sites are deduplicated, so a rule repeated in
every block counts once; a site wrapped by a clamp counts only through the clamp.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from . import num
from .errors import UsageError
from .record import field, record

MAX_BREAKS = 200_000


class Stepped(int):
    """A rounded count that remembers the site it came from (arithmetic gives plain ints)."""
    site: Site

    def __new__(cls, value: int, site: Site) -> Stepped:
        out = super().__new__(cls, value)
        out.site = site
        return out


@record
class Site:
    kind: str                      # floor ceil trunc round mdiv max min linear
    slope: Fraction = Fraction(0)  # argument k·x + c (x the knob) for the rounding kinds
    offset: Fraction = Fraction(0)
    params: tuple[Any, ...] = ()   # mdiv: (divisor, min_value, round_limit); max/min: (inner sites or constants)
    pieces: tuple[tuple[Fraction, Fraction, Fraction], ...] = ()   # a piecewise-linear argument: (from, k, c)

    def arg(self, x: Fraction) -> Fraction:
        if not self.pieces:
            return self.slope * x + self.offset
        k, c = next((k, c) for start, k, c in reversed(self.pieces) if start <= x)
        return k * x + c

    def key(self, x: Fraction) -> Any:
        """What must stay constant on an interval: a rounded value, or which argument of a clamp wins."""
        if self.kind in ("max", "min") and any(isinstance(p, Site) and p.kind == "linear" for p in self.params):
            vals = [(p.at(x) if isinstance(p, Site) else p) for p in self.params]
            best = max(vals) if self.kind == "max" else min(vals)
            return tuple(v == best for v in vals)
        return self.at(x)

    def at(self, x: Fraction) -> Any:
        if self.kind in ("max", "min"):
            vals = [p.at(x) if isinstance(p, Site) else p for p in self.params]
            return max(vals) if self.kind == "max" else min(vals)
        v = self.arg(x)
        if self.kind == "floor":
            return math.floor(v)
        if self.kind == "ceil":
            return math.ceil(v)
        if self.kind == "trunc":
            return math.trunc(v)
        if self.kind == "round":
            return round(v)
        if self.kind == "mdiv":
            from .expr import make_divisible

            return make_divisible(v, *self.params)
        if self.kind == "linear":
            return v
        raise AssertionError(self.kind)

    def candidates(self, lo: Fraction, hi: Fraction) -> list[Fraction]:
        """Knob values in (lo, hi) where this site may change (a superset, filtered later)."""
        if self.kind in ("max", "min"):
            out: set[Fraction] = set()
            lines = [p for p in self.params if isinstance(p, Site)]
            for p in lines:
                out.update(p.candidates(lo, hi))
            consts = [p for p in self.params if not isinstance(p, Site)]
            for p in lines:                       # where a linear argument meets a constant or another line
                if p.kind == "linear" and p.slope:
                    for c in consts:
                        x = (Fraction(c) - p.offset) / p.slope
                        if lo < x < hi:
                            out.add(x)
            return _sorted(out)
        if self.pieces:
            out = set()
            bounds = [p[0] for p in self.pieces[1:]]
            edges = [lo] + [b for b in bounds if lo < b < hi] + [hi]
            for i in range(len(edges) - 1):
                k, c = next((k, c) for start, k, c in reversed(self.pieces) if start <= (edges[i] + edges[i + 1]) / 2)
                out.update(Site(self.kind, k, c, self.params).candidates(edges[i], edges[i + 1]))
            out.update(b for b in bounds if lo < b < hi)
            return _sorted(out)
        if self.slope == 0:
            return []
        a, b = sorted((self.slope * lo + self.offset, self.slope * hi + self.offset))
        values: list[Fraction] = []
        if self.kind in ("floor", "ceil", "trunc"):
            values = [Fraction(n) for n in range(math.floor(a), math.ceil(b) + 1)]
        elif self.kind == "round":
            values = [Fraction(2 * n + 1, 2) for n in range(math.floor(a) - 1, math.ceil(b) + 1)]
        elif self.kind == "mdiv":
            d, limit = Fraction(self.params[0]), Fraction(self.params[2])
            minv = Fraction(self.params[1] if self.params[1] is not None else self.params[0])
            top = math.ceil(b / d) + 2
            values = [d * j - d / 2 for j in range(max(0, math.floor(a / d) - 1), top)]
            values += [d * j / limit for j in range(max(1, math.floor(a * limit / d) - 1), top)]
            values += [minv / limit]
        elif self.kind == "linear":
            return []
        if len(values) > MAX_BREAKS:
            raise UsageError(f"the rounding rule has more than {MAX_BREAKS} steps in this range; narrow --range")
        xs = [(v - self.offset) / self.slope for v in values]
        return _sorted({x for x in xs if lo < x < hi})


def _sorted(xs: Any) -> list[Fraction]:
    """Fractions in order, compared as floats first (exactly only on a tie): much faster."""
    return sorted(xs, key=lambda x: (float(x), x))


def _monotone(site: Site) -> bool:
    return (site.kind in ("floor", "ceil") or site.kind == "trunc" and site.offset >= 0) \
        and not site.pieces and site.slope > 0


def exact_breaks(site: Site, lo: Fraction, hi: Fraction) -> dict[Fraction, str]:
    """The candidates where the site's value really changes, each with the side its own value
    belongs to: `right` ([c, …), `left` (…, c]) or `none` (a value of its own)."""
    if site.kind in ("max", "min") and len(site.params) == 2 and lo >= 0:
        inner, const = site.params
        if isinstance(const, Site):
            inner, const = const, inner
        if isinstance(inner, Site) and not isinstance(const, Site) and _monotone(inner):
            # a rising step clamped by a constant changes exactly where the clamp lets its new value
            # through: above the floor of max(·, K), below the ceiling of min(·, K)
            out = {}
            for c, side in exact_breaks(inner, lo, hi).items():
                new = inner.at(c) if side == "right" else inner.at(c) + 1
                old = new - 1
                if (site.kind == "max" and new > const) or (site.kind == "min" and old < const):
                    out[c] = side
            return out
    cands = site.candidates(lo, hi)
    if not cands:
        return {}
    if _monotone(site) and lo >= 0:
        # a rising argument crosses a whole number at every candidate (positive for trunc): floor and
        # trunc take the new value at the crossing, ceil keeps the old one
        side = "left" if site.kind == "ceil" else "right"
        return {c: side for c in cands}
    points = [lo] + cands + [hi]
    mids = [(points[i] + points[i + 1]) / 2 for i in range(len(points) - 1)]
    mid_vals = [site.key(m) for m in mids]
    out = {}
    for i, c in enumerate(cands):
        v = site.key(c)
        left, right = mid_vals[i], mid_vals[i + 1]
        if left == v == right:
            continue
        out[c] = "left" if v == left else "right" if v == right else "none"
    return out


@record(frozen=False)
class Probe:
    knob: Any                     # the sympy symbol
    point: Fraction
    sites: dict[Site, int] = field(default_factory=dict)       # site -> how many rounding calls made it
    taken: dict[Site, int] = field(default_factory=dict)       # site -> how many of those a clamp took in

    @property
    def consumed(self) -> set[Site]:
        """Sites seen only through a clamp (max(int(c·α), 8)): their own steps below the clamp are hidden."""
        return {s for s, n in self.taken.items() if n >= self.sites.get(s, 0)}
    nonlinear: list[str] = field(default_factory=list)

    def _linear(self, x: Any) -> tuple[Fraction, Fraction] | None:
        """x = slope·knob + offset, or None (and noted) when x is not linear in the knob alone."""
        import sympy

        expr = sympy.expand(num.to_sympy(x))
        if expr.free_symbols - {self.knob}:
            raise UsageError(f"the rounding rule on `{x}` mixes {self.knob} with other symbols "
                             f"({', '.join(sorted(str(s) for s in expr.free_symbols - {self.knob}))}); "
                             f"fix them with --set, or use --ideal")
        slope = expr.diff(self.knob)
        offset = expr.subs(self.knob, 0)
        if slope.free_symbols or not slope.is_Rational or not offset.is_Rational:
            if not expr.has(sympy.Max, sympy.Min):
                self.nonlinear.append(str(x))
            return None
        return Fraction(int(slope.p), int(slope.q)), Fraction(int(offset.p), int(offset.q))

    def _pieces(self, x: Any) -> tuple[tuple[Fraction, Fraction, Fraction], ...] | None:
        """A piecewise-linear argument (max/min of linear terms): its pieces, from the kinks."""
        import sympy

        expr = num.to_sympy(x)
        kinks: set[Fraction] = set()
        for clamp in expr.atoms(sympy.Max, sympy.Min):
            lines = [self._linear(a) for a in clamp.args]
            if any(line is None for line in lines):
                return None
            for i, (k1, c1) in enumerate(lines):   # type: ignore[misc]
                for k2, c2 in lines[i + 1:]:        # type: ignore[misc]
                    if k1 != k2 and (c2 - c1) / (k1 - k2) > 0:
                        kinks.add((c2 - c1) / (k1 - k2))
        starts = [Fraction(0)] + sorted(kinks)
        ends = sorted(kinks) + [starts[-1] + 2]
        pieces = []
        for a, b in zip(starts, ends):
            p, q = a + (b - a) / 3, a + 2 * (b - a) / 3
            vp = expr.subs(self.knob, num.to_sympy(p))
            vq = expr.subs(self.knob, num.to_sympy(q))
            if not (vp.is_Rational and vq.is_Rational):
                return None
            fp, fq = Fraction(int(vp.p), int(vp.q)), Fraction(int(vq.p), int(vq.q))
            k = (fq - fp) / (q - p)
            pieces.append((a if a > 0 else Fraction(-10**9), k, fp - k * p))
        return tuple(pieces)

    def touches(self, *values: Any) -> bool:
        from . import canon

        if canon.base_unit(self.knob) is not None:     # an input-size symbol (ρ in 224·ρ): sizes stay closed forms
            return False
        return any(isinstance(v, Stepped) or (not num.is_exact(v) and not isinstance(v, (str, bool))
                                              and self.knob in getattr(v, "free_symbols", ())) for v in values)

    def round(self, kind: str, x: Any, *params: Any) -> Any:
        lin = self._linear(x)
        if lin is None:
            pieces = self._pieces(x) if not self.nonlinear else None
            if pieces is not None:
                site = Site(kind, params=tuple(params), pieces=pieces)
                self.sites[site] = self.sites.get(site, 0) + 1
                return Stepped(site.at(self.point), site)

            value = num.to_sympy(x).subs(self.knob, num.to_sympy(self.point))
            v = Fraction(int(value.p), int(value.q)) if value.is_Rational else None
            if v is None:
                raise UsageError(f"cannot evaluate `{x}` at {self.knob} = {num.fmt(self.point)}")
            return Site(kind, Fraction(0), v, params).at(self.point)
        site = Site(kind, lin[0], lin[1], tuple(params))
        self.sites[site] = self.sites.get(site, 0) + 1
        return Stepped(site.at(self.point), site)

    def clamp(self, kind: str, a: Any, b: Any) -> Any:
        parts = []
        for v in (a, b):
            if isinstance(v, Stepped):
                parts.append(v.site)
                self.taken[v.site] = self.taken.get(v.site, 0) + 1
            elif num.is_exact(v):
                parts.append(v)
            else:
                lin = self._linear(v)
                if lin is None:
                    raise UsageError(f"{kind}() of `{v}` is not linear in {self.knob}")
                parts.append(Site("linear", lin[0], lin[1]))
        site = Site(kind, params=tuple(parts))
        if any(isinstance(p, Site) and p.kind == "linear" for p in parts):
            import sympy  # stays a clamp of the knob: a rounding rule around it sees the kink

            return (sympy.Max if kind == "max" else sympy.Min)(num.to_sympy(a), num.to_sympy(b))
        self.sites[site] = self.sites.get(site, 0) + 1
        value = site.at(self.point)
        return Stepped(value, site) if float(value).is_integer() else value

    def breaks(self, lo: Fraction, hi: Fraction) -> dict[Fraction, str]:
        """Every knob value in (lo, hi) where some count changes, with the side its value belongs to."""
        out: dict[Fraction, str] = {}
        consumed = self.consumed
        for site in self.sites:
            if site in consumed:
                continue
            for c, side in exact_breaks(site, lo, hi).items():
                seen = out.get(c)
                out[c] = side if seen is None or seen == side else "none"
            if len(out) > MAX_BREAKS:
                raise UsageError(f"more than {MAX_BREAKS} steps in this range; narrow --range")
        return {c: out[c] for c in _sorted(out)}

    def signature(self, x: Fraction) -> tuple[Any, ...]:
        consumed = self.consumed
        return tuple(s.key(x) for s in self.sites if s not in consumed)


def probing(probe: Probe | None) -> Callable[[], None]:
    """Install `probe` as num.PROBE; returns the undo."""
    saved = num.PROBE
    num.PROBE = probe

    def undo() -> None:
        num.PROBE = saved

    return undo
