"""Command-line wiring only: parse options, call the core, hand results to `report`."""
from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Sequence

import click

from . import num
from .errors import ArchcalcError, UsageError
from .expr import parse_constant

EXIT_OK, EXIT_DISAGREE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 70
SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# ---------------------------------------------------------------- option parsing
def parse_input(text: str | None) -> tuple[Any, ...] | None:
    """`224`, `224x224`, `3x224x224`, or symbols: `H`, `HxW`, `3xHxW`."""
    if text is None:
        return None
    parts = [p.strip() for p in re.split(r"[x×,]", text.strip()) if p.strip()] if not SYMBOL.match(text.strip()) else [text.strip()]
    if not 1 <= len(parts) <= 3:
        raise UsageError(f"--input takes N, HxW or CxHxW, got {text!r}")
    values = []
    for p in parts:
        if SYMBOL.match(p):
            values.append(symbol(p))
            continue
        try:
            v = parse_constant(p)
        except ArchcalcError:
            raise UsageError(f"--input: {p!r} is not a size (expected a whole number or a symbol like H)") from None
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise UsageError(f"--input: sizes must be whole numbers ≥ 1, got {num.fmt(v) if not isinstance(v, bool) else v}")
        if v > 10**7:
            raise UsageError(f"--input: {v} is larger than any image archcalc will size (limit 10,000,000)")
        values.append(v)
    return tuple(values)


def symbol(name: str) -> Any:
    from .formula import symbol as make_symbol

    return make_symbol(name)


