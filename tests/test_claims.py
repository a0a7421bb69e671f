"""`archcalc check`: stated-value precision, verdicts, claim-file errors, golden output, built-in files."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import claims
from archcalc.claims import MATCH, MISMATCH, ROUNDING, parse_number, parse_stated
from archcalc.cli import cli
from archcalc.errors import SpecError
from archcalc.yamlio import load_text

DATA = Path(__file__).parent / "data"
SMALL = DATA / "claims_small.yaml"


# ---------------------------------------------------------------- stated values and their precision
@pytest.mark.parametrize("text, value, place", [
    ("854M", 854_000_000, 10**6),                 # whole mantissa: good to its last non-zero digit
    ("3.2M", 3_200_000, 10**5),                   # one decimal of M
    ("159K", 159_000, 10**3),
    ("1.8×10⁹", 1_800_000_000, 10**8),            # superscript power
    ("3.8×10^9", 3_800_000_000, 10**8),
    ("≈ 24·10⁶", 24_000_000, 10**6),
    ("2.33", Fraction(233, 100), Fraction(1, 100)),
    ("0.0625", Fraction(1, 16), Fraction(1, 10**4)),
    ("800K", 800_000, 10**5),                     # trailing zeros are not significant: one digit
    ("150K", 150_000, 10**4),
    ("60k", 60_000, 10**4),
    ("12×", 12, 1),                               # a ratio is approximate
    ("62,378,344", 62_378_344, None),             # a plain integer is exact
    ("614 400", 614_400, None),
    ("-49", -49, None),
])
def test_parse_number_precision(text: str, value: object, place: object) -> None:
    q = parse_number(text)
    assert q.value == value and q.place == place


def test_parse_options() -> None:
    assert parse_number("159K", binary=True).value == 159 * 1024          # GoogLeNet Table 1's K
    assert parse_number("15300", unit="M").place == 100 * 10**6           # "15300 (Million Mult-Adds)": 3 s.f.
    assert parse_number("300M", sig=3).place == 10**6
    assert parse_number("2.33", rounding="exact").place is None
    assert parse_number("179", rounding="nearest").place == 1
    assert parse_stated("28x28x672").shape == (28, 28, 672)
    assert parse_stated("(55x55x96)").shape == (55, 55, 96)
    assert parse_stated("5×5").shape == (5, 5)
    assert parse_stated("= 28*28*128*256").number.value == 25_690_112
    assert parse_stated("[-1, 29, 35, 8, 54]").kind == "array"
    with pytest.raises(ValueError):
        parse_stated("384 filter")


@pytest.mark.parametrize("stated, computed, rounding, verdict", [
    ("854M", 854_196_224, None, ROUNDING),
    ("62,378,344", 62_378_344, "nearest", MATCH),
    ("62,378,344", 62_378_345, "nearest", MISMATCH),
    ("854M", 854_196_224, "nearest", ROUNDING),
    ("3.2M", 3_211_264, "nearest", ROUNDING),     # 224·224·64
    ("353M", 271_351_808, "nearest", MISMATCH),
    ("2.33", Fraction(7, 3), "nearest", ROUNDING),
    ("3.6×10⁹", 3_663_761_408, "nearest", MISMATCH),   # 3.66 rounds to 3.7 ...
    ("3.6×10⁹", 3_663_761_408, "truncate", ROUNDING),  # ... and truncates to 3.6
    ("3.6×10⁹", 3_663_761_408, "either", ROUNDING),
    ("3.86", Fraction(3_857_973_248, 10**9), "nearest", ROUNDING),
    ("179", Fraction(1435, 8), "nearest", ROUNDING),   # 179.375
    ("179", Fraction(1435, 8), "exact", MISMATCH),
    ("179", Fraction(1435, 8), None, MISMATCH),        # a plain integer is exact unless a rounding is named
])
def test_verdicts(stated: str, computed: object, rounding: str | None, verdict: str) -> None:
    assert parse_number(stated, rounding=rounding).accepts(Fraction(computed), rounding) == verdict


def test_binary_k() -> None:
    # GoogLeNet conv2: 64·64 + 9·64·192 = 114,688 = 112.0 × 1024
    q = parse_number("112K", binary=True)
    assert q.accepts(Fraction(114_688), "nearest") == MATCH
    assert parse_number("112K").accepts(Fraction(114_688), "nearest") == MISMATCH


# ---------------------------------------------------------------- whole claims
def test_small_file_verdicts() -> None:
    report = claims.check([str(SMALL)])
    got = {r.claim.id: (r.verdict, r.surprise) for r in report.results}
    assert got == {"conv1-size": (MATCH, False), "stride3": (ROUNDING, False), "naive-macs": (ROUNDING, False),
                   "bottleneck-353m": ("expected mismatch", False), "maxpool": (MATCH, False)}
    assert report.ok


def _one(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text("archcalc_claims: 1\nsource: t\nclaims:\n" + body, encoding="utf-8")
    return p


def test_surprises_exit_1(tmp_path: Path) -> None:
    # expected to match, but (7 − 3)/2 + 1 = 3, not 4; and expected to mismatch but 7·7 = 49 is right
    p = _one(tmp_path, """
  - {id: a, where: w, statement: s, stated: "4", compute: {conv: {n: 7, f: 3, s: 2}, metric: output}, expect: match}
  - {id: b, where: w, statement: s, stated: "49", compute: {expr: "7*7"}, expect: mismatch, correct: "48", why: x}
