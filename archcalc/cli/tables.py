"""list, summary, compare and scale: the commands that print tables."""
from __future__ import annotations

import os

import click

from .. import num
from ..errors import UsageError
from ..yamlio import stem
from .app import cli
from .common import (
    analysis_options,
    check_spec_count,
    console,
    emit,
    list_csv,
    md_escape,
    parse_batch,
    parse_input,
    parse_sets,
    raw_text,
    run_analysis,
    split_item,
)


@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True)
def list_cmd(fmt: str) -> None:
    """List the built-in specs; a preset shows its own variable values.

    \b
    Examples:
      archcalc list
      archcalc list --format json
    """
    from .. import catalog, report

    rows = []
    for name, entry in sorted(catalog.entries().items()):
        spec = catalog.load_entry(entry)
        desc = spec.description.splitlines()[0] if spec.description else ""
        if entry.preset:
            values = ", ".join(f"{k}={raw_text(v)}" for k, v in spec.presets.get(entry.preset, {}).items())
            doc = spec.preset_docs.get(entry.preset)
            desc = f"preset of {stem(entry.file)} ({values})" + (f": {doc}" if doc else "")
        rows.append({"name": name, "file": os.path.basename(entry.file), "preset": entry.preset, "description": desc})
    if fmt == "json":
        emit(report.dumps(rows))
    elif fmt == "csv":
        emit(list_csv(rows))
    elif fmt == "markdown":
        lines = [f"| {r['name']} | {md_escape(r['description'])} |" for r in rows]
        emit("\n".join(["| spec | description |", "|---|---|", *lines]) + "\n")
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            emit(f"{r['name'].ljust(width)}  {r['description']}\n")


@cli.command()
@click.argument("spec")
@analysis_options
@click.option("--depth", "depth_limit", type=click.IntRange(1), default=None, metavar="N",
              help="Collapse every block nested N deep into one row (summed params, MACs, activations).")
@click.option("--top", type=click.IntRange(1), default=None, metavar="K", help="Only the K costliest rows by MACs.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE; the format follows its extension (.json .csv .md .txt).")
def summary(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
            fmt: str, max_layers: int, plain: bool, depth_limit: int | None, top: int | None, output: str | None) -> None:
    """Per-layer shapes, params, MACs, activations and receptive field of SPEC.

    \b
    SPEC is a built-in name (see `archcalc list`) or a path to a YAML spec.
    Examples:
      archcalc summary vgg16
      archcalc summary alexnet --set impl=torchvision --format json
      archcalc summary vgg16 --input H          # sizes as formulas in H
      archcalc summary resnet50 --depth 1       # one row per stage
      archcalc summary efficientnet_b0 --top 5  # the five costliest layers
      archcalc summary resnet50 -o resnet50.csv
      archcalc summary vgg16 --convention keras --plain | cut -f1,5
    """
    from .quick import summary as run_summary

    run_summary(spec, input_, sets, batch, dtype, convention, fmt, max_layers, plain, depth_limit, top, output)


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@analysis_options
@click.option("--sort", type=click.Choice(["params", "macs", "activations", "depth", "rf"]), default=None,
              help="Sort rows (the first spec stays the ratio baseline).")
@click.option("--device", default=None, metavar="NAME|PROFILE.yaml",
              help="Add an estimated-latency column on this device (see `archcalc latency`).")
@click.option("--fusion", type=click.Choice(["none", "inference"]), default="none", show_default=True,
              help="Fusion model for --device.")
def compare(specs: tuple[str, ...], input_: str | None, sets: tuple[str, ...], batch: str, dtype: str,
            convention: str, fmt: str, max_layers: int, plain: bool, sort: str | None, device: str | None,
            fusion: str) -> None:
    """One table, a row per network, with ratios against the first.

    \b
    A spec followed by its own --set values counts as its own row; options given
    outside quotes apply to every row.
    Examples:
      archcalc compare vgg16 alexnet googlenet
      archcalc compare mobilenet_v1 "mobilenet_v1 --set alpha=0.5" googlenet vgg16
      archcalc compare resnet18 resnet50 --convention fvcore --sort macs --format csv
      archcalc compare resnet50 efficientnet_b0 mobilenet_v2 --device h200 --dtype bfloat16 --batch 256
    """
    from .. import report

    check_spec_count(specs)
    dev = None
    if device is not None:
        from ..latency import latency, load

        dev = load(device)
    rows = []
    for item in specs:
        name, extra = split_item(item)
        a = run_analysis(name, input_, tuple(sets) + extra, batch, dtype, convention, max_layers)
        row = report.compare_record(a, item)
        if dev is not None:
            row["latency_seconds"] = latency(a, dev, fusion).seconds
        rows.append(row)
    records = report.with_ratios(rows)
    if sort:
        key = {"depth": "weight_layers"}.get(sort, sort)
        records = [records[0]] + sorted(records[1:], key=lambda r: (float(r[key]) if num.is_exact(r[key]) else 0))
    emit(report.compare_render(records, "plain" if plain and fmt == "table" else fmt, convention, console()))


@cli.command()
@click.argument("spec")
@analysis_options
def scale(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str, fmt: str,
          max_layers: int, plain: bool) -> None:
    """Sweep spec variables: params and MACs per point beside the paper's rule.

    \b
    Comma-separated --set values are swept (their product).
    Examples:
      archcalc scale mobilenet_v1 --set alpha=1,0.75,0.5,0.25
      archcalc scale mobilenet_v1 --set alpha=1,0.5 --set rho=1,6/7,5/7,4/7
      archcalc scale efficientnet --set phi=0,1,2,3,4,5,6,7
    """
    from .. import report, sweep
    from ..graph import Limits

    values = parse_sets(sets, allow_lists=True)
    grid = {k: v for k, v in values.items() if len(v) > 1}
    fixed = {k: v[0] for k, v in values.items() if len(v) == 1}
    if not grid:
        raise UsageError("scale needs a --set with several comma-separated values, e.g. --set alpha=1,0.75,0.5")
    points = sweep.sweep(spec, grid, fixed=fixed, input=parse_input(input_), convention=convention,
                         batch=parse_batch(batch), dtype=dtype, limits=Limits(max_layers=max_layers))
    emit(report.scale_render(points, "plain" if plain and fmt == "table" else fmt, console()))
