"""compare: one row per network, ratios against the first."""
from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from .. import num
from ..analysis import Analysis
from .common import csv_ratio, dumps, grouped, human, plain, shape_str, tsv


def compare_record(a: Analysis, label: str) -> dict[str, Any]:
    """One network's row (its totals only: `compare` of hundreds of specs keeps no layers)."""
    t = a.totals
    return {"name": label, "params": t.params, "macs": t.macs, "activations": t.activations,
            "activation_bytes": t.activation_bytes, "weight_layers": t.weight_layers, "depth": t.depth, "rf": t.rf}


def with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Params and MACs ratios against the first row."""
    base = rows[0]
    return [{**r, "params_ratio": _ratio(r["params"], base["params"]), "macs_ratio": _ratio(r["macs"], base["macs"])}
            for r in rows]


def compare_records(analyses: list[Analysis], labels: list[str]) -> list[dict[str, Any]]:
    return with_ratios([compare_record(a, label) for label, a in zip(labels, analyses)])


def _ratio(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    return num.div(a, b)


def ratio_str(r: Any, cell: Any = str) -> str:
    if r is None:
        return "–"
    if isinstance(r, (int, Fraction)):
        return f"{float(r):.2f}×"
    return cell(r)


def compare_json(records: list[dict[str, Any]], convention: str) -> dict[str, Any]:
    rows = []
    for r in records:
        rows.append({k: (v if k == "latency_seconds" else plain(v) if not k.endswith("ratio") else (None if v is None else float(v) if num.is_exact(v) else str(v)))
                     for k, v in r.items()})
    return {"convention": convention, "networks": rows}


def compare_text_rows(records: list[dict[str, Any]], exact: bool, raw: bool = False,
                      notes: Any = None) -> list[list[str]]:
    """One row per network; symbolic values on one line (long ones as [n] footnotes with `notes`)."""
    fmt = (lambda x: str(plain(x))) if raw else grouped if exact else human
    cell: Any = str
    if not raw:
        from .symbolic import text as readable

        cell = notes.cell if notes is not None else readable
        base = fmt
        fmt = lambda x: base(x) if num.is_exact(x) else cell(x)
    return [[r["name"], fmt(r["params"]), ratio_str(r["params_ratio"], cell), fmt(r["macs"]),
             ratio_str(r["macs_ratio"], cell),
             fmt(r["activations"]), str(r["depth"]),
             num.fmt(r["rf"]) if not isinstance(r["rf"], list) else shape_str(r["rf"])] for r in records]


COMPARE_COLUMNS = ("network", "params", "params ×", "MACs", "MACs ×", "activations", "depth", "RF")


def compare_render(records: list[dict[str, Any]], fmt: str, convention: str, console: Any) -> str | None:
    if fmt == "json":
        return dumps(compare_json(records, convention))
    timed = "latency_seconds" in records[0]
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["network", "params", "params_ratio", "macs", "macs_ratio", "activations", "depth", "rf"]
                   + (["latency_seconds"] if timed else []))
        for r in records:
            w.writerow([r["name"], plain(r["params"]), csv_ratio(r["params_ratio"]), plain(r["macs"]),
                        csv_ratio(r["macs_ratio"]), plain(r["activations"]), r["depth"], plain(r["rf"])]
                       + ([f"{r['latency_seconds']:.6g}"] if timed else []))
        return out.getvalue()
    from .symbolic import Footnotes

    notes = Footnotes() if fmt == "table" else None
    rows = compare_text_rows(records, exact=fmt in ("markdown", "plain"), raw=fmt == "plain", notes=notes)
    columns = COMPARE_COLUMNS
    if timed:
        from .latency import seconds_str

        columns = columns + ("est. latency",)
        rows = [row + [seconds_str(r["latency_seconds"])] for row, r in zip(rows, records)]
    if fmt == "plain":
        return tsv(columns, rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    table = Table(title=f"comparison · convention {convention} · ratios against {records[0]['name']}",
                  title_justify="left", header_style="bold")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for line in notes.lines() if notes is not None else []:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    return None
