"""Symbolic speed (issue 15): `python benchmarks/symbolic_speed.py [--repeat N] [--target S]`.

Each row is a fresh process (`python -m archcalc ...`, the worktree first on PYTHONPATH), the
minimum of N runs, interleaved so that a burst of load on the machine hits every row alike. The
baseline `python -c pass` is measured in the same run; the table prints each command's time, its
ratio to the baseline, its CPU time (user + system: less sensitive to a loaded machine), the time left after `python -c 'import sympy'` (the floor of any symbolic
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


def once(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from the child's rusage) of one fresh run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return elapsed, usage.ru_utime + usage.ru_stime


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
    cpu = [float("inf")] * (len(commands) + 3)
    for _ in range(args.repeat):
        for i, argv in enumerate([baseline, floor, concrete, *commands]):
            wall, used = once(argv)
            best[i], cpu[i] = min(best[i], wall), min(cpu[i], used)
    base, sym = best[0], best[1]
    width = max(len(" ".join(r)) for r in ROWS) + 9
    print(f"{'command':<{width}} {'wall s':>7} {'cpu s':>6} {'× python':>9} {'− sympy':>8}  target {args.target:g} s (wall)")
    labels = ["python -c pass", "python -c 'import sympy'", "archcalc summary mobilenet_v1 --format json (concrete)"]
    for i, label in enumerate(labels):
        print(f"{label:<{width}} {best[i]:7.3f} {cpu[i]:6.3f} {best[i] / base:9.1f}")
    missed = 0
    for k, row in enumerate(ROWS):
        t, c = best[3 + k], cpu[3 + k]
        ok = t < args.target
        missed += not ok
        print(f"{'archcalc ' + ' '.join(row):<{width}} {t:7.3f} {c:6.3f} {t / base:9.1f} {t - sym:8.3f}  "
              f"{'ok' if ok else 'MISSED'}")
    print(f"min of {args.repeat} interleaved fresh runs; {len(ROWS) - missed}/{len(ROWS)} under {args.target:g} s")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
