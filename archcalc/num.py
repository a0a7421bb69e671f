"""Exact numbers: Python ints, Fractions, or sympy expressions when a symbol appears.

Every size rule is written once over these values; sympy is imported only when a value is
already symbolic, so concrete analyses never pay for it.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Union

    Number = Union[int, Fraction, Any]  # Any: a sympy expression


MAX_INT_BITS = 4096  # integers above 2**4096 are rejected as hostile
MAX_EXPONENT = 1300  # |e| in a written 1.5e<e> or 10**<e> (10**1300 ≈ 2**4318): checked before any power is taken

_DECIMAL = re.compile(r"^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$")


class NumberTooLarge(ValueError):
    """A written number whose exact value would be astronomically large (or small): refused before it is built."""


def pow10(e: int) -> "int | Fraction":
    """10**e exactly, for |e| ≤ MAX_EXPONENT; larger exponents are refused before the power is computed."""
    if abs(e) > MAX_EXPONENT:
        raise NumberTooLarge(f"number out of range: exponent {_short_int(e)} (limit ±{MAX_EXPONENT})")
    return 10**e if e >= 0 else Fraction(1, 10**-e)


def exact_decimal(text: str) -> "int | Fraction":
    """`1.15` → 23/20, `2e3` → 2000, exactly, with the exponent bounded first (`1e99999999` is refused
    at once, where Fraction(text) would compute a 100-million-digit power). ValueError if not a decimal."""
    m = _DECIMAL.match(text)
    if not m or not (m.group(2) or m.group(3)):
        raise ValueError(f"not a decimal number: {text[:40]!r}")
    sign, whole, frac, exp = m.group(1), m.group(2) or "", m.group(3) or "", m.group(4)
    e = 0
    if exp is not None:
        if len(exp.lstrip("+-").lstrip("0")) > 6:
            raise NumberTooLarge(f"number out of range: exponent {exp[:12]}{'…' if len(exp) > 12 else ''} "
                                 f"(limit ±{MAX_EXPONENT})")
        e = int(exp)
    digits = (whole + frac).lstrip("0")
    # the value's order of magnitude is len(digits) - len(frac) + e; bound it before building 10**e
    if digits and abs(len(whole.lstrip("0")) + e) > MAX_EXPONENT:
        raise NumberTooLarge(f"number out of range: about 10**{len(whole.lstrip('0')) + e} (limit ±{MAX_EXPONENT})")
    value = Fraction(int(whole + frac or "0")) * pow10(e - len(frac)) if digits else Fraction(0)
    value = -value if sign == "-" else value
    return norm(value)


def _short_int(v: int) -> str:
    s = str(v) if v.bit_length() < 200 else f"{'-' if v < 0 else ''}2**{v.bit_length() - 1}…"
    return s if len(s) <= 24 else s[:20] + "…"


PROBE: Any = None   # archcalc.steps.Probe while a knob's step function is traced


def is_exact(x: object) -> bool:
    t = type(x)
    if t is int or t is Fraction:
        return True
    return isinstance(x, (int, Fraction)) and not isinstance(x, bool)


def is_symbolic(x: object) -> bool:
    return not isinstance(x, (int, Fraction, bool, str))


def norm(x: Number) -> Number:
    """Fractions with denominator 1 become ints; sympy integers become ints."""
    if type(x) is int:
        return x
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else x
    if isinstance(x, int):
        return x
    if getattr(x, "is_Integer", False):
        return int(x)
    if getattr(x, "is_Rational", False):
        return Fraction(int(x.p), int(x.q))
    return x


def div(a: Number, b: Number) -> Number:
    """True division, exact."""
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else Fraction(a, b)
    if is_exact(a) and is_exact(b):
        return norm(Fraction(a) / Fraction(b))
    return norm(_sym(a) / _sym(b))


def floor(x: Number) -> Number:
    return _round(x, "floor")


def ceil(x: Number) -> Number:
    return _round(x, "ceil")


def _round(x: Number, kind: str) -> Number:
    """⌊x⌋ or ⌈x⌉: exact numbers directly, symbolic sizes in canon's form, anything else by sympy."""
    if is_exact(x):
        return math.floor(x) if kind == "floor" else math.ceil(x)
    if PROBE is not None and PROBE.touches(x):
        return PROBE.round(kind, x)
    from . import canon

    out = canon.floor_of(x) if kind == "floor" else canon.ceil_of(x)
    if out is not None:
        return norm(out)
    import sympy

    return norm(sympy.floor(x) if kind == "floor" else sympy.ceiling(x))


def trunc(x: Number) -> Number:
    if is_exact(x):
        return math.trunc(x)
    if PROBE is not None and PROBE.touches(x):
        return PROBE.round("trunc", x)
    import sympy

    return norm(sympy.sign(x) * sympy.floor(sympy.Abs(x)))


def is_integer(x: Number) -> bool | None:
    """True/False when decidable, None for a symbolic value whose integrality is unknown."""
    if isinstance(x, int):
        return True
    if isinstance(x, Fraction):
        return x.denominator == 1
    return getattr(x, "is_integer", None)


def is_positive(x: Number) -> bool | None:
    if is_exact(x):
        return x > 0
    return getattr(x, "is_positive", None)


def vmax(a: Number, b: Number) -> Number:
    if PROBE is not None and PROBE.touches(a, b):
        return PROBE.clamp("max", a, b)
    if is_exact(a) and is_exact(b):
        return max(a, b)
    import sympy

    return norm(sympy.Max(_sym(a), _sym(b)))


def vmin(a: Number, b: Number) -> Number:
    if PROBE is not None and PROBE.touches(a, b):
        return PROBE.clamp("min", a, b)
    if is_exact(a) and is_exact(b):
        return min(a, b)
    import sympy

    return norm(sympy.Min(_sym(a), _sym(b)))


def total(values: Any) -> Number:
    """An exact sum; symbolic terms are added once (sympy.Add of all of them), not folded one by one,
    which re-flattens the growing sum at every step (quadratic)."""
    if type(values) is list and (not values or set(map(type, values)) == {int}):
        return sum(values)
    exact: Number = 0
    terms = []
    for v in values:
        if is_exact(v):
            exact += v
        else:
            terms.append(v)
    if not terms:
        return norm(exact) if isinstance(exact, Fraction) else exact
    import sympy

    return norm(sympy.Add(_sym(exact), *terms))


def prod(values: "list[Number] | tuple[Number, ...]") -> Number:
    out: Number = 1
    for v in values:
        out = out * v
    return norm(out) if not is_exact(out) else out


def _sym(x: Number) -> Any:
    import sympy

    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, int):
        return sympy.Integer(x)
    return x


def to_sympy(x: Number) -> Any:
    return _sym(x)


def fmt(x: Number) -> str:
    """A number as a person writes it: 7/3 → '7/3', sympy via str()."""
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    return str(x)


def approx(x: Number, digits: int = 4) -> str:
    """7/3 → '2.333'; exact ints unchanged."""
    if isinstance(x, Fraction):
        return f"{float(x):.{digits}g}"
    return str(x)
