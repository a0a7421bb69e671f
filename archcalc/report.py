"""Every output format lives here: rich tables, JSON, CSV and Markdown. The core never formats."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable

from . import num
from .analysis import Analysis, Row

FORMATS = ("table", "json", "csv", "markdown")


def plain(x: Any) -> Any:
    """A JSON-safe value: ints stay ints, fractions and symbolic sizes become strings."""
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, Fraction):
        return num.fmt(x)
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    return str(x)


def human(x: Any, unit: str = "") -> str:
    """138357544 → '138.36M'; symbolic values print as expressions."""
    if isinstance(x, Fraction):
        x = float(x)
    if not isinstance(x, (int, float)):
        return str(x)
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(x) >= factor:
            return f"{x / factor:.2f}{suffix}{unit}"
    return f"{x:g}{unit}" if isinstance(x, float) else f"{x}{unit}"


def grouped(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else num.fmt(x)


def shape_str(shape: Iterable[Any]) -> str:
    return "×".join(num.fmt(v) for v in shape)


def rf_value(row: Row) -> Any:
    size = row.layer.rf.size
    return size[0] if str(size[0]) == str(size[1]) else list(size)


def rf_str(row: Row) -> str:
    v = rf_value(row)
    return "×".join(num.fmt(x) for x in v) if isinstance(v, list) else num.fmt(v)


def branch_inputs(a: Analysis) -> list[str]:
    """For each row, the inputs worth showing (any that are not simply the previous layer),
    named relative to the layer's own block: `bn3, shortcut1.bn1`."""
    out, previous = [], "input"
    for row in a.rows:
        inputs = row.layer.inputs
        prefix = row.layer.name.rsplit(".", 1)[0] + "." if "." in row.layer.name else ""
        out.append("" if inputs == (previous,) else
                   ", ".join(i[len(prefix):] if prefix and i.startswith(prefix) else i for i in inputs))
        previous = row.layer.name
    return out


# ---------------------------------------------------------------- JSON
def summary_json(a: Analysis, depth: int | None = None, top: int | None = None) -> dict[str, Any]:
    t = a.totals
    data = {
        "name": a.name,
        "description": a.network.spec.description,
        "input": plain(list(a.network.input)),
        "output": plain(list(a.network.output)),
        "batch": plain(a.batch),
        "dtype": a.dtype,
        "convention": a.convention,
        "vars": plain(dict(a.network.vars)),
        "layers": [
            {"name": r.layer.name, "op": r.layer.kind, "inputs": list(r.layer.inputs),
             "output": plain(list(r.layer.output)), "params": plain(r.params),
             "non_trainable_params": plain(r.non_trainable), "buffers": plain(r.layer.buffers),
             "macs": plain(r.macs), "activations": plain(r.activations), "rf": plain(rf_value(r)),
             "params_share": _share_json(r.params, t.params), "macs_share": _share_json(r.macs, t.macs),
             "activations_share": _share_json(r.activations, t.activations)}
            for r in a.rows],
        "totals": {
            "params": plain(t.params), "trainable_params": plain(t.trainable_params),
            "non_trainable_params": plain(t.non_trainable_params), "buffers": plain(t.buffers),
            "macs": plain(t.macs), "flops": plain(t.flops), "activations": plain(t.activations),
            "param_bytes": plain(t.param_bytes), "activation_bytes": plain(t.activation_bytes),
            "weight_layers": t.weight_layers, "depth": t.depth, "rf": plain(t.rf)},
    }
    peak = _peak(a)
    if peak is not None:
        data["totals"].update(peak_activation_bytes=peak.peak_activation_bytes, peak_layer=peak.peak_layer)
    if depth is not None or top is not None:
        data["view"] = {"depth": depth, "top": top, "rows": [
            {"name": v.name, "op": v.op, "layers": v.layers, "inputs": list(v.inputs), "output": plain(list(v.output)),
             "params": plain(v.params), "macs": plain(v.macs), "activations": plain(v.activations),
             "params_share": _share_json(v.params, t.params), "macs_share": _share_json(v.macs, t.macs),
             "activations_share": _share_json(v.activations, t.activations)} for v in view_rows(a, depth, top)]}
    return data


