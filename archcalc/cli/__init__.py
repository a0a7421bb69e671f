"""Command-line wiring only: parse options, call the core, hand results to `report`.

One module per group of commands; each registers its commands on the `cli` group in `app`.
A new command goes in a module of its own and one line here.
"""
from __future__ import annotations

from . import checks, diagram, formulas, latency, memory, plotting, tables  # noqa: F401  (registers the commands)
from .app import cli, entry, main
from .common import EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_INTERNAL, EXIT_OK, parse_input, parse_sets

__all__ = ["cli", "entry", "main", "parse_input", "parse_sets", "EXIT_OK", "EXIT_DISAGREE", "EXIT_BAD_INPUT",
           "EXIT_INTERNAL"]
