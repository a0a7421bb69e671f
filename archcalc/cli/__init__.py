"""Command-line wiring only: parse options, call the core, hand results to `report`.

`entry` (the console script) and `main` need no click; `cli`, the click group, is imported on first use
(app.py lists where each command lives).
"""
from __future__ import annotations

from .common import (
    EXIT_BAD_INPUT,
    EXIT_DISAGREE,
    EXIT_INTERNAL,
    EXIT_OK,
    parse_input,
    parse_sets,
)
from .launch import entry, main

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cli", "entry", "main", "parse_input", "parse_sets", "EXIT_OK", "EXIT_DISAGREE", "EXIT_BAD_INPUT",
           "EXIT_INTERNAL"]


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
