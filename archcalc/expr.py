"""Safe expressions: an `ast` whitelist compiled to closures over exact numbers.

Spec and command-line text is never given to eval, sympify or parse_expr. Allowed: numbers
(decimals read exactly: 1.15 → 23/20), names, + - * / // % **, comparisons, and/or/not,
`a if c else b`, strings (for `impl == 'torchvision'`), tuples for `in`, and the functions in
FUNCTIONS. Limits keep hostile input cheap: text length, node count, integer size, exponents.
"""
from __future__ import annotations

import ast
import functools
import math
import operator
from contextlib import contextmanager
from fractions import Fraction

from . import num
from .errors import BudgetError, ExprError, Where, did_you_mean, excerpt
from .record import field, record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator, Mapping

    Env = Mapping[str, Any]
    Compiled = Callable[[Env, bool], Any]  # (env, ideal) -> value; ideal: rounding functions are identity

MAX_TEXT = 2000
MAX_NODES = 400



MAX_EVALUATIONS = 1_000_000   # expression parts evaluated (plus items visited) while one network expands


class _Steps:
    def __init__(self, limit: int) -> None:
        self.limit, self.left = limit, limit


_BUDGETS: list[_Steps] = []


@contextmanager
def evaluation_budget(limit: int = MAX_EVALUATIONS) -> Iterator[None]:
    """Bound the work of expanding one network: every expression evaluation costs its number of parts,
    every item or repeat pass visited costs 1. Loops that add no layers (`repeat` of a false `when`,
    nested empty repeats) and passes over long aliased vars fail here, not only by the layer limit."""
    _BUDGETS.append(_Steps(limit))
    try:
        yield
    finally:
        _BUDGETS.pop()


def charge(steps: int, where: Where | None = None) -> None:
    if _BUDGETS:
        b = _BUDGETS[-1]
        b.left -= steps
        if b.left < 0:
            b.left = 0
            raise BudgetError(f"expanding the spec takes more than {b.limit:,} evaluation steps (repeats that add "
                              f"no layers, or long chains of vars evaluated on every pass?)", where)


@record
class Expr:
    text: str
    names: frozenset[str]
    run: Compiled = field(repr=False, compare=False)
    size: int = field(default=1, compare=False)   # parts (AST nodes): the cost of one evaluation

    def eval(self, env: Env, where: Where | None = None, ideal: bool = False) -> Any:
        if _BUDGETS:
            charge(self.size, where)
        try:
            return self.run(env, ideal)
        except ExprError as e:
            raise ExprError(f"{e.message} (in `{excerpt(self.text, 80)}`)", where or e.where) from None
        except RecursionError:
            raise ExprError(f"expression nests too deeply: `{self.text[:60]}`", where) from None


