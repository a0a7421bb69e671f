"""The bad-input corpus: every way a spec file or a command line can be wrong or hostile.

Each case runs the real CLI in a fresh process (`python -m archcalc ...`) under a 1.5 GB
address-space limit, with a 10 s timeout as a hang guard. Each must exit 2 with exactly one line
on stderr, `archcalc: error: FILE:LINE PATH: what was expected` where a file is involved, and no
traceback. Nothing in a spec is ever executed: canary expressions would create a file.

The same spec cases also run in-process through the Python API, which must raise a SpecError
with the same place. Expression-level hostile input (the whitelist itself) is unit-tested in
tests/test_expr.py (HOSTILE); its worst members are repeated here through the CLI.
"""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archcalc.analysis import analyze
from archcalc.errors import SpecError
from archcalc.spec import loads

BAD_INPUTS = Path(__file__).parent / "bad_inputs"
MEMORY_LIMIT = 1536 * 2**20   # RLIMIT_AS for every subprocess
TIMEOUT = 10                  # seconds: a hang guard, not a performance assertion

HEAD = "archcalc: 1\nname: t\ninput: [4, 8, 8]\n"

# (id, spec text, message fragment, line, YAML path or None)
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
    ("bad_round", HEAD + "body:\n  - conv: {c: 8, k: 1, round: up}\n", "expected one of exact, floor, ceil, got 'up'", 5, "body[0].conv.round"),
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
     "  - repeat: {n: 100000, body: [b]}\n", "more than 100000 layers (this repeat alone adds at least 10000000000", 7,
     "body[0]"),
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
    ("bad_input", "archcalc: 1\nname: t\ninput: [4, 8, 8, 8]\nbody: [relu]\n", "expected [C, H, W], [N, D] (tokens) or [F]", 3, "input"),
    ("non_integer_input", "archcalc: 1\nname: t\ninput: [4, 8.5, 8]\nbody: [relu]\n", "input height 17/2 ≈ 8.5 is not a positive whole number", 3, "input[1]"),
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



