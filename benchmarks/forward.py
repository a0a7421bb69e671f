"""Benchmark of archcalc's NumPy forward pass: `python benchmarks/forward.py [--repeat N] [--no-zoo] [NAMES...]`.

Per network (batch 1, float32, keep=False, weights made once before timing):
  * forward time, best of N after --warmup rounds (default 10), NumPy and torch interleaved; CPU time (process_time) when the BLAS runs one
    thread (OMP/MKL/OPENBLAS_NUM_THREADS=1: a shared machine's other work then counts against neither
    side), wall time otherwise;
  * effective GFLOP/s = 2·MACs / time (MACs: the paper convention, conv + fc weights);
  * the share of `numpy.matmul` throughput measured in the same run on one square GEMM of the
    same MACs (what the BLAS would give if the whole network were one matrix product);
  * when `import torch, torchvision` works: torchvision's forward of the same network in eval mode
    under `torch.inference_mode()`, with `torch.set_num_threads` = NumPy's BLAS threads, and the
    ratio NumPy time / torch time. Where the two networks have the same weight shapes in the same
    order, torch's weights are copied into the NumPy pass and the outputs compared.
With --by-op: per network, the NumPy time split by op (each layer's best of N), the costliest layers
listed, to find what to fix first.
Then `archcalc verify --all` (the whole zoo) in a child process: wall time and peak RSS.
Targets (issue 4): VGG-16 within 1.5× of torch, ResNet-50 within 2×, verify --all < 60 s, < 3 GB;
(issue 15): every network within 1.2× of torch at the same thread count.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from archcalc import catalog, numeric  # noqa: E402
from archcalc.analysis import analyze, load_spec  # noqa: E402
from archcalc.graph import build  # noqa: E402

# archcalc name, its vars, the torchvision constructor and its kwargs (None: no torchvision twin)
NETWORKS: list[tuple[str, dict[str, Any], str | None, dict[str, Any]]] = [
    ("vgg16", {}, "vgg16", {}),
    ("resnet50", {"impl": "torchvision"}, "resnet50", {}),
    ("resnet18", {"impl": "torchvision"}, "resnet18", {}),
    ("resnext50_32x4d", {"impl": "torchvision"}, "resnext50_32x4d", {}),
    ("mobilenet_v2", {}, "mobilenet_v2", {}),
    ("efficientnet_b0", {"impl": "torchvision"}, "efficientnet_b0", {}),
    ("googlenet", {"impl": "torchvision"}, "googlenet", {"aux_logits": False, "init_weights": False}),
    ("alexnet", {"impl": "torchvision"}, "alexnet", {}),
    ("densenet121", {}, "densenet121", {}),
    ("squeezenet1_0", {}, "squeezenet1_0", {}),
    ("shufflenet_v2_x1_0", {}, "shufflenet_v2_x1_0", {}),
    ("mobilenet_v3_large", {}, "mobilenet_v3_large", {}),
    ("mnasnet1_0", {}, "mnasnet1_0", {}),
    ("regnet_y_400mf", {}, "regnet_y_400mf", {}),
    ("inception_v3", {}, "inception_v3", {"aux_logits": False, "init_weights": False}),
    ("efficientnet_v2_s", {}, "efficientnet_v2_s", {}),
    ("mobilenet_v1", {}, None, {}),
    ("convnext_tiny", {}, "convnext_tiny", {}),
    ("vit_b_16", {}, "vit_b_16", {}),
    ("swin_t", {}, "swin_t", {}),
    ("maxvit_t", {}, "maxvit_t", {}),
]


CLOCK: Callable[[], float] = time.perf_counter


WARMUP = 10


def best_of(n: int, *fns: Callable[[], Any]) -> list[float]:
    """Best time of each function over n rounds, the functions interleaved within a round so that a
    load change on a shared machine hits them alike, after WARMUP untimed rounds (torch's forward gets
    faster over its first ~10 calls, convnext_tiny 124 → ~97 ms at one thread: a single warm-up call
    would credit NumPy with torch's cold start). The clock is CPU time at one thread (a shared
    machine's other work does not count against either side), wall time otherwise."""
    for _ in range(WARMUP):
        for fn in fns:
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(n):
        for i, fn in enumerate(fns):
            start = CLOCK()
            fn()
            best[i] = min(best[i], CLOCK() - start)
    return best


def by_op(net: Any, x: np.ndarray, weights: dict[str, Any], repeat: int, top: int = 8) -> str:
    """The forward pass's time per op and its `top` costliest layers (each layer's best of `repeat` runs).
    A batch norm folded into the conv before it counts as part of that conv."""
    best: dict[str, float] = {}
    ops: dict[str, str] = {}
    original = dict(numeric.FORWARD)

    def timed(op: str, fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        def run(layer: Any, xs: list[np.ndarray], arrays: Any) -> np.ndarray:
            start = CLOCK()
            y = fn(layer, xs, arrays)
            spent = CLOCK() - start
            ops[layer.name] = op
            best[layer.name] = min(best.get(layer.name, float("inf")), spent)
            return y
        return run

    original_inplace = dict(numeric.INPLACE)

    def timed_inplace(op: str, fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        run = timed(op, lambda layer, xs, arrays: fn(layer, xs[0]))
        return lambda layer, x: run(layer, [x], {})

    # sums and products computed into an input (numeric.JOINS) run as bare ufunc calls, not through FORWARD:
    # their time per pass is summed per op, best pass kept
    original_joins = dict(numeric.JOINS)
    joined: dict[str, float] = {}

    def timed_join(op: str, ufunc: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = CLOCK()
            y = ufunc(*args, **kwargs)
            joined[op] = joined.get(op, 0.0) + CLOCK() - start
            return y
        return run

    numeric.FORWARD.update({op: timed(op, fn) for op, fn in original.items()})
    numeric.INPLACE.update({op: timed_inplace(op, fn) for op, fn in original_inplace.items()})
    numeric.JOINS.update({op: timed_join(op, fn) for op, fn in original_joins.items()})
    best_joined: dict[str, float] = {}
    try:
        for _ in range(repeat):
            joined.clear()
            numeric.forward(net, x, weights=weights, keep=False)
            for op, t in joined.items():
                best_joined[op] = min(best_joined.get(op, float("inf")), t)
    finally:
        numeric.FORWARD.update(original)
        numeric.INPLACE.update(original_inplace)
        numeric.JOINS.update(original_joins)
    per_op: dict[str, float] = {}
    for name, t in best.items():
        per_op[ops[name]] = per_op.get(ops[name], 0.0) + t
    for op, t in best_joined.items():
        per_op[f"{op} in place"] = t
    total = sum(per_op.values())
    lines = ["    by op: " + ", ".join(f"{op} {t * 1e3:.1f} ms ({t / total:.0%})"
                                     for op, t in sorted(per_op.items(), key=lambda kv: -kv[1]))]
    lines += [f"    {name:<28} {ops[name]:<10} {t * 1e3:7.2f} ms"
              for name, t in sorted(best.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(lines)


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info

        return max(int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas")
    except Exception:  # noqa: BLE001 - threadpoolctl is optional
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            if os.environ.get(var, "").isdigit():
                return int(os.environ[var])
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def matmul_job(macs: int) -> tuple[Callable[[], Any], float]:
    """One square GEMM of about `macs` multiply-adds, and the factor that scales its time to exactly `macs`."""
    n = max(64, round(macs ** (1 / 3)))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return (lambda: np.matmul(a, b, out=out)), macs / n**3


def torch_twin(ctor: str, kwargs: dict[str, Any]) -> Any:
    import torch
    import torchvision

    torch.manual_seed(0)
    return getattr(torchvision.models, ctor)(weights=None, **kwargs).eval()


def copy_torch_weights(net: Any, model: Any) -> dict[str, dict[str, np.ndarray]] | None:
    """Torch's parameters mapped onto archcalc's layers when both list the same shapes in the same order."""
    import torch

    ours = [(la.name, numeric.weight_shapes(la)) for la in net.layers if numeric.weight_shapes(la)]
    theirs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.BatchNorm2d))]
    if len(ours) != len(theirs):
        return None
    out = {}
    for (name, shapes), module in zip(ours, theirs):
        arrays = {k: getattr(module, k).detach().numpy() for k in shapes if getattr(module, k, None) is not None}
        if set(arrays) != set(shapes) or any(arrays[k].shape != shapes[k] for k in shapes):
            return None
        out[name] = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}
    return out


def zoo(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit status of one child process. A small wrapper process starts it
    and reads its RUSAGE_CHILDREN: a child's ru_maxrss counts the pages of whoever forked it."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code)")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def main() -> int:
    global CLOCK, WARMUP
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="archcalc names from the built-in list (default: a standard set)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per network (best is reported)")
    ap.add_argument("--no-zoo", action="store_true", help="skip timing `archcalc verify --all`")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    ap.add_argument("--warmup", type=int, default=WARMUP, help=f"untimed rounds before timing (default {WARMUP})")
    ap.add_argument("--by-op", action="store_true", help="also print each network's NumPy time per op and its costliest layers")
    args = ap.parse_args()

    WARMUP = max(1, args.warmup)
    threads = blas_threads()
    if threads == 1:
        CLOCK = time.process_time
    has_torch = not args.no_torch and all(importlib.util.find_spec(m) for m in ("torch", "torchvision"))
    if has_torch:
        import torch

        torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, BLAS threads {threads}; torch: "
          f"{__import__('torch').__version__ if has_torch else 'not installed (ratios skipped)'}; best of {args.repeat} after {WARMUP} warm-up rounds, "
          f"{'CPU' if CLOCK is time.process_time else 'wall'} time")

    table = [k for k in NETWORKS if not args.names or k[0] in args.names]
    table += [(n, {}, None, {}) for n in args.names if n not in {k[0] for k in table}]
    header = (f"{'network':<17} {'GMACs':>7} {'numpy s':>8} {'GFLOP/s':>8} {'matmul GFLOP/s':>15} {'of matmul':>9} "
              f"{'torch s':>8} {'numpy/torch':>11} {'max |Δ|/max|y|':>15}")
    print(header)
    print("-" * len(header))
    for name, vars, ctor, kwargs in table:
        spec, preset = load_spec(name)
        net = build(spec, vars, None, preset)
        macs = analyze(name, vars=vars).totals.macs
        weights = numeric.make_weights(net)
        x = np.random.default_rng(0).standard_normal((1,) + tuple(net.input), dtype=np.float32)
        run_np = lambda: numeric.forward(net, x, weights=weights, keep=False)  # noqa: E731
        run_mm, scale = matmul_job(macs)
        torch_s, ratio, diff = "", "", ""
        if has_torch and ctor is not None:
            import torch

            model = torch_twin(ctor, kwargs)
            xt = torch.from_numpy(x)
            with torch.inference_mode():
                t_np, t_mm, t_torch = best_of(args.repeat, run_np, run_mm, lambda: model(xt))
                mapped = copy_torch_weights(net, model)
                if mapped is not None:
                    y_torch = model(xt).numpy()
                    y_np = numeric.forward(net, x, weights=mapped, keep=False).output
                    diff = f"{float(np.abs(y_np - y_torch).max() / np.abs(y_torch).max()):.1e}"
                else:
                    diff = "layouts differ"
            torch_s, ratio = f"{t_torch:.4f}", f"{t_np / t_torch:.2f}×"
        else:
            t_np, t_mm = best_of(args.repeat, run_np, run_mm)
        t_mm *= scale
        gflops, mm_gflops = 2 * macs / t_np / 1e9, 2 * macs / t_mm / 1e9
        print(f"{name:<17} {macs / 1e9:>7.2f} {t_np:>8.4f} {gflops:>8.1f} {mm_gflops:>15.1f} {gflops / mm_gflops:>8.0%} "
              f"{torch_s:>8} {ratio:>11} {diff:>15}", flush=True)
        if args.by_op:
            print(by_op(net, x, weights, args.repeat), flush=True)

    if not args.no_zoo:
        if all(importlib.util.find_spec(m) for m in ("click", "rich")):
            cmd, what = [sys.executable, "-m", "archcalc", "verify", "--all"], "archcalc verify --all"
        else:  # this interpreter lacks the CLI's dependencies: the same core loop
            cmd = [sys.executable, "-c", "import sys; from archcalc import catalog, verification; "
                   "sys.exit(0 if all(r.ok for r in verification.verify_many(sorted(catalog.entries()))) else 1)"]
            what = "verification.verify_many (the core of verify --all; click/rich missing here)"
        seconds, rss, code = zoo(cmd)
        print(f"\n{what}: {len(catalog.entries())} specs, {seconds:.1f} s wall, peak RSS {rss:.0f} MB, "
              f"exit {code} (targets < 60 s, < 3072 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
