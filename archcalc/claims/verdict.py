"""Verdicts: each claim's computed value against the printed one, under the one reading rule.

A verdict stands on its own: it compares the document with the computation. The claim file's record
of a mistake (`correct`, `why`) is checked too: the correction must agree with the computation (else the
claim file is rejected), and a mismatch the file does not record, or a recorded mistake the computation
does not reproduce, is a surprise (exit 1).
"""
from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import num
from ..errors import ArchcalcError, SpecError
from ..record import field, record
from .compute import Evaluator, SpecMissing
from .load import load, stated_of
from .model import (
    EXPECTED_MISMATCH,
    MATCH,
    MISMATCH,
    PENDING,
    ROUNDING,
    UNDECIDABLE,
    VERDICTS,
    Claim,
    ClaimFile,
    Table,
)
from .stated import Quantity, Reading, Stated, parse_stated

OK = (MATCH, ROUNDING)


@record
class Result:
    file: str
    claim: Claim
    source: str
    computed: Any            # int, Fraction, tuple (shape), nested lists, or None (pending, text)
    computed_text: str
    verdict: str
    surprise: bool
    detail: str = ""
    reading: str = "nearest"
    rule: str | None = None                              # the counting rule applied, in a candidates table
    candidates: Mapping[str, str] = field(default_factory=dict)   # rule → computed value, shown
    correct_checked: bool = False

    @property
    def mistake(self) -> bool:
        return self.verdict in (MISMATCH, EXPECTED_MISMATCH)

    def as_dict(self) -> dict[str, Any]:
        c = self.claim
        out: dict[str, Any] = {"file": self.file, "id": c.id, "source": self.source, "where": c.where,
                               "lines": [list(span) for span in c.lines], "kind": c.kind, "statement": c.statement,
                               "stated": c.stated, "computed": _plain(self.computed),
                               "computed_text": self.computed_text, "reading": self.reading, "verdict": self.verdict,
                               "expected": "mismatch" if c.recorded_mistake else "match", "mistake": self.mistake,
                               "surprise": self.surprise}
        if c.justification is not None and self.reading != "nearest":
            out["justification"] = c.justification.quote
        if c.reads_as is not None:
            out["reads_as"] = c.reads_as
        if c.table is not None:
            out["table"] = c.table.id
        if self.rule:
            out["rule"] = self.rule
        if self.candidates:
            out["candidates"] = dict(self.candidates)
        for key in ("correct", "why", "note"):
            if getattr(c, key):
                out[key] = getattr(c, key)
        if c.correct is not None:
            out["correct_checked"] = self.correct_checked
        if self.detail:
            out["detail"] = self.detail
        return out


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return num.fmt(x)
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


# ---------------------------------------------------------------- comparing
def compare(stated: Stated, computed: Any, claim: Claim) -> tuple[str, str]:
    """(verdict, detail) for one computed value against the stated one."""
    rounding = claim.reading.rounding
    if stated.kind == "number":
        if isinstance(computed, (tuple, list)):
            return MISMATCH, "a shape or list was computed but a number is stated"
        if not num.is_exact(computed):
            return MISMATCH, f"computed {computed!r} is not a number"
        return stated.number.accepts(Fraction(computed), rounding), ""  # type: ignore[union-attr]
    if stated.kind == "shape":
        if isinstance(computed, int):
            computed = (computed,) * len(stated.shape)
        if not isinstance(computed, tuple):
            return MISMATCH, "a shape is stated but a number was computed"
        shown = layout(computed, claim.layout)
        if len(stated.shape) == 2 and len(shown) == 3:
            shown = shown[:2] if claim.layout == "hwc" else shown[1:]
        return (MATCH if tuple(shown) == stated.shape else MISMATCH), ""
    return _compare_array(stated.array, computed, rounding), ""


def _compare_array(stated: Any, computed: Any, rounding: str) -> str:
    if isinstance(stated, Quantity):
        return stated.accepts(Fraction(computed), rounding) if num.is_exact(computed) else MISMATCH
    if not isinstance(computed, list) or len(computed) != len(stated):
        return MISMATCH
    verdicts = [_compare_array(s, c, rounding) for s, c in zip(stated, computed)]
    return MISMATCH if MISMATCH in verdicts else ROUNDING if ROUNDING in verdicts else MATCH


def layout(shape: tuple[Any, ...], order: str) -> tuple[Any, ...]:
    return tuple(shape[1:]) + (shape[0],) if order == "hwc" and len(shape) == 3 else tuple(shape)


def show(value: Any, order: str = "hwc") -> str:
    if isinstance(value, tuple):
        return "×".join(num.fmt(v) for v in layout(value, order))
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Fraction):
        return f"{float(value):.6g} ({value})" if value.denominator < 10**6 else f"{float(value):.6g}"
    return str(value)


