"""Printed values and their precision: the one reading rule.

A printed value is good to its last printed digit, rounded to nearest:
- every digit after a decimal point counts ("2.33" is good to 0.01, "1.50" to 0.01);
- a whole number written with a multiplier (K, M, G, B, T, ×10ⁿ, or a column unit) has its trailing
  zeros as placeholders, as in scientific notation: "800K" is 8×10⁵, "150K" 1.5×10⁵, "15300" in a
  column of millions 1.53×10¹⁰;
- a bare whole number ("4096", "179", "62,378,344", a cell of a worked example) is exact: a count, a
  size or an exact result; "≈" (or "cca", "khoảng", "~") in front marks it as rounded to its last digit.
Other readings (`truncate`, `either`, `exact`, `sig`) are departures that need a quoted justification.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .. import num
from ..record import record

NEAREST = "nearest"
ROUNDINGS = ("nearest", "truncate", "either", "exact")
SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
BINARY = {"K": 2**10, "k": 2**10, "M": 2**20, "G": 2**30}
UNITS = {"1": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_POWER = re.compile(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
MAX_EXPONENT = 30          # 10^30 is far past any network's count; larger powers are refused unexpanded
MAX_DIGITS = 40
MAX_SIG = 40
MAX_TEXT = 4000
MAX_CELLS = 10_000


def _normal(text: str) -> str:
    """Superscript powers become `10^n`: "1.8×10⁹" → "1.8×10^9"."""
    return _POWER.sub(lambda m: "10^" + m.group(1).translate(SUPERSCRIPT), text.strip())


@record
class Quantity:
    """A printed number: its exact value and the place of its last significant digit (None: exact)."""

    value: Fraction
    place: Fraction | None = None

    def accepts(self, x: Fraction, rounding: str = NEAREST) -> str:
        """`match`, `within rounding` or `mismatch` for the exact computed value x."""
        if x == self.value:
            return "match"
        if self.place is None or rounding == "exact":
            return "mismatch"
        modes = ("nearest", "truncate") if rounding == "either" else (rounding,)
        return "within rounding" if any(round_to(x, self.place, m) == self.value for m in modes) else "mismatch"


def round_to(x: Fraction, place: Fraction, mode: str = NEAREST) -> Fraction:
    """x rounded to a multiple of place: nearest (halves away from zero) or truncated."""
    q = abs(x) / place
    steps = int(q) if mode == "truncate" else int(q + Fraction(1, 2))
    return (steps * place) * (1 if x >= 0 else -1)


_SEP = "[,\u00a0\u2009\u202f ]"
_NUMBER = re.compile(
    r"^(?P<approx>≈|~|cca\.?|khoảng)?\s*(?P<sign>[-−+]?)\s*"
    rf"(?P<int>\d{{1,3}}(?:{_SEP}\d{{3}})+|\d+)(?:[.](?P<frac>\d+))?\s*"
    r"(?:(?P<suffix>[kKMGBT])|(?:[×x·*]\s*10\s*(?:\^|\*\*)?\s*(?P<exp>[-−]?\d+)))?\s*(?P<times>[×x%])?$")
_SHAPE = re.compile(r"^\(?\s*(\d+(?:\s*[x×]\s*\d+)+)\s*\)?$")
_SQUARE = re.compile(r"^(\d{1,9})²\s*[x×]\s*(\d{1,9})$")    # "112²×32": a 112×112 map of 32 channels
_TOKEN = re.compile(r"\s*(\[|\]|,|[-−]?\d+(?:\.\d+)?)")


@record
class Stated:
    kind: str                                   # number | shape | array
    number: Quantity | None = None
    shape: tuple[int, ...] = ()
    array: Any = None                           # nested lists of Quantity


@record
class Reading:
    """How a printed value is read: the default is nearest to the last printed digit."""

    rounding: str = NEAREST
    binary: bool = False
    unit: str | None = None
    sig: int | None = None

    def departures(self) -> list[str]:
        out = []
        if self.rounding != NEAREST:
            out.append(self.rounding)
        if self.sig is not None:
            out.append(f"{self.sig} significant digits")
        if self.unit is not None:
            out.append(f"unit {self.unit}")
        if self.binary:
            out.append("binary K/M (1024)")
        return out

    def describe(self) -> str:
        parts = self.departures()
        return NEAREST if not parts else ", ".join(parts) if self.rounding != NEAREST else ", ".join([NEAREST] + parts)


def parse_stated(text: str, reading: Reading | None = None) -> Stated:
    """Read a printed value with its precision; ValueError when it is not a number, shape or array."""
    reading = reading or Reading()
    if len(text) > MAX_TEXT:
        raise ValueError(f"the value is too long ({len(text)} characters; at most {MAX_TEXT})")
    t = _normal(text)
    if t.startswith("="):
        from ..errors import ArchcalcError
        from ..expr import parse_constant

        try:
            value = parse_constant(t[1:])
        except ArchcalcError as e:
            raise ValueError(f"cannot evaluate {_short(text)}: {getattr(e, 'message', e)}") from None
        return Stated("number", number=Quantity(Fraction(value), None))
    if t.startswith("["):
        return Stated("array", array=_parse_array(t, reading))
    sq = _SQUARE.match(t)
    if sq:
        return Stated("shape", shape=(int(sq.group(1)), int(sq.group(1)), int(sq.group(2))))
    m = _SHAPE.match(t)
    if m and not _NUMBER.match(t):
        dims = re.split(r"\s*[x×]\s*", m.group(1))
        if any(len(d) > MAX_DIGITS for d in dims):
            raise ValueError(f"a dimension of {_short(text)} is too long")
        return Stated("shape", shape=tuple(int(d) for d in dims))
    return Stated("number", number=parse_number(t, reading))


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def parse_number(text: str, reading: Reading | None = None) -> Quantity:
    reading = reading or Reading()
    t = _normal(text)
    m = _NUMBER.match(t)
    if not m:
        raise ValueError(f"cannot read {_short(text)} as a number")
    whole = re.sub(_SEP, "", m.group("int"))
    frac = m.group("frac") or ""
    if len(whole) + len(frac) > MAX_DIGITS:
        raise ValueError(f"{_short(text)} has more than {MAX_DIGITS} digits")
    exp_text = (m.group("exp") or "0").replace("−", "-")
    if len(exp_text.lstrip("-")) > 3 or abs(int(exp_text)) > MAX_EXPONENT:
        raise ValueError(f"the power of ten in {_short(text)} is out of range (at most 10^{MAX_EXPONENT})")
    if reading.sig is not None and not 1 <= reading.sig <= MAX_SIG:
        raise ValueError(f"`sig` is between 1 and {MAX_SIG}")
    mantissa = Fraction(int(whole + frac), 10 ** len(frac))
    if m.group("sign") in ("-", "−"):
        mantissa = -mantissa
    percent = m.group("times") == "%"
    scale = Fraction(1, 100) if percent else Fraction(1)
    multiplier = m.group("times") in ("×", "x")
    if m.group("suffix"):
        s = m.group("suffix")
        scale = Fraction(BINARY[s] if reading.binary and s in BINARY else SUFFIX[s])
        multiplier = True
    elif m.group("exp"):
        scale = Fraction(num.pow10(int(exp_text[:12])))
        multiplier = True
    if reading.unit is not None:
        if reading.unit not in UNITS:
            raise ValueError(f"unknown unit {reading.unit!r} (known: {', '.join(UNITS)})")
        scale *= BINARY[reading.unit] if reading.binary and reading.unit in BINARY else UNITS[reading.unit]
        multiplier = multiplier or reading.unit != "1"
    approximate = bool(frac or multiplier or m.group("approx") or m.group("times") in ("×", "x") or reading.sig is not None)
    if reading.rounding == "exact" or not approximate:
        return Quantity(mantissa * scale, None)
    digits = whole.lstrip("0")
    if reading.sig is not None:
        place = Fraction(num.pow10(len(digits) - reading.sig)) if digits else Fraction(1, 10 ** len(frac))
    elif frac:
        place = Fraction(1, 10 ** len(frac))
    elif multiplier and digits.rstrip("0"):
        place = Fraction(num.pow10(len(digits) - len(digits.rstrip("0"))))
    else:
        place = Fraction(1)
    return Quantity(mantissa * scale, place * scale)


def _parse_array(text: str, reading: Reading) -> Any:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot read {_short(text)} as a list of numbers")
        tokens.append(m.group(1))
        if len(tokens) > 3 * MAX_CELLS:
            raise ValueError(f"the list has more than {MAX_CELLS} numbers")
        pos = m.end()

    def parse(i: int, depth: int) -> tuple[Any, int]:
        if depth > 4:
            raise ValueError(f"{_short(text)} nests deeper than 4 levels")
        if tokens[i] != "[":
            return parse_number(tokens[i].replace("−", "-"), reading), i + 1
        items, i = [], i + 1
        while i < len(tokens) and tokens[i] != "]":
            item, i = parse(i, depth + 1)
            items.append(item)
            if i < len(tokens) and tokens[i] == ",":
                i += 1
        if i >= len(tokens):
            raise ValueError(f"unbalanced brackets in {_short(text)}")
        return items, i + 1

    try:
        value, end = parse(0, 0)
    except IndexError:
        raise ValueError(f"cannot read {_short(text)} as a list of numbers") from None
    if end != len(tokens):
        raise ValueError(f"unexpected text after the list in {_short(text)}")
    return value
