"""memory: activation memory per layer, the inference peak and a training step's peak."""
from __future__ import annotations

import click

from .app import cli
from .common import analysis_options, console, emit, emit_chunks, run_analysis


@cli.command("memory")
@click.argument("spec")
@analysis_options
@click.option("--inplace/--no-inplace", default=True, show_default=True,
              help="ReLU/ReLU6/SiLU/Hardswish and residual adds overwrite their input when nothing else reads it "
                   "(as torchvision builds its models).")
@click.option("--fuse-bn", is_flag=True, help="Batch norm folded into the previous conv (inference).")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="adam", show_default=True,
              help="Optimizer state for the training step: 0, 1 or 2 float32 copies of the trainable params.")
@click.option("--amp", default=None, metavar="bf16|fp16",
              help="Mixed precision (torch.autocast): conv/fc in half with cached half weight copies, "
                   "float32 master weights, gradients and optimizer state.")
@click.option("--checkpoint", is_flag=True,
              help="Activation checkpointing of every top-level block: keep only block inputs, recompute in backward.")
@click.option("--training", is_flag=True, help="Per layer: bytes saved for backward and their running total.")
@click.option("--workspace/--no-workspace", default=True, show_default=True,
              help="Add the runtime's workspaces: cuBLAS (per thread that runs an fc: 32 MiB on Hopper, see --device) and the cuDNN "
                   "convolution workspace at the inference peak.")
@click.option("--device", "device", default="cuda", show_default=True, metavar="cuda|cpu|NAME|FILE.yaml",
              help="Runtime rules: cuda (caching allocator: 512 B blocks, 2 MiB large segments; bool dropout masks; "
                   "workspaces of a Hopper GPU), cpu (exact tensor bytes, float dropout noise, no workspaces), or a "
                   "device profile (h100, a100, t4, ... see `archcalc device list`): cuda with that GPU's cuBLAS "
                   "workspace (from its compute capability) and a line saying whether the step fits its memory.")
@click.option("--held-workspaces", type=click.IntRange(0, 2), default=0, show_default=True,
              help="cuBLAS workspaces (32 MiB each on Hopper) the process already holds from earlier work, kept whatever "
                   "this network does: 0 a fresh process, 1 after any matmul, 2 after a training step with one.")
def memory_cmd(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
               fmt: str, max_layers: int, plain: bool, inplace: bool, fuse_bn: bool, optimizer: str,
               amp: str | None, checkpoint: bool, training: bool, workspace: bool, device: str,
               held_workspaces: int) -> None:
    """Memory of SPEC: activations per layer, the inference peak and the peak of one training step.

    \b
    Examples:
      archcalc memory resnet50 --set impl=torchvision --batch 32 --optimizer adam
      archcalc memory resnet50 --set impl=torchvision --batch 32 --training          # saved per layer
      archcalc memory efficientnet_b0 --batch 32 --amp bf16 --optimizer momentum
      archcalc memory resnet50 --set impl=torchvision --batch 64 --checkpoint
      archcalc memory googlenet --no-inplace --format json
      archcalc memory squeezenet1_1 --batch 32 --optimizer sgd --held-workspaces 2   # a process that trained before
      archcalc memory resnet50 --set impl=torchvision --batch 32 --device t4         # does it fit a 16 GB T4?
    """
    from .. import report
    from ..memory import memory

    if amp is not None and amp not in ("bf16", "fp16"):
        from ..errors import UsageError

        raise UsageError(f"--amp {amp}: autocast runs in bf16 or fp16")
    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    m = memory(a, inplace=inplace, fuse_bn=fuse_bn, optimizer=optimizer, amp=amp, checkpoint=checkpoint,
               workspace=workspace, device=device, held_workspaces=held_workspaces)
    if fmt == "json":   # streamed: a 100,000-layer document is never held whole
        emit_chunks(report.json_chunks(report.memory_json(m, lazy=True)))
        return
    emit(report.memory_render(m, "plain" if plain and fmt == "table" else fmt, console(), training))
