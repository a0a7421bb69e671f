"""One training step, as PyTorch's autograd runs it: what the forward saves, and the memory of the
forward, the backward (layer by layer, in reverse) and the optimizer step.

Forward: every storage some op saves (rules.py) stays until the backward of the first layer that
saved it has run (autograd frees a node's saved variables right after the node runs); the others die
after their last reader. Loss: cross-entropy on the output saves log_softmax's result (B×classes,
float32) and the int64 targets (held by the caller).
Backward, at layer i: the gradient of its output (pending), a new gradient for each input that needs
one (add, concat and views pass the same storage on), its parameter gradients (kept to the step),
every saved storage not yet freed, and the parameter gradients of the layers after it.
Step: weights, gradients, optimizer state, plus Adam's foreach temporary (exp_avg_sq.sqrt(), one
parameter-sized copy: torch/optim/adam.py `_multi_tensor_adam`).

Autocast (torch.amp autocast_mode.cpp lists): conv, fc and attention (linear, matmul, bmm, einsum,
scaled_dot_product_attention) run in half (their outputs are half, their fp32 inputs are cast, a half
copy of each weight is cached for the step and saved); softmax, log_softmax, layer_norm run in
float32; every other op keeps its input's dtype (a sum of float32 and half is float32). Gradients, master
weights and optimizer state stay float32.

Checkpointing (torch.utils.checkpoint, non-reentrant) of every top-level block: a block saves only
its inputs; in backward it runs forward again (its MACs once more) and its saved tensors exist until
its own backward has run.
"""
from __future__ import annotations

import itertools
from typing import Any

from .. import num
from ..record import record
from .device import Runtime, rounded
from .plan import VIEW_OPS, WEIGHT_OPS, Plan, concrete
from .rules import Ctx, saves_of

HALF_OPS = ("conv", "dwconv", "conv_transpose", "fc", "attention")
FLOAT_OPS = ("softmax", "layernorm", "layer_norm")
PASS_GRAD = ("add", "concat") + VIEW_OPS
_PASS_GRAD, _WEIGHT_OPS = frozenset(PASS_GRAD), frozenset(WEIGHT_OPS)


@record
class Step:
    saved_per_layer: tuple[int, ...]     # bytes first saved by each layer
    saves_text: tuple[str, ...]
    unruled: tuple[str, ...]             # ops saved by the fallback rule
    saved_bytes: int                     # everything saved at the end of the forward (loss included)
    loss_bytes: int
    weight_copy_bytes: int               # half weight copies (autocast), included in saved_bytes
    forward_peak: int                    # activations alive at the worst moment of the forward
    backward_peak: int                   # saved + gradients in flight + parameter gradients so far
    backward_peak_layer: str
    recompute_macs: Any


def tensor_bytes(rows: Any, width: int, amp: bool) -> dict[str, int]:
    if not amp and all(r.layer.inputs for r in rows):   # every tensor has the activations' width
        out = dict.fromkeys((r.layer.name for r in rows), width)
        out["input"] = width
        return out
    out = {"input": width}
    for r in rows:
        op = r.layer.op
        if amp and op in HALF_OPS:
            out[r.layer.name] = 2
        elif amp and op in FLOAT_OPS:
            out[r.layer.name] = 4
        else:
            out[r.layer.name] = max(out[i] for i in r.layer.inputs)
    return out


def segments(rows: Any) -> list[tuple[int, int]]:
    """Runs of consecutive layers inside the same top-level block call: (first, last) indices."""
    segs: list[tuple[int, int]] = []
    for i, r in enumerate(rows):
        top = r.layer.scope[0] if r.layer.scope else None
        if top is None:
            continue
        if segs and segs[-1][1] == i - 1 and rows[segs[-1][0]].layer.scope[0] == top:
            segs[-1] = (segs[-1][0], i)
        else:
            segs.append((i, i))
    return segs