# ---------------------------------------------------------------- more spec cases (same shape as CASES)
TOWER = '"9**9**9**9"'
CANARY = "CANARY"   # a relative path: every subprocess runs in its own temporary directory
MORE: list[tuple[str, str, str, int | None, str | None]] = [
    # wrong top-level types
    ("top_scalar", "hello\n", "expected a mapping with `name`, `input` and `body` at the top, got `hello`", 1, None),
    ("body_number", HEAD + "body: 3\n", "expected an op, a block or a construct, got `3`", 4, "body"),
    ("vars_list", HEAD + "vars: [1, 2]\nbody: [relu]\n", "expected a mapping for `vars`, got a list", 4, "vars"),
    ("blocks_scalar", HEAD + "blocks: 7\nbody: [relu]\n", "expected a mapping for `blocks`", 4, "blocks"),
    ("input_mapping", "archcalc: 1\nname: t\ninput: {c: 3}\nbody: [relu]\n", "expected [C, H, W], [N, D] (tokens) or [F], got a mapping", 3, "input"),
    ("name_number", "archcalc: 1\nname: 3\ninput: [4, 8, 8]\nbody: [relu]\n", "expected a name", 2, "name"),
    ("args_list", HEAD + "body:\n  - conv: [8, 3]\n", "expected a mapping for the arguments of `conv`, got a list", 5, "body[0].conv"),
    # unknown names with did-you-mean
    ("unknown_when_var", HEAD + "vars: {depth: 2}\nbody:\n  - {relu: null, when: \"depht > 2\"}\n",
     "unknown name `depht` (did you mean depth?)", 6, "body[0]"),
    ("unknown_var_in_default", HEAD + "vars: {width: 8, c2: \"widht * 2\"}\nbody: [relu]\n",
     "unknown name `widht` (did you mean width?)", 4, "vars.c2"),
    ("unknown_function", HEAD + "body:\n  - conv: {c: \"flor(8.5)\", k: 1}\n", "the function `flor` is not allowed in an expression (did you mean floor?)",
     5, "body[0].conv.c"),
    ("unknown_table_key", HEAD + "body:\n  - table: {columns: [c], rows: [[8]], bdy: [relu]}\n", "unknown key `bdy` (did you mean body?)",
     5, "body[0].table.bdy"),
    # zero, negative and non-integer sizes
    ("zero_channels", HEAD + "body:\n  - conv: {c: 0, k: 1}\n", "expected a whole number ≥ 1, got 0", 5, "body[0].conv.c"),
    ("negative_kernel", HEAD + "body:\n  - conv: {c: 4, k: -3}\n", "expected a whole number ≥ 1, got -3", 5, "body[0].conv.k"),
    ("zero_stride", HEAD + "body:\n  - avgpool: {k: 3, s: 0}\n", "expected a whole number ≥ 1, got 0", 5, "body[0].avgpool.s"),
    ("zero_input", "archcalc: 1\nname: t\ninput: [0, 8, 8]\nbody: [relu]\n", "input channels 0 is not a positive whole number", 3, "input[0]"),
    ("non_integer_channels_expr", HEAD + "vars: {alpha: 0.3}\nbody:\n  - conv: {c: \"10 * alpha * 5 / 4\", k: 1}\n",
     "expected a whole number, got 15/4 ≈ 3.75", 6, "body[0].conv.c"),
    ("pool_larger_than_input", HEAD + "body:\n  - maxpool: {k: 9}\n",
     "output height (8 + 2·0 − 9)/9 + 1 = 8/9 ≈ 0.8889: the kernel (9) is larger than the padded input (8)", 5, "body[0]"),
    ("dilated_kernel_too_large", HEAD + "body:\n  - conv: {c: 4, k: 3, d: 5}\n",
     "the kernel (11) is larger than the padded input (8)", 5, "body[0]"),
    ("groups_output_channels", HEAD + "body:\n  - conv: {c: 6, k: 1, groups: 4}\n", "groups=4 does not divide the 6 output channels", 5, "body[0]"),
    ("shuffle_groups", HEAD + "body:\n  - channel_shuffle: {groups: 3}\n", "groups=3 does not divide the 4 channels", 5, "body[0]"),
    ("select_missing_channel", HEAD + "body:\n  - select: {channels: [0, 9]}\n", "channel 9 does not exist in a 4-channel input", 5, "body[0]"),
    ("three_paddings", HEAD + "body:\n  - conv: {c: 4, k: 3, p: [1, 2, 3]}\n", "expected 1, 2 or 4 padding values, got 3", 5, "body[0].conv.p"),
    ("mul_spatial_mismatch", HEAD + "body:\n  - mul:\n      - []\n      - [{maxpool: {k: 2}}]\n", "mul: 4×4×4 does not broadcast to 4×8×8",
     5, "body[0]"),
    # repeats
    ("repeat_billions_expr", HEAD + "body:\n  - repeat: {n: \"10**12\", body: [relu]}\n", "repeat count 1000000000000 exceeds the layer limit",
     5, "body[0]"),
    ("repeat_string", HEAD + "body:\n  - repeat: {n: \"'many'\", body: [relu]}\n", "repeat count must be a whole number ≥ 0", 5, "body[0]"),
    ("table_billions", HEAD + "body:\n  - table: {columns: [n], repeat: n, rows: [[100000], [100000]], body: [relu, relu]}\n",
     "more than 100000 layers", 5, "body[0].table.rows[0]"),
    # huge numbers, towers, division by zero
    ("exponent_tower", HEAD + f"body:\n  - conv: {{c: {TOWER}, k: 1}}\n", "too large", 5, "body[0].conv.c"),
    ("huge_power", HEAD + "body:\n  - conv: {c: \"10**5000\", k: 1}\n", "number too large (over 2**4096)", 5, "body[0].conv.c"),
    ("huge_product", HEAD + "body:\n  - conv: {c: \"2**4000 * 2**4000\", k: 1}\n", "number too large (over 2**4096)", 5, "body[0].conv.c"),
    ("huge_yaml_int", HEAD + "body:\n  - conv: {c: " + "9" * 2000 + ", k: 1}\n", "integer is too large (over 1300 digits)", 5, "body[0].conv.c"),
    ("long_decimal", HEAD + "body:\n  - dropout: {p: 0." + "1" * 500 + "}\n", "number is too long", 5, "body[0].dropout.p"),
    ("division_by_zero", HEAD + "body:\n  - conv: {c: \"8 / 0\", k: 1}\n", "division by zero (in `8 / 0`)", 5, "body[0].conv.c"),
    ("floor_division_by_zero", HEAD + "vars: {z: 0}\nbody:\n  - conv: {c: \"8 // z\", k: 1}\n", "division by zero", 6, "body[0].conv.c"),
    ("modulo_zero_in_when", HEAD + "body:\n  - {relu: null, when: \"3 % 0 == 1\"}\n", "division by zero", 5, "body[0]"),
    # hostile expressions (canaries: executed, each would create ./CANARY)
    ("import", HEAD + f"body:\n  - conv: {{c: \"__import__('os').system('touch {CANARY}')\", k: 1}}\n", "not allowed in an expression", 5,
     "body[0].conv.c"),
    ("open_call", HEAD + f"body:\n  - conv: {{c: \"open('{CANARY}', 'w')\", k: 1}}\n", "the function `open` is not allowed", 5, "body[0].conv.c"),
    ("attribute", HEAD + "body:\n  - conv: {c: \"(8).__class__\", k: 1}\n", "attribute access is not allowed", 5, "body[0].conv.c"),
    ("subclasses", HEAD + "body:\n  - conv: {c: \"().__class__.__bases__[0].__subclasses__()\", k: 1}\n", "not allowed", 5, "body[0].conv.c"),
    ("lambda", HEAD + f"body:\n  - conv: {{c: \"(lambda: open('{CANARY}', 'w'))()\", k: 1}}\n", "not allowed", 5, "body[0].conv.c"),
    ("comprehension", HEAD + f"body:\n  - conv: {{c: \"[open('{CANARY}', 'w') for _ in (1,)]\", k: 1}}\n", "a comprehension is not allowed",
     5, "body[0].conv.c"),
    ("fstring", HEAD + f"body:\n  - conv: {{c: \"f'{{open(\\\"{CANARY}\\\", \\\"w\\\")}}'\", k: 1}}\n", "an f-string is not allowed", 5,
     "body[0].conv.c"),
    ("walrus", HEAD + "body:\n  - conv: {c: \"(x := 8)\", k: 1}\n", "assignment is not allowed", 5, "body[0].conv.c"),
    ("long_string", HEAD + "body:\n  - conv: {c: \"'" + "a" * 5000 + "'\", k: 1}\n", "expression is too long (5002 characters, limit 2000)",
     5, "body[0].conv.c"),
    ("deep_parentheses", HEAD + "body:\n  - conv: {c: \"" + "(" * 900 + "1" + ")" * 900 + "\", k: 1}\n", "cannot read expression", 5,
     "body[0].conv.c"),
    ("many_nodes", HEAD + "body:\n  - conv: {c: \"" + "max(" + ",".join(["(1+1)*(1+1)"] * 64) + ")" + "\", k: 1}\n", "expression is too complex (over 400 parts)",
     5, "body[0].conv.c"),
    ("python_tag_canary", HEAD + f"body: !!python/object/apply:os.system ['touch {CANARY}']\n", "unsupported YAML tag", 4, "body"),
    # YAML oddities
    ("tab_indent", HEAD + "body:\n\t- relu\n", "malformed YAML", 5, None),
    ("unclosed_quote", HEAD + "body:\n  - conv: {c: \"8, k: 1}\n", "malformed YAML", None, None),
    ("recursive_alias_inline", HEAD + "x: &a [1, *a]\nbody: [relu]\n", "a YAML alias refers to a collection that contains it", 4, "x[1]"),
]
SPEC_CASES = CASES + MORE