def _share_json(part: Any, total: Any) -> float | None:
    """A share of the total as a float rounded to 6 digits (not a count; counts stay exact ints)."""
    f = share(part, total)
    return None if f is None else round(float(f), 6)


def _peak(a: Analysis) -> Any:
    """Peak inference activation memory (archcalc.memory, default in-place rules), or None when symbolic."""
    from .errors import UsageError
    from .memory import memory

    try:
        return memory(a)
    except UsageError:
        return None


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- rows for text formats
COLUMNS = ("layer", "op", "inputs", "output", "params", "macs", "activations", "rf")
SHARE_COLUMNS = ("params_pct", "macs_pct", "activations_pct")


@dataclass(frozen=True)
class View:
    """What the tables show: every leaf layer, or blocks collapsed below `depth`, or the `top` K by MACs."""
    name: str
    op: str
    inputs: tuple[str, ...]
    output: Any
    params: Any
    macs: Any
    activations: Any
    rf: str
    layers: int            # leaf layers in this row (1 unless collapsed)
    shown_inputs: str      # inputs worth showing in the From column (relative names)
    last: str              # the last leaf layer in this row


def view_rows(a: Analysis, depth: int | None = None, top: int | None = None) -> list[View]:
    """Leaf rows; with `depth` every block instance nested `depth` deep (layer.scope[:depth]) becomes one
    row with summed params/MACs/activations, the last layer's output and field, and the inputs it takes
    from outside the block; with `top` the K rows with the most MACs, costliest first."""
    shown = branch_inputs(a)
    rows: list[View] = []
    group: list[int] = []

    def flush() -> None:
        if not group:
            return
        members = [a.rows[i] for i in group]
        prefix = ".".join(members[0].layer.scope[:depth])
        names = {r.layer.name for r in members}
        outside = tuple(dict.fromkeys(i for r in members for i in r.layer.inputs if i not in names))
        rows.append(View(prefix, "block", outside, members[-1].layer.output,
                         num.norm(sum((r.params for r in members), 0)), num.norm(sum((r.macs for r in members), 0)),
                         num.norm(sum((r.activations for r in members), 0)), rf_str(members[-1]), len(members),
                         ", ".join(outside) if outside != ((rows[-1].last,) if rows else ("input",)) else "",
                         members[-1].layer.name))
        group.clear()

    for i, (row, inputs) in enumerate(zip(a.rows, shown)):
        scope = row.layer.scope
        if depth is not None and len(scope) >= depth:
            if group and a.rows[group[0]].layer.scope[:depth] != scope[:depth]:
                flush()
            group.append(i)
            continue
        flush()
        previous = rows[-1].last if rows else "input"
        rows.append(View(row.layer.name, row.layer.op, row.layer.inputs, row.layer.output, row.params, row.macs,
                         row.activations, rf_str(row), 1,
                         inputs if depth is None else ("" if row.layer.inputs == (previous,) else ", ".join(row.layer.inputs)),
                         row.layer.name))
    flush()
    if top is not None:
        order = sorted(range(len(rows)), key=lambda i: (-float(rows[i].macs) if num.is_exact(rows[i].macs) else 0, i))
        rows = [rows[i] for i in order[:top]]
    return rows


def share(part: Any, total: Any) -> Fraction | None:
    """part / total as an exact fraction (None when either is symbolic or the total is 0)."""
    if not num.is_exact(part) or not num.is_exact(total) or total == 0:
        return None
    return Fraction(part) / Fraction(total)


def pct(part: Any, total: Any) -> str:
    f = share(part, total)
    return "" if f is None else f"{float(f) * 100:.1f}%"


BAR_WIDTH = 5
EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(part: Any, total: Any, width: int = BAR_WIDTH) -> str:
    """A share as a bar of `width` cells in eighths: 0.5 → '████' at width 8."""
    f = share(part, total)
    if f is None or f <= 0:
        return ""
    eighths = max(1, round(f * width * 8))
    return ("█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")).ljust(width)


