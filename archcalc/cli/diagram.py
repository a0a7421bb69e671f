"""diagram and report: the architecture drawn from the spec, and a one-file HTML report."""
from __future__ import annotations

import os
from typing import Any

import click

from ..errors import UsageError
from .app import cli
from .common import own_sets, parse_batch, parse_input, parse_sets

OUTPUTS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
           ".mermaid": "mermaid"}
METRIC_CHOICES = ("params", "macs", "memory", "latency")


def _common(f: Any) -> Any:
    options = [
        click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size."),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable)."),
        click.option("--batch", default="1", show_default=True, help="Batch size."),
        click.option("--dtype", type=click.Choice(["bfloat16", "float16", "float32", "float64", "int8"]),
                     default="float32", show_default=True, help="Element type for memory."),
        click.option("--convention", default="paper", show_default=True, help="Counting convention."),
        click.option("--device", default="h100", show_default=True, help="Device for latency estimates."),
        click.option("--max-layers", type=click.IntRange(1), default=100_000, show_default=True,
                     help="Refuse networks that expand to more layers than this."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _trace(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
           max_layers: int) -> Any:
    from ..diagram import trace
    from ..graph import Limits

    return trace(spec, input=parse_input(input_), vars=parse_sets(sets), convention=convention,
                 batch=parse_batch(batch), dtype=dtype, limits=Limits(max_layers=max_layers))


def _show(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    out = tuple(dict.fromkeys(w.strip().lower() for w in text.split(",") if w.strip()))
    bad = [w for w in out if w not in METRIC_CHOICES]
    if bad:
        raise UsageError(f"--show: unknown {', '.join(repr(b) for b in bad)}; choose from {', '.join(METRIC_CHOICES)}")
    return out


def check_writable(path: str) -> None:
    """Refuse an -o that cannot be written before any work is done."""
    if os.path.isdir(path):
        raise UsageError(f"-o {path}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"-o {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"-o {path}: not writable")


def write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"-o {path}: {e.strerror or e}") from None


@cli.command("diagram")
@click.argument("spec")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE: .svg, .png or .pdf (PNG/PDF need archcalc[plot]), .dot or .mmd.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot", "mermaid"]), default=None,
              help="Text format for stdout (default svg), or to check -o's extension.")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="N",
              help="Collapse blocks and repeats nested N deep into one box (×n and totals); open fully without it.")
@click.option("--show", "show", default=None, metavar="LIST", help="Numbers on nodes: params,macs,memory,latency.")
@click.option("--color", "color", type=click.Choice(METRIC_CHOICES), default=None,
              help="Shade nodes by their share of MACs, params, activation memory or estimated time.")
