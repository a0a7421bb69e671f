"""Every output format lives here: rich tables, JSON, CSV and Markdown, one module per command. The core never formats.

`report.summary_json` and friends resolve lazily: a command imports only the module of its own output
form (and rich only when it draws a table).
"""
from __future__ import annotations

import importlib

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

_MODULES = ("common", "summary", "tabular", "compare", "scale", "formula", "claims", "verify", "memory", "latency")


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        m = importlib.import_module(f"{__name__}.{module}")
        if hasattr(m, name):
            value = getattr(m, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
