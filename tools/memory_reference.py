#!/usr/bin/env python3
"""Reference figures for archcalc's memory model, measured by PyTorch on the CPU (never by archcalc).

    /work/refvenv/bin/python tools/memory_reference.py [NAMES] > tests/data/memory_reference.json
    /work/refvenv/bin/python tools/memory_reference.py NAMES --merge tests/data/memory_reference.json

NAMES: comma-separated (default: all 80). `--merge FILE` adds/replaces those models in FILE and
rewrites it (so the 80 forwards can run in chunks on a small machine).

Every torchvision classification model (`torchvision.models.list_models(module=torchvision.models)`),
at batch 2, built with `get_model(name, weights=None)` (GoogLeNet and Inception-v3 without the
auxiliary classifiers, as archcalc's specs). With benchmarks/torch_memory.py: the bytes autograd saves
for a training forward plus cross-entropy (saved_tensors_hooks, each storage once; weights, input and
targets left out), per group and in total, and the activation storages alive at once in an inference
forward (TorchDispatchMode), per group and at the peak. A group is one Conv/Linear/BatchNorm/LayerNorm
module call and what follows it up to the next one (see torch_memory.py).

Resolution: the default weights' eval crop, capped — the rules (what each op saves, what is alive) do
not depend on the spatial size, only the byte counts scale with it, and batch-2 training at 600 pixels
needs ~8 GB. The 24 networks of the shared H200 file keep the cap of 300 they were first measured at
(EfficientNet-B4…B7 at 300); every other CNN is capped at 224 (EfficientNet-V2 S/M/L and RegNet-Y-128GF
at 224 instead of 384/480). Transformers need a size their code accepts: ViT is built with torchvision's
`image_size=224` (ViT-H/14's default crop is 518; its position embedding then has (224/14)² + 1 rows,
archcalc `--set res=224`), Swin v1 and MaxViT at 224, Swin v2 at its crop 256.
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

SHARED = [("alexnet", 224), ("vgg11", 224), ("vgg13", 224), ("vgg16", 224), ("vgg19", 224), ("googlenet", 224),
          ("resnet18", 224), ("resnet34", 224), ("resnet50", 224), ("resnet101", 224), ("resnet152", 224),
          ("resnext50_32x4d", 224), ("mobilenet_v2", 224), ("squeezenet1_0", 224), ("squeezenet1_1", 224),
          ("densenet121", 224), ("efficientnet_b0", 224), ("efficientnet_b1", 240), ("efficientnet_b2", 288),
          ("efficientnet_b3", 300), ("efficientnet_b4", 300), ("efficientnet_b5", 300), ("efficientnet_b6", 300),
          ("efficientnet_b7", 300)]
HELD_BACK = (
    [(f"vgg{d}_bn", 224) for d in (11, 13, 16, 19)]
    + [("inception_v3", 224), ("mobilenet_v3_large", 224), ("mobilenet_v3_small", 224)]
    + [(n, 224) for n in ("resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2")]
    + [(f"densenet{d}", 224) for d in (161, 169, 201)]
    + [(f"efficientnet_v2_{s}", 224) for s in "sml"]
    + [(f"mnasnet{a}", 224) for a in ("0_5", "0_75", "1_0", "1_3")]
    + [(f"shufflenet_v2_x{w}", 224) for w in ("0_5", "1_0", "1_5", "2_0")]
    + [(f"regnet_x_{s}", 224) for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + [(f"regnet_y_{s}", 224) for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")]
    + [(f"convnext_{s}", 224) for s in ("tiny", "small", "base", "large")]
    + [(f"vit_{s}", 224) for s in ("b_16", "b_32", "l_16", "l_32", "h_14")]
    + [(f"swin_{s}", 224) for s in "tsb"] + [(f"swin_v2_{s}", 256) for s in "tsb"] + [("maxvit_t", 224)]
)
NETWORKS = SHARED + HELD_BACK
BATCH = 2


def kwargs(name: str, res: int) -> dict[str, int]:
    """torchvision constructor arguments beyond weights=None (ViT's image_size)."""
    return {"image_size": res} if name.startswith("vit_") else {}


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(2)
    args = sys.argv[1:]
    merge = None
    if "--merge" in args:
        k = args.index("--merge")
        merge = Path(args[k + 1])
        args = args[:k] + args[k + 2:]
    only = set(args[0].split(",")) if args else None
    known = {n for n, _ in NETWORKS}
    if only and only - known:
        sys.exit(f"unknown: {', '.join(sorted(only - known))}")
    out = {"versions": {"torch": version("torch"), "torchvision": version("torchvision")}, "batch": BATCH, "models": {}}
    if merge is not None and merge.exists():
        out = json.loads(merge.read_text())
    for name, res in NETWORKS:
        if only and name not in only:
            continue
        kw = kwargs(name, res)
        model = tm.build(name, **kw)
        x = torch.randn(BATCH, 3, res, res)
        s = tm.saved_for_backward(model, x)
        a = tm.alive_at_once(model, x)
        rec = {"input": [3, res, res], "saved_total": s["total"], "saved_groups": s["groups"],
               "alive_peak": a["peak"], "alive_groups": a["groups"], "group_names": s["names"]}
        if kw:
            rec["torchvision_kwargs"] = kw
        out["models"][name] = rec
        print(name, s["total"], a["peak"], file=sys.stderr, flush=True)
        del model, x
        if merge is not None:         # after every model: a chunk that dies keeps what it measured
            merge.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    if merge is None:
        json.dump(out, sys.stdout, separators=(",", ":"))
        print()


if __name__ == "__main__":
    main()
