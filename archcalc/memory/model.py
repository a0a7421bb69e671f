"""The whole memory model of one analysis: per-layer bytes, the inference peak with the runtime's
terms, and the training step's peak (see the package docstring)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import num
from ..analysis import DTYPE_BYTES, Analysis
from ..errors import UsageError
from ..record import record
from ..yamlio import gc_paused
from . import AMP_DTYPES, MAX_BYTES, OPTIMIZER_STATES, _inference
from .plan import Plan, concrete, plan

if TYPE_CHECKING:
    from .device import Runtime
    from .training import Step


@record(slots=True)
class LayerMemory:
    name: str
    op: str
    activations: int          # output elements × batch
    activation_bytes: int     # … × bytes per element
    new_bytes: int            # storage this layer allocates (0 for views and in-place writes)
    live_bytes: int           # every activation storage alive while this layer runs (not the input)
    reuse: str                # "" | "view" | "in-place"
    saved_bytes: int          # bytes this layer's backward keeps that no earlier layer already kept
    saved_total: int          # running total of saved bytes up to and including this layer
    saves: str                # what it keeps (input, output, indices, mask, ...)


@record
class Memory:
    name: str
    batch: int
    dtype: str
    inplace: bool
    fuse_bn: bool
    optimizer: str
    amp: str | None
    checkpoint: bool
    workspace: bool
    device: str                # cuda, cpu or a device profile's name
    held_workspaces: int       # cuBLAS workspaces the process held before this network (0: a fresh process)
    layers: tuple[LayerMemory, ...]
    input_bytes: int
    activation_bytes: int      # sum of every layer's output bytes (no reuse)
    param_bytes: int           # (params + buffers) × bytes of the dtype
    peak_activation_bytes: int
    peak_layer: str
    runtime_inference_bytes: int   # cuBLAS workspace + cuDNN conv workspace at the peak (0 when off)
    peak_inference_bytes: int      # weights + input + peak activations (+ runtime term)
    weight_bytes: int              # the training step's weights (float32 masters under amp), allocator-rounded
    gradient_bytes: int
    optimizer_bytes: int
    saved_activation_bytes: int    # what the forward keeps for backward, loss and half weight copies included
    loss_bytes: int
    weight_copy_bytes: int
    forward_peak_bytes: int
    backward_peak_bytes: int
    backward_peak_layer: str
    step_peak_bytes: int
    runtime_training_bytes: int
    peak_phase: str
    training_bytes: int            # the step's peak
    recompute_macs: int
    unruled_ops: tuple[str, ...]
    blas_workspace_bytes: int = 0      # one cuBLAS workspace on this device (0 on the CPU)
    device_memory_bytes: int = 0       # the device profile's capacity (0: not known)


def _tensors(rows: Any) -> list[int]:
    """Elements of each parameter/buffer tensor (allocations of their own)."""
    out: list[int] = []
    parts: dict[tuple[Any, ...], list[int]] = {}   # layers alike (one shared counts mapping) have alike tensors
    for r in rows:
        layer = r.layer
        key = (layer.op, id(layer.counts), layer.params, layer.output[0] if layer.op == "bn" else 0)
        part = parts.get(key)
        if part is None:
            part = parts[key] = _layer_tensors(layer)
        out += part
    return out


def _layer_tensors(layer: Any) -> list[int]:
    w = num.norm(layer.counts.get("weights", 0))
    b = num.norm(layer.counts.get("bias", 0))
    if layer.op == "bn":
        c = concrete(layer.output[0], "channels")
        return [c] * (4 if concrete(layer.params, "params") else 2)
    if w:
        return [concrete(w, "weights")] + ([concrete(b, "bias")] if b else [])
    if concrete(layer.params, "params"):
        return [concrete(layer.params, "params")]
    return []


def memory(a: Analysis, inplace: bool = True, fuse_bn: bool = False, optimizer: str = "adam",
           amp: str | None = None, checkpoint: bool = False, workspace: bool = True, device: str = "cuda",
           held_workspaces: int = 0) -> Memory:
    """`held_workspaces`: cuBLAS workspaces the process already holds when this network starts (they
    are never freed, CublasHandlePool.cpp): 0 a fresh process, 1 after any matmul on the calling
    thread, 2 after a backward that ran a matmul (autograd's thread too). The workspaces counted are
    max(held, what this network's own matmuls need): 1 for inference, 2 for training."""
    with gc_paused():   # tables of ints and names, no cycles: collector passes would only cost time
        return _memory(a, inplace, fuse_bn, optimizer, amp, checkpoint, workspace, device, held_workspaces)


def _memory(a: Analysis, inplace: bool, fuse_bn: bool, optimizer: str, amp: str | None, checkpoint: bool,
            workspace: bool, device: str, held_workspaces: int) -> Memory:
    if optimizer not in OPTIMIZER_STATES:
        raise UsageError(f"unknown optimizer `{optimizer}`; known: {', '.join(OPTIMIZER_STATES)}")
    if amp is not None and amp not in AMP_DTYPES:
        raise UsageError(f"--amp {amp}: autocast runs in bf16 or fp16 (got `{amp}`)")
    if amp is not None and a.dtype != "float32":
        raise UsageError(f"--amp keeps float32 master weights: use it with --dtype float32 (got {a.dtype})")
    if isinstance(held_workspaces, bool) or not isinstance(held_workspaces, int) or not 0 <= held_workspaces <= 2:
        raise UsageError(f"--held-workspaces {held_workspaces}: a process holds 0, 1 (calling thread) or 2 "
                         f"(calling and autograd threads) cuBLAS workspaces")
    from .device import rounded
    from .training import segments, step

    rt, device, capacity = _runtime(device)
    width = DTYPE_BYTES[a.dtype]
    batch = concrete(a.batch, "the batch")
    rows = a.rows
    if checkpoint and not segments(rows):
        raise UsageError(f"--checkpoint recomputes each top-level block, but `{a.name}` has no blocks "
                         f"(every layer is at the top level)")
    total_el = sum(r.activations if type(r.activations) is int else concrete(r.activations, f"{r.layer.name}'s output")
                   for r in rows)
    if total_el * 8 * 4 > MAX_BYTES:
        raise UsageError(f"batch {batch} makes the activations {num.fmt(total_el)} elements: too large to be a real "
                         f"training or inference run (the limit is {MAX_BYTES} bytes)")
    net = a.network
    inf, live, peak_i = _inference(a, batch, width, inplace, fuse_bn)
    peak_live = live[peak_i] if rows else 0
    t = a.totals
    trainable = concrete(t.trainable_params, "params")
    params_and_buffers = trainable + concrete(t.non_trainable_params, "params") + \
        (0 if a.convention == "keras" else concrete(t.buffers, "buffers"))
    input_bytes = inf.elements["input"] * width
    has_matmul = any(r.layer.op in ("fc", "attention") for r in rows)
    runtime_inf = 0
    if workspace and rows:
        # the cuDNN workspace exists only while its conv runs: the worst of live + workspace per layer
        with_ws = peak_live
        for i, r in enumerate(rows):
            if r.layer.op == "conv":
                with_ws = max(with_ws, live[i] + _conv_workspace(r, inf, width, rt))
        runtime_inf = max(held_workspaces, 1 if has_matmul else 0) * rt.blas_workspace + with_ws - peak_live
    # training step
    # the training plan differs from the inference one only where dropout or stochastic depth (views at
    # inference) or a fused BN layer appear: otherwise it is the same plan
    same = not any(r.layer.op in ("dropout", "stochastic_depth") or (fuse_bn and r.layer.op == "bn") for r in rows)
    tp = inf if same else plan(rows, net, batch, inplace, False, training=True)
    classes = concrete(num.prod(list(net.output)), "the output")
    st: Step = step(rows, net, tp, batch, width, rt, amp is not None, checkpoint, classes)
    tensors = _tensors(rows)
    weights = _rounded_sum(tensors, width, rt) if rt.name == "cuda" else params_and_buffers * width
    weights = max(weights, params_and_buffers * width) if tensors else params_and_buffers * width
    train_width = 4 if amp else width
    grads = _grad_bytes(rows, train_width, rt)
    opt = OPTIMIZER_STATES[optimizer] * grads
    inputs = rounded(input_bytes, rt) + rounded(batch * 8, rt)
    runtime_train = max(held_workspaces, 2 if has_matmul else 0) * rt.blas_workspace if workspace else 0
    base = weights + opt + inputs + runtime_train
    step_temp = rt.adam_step_temp * grads if optimizer == "adam" else 0
    phases = {"forward": base + st.forward_peak, "backward": base + st.backward_peak,
              "optimizer step": base + grads + step_temp}
    phase = max(phases, key=lambda k: phases[k])
    saved_total = activation_bytes = 0
    out = []
    for r, reuse, live_i, saved, saves in zip(rows, inf.reuse, live, st.saved_per_layer, st.saves_text):
        act = r.activations if type(r.activations) is int else concrete(r.activations, f"{r.layer.name}'s output")
        saved_total += saved
        nbytes = act * width
        activation_bytes += nbytes
        out.append(LayerMemory(r.layer.name, r.layer.op, act, nbytes, 0 if reuse else nbytes, live_i, reuse, saved,
                               saved_total, saves))
    return Memory(
        name=a.name, batch=batch, dtype=a.dtype, inplace=inplace, fuse_bn=fuse_bn, optimizer=optimizer, amp=amp,
        checkpoint=checkpoint, workspace=workspace, device=device, held_workspaces=held_workspaces,
        layers=tuple(out), input_bytes=input_bytes, activation_bytes=activation_bytes,
        param_bytes=params_and_buffers * width, peak_activation_bytes=peak_live,
        peak_layer=rows[peak_i].layer.name if rows else "input", runtime_inference_bytes=runtime_inf,
        peak_inference_bytes=params_and_buffers * width + input_bytes + peak_live + runtime_inf,
        weight_bytes=weights, gradient_bytes=grads, optimizer_bytes=opt, saved_activation_bytes=st.saved_bytes,
        loss_bytes=st.loss_bytes, weight_copy_bytes=st.weight_copy_bytes,
        forward_peak_bytes=phases["forward"], backward_peak_bytes=phases["backward"],
        backward_peak_layer=st.backward_peak_layer, step_peak_bytes=phases["optimizer step"],
        runtime_training_bytes=runtime_train, peak_phase=phase, training_bytes=phases[phase],
        recompute_macs=int(num.norm(st.recompute_macs)), unruled_ops=st.unruled,
        blas_workspace_bytes=rt.blas_workspace, device_memory_bytes=capacity)


def _runtime(device: str) -> tuple[Runtime, str, int]:
    """`cuda` (a Hopper/Blackwell GPU's defaults), `cpu`, or a device profile (a built-in name or a .yaml
    path) whose compute capability picks the cuBLAS workspace: (rules, the name shown, capacity bytes)."""
    from .device import RUNTIMES, cuda_runtime

    if device in RUNTIMES:
        return RUNTIMES[device], device, 0
    from ..latency.device import load

    try:
        profile = load(device)
    except UsageError as e:
        raise UsageError(f"--device: {e} (or cuda, cpu)") from None
    if profile.compute_capability is None:
        raise UsageError(f"--device {device}: the profile {profile.path} gives no compute_capability "
                         f'(e.g. compute_capability: "9.0"), which sets the cuBLAS workspace size')
    return cuda_runtime(profile.compute_capability), profile.name, profile.memory_bytes


def _rounded_sum(tensors: list[int], width: int, rt: Runtime) -> int:
    """Σ rounded(n · width) over the tensors, each distinct size rounded once."""
    from .device import rounded

    sizes: dict[int, int] = {}
    total = 0
    for n in tensors:
        b = sizes.get(n)
        if b is None:
            b = sizes[n] = rounded(n * width, rt)
        total += b
    return total


def _grad_bytes(rows: Any, width: int, rt: Runtime) -> int:
    total = 0
    seen: dict[tuple[Any, ...], int] = {}   # layers alike (one shared counts mapping) have alike gradients
    for r in rows:
        if r.layer.frozen or not concrete(r.params, "params"):
            continue
        layer = r.layer
        key = (layer.op, id(layer.counts), r.params, layer.output[0] if layer.op == "bn" else 0)
        got = seen.get(key)
        if got is None:
            got = seen[key] = _layer_grad_bytes(layer, r.params, width, rt)
        total += got
    return total


def _layer_grad_bytes(layer: Any, params: Any, width: int, rt: Runtime) -> int:
    from .device import rounded

    w, b = num.norm(layer.counts.get("weights", 0)), num.norm(layer.counts.get("bias", 0))
    if layer.op == "bn":
        return 2 * rounded(concrete(layer.output[0], "channels") * width, rt)
    if w:
        return rounded(concrete(w, "weights") * width, rt) + (rounded(concrete(b, "bias") * width, rt) if b else 0)
    return rounded(concrete(params, "params") * width, rt)


def _conv_workspace(r: Any, p: Plan, width: int, rt: Runtime) -> int:
    layer = r.layer
    if layer.op != "conv" or rt.conv_workspace == 0:
        return 0
    k = layer.attrs.get("k", (1, 1))
    if tuple(k) == (1, 1) or layer.attrs.get("groups", 1) != 1:
        return 0
    io = (p.elements[p.storage[layer.inputs[0]]] + concrete(r.activations, "output")) * width
    return int(rt.conv_workspace * io)