def step(rows: Any, network: Any, p: Plan, batch: int, width: int, rt: Runtime, amp: bool,
         checkpoint: bool, classes: int) -> Step:
    n = len(rows)
    tb = tensor_bytes(rows, width, amp)
    sbytes = dict.fromkeys(p.elements, 0)
    elements = p.elements
    for name, sid in p.storage.items():
        b = elements[sid] * tb[name]
        if b > sbytes[sid]:
            sbytes[sid] = b

    charged: dict[int, int] = {}           # bytes -> allocator-rounded bytes (sizes repeat: round each once)

    def charge(nbytes: int) -> int:
        out = charged.get(nbytes)
        if out is None:
            out = charged[nbytes] = rounded(nbytes, rt)
        return out

    sizes = {sid: charge(b) for sid, b in sbytes.items()}
    size = sizes.__getitem__

    extra: dict[str, int] = {}            # storages made only to be saved
    first_at: dict[str, int] = {}         # saved storage -> the first (lowest) layer that saves it
    per_layer = [0] * n
    text, unruled = [], []
    copies = 0
    segs = segments(rows) if checkpoint else []
    seg_of = {i: k for k, (a, b) in enumerate(segs) for i in range(a, b + 1)}
    contexts: dict[tuple[int, bool], Ctx] = {}
    rules_seen: dict[tuple[Any, ...], tuple[tuple[Any, ...], bool, str]] = {}
    reuse, storage = p.reuse, p.storage
    for i, r in enumerate(rows):
        layer = r.layer
        width_i, inplace_i = tb[layer.name], reuse[i] == "in-place"
        # a rule reads only the op, the output, attrs, counts and the number of inputs (rules.py) and its
        # context (the element width and the in-place flag): layers alike (shared attrs and counts) save alike
        rule_key = (layer.op, id(layer.attrs), id(layer.counts), layer.output, len(layer.inputs), width_i, inplace_i)
        got = rules_seen.get(rule_key)
        if got is None:
            ctx = contexts.get((width_i, inplace_i))
            if ctx is None:   # a frozen value: one per distinct element width and in-place flag
                ctx = contexts[(width_i, inplace_i)] = Ctx(batch, width_i, inplace_i, rt.name, amp)
            saves, ok = saves_of(layer, ctx)
            got = rules_seen[rule_key] = (saves, ok, ", ".join(s.what for s in saves))
        saves, ok, words = got
        if not ok:
            unruled.append(layer.op)
        text.append(words)
        for s in saves:
            kind = s.kind
            if kind == "input":
                src = layer.inputs[s.index]
                if amp and layer.op in HALF_OPS and tb[src] != 2:     # autocast casts the fp32 input
                    sid = f"{layer.name}#cast"
                    extra[sid] = rounded(p.elements[p.storage[src]] * 2, rt)
                else:
                    sid = storage[src]
            elif kind == "output":
                sid = storage[layer.name]
            else:
                sid = f"{layer.name}#{s.what}"
                extra[sid] = rounded(s.elements * (rt.dropout_mask_bytes or s.itemsize)
                                     if s.what == "mask" else s.elements * s.itemsize, rt)
                if s.what == "half weight copy":
                    copies += extra[sid]
            if sid not in first_at:
                first_at[sid] = i
                if sid != "input":          # the caller's tensor, counted as the input
                    per_layer[i] += extra[sid] if sid in extra else sizes[sid]

    def nb(sid: str) -> int:
        return extra[sid] if sid in extra else size(sid)

    loss = rounded(batch * classes * 4, rt) + rounded(4, rt)    # log_softmax result, total_weight
    # when each saved storage exists: forward birth .. freed after backward of its first saver
    free_after = first_at
    kept: Any = first_at                  # storages kept for backward (a set under checkpointing)
    ckpt_inputs: dict[str, int] = {}      # storage -> segment index whose inputs it is
    recompute = 0
    if checkpoint:
        index = {r.layer.name: i for i, r in enumerate(rows)}
        for k, (a, b) in enumerate(segs):
            for i in range(a, b + 1):
                for src in rows[i].layer.inputs:
                    if not a <= index.get(src, -1) <= b:
                        ckpt_inputs.setdefault(p.storage[src], k)
            recompute += sum(num.norm(r.macs) for r in rows[a:b + 1])
        kept = {sid for sid, at in first_at.items() if at not in seg_of} | set(ckpt_inputs)
    alive_saved = {sid: (extra[sid] if sid in extra else sizes[sid]) for sid in kept if sid != "input"}
    base_saved = sum(alive_saved.values())
    saved_total = base_saved + loss
    # forward: kept storages from their birth on, others while read
    delta = [0] * (n + 1)                      # a difference array: each storage costs O(1), not its lifetime
    born, last, elements = p.born, p.last, p.elements
    for sid in itertools.chain(elements, (x for x in extra if x not in elements)):
        if sid == "input":
            continue
        start = first_at.get(sid, born.get(sid, 0)) if sid in extra else born[sid]
        stop = n - 1 if sid in kept else (last.get(sid, start) if sid in elements else start)
        if start < 0:
            start = 0
        if stop > n - 1:
            stop = n - 1
        if start <= stop:
            b = extra[sid] if sid in extra else sizes[sid]
            delta[start] += b
            delta[stop + 1] -= b
    fwd = list(itertools.accumulate(delta[:n]))
    forward_peak = max(fwd, default=0) + (loss if kept else 0)
    # backward
    alive_sum = base_saved                     # running sums keep the backward walk linear
    free_at: list[tuple[str, ...]] = [()] * max(n, 1)   # layer -> saved storages freed after its backward
    for sid, at in free_after.items():
        free_at[at] += (sid,)
    for sid, k in ckpt_inputs.items():        # a checkpointed block's inputs: freed when the block is done
        a = segs[k][0]
        if free_after.get(sid, a) >= a:
            free_at[a] += (sid,)
    grads: dict[Any, int] = {}                 # grad storage (a name or (layer, input)) -> bytes
    refs: dict[Any, int] = {}
    pending: dict[str, str] = {}               # tensor -> grad storage
    g0 = f"grad:{network.output_source}"
    grads[g0], refs[g0] = rounded(batch * classes * tb.get(network.output_source, width), rt), 1
    grads_sum = grads[g0]
    pending[network.output_source] = g0
    param_grads = 0
    peak, peak_layer = base_saved + grads[g0], "loss"
    needs_grad = _needs_grad(rows)
    pwidth = 4 if amp else width
    storage = p.storage
    param_bytes: dict[Any, int] = {}           # a layer's param count -> its allocator-rounded gradient bytes
    weight_ops, pass_grad = _WEIGHT_OPS, _PASS_GRAD
    for i in range(n - 1, -1, -1):
        r = rows[i]
        layer = r.layer
        if checkpoint and i in seg_of and segs[seg_of[i]][1] == i:      # recompute this block
            a, b = segs[seg_of[i]]
            for sid, at in first_at.items():
                if sid not in alive_saved and sid != "input" and a <= at <= b:
                    alive_saved[sid] = nb(sid)
                    alive_sum += alive_saved[sid]
        g = pending.pop(layer.name, None)
        accumulated = 0                        # new input gradients added into one already pending
        pg = 0
        if not layer.frozen:
            pg = param_bytes.get(r.params, -1)
            if pg < 0:
                pg = param_bytes[r.params] = rounded(concrete(r.params, "params") * pwidth, rt)
        # autocast: the op's node makes a half weight gradient; ToCopyBackward turns it into float32
        # after the node has run (and freed what it saved)
        hg = rounded(concrete(layer.counts.get("weights", 0), "weights") * 2, rt) if amp and layer.op in HALF_OPS else 0
        if g is not None and layer.op not in weight_ops:     # a param's gradient goes to the weight only
            passes = layer.op in pass_grad
            for j, src in enumerate(layer.inputs):
                if src == "input" or not needs_grad.get(src, False):
                    continue
                if passes:
                    if src not in pending:
                        pending[src] = g
                        refs[g] = refs.get(g, 0) + 1
                    continue
                nbytes = elements[storage[src]] * tb[src]
                nbytes = charged[nbytes] if nbytes in charged else charge(nbytes)
                if src in pending:
                    accumulated += nbytes
                    continue                    # accumulated into the pending gradient in place
                gid = (i, j)
                pending[src] = gid
                refs[gid] = 1
                grads[gid] = nbytes
                grads_sum += nbytes
        now = alive_sum + grads_sum + accumulated + param_grads + (hg or pg)
        if now > peak:
            peak, peak_layer = now, layer.name
        if g is not None:
            left = refs[g] - 1
            refs[g] = left
            if left <= 0 and g in grads:
                grads_sum -= grads.pop(g)
        freed = free_at[i]
        if freed:
            for sid in freed:
                if sid in alive_saved:
                    alive_sum -= alive_saved.pop(sid)
        if hg:
            now = alive_sum + grads_sum + param_grads + hg + pg
            if now > peak:
                peak, peak_layer = now, layer.name
        param_grads += pg
    return Step(tuple(per_layer), tuple(text), tuple(sorted(set(unruled))), saved_total, loss, copies,
                forward_peak, peak, peak_layer, num.norm(recompute))


def _needs_grad(rows: Any) -> dict[str, bool]:
    """A tensor needs a gradient when some parameter lies on its path from the input."""
    out = {"input": False}
    for r in rows:
        layer = r.layer
        has = concrete(r.params, "params") > 0 and not layer.frozen
        if not has:
            for i in layer.inputs:
                if out[i]:
                    has = True
                    break
        out[layer.name] = has
    return out
