"""The op registry: one pure handler per op, `(input shapes, args) -> OpResult`.

Adding an op is one function and one `@register` line. Handlers compute with exact numbers
(ints, Fractions or sympy expressions) and never format or print.
"""
from __future__ import annotations

from .. import num
from ..errors import ShapeError, SpecError, Where
from ..expr import Expr
from ..record import field, record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

    Shape = tuple[Any, ...]
    # per spatial axis: (effective kernel, stride, padding before); "global" covers the whole input
    RFStep = tuple[Any, Any, Any]
else:
    Shape = RFStep = tuple   # at run time only a name for annotations, which are never evaluated
# rf "global": the whole current map (global pooling, flatten); "input": the whole network input
# (attention over every token, whose map may no longer be spatial)


@record
class OpResult:
    output: Shape
    params: Any = 0          # trainable parameters
    buffers: Any = 0         # non-trainable state (BN running mean/var)
    macs: Any = 0            # multiply-accumulates of weights (paper convention)
    rf: tuple[RFStep, ...] | str | None = None  # None: pointwise (receptive field unchanged)
    attrs: Mapping[str, Any] = field(default_factory=dict)  # normalised arguments for the forward pass
    counts: Mapping[str, Any] = field(default_factory=dict)  # extra tallies other conventions need


@record
class ArgSpec:
    kind: str                 # int | num | bool | pair | pad | text
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()


@record
class OpDef:
    name: str
    handler: Callable[[list[Shape], "Args"], OpResult]
    args: Mapping[str, ArgSpec]
    kind: str                 # the `op` reported in JSON (depthwise convs report `conv`)
    arity: str = "one"        # one | many (joins)
    doc: str = ""


REGISTRY: dict[str, OpDef] = {}

COMMON_ARGS = {"round": ArgSpec("text", None, choices=("exact", "floor", "ceil"))}


def register(name: str, args: Mapping[str, ArgSpec] | None = None, kind: str | None = None,
             arity: str = "one") -> Callable[[Callable[..., OpResult]], Callable[..., OpResult]]:
    def deco(fn: Callable[..., OpResult]) -> Callable[..., OpResult]:
        REGISTRY[name] = OpDef(name, fn, dict(args or {}), kind or name, arity, (fn.__doc__ or "").strip())
        return fn
    return deco


class Args:
    """Evaluated access to a layer's arguments, with errors that name the argument."""

    def __init__(self, op: OpDef, raw: Mapping[str, Any], env: Mapping[str, Any], where: Where,
                 default_round: str, ideal: bool = False) -> None:
        self.op, self.raw, self.env, self.where = op, raw, env, where
        self.default_round = default_round
        self.ideal = ideal

    def _eval(self, name: str, value: Any) -> Any:
        if isinstance(value, Expr):
            return value.eval(self.env, self._where(name), self.ideal)
        return value

    def _where(self, name: str) -> Where:
        return Where(self.where.file, self.where.line, f"{self.where.path}.{self.op.name}.{name}".lstrip("."))

    def error(self, name: str, message: str) -> SpecError:
        return SpecError(message, self._where(name))

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def value(self, name: str) -> Any:
        spec = self.op.args[name]
        if name not in self.raw or self.raw[name] is None:
            if spec.required:
                raise self.error(name, f"`{self.op.name}` needs `{name}`")
            return spec.default
        return self._eval(name, self.raw[name])

    def int(self, name: str, minimum: int = 1) -> Any:
        v = self.value(name)
        return self._check_int(name, v, minimum)

    def _check_int(self, name: str, v: Any, minimum: int) -> Any:
        if isinstance(v, (bool, str, list, tuple)) or v is None:
            raise self.error(name, f"expected a whole number, got {v!r}")
        ok = num.is_integer(v)
        if ok is False:
            raise self.error(name, f"expected a whole number, got {num.fmt(v)} ≈ {num.approx(v)}")
        if num.is_exact(v) and v < minimum:
            raise self.error(name, f"expected a whole number ≥ {minimum}, got {v}")
        return v

    def number(self, name: str) -> Any:
        v = self.value(name)
        if isinstance(v, (bool, str)) or v is None:
            raise self.error(name, f"expected a number, got {v!r}")
        return v

    def bool(self, name: str) -> bool:
        v = self.value(name)
        if not isinstance(v, bool):
            raise self.error(name, f"expected true or false, got {v!r}")
        return v

    def text(self, name: str) -> Any:
        spec = self.op.args[name]
        raw = self.raw.get(name)
        if spec.choices and isinstance(raw, Expr) and raw.text.isidentifier() and raw.text not in self.env:
            raise self.error(name, f"expected one of {', '.join(spec.choices)}, got {raw.text!r}")
        v = self.value(name)
        if v is not None and spec.choices and v not in spec.choices:
            raise self.error(name, f"expected one of {', '.join(spec.choices)}, got {v!r}")
        return v

    def pair(self, name: str, minimum: int = 1) -> tuple[Any, Any]:
        v = self.value(name)
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise self.error(name, f"expected a number or [height, width], got {len(v)} values")
            return (self._check_int(name, self._eval(name, v[0]), minimum),
                    self._check_int(name, self._eval(name, v[1]), minimum))
        v = self._check_int(name, v, minimum)
        return (v, v)

    def rounding(self) -> str:
        """exact | floor | ceil, or `ideal` (formula --ideal: sizes keep their exact fractions)."""
        return "ideal" if self.ideal else (self.text("round") or self.default_round)


def spatial(shape: Shape, op: str) -> tuple[Any, Any, Any]:
    if len(shape) != 3:
        raise ShapeError(f"`{op}` needs a C×H×W input, got a flat vector of {shape[0]}")
    return shape  # type: ignore[return-value]


from . import (  # noqa: E402,F401  (registration)
    conv,
    dense,
    elementwise,
    join,
    pool,
    slicing,  # noqa: E402,F401  (registration)
    transformer,
)
