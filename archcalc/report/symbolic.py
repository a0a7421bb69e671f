"""Closed forms as a person writes them, on one line: ⌈H/2⌉, 38592·H² + 221184·⌊H/2⌋² + …

Sums print grouped by distinct size terms (one coefficient per product of sizes), largest
degree first, full-resolution sizes before strided ones. JSON keeps sympy's exact text.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .. import canon, num

GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "rho": "ρ", "phi": "φ"}
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
CELL_WIDTH = 40


def name(sym: Any) -> str:
    return GREEK.get(str(sym), str(sym))


def _base_text(x0: Any) -> str:
    unit = canon.base_unit(x0)
    text = name(x0)
    if unit is None or unit == 1:
        return text
    return f"{unit.numerator}{text}" if unit.denominator == 1 else f"({num.fmt(unit)})·{text}"


def _printer() -> Any:
    from sympy.printing.str import StrPrinter

    class Readable(StrPrinter):  # type: ignore[misc]
        def _print_Symbol(self, e: Any) -> str:
            return name(e)

        def _print_floor(self, e: Any) -> str:
            parts = canon.atom_parts(e)
            if parts is None:
                return f"⌊{self._print(e.args[0])}⌋"
            x0, p, r, q = parts
            unit = canon.base_unit(x0)
            if unit is not None and unit != 1 and r in (0, q - 1):     # ⌈224ρ/2⌉ = ⌈112ρ⌉
                k = unit * p / q
                inner = (f"{k.numerator}" if k.denominator == 1 else f"({num.fmt(k)})·") + name(x0)
                return f"⌊{inner}⌋" if r == 0 else f"⌈{inner}⌉"
            b = _base_text(x0)
            top = b if p == 1 else f"{p}·{b}"
            if r == 0:
                return f"⌊{top}/{q}⌋"
            if r == q - 1:                 # ⌊(n + q − 1)/q⌋ = ⌈n/q⌉
                return f"⌈{top}/{q}⌉"
            return f"⌊({top} + {r})/{q}⌋"

        def _print_ceiling(self, e: Any) -> str:
            return f"⌈{self._print(e.args[0])}⌉"

        def _print_Max(self, e: Any) -> str:
            return "max(" + ", ".join(self._print(a) for a in e.args) + ")"

        def _print_Min(self, e: Any) -> str:
            return "min(" + ", ".join(self._print(a) for a in e.args) + ")"

        def _print_Pow(self, e: Any, rational: bool = False) -> str:
            base, exp = e.args
            if exp.is_Integer and 1 < exp < 10:
                b = self._print(base)
                if not (base.is_Symbol or base.is_Function):
                    b = f"({b})"
                return b + str(exp).translate(SUPERSCRIPT)
            return super()._print_Pow(e, rational)

    return Readable({"order": "none"})


_PRINTER: Any = None


def _p(expr: Any) -> str:
    global _PRINTER
    if _PRINTER is None:
        _PRINTER = _printer()
    return _PRINTER.doprint(expr).replace("**", "^").replace("*", "·")


def _rank(gens: tuple[Any, ...], monom: tuple[int, ...]) -> tuple[Any, ...]:
    """Degree first; then sizes at full resolution before strided ones (small q first)."""
    degree = sum(monom)
    strides = []
    for g, k in zip(gens, monom):
        parts = canon.atom_parts(g)
        strides += [parts[3] if parts else 1] * k
    return (-degree, sorted(strides), str(monom))


@lru_cache(maxsize=4096)
def text(expr: Any) -> str:
    """One line: a size, a polynomial in sizes (grouped by size terms), or sympy's form."""
    if num.is_exact(expr) or isinstance(expr, str):
        return num.fmt(expr)
    import sympy

    expr = sympy.sympify(expr)
    if any(p.exp.free_symbols for p in expr.atoms(sympy.Pow)):
        return _powers(expr)
    if not expr.is_Add:                      # a size, or a coefficient times sizes: nothing to group
        if expr.is_Mul and any(f.is_Add for f in expr.args):
            expr = sympy.expand(expr)
        if not expr.is_Add:
            return _p(expr)
    gens = tuple(sorted(expr.free_symbols, key=str)) + tuple(sorted(
        (a for a in expr.atoms(sympy.floor, sympy.ceiling) if a.free_symbols), key=str))
    try:
        poly = sympy.Poly(expr, *gens) if gens else None
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):
        poly = None
    if poly is None:
        n, d = sympy.fraction(sympy.together(expr)) if expr.free_symbols else (expr, 1)
        if d != 1 and not d.is_number and not d.is_Pow:
            top, bottom = text(n), text(d)
            return f"{f'({top})' if n.is_Add else top} / {f'({bottom})' if d.is_Add or d.is_Mul else bottom}"
        return _p(expr)
    if not poly.domain.is_QQ and not poly.domain.is_ZZ or len(poly.terms()) <= 1:
        return _p(expr)
    terms = sorted(poly.terms(), key=lambda t: _rank(gens, t[0]))
    out = []
    for monom, coeff in terms:
        factors = [g if k == 1 else g ** k for g, k in zip(gens, monom) if k]
        body = "·".join(_p(f) for f in factors)
        c = sympy.Rational(coeff)
        mag = abs(c)
        lead = "" if mag == 1 and body else _p(mag)
        piece = f"{lead}·{body}" if lead and body else (lead or body)
        if c.q != 1 and body:
            piece = f"{_p(sympy.Integer(abs(c.p)))}·{body}/{c.q}" if abs(c.p) != 1 else f"{body}/{c.q}"
        sign = "−" if c < 0 else "+"
        out.append((sign, piece))
    first_sign, first = out[0]
    line = ("−" if first_sign == "−" else "") + first
    for sign, piece in out[1:]:
        line += f" {sign} {piece}"
    return line


