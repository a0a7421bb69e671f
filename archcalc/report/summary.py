"""summary: per-layer rows and totals as JSON, CSV, Markdown and plain text (the table: tabular.py)."""
from __future__ import annotations

from json.encoder import encode_basestring as _q

from .. import num
from ..analysis import Analysis
from ..record import record
from .common import (
    Encoded,
    bar,
    branch_inputs,
    grouped,
    human,
    pct,
    plain,
    rf_str,
    rf_value,
    shape_str,
    share,
)

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Iterator

    from .symbolic import Footnotes


def readable(x: Any) -> str:
    """A symbolic value as text (report.symbolic, which loads the canonical-form machinery, on first use)."""
    from .symbolic import text

    return text(x)


def summary_json(a: Analysis, depth: int | None = None, top: int | None = None, lazy: bool = False) -> dict[str, Any]:
    """The JSON document; with `lazy` its `layers` is a generator that `dumps` writes record by record."""
    t = a.totals
    layers = _layer_records(a, lazy)
    data = {
        "name": a.name,
        "description": a.network.spec.description,
        "input": plain(list(a.network.input)),
        "output": plain(list(a.network.output)),
        "batch": plain(a.batch),
        "dtype": a.dtype,
        "convention": a.convention,
        "vars": plain(dict(a.network.vars)),
        "layers": layers if lazy else list(layers),
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


def _layer_records(a: Analysis, encoded: bool) -> Iterator[Any]:
    """The `layers` records; with `encoded`, a row whose numbers are all ints comes already written as its
    compact JSON line (the same text the encoder gives the dict, without building it)."""
    t = a.totals
    shapes: dict[Any, str] = {}                       # output shape -> its JSON text ("" unless all ints)
    shares: tuple[dict[int, str], ...] = ({}, {}, {})   # a column's int value -> its share's text
    for r in a.rows:
        layer = r.layer
        size = layer.rf.size
        if encoded:
            out = layer.output
            shape = shapes.get(out)
            if shape is None:
                shape = shapes[out] = f"[{', '.join(map(str, out))}]" if all(type(v) is int for v in out) else ""
            params, macs, act = r.params, r.macs, r.activations
            if shape and type(params) is int and type(r.non_trainable) is int and type(layer.buffers) is int \
                    and type(macs) is int and type(act) is int and type(size[0]) is int and type(size[1]) is int:
                rf = size[0] if size[0] == size[1] else f"[{size[0]}, {size[1]}]"
                ps, ms, acs = shares[0].get(params), shares[1].get(macs), shares[2].get(act)
                if ps is None:
                    ps = shares[0][params] = _share_text(params, t.params)
                if ms is None:
                    ms = shares[1][macs] = _share_text(macs, t.macs)
                if acs is None:
                    acs = shares[2][act] = _share_text(act, t.activations)
                yield Encoded(
                    f'{{"name": {_q(layer.name)}, "op": {_q(layer.kind)}, "inputs": [{", ".join(map(_q, layer.inputs))}], '
                    f'"output": {shape}, "params": {params}, "non_trainable_params": {r.non_trainable}, '
                    f'"buffers": {layer.buffers}, "macs": {macs}, "activations": {act}, "rf": {rf}, '
                    f'"params_share": {ps}, "macs_share": {ms}, "activations_share": {acs}}}')
                continue
        yield {"name": layer.name, "op": layer.kind, "inputs": list(layer.inputs),
               "output": plain(list(layer.output)), "params": plain(r.params),
               "non_trainable_params": plain(r.non_trainable), "buffers": plain(layer.buffers),
               "macs": plain(r.macs), "activations": plain(r.activations), "rf": plain(rf_value(r)),
               "params_share": _share_json(r.params, t.params), "macs_share": _share_json(r.macs, t.macs),
               "activations_share": _share_json(r.activations, t.activations)}


def _share_text(part: Any, total: Any) -> str:
    share = round(part / total, 6) if type(total) is int and total else _share_json(part, total)
    return "null" if share is None else repr(share)


def _share_json(part: Any, total: Any) -> float | None:
    """A share of the total as a float rounded to 6 digits (not a count; counts stay exact ints)."""
    if type(part) is int and type(total) is int and total:
        return round(part / total, 6)   # int / int is correctly rounded in Python
    f = share(part, total)
    return None if f is None else round(float(f), 6)


def _peak(a: Analysis) -> Any:
    """Peak inference activation memory (archcalc.memory, default in-place rules), or None when symbolic."""
    from ..errors import UsageError
    from ..memory import inference_peak

    try:
        return inference_peak(a)
    except UsageError:
        return None


# ---------------------------------------------------------------- rows for text formats
COLUMNS = ("layer", "op", "inputs", "output", "params", "macs", "activations", "rf")
SHARE_COLUMNS = ("params_pct", "macs_pct", "activations_pct")


@record
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


def symbolic(a: Analysis) -> bool:
    return not (num.is_exact(a.totals.macs) and num.is_exact(a.totals.activations) and num.is_exact(a.totals.params))


def summary_records(a: Analysis, exact: bool, depth: int | None = None, top: int | None = None,
                    raw: bool = False, notes: Footnotes | None = None) -> list[dict[str, str]]:
    """Text cells per shown row; `exact` writes every number in full (grouped, or plain ints with `raw`).
    Symbolic values print on one line (⌈H/2⌉); with `notes`, forms too long for a cell become [n]."""
    fmt = (lambda x: str(plain(x))) if raw else grouped if exact else human
    shape = shape_str
    if symbolic(a) and not raw:
        cell = notes.cell if notes is not None else readable
        fmt = lambda x: grouped(x) if num.is_exact(x) and exact else human(x) if num.is_exact(x) else cell(x)
        shape = lambda s: "×".join(num.fmt(x) if num.is_exact(x) else cell(x) for x in s)
    t = a.totals
    if not symbolic(a):
        # a value's cells depend on the value alone (the totals are fixed): layers alike are written once
        fmt, shape = _memo(fmt), _memo(shape)
        pct_of = {k: _memo(lambda x, total=total: pct(x, total)) for k, total in
                  (("params", t.params), ("macs", t.macs), ("activations", t.activations))}
        bar_of = {k: _memo(lambda x, total=total: bar(x, total)) for k, total in
                  (("macs", t.macs), ("activations", t.activations))}
    else:
        pct_of = {k: (lambda x, total=total: pct(x, total)) for k, total in
                  (("params", t.params), ("macs", t.macs), ("activations", t.activations))}
        bar_of = {k: (lambda x, total=total: bar(x, total)) for k, total in
                  (("macs", t.macs), ("activations", t.activations))}
    params_pct, macs_pct, act_pct = pct_of["params"], pct_of["macs"], pct_of["activations"]
    macs_bar, act_bar = bar_of["macs"], bar_of["activations"]
    records = []
    for v in view_rows(a, depth, top):
        records.append({
            "layer": v.name, "op": v.op if v.layers == 1 else f"{v.layers} layers",
            "inputs": v.shown_inputs if not exact else ";".join(v.inputs),
            "output": shape(v.output),
            "params": fmt(v.params) if v.params != 0 or exact else "",
            "macs": fmt(v.macs) if v.macs != 0 or exact else "",
            "activations": fmt(v.activations), "rf": v.rf,
            "params_pct": params_pct(v.params) if v.params != 0 or exact else "",
            "macs_pct": macs_pct(v.macs) if v.macs != 0 or exact else "",
            "activations_pct": act_pct(v.activations),
            "macs_bar": macs_bar(v.macs), "activations_bar": act_bar(v.activations)})
    return records


def _memo(fn: Any) -> Any:
    """`fn` of one argument computed once per int value and once per tuple object (layers alike share their
    output shape), every time for anything else."""
    ints: dict[int, str] = {}
    tuples: dict[int, tuple[Any, str]] = {}   # id -> (the tuple, kept alive, and its text)

    def cached(x: Any) -> str:
        if type(x) is int:
            text = ints.get(x)
            if text is None:
                text = ints[x] = fn(x)
            return text
        if type(x) is tuple:
            got = tuples.get(id(x))
            if got is None:
                got = tuples[id(x)] = (x, fn(x))
            return got[1]
        return fn(x)  # type: ignore[no-any-return]
    return cached


def summary_csv(a: Analysis, depth: int | None = None, top: int | None = None) -> str:
    """Plain integers (no thousands separators); percentages of the network's totals, one decimal."""
    import csv
    import io

    out = io.StringIO()
    fields = COLUMNS + SHARE_COLUMNS
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in summary_records(a, exact=True, depth=depth, top=top, raw=True):
        writer.writerow({k: r[k].rstrip("%") if k in SHARE_COLUMNS else r[k] for k in fields})
    return out.getvalue()


def totals_lines(a: Analysis) -> list[tuple[str, str]]:
    if symbolic(a):
        return _symbolic_totals(a)
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


def _symbolic_totals(a: Analysis) -> list[tuple[str, str]]:
    """Closed forms, grouped by size terms, with where they hold."""
    t = a.totals
    batch = f" (batch {readable(a.batch)})" if a.batch != 1 else ""
    lines = [("Params", readable(t.params)),
             ("Trainable / non-trainable", f"{readable(t.trainable_params)} / {readable(t.non_trainable_params)}")]
    if t.buffers:
        lines.append(("Buffers (BN running stats)", readable(t.buffers)))
    lines += [(f"MACs{batch}", readable(t.macs)), (f"FLOPs = 2·MACs{batch}", readable(t.flops)),
              (f"Activations{batch}", f"{readable(t.activations)} elements"),
              ("Depth / weight layers", f"{t.depth} / {t.weight_layers}"),
              ("Receptive field", readable(t.rf) if not isinstance(t.rf, list) else
               "×".join(readable(x) for x in t.rf))]
    if a.network.obligations:
        from ..domain import domains

        lines += [("Holds", d.text()) for d in domains(a.network.obligations)]
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
