"""`archcalc check`: the one reading rule, verdicts, claim-file errors, golden output, built-in files."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import claims
from archcalc.claims import (
    MATCH,
    MISMATCH,
    ROUNDING,
    Reading,
    parse_number,
    parse_stated,
)
from archcalc.cli import cli
from archcalc.errors import SpecError
from archcalc.yamlio import load_text

DATA = Path(__file__).parent / "data"
SMALL = DATA / "claims_small.yaml"
TABLE = DATA / "claims_table.yaml"
DOC = DATA / "claims_small.txt"


# ---------------------------------------------------------------- the one reading rule
@pytest.mark.parametrize("text, value, place", [
    ("854M", 854_000_000, 10**6),                 # good to its last printed digit
    ("3.2M", 3_200_000, 10**5),
    ("159K", 159_000, 10**3),
    ("1.8×10⁹", 1_800_000_000, 10**8),            # superscript power
    ("3.8×10^9", 3_800_000_000, 10**8),
    ("≈ 24·10⁶", 24_000_000, 10**6),
    ("2.33", Fraction(233, 100), Fraction(1, 100)),
    ("0.0625", Fraction(1, 16), Fraction(1, 10**4)),
    ("1.50", Fraction(3, 2), Fraction(1, 100)),   # a printed trailing decimal zero counts
    ("800K", 800_000, 10**5),                     # with a multiplier, trailing zeros are placeholders
    ("150K", 150_000, 10**4),
    ("60k", 60_000, 10**4),
    ("50x", 50, 10),
    ("12×", 12, 1),                               # a ratio is rounded
    ("≈179", 179, 1),                             # "≈" marks a whole number as rounded
    ("62,378,344", 62_378_344, None),             # a bare whole number is exact
    ("614 400", 614_400, None),
    ("179", 179, None),
    ("-49", -49, None),
])
def test_parse_number_precision(text: str, value: object, place: object) -> None:
    q = parse_number(text)
    assert q.value == value and q.place == place


def test_table_facts_and_departures() -> None:
    assert parse_number("159K", Reading(binary=True)).value == 159 * 1024          # GoogLeNet Table 1's K
    assert parse_number("15300", Reading(unit="M")).place == 100 * 10**6           # "15300 (Million Mult-Adds)"
    assert parse_number("300M", Reading(sig=3)).place == 10**6
    assert parse_number("2.33", Reading(rounding="exact")).place is None
    assert parse_stated("28x28x672").shape == (28, 28, 672)
    assert parse_stated("(55x55x96)").shape == (55, 55, 96)
    assert parse_stated("112²×32").shape == (112, 112, 32)
    assert parse_stated("= 28*28*128*256").number.value == 25_690_112
    assert parse_stated("[-1, 29, 35, 8, 54]").kind == "array"
    with pytest.raises(ValueError):
        parse_stated("384 filter")


@pytest.mark.parametrize("stated, computed, rounding, verdict", [
    ("854M", 854_196_224, "nearest", ROUNDING),
    ("62,378,344", 62_378_344, "nearest", MATCH),
    ("62,378,344", 62_378_345, "nearest", MISMATCH),
    ("3.2M", 3_211_264, "nearest", ROUNDING),      # 224·224·64
    ("353M", 271_351_808, "nearest", MISMATCH),
    ("2.33", Fraction(7, 3), "nearest", ROUNDING),
    ("3.6×10⁹", 3_663_761_408, "nearest", MISMATCH),   # ResNet-34: 3.66 rounds to 3.7 ...
    ("3.6×10⁹", 3_663_761_408, "truncate", ROUNDING),  # ... and only truncation gives 3.6
    ("3.6×10⁹", 3_663_761_408, "either", ROUNDING),
    ("7.6×10⁹", 7_570_194_432, "nearest", ROUNDING),   # ResNet-101 in the same row rounds
    ("179", Fraction(1435, 8), "nearest", MISMATCH),   # a bare whole number is exact: 179.375 is not 179
    ("≈179", Fraction(1435, 8), "nearest", ROUNDING),
    ("3", Fraction(11, 4), "nearest", MISMATCH),       # average pooling's 2.75 printed as 3
])
def test_verdicts(stated: str, computed: object, rounding: str, verdict: str) -> None:
    assert parse_number(stated, Reading(rounding=rounding)).accepts(Fraction(computed), rounding) == verdict


def test_binary_k() -> None:
    # GoogLeNet conv2: 64·64 + 9·64·192 = 114,688 = 112.0 × 1024
    assert parse_number("112K", Reading(binary=True)).accepts(Fraction(114_688)) == MATCH
    assert parse_number("112K").accepts(Fraction(114_688)) == MISMATCH


@pytest.mark.parametrize("text", ["1×10^99999999", "1e5", "9" * 60, "1×10^31", "[" * 20 + "1" + "]" * 20])
def test_hostile_stated_values_fail_fast(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stated(text)


# ---------------------------------------------------------------- whole claims
def test_small_file_verdicts() -> None:
    report = claims.check([str(SMALL)])
    got = {r.claim.id: (r.verdict, r.surprise) for r in report.results}
    assert got == {"conv1-size": (MATCH, False), "stride3": (ROUNDING, False), "naive-macs": (ROUNDING, False),
                   "bottleneck-353m": ("expected mismatch", False), "maxpool": (MATCH, False)}
    assert report.ok
    assert all(r.as_dict()["reading"] for r in report.results)
    maxpool = next(r for r in report.results if r.claim.id == "maxpool").as_dict()
    assert maxpool["justification"] == "max pooling" and maxpool["reading"].startswith("nearest; reads as")
    assert "justification" not in next(r for r in report.results if r.claim.id == "stride3").as_dict()


def test_table_groups_candidates_and_text() -> None:
    report = claims.check([str(TABLE)])
    got = {r.claim.id: r for r in report.results}
    # cells inherit the table's unit M and its quoted justification
    assert got["a"].verdict == ROUNDING and got["a"].reading == "nearest, unit M"
    assert got["a"].as_dict()["justification"] == "Million Mult-Adds" and got["a"].as_dict()["table"] == "t1"
    assert got["b"].verdict == ROUNDING
    # candidates: x and y each fit two cells, x is listed first and decides
    assert got["c"].verdict == MATCH and got["c"].rule == "x"
    assert got["d"].verdict == ROUNDING
    assert got["e"].verdict == "undecidable" and got["e"].candidates == {"x": "85,800,000", "y": "86,700,000"}
    assert got["f"].verdict == "expected mismatch" and got["f"].correct_checked
    assert got["text-1"].verdict == "expected mismatch" and got["text-1"].claim.kind == "text"
    c = report.counts()
    assert c["undecidable"] == 1 and c["text"] == 1 and report.ok


def _one(tmp_path: Path, body: str, head: str = "claims:\n") -> Path:
    p = tmp_path / "c.yaml"
    p.write_text("archcalc_claims: 1\nsource: t\n" + head + body, encoding="utf-8")
    return p


def test_surprises_exit_1(tmp_path: Path) -> None:
    # (7 − 3)/2 + 1 = 3, not 4, and nothing records a mistake; 7·7 = 49 is right, but a mistake is recorded
    p = _one(tmp_path, """
  - {id: a, where: L1, statement: s, stated: "4", compute: {conv: {n: 7, f: 3, s: 2}, metric: output}}
  - {id: b, where: L1, statement: s, stated: "49", compute: {expr: "7*7"}, correct: "49", why: x}
