"""Canonical sizes, domains and readable forms, against hand derivations written here."""
from __future__ import annotations

import json

import sympy

from archcalc import canon, num
from archcalc.formula import closed_forms, symbol
from archcalc.report.symbolic import Footnotes, text

H = symbol("H")


def _declare() -> None:
    canon.declare_base(H)


def _brute(f, lo: int = 1, hi: int = 200) -> list[int]:   # type: ignore[no-untyped-def]
    return [f(h) for h in range(lo, hi)]


def test_strides_compose_into_one_floor() -> None:
    _declare()
    # conv 3×3/2 pad 1 (floor): ⌊(H + 2 − 3)/2⌋ + 1 = ⌊(H − 1)/2⌋ + 1 = ⌈H/2⌉
    s1 = num.floor(num.div(H + 2 - 3, 2)) + 1
    assert text(s1) == "⌈H/2⌉"
    # then maxpool 3/2 pad 1: ⌊(⌈H/2⌉ − 1)/2⌋ + 1 = ⌈H/4⌉ (ResNet's stem)
    s2 = num.floor(num.div(s1 + 2 - 3, 2)) + 1
    assert text(s2) == "⌈H/4⌉"
    assert _brute(lambda h: int(canon.at(s2, {H: h}))) == _brute(lambda h: ((h + 1) // 2 + 1) // 2)


def test_ceil_of_floor_and_floor_of_ceil_are_one_atom() -> None:
    _declare()
    f = num.floor(num.div(H, 3))                          # ⌊H/3⌋
    c = num.ceil(num.div(f - 1, 2))                        # ⌈(⌊H/3⌋ − 1)/2⌉ = ⌊(⌊H/3⌋)/2⌋ = ⌊H/6⌋
    assert canon.parse(c) is not None
    assert _brute(lambda h: int(canon.at(c, {H: h}))) == _brute(lambda h: -(-((h // 3) - 1) // 2))
    g = num.floor(num.div(num.ceil(num.div(H, 4)) + 5, 3))
    assert _brute(lambda h: int(canon.at(g, {H: h}))) == _brute(lambda h: (-(-h // 4) + 5) // 3)


def test_join_equal_on_residues_is_recorded_and_unequal_slopes_refused() -> None:
    _declare()
    a = num.ceil(num.div(H, 2))                            # ⌈H/2⌉
    b = num.floor(num.div(H, 2))                           # ⌊H/2⌋: equal exactly for even H
    with canon.collecting() as obligations:
        assert canon.join_equal(a, b) is True
    assert [kind for kind, _, _ in obligations] == ["eq"]
    d, = __import__("archcalc.domain", fromlist=["domains"]).domains(list(obligations))
    assert (d.modulus, d.residues) == (2, (0,))
    assert canon.join_equal(a, num.floor(num.div(H, 3))) is False        # H/2 vs H/3 grow apart


def test_vgg16_exact_domain_and_at() -> None:
    # five 2×2/2 pools, every conv 3×3 pad 1: exact for H divisible by 2^5 = 32, and H/32 ≥ 1
    f = closed_forms("vgg16", ["H"], at=[{"H": 224}, {"H": 225}])
    assert f.domain == ["for H ≡ 0 (mod 32), H ≥ 32"]
    assert f.at[0]["macs"] == 15_470_264_320 and f.at[0]["params"] == 138_357_544   # the design's VGG-16 figures
    assert f.at[1]["in_domain"] is False


def test_vgg16_floor_domain_is_every_h_from_32() -> None:
    # floor mode: ⌊H/32⌋ ≥ 1 ⇔ H ≥ 32; nothing else constrains the size
    assert closed_forms("vgg16", ["H"], rounding="floor").domain == ["for every H ≥ 32"]


def test_bn_inception_builds_with_the_residues_its_joins_need(cli_run) -> None:   # type: ignore[no-untyped-def]
    code, out, err = cli_run("formula", "bn_inception", "--symbols", "H", "--at", "H=224", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["at"][0]["H"] == 224
    # the stride-2 modules concat a 3×3/2 pad-1 conv (⌈N/2⌉) with a 3×3/2 ceil-mode pool (⌈(N − 1)/2⌉):
    # equal only for even N, so only some residues of H are valid (223…230 around 224)
    assert data["domain"] and "mod 32" in data["domain"][0]
    assert sympy.sympify(data["formulas"]["macs"], locals={"H": H}).subs(H, 224) == data["at"][0]["macs"]


def test_same_padding_is_ceil_h_over_s() -> None:
    f = closed_forms("mobilenet_v1", ["H"])
    assert [text(x) for x in f.output] == ["1000"]
    # Table 1: strides 2, 2, 2, 2, 2 with 'same' padding: ⌈H/2⌉ … ⌈H/32⌉; pointwise 1024·1024 at ⌈H/32⌉²
    assert "1586688·⌈H/32⌉²" in text(f.raw["macs"])


def test_footnotes_keep_cells_on_one_line() -> None:
    _declare()
    notes = Footnotes(width=20)
    long = 123456789 * num.ceil(num.div(H, 2)) ** 2 + 987654321 * num.ceil(num.div(H, 4)) ** 2 + 5
    assert notes.cell(long) == "[1]" and notes.lines()[0].startswith("[1] 123456789·⌈H/2⌉²")
    assert notes.cell(num.ceil(num.div(H, 2))) == "⌈H/2⌉"


def test_summary_symbolic_table_cells_are_single_lines(cli_run) -> None:   # type: ignore[no-untyped-def]
    code, out, err = cli_run("summary", "mobilenet_v1", "--input", "H")
    assert code == 0, err
    assert "⌈H/32⌉" in out and "Max(" not in out and "ceiling(" not in out
    assert "for every H ≥ 1" in out
    code, out, err = cli_run("summary", "mobilenet_v1", "--input", "H", "--format", "json")
    data = json.loads(out)
    macs = sympy.sympify(data["totals"]["macs"], locals={"H": H})
    assert macs.subs(H, 224) == 568_740_352      # MobileNet Table 8: 569 million mult-adds
    assert len(out) < 100_000


def test_step_table_cli(cli_run) -> None:   # type: ignore[no-untyped-def]
    code, out, err = cli_run("formula", "mobilenet_v1", "--symbols", "alpha", "--range", "0.25..0.26",
                             "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    # TF-slim: every layer max(int(c·α), 8), c ∈ {32, 64, …, 1024}; a count changes where c·α reaches a
    # whole k ≥ 9 (8 → 9 is the first visible step); every such α = k/c is some k'/1024, so the breaks
    # are k/1024 for k = 9 … 2047 (2039 breaks, 2040 open-closed intervals) plus α = 2 itself, where
    # int(1024α) jumps to 2048 and the range ends: 2041 pieces
    assert data["intervals_total"] == 2 * 1024 - 7
    first = data["intervals"][0]
    assert first["closed_from"] and not first["closed_to"]
    code, out, err = cli_run("formula", "mobilenet_v1", "--symbols", "alpha", "--range", "1..0.5")
    assert code == 2 and "LO < HI" in err


def test_compound_scaling_prints_fastest_base_first() -> None:
    # Tan & Le Eq. 3: FLOPS ∝ (α·β²·γ²)^φ with α = 1.2, β = 1.1, γ = 1.15: 1.2·1.21·1.3225 = 1.920270
    f = closed_forms("efficientnet", ["phi"], ideal=True)
    assert text(f.raw["macs"]).split(" ")[0].endswith("·(192027/100000)^φ")


def test_a_rule_used_bare_and_clamped_keeps_its_own_steps(tmp_path) -> None:   # type: ignore[no-untyped-def]
    from fractions import Fraction

    from archcalc.analysis import analyze
    from archcalc.stepforms import step_table, stepped_knob

    spec = tmp_path / "mixed.yaml"
    spec.write_text("archcalc: 1\nname: mixed\nvars: {alpha: 1}\ninput: [3, 8, 8]\nbody:\n"
                    "  - conv: {c: 'at_least(int(16 * alpha), 8)', k: 1}\n"
                    "  - conv: {c: 'int(16 * alpha)', k: 1}\n")
    found = stepped_knob(str(spec), ["alpha"], {}, None)
    assert found is not None
    table = step_table(str(spec), ["alpha"], "alpha", found[1], {}, None, (Fraction(1, 16), Fraction(1, 2)))
    # the bare int(16α) changes at every k/16, though the clamped one stays 8 below α = 9/16: pieces
    # [k/16, (k + 1)/16) for k = 1 … 8 meet 1/16..1/2
    assert [r.lo for r in table.rows] == [Fraction(k, 16) for k in range(1, 9)]
    for row in table.rows:
        x = row.lo if row.point else (row.lo + row.hi) / 2
        c = analyze(str(spec), vars={"alpha": x})
        assert (c.totals.params, c.totals.macs) == (row.params, row.macs)
