"""Records: classes declared by annotated fields, with a generated `__init__`, `__repr__`, `__eq__` and, when
frozen, `__hash__` and a refusing `__setattr__` — what `dataclasses.dataclass(frozen=..., slots=...)` gives.

Why not dataclasses: on Python 3.11 it compiles every generated method separately and imports `inspect`,
about 0.7 ms a class; a JSON summary creates 30 classes, a third of its start-up. A record's methods are
closures, and its `__init__` is compiled only once the record has many instances (`_first_inits`). Semantics follow dataclasses: fields are the
class's annotations after its bases' (a base must be a record too), in order; `field()` sets a default
factory or leaves a field out of the repr or the comparison; equality needs the same class; `replace`
copies with changes.
"""
from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False   # typing is not imported at run time (start-up; see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform   # type checkers read `@record` classes as dataclasses

    R = TypeVar("R")
else:
    def dataclass_transform(**options: object) -> object:
        return lambda decorator: decorator

_MISSING = object()


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    __slots__ = ("default", "factory", "repr", "compare")

    def __init__(self, default: object, factory: object, repr: bool, compare: bool) -> None:
        self.default, self.factory, self.repr, self.compare = default, factory, repr, compare


_MEMBER = type(Field.__dict__["default"])   # the descriptor type of a __slots__ entry


def field(*, default: object = _MISSING, default_factory: object = _MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's options, as the value of its class attribute (`xs: list[int] = field(default_factory=list)`)."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("a field takes a default or a default_factory, not both")
    return Field(default, default_factory, repr, compare)


def fields(obj: object) -> tuple[str, ...]:
    """The field names of a record (class or instance), bases' first."""
    return obj.__record_fields__  # type: ignore[attr-defined, no-any-return]


def replace(obj: R, **changes: object) -> R:
    """A copy of the record `obj` with some fields changed."""
    names = fields(obj)
    for name in changes:
        if name not in names:
            raise TypeError(f"{type(obj).__name__} has no field {sorted(set(changes) - set(names))[0]!r}")
    return type(obj)(**{name: changes[name] if name in changes else getattr(obj, name) for name in names})  # type: ignore[call-arg]


def _setstate(self: object, state: object) -> None:
    """Unpickling and `copy` of a frozen record with slots: set the slots past the refusing `__setattr__`."""
    slots: Any = state[1] if isinstance(state, tuple) else state
    for name, value in (slots or {}).items():
        object.__setattr__(self, name, value)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type | None = None, /, *, frozen: bool = True, slots: bool = False) -> Any:
    """Class decorator: `@record` (frozen), `@record(slots=True)`, `@record(frozen=False)`."""
    def wrap(c: type) -> type:
        return _build(c, frozen, slots)
    return wrap if cls is None else wrap(cls)


