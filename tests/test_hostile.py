"""The bad-input corpus, round two (issue 14): every command and option, as a hostile user tries them.

Each case runs the real CLI in a fresh process (`python -m archcalc ...`) in its own directory,
under a 1.5 GB address-space limit, with a generous wall-clock hang guard. The child's own user
CPU time and peak memory are read from the kernel (wait4), so the limits hold on a loaded machine:
every case must finish in under MAX_CPU_SECONDS of CPU and MAX_RSS of resident memory.

An error case must exit 2 with exactly one line on stderr, `archcalc: error: ...` (or click's own
usage message for a malformed command line), and no traceback. Signal and pipe cases must exit
with the documented status (130 for Ctrl-C, 141 for a closed stdout) and print nothing on stderr.
Output cases (exit 0) must print no control or text-reordering character from a spec.

Kinds: number (exponent literals), steps (expansion budget), symbolic (sympy budget), file (not a
regular file, too large), inject (markup, escapes, bidi), disclose, shadow, silent (silently
wrong numbers), huge (huge numbers printed), stream (exit codes, signals, pipes, encodings),
message (wording), option (every other option).
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

MEMORY_LIMIT = 1536 * 2**20    # RLIMIT_AS of every subprocess
HANG_GUARD = 90                # wall-clock seconds: only a hang guard (the machine may be busy)
MAX_CPU_SECONDS = 3.0          # user CPU of the child (system time grows with page faults on a busy machine)
MAX_RSS = 2**30                # peak resident memory of the child
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
CANARY = "CANARY"

HEAD = "archcalc: 1\nname: t\ninput: [4, 8, 8]\n"
CLAIMS_HEAD = "archcalc_claims: 1\nsource: s\ntitle: t\nclaims:\n  - id: a\n    where: \"Table 1, L1-2\"\n    statement: x\n"


@dataclass(frozen=True)
class Case:
    kind: str
    make: Callable[[Path], list[str]]   # writes its files into the case directory, returns the command line
    fragment: str | None = None         # in the error line (code 2) or in stdout (code 0)
    code: int = 2
    usage: bool = False                 # click's usage error (several lines: usage, hint, error)
    env: dict[str, str] = field(default_factory=dict)
    stdout: str | None = None           # a file path, /dev/full, or "closed" (a pipe closed at once)
    interrupt_after: float | None = None


def spec(body: str, extra: str = "", head: str = HEAD, name: str = "s.yaml") -> Callable[[Path], Path]:
    def write(d: Path) -> Path:
        (d / name).write_text(head + extra + body, encoding="utf-8")
        return d / name
    return write


def with_spec(body: str, *args: str, extra: str = "", head: str = HEAD, cmd: str = "summary") -> Callable[[Path], list[str]]:
    make = spec(body, extra, head)
    return lambda d: [cmd, str(make(d)), *args]


def cli(*args: str) -> Callable[[Path], list[str]]:
    return lambda d: list(args)


def claims(tail: str, *args: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / "c.yaml").write_text(CLAIMS_HEAD + tail, encoding="utf-8")
        return ["check", str(d / "c.yaml"), *args]
    return make


def fifo(name: str, *before: str, after: tuple[str, ...] = ()) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        os.mkfifo(d / name)
        return [*before, str(d / name), *after]
    return make


def sock(d: Path) -> list[str]:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(d / "sock.yaml"))
    return ["summary", str(d / "sock.yaml")]


def claim_spec_points_at(target: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        path = target(d)
        (d / "c.yaml").write_text(CLAIMS_HEAD + f"    stated: \"1\"\n    compute: {{spec: {path}, metric: params}}\n",
                                  encoding="utf-8")
        return ["check", str(d / "c.yaml")]
    return make


def _mkfifo(d: Path) -> str:
    os.mkfifo(d / "p.yaml")
    return str(d / "p.yaml")


def _big(d: Path, name: str = "big.yaml") -> Path:
    (d / name).write_text("# padding\n" * 210_000, encoding="utf-8")
    return d / name


PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "QyNTUxOQAAACBTOPSECRETTOPSECRETTOPSECRETTOPSECRETxx\n-----END OPENSSH PRIVATE KEY-----\n")
SECRET = "TOPSECRET"


def key_file(d: Path) -> str:
    (d / "id_test").write_text(PRIVATE_KEY, encoding="utf-8")
    return str(d / "id_test")


def shadow(name: str, *args: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / name).write_text(HEAD + "body: [relu]\n", encoding="utf-8")
        return [*args]
    return make


INJECT = ('description: "[link=https://evil.example]click[/link] \\e]2;pwned\\a \\e[2J\\e[H \\u202eevil \\0 \\x9b31m"\n'
          'name: "[bold red]net\\e]0;title\\a"\n')
INJECT_HEAD = "archcalc: 1\ninput: [4, 8, 8]\n" + INJECT
INJECT_BODY = 'body:\n  - {name: "[/x]\\e[31m\\u202e", relu: null}\n  - {name: "l[link=x]\\u2066", conv: {c: 4, k: 1}}\n'
BIG_HEAD = 'archcalc: 1\nname: big\ninput: ["2**2000", 8, 8]\n'
BIG_BODY = 'body:\n  - conv: {c: "2**2000", k: 1}\n  - conv: {c: "2**2000", k: 1}\n'
EXP = "1e99999999"
LOOPS = 'body:\n  - repeat: {n: 100000, body: [{repeat: {n: 100000, body: [{relu: null, when: "i < 0"}]}}]}\n'
EMPTY_REPEATS = "body:\n  - repeat: {n: 100000, body: [{repeat: {n: 100000, body: []}}]}\n"
ALIASED_VARS = ("body:\n  - repeat:\n      n: 99999\n      vars:\n" + "".join(
    f"        v{i}: \"{'+'.join([f'v{i - 1}'] * 99) if i else '1'}\"\n" for i in range(60)) + "      body: []\n")
NESTED_POWER = 'body:\n  - conv: {c: "((H + 1)**60)**60", k: 1}\n'
POWERS = ('body:\n  - conv: {c: "(H+1)**64 * (H+2)**64 * (H+3)**64", k: 1}\n  - conv: {c: "(C+H+1)**64", k: 1}\n'
          '  - gap\n  - flatten\n  - fc: {c: 3}\n')

CASES: dict[str, Case] = {
    # ------------------------------------------------------------ number: exponents are bounded before any power
    "set_exp": Case("number", cli("summary", "vgg16", "--set", f"n1={EXP}"), "--set n1=1e99999999: number out of range: exponent"),
    "set_neg_exp": Case("number", cli("summary", "mobilenet_v1", "--set", "alpha=1e-99999999"), "number out of range"),
    "set_exp_digits": Case("number", cli("summary", "vgg16", "--set", "n1=1e" + "9" * 300), "number out of range"),
    "set_exp_in_arith": Case("number", cli("summary", "vgg16", "--set", "n1=2*1e99999999/1e99999999"), "number out of range"),
    "input_exp": Case("number", cli("summary", "vgg16", "--input", EXP), "--input: `1e99999999` is not a size (number out of range"),
    "input_exp_hw": Case("number", cli("summary", "vgg16", "--input", f"224x{EXP}"), "number out of range"),
    "input_1e9": Case("number", cli("summary", "vgg16", "--input", "1e9"), "larger than any image"),
    "batch_exp": Case("number", cli("summary", "vgg16", "--batch", EXP), "--batch takes a whole number ≥ 1, got `1e99999999` (number out of range"),
    "batch_huge": Case("number", cli("summary", "vgg16", "--batch", "2**2048"), "larger than any batch archcalc will size"),
    "conv_n_exp": Case("number", cli("conv", "--n", EXP, "--f", "3"), "--n takes a whole number, got `1e99999999` (number out of range"),
    "conv_f_exp": Case("number", cli("conv", "--n", "8", "--f", "1.0e+99999999"), "--f takes a whole number"),
    "conv_s_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--s", EXP), "--s takes a whole number"),
    "conv_p_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--p", EXP), "--p takes a whole number"),
    "conv_d_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--d", "1E99999999"), "--d takes a whole number"),
    "conv_groups_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--groups", EXP), "--groups takes a whole number"),
    "conv_cin_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--c-in", EXP, "--c-out", "4"), "--c-in takes a whole number"),
    "conv_cout_huge": Case("number", cli("conv", "--n", "8", "--f", "3", "--c-in", "4", "--c-out", "10**400"), "--c-out 10**400: larger than"),
    "conv_op_exp": Case("number", cli("conv", "--n", "8", "--f", "3", "--transposed", "--output-padding", EXP), "--output-padding takes a whole number"),
    "yaml_float_exp": Case("number", with_spec("body:\n  - dropout: {p: 1.0e+99999999}\n"), "s.yaml:5 body[0].dropout.p: number out of range"),
    "yaml_float_neg_exp": Case("number", with_spec("body:\n  - dropout: {p: 1.0e-99999999}\n"), "s.yaml:5 body[0].dropout.p: number out of range"),
    "yaml_int_as_float_exp": Case("number", with_spec("body:\n  - conv: {c: 1.0e+99999999, k: 1}\n"), "s.yaml:5 body[0].conv.c: number out of range"),
    "yaml_input_exp": Case("number", with_spec("body: [relu]\n", head="archcalc: 1\nname: t\ninput: [3, 1.0e+99999999, 8]\n"), "s.yaml:3 input[1]: number out of range"),
    "expr_exp": Case("number", with_spec(f'body:\n  - conv: {{c: "{EXP} * 0 + 4", k: 1}}\n'), "s.yaml:5 body[0].conv.c: number out of range"),
    "expr_exp_when": Case("number", with_spec('body:\n  - {relu: null, when: "1e-99999999 > 0"}\n'), "s.yaml:5 body[0].when: number out of range"),
    "var_default_exp": Case("number", with_spec("body: [relu]\n", extra=f'vars: {{w: "{EXP}"}}\n'), "s.yaml:4 vars.w: number out of range"),
    "expr_pow_exponent": Case("number", with_spec('body:\n  - conv: {c: "10**99999999", k: 1}\n'), "exponent 99999999 is too large"),
    "expr_pow_tower": Case("number", with_spec('body:\n  - conv: {c: "(2**64)**64**64", k: 1}\n'), "is too large"),
    "scale_exp": Case("number", cli("scale", "mobilenet_v1", "--set", f"alpha=1,{EXP}"), "number out of range"),
    "formula_set_exp": Case("number", cli("formula", "mobilenet_v1", "--symbols", "alpha", "--set", f"rho={EXP}"), "number out of range"),
    "verify_input_exp": Case("number", cli("verify", "lenet5", "--input", EXP), "number out of range"),
    "memory_batch_exp": Case("number", cli("memory", "vgg16", "--batch", "9e99999"), "number out of range"),
    "compare_item_exp": Case("number", cli("compare", "vgg16", f"vgg16 --set n1={EXP}"), "number out of range"),
    "plot_set_exp": Case("number", cli("plot", "mobilenet_v1", "--set", f"alpha={EXP}", "-o", "x.png"), "number out of range"),
    "claim_stated_exp": Case("number", claims('    stated: "1×10^99999999"\n    compute: {expr: "1"}\n'), "claims[0].stated: the power of ten in '1×10^99999999' is out of range"),
    "claim_sig": Case("number", claims('    stated: "1000"\n    sig: 999999999999\n    compute: {expr: "1"}\n'),
                      "claims[0].sig: `sig` (significant digits) is a whole number from 1 to 40"),
    "claim_compute_exp": Case("number", claims(f'    stated: "1"\n    compute: {{expr: "{EXP}"}}\n'), "claims[0].compute.expr: number out of range"),
    # ------------------------------------------------------------ steps: expansion is bounded by evaluations, not only layers
    "loops_without_layers": Case("steps", with_spec(LOOPS), "s.yaml:5 body[0].repeat.body[0].repeat.body[0]: expanding the spec takes more than 1,000,000 evaluation steps"),
    "nested_empty_repeats": Case("steps", with_spec(EMPTY_REPEATS), "evaluation steps"),
    "aliased_vars": Case("steps", with_spec(ALIASED_VARS), "s.yaml:5 body[0]: expanding the spec takes more than"),
    "empty_block_loop": Case("steps", with_spec("body:\n  - repeat: {n: 100000, body: [{repeat: {n: 100000, body: [e]}}]}\n",
                                                extra="blocks:\n  e: {body: []}\n"), "evaluation steps"),
    "false_if_loop": Case("steps", with_spec("body:\n  - repeat: {n: 100000, body: [{repeat: {n: 100000, body: [{if: 'i < 0', then: [relu]}]}}]}\n"),
                          "evaluation steps"),
    "verify_loops": Case("steps", with_spec(LOOPS, cmd="verify"), "evaluation steps"),
    # ------------------------------------------------------------ symbolic: a time and memory budget on sympy
    "ratio_to_builtin": Case("symbolic", cli("formula", "mobilenet_v1", "--symbols", "H", "--ratio-to", "efficientnet_b7"), code=0),
    "nested_power_formula_ok": Case("symbolic", with_spec(NESTED_POWER, "--symbols", "H", cmd="formula"), code=0),
    "product_of_powers_formula": Case("symbolic", with_spec(POWERS, "--symbols", "H", cmd="formula"),
                                      "symbolic work exceeded its time budget (1.5 s)"),
    "product_of_powers_summary": Case("symbolic", with_spec(POWERS, "--input", "H"), "symbolic work exceeded its time budget"),
    # ------------------------------------------------------------ file: only regular files, at most 2,000,000 bytes
    "fifo_summary": Case("file", fifo("p.yaml", "summary"), "p.yaml: this is a named pipe (FIFO); expected a YAML spec file"),
    "fifo_verify": Case("file", fifo("p.yaml", "verify"), "this is a named pipe (FIFO)"),
    "fifo_formula": Case("file", fifo("p.yaml", "formula", after=("--symbols", "H")), "this is a named pipe (FIFO)"),
    "fifo_compare": Case("file", fifo("p.yaml", "compare", "vgg16"), "this is a named pipe (FIFO)"),
    "fifo_memory": Case("file", fifo("p.yaml", "memory"), "this is a named pipe (FIFO)"),
    "fifo_scale": Case("file", fifo("p.yaml", "scale", after=("--set", "a=1,2")), "this is a named pipe (FIFO)"),
    "fifo_plot": Case("file", fifo("p.yaml", "plot", after=("-o", "x.png")), "this is a named pipe (FIFO)"),
    "fifo_ratio_to": Case("file", lambda d: (os.mkfifo(d / "p.yaml"), ["formula", "vgg16", "--symbols", "H", "--ratio-to", str(d / "p.yaml")])[1],
                          "this is a named pipe (FIFO)"),
    "fifo_claims": Case("file", fifo("p.yaml", "check"), "p.yaml: this is a named pipe (FIFO); expected a YAML claim file"),
    "fifo_claim_spec": Case("file", claim_spec_points_at(_mkfifo), "c.yaml:5 claims[0]: claim `a`: this is a named pipe (FIFO)"),
    "dev_zero_check": Case("file", cli("check", "/dev/zero"), "/dev/zero: this is a character device; expected a YAML claim file"),
    "dev_zero_verify": Case("file", cli("verify", "/dev/zero"), "/dev/zero: this is a character device"),
    "dev_null_summary": Case("file", cli("summary", "/dev/null"), "/dev/null: this is a character device"),
    "dev_urandom_memory": Case("file", cli("memory", "/dev/urandom"), "this is a character device"),
    "symlink_to_device": Case("file", lambda d: ((d / "z.yaml").symlink_to("/dev/zero"), ["summary", str(d / "z.yaml")])[1],
                              "this is a character device"),
    "socket_spec": Case("file", sock, "this is a socket"),
    "directory_claims": Case("file", lambda d: ["check", str(d)], "this is a directory; expected a YAML claim file"),
    "directory_spec_verify": Case("file", lambda d: ((d / "x.yaml").mkdir(), ["verify", str(d / "x.yaml")])[1], "this is a directory"),
    "claim_file_too_large": Case("file", lambda d: ["check", str(_big(d))], "big.yaml: file is too large (over 2000000 bytes)"),
    "claim_spec_too_large": Case("file", claim_spec_points_at(lambda d: str(_big(d))), "file is too large (over 2000000 bytes)"),
    "claim_spec_directory": Case("file", claim_spec_points_at(lambda d: str(d) + "/"), "this is a directory"),
    "claim_spec_dev_zero": Case("file", claim_spec_points_at(lambda d: "/dev/zero"), "this is a character device"),
    "claim_binary": Case("file", lambda d: ((d / "b.yaml").write_bytes(b"\x00\x01" * 100), ["check", str(d / "b.yaml")])[1],
                         "this is not a text file"),
    "unreadable_spec": Case("file", lambda d: ((d / "u.yaml").write_text("x"), (d / "u.yaml").chmod(0), ["summary", str(d / "u.yaml")])[2],
                            "u.yaml: cannot read the file: Permission denied" if os.geteuid() != 0 else "expected a mapping"),
    # ------------------------------------------------------------ inject: spec text printed as text, never as markup or control
    "inject_table": Case("inject", with_spec(INJECT_BODY, head=INJECT_HEAD), "[link=https://evil.example]click[/link] \\x1b]2", code=0),
    "inject_plain": Case("inject", with_spec(INJECT_BODY, "--plain", head=INJECT_HEAD), "[/x]\\x1b[31m\\u202e", code=0),
    "inject_json": Case("inject", with_spec(INJECT_BODY, "--format", "json", head=INJECT_HEAD), "\\\\u202eevil", code=0),
    "inject_csv": Case("inject", with_spec(INJECT_BODY, "--format", "csv", head=INJECT_HEAD), "[/x]\\x1b[31m\\u202e", code=0),
    "inject_markdown": Case("inject", with_spec(INJECT_BODY, "--format", "markdown", head=INJECT_HEAD), "## [bold red]net\\x1b]0;title\\x07", code=0),
    "inject_memory": Case("inject", with_spec(INJECT_BODY, head=INJECT_HEAD, cmd="memory"), "[/x]\\x1b[31m", code=0),
    "inject_memory_json": Case("inject", with_spec(INJECT_BODY, "--format", "json", head=INJECT_HEAD, cmd="memory"), "x1b", code=0),
    "inject_compare": Case("inject", lambda d: ["compare", str(spec(INJECT_BODY, head=INJECT_HEAD)(d)), "lenet5"], "lenet5", code=0),
    "inject_compare_csv": Case("inject", lambda d: ["compare", str(spec(INJECT_BODY, head=INJECT_HEAD)(d)), "lenet5", "--format", "csv"],
                               "lenet5", code=0),
    "inject_verify": Case("inject", with_spec(INJECT_BODY, head=INJECT_HEAD, cmd="verify"), "[/x]\\x1b[31m", code=0),
    "inject_verify_json": Case("inject", with_spec(INJECT_BODY, "--format", "json", head=INJECT_HEAD, cmd="verify"), "x1b", code=0),
    "inject_formula": Case("inject", with_spec(INJECT_BODY, "--symbols", "H", head=INJECT_HEAD, cmd="formula"), "net\\x1b]0;title", code=0),
    "inject_claims_table": Case("inject", lambda d: ((d / "c.yaml").write_text(CLAIMS_HEAD.replace(
        "statement: x", 'statement: "[bold]x[/y]\\e[2J\\u202e"') + '    stated: "1"\n    compute: {expr: "1"}\n', encoding="utf-8"),
        ["check", str(d / "c.yaml")])[1], "[bold]x[/y]\\x1b[2J", code=0),
    "inject_claims_json": Case("inject", claims('    stated: "1"\n    note: "[link=x]\\e]8;;http://x\\a"\n    compute: {expr: "1"}\n', "--format", "json"),
                               "x1b", code=0),
    "inject_error_op": Case("inject", with_spec('body:\n  - "\\e]2;x\\a\\u202e": null\n'), "unknown op or block `\\x1b]2;x\\x07\\u202e`"),
    "inject_error_cli": Case("inject", cli("summary", "x\x1b[2J\u202e"), "unknown spec `x\\x1b[2J\\u202e`"),
    "inject_error_path": Case("inject", cli("summary", "/nonexistent/\x1b]2;x\x07.yaml"), "no such file: /nonexistent/\\x1b]2;x\\x07.yaml"),
    "inject_error_set": Case("inject", cli("summary", "vgg16", "--set", "n1=\x1b[2J"), "--set n1=\\x1b[2J"),
    "inject_markup_error": Case("inject", with_spec('body:\n  - "[/x][link=y]": null\n'), "unknown op or block `[/x][link=y]`"),
    # ------------------------------------------------------------ disclose: an error quotes at most a short excerpt
    "private_key_as_spec": Case("disclose", lambda d: ["summary", key_file(d)], "got `-----BEGIN OPENSSH PRIVATE KEY----- b3Bl…`"),
    "private_key_as_claim_spec": Case("disclose", claim_spec_points_at(key_file), "claim `a`: expected a mapping"),
    "private_key_as_claims": Case("disclose", lambda d: ["check", key_file(d)], "id_test"),
    "private_key_as_ratio_to": Case("disclose", lambda d: ["formula", "vgg16", "--symbols", "H", "--ratio-to", key_file(d)], "expected a mapping"),
    "secret_expression": Case("disclose", with_spec('body:\n  - conv: {c: "' + "TOPSECRET " * 150 + '", k: 1}\n'), "cannot read expression `TOPSECRET TOPSECRET"),
    "secret_set_value": Case("disclose", cli("summary", "vgg16", "--set", "n1=(" + SECRET * 150), "--set n1=("),
    # ------------------------------------------------------------ shadow: a path has `/` or ends in .yaml/.yml
    "file_named_like_builtin": Case("shadow", shadow("vgg16", "summary", "vgg16", "--format", "json"), '"params": 138357544', code=0),
    "file_named_like_builtin_compare": Case("shadow", shadow("resnet18", "compare", "resnet18", "--format", "csv"), "11689512", code=0),
    "local_file_not_builtin": Case("shadow", shadow("mynet", "summary", "mynet"), "a file `mynet` is here: to use it, write ./mynet"),
    "local_file_dot_slash": Case("shadow", shadow("mynet", "summary", "./mynet", "--format", "csv"), "relu", code=0),
    "empty_name": Case("shadow", cli("summary", ""), "empty spec name"),
    # ------------------------------------------------------------ silent: wrong numbers are refused, not printed
    "repeat_index_H": Case("silent", with_spec("body:\n  - repeat: {n: 2, index: H, body: [relu]}\n"), "s.yaml:5 body[0].repeat.index: `H` is reserved"),
    "repeat_index_C": Case("silent", with_spec("body:\n  - repeat: {n: 2, index: C, body: [relu]}\n"), "`C` is reserved"),
    "repeat_index_in_c": Case("silent", with_spec("body:\n  - table: {columns: [c], rows: [[4]], body: [{repeat: {n: 1, index: in_c, body: [relu]}}]}\n"),
                              "`in_c` is reserved"),
    "alpha_negative": Case("silent", cli("summary", "mobilenet_v1", "--set", "alpha=-1"), "specs/mobilenet_v1.yaml:7 vars.alpha: --set alpha=-1: `alpha` must be > 0"),
    "alpha_zero": Case("silent", cli("summary", "mobilenet_v1", "--set", "alpha=0"), "`alpha` must be > 0"),
    "rho_negative_verify": Case("silent", cli("verify", "mobilenet_v1", "--set", "rho=-6/7"), "`rho` must be > 0"),
    "alpha_negative_scale": Case("silent", cli("scale", "mobilenet_v1", "--set", "alpha=1,-0.5"), "`alpha` must be > 0"),
    "width_negative": Case("silent", cli("summary", "efficientnet", "--set", "width=-1.1"), "`width` must be > 0"),
    "classes_negative": Case("silent", cli("summary", "vgg16", "--set", "classes=-10"), "`classes` must be ≥ 0"),
    "declared_domain": Case("silent", with_spec("body: [relu]\n", "--set", "w=0", extra="vars: {w: {default: 0.5, domain: positive}}\n"), "`w` must be > 0"),
    "bad_domain_word": Case("silent", with_spec("body: [relu]\n", extra="vars: {w: {default: 1, domain: huge}}\n"), "s.yaml:4 vars.w.domain: expected positive, nonnegative or any"),
    "transposed_negative": Case("silent", cli("conv", "--n", "1", "--f", "1", "--p", "100", "--transposed"), "= -199 is not positive"),
    "transposed_output_padding": Case("silent", cli("conv", "--n", "4", "--f", "3", "--s", "2", "--output-padding", "7", "--transposed"),
                                      "output_padding 7 must be smaller than the stride (2) or the dilation (1)"),
    "transposed_output_padding_eq": Case("silent", cli("conv", "--n", "4", "--f", "3", "--s", "2", "--output-padding", "2", "--transposed"),
                                         "output_padding 2 must be smaller"),
    "unknown_top_include": Case("silent", with_spec("body: [relu]\n", extra="include: other.yaml\n"), "s.yaml:4 include: unknown key `include`"),
    "version_true": Case("silent", with_spec("body: [relu]\n", head="archcalc: true\nname: t\ninput: [4, 8, 8]\n"), "s.yaml:1 archcalc: this file is format True"),
    "version_string": Case("silent", with_spec("body: [relu]\n", head="archcalc: '1'\nname: t\ninput: [4, 8, 8]\n"), "this file is format 1;"),
    "version_list": Case("silent", with_spec("body: [relu]\n", head="archcalc: [1]\nname: t\ninput: [4, 8, 8]\n"), "this file is format [1]"),
    # ------------------------------------------------------------ huge: exact numbers past float range and 4300 digits print
    "huge_table": Case("huge", with_spec(BIG_BODY, "--batch", "1000000000", head=BIG_HEAD), "e1204", code=0),
    "huge_json": Case("huge", with_spec(BIG_BODY, "--format", "json", head=BIG_HEAD), '"macs": 1', code=0),
    "huge_csv": Case("huge", with_spec(BIG_BODY, "--format", "csv", "--batch", "1000000000", head=BIG_HEAD), "conv1,conv", code=0),
    "huge_markdown": Case("huge", with_spec(BIG_BODY, "--format", "markdown", head=BIG_HEAD), "| conv1 |", code=0),
    "huge_memory": Case("huge", with_spec(BIG_BODY, head=BIG_HEAD, cmd="memory"), "batch 1 makes the activations"),
    "huge_compare": Case("huge", lambda d: ["compare", str(spec(BIG_BODY, head=BIG_HEAD)(d)), "lenet5"], "lenet5", code=0),
    "huge_batch_summary": Case("huge", cli("summary", "lenet5", "--batch", "1000000000", "--format", "csv"), "C1,conv", code=0),
    # ------------------------------------------------------------ stream: exit codes, signals, pipes, terminals
    "ctrl_c": Case("stream", cli("verify", "vgg16", "--batch", "8"), code=130, interrupt_after=1.5),
    "closed_pipe": Case("stream", cli("summary", "resnet152"), code=141, stdout="closed"),
    "closed_pipe_json": Case("stream", cli("summary", "resnet152", "--format", "json"), code=141, stdout="closed"),
    "disk_full": Case("stream", cli("summary", "resnet50"), "cannot write the output: No space left on device", stdout="/dev/full"),
    "disk_full_json": Case("stream", cli("list", "--format", "json"), "No space left on device", stdout="/dev/full"),
    "columns_zero": Case("stream", cli("summary", "lenet5"), "C1", code=0, env={"COLUMNS": "0"}),
    "columns_negative": Case("stream", cli("summary", "lenet5"), "C1", code=0, env={"COLUMNS": "-5"}),
    "columns_huge": Case("stream", cli("summary", "lenet5"), "C1", code=0, env={"COLUMNS": "99999999999999"}),
    "ascii_table": Case("stream", cli("summary", "lenet5"), "LeNet-5", code=0, env={"PYTHONIOENCODING": "ascii"}),
    "ascii_conv": Case("stream", cli("conv", "--n", "227", "--f", "11", "--s", "4"), "Output size = (N + 2P - F)/S + 1", code=0, env={"PYTHONIOENCODING": "ascii"}),
    "ascii_formula": Case("stream", cli("formula", "lenet5", "--symbols", "B"), "lenet5", code=0, env={"PYTHONIOENCODING": "ascii"}),
    "ascii_error": Case("stream", cli("summary", "vgg16", "--input", "0"), "--input: sizes must be whole numbers >= 1", env={"PYTHONIOENCODING": "ascii"}),
    "latin1_locale": Case("stream", cli("memory", "lenet5"), "C1", code=0, env={"PYTHONIOENCODING": "latin-1"}),
    "debug_zero": Case("stream", cli("summary", "vgg61"), "unknown spec `vgg61`", env={"ARCHCALC_DEBUG": "0"}),
    "verify_seed_negative": Case("stream", cli("verify", "lenet5", "--seed", "-1"), "-1 is not in the range", usage=True),
    "verify_seed_huge": Case("stream", cli("verify", "lenet5", "--seed", str(2**70)), "is not in the range", usage=True),
    "verify_huge_yaml_input": Case("stream", with_spec("body: [relu]\n", head="archcalc: 1\nname: t\ninput: [3, 100000, 100000]\n", cmd="verify"),
                                   "s.yaml:4 body[0]: verify: layer relu1 (relu) holds about"),
    "verify_batch_64": Case("stream", cli("verify", "vgg16", "--batch", "64"), "over the 1024 MiB budget of a forward pass"),
    "verify_batch_huge": Case("stream", cli("verify", "lenet5", "--batch", str(10**12)), "GiB of float32 activations"),
    "compare_empty": Case("stream", cli("compare", ""), "empty spec name"),
    "compare_blank": Case("stream", cli("compare", "vgg16", "   "), "empty spec name"),
    "ratio_to_blank": Case("stream", cli("formula", "vgg16", "--symbols", "H", "--ratio-to", " "), "empty spec name"),
    "plot_compare_empty": Case("stream", cli("plot", "--compare", "", "-o", "x.png"), "empty spec name"),
    # ------------------------------------------------------------ message: wording that says what to do
    "scale_rule_file": Case("message", with_spec("body: [relu]\n", "--set", "a=1,2", extra='vars:\n  a: {default: 1, macs_rule: "1/(a-2)"}\n', cmd="scale"),
                            "s.yaml:5 vars.a: division by zero"),
    "formula_symbols_impl": Case("message", cli("formula", "alexnet", "--symbols", "impl"), "--symbols impl: `impl` is a choice (slides, paper, torchvision), not a number"),
    "set_impl_dash": Case("message", cli("summary", "alexnet", "--set", "impl=torch-vision"), "`impl` must be one of slides, paper, torchvision"),
    "set_impl_dash_verify": Case("message", cli("verify", "alexnet", "--set", "impl=torch.vision"), "`impl` must be one of"),
    "set_word_for_number": Case("message", cli("summary", "vgg16", "--set", "n1=three"), "--set n1=three: `n1` takes a number"),
    "sweep_too_large": Case("message", cli("scale", "mobilenet_v1", "--set", "alpha=" + ",".join(["1"] * 101), "--set", "rho=" + ",".join(["1"] * 100)),
                            "the sweep has 10,100 points (limit 10000)"),
    # ------------------------------------------------------------ option: the rest of every command's options
    "summary_depth_zero": Case("option", cli("summary", "vgg16", "--depth", "0"), "0 is not in the range", usage=True),
    "summary_top_zero": Case("option", cli("summary", "vgg16", "--top", "0"), "is not in the range", usage=True),
    "summary_output_ext": Case("option", cli("summary", "vgg16", "-o", "out.exe"), "unknown extension .exe"),
    "summary_output_dir_missing": Case("option", cli("summary", "vgg16", "-o", "/nonexistent/dir/x.json"), "-o /nonexistent/dir/x.json"),
    "summary_output_format_clash": Case("option", cli("summary", "vgg16", "-o", "x.json", "--format", "csv"), "writes json, but --format csv"),
    "summary_dtype": Case("option", cli("summary", "vgg16", "--dtype", "float128"), "Invalid value for '--dtype'", usage=True),
    "summary_convention": Case("option", cli("summary", "vgg16", "--convention", "\x1b[2J"), "unknown convention"),
    "summary_max_layers_text": Case("option", cli("summary", "vgg16", "--max-layers", "1e999999"), "is not a valid integer", usage=True),
    "summary_max_layers_small": Case("option", cli("summary", "vgg16", "--max-layers", "5"), "more than 5 layers"),
    "compare_many": Case("option", cli("compare", *["lenet5"] * 1001), "1001 specs in one comparison (limit 1000)"),
    "plot_compare_many": Case("option", cli("plot", "--compare", *["lenet5"] * 1001, "-o", "x.png"), "1001 specs in one comparison"),
    "summary_max_layers_huge": Case("option", cli("summary", "vgg16", "--max-layers", "10000000000"), "is not in the range", usage=True),
    "diagram_fifo": Case("file", fifo("p.yaml", "diagram", after=("--format", "dot")), "this is a named pipe (FIFO)"),
    "diagram_set_exp": Case("number", cli("diagram", "mobilenet_v1", "--format", "dot", "--set", f"alpha={EXP}"), "number out of range"),
    "diagram_inject_dot": Case("inject", with_spec(INJECT_BODY, "--format", "dot", head=INJECT_HEAD, cmd="diagram"), "x1b", code=0),
    "diagram_inject_mermaid": Case("inject", with_spec(INJECT_BODY, "--format", "mermaid", head=INJECT_HEAD, cmd="diagram"), "flowchart", code=0),
    "diagram_format": Case("option", cli("diagram", "vgg16", "--format", "png"), "Invalid value for '--format'", usage=True),
    "diagram_output_ext": Case("option", cli("diagram", "vgg16", "-o", "x.exe"), "unknown extension .exe"),
    "report_fifo": Case("file", fifo("p.yaml", "report", after=("-o", "r.html")), "this is a named pipe (FIFO)"),
    "report_empty": Case("stream", cli("report", "", "-o", "r.html"), "empty"),
    "report_batch_exp": Case("number", cli("report", "lenet5", "--batch", EXP, "-o", "r.html"), "number out of range"),
    "report_output_ext": Case("option", cli("report", "lenet5", "-o", "r.txt"), "a report is an .html file"),
    "latency_fifo_device": Case("file", fifo("dev.yaml", "latency", "lenet5", "--device"), "this is a named pipe (FIFO); expected a device profile"),
    "latency_dev_zero_device": Case("file", cli("latency", "lenet5", "--device", "/dev/zero"), "/dev/zero: this is a character device"),
    "latency_fifo_spec": Case("file", fifo("p.yaml", "latency", after=("--device", "h100")), "this is a named pipe (FIFO)"),
    "latency_batch_exp": Case("number", cli("latency", "lenet5", "--device", "h100", "--batch", EXP), "number out of range"),
    "latency_inject": Case("inject", with_spec(INJECT_BODY, "--device", "h100", head=INJECT_HEAD, cmd="latency"), "h100", code=0),
    "latency_unknown_device": Case("option", cli("latency", "lenet5", "--device", "\x1b[2Jh100x"), "unknown device"),
    "compare_sort": Case("option", cli("compare", "vgg16", "alexnet", "--sort", "speed"), "Invalid value for '--sort'", usage=True),
    "compare_item_garbage": Case("option", cli("compare", "vgg16", "alexnet --input 3"), "only `--set name=value` may follow a spec name"),
    "scale_no_grid": Case("option", cli("scale", "mobilenet_v1", "--set", "alpha=0.5"), "scale needs a --set with several comma-separated values"),
    "memory_optimizer": Case("option", cli("memory", "vgg16", "--optimizer", "lion"), "Invalid value for '--optimizer'", usage=True),
    "list_format": Case("option", cli("list", "--format", "xml"), "Invalid value for '--format'", usage=True),
    "check_format": Case("option", cli("check", "--format", "csv"), "Invalid value for '--format'", usage=True),
    "check_missing_file": Case("option", cli("check", "nope.yaml"), "no such claim file: nope.yaml"),
    "formula_round": Case("option", cli("formula", "vgg16", "--symbols", "H", "--round", "up"), "Invalid value for '--round'", usage=True),
    "formula_symbols_garbage": Case("option", cli("formula", "vgg16", "--symbols", "H,1x"), "--symbols: '1x' is not a symbol name"),
    "formula_symbols_unknown": Case("option", cli("formula", "vgg16", "--symbols", "alpah"), "`alpah` is not a symbol of"),
    "formula_format": Case("option", cli("formula", "vgg16", "--symbols", "H", "--format", "html"), "Invalid value for '--format'", usage=True),
    "conv_p_word": Case("option", cli("conv", "--n", "8", "--f", "3", "--p", "samee"), "--p takes a whole number, got `samee`"),
    "conv_round": Case("option", cli("conv", "--n", "7", "--f", "3", "--s", "3", "--round", "nearest"), "Invalid value for '--round'", usage=True),
    "conv_not_integer": Case("option", cli("conv", "--n", "7", "--f", "3", "--s", "3"), "is not an integer"),
    "conv_groups": Case("option", cli("conv", "--n", "8", "--f", "3", "--c-in", "6", "--c-out", "4", "--groups", "4"), "groups=4 must divide"),
    "conv_missing_f": Case("option", cli("conv", "--n", "8"), "Missing option '--f'", usage=True),
    "verify_nothing": Case("option", cli("verify"), "verify takes one SPEC or --all"),
    "verify_all_input": Case("option", cli("verify", "--all", "--input", "3"), "--input and --set apply to one SPEC"),
    "verify_symbolic_input": Case("option", cli("verify", "lenet5", "--input", "H"), "H"),
    "plot_two_without_compare": Case("option", cli("plot", "vgg16", "alexnet", "-o", "x.png"), "plot takes one SPEC, or --compare with several"),
    "plot_no_output": Case("option", cli("plot", "vgg16"), "Missing option '-o'", usage=True),
    "plot_dtype": Case("option", cli("plot", "vgg16", "--dtype", "int3", "-o", "x.png"), "unknown dtype `int3`"),
}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    cpu: float          # user CPU seconds
    rss: int
    workdir: Path
    args: tuple[str, ...]


# The child sets its own memory limit before running `python -m archcalc`: no preexec_fn, whose
# fork-then-run-Python is unsafe while the pool's other threads are starting processes too.
LAUNCH = (f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); "
          "sys.argv = ['archcalc', *sys.argv[1:]]; runpy.run_module('archcalc', run_name='__main__', alter_sys=True)")


def run_case(case: Case, workdir: Path) -> Run:
    args = case.make(workdir)
    env = {k: v for k, v in os.environ.items() if k not in ("ARCHCALC_DEBUG", "COLUMNS")}
    env |= {"COLUMNS": "120", "NO_COLOR": "1"} | case.env
    out_path, err_path = workdir / ".stdout", workdir / ".stderr"
    with open(err_path, "wb") as err:
        if case.stdout == "closed":
            r, w = os.pipe()
            os.close(r)      # nobody reads: the first write meets a closed pipe
            stdout: Any = w
        elif case.stdout is not None:
            stdout = open(case.stdout, "wb")
        else:
            stdout = open(out_path, "wb")
        p = subprocess.Popen([sys.executable, "-c", LAUNCH, *args], cwd=workdir, stdout=stdout, stderr=err,
                             stdin=subprocess.DEVNULL, env=env)
        if isinstance(stdout, int):
            os.close(stdout)
        else:
            stdout.close()
        killer = threading.Timer(HANG_GUARD, p.kill)
        killer.start()
        if case.interrupt_after is not None:
            time.sleep(case.interrupt_after)
            p.send_signal(signal.SIGINT)
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            killer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    out = out_path.read_text(encoding="utf-8", errors="replace") if out_path.exists() else ""
    return Run(p.returncode, out, err_path.read_text(encoding="utf-8", errors="replace"),
               usage.ru_utime, usage.ru_maxrss * 1024, workdir, tuple(args))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every case, run concurrently once (each an independent fresh process)."""
    root = tmp_path_factory.mktemp("hostile")
    dirs = {cid: root / cid for cid in CASES}
    for d in dirs.values():
        d.mkdir()
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {cid: pool.submit(run_case, case, dirs[cid]) for cid, case in CASES.items()}
        return {cid: f.result() for cid, f in futures.items()}