""")
    report = claims.check([str(p)])
    assert [(r.verdict, r.surprise) for r in report.results] == [(MISMATCH, True), (MATCH, True)]
    res = CliRunner().invoke(cli, ["check", str(p)], standalone_mode=False)
    assert res.return_value == 1


def test_pending_claims(tmp_path: Path) -> None:
    p = _one(tmp_path, """
  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "2*2"}}
pending:
  - {id: b, where: L2, statement: s, stated: "1.2M", compute: {spec: no_such_net, metric: params}}
""")
    report = claims.check([str(p)])
    assert [r.verdict for r in report.results] == [MATCH, "pending"]
    assert report.ok and report.counts()["pending"] == 1


BAD = [
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "2*2"}, expect: match}\n', ":4 claims[0].expect",
     "unknown key"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "2*2"}, correct: "5"}\n', ":4 claims[0].why",
     "correct"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {spec: vgg16, metric: bogus}}\n',
     ":4 claims[0].compute.metric", "metric"),
    ('  - {id: a, where: L1, statement: s, stated: "four", compute: {expr: "2*2"}}\n', ":4 claims[0].stated", "reads_as"),
    ('  - {id: a, where: w, statement: s, stated: "4", compute: {expr: "2*2"}}\n', ":4 claims[0].where", "line"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "__import__(1)"}}\n',
     ":4 claims[0].compute.expr", ""),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {spec: no_such_net, metric: params}}\n',
     ":4 claims[0]", "pending"),
    # a reading without a quoted justification
    ('  - {id: a, where: L1, statement: s, stated: "3.6M", compute: {expr: "3663761"}, rounding: truncate}\n',
     ":4 claims[0].rounding", "justification"),
    ('  - {id: a, where: L1, statement: s, stated: "4", reads_as: "4", compute: {expr: "2*2"}}\n',
     ":4 claims[0].reads_as", "justification"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "4"}, sig: 2}\n', ":4 claims[0].sig",
     "justification"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {spec: vgg16, metric: params, convention: keras}}\n',
     ":4 claims[0].compute", "justification"),
    (('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "m", vars: {m: {spec: vgg16, metric: params, '
      'convention: keras}}}}\n'), ":4 claims[0].compute", "justification"),
    # a correction the computation contradicts
    ('  - {id: a, where: L1, statement: s, stated: "353M", compute: {expr: "271351808"}, correct: "281M", why: x}\n',
     ":4 claims[0]", "contradicted"),
    # issue 14: malformed computations
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {conv: {n: 5, f: 3, s: 0}, metric: output}}\n',
     ":4 claims[0].compute.conv.s", "from 1"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {conv: {n: 5, f: 3, p: 10000000}, metric: output}}\n',
     ":4 claims[0].compute.conv.p", "1,000,000"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: conv2d, x: [[1, 2], [3]], w: [[1]]}}}\n',
     ":4 claims[0].compute.forward.x[1]", "ragged"),
    (('  - {id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: max_pool2d, x: [[1, 2], [3, 4]], '
      'kernel: 2, at: [5]}}}\n'), ":4 claims[0]", "row 5"),
    (('  - {id: a, where: L1, statement: s, stated: "4", compute: {forward: {op: conv2d, x: [[1]], w: [[1]], '
      'padding: 99999999}}}\n'), ":4 claims[0].compute.forward.padding", "padding"),
    ('  - {id: a, where: L1, statement: s, stated: "1×10^99999999", compute: {expr: "2*2"}}\n', ":4 claims[0].stated",
     "power of ten"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "4"}, sig: 999999999999}\n', ":4 claims[0].sig",
     "sig"),
    ('  - {id: a, where: L1, statement: s, stated: "4", compute: {spec: vgg16, vars: {alpha: 2}, metric: params}}\n',
     ":4 claims[0]", "compute.vars.alpha"),
    # a text claim needs its correction and reason
    ('  - {id: a, kind: text, where: L1, statement: s, stated: x, correct: y}\n', ":4 claims[0]", "`why`"),
]


@pytest.mark.parametrize("body, where, message", BAD)
def test_bad_claim_files(tmp_path: Path, body: str, where: str, message: str) -> None:
    from archcalc.cli import main

    p = _one(tmp_path, body)
    with pytest.raises(SpecError) as e:
        claims.check([str(p)])
    assert f"c.yaml{where}" in str(e.value) and message in str(e.value), str(e.value)
    assert "--set" not in str(e.value)
    assert main(["check", str(p)]) == 2


def test_table_errors(tmp_path: Path) -> None:
    head = "claims: []\ntables:\n"
    # a cell outside its table
    p = _one(tmp_path, """  - id: t
    where: "Table, L10-12"
    compute: {metric: params, spec: vgg16}
    cells:
      - {id: a, where: L20, stated: "138M"}
