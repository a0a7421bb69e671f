"""memory: per-layer activation memory, the inference peak and the training estimate."""
from __future__ import annotations

import csv
import io
from typing import Any

from .common import bar, dumps, human, print_pairs, tsv

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
