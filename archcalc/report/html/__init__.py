"""`archcalc report`: one self-contained HTML file (inline SVG, CSS and a small script; nothing fetched)."""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

from ... import num
from ...diagram.structure import Traced
from ...record import field, record
from ..common import grouped, shape_str
from ..compare import compare_records, ratio_str
from . import plots
from .page import document
from .sections import NUM, network


@record
class ReportOptions:
    depth: int = 1
    formulas: bool = True
    device: str = "h100"
    input: str | None = None
    sets: tuple[str, ...] = ()


@record
class Item:
    label: str                 # as given on the command line ("mobilenet_v1 --set alpha=0.5")
    spec: str                  # the spec name or path
    sets: dict[str, Any] = field(default_factory=dict)
    traced: Traced | None = None


def comparison(items: Sequence[Item]) -> str:
    analyses = [it.traced.analysis for it in items]  # type: ignore[union-attr]
    records = compare_records(analyses, [it.label for it in items])
    head = ("network", "params", "params ×", "MACs", "MACs ×", "activations", "weight layers", "depth", "RF")
    body = []
    for i, r in enumerate(records):
        rf = num.fmt(r["rf"]) if not isinstance(r["rf"], list) else shape_str(r["rf"])
        cells = [(f'<a href="#net{i}">{escape(r["name"])}</a>', r["name"], False),
                 (escape(grouped(r["params"])), _v(r["params"]), True), (escape(ratio_str(r["params_ratio"])), _v(r["params_ratio"]), True),
                 (escape(grouped(r["macs"])), _v(r["macs"]), True), (escape(ratio_str(r["macs_ratio"])), _v(r["macs_ratio"]), True),
                 (escape(grouped(r["activations"])), _v(r["activations"]), True), (str(r["weight_layers"]), str(r["weight_layers"]), True),
                 (str(r["depth"]), str(r["depth"]), True), (escape(rf), escape(rf.split("×")[0]), True)]
        body.append("<tr>" + "".join(f'<td{NUM if n else ""} data-v="{escape(v)}">{t}</td>' for t, v, n in cells) + "</tr>")
    table = ('<div class="scroll"><table class="sortable" id="compare"><thead><tr>'
             + "".join(f'<th class="{"num" if i else ""}">{escape(h)}</th>' for i, h in enumerate(head))
             + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>"
             + '<p class="note">Ratios against the first network. Click a heading to sort.</p>')
    pts = [(it.label, float(a.totals.params), float(a.totals.macs)) for it, a in zip(items, analyses)
           if num.is_exact(a.totals.params) and num.is_exact(a.totals.macs)]
    chart = ("<h3>MACs against params</h3>" + plots.pareto(pts)
             + '<p class="note">Green: the Pareto front (no other network here has both fewer params and fewer MACs).</p>'
             if len(pts) >= 2 else "")
    return f'<section id="comparison"><h2>Comparison</h2>{table}{chart}</section>'


def _v(x: Any) -> str:
    if x is None:
        return ""
    return str(x) if isinstance(x, int) else str(float(x)) if num.is_exact(x) else str(x)


def report(items: Sequence[Item], opts: ReportOptions) -> str:
    names = [it.label for it in items]
    title = "archcalc report: " + ", ".join(names)
    head = [f"<header><h1>{escape(title)}</h1>",
            '<p class="lead">What each network costs, computed from its spec by archcalc: shapes, parameters, '
            'multiply-adds (the "paper" convention counts conv and fc weights only unless another is named), '
            'memory, and the architecture drawn from the spec.</p>']
    if opts.input or opts.sets:
        head.append(f'<p class="note">Options: {escape(" ".join(([f"--input {opts.input}"] if opts.input else []) + [f"--set {s}" for s in opts.sets]))}</p>')
    if len(items) > 1:
        head.append('<nav class="toc">' + '<a href="#comparison">comparison</a>'
                    + "".join(f'<a href="#net{i}">{escape(n)}</a>' for i, n in enumerate(names)) + "</nav>")
    head.append("</header>")
    parts = head + ([comparison(items)] if len(items) > 1 else [])
    for i, it in enumerate(items):
        parts.append(network(it.traced, f"net{i}", it.label, it.spec, it.sets, opts.depth, opts.formulas, opts.device))  # type: ignore[arg-type]
    return document(title, "\n".join(parts))
