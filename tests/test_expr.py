"""Safe expressions: exact arithmetic, the rounding functions, and hostile input rejected unexecuted."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from archcalc.errors import ExprError
from archcalc.expr import compile_expr, evaluate, make_divisible, parse_constant


def ev(text: str, **env: Any) -> Any:
    return evaluate(text, env)


# ---------------------------------------------------------------- exactness
def test_decimals_are_exact() -> None:
    assert ev("1.15") == Fraction(23, 20)
    # 224·1.15² = 224·529/400 = 118,496/400 = 7,406/25 (= 296.24)
    assert ev("224*1.15**2") == Fraction(7406, 25)
    assert ev("0.1 + 0.2") == Fraction(3, 10)
    assert ev("1e3") == 1000 and type(ev("1e3")) is int
    assert ev("2.5e-1") == Fraction(1, 4)


def test_integer_results_are_ints() -> None:
    for text, value in [("6/3", 2), ("224*0.5", 112), ("2**10", 1024), ("7//2", 3), ("-7//2", -4), ("7 % 3", 1)]:
        v = ev(text)
        assert v == value and type(v) is int, text


def test_operators_and_precedence() -> None:
    assert ev("2 + 3*4") == 14
    assert ev("(2 + 3)*4") == 20
    assert ev("2**3**2") == 512      # right-associative: 2**9
    assert ev("-2**2") == -4
    assert ev("1/3 + 1/6") == Fraction(1, 2)
    assert ev("a*b + c", a=3, b=Fraction(1, 2), c=1) == Fraction(5, 2)


def test_rounding_functions() -> None:
    assert ev("int(7/2)") == 3 and ev("int(-7/2)") == -3          # truncation toward zero
    assert ev("floor(-7/2)") == -4 and ev("ceil(7/2)") == 4
    assert ev("int(32*0.75)") == 24                                # TF-slim depth multiplier
    assert ev("int(1.15**2*10)") == 13                             # 13.225 → 13
    assert ev("round(5/2)") == 2 and ev("round(7/2)") == 4         # half to even, as Python
    assert ev("min(3, 1, 2)") == 1 and ev("max(3, 1.5)") == 3 and ev("abs(-5/2)") == Fraction(5, 2)
    assert ev("ceil(3.1*18)") == 56                                # EfficientNet depth: ceil(55.8)


# make_divisible (timm helpers.py / torchvision _utils.py):
#   new_v = max(min_value, int(v + divisor/2) // divisor * divisor); if new_v < 0.9·v: new_v += divisor
@pytest.mark.parametrize("args, expected", [
    ((32,), 32),                          # int(36)//8*8 = 32
    ((11,), 16),                          # int(15)//8*8 = 8 < 9.9 → 8 + 8 = 16 (the 10% bump)
    ((3,), 8),                            # max(8, int(7)//8*8 = 0) = 8
    ((Fraction(24),), 24),                # 32·0.75: int(28)//8*8 = 24
    ((Fraction(92, 5),), 24),             # 18.4: int(22.4) = 22 → 16 < 16.56 → 24
    ((Fraction(99, 5),), 24),             # 19.8: int(23.8) = 23 → 16 < 17.82 → 24
    ((20,), 24),                          # int(24)//8*8 = 24
    ((19,), 24),                          # int(23)//8*8 = 16 < 0.9·19 = 17.1 → 24
    ((Fraction(56, 5),), 16),             # 11.2 (= 16·0.7): int(15.2)//8*8 = 8 < 10.08 → 16
])
def test_make_divisible(args: tuple[Any, ...], expected: int) -> None:
    assert make_divisible(*args) == expected
    assert ev("make_divisible(" + ", ".join(str(a) if not isinstance(a, Fraction) else f"{a.numerator}/{a.denominator}"
                                           for a in args) + ")") == expected


def test_make_divisible_divisor_and_min_value() -> None:
    assert make_divisible(10, 4) == 12              # int(12)//4*4 = 12
    assert make_divisible(5, 4, 8) == 8              # max(8, int(7)//4*4 = 4) = 8
    assert make_divisible(Fraction(57, 2), 4) == 28  # int(30.5)//4*4 = 28 ≥ 25.65
    assert make_divisible(36, 16) == 48              # int(44)//16*16 = 32 < 0.9·36 = 32.4 → 48


# ---------------------------------------------------------------- comparisons and strings
def test_comparisons_and_conditions() -> None:
    assert ev("1 < 2 < 3") is True and ev("1 < 3 < 2") is False
    assert ev("impl == 'torchvision'", impl="torchvision") is True
    assert ev("impl != 'paper' and n > 2", impl="slides", n=3) is True
    assert ev("not (a or b)", a=False, b=0) is True
    assert ev("x in ('a', 'b')", x="b") is True and ev("x not in ['a']", x="b") is True
    assert ev("224 if impl == 'torchvision' else 227", impl="slides") == 227
    assert ev("1.5 == 3/2") is True


def test_strings_cannot_do_arithmetic() -> None:
    with pytest.raises(ExprError, match="cannot apply"):
        ev("'a' * 1000000")
    with pytest.raises(ExprError):
        ev("'a' + 'b'")
    with pytest.raises(ExprError, match="needs numbers"):
        ev("floor('3')")


# ---------------------------------------------------------------- hostile input (the whitelist itself; the CLI-level
# bad-input corpus, with canaries, subprocesses and memory limits, is tests/test_bad_input.py)
HOSTILE = [
    "__import__('os')",
    "__import__('os').system('touch /tmp/archcalc_pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "(1).__class__",
    "x.real",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('x=1')",
    "getattr(1, 'real')",
    "[1, 2][0]",
    "'abc'[0]",
    "'abc'[1:2]",
    "lambda: 1",
    "[i for i in (1, 2)]",
    "{i for i in (1, 2)}",
    "{i: i for i in (1, 2)}",
    "sum(i for i in (1, 2))",
    "f'{1}'",
    "(y := 3)",
    "{'a': 1}",
    "{1, 2}",
    "*x",
    "~1",
    "1 @ 2",
    "1 << 2",
    "1 | 2",
    "1 if",
    "import os",
    "x = 1",
    "9**9**9",
    "2**100000",
    "10**5000",
    "(2**4000)**2",
    "2**4000 * 2**4000",
    "'" + "a" * 5000 + "'",
    "1" * 5000,
    "(" * 10_000 + "1" + ")" * 10_000,
    "(" * 150 + "1" + ")" * 150 + "+" + "+".join(["1"] * 500),
    "-" * 1000 + "1",
    "(1,)*1000000000",
    "(1, 2) + 1",
    "'a' < 1",
    "1 in 2",
    "x in 3",
    "max((1, 2))",
    "floor([1])",
    "make_divisible(8, 0)",
    "1/0",
    "1//0",
    "1 % 0",
    "0**-1",
    "2**0.5",
    "None + 1",
    "min()",
    "max(*[1])",
    "round(1, 2)",
    "floor(x=1)",
    "\x00",
    "",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_input_rejected(text: str) -> None:
    import os

    with pytest.raises(ExprError):
        evaluate(text, {"x": 1})
    assert not os.path.exists("/tmp/archcalc_pwned")


def test_deep_nesting_within_length_limit() -> None:
    # 900 nested parentheses fit in the text limit but not in Python's parser: still an ExprError
    with pytest.raises(ExprError):
        evaluate("(" * 900 + "1" + ")" * 900, {})


def test_unknown_name_did_you_mean() -> None:
    with pytest.raises(ExprError, match=r"unknown name `alpah` \(did you mean alpha\?\)"):
        ev("alpah * 2", alpha=1, beta=2)
    with pytest.raises(ExprError, match="did you mean floor"):
        ev("flor(2.5)")


def test_compile_does_not_evaluate() -> None:
    e = compile_expr("a + b*2")
    assert e.names == frozenset({"a", "b"})
    assert e.eval({"a": 1, "b": Fraction(1, 2)}) == 2


def test_parse_constant() -> None:
    assert parse_constant("6/7") == Fraction(6, 7)
    assert parse_constant("1.15**2") == Fraction(529, 400)
    with pytest.raises(ExprError, match="names are not allowed"):
        parse_constant("H")


def test_symbolic_values() -> None:
    import sympy

    H = sympy.Symbol("H", positive=True, integer=True)
    assert sympy.simplify(ev("(H - 3)/1 + 1", H=H) - (H - 2)) == 0
    # an undecidable condition on a symbol is an error, not a guess
    with pytest.raises(ExprError, match="symbolic"):
        ev("1 if H > 7 else 2", H=H)
