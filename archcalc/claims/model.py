"""Claims, tables of claims and claim files as frozen data."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import Where
from ..record import field, record
from .stated import Reading

MATCH, ROUNDING, MISMATCH, EXPECTED_MISMATCH, UNDECIDABLE, PENDING = (
    "match", "within rounding", "mismatch", "expected mismatch", "undecidable", "pending")
VERDICTS = (MATCH, ROUNDING, EXPECTED_MISMATCH, MISMATCH, UNDECIDABLE, PENDING)
KINDS = ("number", "shape", "matrix", "formula", "text")
_LINES = re.compile(r"\bL(\d{1,6})(?:\s*[-–]\s*L?(\d{1,6}))?")


def cited_lines(where: str) -> tuple[tuple[int, int], ...]:
    """The document lines a `where` cites: "L66-75", "L77 and L96" → ((66, 75), (77, 77), (96, 96))."""
    out = []
    for m in _LINES.finditer(where):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        out.append((min(a, b), max(a, b)))
    return tuple(out)


@record
class Justification:
    """Why a claim departs from the default reading: a quote from the document."""

    quote: str
    place: Where = field(default_factory=Where)


@record
class Table:
    """A table of the document whose cells share facts: the unit, binary K, what the column counts,
    and the counting rules the document leaves open (`candidates`)."""

    id: str
    where: str
    statement: str
    lines: tuple[tuple[int, int], ...]
    reading: Reading
    justification: Justification | None
    compute: Mapping[str, Any]
    candidates: Mapping[str, Mapping[str, Any]]
    place: Where = field(default_factory=Where)


@record
class Claim:
    id: str
    where: str
    statement: str
    stated: str
    kind: str
    compute: Mapping[str, Any] | None
    reading: Reading = field(default_factory=Reading)
    justification: Justification | None = None
    reads_as: str | None = None
    correct: str | None = None
    why: str | None = None
    note: str | None = None
    layout: str = "hwc"
    pending: bool = False
    table: Table | None = None
    place: Where = field(default_factory=Where)

    @property
    def lines(self) -> tuple[tuple[int, int], ...]:
        return cited_lines(self.where)

    @property
    def recorded_mistake(self) -> bool:
        return self.correct is not None


@record
class OutOfScope:
    lines: tuple[tuple[int, int], ...]
    reason: str
    place: Where = field(default_factory=Where)


@record
class ClaimFile:
    path: str
    source: str
    title: str
    claims: tuple[Claim, ...]
    tables: tuple[Table, ...] = ()
    out_of_scope: tuple[OutOfScope, ...] = ()
