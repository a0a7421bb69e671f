"""yamlio builds values straight from the parser's events: the places, aliases, YAML 1.1 scalars and the
order of errors that composing a node tree gave. Expected values follow from the YAML 1.1 spec (ints with
`0` prefixes are octal, `0x` hex, `_` separators, `a:b` base 60) and from the text of each document."""
from __future__ import annotations

import pytest

from archcalc.errors import SpecError
from archcalc.yamlio import load_text
from archcalc.yamlstream import MAX_DEPTH


def test_places_of_block_and_flow_values() -> None:
    doc = load_text("a: 1\nbody:\n  - relu\n  - conv:\n      c: 8\n      k: [3,\n          3]\n  - {gap: {}}\n", "f.yaml")
    assert doc.where(("body", 1, "conv", "k")).line == 6
    assert doc.where(("body", 1, "conv", "k", 1)).line == 7          # a flow list spread over two lines
    assert doc.where(("body", 2, "gap")).line == 8                    # same line as its item: the item answers
    assert doc.where(("body", 1, "conv")).line == 5                   # a block mapping starts at its first key
    assert doc.where(("body", 1, "conv", "missing")).line == 5        # an absent key: the nearest place
    assert doc.where(("body", 1, "missing")).line == 4
    assert str(doc.where(("body", 1, "conv", "c"))) == "f.yaml:5 body[1].conv.c"


def test_an_alias_is_a_fresh_copy_placed_at_its_anchor() -> None:
    doc = load_text("x: &a {p: [1, 2]}\ny:\n  - *a\n", "f.yaml")
    assert doc.data["y"][0] == doc.data["x"] == {"p": [1, 2]}
    doc.data["y"][0]["p"].append(3)
    assert doc.data["x"] == {"p": [1, 2]}                            # not the same list
    assert doc.where(("y", 0, "p", 1)).line == 1                      # the anchored value's own line


def test_yaml_11_integers() -> None:
    doc = load_text("a: 017\nb: 0x1F\nc: 1_000\nd: 1:30\ne: +3\nf: -0\ng: 0\nh: '12'\n", "f.yaml")
    assert doc.data == {"a": 15, "b": 31, "c": 1000, "d": 90, "e": 3, "f": 0, "g": 0, "h": "12"}


@pytest.mark.parametrize("text, message", [
    ("a: 1\na: 2\n---\nb: 1\n", "expected one YAML document"),        # several documents before a bad key
    ("a: 1\na: 2\nb: [1\n", "malformed YAML"),                         # a syntax error anywhere comes first
    ("a: *nowhere\nb: 1\nb: 2\n", "found undefined alias"),
    ("a: &x 1\nb: 1\nb: 2\nc: &x 2\n", "found duplicate anchor"),
])
def test_errors_come_in_the_composer_s_order(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_text(text, "f.yaml")


def test_nesting_is_bounded() -> None:
    deep = MAX_DEPTH + 1
    with pytest.raises(SpecError, match="YAML nesting is too deep"):
        load_text("x: " + "[" * deep + "]" * deep + "\n", "f.yaml")
    nested: list = []
    for _ in range(49):
        nested = [nested]
    assert load_text("x: " + "[" * 50 + "]" * 50 + "\n", "f.yaml").data["x"] == nested


def test_alias_bomb_names_the_line_where_the_budget_runs_out() -> None:
    # 10 × 10 × 10 × 10 × 10 = 100,000 values past the 50,000 budget: the fifth level's first alias
    # expands the fourth level (11,111 values each) five times before the budget runs out
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    with pytest.raises(SpecError, match="alias bomb") as e:
        load_text("\n".join(lines) + "\n", "f.yaml")
    assert e.value.where is not None and e.value.where.line in range(1, 7)


def test_a_place_is_the_where_of_its_path() -> None:
    """Document.place (what spec nodes keep) gives what Document.where gives: the path's own line or its
    nearest recorded ancestor's, the same text, equality, hash, repr and pickling."""
    import copy
    import pickle

    from archcalc.errors import Where

    doc = load_text("a: 1\nbody:\n  - {conv: {c: 8}}\n  - relu\n", "f.yaml")
    for path in [("body", 0), ("body", 0, "conv", "c"), ("body", 1), ("a",), ()]:
        place, where = doc.place(path), doc.where(path)
        assert (place.file, place.line, place.path, str(place), repr(place)) == \
            (where.file, where.line, where.path, str(where), repr(where))
        assert place == where and where == place and hash(place) == hash(where)
        assert pickle.loads(pickle.dumps(place)) == where and type(copy.copy(place)) is Where
    assert str(doc.place(("body", 0, "conv", "c"))) == "f.yaml:3 body[0].conv.c"
    assert doc.place(("body", 1)) != doc.place(("body", 0))
