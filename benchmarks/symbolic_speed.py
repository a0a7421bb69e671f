"""Symbolic speed (issue 15): `python benchmarks/symbolic_speed.py [--repeat N] [--target S]`.

Each row is a fresh process (`python -m archcalc ...`, the worktree first on PYTHONPATH), the
minimum of N runs, interleaved so that a burst of load on the machine hits every row alike. The
baseline `python -c pass` is measured in the same run; the table prints each command's time, its
ratio to the baseline, the time left after `python -c 'import sympy'` (the floor of any symbolic
command, also measured in the same run) and whether it meets the target (1 s, issue 15).
Exit status 1 when a row misses the target.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ROWS: list[tuple[str, ...]] = [
    ("summary", "mobilenet_v1", "--input", "H"),
    ("summary", "mobilenet_v1", "--input", "H", "--format", "json"),
    ("formula", "mobilenet_v1", "--symbols", "rho"),
    ("formula", "mobilenet_v1", "--symbols", "alpha,rho"),
    ("formula", "mobilenet_v1", "--symbols", "alpha,rho", "--ratio-to", "mobilenet_v1"),
    ("formula", "efficientnet_b7", "--symbols", "H"),
    ("summary", "efficientnet_b7", "--input", "H"),
    ("formula", "mobilenet_v1", "--symbols", "alpha"),
    ("formula", "efficientnet", "--symbols", "phi"),
    ("formula", "bn_inception", "--symbols", "H"),
    ("formula", "mobilenet_v1", "--symbols", "alpha,rho", "--ideal"),
    ("formula", "efficientnet", "--symbols", "phi", "--ideal"),
]


def once(argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="fresh runs per row (the minimum is reported)")
    ap.add_argument("--target", type=float, default=1.0, help="seconds each symbolic command must stay under")
    args = ap.parse_args()
    baseline = [sys.executable, "-c", "pass"]
    floor = [sys.executable, "-c", "import sympy"]     # what any symbolic command pays before it starts
    commands = [[sys.executable, "-m", "archcalc", *row] for row in ROWS]
    concrete = [sys.executable, "-m", "archcalc", "summary", "mobilenet_v1", "--format", "json"]
    best = [float("inf")] * (len(commands) + 3)
    for _ in range(args.repeat):
        for i, argv in enumerate([baseline, floor, concrete, *commands]):
            best[i] = min(best[i], once(argv))
    base, sym, con = best[0], best[1], best[2]
    width = max(len(" ".join(r)) for r in ROWS) + 9
    print(f"{'command':<{width}} {'min s':>7} {'× python':>9} {'− sympy':>8}  target {args.target:g} s")
    print(f"{'python -c pass':<{width}} {base:7.3f} {1:9.1f}")
    label = "python -c 'import sympy'"
    print(f"{label:<{width}} {sym:7.3f} {sym / base:9.1f}")
    label = "archcalc summary mobilenet_v1 --format json (concrete)"
    print(f"{label:<{width}} {con:7.3f} {con / base:9.1f}")
    missed = 0
    for row, t in zip(ROWS, best[3:]):
        ok = t < args.target
        missed += not ok
        print(f"{'archcalc ' + ' '.join(row):<{width}} {t:7.3f} {t / base:9.1f} {t - sym:8.3f}  "
              f"{'ok' if ok else 'MISSED'}")
    print(f"min of {args.repeat} interleaved fresh runs; {len(ROWS) - missed}/{len(ROWS)} under {args.target:g} s")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