def parse_sets(items: Sequence[str], allow_lists: bool = False) -> dict[str, Any]:
    """`--set name=value`: a number or arithmetic of numbers (`6/7`), or a word for choice vars."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set takes name=value, got {item!r}")
        key, text = (s.strip() for s in item.split("=", 1))
        if not key.isidentifier():
            raise UsageError(f"--set: {key!r} is not a variable name")
        values = [v.strip() for v in text.split(",")] if allow_lists else [text]
        if not allow_lists and "," in text:
            raise UsageError(f"--set {key}: one value per run; use `archcalc scale` to sweep {text}")
        parsed = [_set_value(key, v) for v in values]
        out[key] = parsed if allow_lists else parsed[0]
    return out


def _set_value(key: str, text: str) -> Any:
    if not text:
        raise UsageError(f"--set {key}: missing value")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if SYMBOL.match(text):
        return text  # a choice such as impl=torchvision; the spec checks it
    try:
        return parse_constant(text)
    except ArchcalcError as e:
        raise UsageError(f"--set {key}={text}: {getattr(e, 'message', e)}") from None


def parse_batch(value: str) -> Any:
    if SYMBOL.match(value):
        return symbol(value)
    try:
        b = parse_constant(value)
    except ArchcalcError:
        raise UsageError(f"--batch takes a whole number ≥ 1, got {value!r}") from None
    if not isinstance(b, int) or isinstance(b, bool) or b < 1:
        raise UsageError(f"--batch takes a whole number ≥ 1, got {value!r}")
    return b


def console() -> Any:
    from rich.console import Console

    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else None
    if width is None and not sys.stdout.isatty():
        width = 160
    return Console(width=width, highlight=False)


def emit(text: str | None) -> None:
    if text is not None:
        click.echo(text, nl=False)


# ---------------------------------------------------------------- shared options
def analysis_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from .analysis import DTYPE_BYTES

    options = [
        click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size (a symbol such as H works too)."),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable)."),
        click.option("--batch", default="1", show_default=True, help="Batch size."),
        click.option("--dtype", type=click.Choice(sorted(DTYPE_BYTES)), default="float32", show_default=True),
        click.option("--convention", default="paper", show_default=True, help="Counting convention."),
        click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
                     show_default=True),
        click.option("--max-layers", type=click.IntRange(1), default=100_000, show_default=True,
                     help="Refuse networks that expand to more layers than this."),
        click.option("--plain", is_flag=True, help="Tab-separated columns, no box drawing or colour (for pipes)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def run_analysis(spec: str, input_: str | None, sets: Sequence[str], batch: str, dtype: str, convention: str,
                 max_layers: int, preset: str | None = None) -> Any:
    from .analysis import analyze
    from .graph import Limits

    return analyze(spec, input=parse_input(input_), vars=parse_sets(sets), convention=convention,
                   batch=parse_batch(batch), dtype=dtype, preset=preset, limits=Limits(max_layers=max_layers))


# ---------------------------------------------------------------- commands
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="archcalc")
def cli() -> None:
    """archcalc: what a convolutional network costs, before anyone trains it.

    \b
    Examples:
      archcalc summary vgg16
      archcalc summary alexnet --format json
      archcalc compare vgg16 alexnet
      archcalc conv --n 227 --f 11 --s 4 --p 0
    """


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
    from . import catalog, report

    rows = []
    for name, entry in sorted(catalog.entries().items()):
        spec = catalog.load_entry(entry)
        desc = spec.description.splitlines()[0] if spec.description else ""
        if entry.preset:
            values = ", ".join(f"{k}={_raw_text(v)}" for k, v in spec.presets.get(entry.preset, {}).items())
            doc = spec.preset_docs.get(entry.preset)
            desc = f"preset of {entry.file.stem} ({values})" + (f": {doc}" if doc else "")
        rows.append({"name": name, "file": entry.file.name, "preset": entry.preset, "description": desc})
    if fmt == "json":
        emit(report.dumps(rows))
    elif fmt == "csv":
        emit(_csv(rows))
    elif fmt == "markdown":
        lines = [f"| {r['name']} | {_md(r['description'])} |" for r in rows]
        emit("\n".join(["| spec | description |", "|---|---|", *lines]) + "\n")
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            click.echo(f"{r['name'].ljust(width)}  {r['description']}")


def _csv(rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["name", "file", "preset", "description"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _raw_text(v: Any) -> str:
    return v.text if hasattr(v, "text") else num.fmt(v) if num.is_exact(v) else str(v)


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
    from . import report

    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    if output is not None:
        fmt = _format_for(output, fmt)
    if fmt == "json":
        text = report.dumps(report.summary_json(a, depth_limit, top))
    elif fmt == "csv":
        text = report.summary_csv(a, depth_limit, top)
    elif fmt == "markdown":
        text = report.summary_markdown(a, depth_limit, top)
    elif plain:
        text = report.summary_plain(a, depth_limit, top)
    elif output is not None:
        text = _capture(lambda c: report.summary_table(a, c, depth_limit, top))
    else:
        report.summary_table(a, console(), depth_limit, top)
        return
    if output is None:
        emit(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"-o {output}: {e.strerror}") from None
    click.echo(f"wrote {output} ({fmt})", err=True)


EXTENSIONS = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".txt": "table"}


def _format_for(path: str, fmt: str) -> str:
    """-o FILE picks the format by extension; an explicit --format must agree with it."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise UsageError(f"-o {path}: unknown extension {ext or '(none)'}; use one of {', '.join(EXTENSIONS)}")
    chosen = EXTENSIONS[ext]
    if fmt not in ("table", chosen):
        raise UsageError(f"-o {path} writes {chosen}, but --format {fmt} was given")
    return chosen


def _capture(render: Callable[[Any], None]) -> str:
    """A rich table rendered to text (no colour, no terminal codes), for -o FILE.txt."""
    from rich.console import Console

    c = Console(width=160, record=True, file=open(os.devnull, "w"), color_system=None, highlight=False)
    render(c)
    return c.export_text()


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@analysis_options
@click.option("--sort", type=click.Choice(["params", "macs", "activations", "depth", "rf"]), default=None,
              help="Sort rows (the first spec stays the ratio baseline).")
def compare(specs: tuple[str, ...], input_: str | None, sets: tuple[str, ...], batch: str, dtype: str,
            convention: str, fmt: str, max_layers: int, plain: bool, sort: str | None) -> None:
    """One table, a row per network, with ratios against the first.

    \b
    A spec followed by its own --set values counts as its own row; options given
    outside quotes apply to every row.
    Examples:
      archcalc compare vgg16 alexnet googlenet
      archcalc compare mobilenet_v1 "mobilenet_v1 --set alpha=0.5" googlenet vgg16
      archcalc compare resnet18 resnet50 --convention fvcore --sort macs --format csv
    """
    from . import report

    analyses, labels = [], []
    for item in specs:
        words = item.split()
        name, own_sets = words[0], _own_sets(words[1:], item)
        analyses.append(run_analysis(name, input_, tuple(sets) + own_sets, batch, dtype, convention, max_layers))
        labels.append(item)
    records = report.compare_records(analyses, labels)
    if sort:
        key = {"depth": "weight_layers"}.get(sort, sort)
        records = [records[0]] + sorted(records[1:], key=lambda r: (float(r[key]) if num.is_exact(r[key]) else 0))
    emit(report.compare_render(records, "plain" if plain and fmt == "table" else fmt, convention, console()))


