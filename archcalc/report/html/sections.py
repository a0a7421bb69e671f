"""The sections of one network in the HTML report: facts, the diagram with its blocks, the per-layer
table, profiles, formulas, memory and latency. Every string from a spec goes through `escape`."""
from __future__ import annotations

import signal
from contextlib import contextmanager
from html import escape
from typing import Any, Iterator

from ... import num
from ...analysis import Analysis
from ...diagram import draw, svg
from ...diagram.structure import Group, Traced, group_id, groups
from ...diagram.view import Viewer, layer_label, merge_sole_repeat
from ...errors import ArchcalcError
from ..common import grouped, rf_str, shape_str
from . import plots

NUM = ' class="num"'

MAX_PANELS = 400
FORMULA_SECONDS = 30


def facts(a: Analysis) -> str:
    t = a.totals
    pairs = [("input", shape_str(a.network.input)), ("output", shape_str(a.network.output)),
             ("params", grouped(t.params)), ("MACs", grouped(t.macs)), ("FLOPs", grouped(t.flops)),
             ("activations", grouped(t.activations)), ("weight layers", str(t.weight_layers)),
             ("depth", str(t.depth)), ("receptive field", num.fmt(t.rf) if not isinstance(t.rf, list) else shape_str(t.rf)),
             ("leaf layers", str(len(a.rows))), ("convention", a.convention), ("batch · dtype", f"{num.fmt(a.batch)} · {a.dtype}")]
    vars_ = ", ".join(f"{k}={num.fmt(v) if num.is_exact(v) else v}" for k, v in a.network.vars.items())
    if vars_:
        pairs.append(("vars", vars_))
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs) + "</dl>"


class Diagrams:
    """The overview at --depth and, for every collapsed box, a <details> panel with that block drawn one
    level deeper; its own boxes open their own panels (nested)."""

    def __init__(self, t: Traced, sid: str, depth: int) -> None:
        self.t, self.sid, self.depth = t, sid, depth
        self.by_id: dict[str, Group] = {group_id(g): g for g in groups(t.tree)}
        self.count = 0

    def overview(self) -> str:
        v = Viewer(self.t.analysis, self.depth).root(self.t.tree)
        pic = draw.picture(self.t.analysis, v, draw.Options(depth=self.depth, header=False))
        return self._svg(pic, f"{self.sid}-") + self._panels(pic)

    def _svg(self, pic: Any, prefix: str) -> str:
        panels = {n.id: f"{self.sid}-panel-{n.group}" for n in pic.nodes if n.group and n.group in self.by_id}
        return '<div class="scroll diagram">' + svg.render(pic, prefix=prefix, names=self._names(pic), panels=panels) + "</div>"

    def _names(self, pic: Any) -> dict[str, str]:
        a = self.t.analysis
        out = {}
        for n in pic.nodes:
            names = [a.rows[i].layer.name for i in n.layers]
            hint = " (click to open)" if n.group else ""
            out[n.id] = (f"{names[0]} … {names[-1]}, {len(names)} layers{hint}" if n.kind == "block" and names
                         else ", ".join(names) or "input")
        return out

    def _panels(self, pic: Any) -> str:
        out = []
        for n in pic.nodes:
            if n.kind != "block" or n.group not in self.by_id:
                continue
            if self.count >= MAX_PANELS:
                out.append(f'<p class="note">… more blocks not drawn (the report draws at most {MAX_PANELS}).</p>')
                break
            self.count += 1
            g = merge_sole_repeat(self.by_id[n.group])
            a = self.t.analysis
            v = Viewer(a, 1).seq(g.body, 1)
            sub = draw.picture(a, v, draw.Options(depth=1, header=False))
            rows = [a.rows[i] for i in n.layers]
            params = num.norm(sum((r.params for r in rows), 0))
            macs = num.norm(sum((r.macs for r in rows), 0))
            out.append(f'<details class="block" open id="{self.sid}-panel-{n.group}"><summary>{escape(n.lines[0])} '
                       f'<span class="muted">· {len(rows)} layers · params {escape(grouped(params))} · MACs '
                       f'{escape(grouped(macs))}</span></summary>'
                       + self._svg(sub, f"{self.sid}-{n.group}-") + self._panels(sub) + "</details>")
        return "".join(out)


