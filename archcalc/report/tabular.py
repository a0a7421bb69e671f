"""summary as a table: rich's, or written by plaintable with rich's layout, or streamed as plain columns
when it is long."""
from __future__ import annotations

from .. import num
from ..analysis import Analysis
from .common import human, print_pairs, shape_str
from .summary import summary_records, symbolic, totals_lines

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

    from .symbolic import Footnotes


LARGE_TABLE = 500     # rows above which the table streams as plain columns instead of a rich table


def summary_table(a: Analysis, console: Any, depth: int | None = None, top: int | None = None) -> None:
    from .symbolic import Footnotes

    notes = Footnotes()     # symbolic forms too long for a cell
    records = summary_records(a, exact=False, depth=depth, top=top, notes=notes)
    if len(records) > LARGE_TABLE:
        _stream_table(a, records, console, depth, top, notes)
        return
    _rich_table(a, records, console, depth, top, notes)


def _footer(a: Analysis, notes: Footnotes) -> Any:
    return (lambda x: human(x) if num.is_exact(x) else notes.cell(x)) if symbolic(a) else human


def _title(a: Analysis) -> str:
    short = a.network.spec.description.split(";")[0]
    return f"{a.name} — {short}" if short else a.name


def _stream_table(a: Analysis, records: list[dict[str, str]], console: Any, depth: int | None,
                  top: int | None, notes: Footnotes) -> None:
    """The same columns as the rich table, written line by line: linear in the rows, no layout pass."""
    t = a.totals
    human = _footer(a, notes)
    show_inputs = any(r["inputs"] for r in records)
    cols = [("layer", "Layer", "Total", "<"), ("op", "Op", "", "<")] + ([("inputs", "From", "", "<")] if show_inputs else []) + [
        ("output", "Output", "", ">"), ("params", "Params", human(t.params), ">"), ("params_pct", "%", "", ">"),
        ("macs", "MACs", human(t.macs), ">"), ("macs_pct", "MACs %", "", ">"), ("macs_bar", "", "", "<"),
        ("activations", "Activations", human(t.activations), ">"), ("activations_bar", "Memory", "", "<"), ("rf", "RF", "", ">")]
    widths = [max([len(head), len(foot)] + [len(r[key]) for r in records]) for key, head, foot, _ in cols]

    template = "  ".join(f"{{:{align}{w}}}" for w, (_, _, _, align) in zip(widths, cols))

    def line(cells: list[str]) -> str:
        return template.format(*cells).rstrip() + "\n"

    write = console.file.write
    write(_title(a) + "\n")
    write(f"{len(records):,} rows, drawn as plain columns (collapse blocks with --depth N, or keep the costliest "
          f"with --top K)\n")
    write(line([head for _, head, _, _ in cols]))
    write("─" * (sum(widths) + 2 * (len(widths) - 1)) + "\n")
    keys = [key for key, _, _, _ in cols]
    for r in records:
        write(line([r[key] for key in keys]))
    write("\n" + line([foot for _, _, foot, _ in cols]))
    write(_caption(a, depth, top) + "\n")
    for note in notes.lines():
        write(note + "\n")
    print_pairs(console, totals_lines(a))


def _caption(a: Analysis, depth: int | None, top: int | None) -> str:
    view = (f" · blocks collapsed below depth {depth}" if depth is not None else "") + \
           (f" · top {top} by MACs" if top is not None else "")
    return (f"input {shape_str(a.network.input)} · convention {a.convention} · batch {a.batch} · {a.dtype}{view} · "
            f"%: share of the network's total; bars: share of MACs and of activation memory")


