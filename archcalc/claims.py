"""Slide arithmetic as checks: load claim files, compute each claim, compare with the stated value.

A claim quotes a statement, the value as printed (`stated`: "854M", "3.2M", "1.8×10⁹",
"62,378,344", "28x28x672", "[[6,8],[3,4]]") and what to compute. The printed value carries its
own precision:

- a plain integer or shape ("62,378,344", "28x28x672", "171") is exact;
- a decimal ("2.33", "0.0625") is good to its last printed digit;
- a value with a suffix or a power of ten ("854M", "3.2M", "1.8×10⁹"), a `unit` option, or a
  leading "≈" is good to its last significant digit; trailing zeros of a whole mantissa are not
  significant ("800K" is 8×10⁵ to one digit, "150K" 1.5×10⁵ to two) unless `sig` says so.

"Within stated rounding" means the computed value, rounded to that precision (`rounding:
nearest`, the default; `truncate`; or `either`), equals the stated one. `binary: true` reads K
and M as 1024 and 1024² (GoogLeNet's Table 1). Verdicts: `match` (exactly equal), `within
rounding`, `mismatch`; a claim expected to mismatch that does is an `expected mismatch`. A
`pending` claim whose spec is not built in yet is reported as `pending (spec missing)`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Mapping

from . import num
from .errors import ArchcalcError, SpecError, UsageError, Where, did_you_mean, printable
from .yamlio import Document, load_text, read_file

MATCH, ROUNDING, MISMATCH, EXPECTED_MISMATCH, PENDING = (
    "match", "within rounding", "mismatch", "expected mismatch", "pending (spec missing)")
EXPECTS = ("match", "mismatch")
ROUNDINGS = ("nearest", "truncate", "either", "exact")
METRICS = ("params", "trainable", "weights", "macs", "flops", "activations", "output", "channels", "size", "rf", "depth",
           "count", "exact")
CLAIM_KEYS = {"id", "where", "statement", "stated", "reads_as", "compute", "expect", "correct", "why", "note",
              "rounding", "binary", "unit", "sig", "layout", "pending"}
FILE_KEYS = {"archcalc_claims", "source", "title", "claims", "pending"}
SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
BINARY = {"K": 2**10, "k": 2**10, "M": 2**20, "G": 2**30}
UNITS = {"1": 1, "K": 10**3, "M": 10**6, "G": 10**9, "B": 10**9, "T": 10**12}
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_POWER = re.compile(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")


def _normal(text: str) -> str:
    """Superscript powers become `10^n`: "1.8×10⁹" → "1.8×10^9"."""
    return _POWER.sub(lambda m: "10^" + m.group(1).translate(SUPERSCRIPT), text.strip())


# ---------------------------------------------------------------- stated values
@dataclass(frozen=True)
class Quantity:
    """A printed number: its exact value and the place of its last significant digit (None: exact)."""

    value: Fraction
    place: Fraction | None = None

    def accepts(self, x: Fraction, rounding: str | None = None) -> str:
        """The verdict for the exact computed value x."""
        rounding = rounding or "nearest"
        if x == self.value:
            return MATCH
        if self.place is None or rounding == "exact":
            return MISMATCH
        modes = ("nearest", "truncate") if rounding == "either" else (rounding,)
        return ROUNDING if any(_round(x, self.place, m) == self.value for m in modes) else MISMATCH


def _round(x: Fraction, place: Fraction, mode: str) -> Fraction:
    q = abs(x) / place
    steps = int(q) if mode == "truncate" else int(q + Fraction(1, 2))  # nearest: halves away from zero
    return (steps * place) * (1 if x >= 0 else -1)


_SEP = "[,\u00a0\u2009\u202f ]"
_NUMBER = re.compile(
    r"^(?P<approx>≈|~|cca\.?|khoảng)?\s*(?P<sign>[-−+]?)\s*"
    rf"(?P<int>\d{{1,3}}(?:{_SEP}\d{{3}})+|\d+)(?:\.(?P<frac>\d+))?\s*"
    r"(?:(?P<suffix>[kKMGBT])|(?:[×x·*]\s*10\s*(?:\^|\*\*)?\s*(?P<exp>[-−]?\d+)))?\s*(?P<times>[×x])?$")
_SHAPE = re.compile(r"^\(?\s*(\d+(?:\s*[x×]\s*\d+)+)\s*\)?$")
_TOKEN = re.compile(r"\s*(\[|\]|,|[-−]?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Stated:
    kind: str                                   # number | shape | array
    number: Quantity | None = None
    shape: tuple[int, ...] = ()
    array: Any = None                           # nested lists of Quantity


def parse_stated(text: str, rounding: str | None = None, binary: bool = False, unit: str | None = None,
                 sig: int | None = None) -> Stated:
    """Read a printed value with its precision; ValueError when it is not a number, shape or array."""
    t = _normal(text)
    if t.startswith("="):
        from .expr import parse_constant

        try:
            value = parse_constant(t[1:])
        except ArchcalcError as e:
            raise ValueError(f"cannot evaluate {text!r}: {getattr(e, 'message', e)}") from None
        return Stated("number", number=Quantity(Fraction(value), None))
    if t.startswith("["):
        return Stated("array", array=_parse_array(t, rounding))
    m = _SHAPE.match(t)
    if m and not _NUMBER.match(t):
        return Stated("shape", shape=tuple(int(d) for d in re.split(r"\s*[x×]\s*", m.group(1))))
    return Stated("number", number=parse_number(t, rounding, binary, unit, sig))


def parse_number(text: str, rounding: str | None = None, binary: bool = False, unit: str | None = None,
                 sig: int | None = None) -> Quantity:
    t = _normal(text)
    m = _NUMBER.match(t)
    if not m:
        raise ValueError(f"cannot read {text!r} as a number")
    whole = re.sub(_SEP, "", m.group("int"))
    frac = m.group("frac") or ""
    mantissa = Fraction(int(whole + frac), 10 ** len(frac))
    if m.group("sign") in ("-", "−"):
        mantissa = -mantissa
    scale = Fraction(1)
    if m.group("suffix"):
        s = m.group("suffix")
        scale = Fraction(BINARY[s] if binary and s in BINARY else SUFFIX[s])
    elif m.group("exp"):
        scale = Fraction(num.pow10(int(m.group("exp").replace("−", "-")[:12])))
    if unit is not None:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")
        scale *= BINARY[unit] if binary and unit in BINARY else UNITS[unit]
    approximate = bool(frac or m.group("suffix") or m.group("exp") or m.group("approx") or m.group("times") or unit is not None
                       or rounding in ("nearest", "truncate", "either") or sig is not None)
    if rounding == "exact" or not approximate:
        return Quantity(mantissa * scale, None)
    digits = whole.lstrip("0")
    if sig is not None:
        place = Fraction(num.pow10(len(digits) - sig)) if digits else Fraction(1, 10 ** len(frac))
    elif frac:
        place = Fraction(1, 10 ** len(frac))
    else:
        place = Fraction(num.pow10(len(digits) - len(digits.rstrip("0")))) if digits.rstrip("0") else Fraction(1)
    return Quantity(mantissa * scale, place * scale)


def _parse_array(text: str, rounding: str | None) -> Any:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot read {text!r} as a list of numbers")
        tokens.append(m.group(1))
        pos = m.end()

    def parse(i: int) -> tuple[Any, int]:
        if tokens[i] != "[":
            return parse_number(tokens[i].replace("−", "-"), rounding), i + 1
        items, i = [], i + 1
        while i < len(tokens) and tokens[i] != "]":
            item, i = parse(i)
            items.append(item)
            if i < len(tokens) and tokens[i] == ",":
                i += 1
        if i >= len(tokens):
            raise ValueError(f"unbalanced brackets in {text!r}")
        return items, i + 1

    try:
        value, end = parse(0)
    except IndexError:
        raise ValueError(f"cannot read {text!r} as a list of numbers") from None
    if end != len(tokens):
        raise ValueError(f"unexpected text after the list in {text!r}")
    return value


# ---------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    id: str
    where: str
    statement: str
    stated: str
    compute: Mapping[str, Any]
    expect: str
    reads_as: str | None = None
    correct: str | None = None
    why: str | None = None
    note: str | None = None
    rounding: str | None = None     # None: nearest when the printed value is approximate
    binary: bool = False
    unit: str | None = None
    sig: int | None = None
    layout: str = "hwc"
    pending: bool = False
    place: Where = field(default_factory=Where)


@dataclass(frozen=True)
class ClaimFile:
    path: str
    source: str
    title: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Result:
    file: str
    claim: Claim
    source: str
    computed: Any            # int, Fraction, tuple (shape), nested lists, or None when pending
    computed_text: str
    verdict: str
    surprise: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        c = self.claim
        out: dict[str, Any] = {"file": self.file, "id": c.id, "source": self.source, "where": c.where,
                               "statement": c.statement, "stated": c.stated, "computed": _plain(self.computed),
                               "computed_text": self.computed_text, "verdict": self.verdict, "expected": c.expect,
                               "surprise": self.surprise}
        for key in ("correct", "why", "note"):
            if getattr(c, key):
                out[key] = getattr(c, key)
        if self.detail:
            out["detail"] = self.detail
        return out


def _plain(x: Any) -> Any:
    if isinstance(x, Fraction):
        return num.fmt(x)
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def builtin_files() -> list[Path]:
    from .catalog import specs_dir

    return sorted((specs_dir() / "claims").glob("*.yaml"))


def load(path: str | Path, display: str | None = None) -> ClaimFile:
    p = Path(path)
    shown = display or str(path)
    try:
        text = read_file(p, shown, "a YAML claim file")
    except FileNotFoundError:
        raise UsageError(f"no such claim file: {printable(str(path), one_line=True)}") from None
    return parse(load_text(text, shown), shown)


def parse(doc: Document, display: str) -> ClaimFile:
    data = doc.data
    if not isinstance(data, dict):
        raise SpecError("a claim file is a mapping with `source` and `claims`", doc.where(()))
    for key in data:
        if key not in FILE_KEYS:
            raise SpecError(f"unknown key `{key}` (known: {', '.join(sorted(FILE_KEYS))})", doc.where((key,)))
    if data.get("archcalc_claims", 1) != 1:
        raise SpecError("unsupported claim format version (this archcalc reads version 1)", doc.where(("archcalc_claims",)))
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise SpecError("`source` (the document the claims come from) is required", doc.where(("source",)))
    claims: list[Claim] = []
    for section in ("claims", "pending"):
        items = data.get(section, [])
        if not isinstance(items, list):
            raise SpecError(f"`{section}` must be a list of claims", doc.where((section,)))
        claims += [_claim(doc, (section, i), item, section == "pending") for i, item in enumerate(items)]
    if not claims:
        raise SpecError("the file has no claims", doc.where(("claims",)))
    seen: dict[str, Claim] = {}
    for c in claims:
        if c.id in seen:
            raise SpecError(f"duplicate claim id `{c.id}` (first at line {seen[c.id].place.line})", c.place)
        seen[c.id] = c
    return ClaimFile(display, source, str(data.get("title", "")), tuple(claims))


def _claim(doc: Document, path: tuple[Any, ...], raw: Any, pending: bool) -> Claim:
    if not isinstance(raw, dict):
        raise SpecError("a claim is a mapping with id, where, statement, stated, compute and expect", doc.where(path))
    for key in raw:
        if key not in CLAIM_KEYS:
            raise SpecError(f"unknown key `{key}` (known: {', '.join(sorted(CLAIM_KEYS))})", doc.where(path + (key,)))
    for key in ("id", "where", "statement", "stated", "compute", "expect"):
        if key not in raw:
            raise SpecError(f"missing key `{key}`", doc.where(path))
    texts = {}
    for key in ("id", "where", "statement", "stated", "reads_as", "correct", "why", "note", "unit"):
        v = raw.get(key)
        if v is not None and not isinstance(v, (str, int, Fraction)):
            raise SpecError(f"`{key}` must be text", doc.where(path + (key,)))
        texts[key] = None if v is None else (num.fmt(v) if isinstance(v, Fraction) else str(v))
    expect = raw["expect"]
    if expect not in EXPECTS:
        raise SpecError(f"`expect` is one of {', '.join(EXPECTS)}, got {expect!r}", doc.where(path + ("expect",)))
    if expect == "mismatch" and not (texts["correct"] and texts["why"]):
        raise SpecError("a claim expected to mismatch needs `correct` (the right value) and `why` (one line)",
                        doc.where(path + ("expect",)))
    rounding = raw.get("rounding")
    if rounding is not None and rounding not in ROUNDINGS:
        raise SpecError(f"`rounding` is one of {', '.join(ROUNDINGS)}, got {rounding!r}", doc.where(path + ("rounding",)))
    layout = raw.get("layout", "hwc")
    if layout not in ("hwc", "chw"):
        raise SpecError(f"`layout` is hwc or chw, got {layout!r}", doc.where(path + ("layout",)))
    sig = raw.get("sig")
    if sig is not None and (not isinstance(sig, int) or isinstance(sig, bool) or sig < 1):
        raise SpecError("`sig` (significant digits) is a whole number ≥ 1", doc.where(path + ("sig",)))
    for key in ("binary", "pending"):
        if key in raw and not isinstance(raw[key], bool):
            raise SpecError(f"`{key}` is true or false", doc.where(path + (key,)))
    claim = Claim(id=texts["id"] or "", where=texts["where"] or "", statement=texts["statement"] or "",
                  stated=texts["stated"] or "", compute=raw["compute"], expect=expect, reads_as=texts["reads_as"],
                  correct=texts["correct"], why=texts["why"], note=texts["note"], rounding=rounding,
                  binary=bool(raw.get("binary", False)), unit=texts["unit"], sig=sig, layout=layout,
                  pending=pending or bool(raw.get("pending", False)), place=doc.where(path))
    try:
        _stated(claim)
    except ValueError as e:
        raise SpecError(f"{e}; give `reads_as` with the value as a number, shape or [list]",
                        doc.where(path + ("reads_as" if claim.reads_as else "stated",))) from None
    _check_compute(doc, path + ("compute",), claim.compute)
    return claim


def _stated(c: Claim) -> Stated:
    return parse_stated(c.reads_as if c.reads_as is not None else c.stated, c.rounding, c.binary, c.unit, c.sig)


COMPUTE_KINDS = ("spec", "conv", "expr", "forward")
SPEC_KEYS = {"spec", "vars", "input", "layer", "scope", "kinds", "metric", "convention"}
CONV_KEYS = {"n", "f", "s", "p", "d", "groups", "c_in", "c_out", "bias", "transposed", "output_padding", "round"}
FORWARD_OPS = ("conv2d", "max_pool2d", "avg_pool2d")
FORWARD_KEYS = {"op", "x", "w", "b", "stride", "padding", "dilation", "kernel", "ceil_mode", "at"}


def _check_compute(doc: Document, path: tuple[Any, ...], c: Any) -> None:
    """Static checks, so a malformed claim is reported with its line before anything runs."""
    if not isinstance(c, dict):
        raise SpecError(f"`compute` is a mapping with one of {', '.join(COMPUTE_KINDS)}", doc.where(path))
    kinds = [k for k in COMPUTE_KINDS if k in c]
    if len(kinds) != 1:
        raise SpecError(f"`compute` needs exactly one of {', '.join(COMPUTE_KINDS)}", doc.where(path))
    kind = kinds[0]
    allowed = {"spec": SPEC_KEYS, "conv": {"conv", "metric"}, "expr": {"expr", "vars"},
               "forward": {"forward"}}[kind]
    for key in c:
        if key not in allowed:
            raise SpecError(f"unknown key `{key}` for a `{kind}` computation (known: {', '.join(sorted(allowed))})",
                            doc.where(path + (key,)))
    if kind in ("spec", "conv"):
        metric = c.get("metric")
        if metric not in METRICS:
            raise SpecError(f"`metric` is one of {', '.join(METRICS)}, got {metric!r}", doc.where(path + ("metric",)))
    if kind == "spec" and not isinstance(c["spec"], str):
        raise SpecError("`spec` is a built-in name or a path", doc.where(path + ("spec",)))
    if kind == "conv":
        if not isinstance(c["conv"], dict) or not {"n", "f"} <= set(c["conv"]):
            raise SpecError("`conv` needs at least n and f", doc.where(path + ("conv",)))
        for key in c["conv"]:
            if key not in CONV_KEYS:
                raise SpecError(f"unknown conv argument `{key}` (known: {', '.join(sorted(CONV_KEYS))})",
                                doc.where(path + ("conv", key)))
    if kind == "expr":
        if not isinstance(c["expr"], str):
            raise SpecError("`expr` is an expression in quotes", doc.where(path + ("expr",)))
        from .expr import compile_expr

        compile_expr(c["expr"], doc.where(path + ("expr",)))
        for name, v in (c.get("vars") or {}).items():
            if isinstance(v, dict):
                _check_compute(doc, path + ("vars", name), v)
            elif isinstance(v, str):
                from .expr import parse_constant

                parse_constant(v, doc.where(path + ("vars", name)))
            elif not num.is_exact(v):
                raise SpecError(f"`{name}` must be a number, a constant such as \"6/7\", or a computation",
                                doc.where(path + ("vars", name)))
    if kind == "forward":
        f = c["forward"]
        if not isinstance(f, dict) or f.get("op") not in FORWARD_OPS or "x" not in f:
            raise SpecError(f"`forward` needs op ({', '.join(FORWARD_OPS)}) and x", doc.where(path + ("forward",)))
        for key in f:
            if key not in FORWARD_KEYS:
                raise SpecError(f"unknown forward argument `{key}` (known: {', '.join(sorted(FORWARD_KEYS))})",
                                doc.where(path + ("forward", key)))


# ---------------------------------------------------------------- computing
class SpecMissing(Exception):
    """A pending claim's spec is not built in yet."""


class Evaluator:
    def __init__(self) -> None:
        self._analyses: dict[Any, Any] = {}

    def analysis(self, c: Mapping[str, Any]) -> Any:
        from . import catalog
        from .analysis import analyze

        try:
            catalog.resolve(c["spec"])
        except UsageError as e:
            raise SpecMissing(str(e)) from None
        inp = tuple(c["input"]) if c.get("input") is not None else None
        vars_ = dict(c.get("vars") or {})
        key = (c["spec"], tuple(sorted((k, str(v)) for k, v in vars_.items())), inp, c.get("convention", "paper"))
        if key not in self._analyses:
            self._analyses[key] = analyze(c["spec"], input=inp, vars=vars_, convention=c.get("convention", "paper"))
        return self._analyses[key]

    def compute(self, c: Mapping[str, Any]) -> Any:
        if "spec" in c:
            return self._spec(c)
        if "conv" in c:
            return self._conv(c)
        if "expr" in c:
            from .expr import evaluate, parse_constant

            env = {k: (self.compute(v) if isinstance(v, dict) else parse_constant(v) if isinstance(v, str) else v)
                   for k, v in (c.get("vars") or {}).items()}
            return num.norm(evaluate(c["expr"], env))
        return self._forward(c["forward"])

    def _spec(self, c: Mapping[str, Any]) -> Any:
        a = self.analysis(c)
        metric = c["metric"]
        if metric == "depth":
            return a.totals.depth
        rows = list(a.rows)
        if c.get("layer"):
            rows = [r for r in rows if r.layer.name == c["layer"]]
            if not rows:
                raise SpecError(f"`{a.name}` has no layer `{c['layer']}`{_near(c['layer'], [r.layer.name for r in a.rows])}")
        elif c.get("scope"):
            prefix = c["scope"] + "."
            rows = [r for r in rows if r.layer.name == c["scope"] or r.layer.name.startswith(prefix)]
            if not rows:
                raise SpecError(f"`{a.name}` has no layers in scope `{c['scope']}`")
        if c.get("kinds"):
            rows = [r for r in rows if r.layer.kind in c["kinds"]]
        if metric in ("output", "channels", "size", "rf"):
            layer = rows[-1].layer if (c.get("layer") or c.get("scope") or c.get("kinds")) else None
            shape = layer.output if layer else a.network.output
            if metric == "rf":
                return (layer.rf if layer else a.network.rf).size[0]
            return shape[0] if metric == "channels" else shape[1] if metric == "size" else tuple(shape)
        if metric == "count":
            return len(rows)
        if metric == "weights":
            return sum(r.layer.counts.get("weights", 0) for r in rows)
        if metric == "trainable":
            return num.norm(sum((r.layer.params for r in rows if not r.layer.frozen), 0))
        field_ = {"flops": "macs"}.get(metric, metric)
        total = num.norm(sum((getattr(r, field_) for r in rows), 0))
        return 2 * total if metric == "flops" else total

    def _conv(self, c: Mapping[str, Any]) -> Any:
        from . import onelayer

        args = dict(c["conv"])
        rounding = args.pop("round", "exact")
        res = onelayer.compute(**args, rounding=rounding)
        metric = c["metric"]
        if metric == "exact":
            return res.exact
        if res.error:
            raise SpecError(res.error)
        if metric == "output":
            return (args["c_out"], res.output, res.output) if args.get("c_out") else res.output
        if metric in ("params", "macs"):
            return getattr(res, metric)
        if metric == "channels" and args.get("c_out"):
            return args["c_out"]
        raise SpecError(f"metric `{metric}` is not defined for one conv layer (use output, exact, channels, params or macs)")

    def _forward(self, f: Mapping[str, Any]) -> Any:
        import numpy as np

        from . import kernels

        def arr(v: Any, depth: int) -> Any:
            a = np.array([[float(x) for x in row] for row in v], dtype=np.float64)
            return a.reshape((1,) * (depth - 2) + a.shape)

        x = arr(f["x"], 4)
        if f["op"] == "conv2d":
            out = kernels.conv2d(x, arr(f["w"], 4), None, stride=f.get("stride", 1), padding=_pad(f.get("padding", 0)),
                                 dilation=f.get("dilation", 1))
        elif f["op"] == "max_pool2d":
            out = kernels.max_pool2d(x, f["kernel"], f.get("stride"), _pad(f.get("padding", 0)),
                                     ceil_mode=bool(f.get("ceil_mode", False)))
        else:
            out = kernels.avg_pool2d(x, f["kernel"], f.get("stride"), _pad(f.get("padding", 0)),
                                     ceil_mode=bool(f.get("ceil_mode", False)))
        values: Any = [[_exact(v) for v in row] for row in out[0, 0]]
        for i in f.get("at") or []:
            values = values[i]
        return values


def _pad(p: Any) -> Any:
    return tuple(p) if isinstance(p, list) else p


def _exact(v: float) -> Any:
    return num.norm(Fraction(float(v)).limit_denominator(1 << 20))


def _near(word: str, names: list[str]) -> str:
    return did_you_mean(word, names)


# ---------------------------------------------------------------- verdicts
def compare(stated: Stated, computed: Any, claim: Claim) -> tuple[str, str]:
    """(verdict, detail) for one computed value against the stated one."""
    if stated.kind == "number":
        if isinstance(computed, tuple):
            return MISMATCH, "a shape was computed but a number is stated"
        if not num.is_exact(computed):
            return MISMATCH, f"computed {computed!r} is not a number"
        return stated.number.accepts(Fraction(computed), claim.rounding), ""  # type: ignore[union-attr]
    if stated.kind == "shape":
        if isinstance(computed, int):
            computed = (computed,) * len(stated.shape)
        if not isinstance(computed, tuple):
            return MISMATCH, "a shape is stated but a number was computed"
        shown = _layout(computed, claim.layout)
        if len(stated.shape) == 2 and len(shown) == 3:
            shown = shown[:2] if claim.layout == "hwc" else shown[1:]
        return (MATCH if tuple(shown) == stated.shape else MISMATCH), ""
    return _compare_array(stated.array, computed, claim.rounding), ""


def _compare_array(stated: Any, computed: Any, rounding: str | None) -> str:
    if isinstance(stated, Quantity):
        return stated.accepts(Fraction(computed), rounding) if num.is_exact(computed) else MISMATCH
    if not isinstance(computed, list) or len(computed) != len(stated):
        return MISMATCH
    verdicts = [_compare_array(s, c, rounding) for s, c in zip(stated, computed)]
    return MISMATCH if MISMATCH in verdicts else ROUNDING if ROUNDING in verdicts else MATCH


def _layout(shape: tuple[Any, ...], layout: str) -> tuple[Any, ...]:
    return tuple(shape[1:]) + (shape[0],) if layout == "hwc" and len(shape) == 3 else tuple(shape)


def show(value: Any, layout: str = "hwc") -> str:
    if isinstance(value, tuple):
        return "×".join(num.fmt(v) for v in _layout(value, layout))
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Fraction):
        return f"{float(value):.6g} ({value})" if value.denominator < 10**6 else f"{float(value):.6g}"
    return str(value)


def evaluate(claim: Claim, file: str, source: str, ev: Evaluator | None = None) -> Result:
    ev = ev or Evaluator()
    try:
        computed = ev.compute(claim.compute)
    except SpecMissing as e:
        if claim.pending:
            return Result(file, claim, source, None, "—", PENDING, False, str(e))
        raise SpecError(f"claim `{claim.id}`: {e} (mark the claim `pending: true` while its spec is being written)",
                        claim.place) from None
    except ArchcalcError as e:
        raise SpecError(f"claim `{claim.id}`: {getattr(e, 'message', e)}", claim.place) from None
    verdict, detail = compare(_stated(claim), computed, claim)
    surprise = (verdict == MISMATCH) != (claim.expect == "mismatch")
    if claim.expect == "mismatch" and verdict == MISMATCH:
        verdict = EXPECTED_MISMATCH
        ok, why = _correct_agrees(claim, computed)
        if not ok:
            surprise, detail = True, why
    return Result(file, claim, source, computed, show(computed, claim.layout), verdict, surprise, detail)


def _correct_agrees(claim: Claim, computed: Any) -> tuple[bool, str]:
    """A mismatch's `correct` value, when it reads as a value, must agree with what archcalc computes."""
    try:
        right = parse_stated(claim.correct or "", claim.rounding, claim.binary, claim.unit, claim.sig)
    except ValueError:
        return True, ""
    verdict, _ = compare(right, computed, claim)
    if verdict == MISMATCH:
        return False, f"the claim's `correct` value {claim.correct} disagrees with the computed {show(computed, claim.layout)}"
    return True, ""


@dataclass(frozen=True)
class Report:
    files: tuple[ClaimFile, ...]
    results: tuple[Result, ...]

    def counts(self) -> dict[str, int]:
        out = {MATCH: 0, ROUNDING: 0, EXPECTED_MISMATCH: 0, PENDING: 0, "surprises": 0}
        for r in self.results:
            if r.surprise:
                out["surprises"] += 1
            else:
                out[r.verdict] += 1
        return out

    @property
    def ok(self) -> bool:
        return not any(r.surprise for r in self.results)


def check(paths: list[str] | None = None) -> Report:
    """Load and evaluate claim files (default: the built-in ones)."""
    from .catalog import specs_dir

    if paths:
        files = [load(p) for p in paths]
    else:
        root = specs_dir().parent
        files = [load(p, str(p.relative_to(root)) if p.is_relative_to(root) else str(p)) for p in builtin_files()]
    ev = Evaluator()
    results = []
    for f in files:
        results += [evaluate(c, f.path, f"{f.source}: {c.where}", ev) for c in f.claims]
    return Report(tuple(files), tuple(results))
