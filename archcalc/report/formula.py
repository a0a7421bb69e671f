"""formula: closed forms as one-line text, LaTeX or JSON (exact sympy text), with their domain."""
from __future__ import annotations

from typing import Any

from .common import dumps, grouped, plain
from .symbolic import latex
from .symbolic import text as readable


def _json_at(point: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in point.items()}


def _q(x: Any) -> str:
    from .. import num

    return num.fmt(num.norm(x))


def _interval(r: Any, knob: str) -> str:
    if r.point:
        return f"{knob} = {_q(r.lo)}"
    return f"{'[' if r.closed_lo else '('}{_q(r.lo)}, {_q(r.hi)}{']' if r.closed_hi else ')'}"


def steps_render(f: Any, fmt: str) -> str:
    """A knob's exact step function: how many intervals, and the asked ones with their closed forms."""
    from .. import num
    from .symbolic import name

    st = f.steps
    k = name(st.knob)
    if fmt == "json":
        return dumps({"name": f.name, "symbols": f.symbols, "ideal": False, "knob": st.knob,
                      "whole_values": st.whole, "count_range": [_q(st.domain[0]), _q(st.domain[1])],
                      "intervals_total": st.total,
                      "intervals": [{"from": _q(r.lo), "to": _q(r.hi), "closed_from": r.closed_lo,
                                     "closed_to": r.closed_hi, "params": plain(r.params), "macs": plain(r.macs),
                                     "activations": plain(r.activations),
                                     **({"error": r.error} if r.error is not None else {}),
                                     **({"ratio": plain(r.ratio)} if r.ratio is not None else {})}
                                    for r in st.rows]})
    lines = [f"{f.name} in {', '.join(f.symbols)} (exact: channel and repeat counts rounded as the spec says)"]
    if st.whole:
        lines.append(f"{k} enters a rounding rule non-linearly ({', '.join(st.nonlinear[:3])}): "
                     f"a whole-number knob, one row per value")
    else:
        lines.append(f"{st.total} intervals of {k} on {_q(st.domain[0])} < {k} ≤ {_q(st.domain[1])}, "
                     f"every channel and repeat count constant on each"
                     + ("" if st.asked else f"; the {len(st.rows)} around the default shown (--range LO..HI for others)"))
    cols = ["params", "macs", "activations"] + (["ratio"] if any(r.ratio is not None for r in st.rows) else [])
    header = [k if st.whole else f"{k} interval"] + cols
    table = [[(_interval(r, k) if not st.whole else _q(r.lo))]
             + ([_n(getattr(r, c)) for c in cols] if r.error is None else ["invalid"] + [""] * (len(cols) - 1))
             for r in st.rows]
    if fmt == "latex":
        table = [[row[0]] + [latex(getattr(r, c)) if r.error is None and not num.is_exact(getattr(r, c)) else row[i + 1]
                             for i, c in enumerate(cols)] for row, r in zip(table, st.rows)]
    widths = [max(len(h), *(len(row[i]) for row in table)) if table else len(h) for i, h in enumerate(header)]
    symbolic_cols = any(r.error is None and not num.is_exact(r.macs) for r in st.rows)
    if symbolic_cols:        # closed forms in ρ, H: one block per interval, one line per quantity
        for row in table:
            lines.append(row[0])
            lines += [f"    {c} = {v}" for c, v in zip(cols, row[1:])]
    else:
        lines.append("  ".join(h.ljust(widths[i]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
        for row in table:
            lines.append("  ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(row)))
    for r in st.rows:
        if r.error is not None:
            lines.append(f"invalid on {_interval(r, k)}: {r.error}")
    lines.append("note: --ideal gives the paper's polynomial (rounding dropped)")
    return "\n".join(lines) + "\n"


def formula_render(f: Any, fmt: str) -> str:

    if getattr(f, "steps", None) is not None:
        return steps_render(f, fmt)
    if fmt == "json":
        return dumps({"name": f.name, "symbols": f.symbols, "ideal": f.ideal, "notes": f.notes,
                      "domain": f.domain,
                      "formulas": {k: (plain(v) if not isinstance(v, list) else [str(x) for x in v]) for k, v in f.items()},
                      "readable": {k: (readable(v) if not isinstance(v, list) else [readable(x) for x in v])
                                   for k, v in f.items()},
                      "latex": {k: (latex(f.raw.get(k, v)) if not isinstance(v, list) else [latex(x) for x in v])
                                for k, v in f.items()},
                      "at": [_json_at(p) for p in f.at]})
    lines = [f"{f.name} in {', '.join(f.symbols)}"]
    for key, value in f.items():
        if isinstance(value, list):
            body = " × ".join(latex(x) if fmt == "latex" else readable(x) for x in value)
        elif fmt == "latex":
            body = latex(f.raw.get(key, value))
        else:
            body = readable(f.raw.get(key, value))
        lines.append(f"{key} = {body}")
    lines += [f"domain: {d}" for d in f.domain]
    for point in f.at:
        where = ", ".join(f"{k}={plain(v)}" for k, v in point.items() if k not in ("params", "macs", "activations",
                                                                                    "in_domain", "why"))
        if point.get("in_domain") is False:
            lines.append(f"at {where}: {point['why']}")
        else:
            lines.append(f"at {where}: params {_n(point['params'])} · macs {_n(point['macs'])} · "
                         f"activations {_n(point['activations'])}")
    lines += [f"note: {n}" for n in f.notes]
    return "\n".join(lines) + "\n"


def _n(v: Any) -> str:
    return grouped(v) if isinstance(v, int) else readable(v)