@click.option("--no-fold", is_flag=True, help="Draw BN, activations and dropout as nodes of their own.")
@_common
def diagram_cmd(spec: str, output: str | None, fmt: str | None, depth: int | None, show: str | None,
                color: str | None, no_fold: bool, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str,
                convention: str, device: str, max_layers: int) -> None:
    """Draw SPEC from its own nesting: a sequence top to bottom, branches side by side.

    \b
    Examples:
      archcalc diagram resnet50 -o resnet50.svg --depth 1
      archcalc diagram googlenet -o googlenet.png --show params,macs
      archcalc diagram efficientnet_b0 --depth 1 --color macs -o b0.svg
      archcalc diagram resnet18 --format dot | dot -Tpdf -o resnet18.pdf
      archcalc diagram vgg16 --format mermaid --depth 1
    """
    from ..diagram import draw, graphs, svg
    from ..diagram.timing import layer_seconds
    from ..diagram.view import view

    shown = _show(show)
    kind = fmt or "svg"
    if output is not None:
        ext = os.path.splitext(output)[1].lower()
        if ext not in OUTPUTS:
            raise UsageError(f"-o {output}: unknown extension {ext or '(none)'}; use one of {', '.join(OUTPUTS)}")
        if fmt is not None and fmt != OUTPUTS[ext]:
            raise UsageError(f"-o {output} writes {OUTPUTS[ext]}, but --format {fmt} was given")
        kind = OUTPUTS[ext]
        check_writable(output)
    if kind in ("png", "pdf"):
        from ..diagram.raster import _pyplot

        _pyplot()                      # fail before the work when matplotlib is missing
    t = _trace(spec, input_, sets, batch, dtype, convention, max_layers)
    latency = layer_seconds(t.analysis, device)[0] if "latency" in shown or color == "latency" else None
    opts = draw.Options(depth=depth, show=shown, color=color, fold=not no_fold)
    if kind in ("dot", "mermaid"):
        v = view(t.analysis, t.tree, depth, not no_fold)
        pic = draw.picture(t.analysis, v, opts, latency)
        by_id = {n.id: n for n in pic.nodes}
        lines = lambda n: list(by_id[n.id].lines)
        fill = lambda n: by_id[n.id].fill or svg.default_fill(n.kind, n.op)
        text = graphs.dot(v, t.analysis.name, lines, fill) if kind == "dot" else graphs.mermaid(v, lines, fill)
    else:
        pic = draw.draw(t, opts, latency)
        if kind in ("png", "pdf"):
            from ..diagram.raster import save

            save(pic, output, kind)  # type: ignore[arg-type]
            click.echo(f"wrote {output} ({kind}, {pic.width:.0f}×{pic.height:.0f})", err=True)
            return
        text = svg.render(pic, names=_names(t.analysis, pic))
    if output is None:
        click.echo(text, nl=False)
        return
    write_text(output, text)
    click.echo(f"wrote {output} ({kind})", err=True)


def _names(a: Any, pic: Any) -> dict[str, str]:
    """Tooltips: the layer names a node stands for (the first and last of a collapsed block)."""
    out = {}
    for n in pic.nodes:
        names = [a.rows[i].layer.name for i in n.layers]
        out[n.id] = (names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)} layers)"
                     if n.kind == "block" else ", ".join(names)) if names else "input"
    return out


@cli.command("report")
@click.argument("specs", nargs=-1, required=True)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="The HTML file.")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Depth of the first diagram; every collapsed block opens on click.")
@click.option("--no-formulas", is_flag=True, help="Leave out the closed-form formulas (sympy).")
@_common
def report_cmd(specs: tuple[str, ...], output: str, depth: int, no_formulas: bool, input_: str | None,
               sets: tuple[str, ...], batch: str, dtype: str, convention: str, device: str, max_layers: int) -> None:
    """One self-contained HTML file: diagram, per-layer table, profiles, formulas, memory (and latency).

    \b
    With several SPECs the comparison table and a Pareto plot come first. A spec
    followed by its own --set values (in quotes) counts as its own network.
    Examples:
      archcalc report resnet50 -o resnet50.html
      archcalc report mobilenet_v2 efficientnet_b0 resnet50 -o compare.html
      archcalc report mobilenet_v1 "mobilenet_v1 --set alpha=0.5" -o widths.html
    """
    from ..report import html

    if os.path.splitext(output)[1].lower() not in (".html", ".htm"):
        raise UsageError(f"-o {output}: a report is an .html file")
    check_writable(output)
    items = []
    for item in specs:
        words = item.split()
        if not words:
            raise UsageError("report: an empty SPEC")
        extra = tuple(sets) + own_sets(words[1:], item)
        items.append(html.Item(item, words[0], parse_sets(extra),
                               _trace(words[0], input_, extra, batch, dtype, convention, max_layers)))
    text = html.report(items, html.ReportOptions(depth=depth, formulas=not no_formulas, device=device,
                                                 input=input_, sets=tuple(sets)))
    write_text(output, text)
    click.echo(f"wrote {output} ({len(text) // 1024} KiB, {len(items)} network{'s' if len(items) > 1 else ''})", err=True)
