"""memory: per-layer activation memory (and saved-for-backward bytes), the inference peak and the training peak."""
from __future__ import annotations

import csv
import io
from json.encoder import encode_basestring as _q
from typing import Any, Iterator

from .common import Encoded, bar, dumps, human, print_pairs, tsv


def memory_notes(m: Any) -> list[str]:
    notes = [
        ("live: activation storages alive while the layer runs (its inputs, its output, anything a later layer or "
         "the enclosing block's caller still holds); views share storage; the input is the caller's and counted apart"),
        "peak inference = weights + input + the largest live figure"
        + (f" + runtime (cuBLAS workspace {_mib(m.blas_workspace_bytes)} when there is an fc; cuDNN workspace of a "
           "dense k>1 conv ≈ its input + output while it runs)" if m.workspace else " (runtime workspaces off)"),
        (f"process: {m.held_workspaces} cuBLAS workspace(s) already held from earlier work (counted whatever this "
         f"network runs)" if m.held_workspaces else "process: a fresh one (no cuBLAS workspace held before this network; "
         "--held-workspaces 1|2 for a process that already ran matmuls or a training step)"),
        "training peak = the worst of forward, backward and optimizer step, each on top of weights + optimizer "
        "state + input and int64 targets" + (" + 2 cuBLAS workspaces (caller and autograd threads) when there is an "
                                             "fc" if m.workspace else ""),
        ("saved: what autograd keeps per op (conv/fc input, BN input + 2 float32 stats, ReLU output, in-place "
         "ReLU6/SiLU/Hardswish a clone of the input, max-pool input + int64 indices, dropout mask, mul both inputs; "
         "add/concat/views nothing), each storage once; the cross-entropy loss keeps log_softmax (B×classes float32)"),
        ("backward: at each layer, saved tensors not yet freed + output and input gradients + parameter "
         "gradients so far"),
    ]
    if m.device != "cpu":
        notes.append("CUDA caching allocator: every tensor rounded up to 512 bytes; dropout masks are 1-byte bools")
        notes.append(f"device {m.device}: one cuBLAS workspace is {_mib(m.blas_workspace_bytes)} (PyTorch's default: "
                     "32 MiB on compute capability 9.x/10.x/12.x, 8.125 MiB on others; `cuda` assumes a Hopper GPU)")
    if m.device_memory_bytes:
        notes.append(f"fits: against the {m.device} datasheet capacity ({human(m.device_memory_bytes, 'B')}); the CUDA "
                     "context (a few hundred MB outside PyTorch's allocator) and the caching allocator's "
                     "fragmentation are not counted, so leave a margin")
    if m.amp:
        notes.append(f"--amp {m.amp}: conv/fc run in half (outputs, cast inputs and cached half weight copies, saved), "
                     "softmax/log_softmax/layer_norm in float32, other ops keep their input's dtype; float32 master "
                     "weights, gradients and optimizer state")
    if m.checkpoint:
        notes.append("--checkpoint: every top-level block keeps only its inputs and runs forward again in backward "
                     "(its saved tensors live until its own backward ends)")
    if m.unruled_ops:
        notes.append(f"no saved-tensor rule for {', '.join(m.unruled_ops)}: assumed to save every input")
    return notes


def memory_lines(m: Any) -> list[tuple[str, str]]:
    states = {"sgd": "none", "momentum": "1 copy (momentum)", "adam": "2 copies (m, v)"}[m.optimizer]
    mode = ("in-place ReLU/ReLU6/SiLU/Hardswish and residual add" if m.inplace else "no in-place ops") + \
           (", BN fused" if m.fuse_bn else "")
    prec = f"autocast {m.amp}" if m.amp else m.dtype
    lines = [
        ("Input", f"{human(m.input_bytes, 'B')}"),
        ("Activations (sum of all outputs)", f"{human(m.activation_bytes, 'B')}"),
        ("Parameters + buffers", f"{human(m.param_bytes, 'B')}"),
        ("Peak activations (inference)", f"{human(m.peak_activation_bytes, 'B')} while {m.peak_layer} runs ({mode})"),
        ("Peak inference memory", f"{human(m.peak_inference_bytes, 'B')} = weights {human(m.param_bytes, 'B')} + input "
         f"{human(m.input_bytes, 'B')} + peak activations {human(m.peak_activation_bytes, 'B')} + runtime "
         f"{human(m.runtime_inference_bytes, 'B')}"),
        ("Saved for backward", f"{human(m.saved_activation_bytes, 'B')} (loss {human(m.loss_bytes, 'B')}"
         + (f", half weight copies {human(m.weight_copy_bytes, 'B')}" if m.amp else "") + ")"),
        (f"Training step peak ({m.optimizer}, {prec})",
         f"{human(m.training_bytes, 'B')} during the {m.peak_phase}: weights {human(m.weight_bytes, 'B')} + optimizer "
         f"state {human(m.optimizer_bytes, 'B')} [{states}] + input/targets + runtime {human(m.runtime_training_bytes, 'B')}"
         f" + the {m.peak_phase}'s own"),
        ("  forward / backward / step", f"{human(m.forward_peak_bytes, 'B')} / {human(m.backward_peak_bytes, 'B')} "
         f"(worst at {m.backward_peak_layer}) / {human(m.step_peak_bytes, 'B')}; gradients {human(m.gradient_bytes, 'B')}"),
    ]
    if m.device_memory_bytes:
        lines.append((f"Fits on {m.device} ({human(m.device_memory_bytes, 'B')})",
                      f"training {_fits(m.training_bytes, m.device_memory_bytes)}, inference "
                      f"{_fits(m.peak_inference_bytes, m.device_memory_bytes)}"))
    if m.checkpoint:
        lines.append(("Checkpointing", f"recomputes {human(m.recompute_macs)} MACs in backward (one more forward of every block)"))
    return lines


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