# (id, extra args after `summary w.yaml`, message fragment, place after `archcalc: error: ` or None)
W_SPEC = "archcalc: 1\nname: w\nvars: {width: 8}\ninput: [3, 8, 8]\nbody:\n  - {conv: {c: width, k: 5}}\n"
COMMAND_LINE: list[tuple[str, list[str], str, str | None]] = [
    ("set_unknown", ["--set", "widht=3"], "--set widht: `w` has no variable `widht` (did you mean width?); its variables: width, impl",
     "{spec}:3 vars"),
    ("set_word_for_number", ["--set", "width=abc"], "--set width=abc: `width` takes a number", "{spec}:3 vars.width"),
    ("set_bool_for_number", ["--set", "width=true"], "--set width=true: `width` takes a number", "{spec}:3 vars.width"),
    ("set_bad_choice", ["--set", "impl=tensorflow"], "--set impl=tensorflow: `impl` must be one of paper, torchvision", "{spec}:1"),
    ("set_zero_width", ["--set", "width=0"], "expected a whole number ≥ 1, got 0", "{spec}:6 body[0].conv.c"),
    ("set_fraction_width", ["--set", "width=7/2"], "expected a whole number, got 7/2 ≈ 3.5", "{spec}:6 body[0].conv.c"),
    ("set_division_by_zero", ["--set", "width=1/0"], "--set width=1/0: division by zero", None),
    ("set_huge", ["--set", "width=10**5000"], "number too large", None),
    ("set_import", ["--set", f"width=__import__('os').system('touch {CANARY}')"], "not allowed", None),
    ("set_no_value", ["--set", "width"], "--set takes name=value", None),
    ("set_list", ["--set", "width=1,2"], "one value per run", None),
    ("input_zero", ["--input", "0"], "--input: sizes must be whole numbers ≥ 1, got 0", None),
    ("input_words", ["--input", "abc def"], "--input", None),
    ("input_four_sizes", ["--input", "2x3x4x5"], "--input takes N, HxW or CxHxW", None),
    ("input_fraction", ["--input", "7.5"], "--input: sizes must be whole numbers ≥ 1, got 15/2", None),
    ("input_huge", ["--input", "1e9"], "larger than any image", None),
    ("input_too_small", ["--input", "4"], "the kernel (5) is larger than the padded input (4)", "{spec}:6 body[0]"),
    ("batch_zero", ["--batch", "0"], "--batch takes a whole number ≥ 1", None),
    ("unknown_convention", ["--convention", "keras2"], "unknown convention", None),
    ("max_layers_small", ["--max-layers", "0"], None, None),   # click's own usage error
]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    workdir: Path


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(args: list[str], workdir: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "ARCHCALC_DEBUG"} | {"COLUMNS": "120", "NO_COLOR": "1"}
    p = subprocess.run([sys.executable, "-m", "archcalc", *args], cwd=workdir, capture_output=True, text=True,
                       timeout=TIMEOUT, preexec_fn=_limit, env=env)
    return Run(p.returncode, p.stdout, p.stderr, workdir)