def _rich_table(a: Analysis, records: list[dict[str, str]], console: Any, depth: int | None, top: int | None,
                notes: Footnotes) -> None:
    if _plain_table(a, records, console, depth, top, notes):
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=_title(a), title_justify="left", caption=_caption(a, depth, top), caption_justify="left", show_footer=True, header_style="bold", footer_style="bold",
                  box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    t = a.totals
    for r in records:
        r["macs_share"] = f"{r['macs_pct']:>5} {r['macs_bar']}" if r["macs_pct"] else ""
    show_inputs = any(r["inputs"] for r in records)

    def widest(key: str, header: str, footer: str = "") -> int:
        return max([len(header), len(footer)] + [len(r[key]) for r in records])

    table.add_column("Layer", footer="Total", overflow="fold", min_width=min(widest("layer", "Layer"), 16))
    table.add_column("Op", no_wrap=True, min_width=widest("op", "Op"))
    if show_inputs:
        table.add_column("From", style="dim", max_width=16, overflow="fold")
    foot = _footer(a, notes)
    for key, header, footer in (("output", "Output", ""), ("params", "Params", foot(t.params)),
                                ("params_pct", "%", ""), ("macs", "MACs", foot(t.macs)),
                                ("macs_share", "MACs %", ""), ("activations", "Activations", foot(t.activations)),
                                ("activations_bar", "Memory", ""), ("rf", "RF", "")):
        table.add_column(header, justify="left" if key in ("macs_share", "activations_bar") else "right", footer=footer,
                         no_wrap=True, min_width=widest(key, header, footer))
    for r in records:
        cells = [r["layer"], r["op"]] + ([r["inputs"]] if show_inputs else []) + \
                [r["output"], r["params"], r["params_pct"], r["macs"], Text(r["macs_share"], style="cyan"),
                 r["activations"], Text(r["activations_bar"], style="green"), r["rf"]]
        table.add_row(*cells)
    console.print(table)
    for line in notes.lines():
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    print_pairs(console, totals_lines(a))


def _plain_table(a: Analysis, records: list[dict[str, str]], console: Any, depth: int | None, top: int | None,
                 notes: Footnotes) -> bool:
    """The table `_rich_table` draws, written without rich where the output takes no colour and the layout
    needs no wrapping (report.plaintable); False, having written nothing, otherwise."""
    from . import plaintable as P

    target = console.plain_target() if hasattr(type(console), "plain_target") else None
    if target is None or not records:
        return False
    width, styled = target
    t = a.totals
    show_inputs = any(r["inputs"] for r in records)
    shares = [f"{r['macs_pct']:>5} {r['macs_bar']}" if r["macs_pct"] else "" for r in records]

    def widest(key: str, header: str, footer: str = "") -> int:
        return max([len(header), len(footer)] + [len(r[key]) for r in records])

    def cells(key: str) -> tuple[str, ...]:
        return tuple(r[key] for r in records)

    columns = [P.Column("Layer", "Total", "left", min(widest("layer", "Layer"), 16), None, cells("layer"), fold=True),
               P.Column("Op", "", "left", widest("op", "Op"), None, cells("op"))]
    if show_inputs:
        columns.append(P.Column("From", "", "left", None, 16, cells("inputs"), fold=True, style=P.DIM))
    foot = _footer(a, notes)
    colours = {"macs_share": P.CYAN, "activations_bar": P.GREEN}   # the rich table's Text(style="cyan" | "green")
    for key, header, footer in (("output", "Output", ""), ("params", "Params", foot(t.params)),
                                ("params_pct", "%", ""), ("macs", "MACs", foot(t.macs)),
                                ("macs_share", "MACs %", ""), ("activations", "Activations", foot(t.activations)),
                                ("activations_bar", "Memory", ""), ("rf", "RF", "")):
        values = tuple(shares) if key == "macs_share" else cells(key)
        least = max([len(header), len(footer)] + [len(v) for v in values])
        columns.append(P.Column(header, footer, "left" if key in ("macs_share", "activations_bar") else "right",
                                least, None, values, text_style=colours.get(key, "")))
    lines = P.table_lines(_title(a), _caption(a, depth, top), columns, width - (len(columns) - 1), styled)
    if lines is None:
        return False
    text = notes.lines()
    after: list[str] | None = []
    for note in text:   # printed with soft wrap: as they are
        if not P.one_cell(note) or "\n" in note:
            return False
        after.append(note)
    pairs = totals_lines(a)
    key_width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        wrapped = P.print_lines(f"  {key.ljust(key_width)}  {value}", width)
        if wrapped is None:
            return False
        after += wrapped
    console.write_plain("\n".join(lines + after) + "\n")
    return True
