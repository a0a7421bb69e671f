"""Memory: activation bytes per layer, the inference peak from tensor lifetimes, and a training step's
peak from what autograd really keeps (rules.py), with autocast, checkpointing and the runtime's own
terms (device.py: allocator rounding, cuBLAS/cuDNN workspaces).

Inference (what must be alive at once, plan.py): a tensor lives from the layer that writes it until
its last reader; views and in-place ops share storage; the input is the caller's for the whole pass.
peak_inference = weights + input + the largest live figure (+ the runtime term when `workspace`).
Training: peak of one step = weights + optimizer state + input and targets + the worst moment of
forward, backward or step (training.py) (+ the runtime term when `workspace`).
"""
from __future__ import annotations

from ..analysis import DTYPE_BYTES, Analysis
from ..record import record
from ..yamlio import gc_paused
from .plan import Plan, concrete, live_per_layer, plan
from .plan import workspace as layer_workspace

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

# the whole-memory model (model, rules, device, training) loads on first use: `summary` needs only the inference peak
_LAZY = {"memory": "model", "Memory": "model", "LayerMemory": "model", "RUNTIMES": "device", "Runtime": "device",
         "rounded": "device", "RULES": "rules", "fallback": "rules", "saves_of": "rules", "Step": "training",
         "segments": "training", "step": "training"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}
AMP_DTYPES = ("bf16", "fp16")
MAX_BYTES = 1 << 80         # a batch that makes any figure larger than this is refused


@record
class InferencePeak:
    peak_activation_bytes: int   # activation storages alive at once at the worst layer (input apart)
    peak_layer: str


def _inference(a: Analysis, batch: int, width: int, inplace: bool, fuse_bn: bool) -> tuple[Plan, list[int], int]:
    """The inference plan, the bytes alive while each layer runs, and the index of the worst layer."""
    rows = a.rows
    inf = plan(rows, a.network, batch, inplace, fuse_bn, training=False)
    live = live_per_layer(inf, len(rows), inf.elements, width)
    for i, r in enumerate(rows):
        if r.layer.op == "attention":
            live[i] += layer_workspace(r.layer) * batch * width
    return inf, live, (live.index(max(live)) if rows else 0)   # the first layer at the largest figure


def inference_peak(a: Analysis, inplace: bool = True, fuse_bn: bool = False) -> InferencePeak:
    """Only the inference peak of activations (what `summary` prints), without the training step."""
    batch = concrete(a.batch, "the batch")
    for r in a.rows:
        if type(r.activations) is not int:
            concrete(r.activations, f"{r.layer.name}'s output")
    with gc_paused():
        _, live, i = _inference(a, batch, DTYPE_BYTES[a.dtype], inplace, fuse_bn)
    return InferencePeak(live[i] if a.rows else 0, a.rows[i].layer.name if a.rows else "input")
