"""Counting conventions: how other counters count, reproduced from the layer graph.

`paper` (default): MACs are the multiply-accumulates of conv and fc weights only (K·K·C_in/g·C_out
per output position; no bias, BN, activation or pooling); params are weights, biases and BN γ/β;
BN running statistics are buffers, not params (as PyTorch counts them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import UsageError, did_you_mean
from .graph import Layer


@dataclass(frozen=True)
class Convention:
    name: str
    description: str
    macs: Callable[[Layer], Any]
    buffers_are_params: bool = False   # Keras counts BN moving statistics as non-trainable params


def _paper_macs(layer: Layer) -> Any:
    return layer.macs


CONVENTIONS: dict[str, Convention] = {
    "paper": Convention("paper", "MACs of conv and fc weights only; params exclude BN running statistics", _paper_macs),
}


def get(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise UsageError(f"unknown convention `{name}`{did_you_mean(name, set(CONVENTIONS))}; "
                         f"known: {', '.join(CONVENTIONS)}") from None
