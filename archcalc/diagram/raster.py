"""PNG and PDF: the same picture drawn with matplotlib (the optional `plot` extra). One layout px is one
point, and matplotlib draws DejaVu Sans, the font the widths were measured for."""
from __future__ import annotations

import math
from typing import Any

from ..errors import UsageError
from .layout import FONT, LINE, PAD_Y, NodeBox, Picture
from .svg import STROKE, default_fill

MAX_PIXELS = 30000     # matplotlib refuses images over 2**16 px a side


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError("PNG and PDF diagrams need matplotlib: pip install 'archcalc[plot]' "
                         "(SVG, DOT and Mermaid need nothing)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ink(n: NodeBox, i: int) -> str:
    role = n.roles[i] if i < len(n.roles) else "metric"
    return "#000000" if i == 0 else "#5f3dc4" if role == "contents" and not n.fill else "#343a40"


def save(pic: Picture, path: str, fmt: str) -> None:
    plt = _pyplot()
    from matplotlib.patches import FancyBboxPatch, Polygon

    fig = plt.figure(figsize=(pic.width / 72, pic.height / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, pic.width)
    ax.set_ylim(pic.height, 0)
    ax.axis("off")
    font = {"family": "DejaVu Sans", "size": FONT}
    for i, line in enumerate(pic.header):
        ax.text(16, 16 + i * LINE + FONT, line, fontdict=font, parse_math=False, fontweight="bold" if i == 0 else "normal", va="baseline")
    for f in pic.frames:
        ax.add_patch(FancyBboxPatch((f.x, f.y), f.w, f.h, boxstyle="round,pad=0,rounding_size=8", facecolor="#fafafa",
                                    edgecolor="#adb5bd", linestyle=(0, (5, 3)), linewidth=0.8, alpha=0.9))
        ax.text(f.x + f.title_x, f.y + 6 + FONT, f.title, fontdict=font, parse_math=False, fontweight="bold", color="#495057",
                va="baseline")
    for e in pic.edges:
        xs, ys = zip(*e.points)
        ax.plot(xs, ys, color=STROKE, linewidth=1.0, solid_joinstyle="miter")
        (x0, y0), (x1, y1) = e.points[-2], e.points[-1]
        angle = math.atan2(y1 - y0, x1 - x0)
        tip = [(x1, y1)] + [(x1 - 7 * math.cos(angle + s), y1 - 7 * math.sin(angle + s)) for s in (0.4, -0.4)]
        ax.add_patch(Polygon(tip, closed=True, facecolor=STROKE, edgecolor=STROKE, linewidth=0.5))
    for n in pic.nodes:
        rounding = 10 if n.kind == "block" else 14 if n.kind == "join" else 4
        ax.add_patch(FancyBboxPatch((n.x, n.y), n.w, n.h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                    facecolor=n.fill or default_fill(n.kind, n.op), edgecolor=STROKE,
                                    linewidth=1.5 if n.kind == "block" else 0.8))
        for i, line in enumerate(n.lines):
            ax.text(n.x + n.w / 2, n.y + PAD_Y + i * LINE + FONT, line, fontdict=font, ha="center", va="baseline", parse_math=False,
                    fontweight="bold" if i == 0 else "normal", color=_ink(n, i))
    dpi = min(144.0, MAX_PIXELS * 72 / max(pic.width, pic.height))
    try:
        fig.savefig(path, format=fmt, dpi=dpi, facecolor="white")
    except OSError as e:
        raise UsageError(f"-o {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
