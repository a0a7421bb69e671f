"""Where a closed form in the input size holds: the sizes B ≥ minimum with B mod m in a residue set.

Built from the obligations recorded while the network was built (archcalc.canon): exact-mode
quotients must be whole (periodic in B), branches meeting at a join must agree (periodic), and
every size must be ≥ 1 (monotone in B: canonical sizes never decrease as B grows).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from . import canon
from .record import record

SEARCH_TOP = 1 << 40


@record
class Domain:
    x0: Any                     # the symbol part of the input size (H, rho)
    unit: Fraction              # the input size is B = unit·x0, a whole number
    modulus: int
    residues: tuple[int, ...]
    minimum: int | None         # the smallest valid B (None: no valid size)
    complete: bool = True       # False: an obligation was not understood (the form may hold on less)

    def base_text(self) -> str:
        name = {"alpha": "α", "rho": "ρ", "phi": "φ"}.get(str(self.x0), str(self.x0))
        if self.unit == 1:
            return name
        return f"{self.unit}·{name}" if self.unit.denominator == 1 else f"({self.unit})·{name}"

    def contains(self, b: int) -> bool:
        return self.minimum is not None and b >= self.minimum and b % self.modulus in self.residues

    def values(self, lo: int, hi: int) -> list[int]:
        """Valid B in [lo, hi]."""
        return [b for b in range(max(lo, self.minimum or hi + 1), hi + 1) if b % self.modulus in self.residues]

    def text(self) -> str:
        b = self.base_text()
        if self.minimum is None:
            return f"no whole {b} satisfies every layer"
        if len(self.residues) == self.modulus:
            out = f"for every {b} ≥ {self.minimum}"
        elif len(self.residues) == 1:
            out = f"for {b} ≡ {self.residues[0]} (mod {self.modulus}), {b} ≥ {self.minimum}"
        else:
            out = f"for {b} ≥ {self.minimum} with {b} mod {self.modulus} ∈ {{{_runs(self.residues, self.modulus)}}}"
        if self.unit != 1:
            out += f" ({b} is the input size, a whole number)"
        return out + ("" if self.complete else " (some conditions could not be put in canonical form and are not included)")


def _runs(residues: tuple[int, ...], m: int) -> str:
    """{0, 1, 2, 5, 31} → '31–2, 5' (runs wrap around the modulus)."""
    present = set(residues)
    starts = [r for r in residues if (r - 1) % m not in present]
    parts = []
    for s in sorted(starts, key=lambda r: (r if r != 0 or (m - 1) not in present else -1)):
        e = s
        while (e + 1) % m in present and (e + 1) % m != s:
            e = (e + 1) % m
        parts.append(str(s) if s == e else f"{s}–{e}" if (e - s) % m > 1 else f"{s}, {e}")
    return ", ".join(parts)


def _smallest_period(m: int, residues: set[int]) -> int:
    for d in sorted(x for x in range(1, m + 1) if m % x == 0):
        if all(((r % d) in {x % d for x in residues}) == (r in residues) for r in range(m)):
            return d
    return m


def _at(expr: Any, x0: Any, unit: Fraction, b: int) -> Fraction | None:
    form = canon.parse(expr)
    if form is not None and form.x0 == x0:
        return canon.value(form, b)
    import sympy

    v = sympy.sympify(expr).subs(x0, sympy.Rational(b) / sympy.Rational(unit.numerator, unit.denominator))
    return Fraction(int(v.p), int(v.q)) if getattr(v, "is_Rational", False) else None


def domains(obligations: Iterable[tuple[str, Any, Any]]) -> list[Domain]:
    """One Domain per input-size symbol that the obligations mention."""
    import sympy

    by_base: dict[Any, list[tuple[str, Any, Any]]] = {}
    for ob in obligations:
        free = set().union(*(sympy.sympify(e).free_symbols for e in ob[1:] if e is not None))
        for x0 in canon.bases():
            if x0 in free or any(s in free for s in getattr(x0, "free_symbols", ())):
                by_base.setdefault(x0, []).append(ob)
    out = []
    for x0, obs in by_base.items():
        out.append(_domain(x0, canon.bases()[x0], obs))
    return out


def _domain(x0: Any, unit: Fraction, obs: list[tuple[str, Any, Any]]) -> Domain:
    complete = True
    periodic: list[tuple[str, Any, Any]] = []
    m = 1
    for kind, a, b in obs:
        if kind == "pos":
            continue
        for e in (a, b):
            if e is None:
                continue
            form = canon.parse(e)
            if form is None or form.x0 != x0:
                complete = False
                continue
            d = canon.period(form) * form.coef.denominator * form.const.denominator
            m = m * d // math.gcd(m, d)
        periodic.append((kind, a, b))
    if m > canon.MAX_PERIOD:
        return Domain(x0, unit, 1, (0,), None, False)
    far = m * (1 << 20)
    residues = []
    for t in range(m):
        ok = True
        for kind, a, b in periodic:
            va = _at(a, x0, unit, far + t)
            if kind == "int":
                ok = va is not None and va.denominator == 1
            else:
                ok = va is not None and va == _at(b, x0, unit, far + t)
            if not ok:
                break
        if ok:
            residues.append(t)
    if not residues:
        return Domain(x0, unit, m, (), None, complete)
    d = _smallest_period(m, set(residues))
    residues = sorted({r % d for r in residues})
    low = 1
    for kind, a, _ in obs:
        if kind == "pos":
            low = max(low, _least(a, x0, unit))
    b = low
    while b % d not in residues:
        b += 1
    return Domain(x0, unit, d, tuple(residues), b, complete)


def _least(expr: Any, x0: Any, unit: Fraction) -> int:
    """Smallest B ≥ 1 with expr(B) ≥ 1 (sizes never decrease as B grows)."""
    def ok(b: int) -> bool:
        v = _at(expr, x0, unit, b)
        return v is not None and v >= 1

    if ok(1):
        return 1
    lo, hi = 1, 2
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > SEARCH_TOP:
            return SEARCH_TOP
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi
