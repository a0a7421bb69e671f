"""Option parsing, shared options, console and output helpers used by every command."""
from __future__ import annotations

import gc
import os
import re
import sys

from .. import num
from ..errors import ArchcalcError, UsageError, excerpt, printable
from ..expr import parse_constant

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Sequence

EXIT_OK, EXIT_DISAGREE, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 70
EXIT_INTERRUPTED, EXIT_PIPE = 130, 141   # 128 + SIGINT, 128 + SIGPIPE, as a shell reports them
SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
MAX_BATCH = 10**9          # --batch
MAX_LAYERS_FLAG = 10**7    # the most --max-layers may allow (a layer costs about a kilobyte)
MAX_SPECS = 1_000          # specs in one compare or plot --compare (each keeps only its totals)
MIN_WIDTH, MAX_WIDTH = 40, 1000   # COLUMNS outside this range is ignored


# ---------------------------------------------------------------- option parsing
def parse_input(text: str | None) -> tuple[Any, ...] | None:
    """`224`, `224x224`, `3x224x224`, or symbols: `H`, `HxW`, `3xHxW`."""
    if text is None:
        return None
    parts = [p.strip() for p in re.split(r"[x×,]", text.strip()) if p.strip()] if not SYMBOL.match(text.strip()) else [text.strip()]
    if not 1 <= len(parts) <= 3:
        raise UsageError(f"--input takes N, HxW or CxHxW, got `{excerpt(text)}`")
    values = []
    for p in parts:
        if SYMBOL.match(p):
            values.append(symbol(p))
            continue
        try:
            v = parse_constant(p)
        except ArchcalcError as e:
            raise UsageError(f"--input: `{excerpt(p)}` is not a size ({getattr(e, 'message', e)}; expected a whole "
                             f"number or a symbol like H)") from None
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise UsageError(f"--input: sizes must be whole numbers ≥ 1, got {num.fmt(v) if not isinstance(v, bool) else v}")
        if v > 10**7:
            raise UsageError(f"--input: {v} is larger than any image archcalc will size (limit 10,000,000)")
        values.append(v)
    return tuple(values)


def symbol(name: str) -> Any:
    from ..formula import symbol as make_symbol

    return make_symbol(name)


