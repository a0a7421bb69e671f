"""YAML reading and spec parsing. The error cases (each naming the file, the line and the YAML
path, one line on stderr, exit 2) live in the bad-input corpus, tests/test_bad_input.py."""
from __future__ import annotations

from fractions import Fraction

import pytest

from archcalc.analysis import analyze
from archcalc.errors import ArchcalcError, SpecError
from archcalc.spec import loads

HEAD = "archcalc: 1\nname: t\ninput: [4, 8, 8]\n"


def test_exact_decimals_in_yaml() -> None:
    spec = loads(HEAD + "vars: {alpha: 1.15, beta: 0.1}\nbody: [relu]\n")
    assert spec.vars["alpha"].default == Fraction(23, 20)
    assert spec.vars["beta"].default == Fraction(1, 10)


def test_errors_are_archcalc_errors_with_exit_code_2() -> None:
    with pytest.raises(ArchcalcError) as e:
        loads("")
    assert e.value.exit_code == 2


def test_where_format() -> None:
    with pytest.raises(SpecError) as e:
        loads(HEAD + "body:\n  - relu\n  - conv: {c: 8, k: 1, s: 0.5x}\n", "specs/foo.yaml")
    assert str(e.value).startswith("specs/foo.yaml:6 body[1].conv.s: ")


def test_spec_constructs_parse() -> None:
    spec = loads(HEAD + "vars: {n: 2}\nblocks:\n  b: {params: {c: 8}, body: [{conv: {c: c, k: 1}}]}\n"
                 "body:\n  - {b: {}, name: first}\n  - {repeat: {n: n, body: [relu]}}\n"
                 "  - {if: \"n > 1\", then: [relu], else: [gap]}\n  - {seq: [relu], when: \"n == 2\"}\n")
    a = analyze(spec)
    assert [r.layer.name for r in a.rows] == ["first.conv1", "relu1", "relu2", "relu3", "relu4"]


def test_items_written_alike_share_arguments_and_keep_their_types() -> None:
    """Items whose arguments are written alike share one mapping (the graph computes them once); `true` is
    not `1` even where the two compare equal, and an item with a name is still its own node."""
    s = loads("archcalc: 1\nname: t\ninput: [3, 8, 8]\nbody:\n- {conv: {c: 8, k: 1, bias: 1}}\n"
              "- {conv: {c: 8, k: 1, bias: true}}\n- {conv: {c: 8, k: 1, bias: 1}}\n"
              "- {conv: {c: 8, k: 1, bias: 1}, name: x}\n- {conv: {k: 1, c: 8, bias: 1}}\n")
    a, b, c, d, e = s.body
    assert a.args is c.args and a.args is d.args and type(a.args["bias"]) is int
    assert b.args == {"c": 8, "k": 1, "bias": True} and type(b.args["bias"]) is bool
    assert (a.name, d.name) == (None, "x") and [n.where.line for n in s.body] == [5, 6, 7, 8, 9]
    assert list(e.args) == ["k", "c", "bias"] and e.args is not a.args   # written in another order
