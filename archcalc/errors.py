"""The error hierarchy. Every error a user can cause is an ArchcalcError; the CLI renders it once."""
from __future__ import annotations

from .record import record
from .text import excerpt, printable  # noqa: F401  (re-exported: every message quotes user text through these)


class ArchcalcError(Exception):
    """Base class: bad input of any kind (exit status 2)."""

    exit_code = 2


@record(slots=True)
class Where:
    """A place in a spec file: `specs/foo.yaml:12 body[3].conv.k`."""

    file: str | None = None
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        place = self.file or "<spec>"
        if self.line is not None:
            place += f":{self.line}"
        return f"{place} {self.path}".rstrip()


class SpecError(ValueError, ArchcalcError):
    """A spec file is malformed or describes an impossible network."""

    def __init__(self, message: str, where: Where | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ShapeError(SpecError):
    """A layer's output size is not a positive integer, or inputs do not fit together."""


class ExprError(SpecError):
    """An expression is malformed, refers to unknown names, or exceeds a limit."""


class UsageError(ValueError, ArchcalcError):
    """A command-line value is wrong (unknown spec name, bad --set, bad --input)."""


class BudgetError(SpecError):
    """A resource budget was exceeded: evaluation steps of spec expansion, time or memory of symbolic work."""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""
