"""archcalc: exact shapes, parameters, multiply-adds, memory and receptive fields of CNNs."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["analyze", "__version__"]


def analyze(*args: Any, **kwargs: Any) -> Any:
    """See `archcalc.analysis.analyze`."""
    from .analysis import analyze as _analyze

    return _analyze(*args, **kwargs)
