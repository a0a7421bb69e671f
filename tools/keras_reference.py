#!/usr/bin/env python3
"""Ground-truth parameter counts from Keras 3 ``keras.applications``.

This script is NOT part of archcalc and Keras/JAX are never archcalc dependencies.
It runs in a separate virtual environment and writes a JSON file that archcalc's
tests compare against::

    python3 -m venv /work/kerasvenv
    /work/kerasvenv/bin/pip install keras jax jaxlib
    KERAS_BACKEND=jax /work/kerasvenv/bin/python tools/keras_reference.py \
        > tests/data/keras_reference.json

Every model is built with ``weights=None`` (nothing is downloaded), channels-last.

Per model it records
  * ``count_params``: ``model.count_params()``;
  * ``trainable_params`` / ``non_trainable_params`` / ``total_params``: the three
    numbers ``model.summary()`` prints (parsed from the printed summary and
    checked against ``count_params`` of ``trainable_weights`` /
    ``non_trainable_weights``, the way ``keras/src/utils/summary_utils.py`` counts).
    Keras counts BatchNormalization ``moving_mean``/``moving_variance`` as
    non-trainable params (PyTorch keeps them as buffers, not params); Keras's
    EfficientNet also has a ``Normalization`` layer whose mean/variance/count
    (3 + 3 + 1 = 7) are non-trainable;
  * ``layers``: every layer in ``model.layers`` order with ``name``, ``class``,
    ``output_shape`` (batch dim dropped, channels-last ``[H, W, C]``),
    ``params`` (``layer.count_params()``), ``trainable`` and ``non_trainable``.
"""

from __future__ import annotations

import json
import os
import re
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402


def _shape(t):
    """Output shape without the batch dimension (list, or list of lists)."""
    if isinstance(t, (list, tuple)):
        return [_shape(x) for x in t]
    return [None if d is None else int(d) for d in tuple(t.shape)[1:]]


def _count(weights) -> int:
    total = 0
    for w in weights:
        n = 1
        for d in w.shape:
            n *= int(d)
        total += n
    return total


def _summary_totals(model) -> dict:
    """Parse the 'Total/Trainable/Non-trainable params' lines of model.summary()."""
    lines: list[str] = []
    model.summary(print_fn=lambda s, *a, **k: lines.append(s), line_length=200)
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))
    out = {}
    for key, label in (("total", "Total params"), ("trainable", "Trainable params"),
                       ("non_trainable", "Non-trainable params")):
        m = re.search(label + r":\s*([\d,]+)", text)
        out[key] = int(m.group(1).replace(",", "")) if m else None
    return out


def describe(model, builder: str, kwargs: dict) -> dict:
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    printed = _summary_totals(model)
    assert printed["trainable"] == trainable, (printed, trainable)
    assert printed["non_trainable"] == non_trainable, (printed, non_trainable)
    assert printed["total"] == model.count_params() == trainable + non_trainable
    layers = []
    for layer in model.layers:
        layers.append({
            "name": layer.name,
            "class": type(layer).__name__,
            "output_shape": _shape(layer.output),
            "params": int(layer.count_params()) if layer.built else 0,
            "trainable": _count(layer.trainable_weights),
            "non_trainable": _count(layer.non_trainable_weights),
        })
    return {
        "builder": f"keras.applications.{builder}",
        "kwargs": kwargs,
        "input_shape": _shape(model.inputs[0]),
        "count_params": int(model.count_params()),
        "total_params": printed["total"],
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "num_layers": len(layers),
        "layers": layers,
    }


# (key, builder name, kwargs). weights=None is added to every call.
MODELS = [
    ("vgg16", "VGG16", {}),
    ("mobilenet_v1_1.0_224", "MobileNet", {"alpha": 1.0}),
    ("mobilenet_v1_0.75_224", "MobileNet", {"alpha": 0.75}),
    ("mobilenet_v1_0.5_224", "MobileNet", {"alpha": 0.5}),
    ("mobilenet_v1_0.25_224", "MobileNet", {"alpha": 0.25}),
    ("mobilenet_v1_1.0_192", "MobileNet", {"alpha": 1.0, "input_shape": [192, 192, 3]}),
    ("mobilenet_v1_1.0_160", "MobileNet", {"alpha": 1.0, "input_shape": [160, 160, 3]}),
    ("mobilenet_v1_1.0_128", "MobileNet", {"alpha": 1.0, "input_shape": [128, 128, 3]}),
    ("mobilenet_v2_1.0_224", "MobileNetV2", {}),
    ("resnet50", "ResNet50", {}),
    ("densenet121", "DenseNet121", {}),
    ("efficientnet_b0", "EfficientNetB0", {}),
]


def main() -> int:
    import jax

    keras.utils.set_random_seed(0)
    out = {
        "generator": "tools/keras_reference.py",
        "versions": {"keras": keras.__version__, "jax": jax.__version__,
                     "backend": keras.backend.backend(), "python": sys.version.split()[0]},
        "notes": ("weights=None, channels_last; output shapes exclude batch and are [H, W, C]; "
                  "non_trainable_params = BN moving_mean/moving_variance (+ Normalization "
                  "mean/variance/count in EfficientNet), as model.summary() prints them"),
        "models": {},
    }
    for key, builder, kwargs in MODELS:
        call = dict(kwargs)
        if "input_shape" in call:
            call["input_shape"] = tuple(call["input_shape"])
        model = getattr(keras.applications, builder)(weights=None, **call)
        out["models"][key] = describe(model, builder, kwargs)
        print(f"{key}: {out['models'][key]['count_params']:,}", file=sys.stderr)
        keras.backend.clear_session()
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
