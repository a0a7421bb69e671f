"""A laid-out picture as SVG text (no dependency). Every string from a spec is escaped."""
from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .layout import FONT, LINE, PAD_Y, Picture
from .metrics import FONT_FAMILY

KIND_FILL = {"input": "#ffffff", "join": "#fff3cd", "block": "#e9e3f5"}
OP_FILL = {"conv": "#dcebfb", "dwconv": "#dcebfb", "conv_transpose": "#dcebfb", "fc": "#d7f0e0",
           "maxpool": "#fde2cf", "avgpool": "#fde2cf", "gap": "#fde2cf", "adaptive_avgpool": "#fde2cf"}
OTHER_FILL = "#f1f3f5"
STROKE = "#495057"


def default_fill(kind: str, op: str) -> str:
    return KIND_FILL.get(kind) or OP_FILL.get(op, OTHER_FILL)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def render(pic: Picture, prefix: str = "", names: dict[str, str] | None = None,
           panels: dict[str, str] | None = None) -> str:
    """SVG for a picture. `prefix` keeps ids unique when several SVGs share a page; `names` gives each
    node id a tooltip (its layer names); `panels` marks boxes that open a panel (the HTML report)."""
    w, h = _n(pic.width), _n(pic.height)
    arrow = f"{prefix}arrow"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           f'font-family={quoteattr(FONT_FAMILY)} font-size="{_n(FONT)}" class="archcalc-diagram" role="img">']
    out.append(f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
               f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{STROKE}"/></marker></defs>')
    out.append(f'<rect class="background" x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>')
    for i, line in enumerate(pic.header):
        weight = ' font-weight="bold"' if i == 0 else ""
        out.append(f'<text class="header" x="16" y="{_n(16 + i * LINE + FONT)}"{weight}>{escape(line)}</text>')
    out.append('<g class="frames">')
    for f in pic.frames:
        out.append(f'<g class="frame" data-group={quoteattr(f.group)}>'
                   f'<rect x="{_n(f.x)}" y="{_n(f.y)}" width="{_n(f.w)}" height="{_n(f.h)}" rx="8" fill="#fafafa" '
                   f'fill-opacity="0.6" stroke="#adb5bd" stroke-dasharray="5 3"/>'
                   f'<text x="{_n(f.x + f.title_x)}" y="{_n(f.y + 6 + FONT)}" font-weight="bold" fill="#495057">'
                   f'{escape(f.title)}</text></g>')
    out.append('</g><g class="edges" fill="none">')
    for e in pic.edges:
        d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in e.points)
        out.append(f'<path class="edge" data-from={quoteattr(prefix + e.src)} data-to={quoteattr(prefix + e.dst)} '
                   f'd="{d}" stroke="{STROKE}" stroke-width="1.3" marker-end="url(#{arrow})"/>')
    out.append('</g><g class="nodes">')
    for n in pic.nodes:
        fill = n.fill or default_fill(n.kind, n.op)
        group = f" data-group={quoteattr(n.group)}" if n.group else ""
        if panels and n.id in panels:
            group += f" data-panel={quoteattr(panels[n.id])}"
        rx = "10" if n.kind == "block" else "14" if n.kind == "join" else "4"
        stroke_w = "2" if n.kind == "block" else "1"
        tip = (names or {}).get(n.id, "")
        out.append(f'<g class="node {n.kind}" id={quoteattr(prefix + n.id)}{group}>'
                   + (f"<title>{escape(tip)}</title>" if tip else "")
                   + f'<rect x="{_n(n.x)}" y="{_n(n.y)}" width="{_n(n.w)}" height="{_n(n.h)}" rx="{rx}" '
                     f'fill="{fill}" stroke="{STROKE}" stroke-width="{stroke_w}"/>')
        for i, line in enumerate(n.lines):
            y = n.y + PAD_Y + i * LINE + FONT
            cls = n.roles[i] if i < len(n.roles) else "metric"
            style = ' font-weight="bold"' if i == 0 else ' fill="#5f3dc4"' if cls == "contents" and not n.fill else ' fill="#343a40"'
            out.append(f'<text class="{cls}" x="{_n(n.x + n.w / 2)}" y="{_n(y)}" text-anchor="middle"{style}>'
                       f"{escape(line)}</text>")
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(x for x in out if x) + "\n"
