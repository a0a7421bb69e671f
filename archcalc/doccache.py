"""Built-in specs as loaded documents, cached beside them the way Python caches bytecode.

Loading a built-in spec through PyYAML costs more than the rest of `archcalc summary vgg16` together
(importing `yaml` alone is about 12 ms). The loaded document (`yamlio.Document`: plain values and the
line of every YAML path) is written with `marshal` to `__pycache__/NAME.yaml.archcalc` next to the
spec the first time it is loaded, and read back instead of parsing afterwards.

The cache holds the spec's whole text and is used only when that text is identical to the file's, and
when the modules that decide a document's values (yamlio, yamlstream, num, text) are the very files that wrote it
(their size and modification time), under the same Python; anything else, or a cache that cannot be
read, is ignored and the file is parsed. Nothing is written when Python writes no bytecode
(PYTHONDONTWRITEBYTECODE, `-B`) or the directory is read-only. Only built-in specs are cached: a
user's file is always parsed.
"""
from __future__ import annotations

import marshal
import os
import sys
from fractions import Fraction

from . import yamlio

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1
SUFFIX = ".archcalc"
_DECIDERS = ("yamlio.py", "yamlstream.py", "num.py", "text.py")   # the modules whose code decides a loaded document's values


class _Unencodable(Exception):
    """A value marshal cannot carry as-is (never in a document yamlio produces; then nothing is cached)."""


def cache_path(path: str) -> str:
    head, tail = os.path.split(path)
    return os.path.join(head, "__pycache__", tail + SUFFIX)


def _stamp() -> tuple[Any, ...]:
    here = os.path.dirname(os.path.abspath(__file__))
    out: list[Any] = [FORMAT, sys.implementation.cache_tag, marshal.version]
    for name in _DECIDERS:
        st = os.stat(os.path.join(here, name))
        out += [st.st_mtime_ns, st.st_size]
    return tuple(out)


def _encode(x: Any) -> Any:
    """Fractions become ("/", numerator, denominator): a document holds lists, never tuples."""
    t = type(x)
    if t is str or t is int or t is bool or x is None:
        return x
    if t is list:
        return [_encode(v) for v in x]
    if t is dict:
        return {k: _encode(v) for k, v in x.items()}
    if t is Fraction:
        return ("/", x.numerator, x.denominator)
    raise _Unencodable(t.__name__)


def _decode(x: Any) -> Any:
    t = type(x)
    if t is list:
        return [_decode(v) for v in x]
    if t is dict:
        return {k: _decode(v) for k, v in x.items()}
    if t is tuple:
        return Fraction(x[1], x[2])
    return x


def load(path: str, text: str, file: str) -> yamlio.Document:
    """The document of `text` (read from `path`, shown as `file` in messages), from the cache when it
    holds exactly this text; otherwise parsed, and cached when Python writes bytecode."""
    cache = cache_path(path)
    try:
        key = _stamp()
    except OSError:   # pragma: no cover - the package's own modules cannot be listed: no cache
        return yamlio.load_text(text, file)
    try:
        with open(cache, "rb") as f:
            stored_key, stored_text, data, lines = marshal.loads(f.read())
        if stored_key == key and stored_text == text:
            return yamlio.Document(_decode(data), lines, file)
    except (OSError, ValueError, EOFError, TypeError):   # absent, unreadable or not ours: parse
        pass
    doc = yamlio.load_text(text, file)
    if not sys.dont_write_bytecode:
        _write(cache, (key, text, doc))
    return doc


def _write(cache: str, entry: tuple[Any, str, yamlio.Document]) -> None:
    key, text, doc = entry
    tmp = f"{cache}.{os.getpid()}.tmp"
    try:
        blob = marshal.dumps((key, text, _encode(doc.data), doc.lines))
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, cache)   # atomic: a concurrent reader sees the old cache or the new one
    except (OSError, ValueError, _Unencodable):
        try:
            os.unlink(tmp)
        except OSError:
            pass