def _powers(expr: Any) -> str:
    """Compound scaling: Σ c·bᵠ, one term per base, fastest-growing first (EfficientNet's
    α·β²·γ² = 1.920 leads, Tan & Le Eq. 3)."""
    import sympy

    flat = sympy.powsimp(sympy.expand(expr), combine="base", force=True)
    def base(term: Any) -> float:
        pows = [p for p in term.atoms(sympy.Pow) if p.exp.free_symbols]
        return max((float(p.base) for p in pows if p.base.is_number), default=0.0)
    terms = sorted(sympy.Add.make_args(flat), key=lambda t: -base(t))
    out = ""
    for i, t in enumerate(terms):
        piece = _p(t)
        if i == 0:
            out = piece.replace("-", "−", 1) if piece.startswith("-") else piece
        elif piece.startswith("-"):
            out += " − " + piece[1:]
        else:
            out += " + " + piece
    return out


class Footnotes:
    """Cells longer than CELL_WIDTH become [n], their forms listed under the table."""

    def __init__(self, width: int = CELL_WIDTH) -> None:
        self.width = width
        self.notes: dict[str, int] = {}

    def cell(self, value: Any) -> str:
        t = text(value)
        if len(t) <= self.width:
            return t
        if t not in self.notes:
            self.notes[t] = len(self.notes) + 1
        return f"[{self.notes[t]}]"

    def lines(self) -> list[str]:
        return [f"[{n}] {t}" for t, n in self.notes.items()]


_EXACT: dict[Any, str] = {}


def exact_text(expr: Any) -> str:
    """sympy-readable exact text (as str(expr) gives, terms in build order), cached per expression:
    sympy's own printer sorts every sum and costs ~1 ms an expression."""
    try:
        return _EXACT[expr]
    except KeyError:
        pass
    except TypeError:
        return str(expr)
    out = _exact(expr)
    if len(_EXACT) < 100_000:
        _EXACT[expr] = out
    return out


def _exact(e: Any) -> str:
    if e.is_Integer or e.is_Symbol:
        return str(e)
    if e.is_Rational:
        return f"{e.p}/{e.q}"
    if e.is_Pow and e.exp.is_Integer and e.exp > 0:
        b = exact_text(e.base)
        return (f"({b})" if e.base.is_Add or e.base.is_Mul or e.base.is_Rational and not e.base.is_Integer
                else b) + f"**{e.exp}"
    if e.is_Mul:
        coeff, rest = e.as_coeff_Mul()
        factors = [f"({exact_text(f)})" if f.is_Add else exact_text(f) for f in rest.as_ordered_factors()]
        if coeff == 1:
            return "*".join(factors)
        if coeff == -1:
            return "-" + "*".join(factors)
        c = exact_text(coeff)
        return "*".join([f"({c})" if not coeff.is_Integer else c] + factors)
    if e.is_Add:
        out = ""
        for i, term in enumerate(e.args):
            t = exact_text(term)
            if i == 0:
                out = t
            elif t.startswith("-"):
                out += " - " + t[1:]
            else:
                out += " + " + t
        return out
    return str(e)


_LATEX: Any = None


def latex(expr: Any) -> str:
    """LaTeX with canonical sizes as \\lceil H/2 \\rceil rather than ⌊H/2 + 1/2⌋."""
    global _LATEX
    if _LATEX is None:
        from sympy.printing.latex import LatexPrinter

        class Printer(LatexPrinter):  # type: ignore[misc]
            def _print_floor(self, e: Any, exp: Any = None) -> str:
                parts = canon.atom_parts(e)
                if parts is None:
                    return super()._print_floor(e, exp)
                x0, p, r, q = parts
                unit = canon.base_unit(x0) or 1
                b = self._print(p * unit * x0)
                if r in (0, q - 1):
                    inner = rf"\frac{{{b}}}{{{q}}}"
                    out = (rf"\left\lfloor {inner} \right\rfloor" if r == 0 else rf"\left\lceil {inner} \right\rceil")
                else:
                    out = rf"\left\lfloor \frac{{{b} + {r}}}{{{q}}} \right\rfloor"
                return f"{out}^{{{exp}}}" if exp is not None else out

        _LATEX = Printer()
    if num.is_exact(expr):
        return num.fmt(expr)
    return str(_LATEX.doprint(expr))
