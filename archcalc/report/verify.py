"""verify: the NumPy forward pass against the computed shapes."""
from __future__ import annotations

from typing import Any

from .common import grouped, plain, shape_str


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