@pytest.mark.parametrize("cid", sorted(CASES), ids=str)
def test_case(cid: str, results: dict[str, Run]) -> None:
    case, run = CASES[cid], results[cid]
    shown = (run.code, run.err[-800:], run.out[-300:])
    assert run.code == case.code, shown
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err
    assert run.cpu < MAX_CPU_SECONDS, f"{run.cpu:.2f} s of CPU"
    assert run.rss < MAX_RSS, f"{run.rss / 2**20:.0f} MB resident"
    assert not (run.workdir / CANARY).exists()
    if case.code in (130, 141):
        assert run.err == "", run.err
        return
    if case.code == 0:
        assert not UNSAFE.search(run.out), repr(UNSAFE.search(run.out))
        assert case.fragment is None or case.fragment in run.out, run.out[:2000]
        return
    if case.usage:
        assert "Error:" in run.err, run.err
        assert case.fragment is None or case.fragment in run.err, run.err
        return
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("archcalc: error: "), run.err
    assert not UNSAFE.search(lines[0]), lines[0]
    assert len(lines[0]) <= 600
    if cid.startswith("private_key"):
        assert SECRET not in lines[0], lines[0]
    assert case.fragment is None or case.fragment in lines[0], lines[0]


def test_every_kind_and_command_is_covered(results: dict[str, Run]) -> None:
    assert len(CASES) >= 120
    assert {c.kind for c in CASES.values()} == {"number", "steps", "symbolic", "file", "inject", "disclose", "shadow",
                                                "silent", "huge", "stream", "message", "option"}
    assert {r.args[0] for r in results.values()} >= {"list", "summary", "compare", "scale", "memory", "formula", "conv",
                                                      "verify", "check", "plot", "diagram", "report", "latency"}


