"""The summary table as rich draws it, written without importing rich.

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
On a terminal rich also styles the table (`styled`: the SGR codes rich writes for its attributes and named
colours, the same in each of its colour systems); any terminal setting rich reads otherwise goes to rich.
"""
from __future__ import annotations

import os
import re
import sys

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


RESET = "\x1b[0m"
BOLD, DIM, ITALIC, DIM_ITALIC, CYAN, GREEN = "1", "2", "3", "2;3", "36", "32"   # SGR codes as rich writes them


def terminal_width(stream: Any) -> int | None:
    """The width rich's Console() takes on `stream` when it is a terminal that rich colours with plain SGR
    codes (any colour system: the table's named colours and attributes are written alike in all three);
    None for anything else (not a terminal, a dumb one, NO_COLOR, forced or Jupyter settings, Windows)."""
    env = os.environ
    if os.name == "nt" or any(k in env for k in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")):
        return None
    if env.get("TERM", "").strip().lower() in ("dumb", "unknown") or "ipykernel" in sys.modules:
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    columns = env.get("COLUMNS")
    if columns is not None:   # rich takes any digits here; archcalc's console passes only a sane width
        return int(columns) if columns.isdigit() and 40 <= int(columns[:6]) <= 1000 else None
    for fd in (0, 1, 2):      # rich's order: stdin, stdout, stderr
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            pass
    return 80


def sgr(text: str, code: str) -> str:
    return f"\x1b[{code}m{text}{RESET}" if code else text


def plain_console(width: int | None, stream: Any) -> bool:
    """Whether rich's Console(width=width) on `stream` would draw without colour or terminal codes."""
    if width is None or os.name == "nt":
        return False
    env = os.environ
    if env.get("TTY_COMPATIBLE", "") == "1" or env.get("FORCE_COLOR", ""):
        return False
    if "ipykernel" in sys.modules:   # rich's Jupyter detection
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
    style: str = ""        # SGR code of the column's style: its cells and their padding (rich's column style)
    text_style: str = ""   # SGR code of each cell's text, padded to the column but not its padding (a styled Text)


def table_lines(title: str, caption: str, columns: list[Column], max_width: int,
                styled: bool = False) -> list[str] | None:
    """The lines rich prints for the table, or None when its layout would need rich's wrapping. `styled`: as
    rich writes them to a terminal: an italic title, bold header and footer (each cell and its padding a
    segment of its own), dim italic caption, and the columns' styles."""
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

    def row(cells: list[str], edge: str | None = None) -> list[str] | None:
        """A row's lines; `edge` is the header or footer style (it replaces the columns' own styles)."""
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
            text, pad = (edge, edge) if edge is not None else (col.style or col.text_style, col.style)
            if not styled:
                text = pad = ""
            blocks.append([sgr(line, text) + ("" if i == last else sgr(" ", pad)) for line in lines])
        height = max(len(b) for b in blocks)
        blank = [sgr(" " * widths[i], col.style if styled and edge is None else "") for i, col in enumerate(columns)]
        return [" ".join(b[k] if k < len(b) else blank[i] for i, b in enumerate(blocks)) for k in range(height)]

    head = wrap(title, table_width, pad=True) if title else []
    foot = wrap(caption, table_width, pad=True) if caption else []
    if head is None or foot is None:
        return None
    edge = BOLD if styled else ""
    rows = [row([c.header for c in columns], edge)] + [row([c.cells[r] for c in columns])
                                                         for r in range(len(columns[0].cells))]
    rows.append(row([c.footer for c in columns], edge))
    if any(r is None for r in rows):
        return None
    body = [line for r in rows[1:-1] for line in r]   # type: ignore[union-attr]
    if styled:
        head, foot = [sgr(line, ITALIC) for line in head], [sgr(line, DIM_ITALIC) for line in foot]
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