""", head)
    with pytest.raises(SpecError, match=r"c.yaml:9 tables\[0\].cells\[0\].where: .*outside its table"):
        claims.check([str(p)])
    # a table-level unit without a quoted justification
    p = _one(tmp_path, """  - id: t
    where: "Table, L10-12"
    unit: M
    compute: {metric: params, spec: vgg16}
    cells:
      - {id: a, where: L11, stated: "138"}
""", head)
    with pytest.raises(SpecError, match=r"c.yaml:5 tables\[0\]: this table declares unit M; add `justification:`"):
        claims.check([str(p)])
    # a cell may not set a table-level fact
    p = _one(tmp_path, """  - id: t
    where: "Table, L10-12"
    compute: {metric: params, spec: vgg16}
    cells:
      - {id: a, where: L11, stated: "138", unit: M}
""", head)
    with pytest.raises(SpecError, match=r"tables\[0\].cells\[0\].unit: unknown key"):
        claims.check([str(p)])


def test_justification_must_quote_the_document(tmp_path: Path) -> None:
    p = _one(tmp_path, '  - {id: a, where: L6, statement: s, stated: "6 8 / 3 4", reads_as: "[[6,8],[3,4]]", '
                       'justification: "nowhere in the text", compute: {forward: {op: max_pool2d, '
                       'x: [[1,0,2,3],[4,6,6,8],[3,1,1,0],[1,2,2,4]], kernel: 2, stride: 2}}}\n')
    p.write_text(p.read_text(encoding="utf-8").replace("source: t", "source: claims_small.txt"), encoding="utf-8")
    with pytest.raises(SpecError, match="c.yaml:4 claims.0..justification: the justification 'nowhere in the text' is "
                                        "not a quote from claims_small.txt"):
        claims.check([str(p)], documents={"claims_small.txt": DOC.read_text(encoding="utf-8")})


def test_duplicate_ids() -> None:
    text = """archcalc_claims: 1
