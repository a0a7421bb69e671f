"""Benchmark of `archcalc check` on many claims: `python benchmarks/claims.py [--claims N] [--repeat R]`.

A generated claim file holds N claims spread over 20 analyses (resnet152 at 20 input sizes and
efficientnet_b7), interleaved so that consecutive claims never share an analysis. Each figure is a
fresh process, best of R, wall time and peak RSS (the child's ru_maxrss):
  * `archcalc check` on that file (the bounded analysis cache, claims grouped by analysis);
  * the baseline in the same run: the same claims, one claim file per analysis, so each analysis is
    computed once and nothing else is held (the least work possible);
  * `archcalc check` on the built-in claims.
Target (issue 14): N = 300 under 3 s and 1 GB, and within 2× the baseline's time.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], repeat: int) -> tuple[float, float]:
    best, rss = float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        pid = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT).pid
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"failed: {' '.join(argv)}")
        best, rss = min(best, elapsed), max(rss, usage.ru_maxrss / 1024)
    return best, rss


def claim(i: int) -> tuple[int, str]:
    group = i % 20
    if group == 19:
        return group, f'  - {{id: c{i}, where: L1, statement: s, stated: "66M", compute: {{spec: efficientnet_b7, metric: params}}}}'
    size = 224 + 32 * group
    return group, (f'  - {{id: c{i}, where: L1, statement: s, stated: "152", '
                   f'compute: {{spec: resnet152, input: [3, {size}, {size}], metric: depth}}}}')


def write(path: Path, lines: list[str]) -> None:
    path.write_text("archcalc_claims: 1\nsource: bench\nclaims:\n" + "\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    exe = [sys.executable, "-m", "archcalc", "check", "--format", "json"]
    with tempfile.TemporaryDirectory() as tmp:
        claims = [claim(i) for i in range(args.claims)]
        together = Path(tmp) / "many.yaml"
        write(together, [text for _, text in claims])
        split = []
        for g in sorted({g for g, _ in claims}):
            p = Path(tmp) / f"group{g}.yaml"
            write(p, [text for gg, text in claims if gg == g])
            split.append(str(p))
        t, m = run(exe + [str(together)], args.repeat)
        tb, mb = run(exe + split, args.repeat)
        ti, mi = run(exe, args.repeat)
    print(f"check, {args.claims} interleaved claims on 20 analyses: {t:.2f} s, {m:.0f} MB")
    print(f"baseline, the same claims grouped by analysis:        {tb:.2f} s, {mb:.0f} MB  (ratio {t / tb:.2f}×)")
    print(f"check, the built-in claims:                            {ti:.2f} s, {mi:.0f} MB")


if __name__ == "__main__":
    main()
