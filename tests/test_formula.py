"""`archcalc formula`: closed forms compared symbolically with hand derivations written here."""
from __future__ import annotations

from fractions import Fraction

import sympy

from archcalc.formula import closed_forms

H = sympy.Symbol("H", positive=True, integer=True)


def sym(f: object) -> sympy.Expr:
    return sympy.sympify(f)


def same(a: object, b: object) -> bool:
    return sympy.simplify(sym(a) - sym(b)) == 0


def test_vgg16_macs_in_h_exact_mode() -> None:
    # every stride divides: stage k runs at H/2^k; conv MACs 9·Cin·Cout per position (Simonyan & Zisserman Table 1)
    conv = 9 * (3 * 64 + 64 * 64) * H**2 + 9 * (64 * 128 + 128 * 128) * (H / 2)**2 \
        + 9 * (128 * 256 + 2 * 256 * 256) * (H / 4)**2 + 9 * (256 * 512 + 2 * 512 * 512) * (H / 8)**2 \
        + 9 * 3 * 512 * 512 * (H / 16)**2
    fc = 512 * (H / 32)**2 * 4096 + 4096 * 4096 + 4096 * 1000
    assert same(closed_forms("vgg16", ["H"]).macs, conv + fc)


def test_vgg16_macs_in_h_with_the_floors_pooling_introduces() -> None:
    f = sympy.floor
    conv = 38592 * H**2 + 221184 * f(H / 2)**2 + 1474560 * f(H / 4)**2 + 5898240 * f(H / 8)**2 + 7077888 * f(H / 16)**2
    fc = 2097152 * f(H / 32)**2 + 20873216       # 512·4096·⌊H/32⌋² + 4096² + 4096·1000
    got = closed_forms("vgg16", ["H"], rounding="floor").macs
    assert sympy.expand(sym(got) - (conv + fc)) == 0
    assert sym(got).subs(H, 224) == 15_470_264_320     # the design's VGG-16 figure
    assert sym(got).subs(H, 225) == 15_470_264_320 + 38592 * (225**2 - 224**2)   # only full-res convs grow


def test_depthwise_separable_cost_and_ratio() -> None:
    M, N, DK, DF = sympy.symbols("M N DK DF", positive=True, integer=True)
    f = closed_forms("depthwise_separable", ["M", "N", "DK", "DF"], ideal=True,
                     ratio_to="depthwise_separable", ratio_sets={"kind": "standard"})
    assert same(f.macs, DK**2 * M * DF**2 + M * N * DF**2)          # MobileNet Eq. 5
    assert same(f.ratio, 1 / N + 1 / DK**2)                         # MobileNet Sec. 3.1
    standard = closed_forms("depthwise_separable", ["M", "N", "DK", "DF"], ideal=True, sets={"kind": "standard"})
    assert same(standard.macs, DK**2 * M * N * DF**2)               # Eq. 1


def test_three_3x3_vs_one_7x7() -> None:
    ch = sympy.Symbol("ch", positive=True, integer=True)
    assert same(closed_forms("stacked_3x3", ["ch"]).params, 27 * ch**2)                     # 3·(3·3·C·C)
    assert same(closed_forms("stacked_3x3", ["ch"], sets={"kind": "single"}).params, 49 * ch**2)   # 7·7·C·C


def test_mobilenet_v1_polynomial_in_alpha_and_rho() -> None:
    alpha, rho = sympy.symbols("alpha rho", positive=True)
    # Table 1 of Howard et al.: pointwise layers Cin·Cout·D_F², depthwise 9·C·D_F², stem 27·32·112², fc 1024·1000
    pointwise = (32 * 64 * 112**2 + 64 * 128 * 56**2 + 128 * 128 * 56**2 + 128 * 256 * 28**2 + 256 * 256 * 28**2
                 + 256 * 512 * 14**2 + 5 * 512 * 512 * 14**2 + 512 * 1024 * 7**2 + 1024 * 1024 * 7**2)
    depthwise = 9 * (32 * 112**2 + 64 * 56**2 + 128 * 56**2 + 128 * 28**2 + 256 * 28**2 + 256 * 14**2
                     + 5 * 512 * 14**2 + 512 * 7**2 + 1024 * 7**2)
    stem = 27 * 32 * 112**2
    want = pointwise * alpha**2 * rho**2 + (depthwise + stem) * alpha * rho**2 + 1024 * 1000 * alpha
    got = closed_forms("mobilenet_v1", ["alpha", "rho"], ideal=True).macs
    assert same(got, want)
    assert sym(got).subs({alpha: 1, rho: 1}) == 568_740_352          # paper Table 8: 569 million
    assert sym(got).subs({alpha: Fraction(1, 2), rho: 1}) == 149_497_088   # Table 6: 149 million


def test_efficientnet_grows_as_alpha_beta2_gamma2_to_the_phi() -> None:
    f = closed_forms("efficientnet", ["phi"], ideal=True)
    macs = sym(f.macs)
    phi = next(iter(macs.free_symbols))
    assert macs.subs(phi, 0) == 385_814_752                      # B0: torchvision `_ops` 0.386 (fvcore conv+linear)
    # the fastest-growing term has base α·β²·γ² = 1.2·1.1²·1.15² = 1.920270 (Tan & Le Eq. 3; seed 004)
    bases = {b for term in sympy.Add.make_args(sympy.expand(sympy.powsimp(macs, combine="base", force=True)))
             for b in [sympy.simplify(term.subs(phi, 1) / term.subs(phi, 0))] if term.has(phi)}
    assert max(bases) == sympy.Rational(6, 5) * sympy.Rational(11, 10)**2 * sympy.Rational(23, 20)**2
    for k in range(1, 8):                                        # "FLOPS grow by about 2^φ"
        ratio = float(macs.subs(phi, k) / macs.subs(phi, 0))
        assert 0.95 * 1.92027**k < ratio < 1.92027**k


def test_ratio_to_takes_numeric_overrides(cli_run) -> None:
    # standard conv with N = 64 output channels vs the separable one with N = 128 (M·D_F² cancels):
    # (D_K²·M + M·128)·D_F² / (D_K²·M·64·D_F²) = (9 + 128)/(9·64) at D_K = 3
    code, out, err = cli_run("formula", "depthwise_separable", "--symbols", "M", "--ideal", "--format", "json",
                             "--ratio-to", "depthwise_separable --set kind=standard --set N=64")
    assert code == 0, err
    import json
    (key, value), = [(k, v) for k, v in json.loads(out)["formulas"].items() if k.startswith("macs / macs(")]
    assert key == "macs / macs(depthwise_separable --set kind=standard --set N=64)"
    assert sympy.sympify(value) == sympy.Rational(9 + 128, 9 * 64)
