"""`formula SPEC --symbols alpha` without --ideal: the exact answer as a table of the knob's
intervals (archcalc.steps), each with its closed form in the other symbols (ρ, H, ...)."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import num
from .errors import UsageError
from .record import field, record
from .steps import Probe, probing

COUNT_TOP = Fraction(2)      # intervals are counted on 0 < knob ≤ max(2, range top)
SHOWN_AROUND = 4             # without --range: the default's interval and this many on each side
MAX_ROWS = 5000


@record
class Row:
    lo: Fraction
    hi: Fraction
    closed_lo: bool
    closed_hi: bool
    params: Any
    macs: Any
    activations: Any
    ratio: Any = None
    error: str | None = None     # the network is not valid on this interval

    @property
    def point(self) -> bool:
        return self.lo == self.hi


@record(frozen=False)
class StepTable:
    knob: str
    domain: tuple[Fraction, Fraction]     # where intervals were counted: domain[0] < knob ≤ domain[1]
    total: int
    rows: list[Row] = field(default_factory=list)
    whole: bool = False                   # tabulated at whole values (the knob enters a rule non-linearly)
    nonlinear: list[str] = field(default_factory=list)
    asked: tuple[Fraction, Fraction] | None = None


def stepped_knob(spec: str, symbols: list[str], sets: dict[str, Any], rounding: str | None) -> tuple[str, Probe] | None:
    """The one symbol whose rounding rules change channel or repeat counts, with its probe."""
    from .formula import SPATIAL, _analysis, symbol

    found = []
    for name in symbols:
        if name in SPATIAL or name in ("B", "batch", "C"):
            continue
        probe = Probe(symbol(name), _default_point(spec, name, sets))
        undo = probing(probe)
        try:   # the other symbols at their defaults: sizes stay numbers, the probe is cheap
            _analysis(spec, [name], False, sets, rounding)
        finally:
            undo()
        if probe.sites or probe.nonlinear:
            found.append((name, probe))
    if not found:
        return None
    if len(found) > 1:
        raise UsageError(f"{' and '.join(n for n, _ in found)} both change rounded channel or repeat counts: "
                         f"step one knob at a time (fix the others with --set), or use --ideal for the polynomial")
    return found[0]


def _default_point(spec: str, name: str, sets: dict[str, Any]) -> Fraction:
    from .analysis import load_spec
    from .expr import Expr

    parsed, _ = load_spec(spec)
    decl = parsed.vars.get(name)
    default = decl.default if decl is not None else 1
    if isinstance(default, Expr) or not num.is_exact(default) or isinstance(default, bool) or default <= 0:
        return Fraction(1)
    return Fraction(default)


def step_table(spec: str, symbols: list[str], knob: str, probe: Probe, sets: dict[str, Any],
               rounding: str | None, asked: tuple[Fraction, Fraction] | None,
               ratio_to: str | None = None, ratio_sets: dict[str, Any] | None = None) -> StepTable:
    top = max(COUNT_TOP, asked[1] if asked else COUNT_TOP)
    lo = Fraction(0)
    if probe.nonlinear:
        return _whole_table(spec, symbols, knob, probe, sets, rounding, asked, ratio_to, ratio_sets)
    breaks = probe.breaks(lo, top)
    segments = _segments(probe, lo, top, breaks)
    table = StepTable(knob, (lo, top), len(segments), asked=asked)
    if asked is not None:
        chosen = [s for s in segments if _meets(s, asked)]
    else:
        p = _default_point(spec, knob, sets)
        i = next((k for k, s in enumerate(segments) if _contains(s, p)), 0)
        around = SHOWN_AROUND if len(symbols) == 1 else SHOWN_AROUND // 2   # closed forms in ρ, H cost more
        chosen = segments[max(0, i - around): i + around + 1]
    if len(chosen) > MAX_ROWS:
        raise UsageError(f"--range holds {len(chosen)} intervals; at most {MAX_ROWS} print (narrow the range)")
    for lo_, hi_, cl, ch in chosen:
        x = lo_ if lo_ == hi_ else (lo_ + hi_) / 2
        table.rows.append(_safe_row(spec, symbols, knob, x, sets, rounding, (lo_, hi_, cl, ch), ratio_to, ratio_sets))
    return table


def _safe_row(spec: str, symbols: list[str], knob: str, x: Fraction, sets: dict[str, Any], rounding: str | None,
              seg: tuple[Fraction, Fraction, bool, bool], ratio_to: str | None,
              ratio_sets: dict[str, Any] | None) -> Row:
    """A row, or the reason the network is not valid on this interval (e.g. a width rounded to 0)."""
    from .errors import ArchcalcError

    try:
        return _row(spec, symbols, knob, x, sets, rounding, seg, ratio_to, ratio_sets)
    except ArchcalcError as e:
        return Row(seg[0], seg[1], seg[2], seg[3], None, None, None, error=str(e))


def _meets(seg: tuple[Fraction, Fraction, bool, bool], asked: tuple[Fraction, Fraction]) -> bool:
    """The piece shares a knob value with LO..HI."""
    lo, hi, cl, ch = seg
    a, b = asked
    if lo == hi:
        return a <= lo <= b
    return (hi > a or hi == a and ch) and (lo < b or lo == b and cl)


def _contains(seg: tuple[Fraction, Fraction, bool, bool], x: Fraction) -> bool:
    lo, hi, cl, ch = seg
    return (lo < x < hi) or (x == lo and cl) or (x == hi and ch)


def _segments(probe: Probe, lo: Fraction, top: Fraction,
              breaks: dict[Fraction, str]) -> list[tuple[Fraction, Fraction, bool, bool]]:
    """Pieces of (lo, top] on which every count is constant: (from, to, closed_from, closed_to)."""
    out: list[tuple[Fraction, Fraction, bool, bool]] = []
    start, closed = lo, False
    for b, side in breaks.items():
        if side == "left":
            out.append((start, b, closed, True))
            start, closed = b, False
        elif side == "right":
            out.append((start, b, closed, False))
            start, closed = b, True
        else:
            out.append((start, b, closed, False))
            out.append((b, b, True, True))
            start, closed = b, False
    at_top = probe.signature(top) == probe.signature((start + top) / 2)
    out.append((start, top, closed, at_top))
    if not at_top:
        out.append((top, top, True, True))
    return out


def _row(spec: str, symbols: list[str], knob: str, x: Fraction, sets: dict[str, Any], rounding: str | None,
         seg: tuple[Fraction, Fraction, bool, bool], ratio_to: str | None, ratio_sets: dict[str, Any] | None) -> Row:
    from .formula import _analysis

    rest = [s for s in symbols if s != knob]
    fixed = {**sets, knob: num.norm(x)}
    if rest:
        a = _analysis(spec, rest, False, fixed, rounding)
    else:
        from .analysis import analyze

        a = analyze(spec, vars=fixed)
    t = a.totals
    ratio = None
    if ratio_to:
        other = {**fixed, **(ratio_sets or {})}
        b = _analysis(ratio_to, rest, False, other, rounding) if rest else None
        if b is None:
            from .analysis import analyze

            b = analyze(ratio_to, vars=other)
        ratio = num.div(t.macs, b.totals.macs)
        if not num.is_exact(ratio):
            import sympy

            ratio = sympy.cancel(ratio)
    return Row(seg[0], seg[1], seg[2], seg[3], t.params, t.macs, t.activations, ratio)


def _whole_table(spec: str, symbols: list[str], knob: str, probe: Probe, sets: dict[str, Any],
                 rounding: str | None, asked: tuple[Fraction, Fraction] | None,
                 ratio_to: str | None, ratio_sets: dict[str, Any] | None) -> StepTable:
    """A knob inside a non-linear rule (EfficientNet's φ in 1.2^φ, 1.1^φ, round(224·1.15^φ)) is a
    whole number: one row per value."""
    lo, hi = asked if asked else (Fraction(0), Fraction(7))
    values = [Fraction(k) for k in range(max(0, -(-lo.numerator // lo.denominator)), int(hi) + 1)]
    if len(values) > MAX_ROWS:
        raise UsageError(f"--range holds {len(values)} whole values; at most {MAX_ROWS} print")
    table = StepTable(knob, (lo, hi), len(values), whole=True, nonlinear=sorted(set(probe.nonlinear)), asked=asked)
    for v in values:
        table.rows.append(_safe_row(spec, symbols, knob, v, sets, rounding, (v, v, True, True), ratio_to, ratio_sets))
    return table


def parse_range(text: str | None) -> tuple[Fraction, Fraction] | None:
    if text is None:
        return None
    from .errors import ArchcalcError
    from .expr import parse_constant

    if ".." not in text:
        raise UsageError(f"--range takes LO..HI (e.g. 0.25..1.4), got {text!r}")
    a, b = text.split("..", 1)
    try:
        lo, hi = parse_constant(a.strip()), parse_constant(b.strip())
    except ArchcalcError as e:  # an ExprError names the problem
        raise UsageError(f"--range {text}: {getattr(e, 'message', e)}") from None
    if not (num.is_exact(lo) and num.is_exact(hi)) or isinstance(lo, bool) or isinstance(hi, bool) or not 0 <= lo < hi:
        raise UsageError(f"--range {text}: expected 0 ≤ LO < HI")
    if hi > 1000:
        raise UsageError(f"--range {text}: HI above 1000 is not a width or depth knob")
    return Fraction(lo), Fraction(hi)
