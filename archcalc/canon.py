"""Canonical symbolic sizes: α·⌊(p·B + r)/q⌋ + β over an integer-valued base B (an input size).

Floors and ceilings of strides are composed as sizes are built, never left for sympy to nest:
for integer k, real x and positive integers n, v (Graham, Knuth & Patashnik, Concrete
Mathematics §3.2, (3.10)-(3.12)):
    ⌊(⌊x⌋ + k)/n⌋ = ⌊(x + k)/n⌋,   ⌈x/n⌉ = ⌈⌈x⌉/n⌉,   ⌈k/n⌉ = ⌊(k + n − 1)/n⌋,   ⌊−x⌋ = −⌈x⌉.
With gcd(p, q) = 1 and 0 ≤ r < q the floor ⌊(p·B + r)/q⌋ is a unique function of B, so two
sizes are equal for every input exactly when their canonical forms are equal.
Only `floor_of`/`ceil_of` build atoms; every atom is made once (cached), unevaluated.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

from .record import record

# primitive symbol part X0 of a declared input size -> unit u with B = u·X0 integer-valued
_BASES: dict[Any, Fraction] = {}
# canonical floor atom -> (X0, p, r, q): ⌊(p·B + r)/q⌋ with B = u·X0
_ATOMS: dict[Any, tuple[Any, int, int, int]] = {}
_MADE: dict[tuple[Any, int, int, int], Any] = {}
_PARSED: dict[Any, Form | None] = {}
_ROUNDED: dict[tuple[Any, str], Any] = {}


@record
class Form:
    """value = coef·K + const, K the base B itself (atom None) or a floor atom (integer-valued)."""
    x0: Any
    atom: Any            # None: K = B
    coef: Fraction
    const: Fraction


def declare_base(size: Any) -> None:
    """An input size expression (H, 224·rho): integer-valued by definition."""
    import sympy

    if not isinstance(size, sympy.Basic) or size.is_number:
        return
    c, x0 = size.as_coeff_Mul()
    if x0.is_Add or x0.has(sympy.floor, sympy.ceiling):
        return
    if x0.is_integer:
        c = sympy.Integer(1)     # B = X0 itself is already a whole number
    unit = Fraction(int(c.p), int(c.q))
    if _BASES.get(x0, unit) != unit:
        # the same symbol as another input size (224·ρ, then 192·ρ): forms built on the old unit
        # no longer apply; forget them (they fall back to plain sympy)
        for table in (_BASES, _ATOMS, _MADE, _PARSED, _ROUNDED):
            table.clear()
    if x0 not in _BASES:
        _BASES[x0] = unit
        _PARSED.clear()


def bases() -> dict[Any, Fraction]:
    return dict(_BASES)


def _frac(c: Any) -> Fraction | None:
    if getattr(c, "is_Rational", False):
        return Fraction(int(c.p), int(c.q))
    return None


def parse(expr: Any) -> Form | None:
    """coef·K + const, or None when `expr` is not one atom (or base) plus a constant."""
    try:
        return _PARSED[expr]
    except KeyError:
        pass
    except TypeError:
        return None
    import sympy

    const = Fraction(0)
    found: list[tuple[Fraction, Any]] = []
    for term in sympy.Add.make_args(expr):
        c, rest = term.as_coeff_Mul()
        fc = _frac(c)
        if fc is None:
            found = []
            break
        if rest is sympy.S.One:
            const += fc
        else:
            found.append((fc, rest))
    out: Form | None = None
    if len(found) == 1:
        coef, rest = found[0]
        if rest in _ATOMS:
            out = Form(_ATOMS[rest][0], rest, coef, const)
        elif rest in _BASES:
            out = Form(rest, None, coef / _BASES[rest], const)
    if len(_PARSED) < 200_000:
        _PARSED[expr] = out
    return out


def _base(x0: Any) -> Any:
    import sympy

    u = _BASES[x0]
    return sympy.Rational(u.numerator, u.denominator) * x0


def _atom(x0: Any, p: int, r: int, q: int) -> Any:
    """⌊(p·B + r)/q⌋ − nothing else; p, q coprime, 0 ≤ r < q, q ≥ 2."""
    key = (x0, p, r, q)
    made = _MADE.get(key)
    if made is None:
        import sympy

        u = _BASES[x0]
        arg = sympy.Rational(p * u.numerator, q * u.denominator) * x0 + sympy.Rational(r, q)
        made = sympy.floor(arg, evaluate=False)
        _MADE[key] = made
        _ATOMS[made] = key
    return made


def _floor_base(x0: Any, p: int, n0: int, v: int) -> Any:
    """⌊(p·B + n0)/v⌋ in canonical form."""
    g = math.gcd(p, v)
    if g > 1:                      # ⌊(g·p'·B + n0)/(g·v')⌋ = ⌊(p'·B + ⌊n0/g⌋)/v'⌋ since p'·B is whole
        p, n0, v = p // g, n0 // g, v // g
    if v == 1:
        return p * _base(x0) + n0
    t, r = divmod(n0, v)
    return _atom(x0, p, r, v) + t


def _floor_int(form: Form, u: int, n0: int, v: int) -> Any:
    """⌊(u·K + n0)/v⌋ for the whole-number K of `form`, u and n0 integers, v ≥ 1; None if no single atom."""
    if u == 0:
        return n0 // v
    if u < 0:                      # ⌊(−k + n0)/v⌋ = −⌈(k − n0)/v⌉ = −⌊(k − n0 + v − 1)/v⌋
        inner = _floor_int(form, -u, -n0 + v - 1, v)
        return None if inner is None else -inner
    if form.atom is None:
        return _floor_base(form.x0, u, n0, v)
    if u % v == 0:
        return (u // v) * form.atom + n0 // v
    g = math.gcd(u, v)
    u, n0, v = u // g, n0 // g, v // g
    if u == 1:                     # ⌊(⌊(pB + r)/q⌋ + n0)/v⌋ = ⌊(pB + r + n0·q)/(q·v)⌋
        _, p, r, q = _ATOMS[form.atom]
        return _floor_base(form.x0, p, r + n0 * q, q * v)
    return None


def _split(form: Form) -> tuple[int, int, Fraction]:
    """value = (u·K + w)/v with u, v integers and w = v·const rational."""
    u, v = form.coef.numerator, form.coef.denominator
    return u, v, form.const * v


def floor_of(expr: Any) -> Any:
    """⌊expr⌋ in canonical form, or None when `expr` has no single-atom form."""
    return _rounded(expr, "f")


def ceil_of(expr: Any) -> Any:
    """⌈expr⌉ = ⌊(u·K + ⌈w⌉ + v − 1)/v⌋ in canonical form, or None."""
    return _rounded(expr, "c")


def _rounded(expr: Any, kind: str) -> Any:
    key = (expr, kind)
    if key in _ROUNDED:
        return _ROUNDED[key]
    form = parse(expr)
    out = None
    if form is not None:
        u, v, w = _split(form)
        out = _floor_int(form, u, math.floor(w) if kind == "f" else math.ceil(w) + v - 1, v)
    if len(_ROUNDED) < 200_000:
        _ROUNDED[key] = out
    return out


def same(a: Any, b: Any) -> bool | None:
    """Equal for every input (True), different for some (False), or None when undecided."""
    if a == b:
        return True
    fa, fb = parse(a), parse(b)
    if fa is None or fb is None:
        return None
    return fa == fb


def atom_parts(atom: Any) -> tuple[Any, int, int, int] | None:
    """(X0, p, r, q) of a canonical floor atom ⌊(p·B + r)/q⌋."""
    return _ATOMS.get(atom)


def base_unit(x0: Any) -> Fraction | None:
    return _BASES.get(x0)


# ---------------------------------------------------------------- obligations (where a closed form holds)
_OBLIGATIONS: dict[tuple[str, Any, Any], None] | None = None


@contextmanager
def collecting() -> Iterator[dict[tuple[str, Any, Any], None]]:
    """Record, while building one network, what its sizes must satisfy: `int` (an exact-mode
    quotient is whole), `pos` (a size is ≥ 1), `eq` (two branches agree at a join)."""
    global _OBLIGATIONS
    saved, _OBLIGATIONS = _OBLIGATIONS, {}
    try:
        yield _OBLIGATIONS
    finally:
        _OBLIGATIONS = saved


def require(kind: str, a: Any, b: Any = None) -> None:
    if _OBLIGATIONS is not None and len(_OBLIGATIONS) < 100_000:
        _OBLIGATIONS[(kind, a, b)] = None


def slope(form: Form) -> Fraction:
    if form.atom is None:
        return form.coef
    _, p, _, q = _ATOMS[form.atom]
    return form.coef * Fraction(p, q)


def period(form: Form) -> int:
    return 1 if form.atom is None else _ATOMS[form.atom][3]


def value(form: Form, b: int) -> Fraction:
    """The form at base value B = b."""
    if form.atom is None:
        return form.coef * b + form.const
    _, p, r, q = _ATOMS[form.atom]
    return form.coef * ((p * b + r) // q) + form.const


MAX_PERIOD = 1 << 16


def join_equal(a: Any, b: Any) -> bool | None:
    """Branches meeting at a join: True when equal for every input, or equal on some residues of
    the input (recorded as an obligation); False when equal for no large input; None: undecided."""
    if a == b:
        return True
    fa, fb = parse(a), parse(b)
    if fa is None or fb is None:
        if getattr(a, "is_number", False) != getattr(b, "is_number", False) and (fa or fb) is not None:
            return False          # a constant never equals a size that grows with the input
        return None
    if fa == fb:
        return True
    if fa.x0 != fb.x0 or slope(fa) != slope(fb):
        return False
    m = period(fa) * period(fb) // math.gcd(period(fa), period(fb))
    if m > MAX_PERIOD:
        return None
    far = m * (1 << 20)
    if not any(value(fa, far + t) == value(fb, far + t) for t in range(m)):
        return False
    require("eq", a, b)
    return True


def at(expr: Any, values: dict[Any, int]) -> Any:
    """`expr` with each base symbol x0 set so that its input size B = values[x0] (atoms first)."""
    import sympy

    expr = sympy.sympify(expr)
    swap: dict[Any, Any] = {}
    for atom in expr.atoms(sympy.floor):
        parts = _ATOMS.get(atom)
        if parts is not None and parts[0] in values:
            _, p, r, q = parts
            swap[atom] = sympy.Integer((p * values[parts[0]] + r) // q)
    for x0, b in values.items():
        u = _BASES.get(x0, Fraction(1))
        swap[x0] = sympy.Rational(b) / sympy.Rational(u.numerator, u.denominator)
    out = expr.xreplace(swap)
    return out if not out.free_symbols & set(values) else expr.subs(swap)
