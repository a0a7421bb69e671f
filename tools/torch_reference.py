#!/usr/bin/env python3
"""Ground-truth reference numbers from PyTorch, torchvision, timm, torchinfo and fvcore.

This script is NOT part of archcalc: PyTorch is never an archcalc dependency. It runs in
a separate virtual environment and writes a JSON file that archcalc's tests compare
against::

    python3 -m venv /work/refvenv
    /work/refvenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/refvenv/bin/pip install torchinfo fvcore timm
    /work/refvenv/bin/python tools/torch_reference.py > tests/data/torch_reference.json

Options: ``-o PATH`` writes PATH after every model (useful for long runs),
``--only NAME[,NAME...]`` restricts to some models (keys as in the JSON),
``--merge PATH`` starts from an existing file: models already there keep their runs (their
weight metadata is refreshed; ``--redo`` recomputes them), only the missing ones are computed::

    nice /work/refvenv/bin/python tools/torch_reference.py \
        --merge tests/data/torch_reference.json -o tests/data/torch_reference.json

No weights are ever downloaded: models are built with ``weights=None`` /
``pretrained=False``. torchvision's weight metadata (``num_params``, ``_ops``,
transforms) lives in the source code (``Weights`` enums), not in the weight files.

Every model is run at batch 1, float32, eval mode, on CPU. The models are every
classification builder of ``torchvision.models.list_models(module=torchvision.models)``
(plus a few timm models). Each is evaluated at the eval crop of its DEFAULT weights
(``weights.DEFAULT.transforms().crop_size``: ``eval_crop``, ``default_weights``); the
first 24 models (``LEGACY``: the first version of this file) are also evaluated at 224x224
and at the crop of IMAGENET1K_V1 (``reference_resolution``). Builder kwargs that the
weights would set are passed explicitly (ViT ``image_size``); GoogLeNet and Inception-v3 are
built without their auxiliary classifiers (``aux_logits=False``), the network that runs in
eval mode: torchvision's ``num_params`` of Inception_V3_Weights (27,161,264) counts the
AuxLogits head, which eval never calls; GoogLeNet's meta excludes aux1/aux2.

Per model (``models[key]``):
  * ``num_params`` (sum of ``p.numel()``), ``trainable_params`` (requires_grad),
    ``buffers``: ``bn_running_stats`` (running_mean + running_var elements),
    ``num_batches_tracked`` (elements) and ``other`` buffer elements;
  * ``weights`` (torchvision only): for each member of the model's Weights enum
    (IMAGENET1K_V1, IMAGENET1K_V2, ...): ``num_params``, ``_ops`` (GFLOPS as torchvision
    prints them; in fact giga multiply-adds of conv + linear), ``_file_size``,
    ``crop_size``, ``resize_size``;
  * ``timm_cfg`` (timm only): ``input_size`` and ``test_input_size`` of pretrained_cfg;
  * ``runs["HxW"]``, one per resolution, each with
      - ``output_shape`` of the model (without batch),
      - ``torchinfo``: totals of ``summary(model, input_size=(1,3,H,W), verbose=0)``
        (``total_params``, ``trainable_params``, ``total_mult_adds``,
        ``total_output_bytes``, ``total_param_bytes``, ``total_input``) and ``layers``:
        a table of the leaf entries of ``summary_list`` in execution order (a module
        called twice appears twice, the repeats with ``is_recursive`` true),
      - ``fvcore``: ``FlopCountAnalysis(model, x)``: ``total``, ``by_operator``,
        ``unsupported_ops`` (op -> number of occurrences), ``by_leaf_module`` (qualified
        leaf module name -> count, non-zero only; summed over repeated calls),
      - ``modules``: a table from forward hooks on every leaf module (a module with no
        children), one row per call in execution order: qualified name, class name,
        output shape without the batch dim, and the module's own parameter count,
      - ``uncalled_leaf_modules``: leaf modules that the forward pass never called.
Tables are ``{"columns": [...], "rows": [[...], ...]}`` to keep the file compact.

Counting conventions of the tools (read from their sources):
  * torchvision ``_ops``: GMACs of conv + linear weights only (no bias, BN, pooling);
  * torchinfo ``macs`` (``layer_info.py: calculate_macs``): for every leaf layer and
    each parameter named weight or bias: Conv layers ``numel(param) * prod(out_size
    without channel dim)``, other layers ``batch * numel(param)``, so conv biases,
    BN gamma/beta and linear biases are included; ``total_mult_adds`` sums leaf layers
    including repeated calls; ``total_output_bytes`` = 2 x output bytes of leaf layers
    that have parameters ("x2 for gradients");
  * fvcore: one "flop" is one multiply-add; default handlers listed in
    ``fvcore_default_handlers``; conv/linear count weights only (no bias); batch_norm in
    eval counts input numel x 2 (affine) ; adaptive_avg_pool2d counts input numel;
    other ops count 0: those in ``fvcore_ignored_ops`` (relu, dropout, flatten, ...)
    silently, the rest (add_, max_pool2d, mul, sigmoid, silu_, ...) are reported in
    ``unsupported_ops``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import sys
import warnings
from collections import Counter
from importlib.metadata import version

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never touch a model hub
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

# (key, builder kwargs) for torchvision models; key == torchvision builder name.
LEGACY: list[tuple[str, dict]] = [
    ("alexnet", {}),
    ("vgg11", {}),
    ("vgg13", {}),
    ("vgg16", {}),
    ("vgg19", {}),
    ("googlenet", {"aux_logits": False, "init_weights": False}),
    ("resnet18", {}),
    ("resnet34", {}),
    ("resnet50", {}),
    ("resnet101", {}),
    ("resnet152", {}),
    ("resnext50_32x4d", {}),
    ("mobilenet_v2", {}),
    ("squeezenet1_0", {}),
    ("squeezenet1_1", {}),
    ("densenet121", {}),
] + [(f"efficientnet_b{i}", {}) for i in range(8)]

_KWARGS: dict[str, dict] = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}


def default_crop(name: str) -> tuple[str | None, int]:
    """(DEFAULT weights name, its eval crop) of a torchvision builder."""
    try:
        enum = torchvision.models.get_model_weights(name)
    except (ValueError, KeyError):
        return None, 224
    w = enum.DEFAULT
    crop = list(getattr(w.transforms(), "crop_size", []) or [224])
    return w.name, int(crop[0])


def builder_kwargs(name: str) -> dict:
    kw = dict(_KWARGS.get(name, {}))
    if name.startswith("vit_"):
        kw["image_size"] = default_crop(name)[1]  # what the weights' builder would set
    return kw


def torchvision_models() -> list[tuple[str, dict]]:
    legacy = {k for k, _ in LEGACY}
    rest = [(n, builder_kwargs(n))
            for n in torchvision.models.list_models(module=torchvision.models)
            if n not in legacy]
    return LEGACY + rest


TORCHVISION_MODELS: list[tuple[str, dict]] = []  # filled in build() (needs torchvision)

# (key in the JSON, timm model name). pretrained=False always.
TIMM_MODELS: list[tuple[str, str]] = [
    ("timm/mobilenetv1_100", "mobilenetv1_100"),
    ("timm/legacy_seresnet50", "legacy_seresnet50"),
    ("timm/seresnet50", "seresnet50"),
    ("timm/efficientnet_b0", "efficientnet_b0"),
    ("timm/tf_efficientnet_b0", "tf_efficientnet_b0"),
]


# ----------------------------------------------------------------------------- helpers

def _shape(t, drop_batch: bool = True):
    """Shape of a tensor (or nested tuple/list of tensors) as plain lists."""
    if isinstance(t, torch.Tensor):
        s = [int(d) for d in t.shape]
        return s[1:] if drop_batch else s
    if isinstance(t, (list, tuple)):
        return [_shape(x, drop_batch) for x in t]
    if isinstance(t, dict):
        return {k: _shape(v, drop_batch) for k, v in t.items()}
    return None


def param_counts(model: nn.Module) -> dict:
    params = list(model.parameters())
    bn_stats = nbt = other = 0
    for name, buf in model.named_buffers():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("running_mean", "running_var"):
            bn_stats += buf.numel()
        elif leaf == "num_batches_tracked":
            nbt += buf.numel()
        else:
            other += buf.numel()
    return {
        "num_params": sum(p.numel() for p in params),
        "trainable_params": sum(p.numel() for p in params if p.requires_grad),
        "buffers": {"bn_running_stats": bn_stats, "num_batches_tracked": nbt, "other": other},
    }


def torchvision_weights_meta(name: str) -> dict:
    out = {}
    try:
        enum = torchvision.models.get_model_weights(name)
    except (ValueError, KeyError):
        return out
    for w in enum:
        meta = w.meta
        entry = {k: meta.get(k) for k in ("num_params", "_ops", "_file_size", "min_size")}
        try:
            tr = w.transforms()
            entry["crop_size"] = list(getattr(tr, "crop_size", []) or [])
            entry["resize_size"] = list(getattr(tr, "resize_size", []) or [])
        except Exception as e:  # pragma: no cover - informational only
            entry["transforms_error"] = repr(e)
        out[w.name] = entry
    return out


def leaf_modules(model: nn.Module) -> dict[str, nn.Module]:
    return {n: m for n, m in model.named_modules() if not any(m.children())}


def hook_table(model: nn.Module, x: torch.Tensor) -> tuple[dict, list[str], list]:
    """Forward hooks on every leaf module: one row per call, in execution order."""
    leaves = leaf_modules(model)
    rows: list[list] = []
    called: set[str] = set()
    handles = []

    def make_hook(qname: str):
        def hook(mod, inp, out):
            called.add(qname)
            own = sum(p.numel() for p in mod.parameters(recurse=False))
            rows.append([qname, type(mod).__name__, _shape(out), own])
        return hook

    for qname, mod in leaves.items():
        handles.append(mod.register_forward_hook(make_hook(qname)))
    try:
        with torch.no_grad():
            y = model(x)
    finally:
        for h in handles:
            h.remove()
    uncalled = [n for n in leaves if n not in called]
    table = {"columns": ["name", "class", "output", "params"], "rows": rows}
    return table, uncalled, _shape(y)


def torchinfo_record(model: nn.Module, h: int, w: int, device: str = "cpu") -> dict:
    from torchinfo import summary

    qual = {id(m): n for n, m in model.named_modules()}
    stats = summary(model, input_size=(1, 3, h, w), verbose=0, device=device, mode="eval")
    rows = []
    for li in stats.summary_list:
        if not li.is_leaf_layer:
            continue
        rows.append([qual.get(li.layer_id, li.var_name), li.class_name, li.depth,
                     list(li.output_size), int(li.num_params), int(li.trainable_params),
                     int(li.macs), bool(li.is_recursive)])
    return {
        "total_params": int(stats.total_params),
        "trainable_params": int(stats.trainable_params),
        "total_mult_adds": int(stats.total_mult_adds),
        "total_output_bytes": int(stats.total_output_bytes),
        "total_param_bytes": int(stats.total_param_bytes),
        "total_input": int(stats.total_input),
        "layers": {"columns": ["name", "class", "depth", "output_size", "num_params",
                               "trainable_params", "macs", "is_recursive"],
                   "rows": rows},
    }


def _num(v):
    """fvcore may return floats for integral counts; keep ints exact."""
    return int(v) if float(v).is_integer() else float(v)


def fvcore_record(model: nn.Module, x: torch.Tensor) -> dict:
    from fvcore.nn import FlopCountAnalysis

    fca = FlopCountAnalysis(model, x)
    fca.unsupported_ops_warnings(False)
    fca.uncalled_modules_warnings(False)
    total = fca.total()
    leaves = leaf_modules(model)
    by_module = fca.by_module()
    return {
        "total": _num(total),
        "by_operator": {k: _num(v) for k, v in sorted(fca.by_operator().items())},
        "unsupported_ops": dict(sorted(Counter(fca.unsupported_ops()).items())),
        "by_leaf_module": {n: _num(by_module[n]) for n in leaves
                           if n in by_module and by_module[n]},
    }


def fvcore_default_handlers() -> dict:
    from fvcore.nn.flop_count import _DEFAULT_SUPPORTED_OPS

    out = {}
    for op, handle in _DEFAULT_SUPPORTED_OPS.items():
        name = getattr(handle, "__qualname__", repr(handle))
        out[op] = name
    return out


def fvcore_ignored_ops() -> list[str]:
    """Ops fvcore skips silently (counted 0 and not listed in unsupported_ops)."""
    from fvcore.nn.jit_analysis import _IGNORED_OPS

    return sorted(_IGNORED_OPS)


def run_at(model: nn.Module, h: int, w: int) -> dict:
    """fvcore traces a real forward pass (its tracer needs real tensors); the hook table and
    torchinfo then run on a copy of the model on the `meta` device (shapes only, no arithmetic:
    what they record, shapes, parameter counts and torchinfo's mult-adds, depends on shapes alone)."""
    x = torch.zeros(1, 3, h, w, dtype=torch.float32)
    rec = {"input": [3, h, w]}
    fv = fvcore_record(model, x)
    meta = copy.deepcopy(model).to("meta") if FAST else model
    xm = x.to("meta") if FAST else x
    modules, uncalled, out_shape = hook_table(meta, xm)
    rec["output_shape"] = out_shape
    rec["torchinfo"] = torchinfo_record(meta, h, w, "meta" if FAST else "cpu")
    rec["fvcore"] = fv
    rec["modules"] = modules
    rec["uncalled_leaf_modules"] = uncalled
    return rec


FAST = True  # --exact-init turns this off (real init, every pass on CPU)
THREADS = 1  # --threads: one thread per process by default (spinning threads crawl on a shared machine)


@contextlib.contextmanager
def cheap_init():
    """Random initialisation is irrelevant to every recorded figure (the input is zeros and
    only shapes and counts are kept) and costs minutes for the 600 M-parameter models: while
    a model is built, torch.nn.init's fill functions write zeros instead."""
    if not FAST:
        yield
        return
    names = ["uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_",
             "xavier_uniform_", "xavier_normal_", "orthogonal_", "constant_", "ones_", "zeros_"]
    saved = {n: getattr(nn.init, n) for n in names}

    def zero(tensor, *args, **kwargs):
        with torch.no_grad():
            return tensor.zero_()

    try:
        for n in names:
            setattr(nn.init, n, zero)
        yield
    finally:
        for n, f in saved.items():
            setattr(nn.init, n, f)


def describe(model: nn.Module, resolutions: list[int]) -> dict:
    model.eval()
    rec = param_counts(model)
    rec["runs"] = {}
    for r in resolutions:
        print(f"    {r}x{r}", file=sys.stderr, flush=True)
        rec["runs"][f"{r}x{r}"] = run_at(model, r, r)
    return rec


def torchvision_meta(name: str) -> dict:
    """The weight metadata fields of an entry (no model is built)."""
    weights = torchvision_weights_meta(name)
    ref = 224
    v1 = weights.get("IMAGENET1K_V1", {})
    if v1.get("crop_size"):
        ref = int(v1["crop_size"][0])
    default, crop = default_crop(name)
    return {"weights": weights, "default_weights": default, "eval_crop": crop,
            "reference_resolution": ref}


def torchvision_entry(name: str, kwargs: dict) -> dict:
    meta = torchvision_meta(name)
    with cheap_init():
        model = torchvision.models.get_model(name, weights=None, **kwargs)
    resolutions = {meta["eval_crop"]}
    if name in {k for k, _ in LEGACY}:
        resolutions |= {224, meta["reference_resolution"]}
    rec = {"source": "torchvision", "builder": f"torchvision.models.{name}",
           "kwargs": kwargs}
    rec.update(meta)
    rec.update(describe(model, sorted(resolutions)))
    return rec


def timm_entry(name: str) -> dict:
    import timm

    with cheap_init():
        model = timm.create_model(name, pretrained=False)
    cfg = model.pretrained_cfg or {}
    ref = int(cfg.get("input_size", (3, 224, 224))[-1])
    rec = {"source": "timm", "builder": f"timm.create_model({name!r}, pretrained=False)",
           "kwargs": {}, "reference_resolution": ref,
           "timm_cfg": {"input_size": list(cfg.get("input_size", [])),
                        "test_input_size": list(cfg.get("test_input_size", []) or [])}}
    rec.update(describe(model, sorted({224, ref})))
    return rec


# ------------------------------------------------------------------------------- output

def _dumps(obj, indent: int = 0) -> str:
    """JSON with nested dicts indented but every table row / short list on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {_dumps(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and all(isinstance(r, list) for r in obj):
        rows = [pad + " " + json.dumps(r, separators=(",", ":")) for r in obj]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(obj, separators=(",", ":"))


def build(only: set[str] | None, out_path: str | None, merge: str | None = None,
          redo: bool = False) -> dict:
    TORCHVISION_MODELS[:] = torchvision_models()
    old: dict = {}
    if merge and os.path.exists(merge):
        with open(merge) as f:
            old = json.load(f).get("models", {})
    torch.manual_seed(0)
    torch.set_num_threads(THREADS)
    doc = {
        "generator": "tools/torch_reference.py",
        "versions": {p: version(p) for p in ("torch", "torchvision", "timm", "torchinfo",
                                             "fvcore")},
        "settings": {"batch": 1, "dtype": "float32", "mode": "eval", "device": "cpu",
                     "input": "zeros(1,3,H,W)", "weights": "none (random init)"},
        "notes": "Counting conventions of the tools " + __doc__.split(
            "Counting conventions of the tools ", 1)[1].strip(),
        "fvcore_default_handlers": fvcore_default_handlers(),
        "fvcore_ignored_ops": fvcore_ignored_ops(),
        "models": {},
    }
    doc["versions"]["python"] = sys.version.split()[0]

    def flush():
        if out_path:
            tmp = out_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(_dumps(doc) + "\n")
            os.replace(tmp, out_path)

    jobs = [(k, lambda k=k, kw=kw: torchvision_entry(k, kw)) for k, kw in TORCHVISION_MODELS]
    jobs += [(k, lambda n=n: timm_entry(n)) for k, n in TIMM_MODELS]
    tv = {k for k, _ in TORCHVISION_MODELS}
    for key, job in jobs:
        if key in old and "error" not in old[key] and not (redo and (not only or key in only)):
            doc["models"][key] = old[key]
            if key in tv:
                doc["models"][key].update(torchvision_meta(key))
            continue
        if only and key not in only:
            continue
        print(key, file=sys.stderr, flush=True)
        try:
            doc["models"][key] = job()
        except Exception as e:  # record the failure, keep going
            doc["models"][key] = {"error": f"{type(e).__name__}: {e}"}
            print(f"  FAILED: {e!r}", file=sys.stderr, flush=True)
        flush()
    flush()
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", help="write here (after every model) instead of stdout")
    ap.add_argument("--only", help="comma-separated model keys")
    ap.add_argument("--merge", help="keep the models of this file, compute the missing ones")
    ap.add_argument("--redo", action="store_true",
                    help="with --merge: recompute the models (of --only) that the file already has")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--exact-init", action="store_true",
                    help="initialise weights as torch does and run every pass on CPU (slow)")
    args = ap.parse_args(argv)
    global FAST, THREADS
    FAST = not args.exact_init
    THREADS = max(1, args.threads)
    only = set(args.only.split(",")) if args.only else None
    doc = build(only, args.out, args.merge, args.redo)
    if not args.out:
        sys.stdout.write(_dumps(doc) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