def _own_sets(words: list[str], item: str) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(words):
        if words[i] == "--set" and i + 1 < len(words):
            out.append(words[i + 1])
            i += 2
        elif words[i].startswith("--set="):
            out.append(words[i][6:])
            i += 1
        else:
            raise UsageError(f"in {item!r}: only `--set name=value` may follow a spec name")
    return tuple(out)


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
    from . import report, sweep
    from .graph import Limits

    values = parse_sets(sets, allow_lists=True)
    grid = {k: v for k, v in values.items() if len(v) > 1}
    fixed = {k: v[0] for k, v in values.items() if len(v) == 1}
    if not grid:
        raise UsageError("scale needs a --set with several comma-separated values, e.g. --set alpha=1,0.75,0.5")
    points = sweep.sweep(spec, grid, fixed=fixed, input=parse_input(input_), convention=convention,
                         batch=parse_batch(batch), dtype=dtype, limits=Limits(max_layers=max_layers))
    emit(report.scale_render(points, "plain" if plain and fmt == "table" else fmt, console()))


@cli.command("memory")
@click.argument("spec")
@analysis_options
@click.option("--inplace/--no-inplace", default=True, show_default=True,
              help="ReLU/ReLU6/SiLU/Hardswish and residual adds overwrite their input when nothing else reads it "
                   "(as torchvision builds its models).")
@click.option("--fuse-bn", is_flag=True, help="Batch norm folded into the previous conv (inference).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="adam", show_default=True,
              help="Optimizer state for the training estimate: 0, 1 or 2 copies of the trainable params.")
def memory_cmd(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
               fmt: str, max_layers: int, plain: bool, inplace: bool, fuse_bn: bool, optimizer: str) -> None:
    """Activation memory per layer, peak inference memory from tensor lifetimes, and a training estimate.

    \b
    Examples:
      archcalc memory resnet50
      archcalc memory resnet50 --batch 32 --dtype float16 --optimizer momentum
      archcalc memory googlenet --no-inplace --format json
    """
    from . import report
    from .memory import memory

    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    m = memory(a, inplace=inplace, fuse_bn=fuse_bn, optimizer=optimizer)
    emit(report.memory_render(m, "plain" if plain and fmt == "table" else fmt, console()))


@cli.command("plot")
@click.argument("specs", nargs=-1, required=True)
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="Image file: .png, .svg or .pdf.")
@click.option("--compare", "compare_", is_flag=True, help="One point per SPEC: MACs against params (and top-1 where cited).")
@click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable).")
@click.option("--batch", default="1", show_default=True, help="Batch size.")
@click.option("--dtype", default="float32", show_default=True, help="Element type for activation memory.")
@click.option("--convention", default="paper", show_default=True, help="Counting convention.")
def plot_cmd(specs: tuple[str, ...], output: str, compare_: bool, input_: str | None, sets: tuple[str, ...],
             batch: str, dtype: str, convention: str) -> None:
    """Draw a per-layer profile of SPEC, or compare several networks (needs archcalc[plot]).

    \b
    The profile shows MACs, params and activation memory per layer along the depth,
    with the memory alive at once during inference. --compare draws MACs against params
    and, for specs whose `metadata` cites an ImageNet top-1, accuracy against MACs.
    Examples:
      archcalc plot resnet50 -o profile.png
      archcalc plot efficientnet_b0 -o profile.svg
      archcalc plot --compare mobilenet_v1 mobilenet_v2 efficientnet_b0 resnet50 vgg16 -o pareto.png
      archcalc plot --compare mobilenet_v1 "mobilenet_v1 --set alpha=0.5" -o widths.png
    """
    from . import plot
    from .memory import memory

    if not compare_:
        if len(specs) != 1:
            raise UsageError("plot takes one SPEC, or --compare with several")
        a = run_analysis(specs[0], input_, sets, batch, dtype, convention, 100_000)
        plot.profile(a, output, [x.live_bytes for x in memory(a).layers])
    else:
        analyses, labels, cited = [], [], []
        for item in specs:
            words = item.split()
            own = _own_sets(words[1:], item)
            analyses.append(run_analysis(words[0], input_, tuple(sets) + own, batch, dtype, convention, 100_000))
            labels.append(item)
            cited.append(not own and not sets and input_ is None)   # a cited accuracy holds for the spec as published
        plot.pareto(plot.points(analyses, labels, cited), output, convention)
    click.echo(f"wrote {output}", err=True)


