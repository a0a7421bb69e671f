"""`archcalc plot SPEC --roofline`: the device's attainable roofs with every kernel as a point (needs matplotlib)."""
from __future__ import annotations

from typing import Any

from ..plot import _check_output, _pyplot


def roofline(e: Any, output: str) -> None:
    _check_output(output)
    plt = _pyplot()
    d = e.device
    eff = d.efficiency
    bw = d.bandwidth * eff["memory"]
    roofs = [("tensor", e.peak_flops * eff["gemm"]), ("vector (CUDA cores)", d.peak_flops["float32"] * eff["vector"])]
    pts = [r for r in e.layers if r.bytes and r.flops]
    lo = min([r.intensity for r in pts] + [0.05]) / 2
    hi = max([r.intensity for r in pts] + [1000]) * 2
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for label, peak in roofs:
        knee = peak / bw
        xs = [lo, knee, hi]
        ax.plot(xs, [min(peak, x * bw) for x in xs], lw=1.5, label=f"{label}: {peak / 1e12:.3g} TFLOP/s attainable")
    total = max(e.seconds, 1e-30)
    colors = {"compute": "tab:red", "memory": "tab:blue"}
    for bound in ("compute", "memory"):
        sel = [r for r in pts if r.bound == bound]
        if sel:
            ax.scatter([r.intensity for r in sel], [r.flops / max(r.seconds, 1e-30) for r in sel],
                       s=[8 + 400 * r.seconds / total for r in sel], alpha=0.6, c=colors[bound],
                       label=f"{bound}-bound kernels (size: share of time)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOPs per byte moved)")
    ax.set_ylabel("achieved FLOP/s (estimate, overhead included)")
    ax.set_title(f"{e.name} on {d.name}: batch {e.batch}, {e.dtype}, fusion {e.fusion}; "
                 f"{e.seconds * 1e3:.3g} ms per batch", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
