"""`archcalc scale`: the MobileNet v1 width × resolution sweep against the paper's α²ρ² rule.

Truth for the numbers (independent of archcalc): MobileNet v1 at α=1, 224 has 568,740,352 MACs
and 4,231,976 params (TF-slim docstring body 567,716,352 MACs + fc 1024·1000; timm
mobilenetv1_100 params); α=1/2 has 149,497,088 MACs and 1,331,592 params (Keras α=0.5 trainable
count, keras_reference.json); ρ only changes MACs. The golden files pin the rendering.
"""
from __future__ import annotations

import json
from fractions import Fraction
from typing import Callable

import pytest

Run = Callable[..., tuple[int, str, str]]
SWEEP = ("scale", "mobilenet_v1", "--set", "alpha=1,0.5", "--set", "rho=1,4/7")


@pytest.mark.parametrize("fmt,ext", [("table", "txt"), ("json", "json"), ("csv", "csv"), ("markdown", "md")])
def test_scale_golden(fmt: str, ext: str, cli_run: Run, golden: Callable[[str, str], None]) -> None:
    code, out, err = cli_run(*SWEEP, "--format", fmt)
    assert code == 0, err
    golden(f"scale_mobilenet_v1.{ext}", out)


def test_scale_json_values(cli_run: Run) -> None:
    code, out, _ = cli_run(*SWEEP, "--format", "json")
    points = {(p["alpha"], p["rho"]): p for p in json.loads(out)["points"]}
    assert points[(1, 1)]["macs"] == 568_740_352 and points[(1, 1)]["params"] == 4_231_976
    assert points[("1/2", 1)]["macs"] == 149_497_088 and points[("1/2", 1)]["params"] == 1_331_592
    assert points[(1, "4/7")]["params"] == 4_231_976                       # ρ leaves params alone
    assert points[("1/2", "4/7")]["macs_rule"] == pytest.approx(float(Fraction(1, 4) * Fraction(16, 49)))  # α²ρ²
    assert points[(1, "4/7")]["input"] == [3, 128, 128]                    # 224·4/7


def test_scale_needs_a_sweep(cli_run: Run) -> None:
    code, _, err = cli_run("scale", "mobilenet_v1", "--set", "alpha=1")
    assert code == 2 and "several comma-separated values" in err
