"""Plots (optional extra `archcalc[plot]`): a per-layer profile and a MACs-vs-params comparison.

matplotlib is imported only inside the functions that draw, so nothing else needs it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import num
from .analysis import DTYPE_BYTES, Analysis
from .errors import UsageError
from .record import record

FORMATS = (".png", ".svg", ".pdf")


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("plotting needs matplotlib: pip install 'archcalc[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _check_output(path: str) -> None:
    if Path(path).suffix.lower() not in FORMATS:
        raise UsageError(f"-o {path}: the plot format follows the extension; use one of {', '.join(FORMATS)}")


def _number(x: Any, what: str) -> float:
    if not num.is_exact(x):
        raise UsageError(f"plots need concrete sizes; {what} is {num.fmt(x)}")
    return float(x)


def top1(a: Analysis, label: str) -> tuple[float, str] | None:
    """The spec's cited ImageNet top-1 for this network: `metadata: {top1: 70.6, source: ...}` for the spec's
    defaults, or `top1: {preset_name: value, ...}` per preset. None when the spec cites none."""
    meta = a.network.spec.metadata or {}
    value = meta.get("top1")
    if isinstance(value, dict):
        value = value.get(a.label or a.network.spec.name)
    if value is None or isinstance(value, bool) or not num.is_exact(value):
        return None
    return float(value), str(meta.get("source", ""))


def profile(a: Analysis, path: str, live: list[int] | None = None) -> None:
    """Per-layer MACs, params and activation memory (and, when given, live memory) along the depth."""
    _check_output(path)
    plt = _pyplot()
    rows = a.rows
    x = list(range(len(rows)))
    macs = [_number(r.macs, "MACs") / 1e6 for r in rows]
    params = [_number(r.params, "params") / 1e6 for r in rows]
    width = DTYPE_BYTES[a.dtype]
    act = [_number(r.activations, "activations") * width / 2**20 for r in rows]
    fig, axes = plt.subplots(3, 1, figsize=(12, 7.5), sharex=True, constrained_layout=True)
    series = ((macs, "MACs (M)", "tab:blue"), (params, "Params (M)", "tab:orange"),
              (act, f"Activations (MiB, {a.dtype})", "tab:green"))
    for ax, (values, label, color) in zip(axes, series):
        ax.bar(x, values, width=1.0, color=color, linewidth=0)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(x=0.005)
    if live is not None:
        axes[2].step(x, [v / 2**20 for v in live], where="mid", color="black", linewidth=0.9,
                     label="alive at once (inference)")
        axes[2].legend(loc="upper right", fontsize=8, frameon=False)
    _shade_blocks(axes, rows)
    axes[-1].set_xlabel("layer (execution order)")
    t = a.totals
    fig.suptitle(f"{a.name}: {t.params / 1e6:.2f}M params, {float(t.macs) / 1e9:.2f} GMACs "
                 f"({a.convention}), input {'×'.join(num.fmt(v) for v in a.network.input)}, batch {a.batch}")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _shade_blocks(axes: Any, rows: Any) -> None:
    """Alternate shading and a label for every top-level block (layer.scope[0])."""
    spans: list[tuple[str, int, int]] = []
    for i, r in enumerate(rows):
        key = r.layer.scope[0] if r.layer.scope else ""
        if spans and spans[-1][0] == key:
            spans[-1] = (key, spans[-1][1], i)
        else:
            spans.append((key, i, i))
    blocks = [s for s in spans if s[0]]
    if len(blocks) > 40:
        return
    for n, (key, lo, hi) in enumerate(blocks):
        for ax in axes:
            if n % 2 == 0:
                ax.axvspan(lo - 0.5, hi + 0.5, color="0.92", zorder=0)
        if hi - lo >= 3:
            axes[0].text((lo + hi) / 2, 1.0, key, transform=axes[0].get_xaxis_transform(), ha="center",
                         va="bottom", fontsize=7, rotation=0 if len(blocks) < 12 else 60)


@record
class Point:
    label: str
    params: float
    macs: float
    top1: float | None
    source: str


def points(analyses: list[Analysis], labels: list[str], cited: list[bool]) -> list[Point]:
    out = []
    for a, label, use in zip(analyses, labels, cited):
        acc = top1(a, label) if use else None
        out.append(Point(label, _number(a.totals.params, "params"), _number(a.totals.macs, "MACs"),
                         acc[0] if acc else None, acc[1] if acc else ""))
    return out


def pareto(pts: list[Point], path: str, convention: str) -> None:
    """MACs against params (log-log), one labelled point per network; a second panel of top-1 against
    MACs for the networks whose spec cites an accuracy."""
    _check_output(path)
    plt = _pyplot()
    with_acc = [p for p in pts if p.top1 is not None]
    fig, axes = plt.subplots(1, 2 if with_acc else 1, figsize=(13 if with_acc else 7.5, 6), squeeze=False)
    fig.subplots_adjust(left=0.07 if with_acc else 0.12, right=0.97, top=0.92, bottom=0.2 if with_acc else 0.12,
                        wspace=0.22)
    ax = axes[0][0]
    for p in pts:
        ax.scatter(p.macs / 1e9, p.params / 1e6, s=40, color="tab:blue" if p.top1 is None else "tab:red", zorder=3)
        ax.annotate(p.label, (p.macs / 1e9, p.params / 1e6), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(x=0.2, y=0.1)
    if with_acc:
        ax.scatter([], [], color="tab:red", label="top-1 cited by the spec")
        ax.scatter([], [], color="tab:blue", label="no cited accuracy")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlabel(f"GMACs per image ({convention})")
    ax.set_ylabel("params (M)")
    ax.set_title("cost: MACs against params")
    ax.grid(True, which="both", alpha=0.25)
    if with_acc:
        bx = axes[0][1]
        ordered = sorted(with_acc, key=lambda p: p.macs)
        front, best = [], -1.0
        for p in ordered:
            if p.top1 is not None and p.top1 > best:
                front.append(p)
                best = p.top1
        bx.plot([p.macs / 1e9 for p in front], [p.top1 for p in front], color="0.6", linestyle="--", zorder=2,
                label="Pareto front")
        for p in with_acc:
            bx.scatter(p.macs / 1e9, p.top1, s=20 + p.params / 1e6 * 4, color="tab:red", alpha=0.7, zorder=3)
            bx.annotate(p.label, (p.macs / 1e9, p.top1), textcoords="offset points", xytext=(5, -10), fontsize=8)
        bx.set_xscale("log")
        bx.margins(x=0.2, y=0.1)
        bx.set_xlabel(f"GMACs per image ({convention})")
        bx.set_ylabel("ImageNet top-1 (%), as the papers report")
        bx.set_title("accuracy against MACs (marker area ∝ params)")
        bx.grid(True, which="both", alpha=0.25)
        bx.legend(loc="lower right", fontsize=8, frameon=False)
        sources = sorted({p.source.removeprefix("ImageNet top-1: ") for p in with_acc if p.source})
        fig.text(0.01, 0.01, "ImageNet top-1 as published: " + "; ".join(sources), fontsize=7, color="0.3",
                 va="bottom", wrap=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
