"""scale: a sweep of spec variables beside the paper's rule."""
from __future__ import annotations

import csv
import io
from typing import Any

from .. import num
from .common import csv_ratio, dumps, grouped, human, plain, shape_str, tsv
from .compare import ratio_str


# ---------------------------------------------------------------- scale
def _pct(actual: Any, rule: Any) -> str:
    if actual is None or rule is None or not num.is_exact(actual) or not num.is_exact(rule) or rule == 0:
        return ""
    return f"{(float(actual) / float(rule) - 1) * 100:+.1f}%"


def _val(v: Any) -> str:
    return num.fmt(v) if not isinstance(v, str) else v


def scale_records(points: list[Any]) -> list[dict[str, Any]]:
    out = []
    for p in points:
        t = p.totals
        out.append({**{k: v for k, v in p.values.items()}, "input": list(p.input),
                    "params": t.params, "params_ratio": p.params_ratio, "params_rule": p.params_rule,
                    "macs": t.macs, "macs_ratio": p.macs_ratio, "macs_rule": p.macs_rule})
    return out


def scale_render(points: list[Any], fmt: str, console: Any) -> str | None:
    names = list(points[0].values)
    records = scale_records(points)
    if fmt == "json":
        rows = [{k: (None if v is None else float(v) if k.endswith(("_ratio", "_rule")) and num.is_exact(v) else plain(v))
                 for k, v in r.items()} for r in records]
        return dumps({"name": points[0].name, "vars": names, "points": rows})
    header = names + ["input", "params", "params ×", "rule ×", "MACs", "MACs ×", "rule ×", "MACs vs rule"]
    rows = []
    exact = fmt in ("csv", "markdown", "plain")
    for r in records:
        fmtn = (lambda x: str(plain(x))) if fmt == "plain" else grouped if exact else human
        rows.append([_val(r[n]) for n in names] + [shape_str(r["input"]), fmtn(r["params"]), ratio_str(r["params_ratio"]),
                     ratio_str(r["params_rule"]), fmtn(r["macs"]), ratio_str(r["macs_ratio"]), ratio_str(r["macs_rule"]),
                     _pct(r["macs_ratio"], r["macs_rule"])])
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(names + ["input", "params", "params_ratio", "params_rule", "macs", "macs_ratio", "macs_rule"])
        for r in records:
            w.writerow([_val(r[n]) for n in names] + [shape_str(r["input"]), plain(r["params"]), csv_ratio(r["params_ratio"]),
                        csv_ratio(r["params_rule"]), plain(r["macs"]), csv_ratio(r["macs_ratio"]), csv_ratio(r["macs_rule"])])
        return out.getvalue()
    if fmt == "plain":
        return tsv(header, rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(names) + "---:|" * (len(header) - len(names))]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    table = Table(title=f"{points[0].name}: scaling sweep · ratios against the first row · "
                        f"rule = the paper's predicted factor", title_justify="left", header_style="bold")
    for i, col in enumerate(header):
        table.add_column(col, justify="left" if i < len(names) else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return None