source: t
claims:
  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "2*2"}}
  - {id: a, where: L1, statement: s, stated: "4", compute: {expr: "2*2"}}
"""
    with pytest.raises(SpecError, match="x.yaml:5 .*duplicate claim id"):
        claims.parse(load_text(text, "x.yaml"), "x.yaml")


def test_number_lines_ignore_links() -> None:
    assert claims.has_number("Output size 5×5")
    assert not claims.has_number("![](https://images.viblo.asia/287cedf0-52f2-4b34.png)")
    assert not claims.has_number("see <https://arxiv.org/abs/1905.11946>")
    assert claims.cited_lines("Table 1, L10-12 and L20") == ((10, 12), (20, 20))


def test_cell_inherits_and_may_depart_with_its_own_quote(tmp_path: Path) -> None:
    from archcalc.claims.load import inherit

    # an expr cell in a column of spec metrics keeps only what an expr accepts
    assert inherit({"spec": "vgg16", "metric": "macs"}, {"expr": "2*2"}) == {"expr": "2*2"}
    assert inherit({"spec": "vgg16", "metric": "macs"}, {"layer": "fc1"}) == {"spec": "vgg16", "metric": "macs",
                                                                             "layer": "fc1"}
    p = _one(tmp_path, """  - id: t
    where: "Table, L10-12"
    compute: {metric: macs}
    cells:
      # 3.66 truncated to 3.6: the cell departs, with its own quote
      - {id: a, where: L11, stated: "3.6×10⁹", compute: {spec: resnet34}, rounding: truncate, justification: "quoted"}
