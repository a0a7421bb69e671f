"""plot: per-layer profiles and Pareto images."""
from __future__ import annotations

import click

from ..errors import UsageError
from .app import cli
from .common import own_sets, run_analysis


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
@click.option("--roofline", is_flag=True, help="The device's roofline with SPEC's kernels as points (see `latency`).")
@click.option("--device", default="h200", show_default=True, metavar="NAME|PROFILE.yaml", help="Device for --roofline.")
@click.option("--fusion", type=click.Choice(["inference", "none"]), default="inference", show_default=True,
              help="Fusion model for --roofline.")
def plot_cmd(specs: tuple[str, ...], output: str, compare_: bool, input_: str | None, sets: tuple[str, ...],
             batch: str, dtype: str, convention: str, roofline: bool, device: str, fusion: str) -> None:
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
      archcalc plot resnet50 --roofline --device h200 --dtype bfloat16 --batch 256 -o roof.png
    """
    from .. import plot
    from ..memory import memory

    if roofline:
        from ..latency import latency, load
        from ..latency.roofline import roofline as draw

        if compare_ or len(specs) != 1:
            raise UsageError("plot --roofline takes one SPEC")
        dev = load(device)
        draw(latency(run_analysis(specs[0], input_, sets, batch, dtype, convention, 100_000), dev, fusion), output)
    elif not compare_:
        if len(specs) != 1:
            raise UsageError("plot takes one SPEC, or --compare with several")
        a = run_analysis(specs[0], input_, sets, batch, dtype, convention, 100_000)
        plot.profile(a, output, [x.live_bytes for x in memory(a).layers])
    else:
        analyses, labels, cited = [], [], []
        for item in specs:
            words = item.split()
            own = own_sets(words[1:], item)
            analyses.append(run_analysis(words[0], input_, tuple(sets) + own, batch, dtype, convention, 100_000))
            labels.append(item)
            cited.append(not own and not sets and input_ is None)   # a cited accuracy holds for the spec as published
        plot.pareto(plot.points(analyses, labels, cited), output, convention)
    click.echo(f"wrote {output}", err=True)
