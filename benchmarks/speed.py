"""Speed at every size (issue 15): `python benchmarks/speed.py [--repeat N] [--quick]`.

Every figure is a fresh process (`python -m archcalc ...`), best of N, wall time and the child's peak
RSS, printed beside the same run's baseline `python -c pass` (start-up floor) and, where torch,
torchinfo and fvcore are importable (or /work/refvenv exists), the same summary through them.

Rows: the symbolic commands (target < 1 s each); summaries of generated networks of 1,000, 10,000 and
100,000 layers in several shapes (a flat chain, a repeat, repeats of one named layer, inception-like
concats, residual adds, nested blocks), with the growth exponent fitted to the analysis-and-render time
(start-up excluded) and the memory per layer; the 100,000-layer table and `memory`; `compare` of 500
specs and `scale` of 5,000 points; `summary vgg16` as JSON and as a table; and the NumPy forward pass
against torch CPU at the same thread count (via benchmarks/forward.py).

Each timed row also prints the child's CPU time (user + sys, best of N): on a shared machine a wall time
that misses a target while the CPU time meets it says the machine was busy, not that the program is slow.

Targets: symbolic < 1 s; 100,000 layers JSON < 3 s and < 200 MB, table < 5 s, memory < 3 s (JSON and table); growth
exponent ≤ 1.1 for every shape; < 2 KB per layer; `summary vgg16 --format json` < 0.06 s and the table
< 0.12 s; compare of 500 specs < 5 s and < 300 MB; forward pass within 1.2× of torch CPU.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import startup  # noqa: E402
from cli import ENV, ROOT, archcalc, measure, run, torch_python  # noqa: E402

SYMBOLIC = [
    (["summary", "mobilenet_v1", "--input", "H"], 1.0),
    (["summary", "mobilenet_v1", "--input", "H", "--format", "json"], 1.0),
    (["formula", "mobilenet_v1", "--symbols", "rho"], 1.0),
    (["formula", "mobilenet_v1", "--symbols", "alpha"], 1.0),
    (["formula", "mobilenet_v1", "--symbols", "alpha,rho"], 1.0),
    (["formula", "mobilenet_v1", "--symbols", "alpha,rho", "--ratio-to", "mobilenet_v1"], 1.0),
    (["formula", "efficientnet_b7", "--symbols", "H"], 1.0),
    (["summary", "efficientnet_b7", "--input", "H"], 1.0),
    (["formula", "efficientnet", "--symbols", "phi"], 1.0),
]

HEAD = "archcalc: 1\nname: gen\ninput: [8, 16, 16]\n"


def shape_spec(shape: str, layers: int) -> str:
    """A generated network of about `layers` leaf layers in one of several shapes."""
    if shape == "flat":
        return HEAD + "body:\n" + "- {conv: {c: 8, k: 1}}\n- relu\n" * (layers // 2)
    if shape == "repeat":
        return HEAD + f"body:\n- repeat: {{n: {layers // 2}, body: [{{conv: {{c: 8, k: 1}}}}, relu]}}\n"
    if shape == "one-name":
        return HEAD + f"body:\n- repeat: {{n: {layers // 2}, body: [{{conv: {{c: 8, k: 1}}, name: c}}, relu]}}\n"
    if shape == "concat":   # 3 branches + the join: 5 layers a pass
        return HEAD + (f"body:\n- repeat: {{n: {layers // 5}, body: [{{concat: [[{{conv: {{c: 4, k: 1}}}}], "
                       f"[{{conv: {{c: 2, k: 1}}}}, {{conv: {{c: 2, k: 3, p: 1}}}}], [{{conv: {{c: 2, k: 1}}}}]]}}]}}\n")
    if shape == "residual":  # 3 layers a pass
        return HEAD + f"body:\n- repeat: {{n: {layers // 3}, body: [{{add: [[{{conv: {{c: 8, k: 3, p: 1}}}}, relu], []]}}]}}\n"
    if shape == "blocks":    # a block of a block: 4 layers a call
        return HEAD + ("blocks:\n  inner: {params: [], body: [{conv: {c: 8, k: 1}}, relu]}\n"
                       "  outer: {params: [], body: [inner, inner]}\n"
                       f"body:\n- repeat: {{n: {layers // 4}, body: [outer]}}\n")
    raise ValueError(shape)


SHAPES = ("flat", "repeat", "one-name", "concat", "residual", "blocks")

INNER = ("import sys, time, io, contextlib; from archcalc.cli import main; "
         "start = time.process_time(); "
         "f = io.StringIO(); c = contextlib.redirect_stdout(f); c.__enter__(); "
         "main(['summary', sys.argv[1], '--format', 'json', '--max-layers', '200000']); c.__exit__(None, None, None); "
         "print(time.process_time() - start)")


def inner_time(path: Path, repeat: int) -> float:
    """CPU seconds to parse, expand, count and render JSON in one process, start-up excluded (CPU time: the
    figure other processes on a shared machine disturb least, so the fitted exponent is the program's)."""
    return min(float(subprocess.run([sys.executable, "-c", INNER, str(path)], capture_output=True, text=True,
                                    check=True, cwd=ROOT).stdout.split()[-1]) for _ in range(repeat))


def exponent(sizes: list[int], times: list[float]) -> float:
    """Least-squares slope of log t against log n."""
    xs, ys = [math.log(n) for n in sizes], [math.log(t) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


class Rows(list):
    """Rows printed as they are measured (a slow machine still shows what it has)."""

    def __init__(self) -> None:
        super().__init__()
        print(f"{'what':<62}  {'wall s':>7}  {'RSS MB':>7}  notes   (best of N fresh processes)", flush=True)

    def append(self, row: tuple[str, float, float, str]) -> None:
        super().append(row)
        label, t, m, note = row
        print(f"{label:<62}  {t:7.3f}  {f'{m:.1f}' if m == m else '-':>7}  {note}", flush=True)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best time is kept)")
    parser.add_argument("--quick", action="store_true", help="skip the forward pass against torch")
    args = parser.parse_args()
    n = args.repeat
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "archcalc")], env=ENV, check=False,
                   stdout=subprocess.DEVNULL)   # bytecode caches exist, as after `pip install`
    rows = Rows()
    base, base_mem = run([sys.executable, "-c", "pass"], n)
    rows.append(("python -c pass (start-up floor)", base, base_mem, "baseline"))

    def add(label: str, argv: list[str], target: float | None = None, mem_target: float | None = None,
            reps: int = n, note: Callable[[float, float], str] | None = None) -> tuple[float, float]:
        try:
            t, cpu, m = measure(argv, reps)
        except SystemExit:
            rows.append((label, float("nan"), float("nan"), "FAILED (non-zero exit)"))
            return float("nan"), float("nan")
        bits = [f"{t / base:.1f}× start-up", f"cpu {cpu:.2f} s"]
        if target is not None:
            bits.append(f"target < {target:g} s: {verdict(t < target)}"
                        + ("" if t < target or cpu >= target else f" (cpu {verdict(True)}: the machine is busy)"))
        if mem_target is not None:
            bits.append(f"< {mem_target:g} MB: {verdict(m < mem_target)}")
        if note:
            bits.append(note(t, m))
        rows.append((label, t, m, "; ".join(bits)))
        return t, m

    for row in startup.rows(n)[1:]:   # summary vgg16 JSON and table: absolute and floor-scaled targets
        rows.append(row)
    t_resnet, _ = add("summary resnet50 --format json", archcalc("summary", "resnet50", "--format", "json"))
    py = torch_python()
    if py:
        for label, code in (
                ("torchinfo summary resnet50", "import torch, torchvision, torchinfo; "
                 "torchinfo.summary(torchvision.models.resnet50(), (1, 3, 224, 224), verbose=0)"),
                ("fvcore FlopCountAnalysis resnet50", "import torch, torchvision; from fvcore.nn import FlopCountAnalysis; "
                 "FlopCountAnalysis(torchvision.models.resnet50().eval(), torch.randn(1, 3, 224, 224)).total()")):
            try:
                t, m = run([py, "-c", code], max(1, min(n, 2)))
            except SystemExit:
                continue
            rows.append((label, t, m, f"{t / t_resnet:.0f}× archcalc's summary resnet50"))

    for argv, target in SYMBOLIC:
        add(" ".join(argv), archcalc(*argv), target)

    with tempfile.TemporaryDirectory() as d:
        sizes = [1_000, 10_000, 100_000]
        for shape in SHAPES:
            times, mems = [], []
            for layers in sizes:
                path = Path(d) / f"{shape}{layers}.yaml"
                path.write_text(shape_spec(shape, layers), encoding="utf-8")
                times.append(inner_time(path, 1 if layers == 100_000 else n))
                mems.append(run(archcalc("summary", str(path), "--format", "json", "--max-layers", "200000"), 1)[1])
            per_layer_kb = (mems[-1] - mems[0]) * 1024 / (sizes[-1] - sizes[0])
            g = exponent(sizes, times)
            rows.append((f"{shape}: 1k / 10k / 100k layers, JSON (CPU s, start-up excluded)", times[-1], mems[-1],
                         f"{times[0]:.3f} / {times[1]:.3f} / {times[2]:.3f} s; exponent {g:.2f} "
                         f"(≤ 1.1: {verdict(g <= 1.1)}); {per_layer_kb:.2f} KB per layer (< 2: {verdict(per_layer_kb < 2)})"))
        flat = Path(d) / "flat100000.yaml"
        add("summary 100,000-layer flat chain --format json", archcalc("summary", str(flat), "--format", "json"),
            3, 200)
        add("summary 100,000-layer flat chain (table)", archcalc("summary", str(flat)), 5)
        add("memory 100,000-layer flat chain --format json", archcalc("memory", str(flat), "--format", "json"), 3)
        add("memory 100,000-layer flat chain (table)", archcalc("memory", str(flat)), 3)

    listing = subprocess.run(archcalc("list", "--format", "json"), capture_output=True, text=True, check=True, cwd=ROOT)
    specs = [r["name"] for r in json.loads(listing.stdout)]
    add("compare of 500 specs --format json", archcalc("compare", *(specs * 500)[:500], "--format", "json"), 5, 300, reps=1)
    classes = ",".join(str(1000 + i) for i in range(100))
    growth = ",".join(str(8 + i) for i in range(50))
    add("scale densenet121, 100 × 50 = 5,000 points --format json",
        archcalc("scale", "densenet121", "--set", f"classes={classes}", "--set", f"growth={growth}", "--format", "json"),
        reps=1)


    print("\n" + startup.offenders(), flush=True)

    if not args.quick:
        print("\nNumPy forward pass against torch CPU (benchmarks/forward.py, target within 1.2×):", flush=True)
        subprocess.run([py or sys.executable, str(Path(__file__).parent / "forward.py"), "--repeat", str(n), "--no-zoo"],
                       cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
