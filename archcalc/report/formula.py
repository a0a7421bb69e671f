"""formula: closed forms as one-line text, LaTeX or JSON (exact sympy text), with their domain."""
from __future__ import annotations

from typing import Any

from .common import dumps, grouped, plain
from .symbolic import text as readable


def _json_at(point: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in point.items()}


def formula_render(f: Any, fmt: str) -> str:
    import sympy

    if fmt == "json":
        return dumps({"name": f.name, "symbols": f.symbols, "ideal": f.ideal, "notes": f.notes,
                      "domain": f.domain,
                      "formulas": {k: (plain(v) if not isinstance(v, list) else [str(x) for x in v]) for k, v in f.items()},
                      "readable": {k: (readable(v) if not isinstance(v, list) else [readable(x) for x in v])
                                   for k, v in f.items()},
                      "latex": {k: (sympy.latex(v) if not isinstance(v, list) else [sympy.latex(x) for x in v])
                                for k, v in f.items()},
                      "at": [_json_at(p) for p in f.at]})
    lines = [f"{f.name} in {', '.join(f.symbols)}"]
    for key, value in f.items():
        if isinstance(value, list):
            body = " × ".join(sympy.latex(x) if fmt == "latex" else readable(x) for x in value)
        elif fmt == "latex":
            body = sympy.latex(value)
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
