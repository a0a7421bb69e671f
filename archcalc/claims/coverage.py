"""Which lines of a document hold numbers, and which claims (or out-of-scope notes) cover each."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import SpecError, UsageError, Where
from ..record import record
from .model import ClaimFile

_URL = re.compile(r"!\[[^\]]*\]\([^)]*\)|<?https?://[^\s>)]+>?")
_DIGIT = re.compile(r"\d")
MAX_DOCUMENT_BYTES = 4_000_000


@record
class Line:
    number: int
    text: str
    claims: tuple[str, ...]
    out_of_scope: str | None

    pending: bool = False          # every claim citing it waits for a spec that is not built in

    @property
    def status(self) -> str:
        if self.claims:
            return "pending" if self.pending else "covered"
        return "out of scope" if self.out_of_scope else "uncovered"


@record
class Coverage:
    document: str
    files: tuple[str, ...]
    lines: tuple[Line, ...]

    def counts(self) -> dict[str, int]:
        out = {"lines with numbers": len(self.lines), "covered": 0, "pending": 0, "out of scope": 0, "uncovered": 0}
        for line in self.lines:
            out[line.status] += 1
        return out


def has_number(text: str) -> bool:
    return bool(_DIGIT.search(_URL.sub(" ", text)))


def read_document(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such document: {path}")
    if not p.is_file():
        raise SpecError("this is not a regular file; expected a text document", Where(path))
    with p.open("rb") as f:
        data = f.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SpecError(f"the document is too large (over {MAX_DOCUMENT_BYTES} bytes)", Where(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"this is not UTF-8 text (byte {e.start})", Where(path)) from None


def coverage(document: str, text: str, files: list[ClaimFile]) -> Coverage:
    """Coverage of one document by the claim files whose `source` names it."""
    name = Path(document).name
    mine = [f for f in files if Path(f.source).name == name]
    cites: dict[int, list[str]] = {}
    waiting: set[str] = set()
    scope: dict[int, str] = {}
    for f in mine:
        for c in f.claims:
            if c.pending and _spec_missing(c.compute):
                waiting.add(c.id)
            for lo, hi in c.lines:
                for n in range(lo, min(hi, lo + 400) + 1):
                    cites.setdefault(n, []).append(c.id)
        for s in f.out_of_scope:
            for lo, hi in s.lines:
                for n in range(lo, min(hi, lo + 400) + 1):
                    scope.setdefault(n, s.reason)
    lines = []
    for i, line in enumerate(text.splitlines(), start=1):
        if has_number(line):
            ids = tuple(dict.fromkeys(cites.get(i, [])))
            lines.append(Line(i, line.strip(), ids, scope.get(i), bool(ids) and all(c in waiting for c in ids)))
    return Coverage(document, tuple(f.path for f in mine), tuple(lines))


def _spec_missing(compute: object) -> bool:
    from .. import catalog

    if not isinstance(compute, dict) or "spec" not in compute:
        return False
    try:
        catalog.resolve(compute["spec"])
    except UsageError:
        return True
    return False
