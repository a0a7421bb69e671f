"""Small inline SVG charts for the HTML report (no matplotlib): per-layer profiles and a Pareto plot."""
from __future__ import annotations

import math
from html import escape
from typing import Sequence

from ...diagram.metrics import FONT_FAMILY, text_width
from ...diagram.view import human

W, H = 860.0, 150.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 12.0, 22.0, 24.0


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def profile(title: str, values: Sequence[float | None], names: Sequence[str], unit: str = "",
            color: str = "#4c6ef5", line: Sequence[float] | None = None, line_label: str = "") -> str:
    """Bars per layer in execution order; an optional line (memory alive at each layer) on the same scale."""
    vals = [v or 0.0 for v in values]
    top = max(vals + list(line or []) + [0.0])
    n = max(1, len(vals))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    step = pw / n
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(W)} {_n(H)}" width="{_n(W)}" '
           f'height="{_n(H)}" font-family="{escape(FONT_FAMILY)}" font-size="11" role="img" '
           f'aria-label="{escape(title)}">',
           f'<text x="{_n(LEFT)}" y="14" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{_n(LEFT)}" y1="{_n(TOP + ph)}" x2="{_n(W - RIGHT)}" y2="{_n(TOP + ph)}" stroke="#868e96"/>',
           f'<text x="{_n(LEFT - 4)}" y="{_n(TOP + 8)}" text-anchor="end">{escape(human(top, unit))}</text>',
           f'<text x="{_n(LEFT - 4)}" y="{_n(TOP + ph)}" text-anchor="end">0</text>',
           f'<text x="{_n(LEFT)}" y="{_n(H - 6)}">layer 1</text>',
           f'<text x="{_n(W - RIGHT)}" y="{_n(H - 6)}" text-anchor="end">layer {len(vals)}</text>']
    if top > 0:
        for i, (v, name) in enumerate(zip(vals, names)):
            if v <= 0:
                continue
            h = max(0.5, ph * v / top)
            out.append(f'<rect x="{_n(LEFT + i * step)}" y="{_n(TOP + ph - h)}" width="{_n(max(step * 0.85, 0.6))}" '
                       f'height="{_n(h)}" fill="{color}"><title>{escape(name)}: {escape(human(v, unit))}</title></rect>')
        if line:
            pts = " ".join(f"{_n(LEFT + (i + 0.5) * step)},{_n(TOP + ph - ph * v / top)}" for i, v in enumerate(line))
            out.append(f'<polyline points="{pts}" fill="none" stroke="#e8590c" stroke-width="1.5"/>')
            out.append(f'<text x="{_n(W - RIGHT)}" y="14" text-anchor="end" fill="#e8590c">{escape(line_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def pareto(points: Sequence[tuple[str, float, float]]) -> str:
    """MACs against params on log axes, one labelled point per network; the Pareto front (no other
    network has both fewer params and fewer MACs) joined by a line."""
    w, h = 640.0, 400.0
    left, right, top, bottom = 70.0, 30.0, 20.0, 44.0
    xs = [math.log10(max(p[1], 1.0)) for p in points]
    ys = [math.log10(max(p[2], 1.0)) for p in points]
    x0, x1 = math.floor(min(xs) - 0.1), math.ceil(max(xs) + 0.1)
    y0, y1 = math.floor(min(ys) - 0.1), math.ceil(max(ys) + 0.1)
    pw, ph = w - left - right, h - top - bottom

    def px(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    def py(y: float) -> float:
        return top + ph - ph * (y - y0) / (y1 - y0)

    out = [f'<svg class="chart pareto" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(w)} {_n(h)}" width="{_n(w)}" '
           f'height="{_n(h)}" font-family="{escape(FONT_FAMILY)}" font-size="11" role="img" aria-label="MACs against params">',
           f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(pw)}" height="{_n(ph)}" fill="none" stroke="#868e96"/>']
    for d in range(x0, x1 + 1):
        out.append(f'<line x1="{_n(px(d))}" y1="{_n(top)}" x2="{_n(px(d))}" y2="{_n(top + ph)}" stroke="#e9ecef"/>'
                   f'<text x="{_n(px(d))}" y="{_n(top + ph + 14)}" text-anchor="middle">{escape(human(10 ** d))}</text>')
    for d in range(y0, y1 + 1):
        out.append(f'<line x1="{_n(left)}" y1="{_n(py(d))}" x2="{_n(left + pw)}" y2="{_n(py(d))}" stroke="#e9ecef"/>'
                   f'<text x="{_n(left - 4)}" y="{_n(py(d) + 4)}" text-anchor="end">{escape(human(10 ** d))}</text>')
    out.append(f'<text x="{_n(left + pw / 2)}" y="{_n(h - 8)}" text-anchor="middle">params (log)</text>'
               f'<text x="14" y="{_n(top + ph / 2)}" text-anchor="middle" transform="rotate(-90 14 {_n(top + ph / 2)})">'
               f'MACs (log)</text>')
    front = sorted((i for i in range(len(points))
                    if not any((points[j][1] <= points[i][1] and points[j][2] < points[i][2])
                               or (points[j][1] < points[i][1] and points[j][2] <= points[i][2])
                               for j in range(len(points)))), key=lambda i: xs[i])
    if len(front) > 1:
        pts = " ".join(f"{_n(px(xs[i]))},{_n(py(ys[i]))}" for i in front)
        out.append(f'<polyline points="{pts}" fill="none" stroke="#2f9e44" stroke-dasharray="4 3"/>')
    for i, (label, params, macs) in enumerate(points):
        x, y = px(xs[i]), py(ys[i])
        anchor = "end" if x + 6 + text_width(label, 11) > w - right else "start"
        dx = -6 if anchor == "end" else 6
        out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{"#2f9e44" if i in front else "#4c6ef5"}">'
                   f'<title>{escape(label)}: {escape(human(params))} params, {escape(human(macs))} MACs</title></circle>'
                   f'<text x="{_n(x + dx)}" y="{_n(y - 6)}" text-anchor="{anchor}">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
