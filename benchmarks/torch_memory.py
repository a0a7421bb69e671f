"""What PyTorch really keeps, measured on the CPU (used by benchmarks/memory_truth.py and the tests
that skip without torch). Needs torch and torchvision; archcalc never imports this module.

* `saved_for_backward(model, x)`: one training forward (train mode) plus cross-entropy, with
  `torch.autograd.graph.saved_tensors_hooks`; every tensor autograd packs is counted once per storage
  (`untyped_storage()._cdata`, the StorageImpl); parameters and buffers (weights) and the caller's input
  and targets left out.
  Each storage is attributed to the group that first saved it.
* `alive_at_once(model, x)`: one inference forward under `torch.inference_mode()` inside a
  `TorchDispatchMode` that, after every aten op, sums the storages still referenced by a live tensor
  (weak references to every op output; views share a storage); parameters, buffers and the input
  (the caller holds it) left out.

A group is one Conv/Linear/BatchNorm/LayerNorm module call and everything that runs after it until the
next such call (activations, pooling, functional adds, concats, flattens); group 0 is before the first.
archcalc's layers are grouped the same way (memory_truth.py), so the two compare group by group.
"""
from __future__ import annotations

import weakref
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

GROUP_MODULES = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.LayerNorm, nn.ConvTranspose2d)


def _key(t: torch.Tensor) -> int:
    return t.untyped_storage()._cdata


def _weights(model: nn.Module) -> set[int]:
    return {_key(p) for p in model.parameters()} | {_key(b) for b in model.buffers()}


def _group_hooks(model: nn.Module, state: dict[str, Any]) -> list[Any]:
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, GROUP_MODULES):
            def pre(m: nn.Module, args: Any, name: str = name) -> None:
                state["group"] += 1
                state["names"].append(name)
            hooks.append(mod.register_forward_pre_hook(pre))
    return hooks


def saved_for_backward(model: nn.Module, x: torch.Tensor, classes: int | None = None) -> dict[str, Any]:
    """Bytes autograd keeps for backward, per group and in total (loss included as the last group)."""
    model.train()
    target = torch.zeros(x.shape[0], dtype=torch.long)
    weights = _weights(model) | {_key(x), _key(target)}     # the caller's tensors are not "saved" memory
    state: dict[str, Any] = {"group": 0, "names": ["input"]}
    per_group: dict[int, int] = {}
    seen: set[int] = set()

    def pack(t: torch.Tensor) -> torch.Tensor:
        k = _key(t)
        if k not in weights and k not in seen:
            seen.add(k)
            per_group[state["group"]] = per_group.get(state["group"], 0) + t.untyped_storage().nbytes()
        return t

    hooks = _group_hooks(model, state)
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(x)
            state["group"] += 1
            state["names"].append("loss")
            loss = F.cross_entropy(out, target)
    finally:
        for h in hooks:
            h.remove()
    groups = [per_group.get(i, 0) for i in range(state["group"] + 1)]
    del loss, out
    return {"groups": groups, "names": state["names"], "total": sum(groups)}


class _Alive(TorchDispatchMode):
    def __init__(self, skip: set[int], state: dict[str, Any]) -> None:
        super().__init__()
        self.skip, self.state = skip, state
        self.refs: dict[int, list[Any]] = {}     # storage key -> weak refs of tensors on it
        self.size: dict[int, int] = {}
        self.peak: dict[int, int] = {}

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        flat = out if isinstance(out, (tuple, list)) else [out]
        for t in flat:
            if isinstance(t, torch.Tensor):
                k = _key(t)
                if k in self.skip:
                    continue
                alive = [r for r in self.refs.get(k, []) if r() is not None]
                if not alive:
                    self.size[k] = t.untyped_storage().nbytes()
                self.refs[k] = alive + [weakref.ref(t)]
        total = 0
        for k in list(self.refs):
            live = [r for r in self.refs[k] if r() is not None]
            if live:
                self.refs[k] = live
                total += self.size[k]
            else:
                del self.refs[k]
        g = self.state["group"]
        self.peak[g] = max(self.peak.get(g, 0), total)
        return out


def alive_at_once(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    """Largest sum of activation storages alive at once during each group of an inference forward."""
    model.eval()
    state: dict[str, Any] = {"group": 0, "names": ["input"]}
    hooks = _group_hooks(model, state)
    try:
        with torch.inference_mode():
            mode = _Alive(_weights(model) | {_key(x)}, state)
            with mode:
                out = model(x)
            del out
    finally:
        for h in hooks:
            h.remove()
    groups = [mode.peak.get(i, 0) for i in range(state["group"] + 1)]
    return {"groups": groups, "names": state["names"], "peak": max(groups)}


def build(name: str, **kw: Any) -> nn.Module:
    """torchvision's model with weights=None; GoogLeNet and Inception-v3 without auxiliary classifiers."""
    import torchvision

    if name in ("googlenet", "inception_v3"):
        kw = {"aux_logits": False, "init_weights": False, **kw}
    return torchvision.models.get_model(name, weights=None, **kw)
