"""Claim files → validated claims: keys, readings and their justifications, tables, computations.

Everything that can be checked without computing is checked here, so a malformed claim is reported
with its file and line before anything runs.
"""
from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import num
from ..errors import SpecError, UsageError, printable
from ..yamlio import Document, load_text, read_file
from .model import (
    KINDS,
    Claim,
    ClaimFile,
    Justification,
    OutOfScope,
    Table,
    cited_lines,
)
from .stated import MAX_SIG, ROUNDINGS, UNITS, Reading, parse_stated

MAX_FILE_BYTES = 2_000_000
MAX_CLAIMS = 5_000
FILE_KEYS = {"archcalc_claims", "source", "title", "claims", "pending", "tables", "out_of_scope"}
READING_KEYS = {"rounding", "binary", "unit", "sig"}
CLAIM_KEYS = {"id", "where", "statement", "stated", "reads_as", "compute", "kind", "correct", "why", "note", "layout",
              "pending", "justification"} | READING_KEYS
CELL_KEYS = CLAIM_KEYS - {"binary", "unit"}
TABLE_KEYS = {"id", "where", "statement", "justification", "compute", "candidates", "cells", "layout"} | READING_KEYS
TEXT_KEYS = {"id", "where", "statement", "stated", "kind", "correct", "why", "note", "pending"}
METRICS = ("input", "params", "trainable", "weights", "macs", "flops", "activations", "output", "channels", "size", "rf", "depth",
           "count", "exact")
COMPUTE_KINDS = ("spec", "conv", "expr", "forward")
SPEC_KEYS = {"spec", "vars", "input", "layer", "scope", "kinds", "metric", "convention"}
CONV_KEYS = {"n", "f", "s", "p", "d", "groups", "c_in", "c_out", "bias", "transposed", "output_padding", "round"}
FORWARD_OPS = ("conv2d", "max_pool2d", "avg_pool2d")
FORWARD_KEYS = {"op", "x", "w", "b", "stride", "padding", "dilation", "kernel", "ceil_mode", "at"}
MAX_SIZE = 1_000_000           # a one-layer computation's sizes and channels
MAX_FORWARD_SIDE = 64          # a worked forward example's matrices (the slides' are at most 8×8)
MAX_FORWARD_PAD = 16


def load(path: str | Path, display: str | None = None) -> ClaimFile:
    p = Path(path)
    shown = display or str(path)
    try:   # the one file reader: regular files only (a FIFO or a device is refused unopened), size-capped
        text = read_file(p, shown, "a YAML claim file")
    except FileNotFoundError:
        raise UsageError(f"no such claim file: {printable(str(path), one_line=True)}") from None
    return parse(load_text(text, shown), shown)


def _fail(doc: Document, path: tuple[Any, ...], message: str) -> SpecError:
    return SpecError(message, doc.where(path))


def _keys(doc: Document, path: tuple[Any, ...], raw: dict[str, Any], allowed: set[str], what: str) -> None:
    for key in raw:
        if key not in allowed:
            raise _fail(doc, path + (key,), f"unknown key `{_name(key)}` in {what} (known: {', '.join(sorted(allowed))})")


def parse(doc: Document, display: str) -> ClaimFile:
    data = doc.data
    if not isinstance(data, dict):
        raise _fail(doc, (), "a claim file is a mapping with `source` and `claims` (or `tables`)")
    _keys(doc, (), data, FILE_KEYS, "a claim file")
    version = data.get("archcalc_claims", 1)
    if isinstance(version, bool) or version != 1:
        raise _fail(doc, ("archcalc_claims",), "unsupported claim format version (this archcalc reads version 1)")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(doc, ("source",), "`source` (the file name of the document the claims come from) is required")
    title = data.get("title", "")
    if not isinstance(title, str):
        raise _fail(doc, ("title",), "`title` is text")
    claims: list[Claim] = []
    for section in ("claims", "pending"):
        for i, item in enumerate(_list(doc, (section,), data.get(section, []), "claims")):
            claims.append(_claim(doc, (section, i), item, section == "pending", None))
    tables: list[Table] = []
    for i, item in enumerate(_list(doc, ("tables",), data.get("tables", []), "tables")):
        table, cells = _table(doc, ("tables", i), item)
        tables.append(table)
        claims += cells
    scope = [_scope(doc, ("out_of_scope", i), item)
             for i, item in enumerate(_list(doc, ("out_of_scope",), data.get("out_of_scope", []), "entries"))]
    if not claims:
        raise _fail(doc, ("claims",), "the file has no claims")
    if len(claims) > MAX_CLAIMS:
        raise _fail(doc, ("claims",), f"too many claims ({len(claims)}; at most {MAX_CLAIMS} in one file)")
    seen: dict[str, Claim] = {}
    for c in claims:
        if c.id in seen:
            raise SpecError(f"duplicate claim id `{c.id}` (first at line {seen[c.id].place.line})", c.place)
        seen[c.id] = c
    seen_tables: set[str] = set()
    for t in tables:
        if t.id in seen_tables or t.id in seen:
            raise SpecError(f"duplicate id `{t.id}`", t.place)
        seen_tables.add(t.id)
    return ClaimFile(display, source, title, tuple(claims), tuple(tables), tuple(scope))