def _jobs(root: Path) -> dict[str, tuple[list[str], Path]]:
    """Every corpus case as (command line, working directory); each in its own directory."""
    jobs: dict[str, tuple[list[str], Path]] = {}

    def workdir(case_id: str) -> Path:
        d = root / case_id
        d.mkdir()
        return d

    for cid, text, *_ in SPEC_CASES:
        d = workdir(f"spec-{cid}")
        (d / "case.yaml").write_text(text, encoding="utf-8")
        jobs[f"spec-{cid}"] = (["summary", str(d / "case.yaml")], d)
    for cid, args, *_ in COMMAND_LINE:
        d = workdir(f"cli-{cid}")
        (d / "w.yaml").write_text(W_SPEC, encoding="utf-8")
        jobs[f"cli-{cid}"] = (["summary", str(d / "w.yaml"), *args], d)
    for f in sorted(BAD_INPUTS.glob("*.yaml")):
        d = workdir(f"file-{f.stem}")
        jobs[f"file-{f.stem}"] = (["summary", str(f)], d)
    for cid, make in SPECIAL.items():
        d = workdir(f"special-{cid}")
        jobs[f"special-{cid}"] = (make(d), d)
    return jobs


def _garbage(d: Path) -> list[str]:
    (d / "garbage.yaml").write_bytes(bytes(range(128)) * 16)   # valid UTF-8, with NULs
    return ["summary", str(d / "garbage.yaml")]


def _garbage_no_nul(d: Path) -> list[str]:
    (d / "noise.yaml").write_bytes(bytes((i * 7919 + 13) % 255 + 1 for i in range(4096)))
    return ["summary", str(d / "noise.yaml")]


