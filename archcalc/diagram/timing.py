"""Per-layer time for `--color latency`, from the roofline estimate in archcalc.latency when this build
has it. The estimate is matched to the layers by name; without it the request fails with a clear error."""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from ..analysis import Analysis
from ..errors import UsageError

ENTRY_POINTS = ("latency", "estimate")   # archcalc.latency.latency(analysis, device) -> Latency


def available() -> bool:
    return importlib.util.find_spec("archcalc.latency") is not None


def layer_seconds(a: Analysis, device: str) -> tuple[list[float], Any]:
    """Seconds per leaf layer (one batch) and the estimate object; UsageError when unavailable."""
    try:
        mod = importlib.import_module("archcalc.latency")
    except ImportError:
        raise UsageError("latency estimates are unavailable in this build (no archcalc.latency); "
                         "use --color macs, params or memory") from None
    fn = next((getattr(mod, n) for n in ENTRY_POINTS if callable(getattr(mod, n, None))), None)
    if fn is None:
        raise UsageError("latency estimates are unavailable: archcalc.latency has no estimate function")
    est = fn(a, device=device)
    rows = getattr(est, "layers", None)
    if rows is None and isinstance(est, dict):
        rows = est.get("layers")
    if rows is None:
        raise UsageError("latency estimates are unavailable: archcalc.latency gave no per-layer times")
    by_name = {}
    for r in rows:
        name = r["name"] if isinstance(r, dict) else r.name
        seconds = r["seconds"] if isinstance(r, dict) else r.seconds
        by_name[name] = float(seconds)
    return [by_name.get(r.layer.name, 0.0) for r in a.rows], est