def _fits(need: int, capacity: int) -> str:
    return f"{'yes' if need <= capacity else 'NO'} ({100 * need / capacity:.1f}% of it)"


MEMORY_FIELDS = ("input_bytes", "activation_bytes", "param_bytes", "peak_activation_bytes", "peak_layer",
                 "runtime_inference_bytes", "peak_inference_bytes", "weight_bytes", "gradient_bytes", "optimizer_bytes",
                 "saved_activation_bytes", "loss_bytes", "weight_copy_bytes", "forward_peak_bytes", "backward_peak_bytes",
                 "backward_peak_layer", "step_peak_bytes", "runtime_training_bytes", "peak_phase", "training_bytes",
                 "recompute_macs")


def memory_json(m: Any, lazy: bool = False) -> dict[str, Any]:
    """The JSON document; with `lazy` its `layers` is a generator of records already written as JSON lines."""
    return {"name": m.name, "batch": m.batch, "dtype": m.dtype, "inplace": m.inplace, "fuse_bn": m.fuse_bn,
            "optimizer": m.optimizer, "amp": m.amp, "checkpoint": m.checkpoint, "workspace": m.workspace,
            "device": m.device, "held_workspaces": m.held_workspaces, "blas_workspace_bytes": m.blas_workspace_bytes,
            "device_memory_bytes": m.device_memory_bytes or None,
            "fits": {"training": m.training_bytes <= m.device_memory_bytes,
                     "inference": m.peak_inference_bytes <= m.device_memory_bytes} if m.device_memory_bytes else None,
            "notes": memory_notes(m),
            "unruled_ops": list(m.unruled_ops),
            "layers": _encoded(m) if lazy else [
                {"name": x.name, "op": x.op, "activations": x.activations, "activation_bytes": x.activation_bytes,
                 "new_bytes": x.new_bytes, "live_bytes": x.live_bytes, "reuse": x.reuse,
                 "saved_bytes": x.saved_bytes, "saved_total": x.saved_total, "saves": x.saves} for x in m.layers],
            "totals": {k: getattr(m, k) for k in MEMORY_FIELDS}}


def _encoded(m: Any) -> Iterator[Encoded]:
    """The `layers` records as the encoder writes them (every number is an int here)."""
    for x in m.layers:
        yield Encoded(f'{{"name": {_q(x.name)}, "op": {_q(x.op)}, "activations": {x.activations}, '
                      f'"activation_bytes": {x.activation_bytes}, "new_bytes": {x.new_bytes}, "live_bytes": {x.live_bytes}, '
                      f'"reuse": {_q(x.reuse)}, "saved_bytes": {x.saved_bytes}, "saved_total": {x.saved_total}, '
                      f'"saves": {_q(x.saves)}}}')


