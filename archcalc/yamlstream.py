"""The YAML reader behind yamlio.load_text: plain values built straight from the C parser's events.

No node tree is composed and then converted: each event becomes part of the value at once, a place
(path → line) is recorded only where a value's line differs from its collection's, and the errors are
those composing and converting nodes gave, in the same order (yamlio's module docstring: exact
decimals, escaped strings, duplicate keys, the alias budget).
"""
from __future__ import annotations


from . import num
from .errors import SpecError, Where, excerpt, printable
from .yamlio import MAX_ALIAS_VALUES, MAX_INT_DIGITS, MAX_NUMBER_CHARS, Document, Path, path_str

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

yaml: Any = None      # PyYAML, imported by the first document loaded (a cached built-in spec needs none)
_Loader: Any = None
_SCALARS: Any = None  # one constructor instance for YAML 1.1 ints and bools
_RESOLVER: Any = None  # the safe loader's implicit tags (YAML 1.1)


def _import_yaml() -> None:
    global yaml, _Loader, _SCALARS, _RESOLVER
    if yaml is None:
        import yaml as module

        # the C parser's events are much faster; fall back to the pure-Python parser
        _Loader = getattr(module, "CSafeLoader", module.SafeLoader)
        _SCALARS = module.SafeLoader("")
        _RESOLVER = module.resolver.Resolver()
        yaml = module


def load_stream(text: str, file: str) -> Document:
    """The document of a YAML text (size and NUL bytes already checked by yamlio)."""
    _import_yaml()
    loader = _Loader(text)
    try:
        return _Stream(loader, file).document()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(x for x in (e.context, e.problem) if x)
        raise SpecError(f"malformed YAML: {problem}", Where(file, line)) from None
    except yaml.YAMLError as e:
        raise SpecError(f"malformed YAML: {e}", Where(file)) from None
    except RecursionError:
        raise SpecError("malformed YAML: nesting is too deep", Where(file)) from None
    finally:
        loader.dispose()


MAX_DEPTH = 400   # collections inside collections (the spec language itself nests bodies at most 64 deep)

_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_STR, _INT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS: dict[str, str] = {}   # plain scalar text -> its implicit tag (resolution depends on the text alone)
_SHORT: dict[str, str] = {}        # one copy of each short string (keys, op names) however often it is written
_PLAIN_VALUES: dict[str, Any] = {}  # short plain scalar text -> its value, for the names and whole numbers of the fast path


class _Frame:
    """A collection being built: its value, YAML path, line, anchor and the values it has cost."""

    __slots__ = ("value", "path", "line", "anchor", "is_map", "is_key", "key", "has_key", "keep", "cost", "rec",
                 "visits")

    def __init__(self, value: Any, path: Path, line: int, anchor: str | None, is_map: bool, keep: bool) -> None:
        self.value, self.path, self.line, self.anchor, self.is_map, self.keep = value, path, line, anchor, is_map, keep
        self.is_key = False
        self.key: Any = None
        self.has_key = False
        self.cost = 1
        self.rec: list[tuple[Path, int]] | None = [] if anchor is not None else None   # its places, relative
        self.visits: list[Any] | None = [] if anchor is not None else None   # lines and aliased anchors, in order