def layer_table(a: Analysis, tid: str) -> str:
    head = [("#", True), ("layer", False), ("op", False), ("block", False), ("output", False), ("params", True),
            ("MACs", True), ("activations", True), ("RF", True)]
    out = [f'<div class="filter"><input type="search" placeholder="filter layers (name, op, block)…" '
           f'data-filter="{tid}" aria-label="filter layers"></div>',
           f'<div class="scroll layers"><table class="sortable" id="{tid}"><thead><tr>'
           + "".join(f'<th class="{"num" if n else ""}" id="{tid}-h{i}">{escape(h)}</th>' for i, (h, n) in enumerate(head))
           + "</tr></thead><tbody>"]
    for i, r in enumerate(a.rows):
        layer = r.layer
        rf = rf_str(r)
        cells = [(str(i + 1), str(i + 1), True), (layer.name, layer.name, False),
                 (layer_label(a, i), layer.op, False), (".".join(layer.scope), ".".join(layer.scope), False),
                 (shape_str(layer.output), str(num.prod(layer.output)) if num.is_exact(num.prod(layer.output)) else "", False),
                 (grouped(r.params), _v(r.params), True), (grouped(r.macs), _v(r.macs), True),
                 (grouped(r.activations), _v(r.activations), True), (rf, rf.split("×")[0], True)]
        out.append("<tr>" + "".join(f'<td{NUM if n else ""} data-v="{escape(v)}">{escape(text)}</td>'
                                    for text, v, n in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _v(x: Any) -> str:
    return str(x) if num.is_exact(x) and isinstance(x, int) else str(float(x)) if num.is_exact(x) else str(x)


def profiles(a: Analysis, live: list[int] | None) -> str:
    if not all(num.is_exact(x) for r in a.rows for x in (r.params, r.macs, r.activations)):
        return '<p class="note">Profiles need concrete sizes (this network was analysed symbolically).</p>'
    names = [f"{r.layer.name} ({r.layer.op})" for r in a.rows]
    from ...analysis import DTYPE_BYTES

    width = DTYPE_BYTES[a.dtype]
    return (plots.profile("MACs per layer", [float(r.macs) for r in a.rows], names)
            + plots.profile("params per layer", [float(r.params) for r in a.rows], names, color="#2f9e44")
            + plots.profile("activation memory per layer (output bytes)", [float(r.activations * width) for r in a.rows],
                            names, "B", color="#7048e8", line=[float(x) for x in live] if live else None,
                            line_label="— memory alive at each layer (inference)"))


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Give up on a slow computation (SIGALRM, main thread on POSIX); elsewhere no limit."""
    def stop(signum: int, frame: Any) -> None:
        raise TimeoutError

    try:
        old = signal.signal(signal.SIGALRM, stop)
    except (AttributeError, ValueError):
        yield
        return
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def formulas(spec: str, sets: dict[str, Any], a: Analysis) -> str:
    if len(a.network.input) != 3 or not num.is_exact(a.network.input[1]):
        return '<p class="note">Closed forms in the input size are given for image inputs of a concrete size.</p>'
    try:
        from ...formula import closed_forms

        with time_limit(FORMULA_SECONDS):
            f = closed_forms(spec, ["H"], sets=sets)
    except TimeoutError:
        return f'<p class="note">Closed forms took longer than {FORMULA_SECONDS} s and were left out; run ' \
               f'<code>archcalc formula {escape(spec)} --symbols H</code>.</p>'
    except ArchcalcError as e:
        return f'<p class="note">Closed forms are unavailable for this network: {escape(str(e))}</p>'
    except Exception as e:  # sympy failing on an unusual expression leaves the rest of the report intact
        return f'<p class="note">Closed forms could not be computed ({escape(type(e).__name__)}: {escape(str(e)[:200])}).</p>'
    rows = [("output", " × ".join(str(x) for x in f.output)), ("params", str(f.params)), ("MACs", str(f.macs)),
            ("activations", str(f.activations))]
    out = [f'<p class="note">In the input size H (square H×H input; <code>archcalc formula {escape(spec)} '
           f'--symbols H</code>).</p>']
    out += [f"<h4>{escape(k)}</h4><pre class=\"formula\">{escape(v)}</pre>" for k, v in rows]
    out += [f'<p class="note">note: {escape(n)}</p>' for n in f.notes]
    return "".join(out)


def memory_section(a: Analysis) -> tuple[str, list[int] | None]:
    from ...memory import memory
    from ..memory import memory_lines, memory_notes

    try:
        m = memory(a)
    except ArchcalcError as e:
        return f'<p class="note">Memory needs concrete sizes: {escape(str(e))}</p>', None
    rows = "".join(f"<tr><th>{escape(k)}</th><td{NUM}>{escape(v)}</td></tr>" for k, v in memory_lines(m))
    notes = "".join(f"<li>{escape(n)}</li>" for n in memory_notes(m))
    return (f"<table>{rows}</table><ul class=\"notes\">{notes}</ul>", [x.live_bytes for x in m.layers])


def latency_section(a: Analysis, device: str) -> str:
    from ...diagram.timing import available, layer_seconds

    if not available():
        return ('<p class="note">Latency estimates are not available in this build (archcalc.latency is not '
                'installed); this section fills in when it is.</p>')
    try:
        seconds, est = layer_seconds(a, device)
    except ArchcalcError as e:
        return f'<p class="note">Latency estimate unavailable: {escape(str(e))}</p>'
    total = float(getattr(est, "seconds", 0.0) or sum(seconds))
    per_s = float(getattr(est, "images_per_second", 0.0) or 0.0)
    top = sorted(range(len(seconds)), key=lambda i: -seconds[i])[:5]
    rows = "".join(f"<tr><td>{escape(a.rows[i].layer.name)}</td><td{NUM}>{seconds[i] * 1e3:.4f} ms</td>"
                   f"<td{NUM}>{100 * seconds[i] / total:.1f}%</td></tr>" for i in top if total > 0)
    return (f"<p>Roofline estimate on <b>{escape(device)}</b> ({escape(a.dtype)}): {total * 1e3:.3f} ms per batch of "
            f"{escape(num.fmt(a.batch))}" + (f", {per_s:,.0f} images/s" if per_s else "")
            + f'. The slowest layers (a fused kernel counts at the layer that launches it; '
            f'<code>archcalc latency SPEC --device {escape(device)}</code> explains the model):</p>'
            f"<table><thead><tr><th>layer</th><th{NUM}>time</th><th{NUM}>share</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def network(t: Traced, sid: str, label: str, spec: str, sets: dict[str, Any], depth: int, with_formulas: bool,
            device: str) -> str:
    a = t.analysis
    spec_ = a.network.spec
    mem, live = memory_section(a)
    parts = [f'<section class="network" id="{sid}"><h2>{escape(label)}</h2>']
    if spec_.description:
        parts.append(f'<p class="lead">{escape(spec_.description)}</p>')
    if spec_.source:
        parts.append(f'<p class="note">Source: {escape(spec_.source)}</p>')
    parts.append(facts(a))
    parts.append(f'<h3>Architecture</h3><p class="note">Drawn from the spec at depth {depth}: a purple box is a block '
                 f'or repeat with its totals; click it to open its diagram below (without scripts every block is '
                 f'shown).</p><p class="controls"><button type="button" id="{sid}-open-all" data-all="open" data-scope="{sid}">open every '
                 f'block</button> <button type="button" data-all="close" data-scope="{sid}">close every block</button></p>')
    parts.append(Diagrams(t, sid, depth).overview())
    parts.append('<h3>Layers</h3><p class="note">Every leaf layer in execution order, the numbers of '
                 f'<code>archcalc summary {escape(spec)}</code>; click a heading to sort.</p>')
    parts.append(layer_table(a, f"{sid}-layers"))
    parts.append("<h3>Profiles</h3>" + profiles(a, live))
    parts.append("<h3>Closed forms</h3>" + (formulas(spec, sets, a) if with_formulas else
                                            '<p class="note">Left out (--no-formulas).</p>'))
    parts.append(f"<h3>Memory</h3>{mem}")
    parts.append(f"<h3>Latency</h3>{latency_section(a, device)}")
    parts.append("</section>")
    return "".join(parts)