""", "claims: []\ntables:\n")
    (r,) = claims.check([str(p)]).results
    assert r.verdict == ROUNDING and r.reading == "truncate" and r.as_dict()["justification"] == "quoted"


def test_forward_bias() -> None:
    # window [[1, 2], [3, 4]] · [[1, 0], [0, 1]] = 1 + 4 = 5, plus the bias 10
    assert claims.Evaluator().compute({"forward": {"op": "conv2d", "x": [[1, 2], [3, 4]], "w": [[1, 0], [0, 1]],
                                                   "b": 10, "at": [0, 0]}}) == 15


def test_ids_unique_across_files(tmp_path: Path) -> None:
    other = tmp_path / "d.yaml"
    other.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"d.yaml:\d+ claims\[0\]: claim id `conv1-size` is already used in"):
        claims.check([str(SMALL), str(other)])


def test_bounded_analysis_cache() -> None:
    ev = claims.Evaluator(cache_size=2)
    for n in (32, 64, 96, 128):
        ev.compute({"spec": "vgg11", "input": [3, n, n], "metric": "macs"})
    assert len(ev._analyses) == 2


# ---------------------------------------------------------------- CLI output
def test_golden_json(golden: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"file", "id", "source", "statement", "stated", "computed", "verdict", "reading", "kind"} <= set(data[0])
    golden("claims_small.json", res.output)  # type: ignore[operator]


def test_golden_table(golden: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml"], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    assert " ".join(res.output.split()).endswith(
        "5 claims: 2 match, 2 within rounding, 1 mistake in the documents (1 correction confirmed by the computation, "
        "0 in words or symbols), 0 undecidable; every verdict agrees with the claim files' record")
    golden("claims_small.txt", res.output)  # type: ignore[operator]


def test_explain(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml", "--explain", "bottleneck-353m"])
    assert res.exit_code == 0, res.output
    for line in ("statement: Tổng số: 353M ops", "reading: nearest", "expression 28*28*(3*64*256",
                 "= 271,351,808", "verdict: expected mismatch", "correct: 271M (confirmed by the computation)"):
        assert line in res.output, res.output
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml", "--explain", "conv1-size"])
    assert "(227 + 2·0 − 11)/4 + 1 = 55" in res.output   # the one-layer derivation
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_table.yaml", "--explain", "e"])
    assert "y: 86,700,000" in res.output and "verdict: undecidable" in res.output
    from archcalc.cli import main

    assert main(["check", "tests/data/claims_small.yaml", "--explain", "conv1-sise"]) == 2
    assert "did you mean conv1-size" in capsys.readouterr().err


def test_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    res = CliRunner().invoke(cli, ["check", "tests/data/claims_small.yaml", "tests/data/claims_table.yaml",
                                   "--coverage", "tests/data/claims_small.txt", "--format", "json"])
    assert res.exit_code == 0, res.output
    (cov,) = json.loads(res.output)
    lines = {ln["line"]: ln for ln in cov["lines"]}
    # lines 2-5, 7-8, 12-13 hold numbers and are cited; 9 is out of scope; 10 ("Table 1") is cited only by a pending
    # claim; 1 has no number
    assert 1 not in lines and lines[2]["claims"] == ["conv1-size"] and lines[3]["claims"] == ["stride3", "text-1"]
    assert lines[9]["status"] == "out of scope" and lines[9]["reason"] == "an error rate and a year"
    assert lines[10]["status"] == "pending" and lines[10]["claims"] == ["p"]   # its spec is not built in
    assert lines[12]["claims"] == ["a", "c", "e", "f"]
    assert cov["counts"] == {"lines with numbers": 10, "covered": 8, "pending": 1, "out of scope": 1,
                             "uncovered": 0}
    res = CliRunner().invoke(cli, ["check", "--coverage", "tests/data/claims_small.txt", "tests/data/claims_small.yaml"])
    assert "L10 UNCOVERED: Table 1 (Million Mult-Adds)" in res.output


def test_builtin_claim_files_pass() -> None:
    from archcalc.cli import main

    assert claims.builtin_files(), "no built-in claim files"
    report = claims.check()
    assert report.ok
    assert all(r.reading for r in report.results)
    # no verdict rests on a departure from the reading rule without a quoted justification
    plain = ("nearest", "text (judged by a reader)")
    assert all(r.claim.justification is not None for r in report.results if r.reading not in plain)
    assert main(["check", "--format", "json"]) == 0
