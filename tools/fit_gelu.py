"""Fit of GELU_LOGIT_PHI (archcalc/kernels_transformer.py): logit Φ(x) ≈ x·P(x²), P of degree 6.

`python tools/fit_gelu.py` prints P's coefficients (x⁰ first) and the fit's largest error in x·Φ(x).

Weighted minimax by Lawson's iteration (reweighted least squares) on 8,000 points of [0, 5.5]: the error
that a change Δh of h = logit Φ(x) makes in x·Φ(x) = x·σ(h), relative to max(1, |x|), is
|x|·σ(h)(1 − σ(h))·|Δh|/max(1, |x|), so that is the weight (floored at 2.5e-8: |Δh| ≤ 2 anywhere).
h is odd, so only odd powers are fitted. Truth from math.erfc in float64.
"""
from __future__ import annotations

import math

import numpy as np

DEGREE, SPAN, POINTS, FLOOR, ROUNDS = 6, 5.5, 8000, 2.5e-8, 300


def logit_phi(x: np.ndarray) -> np.ndarray:
    up = np.array([math.log(0.5 * math.erfc(-v / math.sqrt(2))) for v in x])
    down = np.array([math.log(0.5 * math.erfc(v / math.sqrt(2))) for v in x])
    return up - down


def fit() -> np.ndarray:
    x = np.linspace(1e-4, SPAN, POINTS)
    h = logit_phi(x)
    sig = 1 / (1 + np.exp(-h))
    weight = np.maximum(x * sig * (1 - sig) / np.maximum(1, x), FLOOR)
    basis = x[:, None] ** (2 * np.arange(DEGREE + 1) + 1)
    lawson = np.ones_like(x)
    for _ in range(ROUNDS):
        w = weight * np.sqrt(lawson)
        coefs = np.linalg.lstsq(basis * w[:, None], h * w, rcond=None)[0]
        err = np.abs(basis @ coefs - h) * weight
        lawson = lawson * err / np.sum(lawson * err)
    return coefs


if __name__ == "__main__":
    c = fit()
    print(tuple(float(v) for v in c))
    xs = np.linspace(-12, 12, 240_001)
    with np.errstate(over="ignore"):
        gelu = xs / (1 + np.exp(-np.polyval(c[::-1], xs * xs) * xs))
    truth = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in xs])
    print(f"largest error of x·σ(x·P(x²)) in float64: {np.max(np.abs(gelu - truth) / np.maximum(1, np.abs(xs))):.3g}")