def _list(doc: Document, path: tuple[Any, ...], items: Any, what: str) -> list[Any]:
    if not isinstance(items, list):
        raise _fail(doc, path, f"`{path[-1]}` must be a list of {what}")
    return items


def _text(doc: Document, path: tuple[Any, ...], raw: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    v = raw.get(key)
    if v is None:
        if required:
            raise _fail(doc, path, f"missing key `{key}`")
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int, Fraction)):
        raise _fail(doc, path + (key,), f"`{key}` must be text")
    text = num.fmt(v) if isinstance(v, Fraction) else str(v)
    if len(text) > 4000:
        raise _fail(doc, path + (key,), f"`{key}` is too long (at most 4000 characters)")
    return text


def _reading(doc: Document, path: tuple[Any, ...], raw: Mapping[str, Any], base: Reading) -> Reading:
    rounding = raw.get("rounding", base.rounding)
    if rounding not in ROUNDINGS:
        raise _fail(doc, path + ("rounding",), f"`rounding` is one of {', '.join(ROUNDINGS)}, got {rounding!r}")
    sig = raw.get("sig", base.sig)
    if sig is not None and (not isinstance(sig, int) or isinstance(sig, bool) or not 1 <= sig <= MAX_SIG):
        raise _fail(doc, path + ("sig",), f"`sig` (significant digits) is a whole number from 1 to {MAX_SIG}")
    binary = raw.get("binary", base.binary)
    if not isinstance(binary, bool):
        raise _fail(doc, path + ("binary",), "`binary` is true or false")
    unit = raw.get("unit", base.unit)
    if unit is not None:
        unit = str(unit)
        if unit not in UNITS:
            raise _fail(doc, path + ("unit",), f"`unit` is one of {', '.join(UNITS)}, got {unit!r}")
    return Reading(rounding, binary, unit, sig)


def _justification(doc: Document, path: tuple[Any, ...], raw: Mapping[str, Any]) -> Justification | None:
    quote = _text(doc, path, raw, "justification")
    if quote is None:
        return None
    if len(quote.strip()) < 3:
        raise _fail(doc, path + ("justification",), "`justification` quotes the document (at least a few words)")
    return Justification(quote.strip(), doc.where(path + ("justification",)))


def _convention(compute: Mapping[str, Any] | None, depth: int = 0) -> str | None:
    """A non-default counting convention anywhere in a computation (an `expr`'s vars included)."""
    if not isinstance(compute, dict) or depth > 8:
        return None
    c = compute.get("convention")
    if c not in (None, "paper"):
        return str(c)
    inner = compute.get("vars") if "expr" in compute else None
    if isinstance(inner, dict):
        for v in inner.values():
            found = _convention(v, depth + 1)
            if found:
                return found
    return None