@cli.command()
@click.argument("spec")
@click.option("--symbols", required=True, metavar="H,alpha,...",
              help="Symbols to keep: H, W (input size), C (input channels), B (batch), or spec variables.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Fix other variables.")
@click.option("--ideal", is_flag=True, help="Ignore channel rounding, as papers do (polynomials in α).")
@click.option("--ratio-to", metavar="SPEC", help="Also print MACs divided by another spec's MACs.")
@click.option("--round", "rounding", type=click.Choice(["exact", "floor", "ceil"]), default=None,
              help="Size rounding for every layer (default: the spec's). floor shows the floors strides introduce.")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]), default="text", show_default=True)
def formula(spec: str, symbols: str, sets: tuple[str, ...], ideal: bool, ratio_to: str | None, rounding: str | None,
            fmt: str) -> None:
    """Closed forms of output size, params, MACs and activations.

    \b
    Examples:
      archcalc formula vgg16 --symbols H
      archcalc formula mobilenet_v1 --symbols alpha,rho --ideal
      archcalc formula efficientnet --symbols phi --ideal
    """
    from . import formula as formula_mod, report

    names = [s.strip() for s in symbols.split(",") if s.strip()]
    for n in names:
        if not SYMBOL.match(n):
            raise UsageError(f"--symbols: {n!r} is not a symbol name")
    other, other_sets = None, {}
    if ratio_to:
        words = ratio_to.split()
        other, other_sets = words[0], parse_sets(_own_sets(words[1:], ratio_to))
    result = formula_mod.closed_forms(spec, names, ideal, parse_sets(sets), other, rounding, other_sets)
    emit(report.formula_render(result, fmt))


@cli.command("conv")
@click.option("--n", "n", required=True, help="Input size N (height = width).")
@click.option("--f", "f", required=True, help="Kernel size F.")
@click.option("--s", "s", default="1", show_default=True, help="Stride S.")
@click.option("--p", "p", default="0", show_default=True, help="Padding P per side, or 'same'.")
@click.option("--d", "d", default="1", show_default=True, help="Dilation d.")
@click.option("--c-in", "c_in", default=None, help="Input channels (for params and MACs).")
@click.option("--c-out", "c_out", default=None, help="Output channels / number of filters.")
@click.option("--groups", default="1", show_default=True)
@click.option("--bias/--no-bias", default=True, show_default=True)
@click.option("--transposed", is_flag=True, help="Transposed convolution: (N−1)·S − 2P + d·(F−1) + output_padding + 1.")
@click.option("--output-padding", default="0", show_default=True)
@click.option("--round", "rounding", type=click.Choice(["exact", "floor", "ceil"]), default="exact", show_default=True,
              help="What to do when the stride does not fit: error (exact), or floor/ceil as frameworks do.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def conv_cmd(n: str, f: str, s: str, p: str, d: str, c_in: str | None, c_out: str | None, groups: str, bias: bool,
             transposed: bool, output_padding: str, rounding: str, fmt: str) -> None:
    """One convolution layer, worked out with the numbers shown.

    \b
    Examples:
      archcalc conv --n 227 --f 11 --s 4 --p 0 --c-in 3 --c-out 96
      archcalc conv --n 7 --f 3 --s 3              # (7 − 3)/3 + 1 = 2.33: not an integer
      archcalc conv --n 4 --f 3 --s 2 --p 1 --transposed
    """
    from . import onelayer, report

    values = {k: _whole(k, v, 0 if k in ("p", "output_padding") else 1) for k, v in
              dict(n=n, f=f, s=s, d=d, groups=groups, output_padding=output_padding).items()}
    values["p"] = "same" if p.strip() == "same" else _whole("p", p, 0)
    channels = {k: _whole(k, v, 1) if v is not None else None for k, v in dict(c_in=c_in, c_out=c_out).items()}
    result = onelayer.compute(**values, **channels, bias=bias, transposed=transposed, rounding=rounding)
    if fmt == "json":
        emit(report.dumps(report.plain(result.as_dict())))
    else:
        emit("\n".join(result.lines()) + "\n")
    if result.error:
        raise UsageError(result.error)


