"""YAML → plain Python values with exact decimals and a line for every path.

Floats are read exactly from their text (1.15 → Fraction(23, 20)), their exponent bounded before
any power is built. Strings come back with control and bidi characters escaped (text.printable):
nothing from a file can reach a terminal as a control sequence. Duplicate keys are errors.
Aliases are followed but the number of values they produce is capped, so alias bombs fail fast;
the file size bounds everything else.
"""
from __future__ import annotations

import errno
import gc
import os
import stat
from contextlib import contextmanager

from .errors import SpecError, Where

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Iterator

    Path = tuple[Any, ...]
else:
    Path = tuple   # at run time only a name for annotations, which are never evaluated

MAX_FILE_BYTES = 2_000_000   # a spec file's size
MAX_ALIAS_VALUES = 50_000    # values produced by following aliases (`*name`) again
MAX_INT_DIGITS = 1300        # an integer's digits in YAML (≈ 2**4096, num.MAX_INT_BITS)
MAX_NUMBER_CHARS = 400       # a decimal's characters in YAML


def path_str(path: Path) -> str:
    if len(path) == 2 and type(path[0]) is str and type(path[1]) is int:   # a body item: body[12]
        return f"{path[0]}[{path[1]}]"
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line(lines: dict[Path, int], path: Path) -> int | None:
    """The line of a path: its own, else its nearest recorded ancestor's."""
    line = lines.get(path) if type(path) is tuple else None
    if line is None:
        probe = tuple(path)
        while probe and probe not in lines:
            probe = probe[:-1]
        line = lines.get(probe)
    return line


class Document:
    """A loaded YAML document: its data and where each value stands."""

    def __init__(self, data: Any, lines: dict[Path, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def where(self, path: Path) -> Where:
        return Where(self.file, _line(self.lines, path), path_str(path))

    def place(self, path: Path) -> Where:
        """`where(path)` whose path text is written only when read (a spec's every node carries one; an
        error reads a few)."""
        p = _new_place(Place)
        _set_file(p, self.file)
        _set_line(p, _line(self.lines, path))
        _set_at(p, path)
        return p


class Place(Where):
    """A Where that keeps its YAML path as a tuple and writes its text when read: the same values as
    Document.where gives, equal to and hashed as that Where."""

    __slots__ = ("_at",)

    @property
    def path(self) -> str:  # type: ignore[override]
        return path_str(self._at)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Where):
            return (self.file, self.line, self.path) == (other.file, other.line, other.path)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.path))

    def __repr__(self) -> str:
        return repr(Where(self.file, self.line, self.path))

    def __reduce__(self) -> tuple[Any, ...]:
        return Where, (self.file, self.line, self.path)


_new_place = Place.__new__
_set_file, _set_line = Where.file.__set__, Where.line.__set__  # type: ignore[attr-defined]
_set_at = Place._at.__set__  # type: ignore[attr-defined]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a large acyclic structure is built (a YAML tree: a cyclic
    alias is an error; a layer graph): left on, its passes over the growing heap make loading and
    expansion superlinear in the number of layers."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))

def stem(path: str | os.PathLike[str]) -> str:
    """A file name without its directory and last suffix, as `pathlib.Path.stem`."""
    name = os.path.basename(os.fspath(path))
    base, ext = os.path.splitext(name)
    return base if base and len(ext) > 1 else name


def read_file(path: str | os.PathLike[str], shown: str, what: str = "a YAML spec file") -> str:
    """The one place archcalc reads a file (specs, claim files, a claim's `spec:`): a regular file
    of at most MAX_FILE_BYTES of UTF-8 text. A FIFO, a device, a socket or a directory is refused
    before anything is read (opened non-blocking, so a FIFO with no writer cannot hang), and at most
    MAX_FILE_BYTES + 1 bytes are ever read, whatever the file claims its size is."""
    try:
        mode = os.stat(path).st_mode   # stat never blocks: a FIFO, a device or a socket is refused unopened
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise SpecError(f"this is {kind}; expected {what}", Where(shown))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
    except IsADirectoryError:
        raise SpecError(f"this is a directory; expected {what}", Where(shown)) from None
    except OSError as e:
        raise SpecError(f"cannot read the file: {e.strerror}", Where(shown)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise SpecError(f"this is {kind}; expected {what}", Where(shown))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise SpecError(f"cannot read the file: {e.strerror}", Where(shown)) from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise SpecError(f"file is too large (over {MAX_FILE_BYTES} bytes)", Where(shown))
    data = b"".join(chunks)
    if b"\x00" in data:
        raise SpecError("this is not a text file (it contains NUL bytes)", Where(shown))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"this is not UTF-8 text (byte {e.start})", Where(shown)) from None


def load_text(text: str, file: str) -> Document:
    with gc_paused():
        return _load_text(text, file)


def _load_text(text: str, file: str) -> Document:
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"file is too large (over {MAX_FILE_BYTES} bytes)", Where(file))
    if "\x00" in text:
        raise SpecError("this is not a text file (it contains NUL bytes)", Where(file))
    from .yamlstream import load_stream   # PyYAML loads with it: a cached built-in spec needs neither

    return load_stream(text, file)
