"""The resource budget every command shares for symbolic work (sympy).

While a budget is active, a timer samples the call stack every TICK seconds of CPU time
(ITIMER_PROF: on an idle machine the same as wall-clock, and not inflated when other processes
compete for the CPU); a tick that finds sympy code running (not merely being imported) counts
towards the symbolic time, and checks the process's resident memory.
When the symbolic time passes SYMBOLIC_SECONDS, or memory has grown by more than SYMBOLIC_BYTES
since the budget began, the running computation is stopped with a BudgetError (exit 2), whatever
sympy was doing: a nested power, a huge simplification, a shape comparison that does not end.
Numeric work (NumPy forward passes, plain-integer analyses) is never counted.

Limits can be changed with ARCHCALC_SYMBOLIC_SECONDS and ARCHCALC_SYMBOLIC_MB (whole numbers).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from types import FrameType

from .errors import BudgetError

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Iterator

SYMBOLIC_SECONDS = 1.5          # CPU seconds of sympy work per network built (see renew)
SYMBOLIC_BYTES = 768 * 2**20    # growth of resident memory while sympy works
TICK = 0.05


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "")
    return float(int(text)) if text.isdigit() and 0 < int(text) < 10**6 else default


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _in_sympy(frame: FrameType | None) -> bool:
    """sympy code on the stack, not merely being imported (importing sympy is start-up, not work)."""
    found, depth = False, 0
    while frame is not None and depth < 5000:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("importlib") or frame.f_code.co_filename.startswith("<frozen importlib"):
            return False
        found = found or name.startswith("sympy")
        frame, depth = frame.f_back, depth + 1
    return found


class _Meter:
    def __init__(self, seconds: float, extra_bytes: int) -> None:
        self.seconds, self.extra_bytes = seconds, extra_bytes
        self.spent = 0.0
        base = _rss()
        self.rss_limit = base + extra_bytes if base is not None else None

    def tick(self, signum: int, frame: FrameType | None) -> None:
        if "sympy" not in sys.modules or not _in_sympy(frame):
            return
        self.spent += TICK
        if self.spent > self.seconds:
            self.spent = self.seconds - TICK   # a second tick raises again should sympy swallow this one
            raise BudgetError(f"symbolic work exceeded its time budget ({self.seconds:g} s): the closed form is too "
                              f"large to compute; fix more variables (--set), use fewer --symbols or --ideal, "
                              f"or raise ARCHCALC_SYMBOLIC_SECONDS")
        if self.rss_limit is not None:
            rss = _rss()
            if rss is not None and rss > self.rss_limit:
                raise BudgetError(f"symbolic work exceeded its memory budget ({self.extra_bytes // 2**20} MB): the "
                                  f"closed form is too large; fix more variables (--set) or raise ARCHCALC_SYMBOLIC_MB")


_ACTIVE: list[_Meter] = []


def renew() -> None:
    """Start the time allowance afresh: called once per network built (graph.build), so the budget
    is per network and a `report` or `compare` of many networks is not refused for their number."""
    if _ACTIVE:
        _ACTIVE[-1].spent = 0.0


@contextmanager
def symbolic_budget(seconds: float | None = None, extra_bytes: int | None = None) -> Iterator[None]:
    """Bound the sympy work done inside the block (main thread only; elsewhere a no-op)."""
    if (threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer")
            or signal.getitimer(signal.ITIMER_PROF) != (0.0, 0.0)):
        yield
        return
    meter = _Meter(seconds if seconds is not None else _env_number("ARCHCALC_SYMBOLIC_SECONDS", SYMBOLIC_SECONDS),
                   extra_bytes if extra_bytes is not None
                   else int(_env_number("ARCHCALC_SYMBOLIC_MB", SYMBOLIC_BYTES / 2**20)) * 2**20)
    previous = signal.signal(signal.SIGPROF, meter.tick)
    signal.setitimer(signal.ITIMER_PROF, TICK, TICK)
    _ACTIVE.append(meter)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)
        _ACTIVE.remove(meter)