def _claim(doc: Document, path: tuple[Any, ...], raw: Any, pending: bool, table: Table | None) -> Claim:
    what = "a table cell" if table else "a claim"
    if not isinstance(raw, dict):
        raise _fail(doc, path, f"{what} is a mapping with id, where, statement, stated and compute")
    kind = raw.get("kind")
    if kind is not None and kind not in KINDS:
        raise _fail(doc, path + ("kind",), f"`kind` is one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "text":
        return _text_claim(doc, path, raw, pending, table)
    _keys(doc, path, raw, CELL_KEYS if table else CLAIM_KEYS, what)
    texts = {k: _text(doc, path, raw, k, required=k in ("id", "where", "stated") or (k == "statement" and not table))
             for k in ("id", "where", "statement", "stated", "reads_as", "correct", "why", "note")}
    where = texts["where"] or ""
    lines = cited_lines(where)
    if not lines:
        raise _fail(doc, path + ("where",), "`where` must cite the document's line(s), e.g. \"Table 1, L66-75\"")
    if table is not None:
        inside = [any(a <= lo and hi <= b for a, b in table.lines) for lo, hi in lines]
        if not all(inside):
            raise _fail(doc, path + ("where",), f"this cell cites {where!r}, outside its table `{table.id}` "
                                                f"({table.where})")
    if (texts["correct"] is None) != (texts["why"] is None):
        raise _fail(doc, path + ("correct" if texts["correct"] is None else "why",),
                    "a recorded mistake needs both `correct` (the right value) and `why` (one line)")
    base = table.reading if table else Reading()
    reading = _reading(doc, path, raw, base)
    justification = _justification(doc, path, raw)
    compute_raw = raw.get("compute")
    if table is not None and (compute_raw is None or isinstance(compute_raw, dict)):
        compute_raw = inherit(table.compute, compute_raw or {})
    if compute_raw is None:
        raise _fail(doc, path, "missing key `compute`")
    departures = [k for k in ("rounding", "sig", "binary", "unit") if k in raw and getattr(reading, k) != getattr(Reading(), k)]
    if texts["reads_as"] is not None:
        departures.append("reads_as")
    if "compute" in raw and _convention(raw.get("compute")) and _convention(raw["compute"]) != _convention(
            table.compute if table else None):
        departures.append("convention")
    if departures and justification is None:
        key = departures[0]
        raise _fail(doc, path + (key if key in raw else "compute",),
                    f"`{key}` departs from the one reading rule (nearest, to the last printed digit, paper counting); "
                    f"add `justification:` quoting the words of the document that call for it")
    layout = raw.get("layout", "hwc")
    if layout not in ("hwc", "chw"):
        raise _fail(doc, path + ("layout",), f"`layout` is hwc or chw, got {layout!r}")
    if "pending" in raw and not isinstance(raw["pending"], bool):
        raise _fail(doc, path + ("pending",), "`pending` is true or false")
    claim = Claim(id=texts["id"] or "", where=where, statement=texts["statement"] or (table.statement if table else ""),
                  stated=texts["stated"] or "", kind=kind or "number", compute=compute_raw, reading=reading,
                  justification=justification or (table.justification if table else None), reads_as=texts["reads_as"],
                  correct=texts["correct"], why=texts["why"], note=texts["note"], layout=layout,
                  pending=pending or bool(raw.get("pending", False)), table=table, place=doc.where(path))
    try:
        stated = stated_of(claim)
    except ValueError as e:
        hint = "; give `reads_as` (with a justification) when the value is written in words" \
            if str(e).startswith("cannot read") else ""
        raise _fail(doc, path + ("reads_as" if claim.reads_as else "stated",), f"{e}{hint}") from None
    if kind is None:
        printed = (claim.reads_as if claim.reads_as is not None else claim.stated).lstrip()
        claim = _with_kind(claim, "matrix" if stated.kind == "array" else "shape" if stated.kind == "shape" else
                           "formula" if printed.startswith("=") else "number")
    check_compute(doc, path + ("compute",), compute_raw, depth=0)
    return claim


def inherit(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """A cell's computation with its table's: the cell's keys win; when the cell names another kind of
    computation (an `expr` in a column of `spec` metrics), only the table keys that kind accepts are kept."""
    mine = [k for k in COMPUTE_KINDS if k in own]
    theirs = [k for k in COMPUTE_KINDS if k in base]
    if not mine or mine == theirs:
        return {**base, **own}
    allowed = {"spec": SPEC_KEYS, "conv": {"conv", "metric"}, "expr": {"expr", "vars"}, "forward": {"forward"}}
    keep = allowed.get(mine[0], set())
    return {**{k: v for k, v in base.items() if k in keep and k not in theirs}, **own}


def _with_kind(claim: Claim, kind: str) -> Claim:
    from ..record import replace

    return replace(claim, kind=kind)


def stated_of(claim: Claim) -> Any:
    return parse_stated(claim.reads_as if claim.reads_as is not None else claim.stated, claim.reading)


def _text_claim(doc: Document, path: tuple[Any, ...], raw: dict[str, Any], pending: bool, table: Table | None) -> Claim:
    _keys(doc, path, raw, TEXT_KEYS, "a text claim")
    texts = {k: _text(doc, path, raw, k, required=k in ("id", "where", "statement", "stated", "correct", "why"))
             for k in ("id", "where", "statement", "stated", "correct", "why", "note")}
    if not cited_lines(texts["where"] or ""):
        raise _fail(doc, path + ("where",), "`where` must cite the document's line(s), e.g. \"L84\"")
    return Claim(id=texts["id"] or "", where=texts["where"] or "", statement=texts["statement"] or "",
                 stated=texts["stated"] or "", kind="text", compute=None, correct=texts["correct"], why=texts["why"],
                 note=texts["note"], pending=pending, table=table, place=doc.where(path))


def _table(doc: Document, path: tuple[Any, ...], raw: Any) -> tuple[Table, list[Claim]]:
    if not isinstance(raw, dict):
        raise _fail(doc, path, "a table is a mapping with id, where, compute and cells")
    _keys(doc, path, raw, TABLE_KEYS, "a table")
    tid = _text(doc, path, raw, "id", required=True) or ""
    where = _text(doc, path, raw, "where", required=True) or ""
    lines = cited_lines(where)
    if not lines:
        raise _fail(doc, path + ("where",), "a table's `where` must cite its lines, e.g. \"Table 8, L600-620\"")
    reading = _reading(doc, path, raw, Reading())
    justification = _justification(doc, path, raw)
    compute = raw.get("compute", {})
    if not isinstance(compute, dict):
        raise _fail(doc, path + ("compute",), "a table's `compute` is a mapping its cells inherit")
    if (reading.departures() or _convention(compute)) and justification is None:
        raise _fail(doc, path, "this table declares " + ", ".join(reading.departures() + (
            [f"convention {_convention(compute)}"] if _convention(compute) else [])) +
            "; add `justification:` quoting the document (a column header, a caption)")
    cands = raw.get("candidates", {})
    if not isinstance(cands, dict) or any(not isinstance(v, dict) for v in cands.values()):
        raise _fail(doc, path + ("candidates",), "`candidates` maps a counting rule's name to the compute keys it sets")
    if len(cands) == 1:
        raise _fail(doc, path + ("candidates",), "`candidates` lists at least two counting rules the document leaves open")
    statement = _text(doc, path, raw, "statement") or where
    table = Table(tid, where, statement, lines, reading, justification, compute, {str(k): v for k, v in cands.items()},
                  doc.where(path))
    if "layout" in raw and raw["layout"] not in ("hwc", "chw"):
        raise _fail(doc, path + ("layout",), "`layout` is hwc or chw")
    cells = []
    for i, item in enumerate(_list(doc, path + ("cells",), raw.get("cells", []), "cells")):
        if isinstance(item, dict) and "layout" in raw and "layout" not in item:
            item = {**item, "layout": raw["layout"]}
        cell = _claim(doc, path + ("cells", i), item, False, table)
        for name, over in table.candidates.items():
            check_compute(doc, path + ("candidates", name), {**(cell.compute or {}), **over}, depth=0)
        cells.append(cell)
    if not cells:
        raise _fail(doc, path + ("cells",), "a table needs at least one cell")
    return table, cells


def _scope(doc: Document, path: tuple[Any, ...], raw: Any) -> OutOfScope:
    if not isinstance(raw, dict):
        raise _fail(doc, path, "an out_of_scope entry is {lines: \"L12-14\", reason: \"...\"}")
    _keys(doc, path, raw, {"lines", "reason"}, "an out_of_scope entry")
    lines = cited_lines(_text(doc, path, raw, "lines", required=True) or "")
    if not lines:
        raise _fail(doc, path + ("lines",), "`lines` cites the document's lines, e.g. \"L12-14\"")
    return OutOfScope(lines, _text(doc, path, raw, "reason", required=True) or "", doc.where(path))


# ---------------------------------------------------------------- static checks of computations
def _whole(doc: Document, path: tuple[Any, ...], v: Any, what: str, low: int, high: int = MAX_SIZE) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise _fail(doc, path, f"{what} is a whole number from {low} to {high:,}, got {_show(v)}")


def _name(key: Any) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def check_compute(doc: Document, path: tuple[Any, ...], c: Any, depth: int) -> None:
    """Static checks, so a malformed claim is reported with its line before anything runs."""
    if depth > 8:
        raise _fail(doc, path, "computations nest deeper than 8 levels")
    if not isinstance(c, dict):
        raise _fail(doc, path, f"`compute` is a mapping with one of {', '.join(COMPUTE_KINDS)}")
    kinds = [k for k in COMPUTE_KINDS if k in c]
    if len(kinds) != 1:
        raise _fail(doc, path, f"`compute` needs exactly one of {', '.join(COMPUTE_KINDS)}")
    kind = kinds[0]
    allowed = {"spec": SPEC_KEYS, "conv": {"conv", "metric"}, "expr": {"expr", "vars"}, "forward": {"forward"}}[kind]
    for key in c:
        if key not in allowed:
            raise _fail(doc, path + (key,), f"unknown key `{_name(key)}` for a `{kind}` computation "
                                            f"(known: {', '.join(sorted(allowed))})")
    if kind in ("spec", "conv") and c.get("metric") not in METRICS:
        raise _fail(doc, path + ("metric",), f"`metric` is one of {', '.join(METRICS)}, got {_show(c.get('metric'))}")
    if kind == "spec":
        _check_spec(doc, path, c)
    elif kind == "conv":
        _check_conv(doc, path + ("conv",), c["conv"])
    elif kind == "expr":
        _check_expr(doc, path, c, depth)
    else:
        _check_forward(doc, path + ("forward",), c["forward"])


def _check_spec(doc: Document, path: tuple[Any, ...], c: dict[str, Any]) -> None:
    if not isinstance(c["spec"], str) or not c["spec"].strip():
        raise _fail(doc, path + ("spec",), "`spec` is a built-in name or a path")
    for key in ("layer", "scope", "convention"):
        if key in c and not isinstance(c[key], str):
            raise _fail(doc, path + (key,), f"`{key}` is a name")
    if "kinds" in c and (not isinstance(c["kinds"], list) or not all(isinstance(k, str) for k in c["kinds"])):
        raise _fail(doc, path + ("kinds",), "`kinds` is a list of op names")
    if "input" in c:
        inp = c["input"]
        if not isinstance(inp, list) or len(inp) != 3:
            raise _fail(doc, path + ("input",), "`input` is [C, H, W]")
        for i, v in enumerate(inp):
            _whole(doc, path + ("input", i), v, "an input size", 1, 100_000)
    vars_ = c.get("vars", {})
    if not isinstance(vars_, dict):
        raise _fail(doc, path + ("vars",), "`vars` maps the spec's variable names to values")
    for name, v in vars_.items():
        if not isinstance(name, str) or not (isinstance(v, (str, bool)) or num.is_exact(v)):
            raise _fail(doc, path + ("vars", name), "a spec variable's value is a number or a choice")
        if num.is_exact(v) and not isinstance(v, bool) and abs(v) > 10**6:
            raise _fail(doc, path + ("vars", name), f"`vars.{name}` is out of range (at most 10^6 in size)")


def _check_conv(doc: Document, path: tuple[Any, ...], a: Any) -> None:
    if not isinstance(a, dict) or not {"n", "f"} <= set(a):
        raise _fail(doc, path, "`conv` needs at least n and f")
    for key in a:
        if key not in CONV_KEYS:
            raise _fail(doc, path + (key,), f"unknown conv argument `{_name(key)}` (known: {', '.join(sorted(CONV_KEYS))})")
    for key, low in (("n", 1), ("f", 1), ("s", 1), ("d", 1), ("groups", 1), ("c_in", 1), ("c_out", 1),
                     ("output_padding", 0)):
        if key in a:
            _whole(doc, path + (key,), a[key], f"conv `{key}`", low)
    if "p" in a and a["p"] != "same":
        _whole(doc, path + ("p",), a["p"], "conv `p` (or \"same\")", 0)
    for key in ("bias", "transposed"):
        if key in a and not isinstance(a[key], bool):
            raise _fail(doc, path + (key,), f"conv `{key}` is true or false")
    if a.get("round", "exact") not in ("exact", "floor", "ceil"):
        raise _fail(doc, path + ("round",), "conv `round` is exact, floor or ceil")


def _check_expr(doc: Document, path: tuple[Any, ...], c: dict[str, Any], depth: int) -> None:
    from ..expr import compile_expr, parse_constant

    if not isinstance(c["expr"], str):
        raise _fail(doc, path + ("expr",), "`expr` is an expression in quotes")
    compile_expr(c["expr"], doc.where(path + ("expr",)))
    vars_ = c.get("vars") or {}
    if not isinstance(vars_, dict):
        raise _fail(doc, path + ("vars",), "`vars` maps names to numbers or computations")
    for name, v in vars_.items():
        if isinstance(v, dict):
            check_compute(doc, path + ("vars", name), v, depth + 1)
        elif isinstance(v, str):
            parse_constant(v, doc.where(path + ("vars", name)))
        elif isinstance(v, bool) or not num.is_exact(v):
            raise _fail(doc, path + ("vars", name),
                        f"`{name}` must be a number, a constant such as \"6/7\", or a computation")


def _matrix(doc: Document, path: tuple[Any, ...], v: Any, what: str) -> tuple[int, int]:
    if not isinstance(v, list) or not v or not all(isinstance(r, list) and r for r in v):
        raise _fail(doc, path, f"`{what}` is a matrix: a list of rows, each a list of numbers")
    width = len(v[0])
    if len(v) > MAX_FORWARD_SIDE or width > MAX_FORWARD_SIDE:
        raise _fail(doc, path, f"`{what}` is larger than {MAX_FORWARD_SIDE}×{MAX_FORWARD_SIDE}")
    for i, row in enumerate(v):
        if len(row) != width:
            raise _fail(doc, path + (i,), f"`{what}` is ragged: row {i} has {len(row)} numbers, row 0 has {width}")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not num.is_exact(x) or abs(x) > 10**9:
                raise _fail(doc, path + (i, j), f"`{what}` holds numbers of at most 10^9 in size, got {_show(x)}")
    return len(v), width


def _check_forward(doc: Document, path: tuple[Any, ...], f: Any) -> None:
    if not isinstance(f, dict) or f.get("op") not in FORWARD_OPS or "x" not in f:
        raise _fail(doc, path, f"`forward` needs op ({', '.join(FORWARD_OPS)}) and x")
    for key in f:
        if key not in FORWARD_KEYS:
            raise _fail(doc, path + (key,),
                        f"unknown forward argument `{_name(key)}` (known: {', '.join(sorted(FORWARD_KEYS))})")
    h, w = _matrix(doc, path + ("x",), f["x"], "x")
    if f["op"] == "conv2d":
        if "w" not in f:
            raise _fail(doc, path, "a conv2d example needs the kernel `w`")
        kh, kw = _matrix(doc, path + ("w",), f["w"], "w")
    else:
        if "kernel" not in f:
            raise _fail(doc, path, f"a {f['op']} example needs `kernel`")
        _whole(doc, path + ("kernel",), f["kernel"], "`kernel`", 1, MAX_FORWARD_SIDE)
        kh = kw = f["kernel"]
    unused = ("kernel",) if f["op"] == "conv2d" else ("w", "b", "dilation")
    for key in unused:
        if key in f:
            raise _fail(doc, path + (key,), f"`{key}` does not apply to {f['op']}")
    for key in ("stride", "dilation"):
        if key in f and (f[key] is not None or f["op"] == "conv2d"):
            _whole(doc, path + (key,), f[key], f"`{key}`", 1, MAX_FORWARD_SIDE)
    pad = f.get("padding", 0)
    pads = pad if isinstance(pad, list) else [pad]
    if len(pads) not in (1, 2, 4):
        raise _fail(doc, path + ("padding",), "`padding` is a number, [rows, columns] or [top, bottom, left, right]")
    for i, p in enumerate(pads):
        _whole(doc, path + ("padding",) + ((i,) if isinstance(pad, list) else ()), p, "`padding`", 0, MAX_FORWARD_PAD)
    d = f.get("dilation", 1) or 1
    rows_pad, cols_pad = (2 * pads[0], 2 * pads[0]) if len(pads) == 1 else (2 * pads[0], 2 * pads[1]) \
        if len(pads) == 2 else (pads[0] + pads[1], pads[2] + pads[3])
    if (kh - 1) * d + 1 > h + rows_pad or (kw - 1) * d + 1 > w + cols_pad:
        raise _fail(doc, path, f"the kernel ({kh}×{kw}) is larger than the padded input ({h + rows_pad}×{w + cols_pad})")
    if "b" in f and (isinstance(f["b"], bool) or not num.is_exact(f["b"]) or abs(f["b"]) > 10**9):
        raise _fail(doc, path + ("b",), "`b` (the bias) is a number of at most 10^9 in size")
    if "ceil_mode" in f and not isinstance(f["ceil_mode"], bool):
        raise _fail(doc, path + ("ceil_mode",), "`ceil_mode` is true or false")
    at = f.get("at", [])
    if not isinstance(at, list) or len(at) > 2 or not all(isinstance(i, int) and not isinstance(i, bool) for i in at):
        raise _fail(doc, path + ("at",), "`at` is [row] or [row, column] of the output")
