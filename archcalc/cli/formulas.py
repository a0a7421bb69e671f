"""formula and conv: closed forms and the one-layer calculator."""
from __future__ import annotations

from typing import Any

import click

from ..errors import UsageError
from .app import cli
from .common import SYMBOL, emit, own_sets, parse_sets, whole


@cli.command()
@click.argument("spec")
@click.option("--symbols", required=True, metavar="H,alpha,...",
              help="Symbols to keep: H, W (input size), C (input channels), B (batch), or spec variables.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Fix other variables.")
@click.option("--ideal", is_flag=True, help="Ignore channel rounding, as papers do (polynomials in α).")
@click.option("--ratio-to", metavar="SPEC", help="Also print MACs divided by another spec's MACs.")
@click.option("--round", "rounding", type=click.Choice(["exact", "floor", "ceil"]), default=None,
              help="Size rounding for every layer (default: the spec's). floor shows the floors strides introduce.")
@click.option("--at", "at", multiple=True, metavar="NAME=V1,V2",
              help="Evaluate the closed forms at these values of the symbols (e.g. --at H=224,299).")
@click.option("--range", "knob_range", metavar="LO..HI",
              help="A width/depth knob without --ideal: list its intervals that meet LO..HI (e.g. 0.25..1.4).")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]), default="text", show_default=True)
def formula(spec: str, symbols: str, sets: tuple[str, ...], ideal: bool, ratio_to: str | None, rounding: str | None,
            at: tuple[str, ...], knob_range: str | None, fmt: str) -> None:
    """Closed forms of output size, params, MACs and activations.

    \b
    Examples:
      archcalc formula vgg16 --symbols H
      archcalc formula mobilenet_v1 --symbols alpha,rho --ideal
      archcalc formula efficientnet --symbols phi --ideal
      archcalc formula mobilenet_v1 --symbols alpha --range 0.25..0.3
      archcalc formula resnet50 --symbols H --at H=224,299
    """
    from .. import formula as formula_mod
    from .. import report

    names = [s.strip() for s in symbols.split(",") if s.strip()]
    for n in names:
        if not SYMBOL.match(n):
            raise UsageError(f"--symbols: {n!r} is not a symbol name")
    other, other_sets = None, {}
    if ratio_to:
        words = ratio_to.split()
        other, other_sets = words[0], parse_sets(own_sets(words[1:], ratio_to))
    from ..stepforms import parse_range

    points = at_points(at)
    result = formula_mod.closed_forms(spec, names, ideal, parse_sets(sets), other, rounding, other_sets, points,
                                      parse_range(knob_range))
    if result.steps is not None and points:
        raise UsageError("--at applies to closed forms; a stepped knob lists its intervals (use --range, or --ideal)")
    emit(report.formula_render(result, fmt))


def at_points(items: tuple[str, ...]) -> list[dict[str, Any]]:
    """`--at H=224,299 --at alpha=1/2` → every combination, in the order given."""
    values = parse_sets([i for i in items], allow_lists=True)
    points: list[dict[str, Any]] = [{}]
    for key, options in values.items():
        for v in options:
            if isinstance(v, (bool, str)):
                raise UsageError(f"--at {key}={v}: expected a number")
        points = [{**p, key: v} for p in points for v in options]
    if len(points) > 1000:
        raise UsageError(f"--at gives {len(points)} points; at most 1000")
    return points if values else []


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
    from .. import onelayer, report

    values = {k: whole(k, v, 0 if k in ("p", "output_padding") else 1) for k, v in
              dict(n=n, f=f, s=s, d=d, groups=groups, output_padding=output_padding).items()}
    values["p"] = "same" if p.strip() == "same" else whole("p", p, 0)
    channels = {k: whole(k, v, 1) if v is not None else None for k, v in dict(c_in=c_in, c_out=c_out).items()}
    result = onelayer.compute(**values, **channels, bias=bias, transposed=transposed, rounding=rounding)
    if fmt == "json":
        emit(report.dumps(report.plain(result.as_dict())))
    else:
        emit("\n".join(result.lines()) + "\n")
    if result.error:
        raise UsageError(result.error)
