"""`summary` without click: the command's work, and the command lines of it that need no click to read.

Start-up is most of what `archcalc summary vgg16 --format json` costs, and importing click (with the
`typing`, `inspect`, `enum`, `datetime` and `uuid` it loads) is a third of that. `read` accepts only the
plainest forms: `summary SPEC` with any of --format, --plain, --input, --set, --batch, --dtype,
--convention, --max-layers, --depth and --top, written `--opt VALUE` or `--opt=VALUE`, every value one
click would take unchanged. Anything else (help, -o, a value click would refuse or convert, a word it
would read differently, shell completion) returns None and click reads the line, so click alone renders
usage errors. tests/test_quick.py holds both readings to the same output and exit status.
"""
from __future__ import annotations

import os

from .common import (
    MAX_LAYERS_FLAG,
    capture,
    console,
    emit,
    emit_chunks,
    format_for,
    run_analysis,
    write_output,
)

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("table", "json", "csv", "markdown")
DEFAULTS: dict[str, Any] = {"input_": None, "sets": (), "batch": "1", "dtype": "float32", "convention": "paper",
                            "fmt": "table", "max_layers": 100_000, "plain": False, "depth_limit": None, "top": None}
VALUED = {"--input": "input_", "--set": "sets", "--batch": "batch", "--dtype": "dtype", "--convention": "convention",
          "--format": "fmt", "--max-layers": "max_layers", "--depth": "depth_limit", "--top": "top"}
WHOLE = {"max_layers": (1, MAX_LAYERS_FLAG), "depth_limit": (1, None), "top": (1, None)}   # click.IntRange bounds
COMPLETION = "_ARCHCALC_COMPLETE"   # click's shell-completion variable for prog_name `archcalc`


def read(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """`summary SPEC [options]` → (SPEC, the command's keyword arguments), or None for click to read."""
    if len(argv) < 2 or argv[0] != "summary" or COMPLETION in os.environ:
        return None
    from ..dtypes import DTYPE_BYTES

    opts = dict(DEFAULTS)
    spec: str | None = None
    i = 1
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--plain":
            opts["plain"] = True
            continue
        name, eq, value = word.partition("=")
        if name in VALUED:
            if not eq:
                if i >= len(argv):
                    return None
                value = argv[i]
                i += 1
            if not value or value.startswith("-"):
                return None
            key = VALUED[name]
            if key in WHOLE:
                low, high = WHOLE[key]
                if not (value.isascii() and value.isdigit()) or int(value) < low or (high and int(value) > high):
                    return None
                opts[key] = int(value)
            elif key == "sets":
                opts["sets"] += (value,)
            elif (key == "fmt" and value not in FORMATS) or (key == "dtype" and value not in DTYPE_BYTES):
                return None
            else:
                opts[key] = value
            continue
        if spec is not None or not word or word.startswith("-"):
            return None
        spec = word
    return None if spec is None else (spec, opts)


def run(argv: list[str]) -> int | None:
    """Run `summary` if `read` accepts the line: exit status 0 (errors are raised, as from any command)."""
    parsed = read(argv)
    if parsed is None:
        return None
    spec, opts = parsed
    summary(spec, output=None, **opts)
    return 0


def summary(spec: str, input_: str | None, sets: tuple[str, ...], batch: str, dtype: str, convention: str,
            fmt: str, max_layers: int, plain: bool, depth_limit: int | None, top: int | None,
            output: str | None) -> None:
    """The `summary` command's work, for both readings of its command line."""
    from .. import report

    a = run_analysis(spec, input_, sets, batch, dtype, convention, max_layers)
    if output is not None:
        fmt = format_for(output, fmt)
    if fmt == "json" and output is None:
        emit_chunks(report.json_chunks(report.summary_json(a, depth_limit, top, lazy=True)))
        return
    if fmt == "json":
        text = report.dumps(report.summary_json(a, depth_limit, top, lazy=True))
    elif fmt == "csv":
        text = report.summary_csv(a, depth_limit, top)
    elif fmt == "markdown":
        text = report.summary_markdown(a, depth_limit, top)
    elif plain:
        text = report.summary_plain(a, depth_limit, top)
    elif output is not None:
        text = capture(lambda c: report.summary_table(a, c, depth_limit, top))
    else:
        report.summary_table(a, console(), depth_limit, top)
        return
    if output is None:
        emit(text)
        return
    write_output(output, text, f" ({fmt})")
