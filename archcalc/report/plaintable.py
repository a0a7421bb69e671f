"""The summary table as rich draws it without colour, written without importing rich.

rich costs about 30 ms to import and 40 ms to lay out a 40-row table, more than the rest of
`archcalc summary vgg16`. When the output is not a terminal (no colour, no styles), the table that
`report.summary` builds (box SIMPLE_HEAD, no edge, no edge padding, collapsed padding, title and caption
left-justified, header and footer) has a simple layout as long as every cell fits its column and the
table fits the console: each column as wide as its widest cell (or its `min_width`) plus one space of
padding (none on the last), columns joined by one space, left- or right-justified cells padded to the
column width, a rule of `─` under the header, a blank line before the footer, and title and caption
word-wrapped to the table width as rich wraps text (rich/_wrap.py `divide_line`, `Text.rstrip_end`)
and padded to it. Anything else (a cell that would wrap, a table wider than the console, a character
whose terminal width is not plainly one cell) returns None and rich draws the table, so the output is
the same byte for byte either way (tests/test_startup.py compares the two over every built-in spec).
"""
from __future__ import annotations

import os
import re

from ..record import record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

_WORD = re.compile(r"\s*\S+\s*")
_TRAILING = re.compile(r"\s+$")


def one_cell(text: str) -> bool:
    """Every character is one terminal cell wide in rich's measure (the ranges below hold no wide,
    zero-width or combining characters)."""
    for ch in text:
        o = ord(ch)
        if not (0x20 <= o < 0x7F or 0xA0 <= o < 0x300 or 0x370 <= o < 0x400 or 0x2010 <= o < 0x2028
                or 0x2030 <= o < 0x205F or 0x2190 <= o < 0x2400 or 0x2500 <= o < 0x25A0):
            return False
    return True


def plain_console(width: int | None, stream: Any) -> bool:
    """Whether rich's Console(width=width) on `stream` would draw without colour or terminal codes."""
    if width is None or os.name == "nt":
        return False
    env = os.environ
    if env.get("TTY_COMPATIBLE", "") == "1" or env.get("FORCE_COLOR", ""):
        return False
    if "ipykernel" in __import__("sys").modules:   # rich's Jupyter detection
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return isatty is not None and not isatty()
    except ValueError:
        return True


def wrap(text: str, width: int, pad: bool, fold: bool = False) -> list[str] | None:
    """rich's word wrap of one line of one-cell characters (Text.wrap with overflow fold), padded to
    `width` when `pad` (justify left). A word longer than the width is cut into pieces of the width
    when `fold` (a table cell); elsewhere that returns None (rich would fold it)."""
    if width < 1:
        return None
    breaks, offset = [], 0
    for m in _WORD.finditer(text):
        start, word = m.start(), m.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if not fold:
                return None
            pieces = [word[i: i + width] for i in range(0, len(word), width)]
            for k, piece in enumerate(pieces):
                if start:
                    breaks.append(start)
                if k == len(pieces) - 1:
                    offset = len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    lines = [text[a:b] for a, b in zip([0] + breaks, breaks + [len(text)])]
    out = []
    for line in lines:
        if len(line) > width:
            m = _TRAILING.search(line)
            if m is not None:
                line = line[: len(line) - min(len(m.group(0)), len(line) - width)]
        if len(line) > width:
            return None
        out.append(line.ljust(width) if pad else line)
    return out


@record
class Column:
    header: str
    footer: str
    justify: str           # "left" | "right"
    min_width: int | None
    max_width: int | None
    cells: tuple[str, ...]
    fold: bool = False     # overflow="fold": a cell wider than the column wraps onto more lines


def table_lines(title: str, caption: str, columns: list[Column], max_width: int) -> list[str] | None:
    """The lines rich prints for the table, or None when its layout would need rich's wrapping."""
    texts = [title, caption] + [c.header for c in columns] + [c.footer for c in columns] + \
        [cell for c in columns for cell in c.cells]
    if not all(one_cell(t) and "\n" not in t for t in texts):
        return None
    last = len(columns) - 1
    widths = []
    for i, col in enumerate(columns):
        pad = 0 if i == last else 1
        natural = max(len(t) for t in (col.header, col.footer, *col.cells)) + pad
        if col.min_width is not None:
            natural = max(natural, col.min_width + pad)
        if col.max_width is not None:
            natural = min(natural, col.max_width + pad)
        widths.append(natural or 1)
    table_width = sum(widths) + last
    if table_width > max_width:
        return None

    def row(cells: list[str]) -> list[str] | None:
        blocks = []
        for i, (cell, col) in enumerate(zip(cells, columns)):
            inner = widths[i] - (0 if i == last else 1)
            if len(cell) <= inner:
                lines = [cell.rjust(inner) if col.justify == "right" else cell.ljust(inner)]
            elif col.fold and col.justify == "left":
                folded = wrap(cell, inner, pad=True, fold=True)
                if folded is None:
                    return None
                lines = folded
            else:
                return None
            blocks.append([line if i == last else line + " " for line in lines])
        height = max(len(b) for b in blocks)
        return [" ".join(b[k] if k < len(b) else " " * widths[i] for i, b in enumerate(blocks))
                for k in range(height)]

    head = wrap(title, table_width, pad=True) if title else []
    foot = wrap(caption, table_width, pad=True) if caption else []
    if head is None or foot is None:
        return None
    rows = [row([c.header for c in columns])] + [row([c.cells[r] for c in columns])
                                                   for r in range(len(columns[0].cells))]
    rows.append(row([c.footer for c in columns]))
    if any(r is None for r in rows):
        return None
    body = [line for r in rows[1:-1] for line in r]   # type: ignore[union-attr]
    return head + rows[0] + ["─" * table_width] + body + [" " * table_width] + rows[-1] + foot  # type: ignore[operator]


def print_lines(text: str, width: int) -> list[str] | None:
    """console.print(text) of plain text: wrapped at the console width, not padded."""
    out: list[str] = []
    for line in text.split("\n"):
        if not one_cell(line):
            return None
        wrapped = wrap(line, width, pad=False)
        if wrapped is None:
            return None
        out += wrapped
    return out
