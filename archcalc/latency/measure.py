"""`archcalc device measure`: this machine's attainable NumPy float32 GEMM rate and copy bandwidth, as a profile."""
from __future__ import annotations

import os
import platform
import time

from ..record import record


@record
class Measured:
    gemm_flops: float          # float32 FLOP/s of a square matmul (NumPy's BLAS)
    copy_bandwidth: float      # bytes/s, read + write, of a large np.copyto
    call_overhead_s: float     # a tiny NumPy op's wall time (the per-kernel cost on a CPU)
    cores: int
    machine: str


def _best(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(quick: bool = False) -> Measured:
    import numpy as np

    n = 512 if quick else 1536
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = a.copy()
    a @ b
    gemm = 2 * n ** 3 / _best(lambda: a @ b, 3 if quick else 5)
    size = (32 if quick else 256) << 20
    src = np.ones(size // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    copy = 2 * size / _best(lambda: np.copyto(dst, src), 3 if quick else 5)
    x = np.ones(8, dtype=np.float32)
    tiny = _best(lambda: np.multiply(x, 1.0, out=x), 200)
    return Measured(gemm, copy, tiny, os.cpu_count() or 1, f"{platform.machine()} {platform.processor() or platform.system()}".strip())


def profile_yaml(m: Measured, name: str) -> str:
    tflops = m.gemm_flops / 1e12
    return (
        "archcalc_device: 1\n"
        f"name: {name}\n"
        f"description: \"this machine ({m.machine}, {m.cores} cores), measured by archcalc device measure\"\n"
        "source: \"measured: NumPy float32 matmul throughput and np.copyto bandwidth (read + write); attainable "
        "rates, not datasheet peaks, so the GEMM and memory fractions below are 1\"\n"
        f"peak_tflops: {{float32: {tflops:.4g}}}\n"
        f"bandwidth_gbs: {m.copy_bandwidth / 1e9:.4g}\n"
        f"sms: {m.cores}\n"
        "tf32_convs: false\n"
        "max_split_k: 1\n"
        f"kernel_overhead_us: {m.call_overhead_s * 1e6:.3g}\n"
        "efficiency: {gemm: 1, vector: 1, depthwise: 0.1, memory: 1, broadcast: 0.5, norm: 1, pool: 0.5, reduce: 1}\n"
        "calibration: \"none: measured ceilings; depthwise and pooling fractions are guesses (no GEMM kernel); "
        "calibrate against your own timings with benchmarks/latency_truth.py\"\n"
        f"measured: {{gemm_tflops_float32: {tflops:.4g}, copy_gbs: {m.copy_bandwidth / 1e9:.4g}, "
        f"call_overhead_us: {m.call_overhead_s * 1e6:.3g}}}\n"
    )