def parse_sets(items: Sequence[str], allow_lists: bool = False) -> dict[str, Any]:
    """`--set name=value`: a number or arithmetic of numbers (`6/7`), or a word for choice vars."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--set takes name=value, got `{excerpt(item)}`")
        key, text = (s.strip() for s in item.split("=", 1))
        if not key.isidentifier():
            raise UsageError(f"--set: `{excerpt(key)}` is not a variable name")
        values = [v.strip() for v in text.split(",")] if allow_lists else [text]
        if not allow_lists and "," in text:
            raise UsageError(f"--set {key}: one value per run; use `archcalc scale` to sweep {excerpt(text)}")
        parsed = [_set_value(key, v) for v in values]
        out[key] = parsed if allow_lists else parsed[0]
    return out


def _set_value(key: str, text: str) -> Any:
    if not text:
        raise UsageError(f"--set {key}: missing value")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if SYMBOL.match(text):
        return text  # a choice such as impl=torchvision; the spec checks it
    try:
        return parse_constant(text)
    except ArchcalcError as e:
        if WORD.match(text):
            return text  # a word that is no number (impl=torch-vision): the spec lists its choices
        raise UsageError(f"--set {key}={excerpt(text)}: {getattr(e, 'message', e)}") from None


def parse_batch(value: str) -> Any:
    if SYMBOL.match(value):
        return symbol(value)
    try:
        b = parse_constant(value)
    except ArchcalcError as e:
        raise UsageError(f"--batch takes a whole number ≥ 1, got `{excerpt(value)}` ({getattr(e, 'message', e)})") from None
    if not isinstance(b, int) or isinstance(b, bool) or b < 1:
        raise UsageError(f"--batch takes a whole number ≥ 1, got `{excerpt(value)}`")
    if b > MAX_BATCH:
        raise UsageError(f"--batch {excerpt(value)}: larger than any batch archcalc will size (limit {MAX_BATCH:,})")
    return b


def console() -> Any:
    """The terminal console, created on first use: commands that print no table never import rich."""
    return _LazyConsole()


class _LazyConsole:
    def __init__(self) -> None:
        self._console: Any = None

    @staticmethod
    def _width() -> int | None:
        columns = os.environ.get("COLUMNS", "").strip()
        width = int(columns) if columns.isdigit() and MIN_WIDTH <= int(columns[:6]) <= MAX_WIDTH else None
        if width is None and not sys.stdout.isatty():
            width = 160
        return width

    def plain_target(self) -> tuple[int, bool] | None:
        """(width, styled) when report.plaintable may write rich's layout itself, rich not being loaded for
        this console yet and stdout UTF-8: plain text where rich would draw no colour (a pipe, a file), or
        rich's styled text on a terminal whose settings rich reads the plain way (plaintable.terminal_width)."""
        from ..report.plaintable import plain_console, terminal_width

        enc = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
        if self._console is not None or not enc.startswith("utf"):
            return None
        width = self._width()
        if width is not None and plain_console(width, sys.stdout):
            return width, False
        width = terminal_width(sys.stdout)
        return None if width is None else (width, True)

    def write_plain(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            # markup and emoji off: spec text such as `[/x]` or `[link=...]` prints as written
            self._console = Console(width=self._width(), highlight=False, markup=False, emoji=False)
        return getattr(self._console, name)


def write_output(path: str, text: str, what: str) -> None:
    """-o FILE: write the text, say so on stderr; an unwritable path is bad input."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"-o {path}: {e.strerror}") from None
    sys.stderr.write(fit_stream(f"wrote {path}{what}\n", sys.stderr))
    sys.stderr.flush()


def emit_chunks(chunks: Iterable[str], size: int = 1 << 20) -> None:
    """Write a long output in pieces of about `size` characters, never holding it whole."""
    buf: list[str] = []
    held = 0
    for chunk in chunks:
        buf.append(chunk)
        held += len(chunk)
        if held >= size:
            emit("".join(buf))
            buf, held = [], 0
    emit("".join(buf))


def emit(text: str | None) -> None:
    """Everything a command prints as text (JSON, CSV, Markdown, --plain, formulas) leaves through here,
    with control and text-reordering characters escaped (tabs and newlines are the format's own)."""
    if text is not None:
        sys.stdout.write(fit_stream(printable(text), sys.stdout))
        sys.stdout.flush()


def fit_stream(text: str, stream: Any) -> str:
    """Text a narrow stream can take: on an ASCII (or other narrow) stream the fallback (`—` → `-`, `×` → `x`,
    `≥` → `>=`, anything else `?`) is applied here, once, whoever wrote the stream's encoding."""
    enc = (getattr(stream, "encoding", None) or "utf-8")
    if enc.lower().replace("-", "").replace("_", "").startswith("utf"):
        return text
    try:
        return text.encode(enc, "archcalc-ascii").decode(enc)
    except LookupError:   # pragma: no cover - an encoding Python does not know
        return text


def check_spec_count(specs: Sequence[str]) -> None:
    if len(specs) > MAX_SPECS:
        raise UsageError(f"{len(specs)} specs in one comparison (limit {MAX_SPECS})")


def split_item(item: str) -> tuple[str, tuple[str, ...]]:
    """A quoted `"SPEC --set k=v ..."` argument (compare, plot --compare, formula --ratio-to) → name, sets."""
    words = item.split()
    if not words:
        raise UsageError(f"empty spec name `{excerpt(item)}`; give a built-in name (see `archcalc list`) or a path")
    return words[0], own_sets(words[1:], item)


# ---------------------------------------------------------------- shared options
def analysis_options(f: Callable[..., Any]) -> Callable[..., Any]:
    import click

    from ..dtypes import DTYPE_BYTES

    options = [
        click.option("--input", "input_", metavar="N|HxW|CxHxW", help="Input size (a symbol such as H works too)."),
        click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a spec variable (repeatable)."),
        click.option("--batch", default="1", show_default=True, help="Batch size."),
        click.option("--dtype", type=click.Choice(sorted(DTYPE_BYTES)), default="float32", show_default=True),
        click.option("--convention", default="paper", show_default=True, help="Counting convention."),
        click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
                     show_default=True),
        click.option("--max-layers", type=click.IntRange(1, MAX_LAYERS_FLAG), default=100_000, show_default=True,
                     help="Refuse networks that expand to more layers than this."),
        click.option("--plain", is_flag=True, help="Tab-separated columns, no box drawing or colour (for pipes)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def run_analysis(spec: str, input_: str | None, sets: Sequence[str], batch: str, dtype: str, convention: str,
                 max_layers: int, preset: str | None = None) -> Any:
    from ..analysis import analyze
    from ..graph import Limits

    was = gc.isenabled()
    gc.disable()
    try:
        a = analyze(spec, input=parse_input(input_), vars=parse_sets(sets), convention=convention,
                    batch=parse_batch(batch), dtype=dtype, preset=preset, limits=Limits(max_layers=max_layers))
        # the analysis lives until exit: frozen before the collector runs again, no later collection walks
        # its 100,000 layers (nor the first one after the pause, over everything the analysis allocated)
        gc.freeze()
    finally:
        if was:
            gc.enable()
    return a


# ---------------------------------------------------------------- output helpers
def list_csv(rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=["name", "file", "preset", "description"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def md_escape(text: str) -> str:
    return printable(text, one_line=True).replace("|", "\\|")


def raw_text(v: Any) -> str:
    return v.text if hasattr(v, "text") else num.fmt(v) if num.is_exact(v) else str(v)


EXTENSIONS = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".txt": "table"}


def format_for(path: str, fmt: str) -> str:
    """-o FILE picks the format by extension; an explicit --format must agree with it."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise UsageError(f"-o {path}: unknown extension {ext or '(none)'}; use one of {', '.join(EXTENSIONS)}")
    chosen = EXTENSIONS[ext]
    if fmt not in ("table", chosen):
        raise UsageError(f"-o {path} writes {chosen}, but --format {fmt} was given")
    return chosen


def capture(render: Callable[[Any], None]) -> str:
    """A rich table rendered to text (no colour, no terminal codes), for -o FILE.txt."""
    from rich.console import Console

    c = Console(width=160, record=True, file=open(os.devnull, "w"), color_system=None, highlight=False, markup=False,
                emoji=False)
    render(c)
    return c.export_text()


def own_sets(words: list[str], item: str) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(words):
        if words[i] == "--set" and i + 1 < len(words):
            out.append(words[i + 1])
            i += 2
        elif words[i].startswith("--set="):
            out.append(words[i][6:])
            i += 1
        else:
            raise UsageError(f"in `{excerpt(item)}`: only `--set name=value` may follow a spec name")
    return tuple(out)


def whole(name: str, text: str, minimum: int, maximum: int = 10**7) -> int:
    option = f"--{name.replace('_', '-')}"
    try:
        v = parse_constant(text)
    except ArchcalcError as e:
        raise UsageError(f"{option} takes a whole number, got `{excerpt(text)}` ({getattr(e, 'message', e)})") from None
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise UsageError(f"{option} takes a whole number ≥ {minimum}, got `{excerpt(text)}`")
    if v > maximum:
        raise UsageError(f"{option} {excerpt(text)}: larger than archcalc will size (limit {maximum:,})")
    return v
