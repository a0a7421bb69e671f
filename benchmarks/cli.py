"""Benchmark of the archcalc CLI: `python benchmarks/cli.py [--repeat N]`.

Every figure is a fresh process (`python -m archcalc ...`), best of N, wall time and peak RSS
(the child's ru_maxrss):
  * `archcalc summary vgg16`, and the same summary through torchinfo when /work/refvenv/bin/python
    or an importable torch + torchvision + torchinfo exists (`torchinfo.summary(vgg16(),
    (1, 3, 224, 224))`, which imports torch and runs a forward pass), with the ratio;
  * generated networks of 1,000 and 10,000 layers, written with `repeat` and as a flat body, and
    the ratio t(10,000)/t(1,000) (linear analysis gives ≈ 10; the fixed start-up cost lowers it);
  * `archcalc formula resnet152 --symbols H`, and with `--round floor`.
Targets (issue 7): summary vgg16 ≥ 10× faster than torchinfo and < 0.5 s; 10,000 layers < 3 s with
t(10k)/t(1k) ≤ 12; formula resnet152 < 2 s.
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
REFVENV = Path("/work/refvenv/bin/python")
TORCHINFO = ("import torch, torchvision, torchinfo; "
             "torchinfo.summary(torchvision.models.vgg16(), (1, 3, 224, 224))")


# the children use (and may write) bytecode caches, as an installed package does: a PYTHONDONTWRITEBYTECODE
# inherited from a shell would time the compilation of every module instead of the program
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str], repeat: int) -> tuple[float, float, float]:
    """Best wall time (s), best CPU time (user + sys of the child, s) and the largest peak RSS (MB) of `repeat`
    fresh runs: on a shared machine the CPU time is the figure other processes disturb least."""
    wall, cpu, rss = float("inf"), float("inf"), 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        pid = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=ENV).pid
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(argv)}")
        wall, cpu = min(wall, elapsed), min(cpu, usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss / 1024)
    return wall, cpu, rss


def run(argv: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time (s) and the largest peak RSS (MB) of `repeat` fresh runs."""
    wall, _, rss = measure(argv, repeat)
    return wall, rss


def archcalc(*args: str) -> list[str]:
    return [sys.executable, "-m", "archcalc", *args]


def torch_python() -> str | None:
    if REFVENV.exists():
        return str(REFVENV)
    probe = subprocess.run([sys.executable, "-c", "import torch, torchvision, torchinfo"], capture_output=True)
    return sys.executable if probe.returncode == 0 else None


def generated(layers: int, flat: bool) -> str:
    """A chain of `layers` layers: pairs of a 3×3 conv (16 → 16 channels, padding 1) and a relu."""
    head = f"archcalc: 1\nname: gen{layers}\ninput: [16, 32, 32]\nbody:\n"
    if flat:
        return head + "  - {conv: {c: 16, k: 3, p: 1}}\n  - relu\n" * (layers // 2)
    return head + f"  - repeat: {{n: {layers // 2}, body: [{{conv: {{c: 16, k: 3, p: 1}}}}, relu]}}\n"


ANALYSE = ("import sys, time; from archcalc.analysis import analyze; start = time.perf_counter(); "
           "analyze(sys.argv[1]); print(time.perf_counter() - start)")


def analysis_time(path: Path, repeat: int) -> float:
    """analyze() alone (parse + expand + count, no start-up, no rendering), best of `repeat` fresh processes."""
    return min(float(subprocess.run([sys.executable, "-c", ANALYSE, str(path)], capture_output=True, text=True,
                                    check=True, cwd=ROOT).stdout) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best time is kept)")
    n = parser.parse_args().repeat
    rows: list[tuple[str, float, float, str]] = []

    t_sum, m_sum = run(archcalc("summary", "vgg16"), n)
    rows.append(("archcalc summary vgg16", t_sum, m_sum, f"target < 0.5 s: {'ok' if t_sum < 0.5 else 'MISSED'}"))
    py = torch_python()
    if py:
        t_ti, m_ti = run([py, "-c", TORCHINFO], max(1, min(n, 3)))
        ratio = t_ti / t_sum
        rows.append(("torchinfo summary vgg16", t_ti, m_ti,
                     f"archcalc {ratio:.1f}× faster (target ≥ 10×: {'ok' if ratio >= 10 else 'MISSED'})"))
    else:
        rows.append(("torchinfo summary vgg16", float("nan"), float("nan"), "torch/torchinfo not installed: skipped"))

    with tempfile.TemporaryDirectory() as d:
        for flat in (False, True):
            times, inner = {}, {}
            for layers in (1_000, 10_000):
                path = Path(d) / f"gen{layers}{'flat' if flat else ''}.yaml"
                path.write_text(generated(layers, flat), encoding="utf-8")
                times[layers], mem = run(archcalc("summary", str(path), "--format", "json"), n)
                inner[layers] = analysis_time(path, n)
                label = f"summary, {layers:,} layers ({'flat body' if flat else 'repeat'})"
                note = f"analysis alone {inner[layers]:.3f} s"
                if layers == 10_000:
                    ratio, ratio_in = times[10_000] / times[1_000], inner[10_000] / inner[1_000]
                    note += (f"; t(10k)/t(1k) = {ratio:.1f} whole run, {ratio_in:.1f} analysis alone "
                             f"(target ≤ 12: {'ok' if max(ratio, ratio_in) <= 12 else 'MISSED'}); "
                             f"target < 3 s: {'ok' if times[10_000] < 3 else 'MISSED'}")
                rows.append((label, times[layers], mem, note))

    for extra in ([], ["--round", "floor"]):
        t, m = run(archcalc("formula", "resnet152", "--symbols", "H", *extra), n)
        rows.append((" ".join(["archcalc formula resnet152 --symbols H", *extra]), t, m,
                     f"target < 2 s: {'ok' if t < 2 else 'MISSED'}"))

    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'wall s':>7}  {'peak RSS MB':>11}  notes   (best of {n}, fresh processes)")
    for label, t, m, note in rows:
        print(f"{label:<{width}}  {t:7.3f}  {m:11.1f}  {note}")


if __name__ == "__main__":
    main()
