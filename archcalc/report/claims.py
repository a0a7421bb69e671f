"""check: the verdict of every claim, one claim's derivation, and a document's coverage."""
from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain_text(text: str) -> str:
    """Claim-file text as printable text: control characters and direction overrides become `?`."""
    return _CONTROL.sub("?", str(text))

STYLES = {"match": "green", "within rounding": "green", "expected mismatch": "yellow", "undecidable": "cyan",
          "pending": "dim", "mismatch": "bold red"}


def claims_json(report: Any) -> list[dict[str, Any]]:
    return [r.as_dict() for r in report.results]


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def claims_summary(report: Any) -> str:
    c = report.counts()
    mistakes = c["expected mismatch"] + c["mismatch"]
    text = (f"{_n(len(report.results), 'claim')}: {c['match']} match, {c['within rounding']} within rounding, "
            f"{_n(mistakes, 'mistake')} in the documents ({_n(c['corrections checked'], 'correction')} confirmed by "
            f"the computation, {c['text']} in words or symbols), {c['undecidable']} undecidable")
    if c["pending"]:
        text += f", {c['pending']} pending (spec missing)"
    tail = ("every verdict agrees with the claim files' record" if not c["surprises"] else
            f"{_n(c['surprises'], 'surprise')} (verdicts the claim files do not record)")
    return f"{text}; {tail}"


def claims_table(report: Any, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    for f in report.files:
        rows = [r for r in report.results if r.file == f.path]
        table = Table(title=plain_text(f"{f.path} — {f.title or f.source}"), title_justify="left", show_lines=False)
        for name, kw in (("Claim", {}), ("Statement", {"ratio": 3}), ("Stated", {"justify": "right"}),
                         ("Computed", {"justify": "right"}), ("Verdict", {})):
            table.add_column(name, overflow="fold", **kw)
        for r in rows:
            verdict = r.verdict + (" — SURPRISE" if r.surprise else "")
            style = "bold red" if r.surprise else STYLES.get(r.verdict, "")
            note = ""
            if r.reading != "nearest":
                note += f"\nreading: {r.reading}"
            if r.claim.correct is not None:
                note += f"\ncorrect: {r.claim.correct}; {r.claim.why}"
            if r.candidates and r.verdict == "undecidable":
                note += "\n" + "; ".join(f"{k}: {v}" for k, v in r.candidates.items())
            if r.detail and (r.surprise or r.verdict == "pending"):
                note += f"\n{r.detail}"
            cell = Text(verdict, style=style)
            cell.append(plain_text(note))
            table.add_row(Text(plain_text(r.claim.id)), Text(plain_text(r.claim.statement)),
                          Text(plain_text(r.claim.stated)), Text(plain_text(r.computed_text)), cell)
        console.print(table)
    console.print(Text(claims_summary(report)))


def _compute_lines(compute: Any, indent: str = "  ") -> list[str]:
    if not isinstance(compute, dict):
        return []
    if "conv" in compute:
        from ..claims.compute import one_layer

        args = compute["conv"]
        head = ", ".join(f"{k}={v}" for k, v in args.items())
        out = [f"{indent}one convolution ({head}), metric {compute.get('metric')}"]
        from ..errors import ArchcalcError

        try:
            out += [indent + "  " + line for line in one_layer(args).lines()]
        except ArchcalcError as e:
            out.append(f"{indent}  ({getattr(e, 'message', e)})")
        return out
    if "spec" in compute:
        what = [f"spec {compute['spec']}"]
        for key in ("input", "vars", "layer", "scope", "kinds", "convention"):
            if compute.get(key) not in (None, {}, []):
                what.append(f"{key} {compute[key]}")
        return [f"{indent}{', '.join(what)}; metric {compute.get('metric')}"]
    if "expr" in compute:
        out = [f"{indent}expression {compute['expr']}"]
        for name, v in (compute.get("vars") or {}).items():
            if isinstance(v, dict):
                out.append(f"{indent}  {name} =")
                out += _compute_lines(v, indent + "    ")
            else:
                out.append(f"{indent}  {name} = {v}")
        return out
    f = compute.get("forward", {})
    return [f"{indent}forward pass {f.get('op')} on x = {f.get('x')}"] + (
        [f"{indent}  kernel w = {f['w']}"] if "w" in f else []) + [
        f"{indent}  {k} = {f[k]}" for k in ("kernel", "stride", "padding", "dilation", "ceil_mode", "at") if k in f]


def explain_text(result: Any) -> str:
    c = result.claim
    out = [f"{c.id}  ({result.file}, line {c.place.line})", f"document: {result.source}",
           f"statement: {c.statement}", f"stated: {c.stated}" + (f"  (reads as {c.reads_as})" if c.reads_as else ""),
           f"kind: {c.kind}"]
    if c.table is not None:
        out.append(f"table: {c.table.id} ({c.table.where}); its cells inherit its unit, K and what it counts")
    out.append(f"reading: {result.reading}")
    if c.justification is not None and result.reading != "nearest":
        out.append(f"justification (quoted from the document): \"{c.justification.quote}\"")
    if c.kind == "text":
        out.append("computed: nothing (a statement wrong in words or symbols)")
    else:
        out.append("computed:")
        out += _compute_lines(c.compute)
        if c.table is not None and c.table.candidates:
            out.append("  counting rules the document leaves open:")
            out += [f"    {name}: {value}" for name, value in result.candidates.items()]
        out.append(f"  = {result.computed_text}")
    out.append(f"verdict: {result.verdict}" + (" — SURPRISE" if result.surprise else ""))
    if result.rule:
        out.append(f"counting rule applied: {result.rule}")
    if c.correct is not None:
        out.append(f"correct: {c.correct}" + (" (confirmed by the computation)" if result.correct_checked else ""))
        out.append(f"why: {c.why}")
    if result.detail:
        out.append(f"detail: {result.detail}")
    if c.note:
        out.append(f"note: {c.note}")
    return "\n".join(plain_text(line) for line in out)


def coverage_json(covs: list[Any]) -> list[dict[str, Any]]:
    return [{"document": cv.document, "claim_files": list(cv.files), "counts": cv.counts(),
             "lines": [{"line": ln.number, "status": ln.status, "claims": list(ln.claims),
                        **({"reason": ln.out_of_scope} if ln.out_of_scope and not ln.claims else {}),
                        "text": ln.text[:200]} for ln in cv.lines]} for cv in covs]


def coverage_text(covs: list[Any], show_all: bool = True) -> str:
    out = []
    for cv in covs:
        n = cv.counts()
        out.append(f"{cv.document}: {n['lines with numbers']} lines with numbers, {n['covered']} covered by claims, "
                   + (f"{n['pending']} cited only by claims waiting for a spec, " if n["pending"] else "")
                   + f"{n['out of scope']} out of scope, {n['uncovered']} uncovered"
                   + (f" (claim files: {', '.join(cv.files)})" if cv.files else " (no claim file names it as source)"))
        for ln in cv.lines:
            if ln.status == "uncovered":
                out.append(f"  L{ln.number} UNCOVERED: {_excerpt(ln.text)}")
            elif ln.status == "pending":
                out.append(f"  L{ln.number} PENDING ({', '.join(ln.claims)}: spec missing): {_excerpt(ln.text)}")
            elif ln.status == "out of scope":
                out.append(f"  L{ln.number} out of scope ({ln.out_of_scope}): {_excerpt(ln.text)}")
            elif show_all:
                out.append(f"  L{ln.number} {', '.join(ln.claims)}: {_excerpt(ln.text)}")
    return "\n".join(plain_text(line) for line in out)


def _excerpt(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."
