"""The roofline: each kernel takes the longer of its compute time and its memory time, plus a launch cost.

    t = max(FLOPs / (peak_flops · e_compute · fill), bytes / (bandwidth · e_memory)) + overhead

- peak_flops: the datasheet's dense rate for the path the kernel runs on. Tensor cores
  (`tensor`: bfloat16/float16, and float32 convolutions as TF32 when the profile says the runtime
  allows it, PyTorch's default for cuDNN) for aligned GEMM-like convs and fc; the CUDA cores
  (`vector`: the float32 rate) for depthwise and grouped convs, for convs whose input channels per
  group are not a multiple of the tensor-core width (8 elements of 16 bits: an RGB stem), and for
  float32 matmuls outside convolutions.
- e_compute, e_memory: attainable fractions of those peaks, per kernel class (profile `efficiency`).
- fill: the share of the GPU a GEMM can occupy: output tiles (128 × 128 of M = batch·H·W positions by
  N = output channels, split along K up to `max_split_k` ways when K is long) over the SM count, capped at 1.
- overhead: a fixed cost per kernel (launch, prologue/epilogue, tail), the profile's `kernel_overhead_s`.
Bytes and FLOPs come from `costs.kernels` (fusion model there).
"""
from __future__ import annotations

from typing import Any

from ..record import record
from .costs import Kernel
from .device import Device

TILE = 128
K_CHUNK = 512
TENSOR_ALIGN_BYTES = 16
N_HALF = 32
K_HALF = 32
# which attainable-bandwidth fraction a kernel class streams at (the rest: `memory`)
MEMORY_KEY = {"norm": "norm", "pool": "pool", "reduce": "reduce", "broadcast": "broadcast"}


@record
class Timing:
    kernel: Kernel
    path: str            # tensor | vector | memory
    peak: float          # FLOP/s of that path
    compute_s: float
    memory_s: float
    overhead_s: float
    seconds: float
    bound: str           # compute | memory

    @property
    def intensity(self) -> float:
        return self.kernel.flops / self.kernel.bytes if self.kernel.bytes else 0.0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def path_of(k: Kernel, dtype: str, dev: Device) -> str:
    if k.cls in ("gemm", "grouped"):
        width = {"float32": 4, "float64": 8}.get(dtype, 2)
        per_group = k.c_in // max(k.groups, 1)
        if k.cls == "grouped" or per_group * width % TENSOR_ALIGN_BYTES:
            return "vector"
        if dtype == "float32":
            return "tensor" if (dev.tf32_convs and k.kind == "conv" and "tf32" in dev.peak_flops) else "vector"
        return "tensor" if dtype in dev.peak_flops else "vector"
    return "vector" if k.cls == "depthwise" else "memory"


def fill(k: Kernel, dev: Device) -> float:
    """Share of the SMs a GEMM-like kernel keeps busy (tile count, with split-K for long reductions)."""
    if k.cls not in ("gemm", "grouped", "depthwise"):
        return 1.0
    m, n, depth = gemm_dims(k)
    tiles = _ceil_div(m, TILE) * _ceil_div(n, TILE)
    split = min(dev.max_split_k, max(1, depth // K_CHUNK))
    return min(1.0, tiles * split / dev.sms)


def gemm_dims(k: Kernel) -> tuple[int, int, int]:
    """(M, N, K) of the implicit GEMM: positions × output channels × reduction length per group."""
    m, n = k.positions, max(k.c_out, 1)
    return m, n, max(1, k.flops // max(2 * m * n, 1))


def shape_efficiency(k: Kernel) -> float:
    """Narrow GEMMs reuse each loaded operand less: a tile's efficiency saturates in N and K as
    N/(N + N_HALF) · K/(K + K_HALF) (N_HALF, K_HALF: where a tile runs at half its rate)."""
    _, n, depth = gemm_dims(k)
    return n / (n + N_HALF) * depth / (depth + K_HALF)


def time_kernel(k: Kernel, dtype: str, dev: Device) -> Timing:
    path = path_of(k, dtype, dev)
    eff = dev.efficiency
    if path == "tensor":
        peak = dev.peak_flops["tf32" if dtype == "float32" else dtype]
        rate = peak * eff["gemm"] * fill(k, dev) * shape_efficiency(k)
    elif path == "vector":
        peak = dev.peak_flops["float32"]
        rate = peak * eff["depthwise" if k.cls == "depthwise" else "vector"] * fill(k, dev)
    else:
        peak = dev.peak_flops["float32"]
        rate = peak * eff["vector"]
    compute = k.flops / rate if k.flops else 0.0
    memory = k.bytes / (dev.bandwidth * eff[MEMORY_KEY.get(k.cls, "memory")])
    overhead = dev.kernel_overhead_s
    bound = "compute" if compute >= memory else "memory"
    return Timing(k, path, peak, compute, memory, overhead, max(compute, memory) + overhead, bound)


def estimate_kernels(ks: list[Kernel], dtype: str, dev: Device) -> list[Timing]:
    return [time_kernel(k, dtype, dev) for k in ks]


def total(ts: list[Timing]) -> float:
    return sum(t.seconds for t in ts)


__all__ = ["Any", "Timing", "estimate_kernels", "fill", "path_of", "time_kernel", "total"]