# ---------------------------------------------------------------- evaluating
def _describe_reading(claim: Claim, rule: str | None = None) -> str:
    parts = [claim.reading.describe()]
    if claim.reads_as is not None:
        parts.append(f"reads as {claim.reads_as}")
    conv = (claim.compute or {}).get("convention") if isinstance(claim.compute, dict) else None
    if conv and conv != "paper":
        parts.append(f"convention {conv}")
    if rule:
        parts.append(f"counting rule {rule}")
    return "; ".join(parts)


def _compute(ev: Evaluator, claim: Claim, compute: Mapping[str, Any]) -> Any:
    try:
        return ev.compute(compute)
    except SpecMissing:
        raise
    except ArchcalcError as e:
        raise SpecError(f"claim `{claim.id}`: {getattr(e, 'message', e)}", claim.place) from None
    except (ArithmeticError, ValueError, OverflowError, MemoryError, RecursionError) as e:
        raise SpecError(f"claim `{claim.id}`: cannot compute it ({type(e).__name__}: {str(e)[:120]})",
                        claim.place) from None


def _check_correct(claim: Claim, computed: Any, verdict: str) -> bool:
    """A recorded correction that reads as a value must agree with the computation; False when it is prose."""
    if claim.correct is None or claim.kind == "text":
        return False
    try:
        right = parse_stated(claim.correct, Reading(binary=claim.reading.binary, unit=claim.reading.unit))
    except ValueError:
        return False
    got, _ = compare(right, computed, claim)
    if got not in OK:
        raise SpecError(f"claim `{claim.id}`: its `correct` value {claim.correct} is contradicted by the computation "
                        f"({show(computed, claim.layout)})", claim.place)
    return True


def _finish(file: str, source: str, claim: Claim, computed: Any, verdict: str, detail: str, rule: str | None = None,
            candidates: Mapping[str, str] | None = None) -> Result:
    checked = False
    surprise = False
    if verdict == MISMATCH:
        if claim.recorded_mistake:
            checked = _check_correct(claim, computed, verdict)
            verdict = EXPECTED_MISMATCH
        else:
            surprise, detail = True, detail or "a mismatch the claim file does not record (no `correct`/`why`)"
    elif verdict in OK and claim.recorded_mistake:
        checked = _check_correct(claim, computed, verdict)
        surprise, detail = True, "the claim file records a mistake, but the stated value agrees with the computation"
    elif verdict == UNDECIDABLE and claim.recorded_mistake:
        surprise, detail = True, "the claim file records a mistake, but the value is right under some counting rule"
    return Result(file, claim, source, computed, show(computed, claim.layout), verdict, surprise, detail,
                  _describe_reading(claim, rule), rule, dict(candidates or {}), checked)


def evaluate(claim: Claim, file: str, source: str, ev: Evaluator | None = None) -> Result:
    ev = ev or Evaluator()
    if claim.kind == "text":
        return Result(file, claim, source, None, claim.correct or "", EXPECTED_MISMATCH, False,
                      "a statement wrong in words or symbols; correction and reason given by the reader",
                      "text (judged by a reader)")
    assert claim.compute is not None
    try:
        computed = _compute(ev, claim, claim.compute)
    except SpecMissing as e:
        if claim.pending:
            return Result(file, claim, source, None, "—", PENDING, False, f"spec missing: {e}",
                          _describe_reading(claim))
        raise SpecError(f"claim `{claim.id}`: {e} (mark the claim `pending: true` while its spec is being written)",
                        claim.place) from None
    verdict, detail = compare(stated_of(claim), computed, claim)
    return _finish(file, source, claim, computed, verdict, detail)


def evaluate_table(table: Table, cells: list[Claim], file: str, document: str, ev: Evaluator) -> list[Result]:
    """Cells of a table whose column counts by a rule the document leaves open: the rule that fits every cell
    decides; when none fits the whole column, a cell right under some rules only is `undecidable`."""
    def source(cell: Claim) -> str:
        return f"{document}: {cell.where}"

    values: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, dict[str, tuple[str, str]]] = {}
    pending: dict[str, Result] = {}
    for cell in cells:
        values[cell.id], verdicts[cell.id] = {}, {}
        try:
            for name, over in table.candidates.items():
                v = _compute(ev, cell, {**(cell.compute or {}), **over})
                values[cell.id][name] = v
                verdicts[cell.id][name] = compare(stated_of(cell), v, cell)
        except SpecMissing as e:
            if not cell.pending:
                raise SpecError(f"claim `{cell.id}`: {e} (mark the cell `pending: true` while its spec is being "
                                "written)", cell.place) from None
            pending[cell.id] = Result(file, cell, source(cell), None, "—", PENDING, False, f"spec missing: {e}",
                                      _describe_reading(cell))
    live = [c for c in cells if c.id not in pending]
    fits = {n: sum(verdicts[c.id][n][0] in OK for c in live) for n in table.candidates}
    best = max(table.candidates, key=lambda n: fits[n])    # the first of the rules that fit the most cells
    whole = fits[best] == len(live)
    out = []
    for cell in cells:
        if cell.id in pending:
            out.append(pending[cell.id])
            continue
        shown = {n: show(v, cell.layout) for n, v in values[cell.id].items()}
        verdict, detail = verdicts[cell.id][best]
        good = [n for n in table.candidates if verdicts[cell.id][n][0] in OK]
        if verdict in OK:
            note = (f"`{best}` fits every cell of the column" if whole else
                    f"`{best}` fits {fits[best]} of the column's {len(live)} cells, the most of any rule")
            out.append(_finish(file, source(cell), cell, values[cell.id][best], verdict, detail or note, best, shown))
        elif good:
            detail = (f"no single counting rule fits the whole column (`{best}`, which fits the most cells, gives "
                      f"{shown[best]}); right under " + ", ".join(f"`{n}`" for n in good))
            out.append(_finish(file, source(cell), cell, values[cell.id][good[0]], UNDECIDABLE, detail, None, shown))
        else:
            out.append(_finish(file, source(cell), cell, values[cell.id][best], MISMATCH,
                               "wrong under every counting rule: " + "; ".join(f"{n}: {v}" for n, v in shown.items()),
                               best, shown))
    return out


