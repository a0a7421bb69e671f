"""The entry point: errors, signals and stream failures are rendered here, once, for every command.

Exit statuses: 0 ok, 1 a check/verify disagreed, 2 bad input (usage, spec, value, a resource
budget exceeded, output that cannot be written), 70 a bug in archcalc, 130 interrupted (Ctrl-C),
141 stdout closed early (a pipe into `head`), as a shell reports a process ended by SIGPIPE.

Click is imported only when `quick` does not read the command line itself (see cli/quick.py).
"""
from __future__ import annotations

import codecs
import errno
import os
import signal
import sys
import threading

from ..errors import ArchcalcError, printable
from . import quick
from .common import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PIPE,
    fit_stream,
)

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Sequence

MAX_OUTPUT_DIGITS = 50_000
MAX_MESSAGE = 600   # characters of an error line: user text inside it is already quoted as short excerpts


class Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler instead of KeyboardInterrupt so that click does not turn
    it into `Aborted!` with exit status 1."""


# ---------------------------------------------------------------- streams
_ASCII = {"—": "-", "–": "-", "−": "-", "×": "x", "·": "*", "≈": "~", "≥": ">=", "≤": "<=", "→": "->", "←": "<-",
          "…": "...", "✓": "ok", "✗": "X", "α": "alpha", "ρ": "rho", "φ": "phi", "⌊": "floor(", "⌋": ")",
          "⌈": "ceil(", "⌉": ")", "²": "^2", "³": "^3", "√": "sqrt", "°": "deg", "µ": "u", "│": "|", "─": "-",
          "█": "#", "▏": "|", "▎": "|", "▍": "|", "▌": "|", "▋": "|", "▊": "|", "▉": "#", "‖": "||", "±": "+/-",
          "“": '"', "”": '"', "⋅": "*", "\u00a0": " ", "ᵀ": "^T", "∞": "inf", "≠": "!=", "‘": "'", "’": "'", "•": "*", "↑": "^", "↓": "v"}


def _ascii_fallback(e: UnicodeError) -> tuple[str, int]:
    """Codec error handler: an ASCII (or other narrow) stdout gets readable stand-ins, never a crash."""
    if not isinstance(e, UnicodeEncodeError):
        raise e
    text = e.object[e.start:e.end]
    return "".join(_ASCII.get(c, "?") for c in text), e.end


codecs.register_error("archcalc-ascii", _ascii_fallback)


def _narrow_streams() -> None:
    """A stream that cannot encode Unicode (PYTHONIOENCODING=ascii, the C locale) falls back to ASCII."""
    for stream in (sys.stdout, sys.stderr):
        enc = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if enc and not enc.startswith("utf") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="archcalc-ascii")
            except (ValueError, OSError):   # pragma: no cover - a stream that cannot be reconfigured
                pass


def silence_stdout() -> None:
    """After stdout failed (closed pipe, full disk) the interpreter's final flush must not print a
    second error: point the descriptor at /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _error(text: str) -> None:
    """One line on stderr, escaped: no control character from user text reaches the terminal."""
    line = printable(text, one_line=True)
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE - 1] + "…"
    try:
        sys.stderr.write(fit_stream(line, sys.stderr) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):   # stderr itself is gone: the exit status still says it
        pass


def _debug() -> bool:
    return os.environ.get("ARCHCALC_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


# ---------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status. Errors are rendered here, once."""
    from ..budget import symbolic_budget

    _narrow_streams()
    if hasattr(sys, "set_int_max_str_digits"):
        # archcalc's integers are bounded (2**4096 per written value, products of a few per layer), so their
        # exact decimal text is cheap; Python's default 4300-digit guard would crash JSON and CSV output
        sys.set_int_max_str_digits(MAX_OUTPUT_DIGITS)
    in_main = threading.current_thread() is threading.main_thread()
    previous: Any = None
    if in_main:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        with symbolic_budget():
            args = list(argv) if argv is not None else sys.argv[1:]
            code = quick.run(args)
            if code is None:   # not one of the forms `quick` reads: click parses it
                from .app import invoke

                code = invoke(args)
        return code
    except ArchcalcError as e:
        _error(f"archcalc: error: {e}")
        return e.exit_code
    except (Interrupted, KeyboardInterrupt):
        silence_stdout()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_PIPE
    except (RecursionError, MemoryError):
        _error("archcalc: error: the input is too deeply nested or too large to analyse")
        return EXIT_BAD_INPUT
    except OSError as e:   # stdout or a file could not be written: a full disk, a closed terminal
        silence_stdout()
        _error(f"archcalc: error: cannot write the output: {e.strerror or e}"
               + (" (the disk is full)" if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)) else ""))
        return EXIT_BAD_INPUT
    except Exception as e:  # a bug in archcalc, not in the input: say so in one line
        if _debug():
            raise
        _error(f"archcalc: internal error: {type(e).__name__}: {str(e)[:200]} (set ARCHCALC_DEBUG=1 for a "
               f"traceback; please report it)")
        return EXIT_INTERNAL
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def _on_sigint(signum: int, frame: Any) -> None:
    raise Interrupted()


def entry() -> None:
    code = main()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        silence_stdout()
        code = EXIT_PIPE if code == EXIT_OK else code
    sys.exit(code)