""")
    report = claims.check([str(p)])
    assert [r.surprise for r in report.results] == [True, True]
    res = CliRunner().invoke(cli, ["check", str(p)], standalone_mode=False)
    assert res.return_value == 1


def test_correct_value_must_agree(tmp_path: Path) -> None:
    # 353M is wrong, but so is the claimed correction 281M: 271,351,808 → a surprise
    p = _one(tmp_path, """
  - {id: a, where: w, statement: s, stated: "353M", compute: {expr: "271351808"}, expect: mismatch, correct: "281M", why: x}
""")
    (r,) = claims.check([str(p)]).results
    assert r.surprise and "correct" in r.detail


def test_pending_claims(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("""archcalc_claims: 1
source: t
claims:
  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: match}
pending:
  - {id: b, where: w, statement: s, stated: "1.2M", compute: {spec: no_such_net, metric: params}, expect: match}
""", encoding="utf-8")
    report = claims.check([str(p)])
    assert [r.verdict for r in report.results] == [MATCH, "pending (spec missing)"]
    assert report.ok and report.counts()["pending (spec missing)"] == 1


@pytest.mark.parametrize("body, where, message", [
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: maybe}\n', ":4 claims[0].expect",
     "expect"),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: mismatch}\n', ":4 claims[0].expect",
     "correct"),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {spec: vgg16, metric: bogus}, expect: match}\n',
     ":4 claims[0].compute.metric", "metric"),
    ('  - {id: a, where: w, statement: s, stated: "four", compute: {expr: "2*2"}, expect: match}\n',
     ":4 claims[0].stated", "reads_as"),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: match, colour: red}\n',
     ":4 claims[0].colour", "unknown key"),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "__import__(1)"}, expect: match}\n',
     ":4 claims[0].compute.expr", ""),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {spec: no_such_net, metric: params}, expect: match}\n',
     ":4 claims[0]", "pending"),
])
def test_bad_claim_files(tmp_path: Path, body: str, where: str, message: str) -> None:
    p = _one(tmp_path, body)
    with pytest.raises(SpecError) as e:
        claims.check([str(p)])
    assert f"c.yaml{where}" in str(e.value) and message in str(e.value)
    res = CliRunner().invoke(cli, ["check", str(p)])
    assert res.exit_code != 0


def test_bad_claim_file_exit_2(tmp_path: Path) -> None:
    from archcalc.cli import main

    p = _one(tmp_path, "  - {id: a}\n")
    assert main(["check", str(p)]) == 2


def test_duplicate_ids() -> None:
    text = """archcalc_claims: 1
source: t
claims:
  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: match}
  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}, expect: match}
"""
    with pytest.raises(SpecError, match="x.yaml:5 .*duplicate claim id"):
        claims.parse(load_text(text, "x.yaml"), "x.yaml")


# ---------------------------------------------------------------- CLI output
def test_golden_json(golden: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"file", "id", "source", "statement", "stated", "computed", "verdict", "expected"} <= set(data[0])
    golden("claims_small.json", res.output)  # type: ignore[operator]


def test_golden_table(golden: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert res.output.rstrip().endswith(
        "5 claims: 2 match, 2 within rounding, 1 expected mismatches, 0 surprises")
    golden("claims_small.txt", res.output)  # type: ignore[operator]


def test_builtin_claim_files_pass() -> None:
    from archcalc.cli import main

    assert claims.builtin_files(), "no built-in claim files"
    assert main(["check", "--format", "json"]) == 0
