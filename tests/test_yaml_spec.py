"""YAML and spec errors: each names the file, the line and the YAML path; the CLI prints one line
`archcalc: error: …` on stderr, exits 2, and never shows a traceback."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import pytest

from archcalc.analysis import analyze
from archcalc.errors import ArchcalcError, SpecError
from archcalc.spec import loads

HEAD = "archcalc: 1\nname: t\ninput: [4, 8, 8]\n"

# (id, spec text, message fragment, line, YAML path fragment or None)
CASES: list[tuple[str, str, str, int | None, str | None]] = [
    ("malformed", HEAD + "body: [relu\n", "malformed YAML", None, None),
    ("malformed_indent", HEAD + "body:\n  - relu\n - gap\n", "malformed YAML", None, None),
    ("duplicate_key", HEAD + "body: [relu]\nname: u\n", "duplicate key `name`", 5, "name"),
    ("duplicate_arg", HEAD + "body:\n  - conv: {c: 8, k: 3, k: 1}\n", "duplicate key `k`", 5, "body[0].conv.k"),
    ("unknown_op", HEAD + "body:\n  - relu\n  - conv2: {c: 8, k: 1}\n", "unknown op or block `conv2` (did you mean conv", 6,
     "body[1].conv2"),
    ("unknown_arg", HEAD + "body:\n  - conv: {c: 8, k: 1, biass: false}\n", "has no argument `biass` (did you mean bias?)", 5,
     "body[0].conv.biass"),
    ("unknown_top_key", HEAD + "bodyy: [relu]\nbody: [relu]\n", "unknown key `bodyy` (did you mean body?)", 4, "bodyy"),
    ("unknown_repeat_key", HEAD + "body:\n  - repeat: {n: 2, bdy: [relu], body: [relu]}\n", "unknown key `bdy` (did you mean body?)", 5,
     "body[0].repeat.bdy"),
    ("unknown_block", HEAD + "blocks:\n  convs: {params: [c], body: [{conv: {c: c, k: 1}}]}\nbody:\n  - convz: {c: 8}\n",
     "unknown op or block `convz` (did you mean conv, convs", 7, "body[0].convz"),
    ("unknown_block_param", HEAD + "blocks:\n  convs: {params: [c], body: [{conv: {c: c, k: 1}}]}\nbody:\n  - convs: {cc: 8}\n",
     "block `convs` has no parameter `cc` (did you mean c?)", 7, "body[0]"),
    ("missing_block_param", HEAD + "blocks:\n  convs: {params: [c], body: [{conv: {c: c, k: 1}}]}\nbody:\n  - convs: {}\n",
     "block `convs` needs `c`", 7, "body[0]"),
    ("missing_arg", HEAD + "body:\n  - relu\n  - conv: {k: 3}\n", "`conv` needs `c`", 6, "body[1].conv"),
    ("missing_body", HEAD, "needs `body`", None, None),
    ("bool_for_int", HEAD + "body:\n  - conv: {c: true, k: 1}\n", "expected a whole number, got True", 5, "body[0].conv.c"),
    ("list_for_int", HEAD + "body:\n  - conv: {c: [1, 2], k: 1}\n", "expected a whole number", 5, "body[0].conv.c"),
    ("fraction_for_int", HEAD + "body:\n  - conv: {c: 2.5, k: 1}\n", "expected a whole number, got 5/2", 5, "body[0].conv.c"),
    ("int_for_bool", HEAD + "body:\n  - conv: {c: 8, k: 1, bias: 3}\n", "expected true or false", 5, "body[0].conv.bias"),
    ("bad_pad_word", HEAD + "body:\n  - conv: {c: 8, k: 1, p: full}\n", "unknown name `full`", 5, "body[0].conv.p"),
    ("bad_round", HEAD + "body:\n  - conv: {c: 8, k: 1, round: up}\n", "unknown name `up`", 5, "body[0].conv.round"),
    ("mapping_item", HEAD + "body:\n  - {conv: {c: 8, k: 1}, relu: null}\n", "one op or block key", 5, "body[0]"),
    ("number_item", HEAD + "body:\n  - 3\n", "expected an op, a block or a construct", 5, "body[0]"),
    ("non_integer_size", "archcalc: 1\nname: t\ninput: [1, 7, 7]\nbody:\n  - relu\n  - {conv: {c: 1, k: 3, s: 3}, name: convA}\n",
     "layer convA (conv): output height (7 + 2·0 − 3)/3 + 1 = 7/3 ≈ 2.333 is not an integer", 6, "body[1]"),
    ("kernel_too_large", HEAD + "body:\n  - {conv: {c: 1, k: 11, s: 4}, name: big}\n",
     "layer big (conv): output height (8 + 2·0 − 11)/4 + 1", 5, "body[0]"),
    ("add_channel_mismatch", HEAD + "body:\n  - add:\n      - [{conv: {c: 16, k: 1}}]\n      - []\n",
     "add: branch 1 gives 4×8×8 but branch 0 gives 16×8×8", 5, "body[0]"),
    ("concat_spatial_mismatch", HEAD + "body:\n  - concat:\n      - [{conv: {c: 16, k: 3}}]\n      - []\n",
     "concat: branch 1 gives 4×8×8 but branch 0 gives 16×6×6", 5, "body[0]"),
    ("groups", HEAD + "body:\n  - {conv: {c: 6, k: 1, groups: 3}}\n", "groups=3 does not divide the 4 input channels", 5, "body[0]"),
    ("join_one_branch", HEAD + "body:\n  - add: [[relu]]\n", "at least two branches", 5, "body[0].add"),
    ("mul_no_branch", HEAD + "body:\n  - mul: []\n", "at least one branch", 5, "body[0].mul"),
    ("recursive_block", HEAD + "blocks:\n  loop: {body: [relu, loop]}\nbody:\n  - loop\n",
     "block `loop` calls itself (loop → loop)", 5, "blocks.loop.body[1]"),
    ("mutual_recursion", HEAD + "blocks:\n  ping: {body: [pong]}\n  pong: {body: [relu, ping]}\nbody: [ping]\n",
     "calls itself (ping → pong → ping)", 6, "blocks.pong.body[1]"),
    ("repeat_billions", HEAD + "body:\n  - repeat: {n: 3000000000, body: [relu]}\n", "repeat count 3000000000 exceeds the layer limit", 5,
     "body[0]"),
    ("nested_repeats_billions", HEAD + "blocks:\n  b: {body: [{repeat: {n: 100000, body: [relu]}}]}\nbody:\n"
     "  - repeat: {n: 100000, body: [b]}\n", "more than 100000 layers", None, None),
    ("negative_repeat", HEAD + "body:\n  - repeat: {n: -1, body: [relu]}\n", "whole number ≥ 0, got -1", 5, "body[0]"),
    ("fraction_repeat", HEAD + "body:\n  - repeat: {n: 1.5, body: [relu]}\n", "whole number ≥ 0, got 3/2", 5, "body[0]"),
    ("alias_bomb", HEAD + "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" +
     "".join(f"x{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]\n"
             for i in range(1, 10)) + "body: [relu]\n", "alias bomb", None, None),
    ("empty", "", "the file is empty", None, None),
    ("only_comment", "# nothing\n", "the file is empty", None, None),
    ("not_mapping", "- relu\n", "expected a mapping", 1, None),
    ("two_documents", HEAD + "body: [relu]\n---\nname: u\n", "one YAML document", 6, None),
    ("bad_version", "archcalc: 2\n" + HEAD[12:] + "body: [relu]\n", "format 2", 1, "archcalc"),
    ("bad_input", "archcalc: 1\nname: t\ninput: [4, 8]\nbody: [relu]\n", "expected [C, H, W] or [F]", 3, "input"),
    ("non_integer_input", "archcalc: 1\nname: t\ninput: [4, 8.5, 8]\nbody: [relu]\n", "input height 17/2 ≈ 8.5 is not a positive whole number", 1, None),
    ("bad_expression", HEAD + "body:\n  - conv: {c: \"8 +\", k: 1}\n", "cannot read expression", 5, "body[0].conv.c"),
    ("hostile_expression", HEAD + "body:\n  - conv: {c: \"__import__('os')\", k: 1}\n", "not allowed", 5, "body[0].conv.c"),
    ("unknown_name", HEAD + "vars: {width: 8}\nbody:\n  - conv: {c: widht, k: 1}\n", "unknown name `widht` (did you mean width?)", 6,
     "body[0].conv.c"),
    ("inf", HEAD + "body:\n  - dropout: {p: .inf}\n", "not a finite number", 5, "body[0].dropout.p"),
    ("merge_key", HEAD + "base: &b {c: 8, k: 1}\nbody:\n  - conv: {<<: *b}\n", "merge keys", 6, None),
    ("python_tag", HEAD + "body: !!python/object/apply:os.system ['true']\n", "unsupported YAML tag", 4, "body"),
    ("python_tag_map", HEAD + "body:\n  - !!python/object:os.Foo {relu: null}\n", "unsupported YAML tag", 5, "body[0]"),
    ("reserved_var", HEAD + "vars: {H: 3}\nbody: [relu]\n", "`H` is reserved", 4, "vars.H"),
    ("block_named_like_op", HEAD + "blocks:\n  conv: {body: [relu]}\nbody: [relu]\n", "has the name of a built-in op", 5, "blocks.conv"),
    ("preset_unknown_var", HEAD + "vars: {a: 1}\npresets:\n  p1: {b: 2}\nbody: [relu]\n", "preset sets `b`", 6, "presets.p1.b"),
    ("condition_not_bool", HEAD + "body:\n  - {relu: null, when: \"3\"}\n", "must be true or false", 5, "body[0]"),
    ("fc_on_image", HEAD + "body:\n  - {fc: {c: 10}}\n", "add `flatten` before it", 5, "body[0]"),
]


@pytest.mark.parametrize("text, fragment, line, path", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec_errors_api(text: str, fragment: str, line: int | None, path: str | None) -> None:
    with pytest.raises(SpecError) as e:
        analyze(loads(text, "case.yaml"))
    err = e.value
    assert fragment in err.message, err
    assert err.where is not None and err.where.file == "case.yaml"
    if line is not None:
        assert err.where.line == line, str(err)
    if path is not None:
        assert err.where.path == path, str(err)


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("archcalc: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("text, fragment, line, path", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec_errors_cli(text: str, fragment: str, line: int | None, path: str | None, tmp_path: Path,
                         cli_run: Callable[..., tuple[int, str, str]]) -> None:
    f = tmp_path / "case.yaml"
    f.write_text(text, encoding="utf-8")
    code, out, err = cli_run("summary", f)
    assert code == 2
    msg = one_error_line(err)
    place = f"{f}:{line}" if line is not None else str(f)
    assert msg.startswith(f"archcalc: error: {place}"), msg
    if path is not None:
        assert msg.startswith(f"archcalc: error: {place} {path}: "), msg
    assert fragment in msg


def test_directory_binary_and_missing_files(tmp_path: Path, cli_run: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = cli_run("summary", tmp_path)
    assert code == 2 and "directory" in one_error_line(err) and str(tmp_path) in err
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(256)) * 4)
    code, _, err = cli_run("summary", garbage)
    assert code == 2 and str(garbage) in one_error_line(err)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    code, _, err = cli_run("summary", latin)
    assert code == 2 and "not UTF-8" in one_error_line(err)
    code, _, err = cli_run("summary", tmp_path / "nope.yaml")
    assert code == 2 and "no such file" in one_error_line(err)
    code, _, err = cli_run("summary", "vgg61")
    assert code == 2 and "unknown spec `vgg61` (did you mean " in one_error_line(err)


@pytest.mark.parametrize("args, fragment", [
    (["--set", "widht=3"], "no variable `widht` (did you mean width?)"),
    (["--set", "width=abc"], "`width` takes a number, got 'abc'"),
    (["--set", "width=1/0"], "division by zero"),
    (["--set", "width"], "name=value"),
    (["--set", "width=1,2"], "one value per run"),
    (["--set", "impl=tensorflow"], "`impl` must be one of paper, torchvision"),
    (["--input", "0"], "--input"),
    (["--input", "abc def"], "--input"),
    (["--input", "2x3x4x5"], "--input"),
    (["--input", "7.5"], "--input"),
    (["--input", "4"], "is not positive: the kernel (5) is larger than the padded input"),
    (["--batch", "0"], "--batch"),
    (["--convention", "keras2"], "unknown convention"),
])
def test_bad_command_line_values(args: list[str], fragment: str, tmp_path: Path,
                                 cli_run: Callable[..., tuple[int, str, str]]) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("archcalc: 1\nname: w\nvars: {width: 8}\ninput: [3, 8, 8]\nbody:\n  - {conv: {c: width, k: 5}}\n")
    assert cli_run("summary", f, "--input", "5x5", "--set", "width=2")[0] == 0
    code, out, err = cli_run("summary", f, *args)
    assert code == 2, (out, err)
    msg = one_error_line(err)
    assert fragment in msg, msg
    if args[0] == "--set" and "=" in args[1] and args[1] not in ("width=1/0", "width=1,2"):
        assert str(f) in msg  # errors about the spec's own variables name the spec file


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
