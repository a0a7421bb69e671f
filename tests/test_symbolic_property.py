"""Closed forms against the concrete analysis (the independent check is archcalc's own integer
arithmetic at each size, which the other tests tie to torchvision, Keras and the papers).

For every built-in spec: `formula --symbols H` must build, its domain must say exactly which sizes
the concrete analysis accepts, and its params/MACs/activations must equal the concrete totals at
every valid size of a window (start drawn with a fixed seed). For every width/depth knob: the step
function's value on each interval must equal the concrete analysis at both ends (where closed),
at the midpoint and at a seeded interior point, so a missed breakpoint cannot hide.
"""
from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy

from archcalc import canon, catalog
from archcalc.analysis import analyze
from archcalc.domain import domains
from archcalc.errors import ArchcalcError
from archcalc.formula import _analysis, symbol
from archcalc.stepforms import step_table, stepped_knob

SEED = 20261126
WINDOW = 10
HEAVY = {"efficientnet_b5": 3, "efficientnet_b6": 3, "efficientnet_b7": 3, "densenet121": 5, "resnet152": 5,
         "resnet101": 5, "densenet": 5}


def _concrete(name: str, h: int) -> object | None:
    try:
        return analyze(name, input=(h,))
    except ArchcalcError:
        return None


@pytest.mark.parametrize("name", catalog.builtin_names())
def test_closed_forms_in_h_equal_the_concrete_analysis(name: str) -> None:
    a = _analysis(name, ["H"], False, {})
    assert a.network.input[1:] == (symbol("H"), symbol("H"))
    found = domains(a.network.obligations)
    assert len(found) == 1, found
    d = found[0]
    assert d.complete and d.minimum is not None, d.text()
    default = analyze(name).network.input[1]
    rng = random.Random(f"{SEED}:{name}")
    width = HEAVY.get(name, WINDOW)
    start = rng.randrange(max(1, d.minimum - 2), max(d.minimum + 1, 2 * default))
    sizes = list(range(start, start + width))
    sizes += [s for s in (d.minimum - 1, d.minimum, default) if s >= 1 and s not in sizes]
    if len(d.residues) < d.modulus:   # periodic domains: the next valid size too
        sizes += d.values(start + width, start + width + d.modulus)[:1]
    H = symbol("H")
    checked = 0
    for h in sizes:
        c = _concrete(name, h)
        assert (c is not None) == d.contains(h), f"{name} at H={h}: domain says {d.contains(h)} ({d.text()})"
        if c is None:
            continue
        checked += 1
        for key in ("params", "macs", "activations"):
            got = canon.at(getattr(a.totals, key), {H: h})
            assert got == getattr(c.totals, key), f"{name} {key} at H={h}"   # type: ignore[attr-defined]
        out = [canon.at(x, {H: h}) for x in a.network.output]
        assert tuple(out) == tuple(c.network.output), name                  # type: ignore[attr-defined]
    assert checked >= 1


KNOBS = [("mobilenet_v1", "alpha"), ("mobilenet_v2", "alpha"), ("efficientnet", "width"),
         ("efficientnet", "depth"), ("mobilenet_v1", "alpha", {"impl": "keras"})]


@pytest.mark.parametrize("case", KNOBS, ids=lambda c: f"{c[0]}-{c[1]}" + ("-" + "-".join(c[2].values()) if len(c) > 2 else ""))
def test_step_function_equals_concrete_at_every_breakpoint(case: tuple) -> None:
    spec, knob = case[0], case[1]
    sets = dict(case[2]) if len(case) > 2 else {}
    rng = random.Random(f"{SEED}:{spec}:{knob}")
    lo = Fraction(rng.randrange(40, 110), 100)
    asked = (lo, lo + Fraction(1, 32))
    found = stepped_knob(spec, [knob], sets, None)
    assert found is not None and found[0] == knob
    table = step_table(spec, [knob], knob, found[1], sets, None, asked)
    assert table.rows and table.total >= len(table.rows)
    for i, row in enumerate(table.rows):
        if i:
            prev = table.rows[i - 1]
            assert prev.hi == row.lo and not (prev.closed_hi and row.closed_lo)   # a partition of the range
        points = [row.lo] if row.point else [(row.lo + row.hi) / 2,
                                             row.lo + (row.hi - row.lo) * Fraction(rng.randrange(1, 97), 97)]
        points += [p for p, closed in ((row.lo, row.closed_lo), (row.hi, row.closed_hi)) if closed and not row.point]
        for x in points:
            c = analyze(spec, vars={**sets, knob: x})
            assert (c.totals.params, c.totals.macs, c.totals.activations) == (row.params, row.macs, row.activations), \
                f"{spec} {knob}={x} in row {row.lo}..{row.hi}"


def test_whole_number_knob_phi_is_one_row_per_value() -> None:
    found = stepped_knob("efficientnet", ["phi"], {}, None)
    assert found is not None
    table = step_table("efficientnet", ["phi"], "phi", found[1], {}, None, (Fraction(0), Fraction(2)))
    assert table.whole and [r.lo for r in table.rows] == [0, 1, 2]
    for row in table.rows:
        c = analyze("efficientnet", vars={"phi": int(row.lo)})
        assert (c.totals.params, c.totals.macs) == (row.params, row.macs)
    assert table.rows[0].params == 5_288_548 and table.rows[0].macs == 385_814_752   # B0: torchvision num_params, _ops


def test_rho_closed_form_equals_concrete_at_the_papers_resolutions() -> None:
    # MobileNet Table 7: ρ = 1, 6/7, 5/7, 4/7 give 224, 192, 160, 128
    a = _analysis("mobilenet_v1", ["rho"], False, {})
    rho = sympy.Symbol("rho", positive=True)
    for r, size in ((1, 224), (Fraction(6, 7), 192), (Fraction(5, 7), 160), (Fraction(4, 7), 128)):
        c = analyze("mobilenet_v1", vars={"rho": r})
        assert canon.at(a.totals.macs, {rho: size}) == c.totals.macs