def summary_records(a: Analysis, exact: bool, depth: int | None = None, top: int | None = None,
                    raw: bool = False) -> list[dict[str, str]]:
    """Text cells per shown row; `exact` writes every number in full (grouped, or plain ints with `raw`)."""
    fmt = (lambda x: str(plain(x))) if raw else grouped if exact else human
    t = a.totals
    records = []
    for v in view_rows(a, depth, top):
        records.append({
            "layer": v.name, "op": v.op if v.layers == 1 else f"{v.layers} layers",
            "inputs": v.shown_inputs if not exact else ";".join(v.inputs),
            "output": shape_str(v.output),
            "params": fmt(v.params) if v.params != 0 or exact else "",
            "macs": fmt(v.macs) if v.macs != 0 or exact else "",
            "activations": fmt(v.activations), "rf": v.rf,
            "params_pct": pct(v.params, t.params) if v.params != 0 or exact else "",
            "macs_pct": pct(v.macs, t.macs) if v.macs != 0 or exact else "",
            "activations_pct": pct(v.activations, t.activations),
            "macs_bar": bar(v.macs, t.macs), "activations_bar": bar(v.activations, t.activations)})
    return records


def summary_csv(a: Analysis, depth: int | None = None, top: int | None = None) -> str:
    """Plain integers (no thousands separators); percentages of the network's totals, one decimal."""
    out = io.StringIO()
    fields = COLUMNS + SHARE_COLUMNS
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in summary_records(a, exact=True, depth=depth, top=top, raw=True):
        writer.writerow({k: r[k].rstrip("%") if k in SHARE_COLUMNS else r[k] for k in fields})
    return out.getvalue()


def totals_lines(a: Analysis) -> list[tuple[str, str]]:
    t = a.totals
    batch = f" (batch {a.batch})" if a.batch != 1 else ""
    lines = [
        ("Params", f"{grouped(t.params)} ({human(t.params)})"),
        ("Trainable / non-trainable", f"{grouped(t.trainable_params)} / {grouped(t.non_trainable_params)}"),
    ]
    if t.buffers:
        lines.append(("Buffers (BN running stats)", grouped(t.buffers)))
    lines += [
        (f"MACs{batch}", f"{grouped(t.macs)} ({human(t.macs)})"),
        (f"FLOPs = 2·MACs{batch}", human(t.flops)),
        (f"Activations{batch}", f"{grouped(t.activations)} elements, {human(t.activation_bytes, 'B')} as {a.dtype}"),
        ("Parameter memory", f"{human(t.param_bytes, 'B')} as {a.dtype}"),
    ]
    peak = _peak(a)
    if peak is not None:
        lines.append(("Peak activations (inference)", f"{human(peak.peak_activation_bytes, 'B')} at {peak.peak_layer} "
                      f"(tensors alive at once; see `archcalc memory`)"))
    lines += [
        ("Depth / weight layers", f"{t.depth} / {t.weight_layers}"),
        ("Receptive field", num.fmt(t.rf) if not isinstance(t.rf, list) else shape_str(t.rf)),
    ]
    return lines


