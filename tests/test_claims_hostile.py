"""Hostile claim files (issue 14) run as real processes under a 1 GB address-space limit and a hang guard:
one placed error line, exit 2, no traceback. (Their speed is a benchmark matter, not a unit test's.)"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 1 << 30      # 1 GB of address space for the child
LIMIT_SECONDS = 60         # a guard against hangs, not a speed target

HEAD = "archcalc_claims: 1\nsource: t\nclaims:\n"
CASES = {   # name: (claim, fragment of the message, place)
    "conv-stride-0": ('{id: a, where: L1, statement: s, stated: "4", compute: {conv: {n: 5, f: 3, s: 0}, metric: output}}',
                      "from 1 to", "claims[0].compute.conv.s"),
    "ragged-x": ('{id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: conv2d, x: [[1, 2], [3]], w: [[1]]}}}',
                 "ragged", "claims[0].compute.forward.x[1]"),
    "at-out-of-range": (('{id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: max_pool2d, '
                        'x: [[1, 2], [3, 4]], kernel: 2, at: [0, 9]}}}'), "column 9", "claims[0]"),
    "huge-padding": (('{id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: conv2d, x: [[1]], w: [[1]], '
                     'padding: 1000000000}}}'), "padding", "claims[0].compute.forward.padding"),
    "huge-matrix": ('{id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: max_pool2d, kernel: 1, x: ['
                    + ", ".join(["[" + ", ".join(["1"] * 65) + "]"] * 2) + "]}}}", "larger than 64", "claims[0].compute.forward.x"),
    "absurd-sig": (('{id: a, where: L1, statement: s, stated: "4", compute: {expr: "4"}, sig: 999999999999, '
                   'justification: "xyz"}'), "sig", "claims[0].sig"),
    "huge-power": ('{id: a, where: L1, statement: s, stated: "1×10^99999999", compute: {expr: "4"}}',
                   "power of ten", "claims[0].stated"),
    "long-digits": ('{id: a, where: L1, statement: s, stated: "' + "9" * 5000 + '", compute: {expr: "4"}}',
                    "too long", "claims[0].stated"),
    "claim-var": ('{id: a, where: L1, statement: s, stated: "4", compute: {spec: vgg16, vars: {alpha: 2}, metric: params}}',
                  "compute.vars.alpha", "claims[0]"),
    "transposed-negative": (('{id: a, where: L1, statement: s, stated: "4", compute: {conv: {n: 1, f: 1, p: 100, '
                            'transposed: true}, metric: output}}'), "at least 1", "claims[0]"),
    "nested-expr": ('{id: a, where: L1, statement: s, stated: "4", compute: ' + "{expr: m, vars: {m: " * 12 + '{expr: "4"}'
                    + "}}" * 12 + "}", "deeper than 8", "claims[0].compute"),
}


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def _run(name: str, tmp: Path) -> tuple[int, str]:
    f = tmp / f"{name}.yaml"
    f.write_text(HEAD + "  - " + CASES[name][0] + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "archcalc", "check", str(f)], capture_output=True, text=True, env=env,
                          timeout=LIMIT_SECONDS, preexec_fn=_limits, check=False)
    return proc.returncode, proc.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    return {name: _run(name, tmp) for name in CASES}   # one at a time: preexec_fn is not thread-safe


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_claim(name: str, runs: dict[str, tuple[int, str]]) -> None:
    code, err = runs[name]
    _, fragment, place = CASES[name]
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("archcalc: error: ") and f"{name}.yaml:4 {place}" in lines[0], lines[0]
    assert fragment in lines[0], lines[0]
    assert len(lines[0]) < 400
