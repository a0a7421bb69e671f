"""latency and device: roofline latency estimates on device profiles, and a profile of this machine."""
from __future__ import annotations

import click

from ..errors import UsageError
from .app import cli
from .common import analysis_options, console, emit, run_analysis, write_output

FUSION_HELP = ("inference: BN folded into the conv before it, activations fused into their producer (TensorRT, "
               "torch.compile); none: every layer its own kernel (PyTorch eager, how the shared GPU data was measured).")


@cli.command("latency")
@click.argument("spec")
@analysis_options
@click.option("--device", "device", default="h200", show_default=True, metavar="NAME|PROFILE.yaml",
              help="A built-in device (archcalc device list) or a profile YAML file.")
@click.option("--fusion", type=click.Choice(["none", "inference"]), default="none", show_default=True,
              help=FUSION_HELP)
@click.option("--top", type=click.IntRange(1), default=None, metavar="K", help="Only the K slowest kernels.")
def latency_cmd(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
                fmt: str, max_layers: int, plain: bool, device: str, fusion: str, top: int | None) -> None:
    """Roofline latency estimate of SPEC on a device: per kernel time, share, bound and intensity.

    \b
    Each kernel takes max(FLOPs / attainable compute, bytes / attainable bandwidth)
    plus a per-kernel overhead; the device profile gives datasheet peaks and the
    attainable fractions (see the README's latency section for where it is wrong).
    Examples:
      archcalc latency resnet50 --device h200 --dtype bfloat16 --batch 256
      archcalc latency efficientnet_b0 --device a100 --dtype float16 --batch 64 --top 10
      archcalc latency mobilenet_v2 --device orin --fusion none --format json
      archcalc latency resnet50 --device my_gpu.yaml
    """
    from .. import report  # noqa: F401  (the report package)
    from ..latency import costs, latency, load
    from ..report.latency import latency_render

    dev = load(device)
    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    e = latency(a, dev, fusion)
    emit(latency_render(e, "plain" if plain and fmt == "table" else fmt, console(), costs.describe(fusion), top))


@cli.group("device")
def device_group() -> None:
    """Device profiles for `latency`: list, show, measure this machine."""


@device_group.command("list")
def device_list() -> None:
    """The built-in device profiles."""
    from ..latency import builtin_names, load

    names = builtin_names()
    for name in names:
        d = load(name)
        click.echo(f"{name.ljust(max(map(len, names)))}  {d.description}")


@device_group.command("show")
@click.argument("device")
def device_show(device: str) -> None:
    """Print a profile (a built-in name or a file) as YAML."""
    from pathlib import Path

    from ..latency import load

    d = load(device)
    text = Path(d.path).read_text(encoding="utf-8")
    click.echo("".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text), nl=False)


@device_group.command("measure")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="Write the profile here (default: print it).")
@click.option("--name", default="this_machine", show_default=True, help="The profile's name.")
@click.option("--quick", is_flag=True, help="Smaller problems (about a second): rougher numbers.")
def device_measure(output: str | None, name: str, quick: bool) -> None:
    """Measure this machine (NumPy float32 GEMM throughput, copy bandwidth) and write a device profile.

    \b
    Examples:
      archcalc device measure -o cpu.yaml
      archcalc latency resnet50 --device cpu.yaml
    """
    from ..latency import measure

    if not name.replace("_", "").replace("-", "").isalnum():
        raise UsageError(f"--name: {name!r} is not a plain name (letters, digits, - and _)")
    m = measure.measure(quick=quick)
    text = measure.profile_yaml(m, name)
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text, "")
