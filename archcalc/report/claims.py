"""check: the verdict of every claim, as JSON or a table."""
from __future__ import annotations

from typing import Any


def claims_json(report: Any) -> list[dict[str, Any]]:
    return [r.as_dict() for r in report.results]


def claims_summary(report: Any) -> str:
    c = report.counts()
    text = (f"{len(report.results)} claims: {c['match']} match, {c['within rounding']} within rounding, "
            f"{c['expected mismatch']} expected mismatches, {c['surprises']} surprises")
    return text + (f", {c['pending (spec missing)']} pending (spec missing)" if c["pending (spec missing)"] else "")


def claims_table(report: Any, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    styles = {"match": "green", "within rounding": "green", "expected mismatch": "yellow",
              "pending (spec missing)": "dim"}
    for f in report.files:
        rows = [r for r in report.results if r.file == f.path]
        table = Table(title=f"{f.path} — {f.title or f.source}", title_justify="left", show_lines=False)
        for name, kw in (("Claim", {}), ("Statement", {"ratio": 3}), ("Stated", {"justify": "right"}),
                         ("Computed", {"justify": "right"}), ("Verdict", {})):
            table.add_column(name, overflow="fold", **kw)
        for r in rows:
            verdict = r.verdict + (" — SURPRISE" if r.surprise else "")
            style = "bold red" if r.surprise else styles.get(r.verdict, "")
            note = ""
            if r.verdict == "expected mismatch":
                note = f"\ncorrect: {r.claim.correct}; {r.claim.why}"
            if r.detail and (r.surprise or r.verdict.startswith("pending")):
                note += f"\n{r.detail}"
            cell = Text(verdict, style=style)
            cell.append(note)
            table.add_row(Text(r.claim.id), Text(r.claim.statement), Text(r.claim.stated), Text(r.computed_text), cell)
        console.print(table)
    console.print(claims_summary(report))
