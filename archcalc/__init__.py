"""archcalc: exact shapes, parameters, multiply-adds, memory and receptive fields of CNNs."""
from __future__ import annotations

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any


__version__ = "0.1.0"
__all__ = ["analyze", "__version__"]


def analyze(*args: Any, **kwargs: Any) -> Any:
    """See `archcalc.analysis.analyze`."""
    from .analysis import analyze as _analyze

    return _analyze(*args, **kwargs)
