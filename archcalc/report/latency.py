"""latency: per-kernel roofline table, totals, and the JSON contract (layers[].seconds/bound/bytes/intensity)."""
from __future__ import annotations

import csv
import io
from typing import Any

from .common import dumps, human, tsv

LATENCY_COLUMNS = ("layer", "op", "fused", "FLOPs", "bytes", "FLOP/B", "bound", "time", "share")


def seconds_str(s: float) -> str:
    for factor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= factor:
            return f"{s / factor:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def latency_json(e: Any) -> dict[str, Any]:
    d = e.device
    return {
        "name": e.name, "device": d.name, "dtype": e.dtype, "batch": e.batch, "fusion": e.fusion,
        "device_profile": {"description": d.description, "source": d.source, "path": d.path,
                           "peak_flops": dict(d.peak_flops), "bandwidth": d.bandwidth, "sms": d.sms,
                           "efficiency": dict(d.efficiency), "kernel_overhead_s": d.kernel_overhead_s,
                           "calibration": d.calibration},
        "layers": [{"name": r.name, "op": r.op, "class": r.cls, "path": r.path, "fused": list(r.fused),
                    "flops": r.flops, "bytes": r.bytes, "intensity": r.intensity, "bound": r.bound,
                    "compute_seconds": r.compute_s, "memory_seconds": r.memory_s, "overhead_seconds": r.overhead_s,
                    "seconds": r.seconds, "rule": r.rule} for r in e.layers],
        "totals": {"seconds": e.seconds, "images_per_second": e.images_per_second, "kernels": len(e.layers),
                   "flops": e.flops, "achieved_flops_per_second": e.achieved_flops, "peak_flops_per_second": e.peak_flops,
                   "share_of_peak": e.share_of_peak, "compute_bound_seconds": e.compute_bound_s,
                   "memory_bound_seconds": e.memory_bound_s, "overhead_seconds": e.overhead_s},
    }


def _rows(e: Any, top: int | None) -> list[Any]:
    rows = list(e.layers)
    if top:
        rows = sorted(rows, key=lambda r: -r.seconds)[:top]
    return rows


def _peak_name(e: Any) -> str:
    flops = e.device.peak_flops
    if e.dtype == "float32":
        return "TF32" if e.device.tf32_convs and "tf32" in flops else "float32"
    return e.dtype if e.dtype in flops else f"float32 (no {e.dtype} tensor cores)"


def latency_lines(e: Any, fusion_text: str) -> list[tuple[str, str]]:
    d = e.device
    fallback = [r.name for r in e.layers if r.rule == "fallback"]
    out = [
        ("Device", f"{d.name}: {d.description}"),
        ("Setting", f"batch {e.batch}, {e.dtype}, {fusion_text}"),
        ("Estimated time per batch", (f"{seconds_str(e.seconds)} ({len(e.layers)} kernels: compute-bound "
                                      f"{seconds_str(e.compute_bound_s)}, memory-bound {seconds_str(e.memory_bound_s)}; "
                                      f"per-kernel overhead {seconds_str(e.overhead_s)} included)")),
        ("Images per second", f"{e.images_per_second:,.0f}" if e.images_per_second >= 100 else f"{e.images_per_second:.3g}"),
        ("Achieved FLOP/s", (f"{human(e.achieved_flops)}FLOP/s = {100 * e.share_of_peak:.1f}% of the "
                             f"{human(e.peak_flops)}FLOP/s dense {_peak_name(e)} peak")),
    ]
    if fallback:
        out.append(("No cost rule (fallback)", ", ".join(fallback[:8]) + (" …" if len(fallback) > 8 else "")))
    return out


LATENCY_NOTES = (
    "roofline per kernel: max(FLOPs / attainable compute, bytes / attainable bandwidth) + launch overhead",
    ("bytes: inputs read + output written + weights read once, at the dtype; caches, workspaces and "
     "algorithm choice are not modelled"),
)


def latency_render(e: Any, fmt: str, console: Any, fusion_text: str, top: int | None = None) -> str | None:
    if fmt == "json":
        return dumps(latency_json(e))
    rows = _rows(e, top)
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["name", "op", "fused", "flops", "bytes", "intensity", "bound", "seconds", "share"])
        for r in rows:
            w.writerow([r.name, r.op, "+".join(r.fused), r.flops, r.bytes, f"{r.intensity:.6g}", r.bound,
                        f"{r.seconds:.6g}", f"{r.seconds / e.seconds:.6g}" if e.seconds else ""])
        return out.getvalue()
    text = [[r.name, r.op, "+" + str(len(r.fused)) if r.fused else "", human(r.flops), human(r.bytes, "B"),
             f"{r.intensity:.1f}", r.bound, seconds_str(r.seconds),
             f"{100 * r.seconds / e.seconds:.1f}%" if e.seconds else ""] for r in rows]
    lines = latency_lines(e, fusion_text)
    if fmt == "plain":
        return tsv(LATENCY_COLUMNS, text) + "".join(f"{k}\t{v}\n" for k, v in lines)
    if fmt == "markdown":
        md = ["| " + " | ".join(LATENCY_COLUMNS) + " |", "|---|---|---|" + "---:|" * 3 + "---|" + "---:|" * 2]
        md += ["| " + " | ".join(row) + " |" for row in text]
        md += ["", *[f"- **{k}**: {v}" for k, v in lines]]
        return "\n".join(md) + "\n"
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{e.name} on {e.device.name} · roofline latency estimate", title_justify="left",
                  header_style="bold")
    for i, col in enumerate(LATENCY_COLUMNS):
        table.add_column(col, justify="left" if i in (0, 1, 2, 6) else "right")
    for row in text:
        table.add_row(*[Text(c) for c in row])
    console.print(table)
    for k, v in lines:
        console.print(Text(f"{k}: ", style="bold") + Text(v))
    for note in LATENCY_NOTES:
        console.print(Text(note, style="dim"))
    return None
