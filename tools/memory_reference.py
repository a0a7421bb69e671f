#!/usr/bin/env python3
"""Reference figures for archcalc's memory model, measured by PyTorch on the CPU (never by archcalc).

    /work/refvenv/bin/python tools/memory_reference.py > tests/data/memory_reference.json

For every torchvision network in the shared H200 file, at batch 2 and its eval crop capped at 300
pixels (EfficientNet-B4…B7 at 300: the rules do not depend on the size, and batch-2 training at 600
pixels needs ~8 GB): with benchmarks/torch_memory.py, the bytes autograd saves for a training forward
plus cross-entropy (saved_tensors_hooks, each storage once; weights, input and targets left out), per
group and in total, and the activation storages alive at once in an inference forward
(TorchDispatchMode), per group and at the peak. A group is one Conv/Linear/BatchNorm module call and
what follows it up to the next one (see torch_memory.py).
"""
from __future__ import annotations

import json
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import torch
import torch_memory as tm

NETWORKS = [("alexnet", 224), ("vgg11", 224), ("vgg13", 224), ("vgg16", 224), ("vgg19", 224), ("googlenet", 224),
            ("resnet18", 224), ("resnet34", 224), ("resnet50", 224), ("resnet101", 224), ("resnet152", 224),
            ("resnext50_32x4d", 224), ("mobilenet_v2", 224), ("squeezenet1_0", 224), ("squeezenet1_1", 224),
            ("densenet121", 224), ("efficientnet_b0", 224), ("efficientnet_b1", 240), ("efficientnet_b2", 288),
            ("efficientnet_b3", 300), ("efficientnet_b4", 300), ("efficientnet_b5", 300), ("efficientnet_b6", 300),
            ("efficientnet_b7", 300)]
BATCH = 2


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    only = set(sys.argv[1].split(",")) if len(sys.argv) > 1 else None
    out = {"versions": {"torch": version("torch"), "torchvision": version("torchvision")}, "batch": BATCH, "models": {}}
    for name, res in NETWORKS:
        if only and name not in only:
            continue
        model = tm.build(name)
        x = torch.randn(BATCH, 3, res, res)
        s = tm.saved_for_backward(model, x)
        a = tm.alive_at_once(model, x)
        out["models"][name] = {"input": [3, res, res], "saved_total": s["total"], "saved_groups": s["groups"],
                               "alive_peak": a["peak"], "alive_groups": a["groups"], "group_names": s["names"]}
        print(name, s["total"], a["peak"], file=sys.stderr, flush=True)
        del model, x
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