# ---------------------------------------------------------------- whole runs
@record
class Report:
    files: tuple[ClaimFile, ...]
    results: tuple[Result, ...]

    def counts(self) -> dict[str, int]:
        out = {v: 0 for v in VERDICTS}
        out["surprises"] = 0
        out["text"] = 0
        out["corrections checked"] = 0
        for r in self.results:
            out[r.verdict] += 1
            out["surprises"] += r.surprise
            out["text"] += r.claim.kind == "text"
            out["corrections checked"] += r.correct_checked
        return out

    @property
    def ok(self) -> bool:
        return not any(r.surprise for r in self.results)


def builtin_files() -> list[Path]:
    from ..catalog import specs_dir

    return sorted((specs_dir() / "claims").glob("*.yaml"))


def load_files(paths: list[str] | None = None) -> list[ClaimFile]:
    from ..catalog import specs_dir

    if paths:
        files = [load(p) for p in paths]
    else:
        root = specs_dir().parent
        files = [load(p, str(p.relative_to(root)) if p.is_relative_to(root) else str(p)) for p in builtin_files()]
    seen: dict[str, Claim] = {}
    for f in files:
        for c in f.claims:
            if c.id in seen and seen[c.id].place.file != c.place.file:
                first = seen[c.id].place
                raise SpecError(f"claim id `{c.id}` is already used in {first.file}:{first.line}; ids are unique across "
                                "the files checked together (`--explain ID` names one claim)", c.place)
            seen.setdefault(c.id, c)
    return files


def run(files: list[ClaimFile]) -> Report:
    ev = Evaluator()
    results: list[Result] = []
    for f in files:
        by_table: dict[str, list[Claim]] = {}
        for c in f.claims:
            if c.table is not None and c.table.candidates:
                by_table.setdefault(c.table.id, []).append(c)
        done: dict[str, Result] = {}
        for t in f.tables:
            if t.id in by_table:
                for r in evaluate_table(t, by_table[t.id], f.path, f.source, ev):
                    done[r.claim.id] = r
        # claims on the same network and inputs are evaluated together, so the bounded cache serves them all
        for c in sorted((c for c in f.claims if c.id not in done), key=_analysis_key):
            done[c.id] = evaluate(c, f.path, f"{f.source}: {c.where}", ev)
        results += [done[c.id] for c in f.claims]
    return Report(tuple(files), tuple(results))


def _analysis_key(claim: Claim) -> str:
    c = claim.compute if isinstance(claim.compute, dict) else {}
    if "spec" not in c:
        return ""
    return repr((c.get("spec"), sorted((str(k), str(v)) for k, v in (c.get("vars") or {}).items()), c.get("input"),
                 c.get("convention")))


def check(paths: list[str] | None = None, documents: Mapping[str, str] | None = None) -> Report:
    """Load and evaluate claim files (default: the built-in ones); with documents, verify every quote."""
    files = load_files(paths)
    if documents:
        verify_quotes(files, documents)
    return run(files)


def normal_text(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def verify_quotes(files: list[ClaimFile], documents: Mapping[str, str]) -> None:
    """Every justification must quote its document word for word (spacing and case aside)."""
    for f in files:
        text = documents.get(Path(f.source).name)
        if text is None:
            continue
        flat = normal_text(text)
        seen: set[int] = set()
        for j in [c.justification for c in f.claims] + [t.justification for t in f.tables]:
            if j is None or id(j) in seen:
                continue
            seen.add(id(j))
            if normal_text(j.quote) not in flat:
                raise SpecError(f"the justification {j.quote[:60]!r} is not a quote from {f.source}", j.place)


def find(claim_id: str, report: Report) -> Result | None:
    return next((r for r in report.results if r.claim.id == claim_id), None)