def summary_markdown(a: Analysis, depth: int | None = None, top: int | None = None) -> str:
    records = summary_records(a, exact=True, depth=depth, top=top)
    show_inputs = any(r["inputs"] for r in summary_records(a, exact=False, depth=depth, top=top))
    cols = [c for c in COLUMNS if c != "inputs" or show_inputs]
    cols = cols[:cols.index("params") + 1] + ["params_pct", "macs", "macs_pct", "activations", "activations_pct", "rf"]
    heads = {"params_pct": "params %", "macs_pct": "MACs %", "activations_pct": "act. %"}
    note = (f", blocks collapsed below depth {depth}" if depth is not None else "") + \
           (f", the {top} costliest rows by MACs" if top is not None else "")
    out = [f"## {a.name}", "", f"Input {shape_str(a.network.input)}, convention {a.convention}{note}.", "",
           "| " + " | ".join(heads.get(c, c) for c in cols) + " |",
           "|" + "|".join("---" if c in ("layer", "op", "inputs", "output") else "---:" for c in cols) + "|"]
    for r in records:
        out.append("| " + " | ".join(r[c].replace("|", "\\|") for c in cols) + " |")
    out += ["", "| total | |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in totals_lines(a)]
    return "\n".join(out) + "\n"


def summary_plain(a: Analysis, depth: int | None = None, top: int | None = None) -> str:
    """Tab-separated, no box drawing: for pipes (`cut -f`, `awk -F'\\t'`). Numbers in full."""
    cols = ("layer", "op", "inputs", "output", "params", "params_pct", "macs", "macs_pct", "activations",
            "activations_pct", "rf")
    lines = ["\t".join(cols)]
    lines += ["\t".join(r[c] for c in cols) for r in summary_records(a, exact=True, depth=depth, top=top, raw=True)]
    lines += [""] + [f"{k}\t{v}" for k, v in totals_lines(a)]
    return "\n".join(lines) + "\n"


def print_pairs(console: Any, lines: list[tuple[str, str]]) -> None:
    """`  key   value` lines under a table, keys aligned."""
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        console.print(f"  {key.ljust(width)}  {value}", highlight=False)


def summary_table(a: Analysis, console: Any, depth: int | None = None, top: int | None = None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    spec = a.network.spec
    short = spec.description.split(";")[0]
    title = f"{a.name} — {short}" if short else a.name
    view = (f" · blocks collapsed below depth {depth}" if depth is not None else "") + \
           (f" · top {top} by MACs" if top is not None else "")
    table = Table(title=title, title_justify="left", caption=f"input {shape_str(a.network.input)} · "
                  f"convention {a.convention} · batch {a.batch} · {a.dtype}{view} · "
                  f"%: share of the network's total; bars: share of MACs and of activation memory",
                  caption_justify="left", show_footer=True, header_style="bold", footer_style="bold",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    t = a.totals
    records = summary_records(a, exact=False, depth=depth, top=top)
    for r in records:
        r["macs_share"] = f"{r['macs_pct']:>5} {r['macs_bar']}" if r["macs_pct"] else ""
    show_inputs = any(r["inputs"] for r in records)

    def widest(key: str, header: str, footer: str = "") -> int:
        return max([len(header), len(footer)] + [len(r[key]) for r in records])

    table.add_column("Layer", footer="Total", overflow="fold", min_width=min(widest("layer", "Layer"), 16))
    table.add_column("Op", no_wrap=True, min_width=widest("op", "Op"))
    if show_inputs:
        table.add_column("From", style="dim", max_width=16, overflow="fold")
    for key, header, footer in (("output", "Output", ""), ("params", "Params", human(t.params)),
                                ("params_pct", "%", ""), ("macs", "MACs", human(t.macs)),
                                ("macs_share", "MACs %", ""), ("activations", "Activations", human(t.activations)),
                                ("activations_bar", "Memory", ""), ("rf", "RF", "")):
        table.add_column(header, justify="left" if key in ("macs_share", "activations_bar") else "right", footer=footer,
                         no_wrap=True, min_width=widest(key, header, footer))
    for r in records:
        cells = [r["layer"], r["op"]] + ([r["inputs"]] if show_inputs else []) + \
                [r["output"], r["params"], r["params_pct"], r["macs"], Text(r["macs_share"], style="cyan"),
                 r["activations"], Text(r["activations_bar"], style="green"), r["rf"]]
        table.add_row(*cells)
    console.print(table)
    print_pairs(console, totals_lines(a))


# ---------------------------------------------------------------- compare
def compare_records(analyses: list[Analysis], labels: list[str]) -> list[dict[str, Any]]:
    base = analyses[0].totals
    out = []
    for label, a in zip(labels, analyses):
        t = a.totals
        out.append({"name": label, "params": t.params, "macs": t.macs, "activations": t.activations,
                    "activation_bytes": t.activation_bytes, "weight_layers": t.weight_layers, "depth": t.depth, "rf": t.rf,
                    "params_ratio": _ratio(t.params, base.params), "macs_ratio": _ratio(t.macs, base.macs)})
    return out


def _ratio(a: Any, b: Any) -> Any:
    if b == 0:
        return None
    return num.div(a, b)


def _ratio_str(r: Any) -> str:
    if r is None:
        return "–"
    if isinstance(r, (int, Fraction)):
        return f"{float(r):.2f}×"
    return str(r)


def compare_json(records: list[dict[str, Any]], convention: str) -> dict[str, Any]:
    rows = []
    for r in records:
        rows.append({k: (plain(v) if not k.endswith("ratio") else (None if v is None else float(v) if num.is_exact(v) else str(v)))
                     for k, v in r.items()})
    return {"convention": convention, "networks": rows}


def compare_text_rows(records: list[dict[str, Any]], exact: bool, raw: bool = False) -> list[list[str]]:
    fmt = (lambda x: str(plain(x))) if raw else grouped if exact else human
    return [[r["name"], fmt(r["params"]), _ratio_str(r["params_ratio"]), fmt(r["macs"]), _ratio_str(r["macs_ratio"]),
             fmt(r["activations"]), str(r["depth"]),
             num.fmt(r["rf"]) if not isinstance(r["rf"], list) else shape_str(r["rf"])] for r in records]


COMPARE_COLUMNS = ("network", "params", "params ×", "MACs", "MACs ×", "activations", "depth", "RF")


def compare_render(records: list[dict[str, Any]], fmt: str, convention: str, console: Any) -> str | None:
    if fmt == "json":
        return dumps(compare_json(records, convention))
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["network", "params", "params_ratio", "macs", "macs_ratio", "activations", "depth", "rf"])
        for r in records:
            w.writerow([r["name"], plain(r["params"]), _csv_ratio(r["params_ratio"]), plain(r["macs"]),
                        _csv_ratio(r["macs_ratio"]), plain(r["activations"]), r["depth"], plain(r["rf"])])
        return out.getvalue()
    rows = compare_text_rows(records, exact=fmt in ("markdown", "plain"), raw=fmt == "plain")
    if fmt == "plain":
        return tsv(COMPARE_COLUMNS, rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(COMPARE_COLUMNS) + " |", "|---|" + "---:|" * (len(COMPARE_COLUMNS) - 1)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    table = Table(title=f"comparison · convention {convention} · ratios against {records[0]['name']}",
                  title_justify="left", header_style="bold")
    for i, col in enumerate(COMPARE_COLUMNS):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return None


def tsv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Plain mode: a header line and tab-separated rows, no box drawing."""
    return "\n".join("\t".join(r) for r in [list(header), *[list(r) for r in rows]]) + "\n"


def _csv_ratio(r: Any) -> str:
    return "" if r is None else (f"{float(r):.6g}" if num.is_exact(r) else str(r))


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
        t = p.analysis.totals
        out.append({**{k: v for k, v in p.values.items()}, "input": list(p.analysis.network.input),
                    "params": t.params, "params_ratio": p.params_ratio, "params_rule": p.params_rule,
                    "macs": t.macs, "macs_ratio": p.macs_ratio, "macs_rule": p.macs_rule})
    return out


def scale_render(points: list[Any], fmt: str, console: Any) -> str | None:
    names = list(points[0].values)
    records = scale_records(points)
    if fmt == "json":
        rows = [{k: (None if v is None else float(v) if k.endswith(("_ratio", "_rule")) and num.is_exact(v) else plain(v))
                 for k, v in r.items()} for r in records]
        return dumps({"name": points[0].analysis.name, "vars": names, "points": rows})
    header = names + ["input", "params", "params ×", "rule ×", "MACs", "MACs ×", "rule ×", "MACs vs rule"]
    rows = []
    exact = fmt in ("csv", "markdown", "plain")
    for r in records:
        fmtn = (lambda x: str(plain(x))) if fmt == "plain" else grouped if exact else human
        rows.append([_val(r[n]) for n in names] + [shape_str(r["input"]), fmtn(r["params"]), _ratio_str(r["params_ratio"]),
                     _ratio_str(r["params_rule"]), fmtn(r["macs"]), _ratio_str(r["macs_ratio"]), _ratio_str(r["macs_rule"]),
                     _pct(r["macs_ratio"], r["macs_rule"])])
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(names + ["input", "params", "params_ratio", "params_rule", "macs", "macs_ratio", "macs_rule"])
        for r in records:
            w.writerow([_val(r[n]) for n in names] + [shape_str(r["input"]), plain(r["params"]), _csv_ratio(r["params_ratio"]),
                        _csv_ratio(r["params_rule"]), plain(r["macs"]), _csv_ratio(r["macs_ratio"]), _csv_ratio(r["macs_rule"])])
        return out.getvalue()
    if fmt == "plain":
        return tsv(header, rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(names) + "---:|" * (len(header) - len(names))]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    table = Table(title=f"{points[0].analysis.name}: scaling sweep · ratios against the first row · "
                        f"rule = the paper's predicted factor", title_justify="left", header_style="bold")
    for i, col in enumerate(header):
        table.add_column(col, justify="left" if i < len(names) else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return None


# ---------------------------------------------------------------- formula
def formula_render(f: Any, fmt: str) -> str:
    import sympy

    if fmt == "json":
        return dumps({"name": f.name, "symbols": f.symbols, "ideal": f.ideal, "notes": f.notes,
                      "formulas": {k: (plain(v) if not isinstance(v, list) else [str(x) for x in v]) for k, v in f.items()},
                      "latex": {k: (sympy.latex(v) if not isinstance(v, list) else [sympy.latex(x) for x in v])
                                for k, v in f.items()}})
    lines = [f"{f.name} in {', '.join(f.symbols)}"]
    for key, value in f.items():
        if isinstance(value, list):
            text = " × ".join(sympy.latex(x) if fmt == "latex" else str(x) for x in value)
        elif fmt == "latex":
            text = sympy.latex(value)
        else:
            text = sympy.pretty(value, use_unicode=True, wrap_line=False)
        if "\n" in text:
            lines.append(f"{key} =")
            lines += ["    " + line for line in text.splitlines()]
        else:
            lines.append(f"{key} = {text}")
    lines += [f"note: {n}" for n in f.notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- claims (archcalc check)
def claims_json(report: Any) -> list[dict[str, Any]]:
    return [r.as_dict() for r in report.results]


def claims_summary(report: Any) -> str:
    c = report.counts()
    text = (f"{len(report.results)} claims: {c['match']} match, {c['within rounding']} within rounding, "
            f"{c['expected mismatch']} expected mismatches, {c['surprises']} surprises")
    return text + (f", {c['pending (spec missing)']} pending (spec missing)" if c["pending (spec missing)"] else "")


def claims_table(report: Any, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    styles = {"match": "green", "within rounding": "green", "expected mismatch": "yellow",
              "pending (spec missing)": "dim"}
    for f in report.files:
        rows = [r for r in report.results if r.file == f.path]
        table = Table(title=f"{f.path} — {f.title or f.source}", title_justify="left", show_lines=False)
        for name, kw in (("Claim", {}), ("Statement", {"ratio": 3}), ("Stated", {"justify": "right"}),
                         ("Computed", {"justify": "right"}), ("Verdict", {})):
            table.add_column(name, overflow="fold", **kw)
        for r in rows:
            verdict = r.verdict + (" — SURPRISE" if r.surprise else "")
            style = "bold red" if r.surprise else styles.get(r.verdict, "")
            note = ""
            if r.verdict == "expected mismatch":
                note = f"\ncorrect: {r.claim.correct}; {r.claim.why}"
            if r.detail and (r.surprise or r.verdict.startswith("pending")):
                note += f"\n{r.detail}"
            cell = Text(verdict, style=style)
            cell.append(note)
            table.add_row(Text(r.claim.id), Text(r.claim.statement), Text(r.claim.stated), Text(r.computed_text), cell)
        console.print(table)
    console.print(claims_summary(report))


# ---------------------------------------------------------------- verify (the NumPy forward pass)
def verify_json(v: Any) -> dict[str, Any]:
    """One network: per-layer expected/actual shapes and params vs weight-array sizes."""
    return {
        "name": v.name, "input": plain(list(v.network.input)), "batch": v.batch, "seed": v.seed, "ok": v.ok,
        "forward_seconds": round(v.forward_seconds, 6),
        "output": {"expected": list(v.output_expected), "actual": list(v.output_actual)},
        "layers": [{"name": c.name, "op": c.op, "expected": list(c.expected), "actual": list(c.actual),
                    "params": c.params, "weights": c.weights, "ok": c.ok} for c in v.layers],
        "failures": len(v.failures),
    }


def verify_table(v: Any, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{v.name} — NumPy forward pass, input {shape_str(v.network.input)}, batch {v.batch}",
                  title_justify="left", header_style="bold",
                  caption=f"forward {v.forward_seconds:.3f} s · seed {v.seed} · "
                          f"params = symbolic params + buffers, arrays = elements the forward pass created",
                  caption_justify="left")
    for name, justify in (("Layer", "left"), ("Op", "left"), ("Expected", "right"), ("Actual", "right"),
                          ("Params", "right"), ("Arrays", "right"), ("OK", "center")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in v.layers:
        mark = Text("✓", style="green") if c.ok else Text("✗", style="bold red")
        table.add_row(c.name, c.op, shape_str(c.expected), Text(shape_str(c.actual), style="" if c.shape_ok else "bold red"),
                      grouped(c.params) if c.params else "", Text(grouped(c.weights) if c.weights or c.params else "",
                                                                  style="" if c.params_ok else "bold red"), mark)
    console.print(table)
    verdict = "all layers agree" if v.ok else f"{len(v.failures)} layer(s) disagree"
    console.print(f"  {len(v.layers)} layers, {verdict}; forward {v.forward_seconds:.3f} s", highlight=False)


def verify_all_json(rows: list[Any], seconds: float) -> dict[str, Any]:
    return {
        "ok": all(r.ok for r in rows), "seconds": round(seconds, 3),
        "specs": [{"name": r.name, "ok": r.ok, "error": r.error,
                   "input": plain(list(r.verification.network.input)) if r.verification else None,
                   "layers": len(r.verification.layers) if r.verification else 0,
                   "forward_seconds": round(r.verification.forward_seconds, 6) if r.verification else None,
                   "failures": [{"name": c.name, "op": c.op, "expected": list(c.expected), "actual": list(c.actual),
                                 "params": c.params, "weights": c.weights} for c in r.verification.failures]
                   if r.verification else []} for r in rows],
    }


def verify_all_table(rows: list[Any], seconds: float, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="archcalc verify --all — NumPy forward pass of every built-in spec", title_justify="left",
                  header_style="bold")
    for name, justify in (("Spec", "left"), ("Input", "right"), ("Layers", "right"), ("Forward s", "right"),
                          ("OK", "center"), ("Problem", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        v = r.verification
        mark = Text("✓", style="green") if r.ok else Text("✗", style="bold red")
        if v is None:
            table.add_row(r.name, "", "", "", mark, Text(r.error or "", style="red"))
            continue
        problems = "; ".join(f"{c.name}: {shape_str(c.expected)} vs {shape_str(c.actual)}"
                             + ("" if c.params_ok else f", params {c.params} vs arrays {c.weights}")
                             for c in v.failures[:3])
        if len(v.failures) > 3:
            problems += f"; … {len(v.failures) - 3} more"
        table.add_row(r.name, shape_str(v.network.input), str(len(v.layers)), f"{v.forward_seconds:.2f}", mark,
                      Text(problems, style="red"))
    console.print(table)
    bad = sum(1 for r in rows if not r.ok)
    console.print(f"  {len(rows)} specs, {'all agree' if not bad else f'{bad} failed'}; {seconds:.1f} s", highlight=False)


# ---------------------------------------------------------------- memory
MEMORY_NOTES = (
    "activations: every layer's output, × batch × bytes of the dtype",
    "live: every tensor alive while the layer runs — its inputs, its output and anything a later layer "
    "(a branch, a shortcut) still reads; views (flatten, dropout at inference) share storage",
    "peak inference = parameters + buffers + the largest live figure; framework workspace and allocator "
    "overhead are not included",
    "training = weights + gradients + optimizer state + saved activations, assuming every layer's output "
    "(and the input) is kept for backward",
)


def memory_lines(m: Any) -> list[tuple[str, str]]:
    states = {"sgd": "none", "momentum": "1 copy (momentum)", "adam": "2 copies (m, v)"}[m.optimizer]
    mode = ("in-place ReLU/ReLU6/SiLU/Hardswish and residual add" if m.inplace else "no in-place ops") + \
           (", BN fused" if m.fuse_bn else "")
    return [
        ("Input", f"{human(m.input_bytes, 'B')}"),
        ("Activations (sum of all outputs)", f"{human(m.activation_bytes, 'B')}"),
        ("Parameters + buffers", f"{human(m.param_bytes, 'B')}"),
        ("Peak activations (inference)", f"{human(m.peak_activation_bytes, 'B')} while {m.peak_layer} runs ({mode})"),
        ("Peak inference memory", f"{human(m.peak_inference_bytes, 'B')} = parameters + peak activations"),
        (f"Training estimate ({m.optimizer})", f"{human(m.training_bytes, 'B')} = weights {human(m.param_bytes, 'B')}"
         f" + gradients {human(m.gradient_bytes, 'B')} + optimizer state {human(m.optimizer_bytes, 'B')} [{states}]"
         f" + saved activations {human(m.saved_activation_bytes, 'B')}"),
    ]


MEMORY_FIELDS = ("input_bytes", "activation_bytes", "param_bytes", "peak_activation_bytes", "peak_layer",
                 "peak_inference_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes", "training_bytes")


def memory_json(m: Any) -> dict[str, Any]:
    return {"name": m.name, "batch": m.batch, "dtype": m.dtype, "inplace": m.inplace, "fuse_bn": m.fuse_bn,
            "optimizer": m.optimizer, "notes": list(MEMORY_NOTES),
            "layers": [{"name": x.name, "op": x.op, "activations": x.activations, "activation_bytes": x.activation_bytes,
                        "new_bytes": x.new_bytes, "live_bytes": x.live_bytes, "reuse": x.reuse} for x in m.layers],
            "totals": {k: getattr(m, k) for k in MEMORY_FIELDS}}


def memory_render(m: Any, fmt: str, console: Any) -> str | None:
    header = ["layer", "op", "activations", "activation_bytes", "live_bytes", "reuse"]
    if fmt == "json":
        return dumps(memory_json(m))
    if fmt in ("csv", "plain"):
        rows = [[x.name, x.op, str(x.activations), str(x.activation_bytes), str(x.live_bytes), x.reuse] for x in m.layers]
        if fmt == "plain":
            return tsv(header, rows) + "\n" + "".join(f"{k}\t{v}\n" for k, v in memory_lines(m))
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return out.getvalue()
    if fmt == "markdown":
        lines = [f"## {m.name}: memory (batch {m.batch}, {m.dtype})", "",
                 "| layer | op | activations | output bytes | live bytes | reuse |", "|---|---|---:|---:|---:|---|"]
        lines += [f"| {x.name} | {x.op} | {x.activations:,} | {x.activation_bytes:,} | {x.live_bytes:,} | {x.reuse} |"
                  for x in m.layers]
        lines += ["", "| total | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in memory_lines(m)]
        lines += [""] + [f"- {n}" for n in MEMORY_NOTES]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    table = Table(title=f"{m.name}: memory · batch {m.batch} · {m.dtype}", title_justify="left", header_style="bold",
                  caption="live = tensors alive while the layer runs; bar: live memory against the peak",
                  caption_justify="left")
    for col, justify in (("Layer", "left"), ("Op", "left"), ("Output", "right"), ("Live", "right"),
                         ("Live vs peak", "left"), ("Reuse", "left")):
        table.add_column(col, justify=justify, style="cyan" if col == "Live vs peak" else None)  # type: ignore[arg-type]
    for x in m.layers:
        table.add_row(x.name, x.op, human(x.activation_bytes, "B"), human(x.live_bytes, "B"),
                      bar(x.live_bytes, m.peak_activation_bytes, 12), x.reuse)
    console.print(table)
    print_pairs(console, memory_lines(m))
    for n in MEMORY_NOTES:
        console.print(f"  · {n}", highlight=False, style="dim")
    return None
