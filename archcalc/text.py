"""Text from a spec, a claim file or the command line, made safe to print.

Control characters (C0 including ESC and NUL, DEL, C1) and the Unicode format characters that
reorder or hide text (bidi embeddings/overrides/isolates such as U+202E, zero-width marks, BOM)
are shown as visible escapes (`\\x1b`, `\\u202e`), so a spec cannot move the cursor, retitle the
terminal, clear the screen or make text read backwards. Rich markup is never interpreted (the
consoles are built with markup off), so `[link=...]` and `[/x]` print as written.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

EXCERPT_CHARS = 40   # the most of a user's value an error message quotes

# C0 (but tab and newline), DEL, C1; Arabic letter mark; Mongolian vowel separator; zero-width and
# directional marks, line/paragraph separators, bidi embeddings/overrides (U+202A-202E); word joiner,
# invisible operators, bidi isolates (U+2066-2069) and deprecated format controls; BOM; interlinear
# annotation; private use; surrogates; Unicode tag characters: every format (Cf) character that can
# reorder or hide text
_FORMAT = ("\u00ad\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd\U00013430-\U0001343f"
           "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff\ud800-\udfff"
           "\U000e0000-\U000e007f\U000f0000-\U0010ffff")
_ASCII_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")        # ASCII text holds no C1 or format characters
_ASCII_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f]")
_PATTERNS: dict[bool, re.Pattern[str]] = {}   # the full classes, compiled on the first non-ASCII text


def _unsafe(one_line: bool) -> re.Pattern[str]:
    if one_line not in _PATTERNS:
        c0 = "\x00-\x1f" if one_line else "\x00-\x08\x0b-\x1f"
        _PATTERNS[one_line] = re.compile(f"[{c0}\x7f-\x9f{_FORMAT}]")
    return _PATTERNS[one_line]


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    # C0 as \x1b; everything else as \u009b / \u202e, which is also a valid escape inside a JSON string
    if c in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c]
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x20 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def printable(text: Any, one_line: bool = False) -> str:
    """`text` with every control or text-reordering character escaped; newlines and tabs kept
    unless `one_line` (a table cell, a TSV field, an error message)."""
    s = text if isinstance(text, str) else str(text)
    if s.isascii():
        return (_ASCII_UNSAFE_LINE if one_line else _ASCII_UNSAFE).sub(_escape, s)
    return _unsafe(one_line).sub(_escape, s)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of a user's value, escaped and on one line: error messages quote
    this, never a whole file or a long value (a private key a claim's `spec:` points at stays private)."""
    s = value if isinstance(value, str) else repr(value)
    cut = len(s) > limit
    s = printable(s[:limit], one_line=True)
    return s + ("…" if cut else "")
