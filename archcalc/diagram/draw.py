"""From a traced network to a picture: the view at --depth, numbers on nodes (--show), shading (--color)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .. import num
from ..analysis import Analysis
from ..errors import UsageError
from ..record import record
from .layout import Picture, layout
from .structure import Seq, Traced
from .view import (
    METRIC_LABEL,
    METRIC_UNIT,
    METRICS,
    VNode,
    VSeq,
    human,
    metric_values,
    view,
    walk_nodes,
)

LOW, HIGH = (255, 255, 255), (230, 110, 60)   # white → orange: a node's share of the largest node


@record
class Options:
    depth: int | None = None
    show: tuple[str, ...] = ()
    color: str | None = None
    fold: bool = True
    header: bool = True


def shade(fraction: float) -> str:
    f = min(1.0, max(0.0, fraction))
    return "#" + "".join(f"{round(lo + (hi - lo) * f):02x}" for lo, hi in zip(LOW, HIGH))


def _float(x: Any) -> float | None:
    return float(x) if num.is_exact(x) or isinstance(x, float) else None


def picture(a: Analysis, v: VSeq, opts: Options, latency: Sequence[float] | None = None) -> Picture:
    values = {m: metric_values(a, m, latency) for m in METRICS if m != "latency" or latency is not None}
    nodes = walk_nodes(v)

    def extra(n: VNode) -> list[str]:
        shown = list(opts.show)
        if n.kind == "block":
            shown = ["params", "macs"] + [m for m in shown if m not in ("params", "macs")]
        if n.kind == "input" or not shown:
            return []
        parts = [f"{METRIC_LABEL[m]} {human(values[m](n), METRIC_UNIT[m])}" for m in shown if m in values]
        return [" · ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]

    fill: Callable[[VNode], str] = lambda n: ""
    legend = ""
    if opts.color:
        get = values[opts.color]
        exact = {n.id: get(n) for n in nodes if n.kind != "input"}
        scores = {k: _float(v) for k, v in exact.items()}
        top_id = max((k for k in scores if scores[k] is not None), key=lambda k: scores[k], default=None)
        top = scores[top_id] if top_id is not None else None
        if any(v is None for v in scores.values()):
            raise UsageError(f"--color {opts.color} needs concrete sizes (give a numeric --input and --batch)")
        if top:
            whole = _float(get(VNode("", "", "", "", tuple(range(len(a.rows))))))
            fill = lambda n: shade((scores.get(n.id) or 0.0) / top) if n.kind != "input" else ""  # noqa: E731
            share = f" = {100 * top / whole:.1f}% of the network" if whole else ""
            legend = (f"shade: {METRIC_LABEL[opts.color]} per box; darkest "
                      f"{human(exact[top_id], METRIC_UNIT[opts.color])}{share}")
    header: tuple[str, ...] = ()
    if opts.header:
        t = a.totals
        depth = f" · --depth {opts.depth}" if opts.depth is not None else ""
        header = (f"{a.name}  ·  input {'×'.join(num.fmt(x) for x in a.network.input)}{depth}",
                  f"params {human(t.params)} · MACs {human(t.macs)} · {len(a.rows)} layers · convention {a.convention}")
        if legend:
            header += (legend,)
    return layout(v, extra, fill, header)


def draw(t: Traced, opts: Options, latency: Sequence[float] | None = None, tree: Seq | None = None) -> Picture:
    return picture(t.analysis, view(t.analysis, tree or t.tree, opts.depth, opts.fold), opts, latency)