# ---------------------------------------------------------------- the shared guards, in-process
def test_exact_decimal_bounds_before_power() -> None:
    from fractions import Fraction

    from archcalc.num import MAX_EXPONENT, NumberTooLarge, exact_decimal

    assert exact_decimal("1.15") == Fraction(23, 20) and exact_decimal("2e3") == 2000
    assert exact_decimal("-1.5e-3") == Fraction(-3, 2000) and exact_decimal("0e5") == 0
    assert exact_decimal(f"1e{MAX_EXPONENT - 1}") == 10**(MAX_EXPONENT - 1)
    for text in ("1e99999999", "1.0e+99999999", "1e-99999999", f"1e{MAX_EXPONENT + 1}", "1e" + "9" * 300,
                 "1" * 1200 + f"e{200}"):
        start = time.perf_counter()
        with pytest.raises(NumberTooLarge):
            exact_decimal(text)
        assert time.perf_counter() - start < 0.1


def test_printable_escapes_every_control_and_format_character() -> None:
    import unicodedata

    from archcalc.text import excerpt, printable

    for i in range(sys.maxunicode + 1):
        c = chr(i)
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\n\t":
            assert printable(c) != c, hex(i)
    assert printable("a\x1b[2J\u202eb") == "a\\x1b[2J\\u202eb"
    assert printable("x\ny\tz") == "x\ny\tz" and printable("x\ny", one_line=True) == "x\\ny"
    assert excerpt(PRIVATE_KEY) == "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Bl…"


def test_read_file_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    from archcalc.errors import SpecError
    from archcalc.yamlio import MAX_FILE_BYTES, read_file

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    (tmp_path / "ok.yaml").write_text("name: x\n", encoding="utf-8")
    assert read_file(tmp_path / "ok.yaml", "ok.yaml") == "name: x\n"
    for path, message in ((tmp_path / "fifo", "named pipe"), ("/dev/zero", "character device"), (tmp_path, "directory"),
                          (tmp_path / "big", "too large")):
        with pytest.raises(SpecError, match=message):
            read_file(path, str(path))


def test_evaluation_budget_counts_work_not_layers() -> None:
    from archcalc.analysis import analyze
    from archcalc.errors import BudgetError
    from archcalc.graph import Limits
    from archcalc.spec import loads

    with pytest.raises(BudgetError, match="evaluation steps"):
        analyze(loads(HEAD + EMPTY_REPEATS, "s.yaml"))
    tiny = Limits(max_evaluations=50)
    with pytest.raises(BudgetError):
        analyze(loads(HEAD + "body:\n  - repeat: {n: 60, body: []}\n", "s.yaml"), limits=tiny)
    assert analyze(loads(HEAD + "body:\n  - repeat: {n: 20, body: []}\n  - relu\n", "s.yaml"), limits=tiny).totals.params == 0


def test_symbolic_budget_stops_sympy_and_restores_the_timer() -> None:
    import sympy

    from archcalc.budget import symbolic_budget
    from archcalc.errors import BudgetError

    x, y, z = sympy.symbols("x y z")
    start = time.process_time()
    with pytest.raises(BudgetError, match="time budget"), symbolic_budget(seconds=0.3):
        sympy.expand((x + y + z + 1) ** 400)
    assert time.process_time() - start < 2
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    with symbolic_budget(seconds=0.3):
        assert sympy.expand((x + 1) ** 2) == x**2 + 2 * x + 1
