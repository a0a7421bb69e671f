"""Command-line wiring only: parse options, call the core, hand results to `report`.

One module per group of commands; each registers its commands on the `cli` group in `app`.
A new command goes in a module of its own and one line here naming its commands: the module is
imported only when one of them runs (or for --help and completion), so a command pays for no other.
"""
from __future__ import annotations

from .app import cli, entry, main

cli.register("tables", "list", "summary", "compare", "scale")
cli.register("checks", "check", "verify")
cli.register("diagram", "diagram", "report")
cli.register("formulas", "formula", "conv")
cli.register("latency", "latency", "device")
cli.register("memory", "memory")
cli.register("plotting", "plot")
from .common import EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_INTERNAL, EXIT_OK, parse_input, parse_sets

__all__ = ["cli", "entry", "main", "parse_input", "parse_sets", "EXIT_OK", "EXIT_DISAGREE", "EXIT_BAD_INPUT",
           "EXIT_INTERNAL"]
