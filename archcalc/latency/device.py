"""Device profiles: YAML data (datasheet peaks, attainable fractions), loaded and validated with placed errors."""
from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import SpecError, UsageError, Where, did_you_mean
from ..record import record

DEVICE_DIR = Path(__file__).resolve().parent.parent / "devices"
DTYPE_KEYS = ("float32", "tf32", "bfloat16", "float16")
EFFICIENCY_KEYS = ("gemm", "vector", "depthwise", "memory", "broadcast", "norm", "pool", "reduce")
MAX_PROFILE_BYTES = 1 << 20


@record
class Device:
    name: str
    description: str
    source: str                         # where the peaks come from (datasheet)
    peak_flops: Mapping[str, float]     # dense FLOP/s per dtype (tf32: tensor-core float32)
    bandwidth: float                    # bytes/s, DRAM/HBM, datasheet
    sms: int                            # streaming multiprocessors (or cores for a CPU)
    tf32_convs: bool                    # float32 convolutions run as TF32 (PyTorch's cuDNN default)
    efficiency: Mapping[str, float]     # attainable fractions (see model.py)
    kernel_overhead_s: float
    max_split_k: int
    calibration: str                    # how the fractions were found
    path: str
    compute_capability: tuple[int, int] | None = None   # CUDA (major, minor); sets the cuBLAS workspace (memory)
    memory_bytes: int = 0               # datasheet capacity (memory's "fits" line); 0: not given


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DEVICE_DIR.glob("*.yaml"))


def load(name_or_path: str) -> Device:
    """A built-in profile name (`h200`) or a path to a profile YAML file (contains `/` or ends in .yaml/.yml)."""
    text = str(name_or_path)
    if "/" in text or text.endswith((".yaml", ".yml")):
        return load_file(Path(text))
    key = text.strip().lower().replace("-", "_")
    names = builtin_names()
    if key not in names:
        raise UsageError(f"unknown device `{text}`{did_you_mean(key, names)}; known: {', '.join(names)}, "
                         f"or a path to a profile .yaml")
    return load_file(DEVICE_DIR / f"{key}.yaml")


def load_file(path: Path) -> Device:
    from ..yamlio import load_text, read_file

    shown = str(path)
    try:   # the one file reader: regular files only (a FIFO or a device is refused unopened), size-capped
        text = read_file(path, shown, "a device profile YAML file")
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such device profile") from None
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise UsageError(f"{shown}: larger than {MAX_PROFILE_BYTES} bytes; a device profile is a short YAML file")
    doc = load_text(text, shown)
    return parse(doc.data, shown, doc)


def parse(data: Any, file: str, doc: Any = None) -> Device:
    def fail(path: str, msg: str) -> SpecError:
        keys = tuple(p for p in path.split(".") if p)
        return SpecError(msg, doc.where(keys) if doc is not None else Where(file, None, path))

    if not isinstance(data, dict):
        raise fail("", "a device profile is a mapping (name:, peak_flops:, bandwidth:, ...)")
    known = {"archcalc_device", "name", "description", "source", "peak_tflops", "bandwidth_gbs", "sms", "tf32_convs",
             "efficiency", "kernel_overhead_us", "max_split_k", "calibration", "measured", "compute_capability",
             "memory_gb"}
    for key in data:
        if key not in known:
            raise fail(str(key), f"unknown key `{key}`{did_you_mean(str(key), known)}; expected one of {', '.join(sorted(known))}")

    def number(path: str, value: Any, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)) or not math.isfinite(value):
            raise fail(path, f"expected a number, got {value!r}")
        if not lo < value <= hi:
            raise fail(path, f"expected a number in ({lo:g}, {hi:g}], got {float(value):g}")
        return float(value)

    def text(key: str, required: bool = False) -> str:
        v = data.get(key)
        if v is None:
            if required:
                raise fail("", f"missing `{key}`")
            return ""
        if not isinstance(v, str):
            raise fail(key, f"expected text, got {v!r}")
        if any(not c.isprintable() for c in v):
            raise fail(key, "control characters are not allowed in a profile's text")
        if len(v) > 2000:
            raise fail(key, "text longer than 2000 characters")
        return v

    def numbers(key: str, allowed: tuple[str, ...], noun: str, what: str, hi: float) -> dict[str, float]:
        raw = data[key]
        if not isinstance(raw, dict):
            raise fail(key, f"expected a mapping of {what}, got {raw!r}")
        out: dict[str, float] = {}
        for k, v in raw.items():
            if k not in allowed:
                raise fail(f"{key}.{k}", f"unknown {noun} `{k}`{did_you_mean(str(k), allowed)}; expected {', '.join(allowed)}")
            out[k] = number(f"{key}.{k}", v, 0, hi)
        return out

    name = text("name", True)
    for key in ("peak_tflops", "bandwidth_gbs", "efficiency"):
        if key not in data:
            raise fail("", f"missing `{key}`")
    flops = {k: v * 1e12 for k, v in numbers("peak_tflops", DTYPE_KEYS, "dtype",
                                              f"dtype to dense TFLOP/s ({', '.join(DTYPE_KEYS)})", 1e6).items()}
    if "float32" not in flops:
        raise fail("peak_tflops", "needs at least `float32` (the non-tensor rate)")
    eff = numbers("efficiency", EFFICIENCY_KEYS, "key", f"{', '.join(EFFICIENCY_KEYS)} to fractions", 1)
    missing = [k for k in EFFICIENCY_KEYS if k not in eff]
    if missing:
        raise fail("efficiency", f"missing {', '.join(missing)}")
    sms = data.get("sms", 1)
    if isinstance(sms, bool) or not isinstance(sms, int) or not 1 <= sms <= 100_000:
        raise fail("sms", f"expected a whole number of SMs (1 … 100000), got {sms!r}")
    split = data.get("max_split_k", 1)
    if isinstance(split, bool) or not isinstance(split, int) or not 1 <= split <= 64:
        raise fail("max_split_k", f"expected a whole number 1 … 64, got {split!r}")
    tf32 = data.get("tf32_convs", False)
    if not isinstance(tf32, bool):
        raise fail("tf32_convs", f"expected true or false, got {tf32!r}")
    cc = data.get("compute_capability")
    capability = None
    if cc is not None:
        parts = cc.split(".") if isinstance(cc, str) else []
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() and 1 <= len(p) <= 2 for p in parts):
            raise fail("compute_capability", f'expected a quoted "major.minor" such as "9.0", got {cc!r}')
        capability = (int(parts[0]), int(parts[1]))
    capacity = 0
    if data.get("memory_gb") is not None:
        capacity = int(number("memory_gb", data["memory_gb"], 0, 1e6) * 1e9)
    return Device(
        name=name, description=text("description"), source=text("source"), peak_flops=flops,
        bandwidth=number("bandwidth_gbs", data["bandwidth_gbs"], 0, 1e7) * 1e9, sms=sms, tf32_convs=tf32, efficiency=eff,
        kernel_overhead_s=number("kernel_overhead_us", data.get("kernel_overhead_us", 0) or 1e-9, 0, 1e6) * 1e-6,
        max_split_k=split, calibration=text("calibration"), path=file, compute_capability=capability,
        memory_bytes=capacity)