def _whole(name: str, text: str, minimum: int) -> int:
    try:
        v = parse_constant(text)
    except ArchcalcError:
        raise UsageError(f"--{name.replace('_', '-')} takes a whole number, got {text!r}") from None
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise UsageError(f"--{name.replace('_', '-')} takes a whole number ≥ {minimum}, got {text!r}")
    return v


@cli.command("check")
@click.argument("files", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def check_cmd(files: tuple[str, ...], fmt: str) -> int:
    """Check the arithmetic stated on slides against what archcalc computes.

    \b
    FILES are claim files (default: the built-in ones, one per seed document).
    Exit status 1 when a verdict differs from the claim's expectation.
    Examples:
      archcalc check
      archcalc check specs/claims/001_architectures.yaml --format json
    """
    from . import claims, report

    result = claims.check(list(files) or None)
    if fmt == "json":
        emit(report.dumps(report.claims_json(result)))
    else:
        report.claims_table(result, console())
    return EXIT_OK if result.ok else EXIT_DISAGREE


@cli.command("verify")
@click.argument("spec", required=False)
@click.option("--all", "all_", is_flag=True, help="Verify every built-in spec and preset.")
@click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size (numbers only).")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable).")
@click.option("--batch", type=click.IntRange(1), default=1, show_default=True, help="Batch size.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the input and the weights.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def verify_cmd(spec: str | None, all_: bool, input_: str | None, sets: tuple[str, ...], batch: int, seed: int,
               fmt: str) -> None:
    """Run the NumPy forward pass and check every layer's shape and weight count.

    \b
    Each layer's real output shape must equal the computed one, and the elements of the
    weight arrays the forward pass creates must equal its params + buffers.
    Exit status 1 on any disagreement.
    Examples:
      archcalc verify vgg16
      archcalc verify mobilenet_v1 --set alpha=0.5 --input 160
      archcalc verify --all
    """
    import time

    from . import catalog, numeric, report

    if all_ == (spec is not None):
        raise UsageError("verify takes one SPEC or --all")
    if all_:
        if input_ or sets:
            raise UsageError("--input and --set apply to one SPEC, not to --all")
        names = sorted(catalog.entries())
        start, rows = time.perf_counter(), []
        err = __import__("rich.console", fromlist=["Console"]).Console(stderr=True)
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("verify {task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, transient=True) as progress:
                task = progress.add_task(names[0], total=len(names))
                for i, row in enumerate(numeric.verify_many(names, batch, seed)):
                    rows.append(row)
                    progress.update(task, advance=1, description=names[min(i + 1, len(names) - 1)])
        else:
            rows = list(numeric.verify_many(names, batch, seed))
        seconds = time.perf_counter() - start
        if fmt == "json":
            emit(report.dumps(report.verify_all_json(rows, seconds)))
        else:
            report.verify_all_table(rows, seconds, console())
        ok = all(r.ok for r in rows)
    else:
        assert spec is not None
        v = numeric.verify_name(spec, parse_sets(sets), parse_input(input_), batch, seed)
        if fmt == "json":
            emit(report.dumps(report.verify_json(v)))
        else:
            report.verify_table(v, console())
        ok = v.ok
    if not ok:
        raise click.exceptions.Exit(EXIT_DISAGREE)


# ---------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status. Errors are rendered here, once."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="archcalc", standalone_mode=False)
        return result if isinstance(result, int) else EXIT_OK
    except ArchcalcError as e:
        click.echo(f"archcalc: error: {e}", err=True)
        return e.exit_code
    except click.exceptions.NoArgsIsHelpError as e:  # pragma: no cover - click ≥ 8.2
        click.echo(e.format_message(), err=True)
        return EXIT_BAD_INPUT
    except click.ClickException as e:
        e.show()
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("archcalc: aborted", err=True)
        return 1
    except (RecursionError, MemoryError):
        click.echo("archcalc: error: the input is too deeply nested or too large to analyse", err=True)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug in archcalc, not in the input: say so in one line
        if os.environ.get("ARCHCALC_DEBUG"):
            raise
        click.echo(f"archcalc: internal error: {type(e).__name__}: {e} (set ARCHCALC_DEBUG=1 for a traceback; "
                   f"please report it)", err=True)
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())
