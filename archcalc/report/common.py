"""Number formatting shared by every output form: human units, shares, bars, JSON and TSV."""
from __future__ import annotations

import json
from fractions import Fraction
from types import GeneratorType

from .. import num
from ..analysis import Analysis, Row
from ..text import printable

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Iterator

FORMATS = ("table", "json", "csv", "markdown")


def plain(x: Any) -> Any:
    """A JSON-safe value: ints stay ints, fractions and symbolic sizes become strings."""
    t = type(x)
    if t is int or t is str:
        return x
    if t is tuple and all(type(v) is int for v in x):
        return list(x)
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, Fraction):
        return num.fmt(x)
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if hasattr(x, "free_symbols"):
        from .symbolic import exact_text

        return exact_text(x)
    return str(x)


def human(x: Any, unit: str = "") -> str:
    """138357544 → '138.36M'; symbolic values print as expressions."""
    if type(x) is int and -10**15 < x < 10**15:
        a = -x if x < 0 else x
        for factor, suffix in _UNITS:
            if a >= factor:
                return f"{x / factor:.2f}{suffix}{unit}"
        return f"{x}{unit}"
    if isinstance(x, Fraction):
        if abs(x) >= 10**15:
            x = int(x)
        else:
            x = float(x)
    if not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int) and abs(x) >= 10**15:   # past T: scientific from the digits (float() overflows past 1e308)
        digits = str(abs(x))
        return f"{'-' if x < 0 else ''}{digits[0]}.{digits[1:3]}e{len(digits) - 1}{unit}"
    for factor, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(x) >= factor:
            return f"{x / factor:.2f}{suffix}{unit}"
    return f"{x:g}{unit}" if isinstance(x, float) else f"{x}{unit}"


_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def grouped(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else num.fmt(x)


def shape_str(shape: Iterable[Any]) -> str:
    if type(shape) is tuple and all(type(v) is int for v in shape):
        return "×".join(map(str, shape))
    return "×".join(num.fmt(v) for v in shape)


def rf_value(row: Row) -> Any:
    size = row.layer.rf.size
    return size[0] if str(size[0]) == str(size[1]) else list(size)


def rf_str(row: Row) -> str:
    s0, s1 = row.layer.rf.size
    if type(s0) is int and type(s1) is int:
        return str(s0) if s0 == s1 else f"{s0}×{s1}"
    v = rf_value(row)
    return "×".join(num.fmt(x) for x in v) if isinstance(v, list) else num.fmt(v)


def branch_inputs(a: Analysis) -> list[str]:
    """For each row, the inputs worth showing (any that are not simply the previous layer),
    named relative to the layer's own block: `bn3, shortcut1.bn1`."""
    out, previous = [], "input"
    for row in a.rows:
        inputs = row.layer.inputs
        prefix = row.layer.name.rsplit(".", 1)[0] + "." if "." in row.layer.name else ""
        out.append("" if inputs == (previous,) else
                   ", ".join(i[len(prefix):] if prefix and i.startswith(prefix) else i for i in inputs))
        previous = row.layer.name
    return out


def dumps(data: Any) -> str:
    """Indented JSON, but a list of flat records (layers, rows) keeps one record per line: readable,
    greppable, and written by the C encoder, so 100,000 layers take a fraction of a second."""
    return "".join(json_chunks(data))


def json_chunks(data: Any) -> Iterator[str]:
    """`dumps` in pieces, for writing a large document without holding it whole."""
    yield from _dump(data, 0, json.JSONEncoder(ensure_ascii=False).encode)
    yield "\n"


class Encoded(str):
    """A record already written as compact JSON (`dumps` copies it as it is)."""


def _flat(x: Any) -> bool:
    return not isinstance(x, (dict, list)) or isinstance(x, list) and not any(isinstance(v, (dict, list)) for v in x)


def _dump(x: Any, level: int, compact: Callable[[Any], str]) -> Iterator[str]:
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(x, dict) and x:
        yield "{"
        for i, (k, v) in enumerate(x.items()):
            yield ("," if i else "") + "\n" + inner + compact(str(k)) + ": "
            yield from _dump(v, level + 1, compact)
        yield "\n" + pad + "}"
    elif isinstance(x, GeneratorType):   # records produced one at a time (summary_json(lazy=True))
        yield "["
        empty = True
        for v in x:
            yield ("\n" if empty else ",\n") + inner + (v if type(v) is Encoded else compact(v))
            empty = False
        yield "]" if empty else "\n" + pad + "]"
    elif isinstance(x, list) and x and not _flat(x):
        records = all(isinstance(v, dict) and all(_flat(f) for f in v.values()) for v in x)
        yield "["
        for i, v in enumerate(x):
            yield ("," if i else "") + "\n" + inner
            if records:
                yield compact(v)
            else:
                yield from _dump(v, level + 1, compact)
        yield "\n" + pad + "]"
    else:
        yield compact(x)


def share(part: Any, total: Any) -> Fraction | None:
    """part / total as an exact fraction (None when either is symbolic or the total is 0)."""
    if not num.is_exact(part) or not num.is_exact(total) or total == 0:
        return None
    if type(part) is int and type(total) is int:
        return Fraction(part, total)
    return Fraction(part) / Fraction(total)


def pct(part: Any, total: Any) -> str:
    if type(part) is int and type(total) is int:   # int / int is the correctly rounded float of the fraction
        return f"{part / total * 100:.1f}%" if total else ""
    f = share(part, total)
    return "" if f is None else f"{float(f) * 100:.1f}%"


BAR_WIDTH = 5
EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(part: Any, total: Any, width: int = BAR_WIDTH) -> str:
    """A share as a bar of `width` cells in eighths: 0.5 → '████' at width 8."""
    if type(part) is int and type(total) is int and total > 0:
        if part <= 0:
            return ""
        q, r = divmod(part * width * 8, total)   # round(part·width·8 / total), halves to even, as Fraction rounds
        eighths = max(1, q + (1 if 2 * r > total or (2 * r == total and q % 2) else 0))
        return ("█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")).ljust(width)
    f = share(part, total)
    if f is None or f <= 0:
        return ""
    eighths = max(1, round(f * width * 8))
    return ("█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")).ljust(width)


def print_pairs(console: Any, lines: list[tuple[str, str]]) -> None:
    """`  key   value` lines under a table, keys aligned."""
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        console.print(f"  {key.ljust(width)}  {value}", highlight=False)


def tsv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Plain mode: a header line and tab-separated rows, no box drawing."""
    return "\n".join("\t".join(printable(c, one_line=True) for c in r) for r in [list(header), *[list(r) for r in rows]]) + "\n"


def csv_ratio(r: Any) -> str:
    return "" if r is None else (f"{float(r):.6g}" if num.is_exact(r) else str(r))
