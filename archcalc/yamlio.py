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
from typing import Any, Iterator

from . import num
from .errors import SpecError, Where, excerpt, printable

MAX_FILE_BYTES = 2_000_000   # a spec file's size
MAX_ALIAS_VALUES = 50_000    # values produced by following aliases (`*name`) again
MAX_INT_DIGITS = 1300        # an integer's digits in YAML (≈ 2**4096, num.MAX_INT_BITS)
MAX_NUMBER_CHARS = 400       # a decimal's characters in YAML

Path = tuple[Any, ...]

yaml: Any = None      # PyYAML, imported by the first document loaded (a cached built-in spec needs none)
_Loader: Any = None
_SCALARS: Any = None  # one constructor instance for YAML 1.1 ints and bools


def _import_yaml() -> None:
    global yaml, _Loader, _SCALARS
    if yaml is None:
        import yaml as module

        # the C loader composes much faster; fall back to the pure-Python one
        _Loader = getattr(module, "CSafeLoader", module.SafeLoader)
        _SCALARS = module.SafeLoader("")
        yaml = module


def path_str(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class Document:
    """A loaded YAML document: its data and where each value stands."""

    def __init__(self, data: Any, lines: dict[Path, int], file: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def where(self, path: Path) -> Where:
        probe = tuple(path)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return Where(self.file, self.lines.get(probe), path_str(path))


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
    _import_yaml()
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(x for x in (e.context, e.problem) if x)
        raise SpecError(f"malformed YAML: {problem}", Where(file, line)) from None
    except yaml.YAMLError as e:
        raise SpecError(f"malformed YAML: {e}", Where(file)) from None
    except RecursionError:
        raise SpecError("malformed YAML: nesting is too deep", Where(file)) from None
    if len(nodes) > 1:
        raise SpecError("expected one YAML document, found several (remove the extra `---`)",
                        Where(file, nodes[1].start_mark.line + 1))
    if not nodes or nodes[0] is None:
        raise SpecError("the file is empty; expected a mapping with `name`, `input` and `body`", Where(file))
    lines: dict[Path, int] = {}
    budget = _Budget(MAX_ALIAS_VALUES)
    try:
        data = _convert(nodes[0], (), lines, file, budget)
    except RecursionError:
        raise SpecError("YAML nesting is too deep", Where(file)) from None
    return Document(data, lines, file)


class _Budget:
    """Counts the values produced by revisiting a node (an alias) beyond its first visit."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.seen: set[int] = set()
        self.open: set[int] = set()    # collections being converted: an alias to one is a cycle
        self.aliased = 0   # > 0 while converting a node reached again through an alias


_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _convert(node: Any, path: Path, lines: dict[Path, int], file: str, budget: _Budget) -> Any:
    if id(node) in budget.open:
        raise SpecError("a YAML alias refers to a collection that contains it (an endless structure)",
                        Where(file, node.start_mark.line + 1, path_str(path)))
    again = id(node) in budget.seen
    budget.seen.add(id(node))
    if again or budget.aliased:
        budget.left -= 1
        if budget.left < 0:
            raise SpecError(f"aliases expand to over {MAX_ALIAS_VALUES} values (an alias bomb?)",
                            Where(file, node.start_mark.line + 1))
    if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        return _convert_node(node, path, lines, file, budget)
    budget.open.add(id(node))
    budget.aliased += again
    try:
        return _convert_node(node, path, lines, file, budget)
    finally:
        budget.open.discard(id(node))
        budget.aliased -= again


def _convert_node(node: Any, path: Path, lines: dict[Path, int], file: str, budget: _Budget) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _COLLECTION_TAGS:
        raise SpecError(f"unsupported YAML tag `{node.tag}`", Where(file, node.start_mark.line + 1, path_str(path)))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise SpecError("YAML merge keys (`<<`) are not supported", Where(file, key_node.start_mark.line + 1, path_str(path)))
            key = _convert(key_node, path, {}, file, budget)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SpecError(f"mapping keys must be names, got {key!r}", Where(file, key_node.start_mark.line + 1, path_str(path)))
            if key in out:
                raise SpecError(f"duplicate key `{key}`", Where(file, key_node.start_mark.line + 1, path_str(path + (key,))))
            out[key] = _convert(value_node, path + (key,), lines, file, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, path + (i,), lines, file, budget) for i, v in enumerate(node.value)]
    tag, value = node.tag, node.value
    if tag == "tag:yaml.org,2002:str":
        return printable(value) if not value.isascii() or not value.isprintable() else value
    if tag == "tag:yaml.org,2002:int" and len(value) <= MAX_INT_DIGITS:
        return _SCALARS.construct_yaml_int(node)
    where = Where(file, node.start_mark.line + 1, path_str(path))   # only past the common cases
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _SCALARS.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:int":
        if len(value) > MAX_INT_DIGITS:
            raise SpecError(f"integer is too large (over {MAX_INT_DIGITS} digits)", where)
        return _SCALARS.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:float":
        text = value.replace("_", "")
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            raise SpecError(f"`{value}` is not a finite number", where)
        if len(text) > MAX_NUMBER_CHARS:
            raise SpecError(f"number is too long (over {MAX_NUMBER_CHARS} characters)", where)
        try:
            return num.exact_decimal(text)
        except num.NumberTooLarge as e:
            raise SpecError(str(e), where) from None
        except ValueError:
            raise SpecError(f"`{excerpt(value)}` is not a number archcalc can read exactly", where) from None
    if tag == "tag:yaml.org,2002:str":
        return printable(value)   # a name or a description is text: escapes instead of control sequences
    raise SpecError(f"unsupported YAML tag `{tag}`", where)
