"""Latency: a roofline estimate per kernel on a device profile (see costs.py for the fusion model and
model.py for the timing rule). Pure core: no click, no rich.

>>> from archcalc.analysis import analyze
>>> est = latency(analyze("resnet50", batch=256, dtype="bfloat16"), "h200")
>>> est.seconds > 0, est.device.name
(True, 'h200')
"""
from __future__ import annotations

from ..analysis import Analysis
from ..errors import UsageError
from ..record import record
from .costs import FUSIONS, Kernel, describe, kernels
from .device import Device, builtin_names, load
from .model import Timing, estimate_kernels

DTYPES = ("float32", "bfloat16", "float16")


@record
class LayerLatency:
    name: str
    op: str                   # the JSON op of the kernel's first layer
    cls: str                  # cost class (costs.CLASSES)
    path: str                 # tensor | vector | memory
    flops: int
    bytes: int
    intensity: float          # FLOPs per byte
    bound: str                # compute | memory
    compute_s: float
    memory_s: float
    overhead_s: float
    seconds: float
    fused: tuple[str, ...]
    rule: str                 # table | fallback


@record
class Latency:
    name: str
    device: Device
    dtype: str
    batch: int
    fusion: str
    layers: tuple[LayerLatency, ...]
    seconds: float
    images_per_second: float
    flops: int                # the network's FLOPs (2 × MACs × batch, the analysis' convention)
    achieved_flops: float     # flops / seconds
    peak_flops: float         # the device's dense tensor peak for the dtype
    compute_bound_s: float
    memory_bound_s: float
    overhead_s: float

    @property
    def share_of_peak(self) -> float:
        return self.achieved_flops / self.peak_flops if self.peak_flops else 0.0


def peak_for(dev: Device, dtype: str) -> float:
    key = "tf32" if dtype == "float32" and dev.tf32_convs and "tf32" in dev.peak_flops else dtype
    return dev.peak_flops.get(key, dev.peak_flops["float32"])


def latency(a: Analysis, device: Device | str, fusion: str = "none") -> Latency:
    if a.dtype not in DTYPES:
        raise UsageError(f"latency models float32, bfloat16 and float16, not {a.dtype}")
    dev = load(device) if isinstance(device, str) else device
    ks = kernels(a, fusion)
    ts = estimate_kernels(ks, a.dtype, dev)
    rows = tuple(_row(t) for t in ts)
    seconds = sum(r.seconds for r in rows)
    flops = int(a.totals.flops) if isinstance(a.totals.flops, int) else sum(k.flops for k in ks)
    batch = ks[0].batch if ks else int(a.batch)
    return Latency(
        name=a.name, device=dev, dtype=a.dtype, batch=batch, fusion=fusion, layers=rows, seconds=seconds,
        images_per_second=batch / seconds if seconds else 0.0, flops=flops,
        achieved_flops=flops / seconds if seconds else 0.0, peak_flops=peak_for(dev, a.dtype),
        compute_bound_s=sum(r.seconds for r in rows if r.bound == "compute"),
        memory_bound_s=sum(r.seconds for r in rows if r.bound == "memory"),
        overhead_s=sum(r.overhead_s for r in rows))


def _row(t: Timing) -> LayerLatency:
    k = t.kernel
    return LayerLatency(k.name, k.kind, k.cls, t.path, k.flops, k.bytes, t.intensity, t.bound, t.compute_s,
                        t.memory_s, t.overhead_s, t.seconds, k.fused, k.rule)


__all__ = [
    "DTYPES",
    "FUSIONS",
    "Device",
    "Kernel",
    "Latency",
    "LayerLatency",
    "builtin_names",
    "describe",
    "kernels",
    "latency",
    "load",
    "peak_for",
]
