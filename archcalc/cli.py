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
    import sympy

    return sympy.Symbol(name, positive=True, integer=name not in ("alpha", "rho", "phi", "beta", "gamma"))


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
def list_cmd() -> None:
    """List the built-in specs."""
    from . import catalog

    rows = []
    for name, entry in sorted(catalog.entries().items()):
        spec = catalog.load_entry(entry)
        desc = spec.description.splitlines()[0] if spec.description else ""
        rows.append((name, f"preset of {entry.file.stem}: {desc}" if entry.preset else desc))
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        click.echo(f"{name.ljust(width)}  {desc}")


@cli.command()
@click.argument("spec")
@analysis_options
def summary(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
            fmt: str, max_layers: int) -> None:
    """Per-layer shapes, params, MACs, activations and receptive field of SPEC.

    \b
    SPEC is a built-in name (see `archcalc list`) or a path to a YAML spec.
    Examples:
      archcalc summary vgg16
      archcalc summary alexnet --set impl=torchvision --format json
      archcalc summary vgg16 --input H          # sizes as formulas in H
    """
    from . import report

    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    if fmt == "json":
        emit(report.dumps(report.summary_json(a)))
    elif fmt == "csv":
        emit(report.summary_csv(a))
    elif fmt == "markdown":
        emit(report.summary_markdown(a))
    else:
        report.summary_table(a, console())


@cli.command()
@click.argument("specs", nargs=-1, required=True)
@analysis_options
@click.option("--sort", type=click.Choice(["params", "macs", "activations", "depth", "rf"]), default=None,
              help="Sort rows (the first spec stays the ratio baseline).")
def compare(specs: tuple[str, ...], input_: str | None, sets: tuple[str, ...], batch: str, dtype: str,
            convention: str, fmt: str, max_layers: int, sort: str | None) -> None:
    """One table, a row per network, with ratios against the first.

    \b
    A spec followed by its own --set values counts as its own row:
      archcalc compare mobilenet_v1 "mobilenet_v1 --set alpha=0.5" googlenet vgg16
    Options given outside quotes apply to every row.
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
    emit(report.compare_render(records, fmt, convention, console()))


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
          max_layers: int) -> None:
    """Sweep spec variables: params and MACs per point beside the paper's rule.

    \b
    Comma-separated --set values are swept (their product):
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
    emit(report.scale_render(points, fmt, console()))


@cli.command()
@click.argument("spec")
@click.option("--symbols", required=True, metavar="H,alpha,...",
              help="Symbols to keep: H, W (input size), C (input channels), B (batch), or spec variables.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Fix other variables.")
@click.option("--ideal", is_flag=True, help="Ignore channel rounding, as papers do (polynomials in α).")
@click.option("--ratio-to", metavar="SPEC", help="Also print MACs divided by another spec's MACs.")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]), default="text", show_default=True)
def formula(spec: str, symbols: str, sets: tuple[str, ...], ideal: bool, ratio_to: str | None, fmt: str) -> None:
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
    result = formula_mod.closed_forms(spec, names, ideal, parse_sets(sets), ratio_to)
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