def memory_render(m: Any, fmt: str, console: Any, training: bool = False) -> str | None:
    if fmt == "json":
        return dumps(memory_json(m, lazy=True))
    if training:
        header = ["layer", "op", "saves", "saved_bytes", "saved_total"]
        rows = [[x.name, x.op, x.saves, str(x.saved_bytes), str(x.saved_total)] for x in m.layers]
    else:
        header = ["layer", "op", "activations", "activation_bytes", "live_bytes", "reuse"]
        rows = [[x.name, x.op, str(x.activations), str(x.activation_bytes), str(x.live_bytes), x.reuse] for x in m.layers]
    if fmt in ("csv", "plain"):
        if fmt == "plain":
            return tsv(header, rows) + "\n" + "".join(f"{k}\t{v}\n" for k, v in memory_lines(m))
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return out.getvalue()
    if fmt == "markdown":
        lines = [f"## {m.name}: memory (batch {m.batch}, {m.dtype})", "",
                 "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines += ["", "| total | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in memory_lines(m)]
        lines += [""] + [f"- {n}" for n in memory_notes(m)]
        return "\n".join(lines) + "\n"
    from .tabular import LARGE_TABLE

    if len(m.layers) > LARGE_TABLE:
        _stream_table(m, console, training)
        return None
    from rich.table import Table

    if training:
        table = Table(title=f"{m.name}: saved for backward · batch {m.batch}", title_justify="left",
                      header_style="bold", caption="saved = bytes this layer's backward keeps that no earlier layer "
                      "already keeps; total = running sum", caption_justify="left")
        for col, justify in (("Layer", "left"), ("Op", "left"), ("Keeps", "left"), ("Saved", "right"),
                             ("Total", "right")):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for x in m.layers:
            table.add_row(x.name, x.op, x.saves, human(x.saved_bytes, "B"), human(x.saved_total, "B"))
    else:
        table = Table(title=f"{m.name}: memory · batch {m.batch} · {m.dtype}", title_justify="left",
                      header_style="bold", caption="live = tensors alive while the layer runs; bar: live memory "
                      "against the peak", caption_justify="left")
        for col, justify in (("Layer", "left"), ("Op", "left"), ("Output", "right"), ("Live", "right"),
                             ("Live vs peak", "left"), ("Reuse", "left")):
            table.add_column(col, justify=justify, style="cyan" if col == "Live vs peak" else None)  # type: ignore[arg-type]
        for x in m.layers:
            table.add_row(x.name, x.op, human(x.activation_bytes, "B"), human(x.live_bytes, "B"),
                          bar(x.live_bytes, m.peak_activation_bytes, 12), x.reuse)
    console.print(table)
    print_pairs(console, memory_lines(m))
    for n in memory_notes(m):
        console.print(f"  · {n}", highlight=False, style="dim")
    return None


def _stream_table(m: Any, console: Any, training: bool) -> None:
    """The table's columns written line by line, as `summary` writes a long table: linear in the rows (a rich
    table of 100,000 rows takes about a minute to lay out)."""
    sizes: dict[int, str] = {}

    def size(n: int) -> str:
        text = sizes.get(n)
        if text is None:
            text = sizes[n] = human(n, "B")
        return text

    if training:
        title = f"{m.name}: saved for backward · batch {m.batch}"
        caption = "saved = bytes this layer's backward keeps that no earlier layer already keeps; total = running sum"
        cols = (("Layer", "<"), ("Op", "<"), ("Keeps", "<"), ("Saved", ">"), ("Total", ">"))
        rows = [(x.name, x.op, x.saves, size(x.saved_bytes), size(x.saved_total)) for x in m.layers]
    else:
        title = f"{m.name}: memory · batch {m.batch} · {m.dtype}"
        caption = "live = tensors alive while the layer runs; bar: live memory against the peak"
        cols = (("Layer", "<"), ("Op", "<"), ("Output", ">"), ("Live", ">"), ("Live vs peak", "<"), ("Reuse", "<"))
        bars: dict[int, str] = {}
        rows = []
        for x in m.layers:
            shown = bars.get(x.live_bytes)
            if shown is None:
                shown = bars[x.live_bytes] = bar(x.live_bytes, m.peak_activation_bytes, 12)
            rows.append((x.name, x.op, size(x.activation_bytes), size(x.live_bytes), shown, x.reuse))
    widths = [max([len(head)] + [len(r[i]) for r in rows]) for i, (head, _) in enumerate(cols)]
    template = "  ".join(f"{{:{align}{w}}}" for w, (_, align) in zip(widths, cols))
    write = console.file.write
    write(f"{title}\n{len(rows):,} rows, drawn as plain columns\n")
    write(template.format(*(head for head, _ in cols)).rstrip() + "\n")
    write("─" * (sum(widths) + 2 * (len(widths) - 1)) + "\n")
    for r in rows:
        write(template.format(*r).rstrip() + "\n")
    write(f"\n{caption}\n")
    print_pairs(console, memory_lines(m))
    for n in memory_notes(m):
        console.print(f"  · {n}", highlight=False, style="dim")