def _latin1(d: Path) -> list[str]:
    (d / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    return ["summary", str(d / "latin.yaml")]


def _too_large(d: Path) -> list[str]:
    (d / "big.yaml").write_text("# padding\n" * 300_000, encoding="utf-8")
    return ["summary", str(d / "big.yaml")]


def _empty(d: Path) -> list[str]:
    (d / "empty.yaml").write_bytes(b"")
    return ["summary", str(d / "empty.yaml")]


def _directory(d: Path) -> list[str]:
    (d / "adir.yaml").mkdir()
    return ["summary", str(d / "adir.yaml")]


def _flat_over_limit(d: Path) -> list[str]:
    (d / "flat.yaml").write_text(HEAD + "body:\n" + "  - relu\n" * 120, encoding="utf-8")
    return ["summary", str(d / "flat.yaml"), "--max-layers", "100"]


SPECIAL: dict[str, Any] = {
    # (id → function writing its files into the case directory and returning the command line)
    "binary_garbage": _garbage,
    "binary_garbage_no_nul": _garbage_no_nul,
    "not_utf8": _latin1,
    "too_large": _too_large,
    "empty_file": _empty,
    "directory": _directory,
    "dev_zero": lambda d: ["summary", "/dev/zero"],
    "missing_file": lambda d: ["summary", str(d / "nope.yaml")],
    "unknown_spec": lambda d: ["summary", "vgg61"],
    "unknown_spec_typo": lambda d: ["compare", "vgg16", "resnet-5O"],
    "unknown_preset_var_set": lambda d: ["summary", "vgg16", "--set", "nn1=3"],
    "builtin_bad_choice": lambda d: ["summary", "alexnet", "--set", "impl=keras"],
    "flat_over_max_layers": _flat_over_limit,
    "verify_bad_spec": lambda d: ["verify", str(BAD_INPUTS / "canary.yaml")],
    "formula_bad_spec": lambda d: ["formula", str(BAD_INPUTS / "mutual_recursion.yaml"), "--symbols", "H"],
    "memory_bad_spec": lambda d: ["memory", str(BAD_INPUTS / "nested_repeats.yaml")],
}

# (special id → (message fragment, place after `archcalc: error: `, `{dir}` standing for the case directory))
SPECIAL_EXPECT: dict[str, tuple[str, str | None]] = {
    "binary_garbage": ("this is not a text file (it contains NUL bytes)", "{dir}/garbage.yaml:"),
    "binary_garbage_no_nul": ("not UTF-8", "{dir}/noise.yaml:"),
    "not_utf8": ("this is not UTF-8 text (byte 9)", "{dir}/latin.yaml:"),
    "too_large": ("file is too large (over 2000000 bytes)", "{dir}/big.yaml:"),
    "empty_file": ("the file is empty; expected a mapping with `name`, `input` and `body`", "{dir}/empty.yaml:"),
    "directory": ("this is a directory; expected a YAML spec file", "{dir}/adir.yaml:"),
    "dev_zero": ("file is too large", "/dev/zero:"),
    "missing_file": ("no such file", None),
    "unknown_spec": ("unknown spec `vgg61` (did you mean ", None),
    "unknown_spec_typo": ("unknown spec `resnet-5O` (did you mean ", None),
    "unknown_preset_var_set": ("--set nn1: `vgg` has no variable `nn1` (did you mean n1", "specs/vgg.yaml:"),
    "builtin_bad_choice": ("--set impl=keras: `impl` must be one of ", "specs/alexnet.yaml:"),
    "flat_over_max_layers": ("the network expands to more than 100 layers", "{dir}/flat.yaml:105 body[100]"),
    "verify_bad_spec": ("not allowed in an expression", f"{BAD_INPUTS}/canary.yaml:10 body[0].conv.c"),
    "formula_bad_spec": ("calls itself", f"{BAD_INPUTS}/mutual_recursion.yaml:12 blocks.c.body[1]"),
    "memory_bad_spec": ("more than 100000 layers", f"{BAD_INPUTS}/nested_repeats.yaml:13 body[0]"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """All corpus cases, run concurrently once (each is an independent fresh process)."""
    jobs = _jobs(tmp_path_factory.mktemp("bad"))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {cid: pool.submit(run_cli, args, d) for cid, (args, d) in jobs.items()}
        return {cid: f.result() for cid, f in futures.items()}


def one_error_line(run: Run) -> str:
    assert run.code == 2, (run.code, run.out, run.err)
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("archcalc: error: "), run.err
    assert not (run.workdir / CANARY).exists(), "a spec expression was executed"
    return lines[0]


def _place(file: str, line: int | None, path: str | None) -> str:
    """The start of the message: `file:line path: `, or `file:line` when the path is not checked."""
    place = f"{file}:{line}" if line is not None else file
    return f"{place} {path}: " if path is not None else place


@pytest.mark.parametrize("text, fragment, line, path", [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES])
def test_spec_case_api(text: str, fragment: str, line: int | None, path: str | None) -> None:
    with pytest.raises(SpecError) as e:
        analyze(loads(text, "case.yaml"))
    err = e.value
    assert fragment in err.message, err
    assert err.where is not None and err.where.file == "case.yaml"
    if line is not None:
        assert err.where.line == line, str(err)
    if path is not None:
        assert err.where.path == path, str(err)


@pytest.mark.parametrize("cid, fragment, line, path", [(c[0], *c[2:]) for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES])
def test_spec_case_cli(cid: str, fragment: str, line: int | None, path: str | None, results: dict[str, Run]) -> None:
    run = results[f"spec-{cid}"]
    msg = one_error_line(run)
    assert msg.startswith("archcalc: error: " + _place(str(run.workdir / "case.yaml"), line, path)), msg
    assert fragment in msg, msg


@pytest.mark.parametrize("cid, fragment, place", [(c[0], c[2], c[3]) for c in COMMAND_LINE], ids=[c[0] for c in COMMAND_LINE])
def test_command_line_case(cid: str, fragment: str | None, place: str | None, results: dict[str, Run]) -> None:
    run = results[f"cli-{cid}"]
    if fragment is None:   # click's usage errors: several lines (usage, hint, error), still exit 2
        assert run.code == 2 and "Error:" in run.err and "Traceback" not in run.err, run.err
        return
    msg = one_error_line(run)
    assert fragment in msg, msg
    if place is not None:
        assert msg.startswith("archcalc: error: " + place.format(spec=run.workdir / "w.yaml")), msg


def _header(f: Path) -> tuple[str, str | None]:
    text = f.read_text(encoding="utf-8")
    expect = re.search(r"^# expect: (.+)$", text, re.M)
    at = re.search(r"^# at: (.+)$", text, re.M)
    assert expect, f"{f} needs a `# expect: <message fragment>` line"
    return expect.group(1), at.group(1) if at else None


@pytest.mark.parametrize("f", sorted(BAD_INPUTS.glob("*.yaml")), ids=lambda f: f.stem)
def test_file_case(f: Path, results: dict[str, Run]) -> None:
    fragment, at = _header(f)
    msg = one_error_line(results[f"file-{f.stem}"])
    if at is not None:
        line, _, path = at.partition(" ")
        assert msg.startswith("archcalc: error: " + _place(str(f), int(line), path or None)), msg
    assert fragment in msg, msg


@pytest.mark.parametrize("cid", sorted(SPECIAL), ids=str)
def test_special_case(cid: str, results: dict[str, Run]) -> None:
    run = results[f"special-{cid}"]
    fragment, place = SPECIAL_EXPECT[cid]
    msg = one_error_line(run)
    assert fragment in msg, msg
    if place is not None:
        assert msg.startswith("archcalc: error: " + place.format(dir=run.workdir)), msg


@pytest.mark.parametrize("args", [
    ["summary"],                         # missing SPEC
    ["sumary", "vgg16"],                 # unknown command
    ["summary", "vgg16", "--format", "xml"],
    ["summary", "vgg16", "--bogus"],
    ["conv", "--n", "abc"],
], ids=lambda a: " ".join(a))
def test_click_usage_errors_exit_2(args: list[str], tmp_path: Path) -> None:
    run = run_cli(args, tmp_path)
    assert run.code == 2, run
    assert "Error" in run.err and "Traceback" not in run.err, run.err


def test_corpus_size() -> None:
    assert len(SPEC_CASES) + len(COMMAND_LINE) + len(SPECIAL) + len(list(BAD_INPUTS.glob("*.yaml"))) >= 40
