"""Text from a spec, a claim file or the command line, made safe to print.

Control characters (C0 including ESC and NUL, DEL, C1) and the Unicode format characters that
reorder or hide text (bidi embeddings/overrides/isolates such as U+202E, zero-width marks, BOM)
are shown as visible escapes (`\\x1b`, `\\u202e`), so a spec cannot move the cursor, retitle the
terminal, clear the screen or make text read backwards. Rich markup is never interpreted (the
consoles are built with markup off), so `[link=...]` and `[/x]` print as written.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

EXCERPT_CHARS = 40   # the most of a user's value an error message quotes

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    # C0 as \x1b; everything else as \u009b / \u202e, which is also a valid escape inside a JSON string
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x20 else f"\\u{ord(c):04x}")


def printable(text: Any, one_line: bool = False) -> str:
    """`text` with every control or text-reordering character escaped; newlines and tabs kept
    unless `one_line` (a table cell, a TSV field, an error message)."""
    s = text if isinstance(text, str) else str(text)
    s = (_UNSAFE_LINE if one_line else _UNSAFE).sub(_escape, s)
    if not s.isascii() and any(unicodedata.category(c) in ("Cf", "Cs", "Co") for c in s):
        s = "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cf", "Cs", "Co") and ord(c) > 0xff else c
                    for c in s)
    return s


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of a user's value, escaped and on one line: error messages quote
    this, never a whole file or a long value (a private key a claim's `spec:` points at stays private)."""
    s = value if isinstance(value, str) else repr(value)
    cut = len(s) > limit
    s = printable(s[:limit], one_line=True)
    return s + ("…" if cut else "")