def _check_size(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        if v.bit_length() > num.MAX_INT_BITS:
            raise ExprError(f"number too large (over 2**{num.MAX_INT_BITS})")
    elif isinstance(v, Fraction):
        if max(v.numerator.bit_length(), v.denominator.bit_length()) > num.MAX_INT_BITS:
            raise ExprError(f"number too large (over 2**{num.MAX_INT_BITS})")
    return num.norm(v) if not isinstance(v, (bool, str)) else v


def _arith(op: Callable[[Any, Any], Any], sym: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        for v in (a, b):
            if isinstance(v, (str, bool, tuple, list)) or v is None:
                raise ExprError(f"cannot apply `{sym}` to {excerpt(v)}")
        if sym == "/":
            if b == 0:
                raise ExprError("division by zero")
            return _check_size(num.div(a, b))
        if sym in ("//", "%"):
            if b == 0:
                raise ExprError("division by zero")
            if num.is_exact(a) and num.is_exact(b):
                return _check_size(op(a, b))
            q = num.floor(num.div(a, b))
            return q if sym == "//" else num.norm(a - b * q)
        if sym == "**":
            return _power(a, b)
        if not (num.is_exact(a) and num.is_exact(b)):
            a, b = num.to_sympy(a), num.to_sympy(b)
        return _check_size(op(a, b))

    return apply


def _power(a: Any, b: Any) -> Any:
    if num.is_exact(b):
        if num.is_exact(a):
            if isinstance(b, Fraction):
                raise ExprError("fractional powers are not exact; use integer exponents")
            if abs(b) > 10_000:
                raise ExprError(f"exponent {b} is too large")
            base_bits = max(abs(Fraction(a).numerator).bit_length(), Fraction(a).denominator.bit_length())
            if base_bits > 1 and base_bits * abs(b) > num.MAX_INT_BITS:
                raise ExprError(f"number too large (over 2**{num.MAX_INT_BITS})")
            if a == 0 and b < 0:
                raise ExprError("division by zero")
            return _check_size(Fraction(a) ** b)
        if abs(b) > 64:
            raise ExprError(f"symbolic exponent {b} is too large")
    return num.norm(num.to_sympy(a) ** num.to_sympy(b))


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _arith(operator.add, "+"),
    ast.Sub: _arith(operator.sub, "-"),
    ast.Mult: _arith(operator.mul, "*"),
    ast.Div: _arith(operator.truediv, "/"),
    ast.FloorDiv: _arith(operator.floordiv, "//"),
    ast.Mod: _arith(operator.mod, "%"),
    ast.Pow: _arith(operator.pow, "**"),
}

_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


def make_divisible(v: Any, divisor: Any = 8, min_value: Any = None, round_limit: Any = Fraction(9, 10)) -> Any:
    """timm `make_divisible` / torchvision `_make_divisible`: nearest multiple of divisor, never
    below min_value (default divisor) and never more than 10% below v."""
    if num.PROBE is not None and num.PROBE.touches(v) and all(num.is_exact(x) for x in (divisor, round_limit)) \
            and (min_value is None or num.is_exact(min_value)):
        return num.PROBE.round("mdiv", v, divisor, min_value, round_limit)
    if not all(num.is_exact(x) for x in (v, divisor, round_limit)) or (min_value is not None and not num.is_exact(min_value)):
        raise ExprError("make_divisible of a symbolic value has no closed form; use ideal mode (formula --ideal), "
                        "which drops channel rounding")
    min_value = min_value or divisor
    new_v = max(min_value, math.trunc(v + Fraction(divisor, 2)) // divisor * divisor)
    return new_v + divisor if new_v < round_limit * v else new_v


def _round(x: Any, ndigits: Any = None) -> Any:
    if ndigits is not None:
        raise ExprError("round() takes one argument here (it rounds to an integer, half to even)")
    if num.is_exact(x):
        return round(Fraction(x))
    if num.PROBE is not None and num.PROBE.touches(x):
        return num.PROBE.round("round", x)
    import sympy

    return num.norm(sympy.floor(num.to_sympy(x) + sympy.Rational(1, 2)))


# name -> (function, min args, max args, is_rounding)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int, bool]] = {
    "floor": (num.floor, 1, 1, True),
    "ceil": (num.ceil, 1, 1, True),
    "int": (num.trunc, 1, 1, True),
    "trunc": (num.trunc, 1, 1, True),
    "round": (_round, 1, 2, True),
    "make_divisible": (make_divisible, 1, 4, True),
    "at_least": (lambda x, m: num.vmax(x, m), 2, 2, True),   # a floor clamp (TF-slim min_depth); ideal mode drops it
    "min": (lambda *a: functools.reduce(num.vmin, a), 1, 64, False),
    "max": (lambda *a: functools.reduce(num.vmax, a), 1, 64, False),
    "abs": (lambda x: abs(x) if num.is_exact(x) else num.norm(abs(x)), 1, 1, False),
}



class _Compiler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.names: set[str] = set()
        self.count = 0

    def reject(self, node: ast.AST, what: str) -> ExprError:
        return ExprError(f"{what} is not allowed in an expression: `{excerpt(self.text, 80)}`")

    def __call__(self, node: ast.AST) -> Compiled:
        self.count += 1
        if self.count > MAX_NODES:
            raise ExprError(f"expression is too complex (over {MAX_NODES} parts)")
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise self.reject(node, _describe(node))
        return method(node)

    def c_Expression(self, node: ast.Expression) -> Compiled:
        return self(node.body)

    def c_Constant(self, node: ast.Constant) -> Compiled:
        v = node.value
        if isinstance(v, bool) or isinstance(v, str):
            pass
        elif isinstance(v, int):
            v = _check_size(v)
        elif isinstance(v, float):
            segment = ast.get_source_segment(self.text, node) or repr(v)
            try:
                v = num.exact_decimal(segment.replace("_", ""))
            except num.NumberTooLarge as e:
                raise ExprError(str(e)) from None
            except (ValueError, ZeroDivisionError):
                raise ExprError(f"not an exact number: `{excerpt(segment)}`") from None
            v = _check_size(v)
        else:
            raise self.reject(node, f"the constant {v!r}")
        return lambda env, ideal: v

    def c_Name(self, node: ast.Name) -> Compiled:
        name = node.id
        if name.startswith("_"):
            raise self.reject(node, f"the name `{name}`")
        if name in ("True", "False", "None"):
            value = {"True": True, "False": False, "None": None}[name]
            return lambda env, ideal: value
        self.names.add(name)

        def lookup(env: Env, ideal: bool) -> Any:
            try:
                return env[name]
            except KeyError:
                hint = did_you_mean(name, set(env)) + f"; a word meant as text is quoted inside the string: \"'{name}'\""
                raise ExprError(f"unknown name `{name}`{hint}") from None

        return lookup

    def c_BinOp(self, node: ast.BinOp) -> Compiled:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise self.reject(node, f"the operator {type(node.op).__name__}")
        left, right = self(node.left), self(node.right)
        if isinstance(node.op, ast.FloorDiv):  # ideal mode (formula --ideal) drops the rounding of //
            exact_div = _BINOPS[ast.Div]
            return lambda env, ideal: (exact_div if ideal else op)(left(env, ideal), right(env, ideal))
        return lambda env, ideal: op(left(env, ideal), right(env, ideal))

    def c_UnaryOp(self, node: ast.UnaryOp) -> Compiled:
        operand = self(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda env, ideal: _arith(operator.mul, "*")(-1, operand(env, ideal))
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return lambda env, ideal: not _truth(operand(env, ideal))
        raise self.reject(node, "the operator ~")

    def c_BoolOp(self, node: ast.BoolOp) -> Compiled:
        parts = [self(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda env, ideal: all(_truth(p(env, ideal)) for p in parts)
        return lambda env, ideal: any(_truth(p(env, ideal)) for p in parts)

    def c_Compare(self, node: ast.Compare) -> Compiled:
        left = self(node.left)
        ops = []
        for op, comp in zip(node.ops, node.comparators):
            f = _CMPOPS.get(type(op))
            if f is None:
                raise self.reject(node, f"the comparison {type(op).__name__}")
            ops.append((f, self(comp)))

        def compare(env: Env, ideal: bool) -> bool:
            a = left(env, ideal)
            for f, comp in ops:
                b = comp(env, ideal)
                try:
                    result = _definite(f(a, b))
                except TypeError:
                    raise ExprError(f"cannot compare {a!r} with {b!r}") from None
                if not isinstance(result, bool):
                    raise ExprError("this comparison has no definite answer for symbolic sizes")
                if not result:
                    return False
                a = b
            return True

        return compare

    def c_IfExp(self, node: ast.IfExp) -> Compiled:
        test, body, orelse = self(node.test), self(node.body), self(node.orelse)
        return lambda env, ideal: body(env, ideal) if _truth(test(env, ideal)) else orelse(env, ideal)

    def c_Tuple(self, node: ast.Tuple) -> Compiled:
        items = [self(e) for e in node.elts]
        return lambda env, ideal: tuple(i(env, ideal) for i in items)

    c_List = c_Tuple

    def c_Call(self, node: ast.Call) -> Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else None
            hint = did_you_mean(name, set(FUNCTIONS)) if name else ""
            what = f"the function `{name}`" if name else "calling this"
            raise ExprError(f"{what} is not allowed in an expression{hint}; "
                            f"known functions: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.reject(node, "keyword or starred arguments")
        fname = node.func.id
        f, lo, hi, rounding = FUNCTIONS[fname]
        if not lo <= len(node.args) <= hi:
            raise ExprError(f"{fname}() takes {lo}..{hi} arguments, got {len(node.args)}")
        args = [self(a) for a in node.args]

        def call(env: Env, ideal: bool) -> Any:
            values = [a(env, ideal) for a in args]
            for v in values:
                if isinstance(v, (str, tuple, list)) or v is None and fname != "make_divisible":
                    raise ExprError(f"{fname}() needs numbers, got {v!r}")
            if rounding and ideal:
                return values[0]
            try:
                return _check_size(f(*values))
            except ZeroDivisionError:
                raise ExprError(f"division by zero in {fname}()") from None

        return call


def _definite(v: Any) -> Any:
    """sympy's true/false (a comparison it could decide, e.g. phi >= 0 for a positive phi) → bool."""
    return bool(v) if type(v).__name__ in ("BooleanTrue", "BooleanFalse") else v


def _truth(v: Any) -> bool:
    v = _definite(v)
    if isinstance(v, (bool, int, Fraction, str)) or v is None:
        return bool(v)
    raise ExprError("a condition on a symbolic size has no definite answer")


def _describe(node: ast.AST) -> str:
    names = {
        "Attribute": "attribute access", "Subscript": "indexing", "Lambda": "a lambda",
        "ListComp": "a comprehension", "SetComp": "a comprehension", "DictComp": "a comprehension",
        "GeneratorExp": "a comprehension", "JoinedStr": "an f-string", "Dict": "a dict",
        "Set": "a set", "NamedExpr": "assignment", "Starred": "unpacking", "Await": "await",
        "Yield": "yield", "Slice": "slicing",
    }
    return names.get(type(node).__name__, f"`{type(node).__name__}`")


_CACHE: dict[str, Expr] = {}


def compile_expr(text: str, where: Where | None = None) -> Expr:
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    if len(text) > MAX_TEXT:
        raise ExprError(f"expression is too long ({len(text)} characters, limit {MAX_TEXT})", where)
    if "\x00" in text:
        raise ExprError("expression contains a NUL byte", where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"cannot read expression `{excerpt(text, 80)}`: {e.msg}", where) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError(f"cannot read expression `{text[:60]}`: it nests too deeply", where) from None
    compiler = _Compiler(text.strip())
    try:
        run = compiler(tree)
    except ExprError as e:
        raise ExprError(e.message, where) from None
    except RecursionError:
        raise ExprError(f"expression nests too deeply: `{text[:60]}`", where) from None
    expr = Expr(text, frozenset(compiler.names), run, compiler.count)
    if len(_CACHE) < 10_000:
        _CACHE[text] = expr
    return expr


def evaluate(text: str, env: Env, where: Where | None = None, ideal: bool = False) -> Any:
    return compile_expr(text, where).eval(env, where, ideal)


def parse_constant(text: str, where: Where | None = None) -> Any:
    """A command-line value: a number or arithmetic of numbers (`6/7`, `1.15**2`), no names."""
    expr = compile_expr(text, where)
    if expr.names:
        raise ExprError(f"`{excerpt(text)}` must be a number (names are not allowed here)", where)
    return expr.eval({}, where)


__all__ = ["Expr", "compile_expr", "evaluate", "parse_constant", "make_divisible", "FUNCTIONS", "math"]