class _Stream:
    """Builds the plain value of a YAML stream straight from the C parser's events, without a node tree.

    What the file says and where is kept exactly as composing and converting nodes would: the same
    values, the same path → line places (only where a value's line differs from its collection's, the
    nearest recorded place answers for the rest), the same errors in the same order (a malformed
    stream, a composer error, several documents, an empty file, then the first conversion error).
    An alias yields a fresh copy of its anchor's value and costs as many values as converting that
    value again would (the alias budget)."""

    def __init__(self, loader: Any, file: str) -> None:
        self.loader, self.file = loader, file
        self.lines: dict[Path, int] = {}
        self.left = MAX_ALIAS_VALUES
        self.anchors: dict[str, Any] = {}      # name -> (value, cost, relative places, line, visits) or a _Frame while open
        self.anchor_marks: dict[str, Any] = {}
        self.error: SpecError | None = None    # the first conversion error, raised once the stream has parsed
        self.stack: list[_Frame] = []
        self.recorders: list[_Frame] = []      # open anchored collections: they record their places

    def fail(self, message: str, line: int | None, path: Path | None = None) -> None:
        raise SpecError(message, Where(self.file, line, path_str(path) if path is not None else ""))

    def document(self) -> Document:
        get = self.loader.get_event
        docs = 0
        data: Any = None
        several: int | None = None
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.DocumentStartEvent:
                docs += 1
                self.anchors, self.anchor_marks = {}, {}
                root = self.loader.peek_event()
                if docs == 1:
                    try:
                        data = self.root()
                    except SpecError as e:
                        self.error = self.error or e
                        self.drain()
                else:
                    if several is None:
                        several = root.start_mark.line + 1
                    self.drain()
            elif kind is yaml.StreamEndEvent:
                break
        if several is not None:
            raise SpecError("expected one YAML document, found several (remove the extra `---`)", Where(self.file, several))
        if docs == 0:
            raise SpecError("the file is empty; expected a mapping with `name`, `input` and `body`", Where(self.file))
        if self.error is not None:
            raise self.error
        return Document(data, self.lines, self.file)

    def drain(self) -> None:
        """Parse the rest of the document (its syntax and composer errors come first) without building it."""
        get, depth = self.loader.get_event, 0
        while True:
            event = get()
            kind = type(event)
            if kind is yaml.AliasEvent:
                self.check_alias(event)
            elif kind is yaml.ScalarEvent or kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
                if event.anchor is not None:
                    self.define(event.anchor, event, None)
                if kind is not yaml.ScalarEvent:
                    depth += 1
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                depth -= 1
            elif kind is yaml.DocumentEndEvent:
                return

    def check_alias(self, event: Any) -> Any:
        entry = self.anchors.get(event.anchor)
        if entry is None and event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
        return entry

    def define(self, anchor: str, event: Any, entry: Any) -> None:
        if anchor in self.anchor_marks:
            raise yaml.composer.ComposerError("found duplicate anchor; first occurrence", self.anchor_marks[anchor],
                                              "second occurrence", event.start_mark)
        self.anchor_marks[anchor] = event.start_mark
        self.anchors[anchor] = entry

    def root(self) -> Any:
        """The document's value, event by event (an explicit stack: no recursion, depth bounded)."""
        get = self.loader.get_event
        stack = self.stack
        lines = self.lines
        recorders = self.recorders
        plain_tags = _PLAIN_TAGS
        plain_values = _PLAIN_VALUES
        ScalarEvent, AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
        MappingStartEvent, MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
        SequenceStartEvent, SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        top: _Frame | None = None
        while True:
            event = get()
            kind = type(event)
            if kind is ScalarEvent and top is not None and event.anchor is None and not recorders \
                    and (event.tag is None or event.tag == "!"):
                # the common case, inline: a plain or quoted name, word or decimal int, no anchor, no tag
                value = event.value
                plain = event.implicit[0]
                v: Any = plain_values.get(value) if plain else None
                if v is None:
                    tag = (plain_tags.get(value) or _resolve(value, event.implicit)) if plain else _STR
                    if tag == _STR and value.isascii() and value.isprintable():
                        v = _SHORT.setdefault(value, value) if len(value) <= 32 else value
                    elif tag == _INT and value.isdigit() and value.isascii() and len(value) <= MAX_INT_DIGITS \
                            and (value[0] != "0" or value == "0"):
                        v = int(value)
                    if v is not None and plain and len(value) <= 32 and len(plain_values) < 4096:
                        plain_values[value] = v   # a plain scalar's value depends on its text alone
                if v is not None:
                    if top.is_map:
                        if not top.has_key:   # a key: its line is read only by an error
                            if type(v) is str:
                                if v in top.value:
                                    self.fail(f"duplicate key `{v}`", event.start_mark.line + 1, top.path + (v,))
                                top.key, top.has_key = v, True
                                top.cost += 1
                                continue
                            self.key(top, event, event.start_mark.line + 1)
                            continue
                        line = event.start_mark.line + 1
                        if top.keep and line != top.line:
                            lines.setdefault(top.path + (top.key,), line)
                        top.value[top.key] = v
                        top.has_key = False
                    else:
                        line = event.start_mark.line + 1
                        if top.keep and line != top.line:
                            lines.setdefault(top.path + (len(top.value),), line)
                        top.value.append(v)
                    top.cost += 1
                    continue
            if kind is ScalarEvent:
                line = event.start_mark.line + 1
                if top is not None and top.is_map and not top.has_key:
                    self.key(top, event, line)
                    continue
                path = self.child_path(top)
                tag = event.tag
                value = event.value
                if tag is None or tag == "!":
                    tag = _resolve(value, event.implicit) if event.implicit[0] else _STR
                keep = top is None or top.keep
                if keep and (top is None or line != top.line):
                    lines.setdefault(path, line)
                if self.recorders:
                    self.visit(line)
                    if keep:
                        self.record(path, line)
                if event.anchor is not None:
                    self.define(event.anchor, event, None)
                v = self.scalar(tag, value, line, path)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (v, 1, [((), line)], line, [line])
                if top is None:
                    return v
                self.add(top, v, 1)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                line = event.start_mark.line + 1
                is_key = top is not None and top.is_map and not top.has_key
                path = top.path if is_key else () if top is None else \
                    top.path + ((top.key,) if top.is_map else (len(top.value),))
                keep = (top is None or top.keep) and not is_key
                if keep and (top is None or line != top.line):
                    lines.setdefault(path, line)
                if self.recorders:
                    self.visit(line)
                    if keep:
                        self.record(path, line)
                frame = _Frame({} if kind is MappingStartEvent else [], path, line, event.anchor,
                               kind is MappingStartEvent, keep)
                if event.anchor is not None:
                    self.define(event.anchor, event, frame)
                    self.recorders.append(frame)
                    frame.rec.append(((), line))  # type: ignore[union-attr]
                    frame.visits.append(line)  # type: ignore[union-attr]
                tag = event.tag
                if tag is not None and tag != "!" and tag not in _COLLECTION_TAGS:
                    self.fail(f"unsupported YAML tag `{tag}`", line, path)
                if len(stack) >= MAX_DEPTH:
                    raise SpecError("YAML nesting is too deep", Where(self.file))
                frame.is_key = is_key
                stack.append(frame)
                top = frame
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor is not None:
                    self.recorders.pop()
                    self.anchors[frame.anchor] = (frame.value, frame.cost, frame.rec, frame.line, frame.visits)
                top = stack[-1] if stack else None
                if top is None:
                    return frame.value
                if frame.is_key:
                    self.key_value(top, frame.value, frame.line, frame.cost)
                else:
                    top.cost += frame.cost
                    if top.is_map:
                        top.value[top.key] = frame.value
                        top.has_key = False
                    else:
                        top.value.append(frame.value)
            elif kind is AliasEvent:
                line = event.start_mark.line + 1
                entry = self.check_alias(event)
                is_key = top is not None and top.is_map and not top.has_key
                path = top.path if is_key else self.child_path(top)
                if isinstance(entry, _Frame):
                    self.fail("a YAML alias refers to a collection that contains it (an endless structure)",
                              entry.line, path)
                value, cost, rec, _, _ = entry
                if cost > self.left:   # the place is the value at which converting it again would pass the budget
                    self.fail(f"aliases expand to over {MAX_ALIAS_VALUES} values (an alias bomb?)",
                              _nth_line(entry, self.left + 1))
                self.left -= cost
                if self.recorders:
                    self.visit(entry)
                keep = (top is None or top.keep) and not is_key
                if keep:
                    for rel, at in rec:
                        lines.setdefault(path + rel, at)
                        if self.recorders:
                            self.record(path + rel, at)
                value = _copy(value)
                if top is None:
                    return value
                if is_key:
                    self.key_value(top, value, rec[0][1], cost)
                else:
                    self.add(top, value, cost)

    def child_path(self, top: _Frame | None) -> Path:
        if top is None:
            return ()
        if top.is_map:
            return top.path + (top.key,)
        return top.path + (len(top.value),)

    def visit(self, item: Any) -> None:
        for frame in self.recorders:
            frame.visits.append(item)  # type: ignore[union-attr]

    def record(self, path: Path, line: int) -> None:
        for frame in self.recorders:
            frame.rec.append((path[len(frame.path):], line))  # type: ignore[union-attr]

    def add(self, top: _Frame, value: Any, cost: int) -> None:
        top.cost += cost
        if top.is_map:
            top.value[top.key] = value
            top.has_key = False
        else:
            top.value.append(value)

    def key(self, top: _Frame, event: Any, line: int) -> None:
        tag = event.tag
        value = event.value
        if tag is None or tag == "!":
            tag = _resolve(value, event.implicit) if event.implicit[0] else _STR
        if event.anchor is not None:
            self.define(event.anchor, event, None)
        if self.recorders:
            self.visit(line)
        if tag == _MERGE:
            self.fail("YAML merge keys (`<<`) are not supported", line, top.path)
        key = self.scalar(tag, value, line, top.path)
        if event.anchor is not None:
            self.anchors[event.anchor] = (key, 1, [((), line)], line, [line])
        self.key_value(top, key, line, 1)

    def key_value(self, top: _Frame, key: Any, line: int, cost: int) -> None:
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            self.fail(f"mapping keys must be names, got {key!r}", line, top.path)
        if key in top.value:
            self.fail(f"duplicate key `{key}`", line, top.path + (key,))
        if type(key) is str and len(key) <= 32:
            key = _SHORT.setdefault(key, key)
        top.key, top.has_key = key, True
        top.cost += cost

    def scalar(self, tag: str, value: str, line: int, path: Path) -> Any:
        if tag == _STR:
            if not value.isascii() or not value.isprintable():
                return printable(value)
            return _SHORT.setdefault(value, value) if len(value) <= 32 else value
        if tag == _INT and len(value) <= MAX_INT_DIGITS:
            if value.isdigit() and value.isascii() and (value[0] != "0" or value == "0"):
                return int(value)
            return _SCALARS.construct_yaml_int(yaml.ScalarNode(tag, value))
        where = Where(self.file, line, path_str(path))   # only past the common cases
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return _SCALARS.construct_yaml_bool(yaml.ScalarNode(tag, value))
        if tag == _INT:
            raise SpecError(f"integer is too large (over {MAX_INT_DIGITS} digits)", where)
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
        raise SpecError(f"unsupported YAML tag `{tag}`", where)


def _resolve(value: str, implicit: tuple[bool, bool]) -> str:
    """The implicit tag of a plain scalar (YAML 1.1 rules of the safe loader), cached for short texts."""
    tag = _PLAIN_TAGS.get(value)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, value, implicit)
        if len(value) <= 32 and len(_PLAIN_TAGS) < 4096:
            _PLAIN_TAGS[value] = tag
    return tag


def _nth_line(entry: Any, n: int) -> int | None:
    """The line of the n-th value (1-based) that converting an anchor's value again visits."""
    visits = entry[4]
    while True:
        for item in visits:
            if type(item) is int:
                n -= 1
                if n == 0:
                    return item
            elif n <= item[1]:
                visits = item[4]
                break
            else:
                n -= item[1]
        else:
            return None


def _copy(value: Any) -> Any:
    """A fresh copy of an anchor's value (lists and mappings; scalars are immutable)."""
    if type(value) is list:
        return [_copy(v) for v in value]
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    return value