def _build(cls: type, frozen: bool, slots: bool) -> type:
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited.update(getattr(base, "__record_options__", {}))
    own: dict[str, Field] = {}
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        own[name] = value if isinstance(value, Field) else Field(value, _MISSING, True, True)
    options = {**inherited, **own}
    names = tuple(options)

    env: dict[str, object] = {"_MISSING": _MISSING, "_setattr": object.__setattr__}
    params, body, fast = [], [], []   # fast: a frozen slotted record's own class sets each slot through its descriptor
    seen_default = False
    for i, (name, f) in enumerate(options.items()):
        if f.factory is not _MISSING:
            env[f"_f{i}"] = f.factory
            params.append(f"{name}=_MISSING")
            value = f"_f{i}() if {name} is _MISSING else {name}"
        elif f.default is not _MISSING:
            env[f"_d{i}"] = f.default
            params.append(f"{name}=_d{i}")
            value = name
        else:
            if seen_default:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with a default")
            params.append(name)
            value = name
        seen_default = seen_default or f.factory is not _MISSING or f.default is not _MISSING
        body.append(f"  _setattr(self, {name!r}, {value})" if frozen else f"  self.{name} = {value}")
        fast.append(f"    _s{i}(self, {value})")
    init = body or ["  pass"]
    if frozen and slots and body:
        init = ["  if self.__class__ is _cls:", *fast, "    return", *body]
    src = "\n".join([f"def __init__(self, {', '.join(params)}):", *init])
    methods: dict[str, object] = {"__init__": _first_inits(cls.__qualname__, options, frozen, src, env)}
    methods.update(_methods(cls.__qualname__, [n for n, f in options.items() if f.repr],
                            [n for n, f in options.items() if f.compare], frozen, frozenset(names), env))

    if slots:
        namespace = {k: v for k, v in cls.__dict__.items() if k not in own and k not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = tuple(own)
        if frozen:
            namespace["__setstate__"] = _setstate
        cls = type(cls)(cls.__name__, cls.__bases__, namespace)
    else:
        for name, f in own.items():   # a Field object must not stay behind as a class attribute
            if isinstance(cls.__dict__.get(name), Field):
                if f.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
    env["_cls"] = cls
    if frozen and slots:
        for i, name in enumerate(names):
            slot = next((c.__dict__[name] for c in cls.__mro__ if name in c.__dict__), None)
            # object.__setattr__ finds this same descriptor; a field kept in an instance __dict__ (a base
            # without slots) has none, and such a class builds through the generic path
            env[f"_s{i}"] = slot.__set__ if type(slot) is _MEMBER else (lambda self, v, _n=name: object.__setattr__(self, _n, v))
    for name, fn in methods.items():
        if name in cls.__dict__ and name not in ("__setattr__", "__delattr__"):
            continue   # the class's own method wins, as with dataclasses
        fn.__qualname__ = f"{cls.__qualname__}.{name}"  # type: ignore[attr-defined]
        setattr(cls, name, fn)
    if not frozen:
        cls.__hash__ = None  # type: ignore[assignment]   # mutable and compared by value: unhashable, as dataclasses
    cls.__record_fields__ = names  # type: ignore[attr-defined]
    cls.__record_options__ = options  # type: ignore[attr-defined]
    return cls


def _methods(qualname: str, shown: list[str], compared: list[str], frozen: bool, names: frozenset[str],
             env: dict[str, object]) -> dict[str, object]:
    """`__repr__`, `__eq__` and, when frozen, `__hash__`, `__setattr__`, `__delattr__`: closures, nothing
    compiled (`env["_cls"]` is the finished class, set once it exists)."""
    key = attrgetter(*compared) if len(compared) > 1 else (lambda o: (getattr(o, compared[0]),)) if compared \
        else (lambda o: ())

    def __repr__(self: object) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self: object, other: object) -> bool:
        return key(self) == key(other) if other.__class__ is self.__class__ else NotImplemented  # type: ignore[no-any-return]

    out: dict[str, object] = {"__repr__": __repr__, "__eq__": __eq__}
    if frozen:
        def __hash__(self: object) -> int:
            return hash(key(self))

        def __setattr__(self: object, name: str, value: object) -> None:
            cls = env["_cls"]
            if type(self) is cls or name in names:
                raise FrozenRecordError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]

        def __delattr__(self: object, name: str) -> None:
            cls = env["_cls"]
            if type(self) is cls or name in names:
                raise FrozenRecordError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)  # type: ignore[arg-type]

        out.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
    return out


COMPILE_AFTER = 256   # instances a record's generic `__init__` makes before its own is compiled


def _first_inits(qualname: str, options: dict[str, Field], frozen: bool, src: str, env: dict[str, object]) -> object:
    """The `__init__` of a record's first COMPILE_AFTER instances: generic (about 1 µs more an instance, no
    compile), then it compiles `src`, the record's own (about 0.2 ms), and puts it on the class. A command
    that makes a few instances of most of its records compiles none of them."""
    names = tuple(options)
    setter = object.__setattr__ if frozen else setattr
    calls = 0

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls > COMPILE_AFTER:
            own = env["_cls"]
            if own.__dict__.get("__init__") is __init__:  # type: ignore[attr-defined]
                compiled: dict[str, Any] = {}
                exec(compile(src, f"<record {qualname}>", "exec"), env, compiled)  # our own text, no user input
                compiled["__init__"].__qualname__ = f"{qualname}.__init__"
                type.__setattr__(own, "__init__", compiled["__init__"])
                compiled["__init__"](self, *args, **kwargs)
                return
        if len(args) > len(names):
            raise TypeError(f"{qualname}.__init__() takes {len(names) + 1} positional arguments but "
                            f"{len(args) + 1} were given")
        for i, name in enumerate(names):
            if i < len(args):
                if name in kwargs:
                    raise TypeError(f"{qualname}.__init__() got multiple values for argument {name!r}")
                value = args[i]
            elif name in kwargs:
                value = kwargs.pop(name)
            else:
                f = options[name]
                if f.factory is not _MISSING:
                    value = f.factory()  # type: ignore[operator]
                elif f.default is not _MISSING:
                    value = f.default
                else:
                    raise TypeError(f"{qualname}.__init__() missing 1 required positional argument: {name!r}")
            setter(self, name, value)
        if kwargs:
            raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}")

    return __init__
