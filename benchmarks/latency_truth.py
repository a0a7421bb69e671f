"""Latency estimate against GPU measurements: per model and setting, measured vs estimated, errors, Spearman.

    python benchmarks/latency_truth.py                       # every folder in ../shared/data/gpu, shipped profiles
    python benchmarks/latency_truth.py --data DIR --device h100
    python benchmarks/latency_truth.py --calibrate           # the calibration step: prints the fitted parameters
    python benchmarks/latency_truth.py --calibrate --write archcalc/devices/h200.yaml

DIR holds gpu_truth.jsonl / gpu_truth2.jsonl / ceilings.json as written by ../shared/data/gpu/gpu_truth*.py.
The measurements are PyTorch eager kernels (cuDNN, channels-last, CUDA graphs for the `graph_*`
settings), so the estimate runs with fusion `none` (every layer its own kernel), which is how PyTorch
eager executes; the default `inference` fusion is printed beside it for comparison.

Nothing is fitted unless --calibrate is given. Calibration (deterministic, no randomness):
1. memory-side fractions from the per-layer times (`per_layer_bf16cl_b64`, shape data): for each class
   (activations → `memory`, batch norm → `norm`, max/avg pooling → `pool`, global pooling → `reduce`)
   fraction = estimated bytes / (datasheet bandwidth × (summed measured time − kernels × overhead));
2. every fraction and `kernel_overhead_us`, starting from step 1, by coordinate descent on the squared log error of
   whole-network CUDA-graph latencies (batch 256 bf16 weighted 2, batch 1 bf16 and fp32 weighted 1)
   over the training networks only: every third network (file order, starting with the third) is held out
   and its error reported separately.
The fitted values are printed as the profile's YAML lines; --write puts them into a profile file.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

from archcalc.record import replace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archcalc.analysis import analyze, load_spec
from archcalc.errors import ArchcalcError
from archcalc.latency import costs
from archcalc.latency import device as devices
from archcalc.latency.model import estimate_kernels

RIDGE = float(os.environ.get("LATENCY_RIDGE", "0.01"))
ANCHORED = ("memory", "norm", "pool", "reduce")
FITTED = ("gemm", "vector", "depthwise", "broadcast", "overhead_us")
START = {"gemm": 0.5, "vector": 0.5, "depthwise": 0.5, "memory": 0.5, "broadcast": 0.5, "norm": 0.5, "pool": 0.5,
         "reduce": 0.5, "overhead_us": 3.0}
SETTINGS = (("graph_bf16cl_b256", 256, "bfloat16"), ("graph_bf16cl_b1", 1, "bfloat16"), ("graph_fp32_b1", 1, "float32"))
WEIGHTS = {"graph_bf16cl_b256": 2.0, "graph_bf16cl_b1": 1.0, "graph_fp32_b1": 1.0}
# (Spearman ≥, median |error| ≤, every network within ±): on the calibration GPU, and on any other GPU
TARGETS = {"graph_bf16cl_b256": (0.97, 0.15, 0.35), "graph_bf16cl_b1": (None, 0.25, None), "graph_fp32_b1": (None, 0.25, None)}
TRANSFER_TARGETS = {"graph_bf16cl_b256": (0.95, 0.25, None), "graph_bf16cl_b1": (0.95, 0.25, None),
                    "graph_fp32_b1": (0.95, 0.25, None)}
GPU_NAMES = (("h200", "h200"), ("h100pcie", "h100_pcie"), ("h100", "h100"), ("a100", "a100"), ("l4", "l4"), ("t4", "t4"), ("4090", "rtx4090"), ("orin", "orin"))
CANDIDATES = ("shared/data/gpu/h200-2026-11-26", "../shared/data/gpu/h200-2026-11-26", "../../shared/data/gpu/h200-2026-11-26")


def vars_for(model: str) -> dict[str, str]:
    """The torchvision variant of each spec (the measurements use torchvision's models), where the spec has one."""
    try:
        spec, _ = load_spec(model)
    except ArchcalcError:
        return {}
    impl = spec.vars.get("impl")
    return {"impl": "torchvision"} if impl is not None and "torchvision" in impl.choices else {}


def load_data(path: Path) -> tuple[dict, dict, dict]:
    def rows(name: str) -> dict:
        f = path / name
        return {json.loads(x)["model"]: json.loads(x) for x in f.read_text().splitlines() if x.strip()} if f.exists() else {}
    ceil = json.loads((path / "ceilings.json").read_text()) if (path / "ceilings.json").exists() else {}
    return rows("gpu_truth.jsonl"), rows("gpu_truth2.jsonl"), ceil


def spearman(x: list[float], y: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for t in range(i, j + 1):
                r[order[t]] = (i + j) / 2
            i = j + 1
        return r
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / den if den else float("nan")


def median(v: list[float]) -> float:
    s = sorted(v)
    n = len(s)
    return (s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2) if n else float("nan")


class Cache:
    """Kernels per (model, batch, dtype, fusion): the analysis runs once."""

    def __init__(self, truth: dict) -> None:
        self.truth, self.memo = truth, {}

    def kernels(self, model: str, batch: int, dtype: str, fusion: str = "none"):
        key = (model, batch, dtype, fusion)
        if key not in self.memo:
            inp = tuple(self.truth[model]["input"]) if model in self.truth else None
            a = analyze(model, input=inp, vars=vars_for(model), batch=batch, dtype=dtype)
            self.memo[key] = (a, costs.kernels(a, fusion))
        return self.memo[key]

    def seconds(self, dev, model: str, batch: int, dtype: str, fusion: str = "none") -> float:
        return sum(t.seconds for t in estimate_kernels(self.kernels(model, batch, dtype, fusion)[1], dtype, dev))


def pairs(cache: Cache, graph: dict, dev, models: list[str], key: str, batch: int, dtype: str, fusion: str = "none"):
    out = []
    for m in models:
        meas = graph.get(m, {}).get(key, {}).get("median_ms")
        if meas is not None:
            out.append((m, meas, cache.seconds(dev, m, batch, dtype, fusion) * 1e3))
    return out


def stats(rows) -> dict:
    errs = [e / m - 1 for _, m, e in rows]
    return {"n": len(rows), "median": median([abs(x) for x in errs]), "max": max((abs(x) for x in errs), default=float("nan")),
            "spearman": spearman([m for _, m, _ in rows], [e for _, _, e in rows]) if len(rows) > 2 else float("nan")}


def split(models: list[str], fold: int = 2) -> tuple[list[str], list[str]]:
    held = [m for i, m in enumerate(models) if i % 3 == fold]
    return [m for m in models if m not in held], held


# ---------------------------------------------------------------- calibration
def memory_fractions(cache: Cache, truth: dict, dev) -> dict[str, float]:
    """Step 1: per-class attainable bandwidth from the per-leaf-module times (batch 64 bf16, shape data).

    Each module's time is fitted as gap + bytes / (bandwidth × fraction) by least squares over every
    module of the class in every network: the intercept absorbs the hook/launch gap that inflates small
    layers, the slope gives the fraction. Bytes come from archcalc's own kernels, matched to the modules
    by output shape within a network. Shared modules (ResNet's one ReLU called three times) are skipped.
    """
    module_class = {"BatchNorm2d": "norm", "ReLU": "memory", "ReLU6": "memory", "SiLU": "memory", "Sigmoid": "memory",
                    "Hardswish": "memory", "MaxPool2d": "pool", "AvgPool2d": "pool", "AdaptiveAvgPool2d": "reduce"}
    kernel_class = {"bn": "norm", "relu": "memory", "relu6": "memory", "swish": "memory", "sigmoid": "memory",
                    "hardswish": "memory", "maxpool": "pool", "avgpool": "pool", "gap": "reduce", "adaptive_avgpool": "reduce"}
    points: dict[str, list[tuple[float, float]]] = {c: [] for c in set(module_class.values())}
    for m, rec in truth.items():
        if "per_layer_bf16cl_b64" not in rec:
            continue
        pool: dict[tuple[str, tuple[int, ...]], list[int]] = {}
        for k in cache.kernels(m, 64, "bfloat16")[1]:
            c = kernel_class.get(k.op)
            if c:
                pool.setdefault((c, k.output), []).append(k.bytes)
        for row in rec["per_layer_bf16cl_b64"]:
            c = module_class.get(row["type"])
            out = tuple(row["output"] or ())
            found = pool.get((c, out)) if c else None
            if not found or (row["type"] == "ReLU" and m.startswith(("resnet", "resnext"))):
                continue
            points[c].append((found.pop(0), row["ms"] * 1e-3))
    out = {}
    for c, pts in points.items():
        if len(pts) < 3:
            out[c] = dev.efficiency[c]
            continue
        n = len(pts)
        mx = sum(b for b, _ in pts) / n
        my = sum(t for _, t in pts) / n
        slope = sum((b - mx) * (t - my) for b, t in pts) / sum((b - mx) ** 2 for b, _ in pts)
        out[c] = round(min(1.0, 1 / (slope * dev.bandwidth)), 3) if slope > 0 else dev.efficiency[c]
        print(f"  {c:7s} {n:4d} modules: gap {1e6 * (my - slope * mx):5.1f} µs, fraction {out[c]:.3f} of "
              f"{dev.bandwidth / 1e9:.0f} GB/s")
    return out


def calibrate(cache: Cache, graph: dict, truth: dict, dev, models: list[str], fold: int = 2):
    train, held = split(models, fold)
    p = dict(START)   # a fixed start, not the profile's current values: the fit is reproducible
    print("step 1: bandwidth fractions from per-module times")
    p |= memory_fractions(cache, truth, make(dev, p))
    print("step 2: compute fractions, broadcast bandwidth and kernel overhead from whole-network latencies"
          " (training networks)")
    p = descend(cache, graph, dev, p, train, FITTED + ANCHORED, anchor=dict(p))
    return make(dev, p), train, held


def make(dev, p: dict):
    eff = {k: min(1.0, round(p[k], 3)) for k in devices.EFFICIENCY_KEYS}
    return replace(dev, efficiency=eff, kernel_overhead_s=round(p["overhead_us"], 2) * 1e-6)


def loss(cache: Cache, graph: dict, dev, models: list[str]) -> float:
    total = 0.0
    for key, batch, dtype in SETTINGS:
        rows = pairs(cache, graph, dev, models, key, batch, dtype)
        if rows:
            total += WEIGHTS[key] * sum(math.log(e / m) ** 2 for _, m, e in rows) / len(rows)
    return total


def descend(cache: Cache, graph: dict, dev, p: dict, models: list[str], keys: tuple[str, ...],
            anchor: dict | None = None) -> dict:
    """Coordinate descent; with `anchor`, a penalty RIDGE × Σ log²(p / anchor) over the memory-side fractions
    keeps them near what step 1 measured instead of trading one class against another."""
    def objective(q: dict) -> float:
        pen = sum(math.log(q[k] / anchor[k]) ** 2 for k in ANCHORED) if anchor else 0.0
        return loss(cache, graph, make(dev, q), models) + RIDGE * pen

    best = objective(p)
    for step in (1.3, 1.1, 1.03, 1.01):
        improved = True
        while improved:
            improved = False
            for k in keys:
                for f in (step, 1 / step):
                    q = dict(p)
                    q[k] = p[k] * f
                    if k != "overhead_us" and q[k] > 1:
                        continue
                    v = objective(q)
                    if v < best - 1e-12:
                        best, p, improved = v, q, True
    return p


def write_profile(path: Path, dev) -> None:
    text = path.read_text()
    eff = ", ".join(f"{k}: {dev.efficiency[k]:g}" for k in devices.EFFICIENCY_KEYS)
    text = re.sub(r"(?m)^efficiency:.*$", f"efficiency: {{{eff}}}", text)
    text = re.sub(r"(?m)^kernel_overhead_us:.*$", f"kernel_overhead_us: {dev.kernel_overhead_s * 1e6:g}", text)
    path.write_text(text)


def cross_validate(cache: Cache, graph: dict, truth: dict, dev, models: list[str]) -> None:
    print("\n# 3-fold cross-validation: calibrate on two thirds, report the third held out")
    pooled: dict[str, list] = {key: [] for key, _, _ in SETTINGS}
    for fold in range(3):
        fitted, _, held = calibrate(cache, graph, truth, dev, models, fold)
        print(f"fold {fold}: held out {', '.join(held)}")
        print("  efficiency: {" + ", ".join(f"{k}: {fitted.efficiency[k]:g}" for k in devices.EFFICIENCY_KEYS)
              + f"}}, kernel_overhead_us: {fitted.kernel_overhead_s * 1e6:g}")
        for key, batch, dtype in SETTINGS:
            rows = pairs(cache, graph, fitted, held, key, batch, dtype)
            pooled[key] += rows
            s = stats(rows)
            print(f"  {key}: median {100 * s['median']:.1f}%, max {100 * s['max']:.1f}%, Spearman {s['spearman']:.3f}")
    print("pooled held-out estimates (every network predicted by a calibration that did not see it):")
    for key, rows in pooled.items():
        s = stats(rows)
        worst = max(rows, key=lambda r: abs(r[2] / r[1] - 1))
        print(f"  {key}: {s['n']} networks, median {100 * s['median']:.1f}%, max {100 * s['max']:.1f}% ({worst[0]}), "
              f"Spearman {s['spearman']:.3f}")


# ---------------------------------------------------------------- report
def show(cache: Cache, graph: dict, truth: dict, dev, models: list[str], held: list[str], targets: dict) -> bool:
    ok = True
    for key, batch, dtype in SETTINGS:
        rows = pairs(cache, graph, dev, models, key, batch, dtype)
        if not rows:
            continue
        fused = {m: e for m, _, e in pairs(cache, graph, dev, models, key, batch, dtype, "inference")}
        print(f"\n## {key}: batch {batch} {dtype}, CUDA graph; estimate with fusion none (PyTorch eager); "
              f"device profile {dev.name}")
        print(f"{'model':20s} {'measured ms':>12s} {'estimate ms':>12s} {'error':>8s}  {'fused est.':>10s}  {'GMACs':>8s}")
        macs = []
        for m, meas, est in rows:
            a = cache.kernels(m, batch, dtype)[0]
            macs.append(float(a.totals.macs))
            print(f"{m + (' *' if m in held else ''):20s} {meas:12.3f} {est:12.3f} {100 * (est / meas - 1):+7.1f}%  "
                  f"{fused[m]:10.3f}  {float(a.totals.macs) / batch / 1e9:8.2f}")
        s = stats(rows)
        line = (f"all {s['n']}: median |error| {100 * s['median']:.1f}%, max {100 * s['max']:.1f}%, "
                f"Spearman {s['spearman']:.3f} (MACs alone: {spearman([m for _, m, _ in rows], macs):.3f})")
        if held:
            h = stats([r for r in rows if r[0] in held])
            t = stats([r for r in rows if r[0] not in held])
            line += (f"\n  training {t['n']}: median {100 * t['median']:.1f}%, max {100 * t['max']:.1f}%, "
                     f"Spearman {t['spearman']:.3f}; held out (*) {h['n']}: median {100 * h['median']:.1f}%, "
                     f"max {100 * h['max']:.1f}%, Spearman {h['spearman']:.3f}")
        print(line)
        rho_t, med_t, max_t = targets[key]
        checks = []
        if rho_t is not None:
            checks.append((f"Spearman ≥ {rho_t}", s["spearman"] >= rho_t))
        if med_t is not None:
            checks.append((f"median ≤ {100 * med_t:.0f}%", s["median"] <= med_t))
        if max_t is not None:
            checks.append((f"every network within ±{100 * max_t:.0f}%", s["max"] <= max_t))
        for what, good in checks:
            ok &= good
        print("targets: " + "; ".join(f"{w}: {'met' if g else 'MISSED'}" for w, g in checks))
    return ok


def folders(given: Path | None) -> list[Path]:
    """Measurement folders: DIR itself, or every folder inside it that holds measurements; by default every
    folder beside the shared H200 data (so a new GPU's folder is benchmarked as soon as it lands there)."""
    env = os.environ.get("ARCHCALC_GPU_DATA")
    root = given or (Path(env) if env else None)
    if root is None:
        found = next((ROOT / c for c in CANDIDATES if (ROOT / c / "gpu_truth2.jsonl").exists()), None)
        root = found.parent if found else None
    if root is None or not root.is_dir():
        return []
    if (root / "gpu_truth2.jsonl").exists() or (root / "gpu_truth.jsonl").exists():
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and ((p / "gpu_truth2.jsonl").exists() or (p / "gpu_truth.jsonl").exists()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None,
                    help="a measurement folder, or a folder of them (default: every folder in ../shared/data/gpu)")
    ap.add_argument("--device", default=None, help="profile name or file (default: from ceilings.json's GPU name)")
    ap.add_argument("--models", default=None, help="comma-separated subset")
    ap.add_argument("--calibrate", action="store_true", help="fit the profile's fractions on this data (printed)")
    ap.add_argument("--write", type=Path, default=None, help="with --calibrate: write the fitted values into this profile")
    ap.add_argument("--cv", action="store_true",
                    help="3-fold cross-validation of the calibration: each third held out in turn (prints, writes nothing)")
    args = ap.parse_args()
    found = folders(args.data)
    if not found:
        print("no measurement folder: pass --data DIR or set ARCHCALC_GPU_DATA", file=sys.stderr)
        return 2
    if args.calibrate or args.cv:
        found = [next((f for f in found if "h200" in f.name), found[0])] if len(found) > 1 else found
    results = [run(f, args) for f in found]
    if len(found) > 1:
        print("\n# summary: " + "; ".join(f"{f.name}: {'targets met' if ok else 'targets MISSED'}"
                                         for f, ok in zip(found, results)))
    return 0 if all(results) else 1


def run(data: Path, args: argparse.Namespace) -> bool:
    truth, graph, ceil = load_data(data)
    name = args.device
    if name is None:
        gpu = str(ceil.get("gpu", "")).lower().replace(" ", "").replace("-", "")
        name = next((d for k, d in GPU_NAMES if k in gpu), "h200")
    dev = devices.load(name)
    models = [m for m in (truth or graph) if m in graph or m in truth]
    if args.models:
        models = [m for m in models if m in args.models.split(",")]
    cache = Cache(truth or {m: graph[m] for m in graph})
    skipped = []
    for m in list(models):
        try:
            cache.kernels(m, 1, "float32")
        except ArchcalcError as e:
            skipped.append(f"{m} ({e})")
            models.remove(m)
    print(f"\n# data: {data} ({ceil.get('gpu', '?')}); profile: {dev.name} ({dev.path})")
    if skipped:
        print("skipped, no spec archcalc can run: " + "; ".join(skipped))
    if ceil:
        print("measured ceilings: " + ", ".join(f"{k} {v:.0f}" for k, v in ceil.items() if isinstance(v, float)))
    held: list[str] = []
    if args.cv:
        cross_validate(cache, graph, truth, dev, models)
        return True
    if args.calibrate:
        dev, train, held = calibrate(cache, graph, truth, dev, models)
        print("\n# calibration (training networks: " + ", ".join(train) + ")")
        print("held out: " + ", ".join(held))
        print("fitted profile lines:")
        print(f"kernel_overhead_us: {dev.kernel_overhead_s * 1e6:g}")
        print("efficiency: {" + ", ".join(f"{k}: {dev.efficiency[k]:g}" for k in devices.EFFICIENCY_KEYS) + "}")
        if args.write:
            write_profile(args.write, dev)
            print(f"wrote {args.write}")
    elif "held out" in dev.calibration and dev.name in data.name:
        held = split(models)[1]
    calibrated_here = args.calibrate or ("held out" in dev.calibration and dev.name in data.name)
    targets = TARGETS if calibrated_here else TRANSFER_TARGETS
    print("targets: " + ("the calibration GPU's" if calibrated_here else "a GPU not used for calibration"))
    ok = show(cache, graph, truth, dev, models, held, targets)
    print("\nall targets met" if ok else "\nsome targets missed")
    return ok


if __name__ == "__main__":
    sys.exit(main())
