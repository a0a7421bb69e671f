"""Start-up (issue 15): `python benchmarks/startup.py [--repeat N]`; benchmarks/speed.py prints the same rows.

`archcalc summary vgg16` as JSON and as a table, each a fresh process (best of N, bytecode caches
present, as after `pip install`), beside the same run's `python -c pass` (the start-up floor); then the
table as a person at a terminal waits for it (a pseudo-terminal 160 columns wide, vgg16 and resnet50). The
issue's targets are 0.06 s (JSON) and 0.12 s (table) on a machine whose Python starts in 0.013 s:
each row is judged against both the absolute target and the target scaled to this machine's floor
(4.6× and 9.2× `python -c pass`). Then `python -X importtime` of the JSON command: the modules that
cost most (self time, best of 3), and whether sympy, numpy, rich or yaml were imported at all.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli import ENV, ROOT, archcalc, run  # noqa: E402

ISSUE_FLOOR = 0.013                                   # `python -c pass` on the issue's machine
TARGETS = {"json": 0.06, "table": 0.12}               # seconds on that machine
HEAVY = ("sympy", "numpy", "rich", "yaml", "click")
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def importtime(argv: list[str], repeat: int = 3) -> dict[str, tuple[int, int]]:
    """module → (self µs, cumulative µs), the best of `repeat` runs (a module must appear in every run)."""
    seen: dict[str, list[tuple[int, int]]] = {}
    for _ in range(repeat):
        err = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV, check=True).stderr
        for m in LINE.finditer(err):
            seen.setdefault(m.group(4), []).append((int(m.group(1)), int(m.group(2))))
    return {k: (min(s for s, _ in v), min(c for _, c in v)) for k, v in seen.items() if len(v) == repeat}


def run_tty(argv: list[str], repeat: int, columns: int = 160) -> float:
    """Best wall time of `repeat` fresh runs whose stdout is a pseudo-terminal `columns` wide: what a person
    at a terminal waits for (rich would style the table there; report/plaintable.py writes it itself)."""
    import pty
    import select

    env = {**ENV, "COLUMNS": str(columns), "TERM": ENV.get("TERM") or "xterm-256color"}
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:   # the child: stdin, stdout and stderr are the terminal
            os.chdir(ROOT)
            os.execve(argv[0], argv, env)
        while select.select([fd], [], [], 60)[0]:
            try:
                if not os.read(fd, 1 << 16):
                    break
            except OSError:   # the child closed the terminal
                break
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
        os.close(fd)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed on a terminal: {' '.join(argv)}")
        best = min(best, elapsed)
    return best


def rows(repeat: int, emit: object = print) -> list[tuple[str, float, float, str]]:
    """(label, seconds, peak RSS MB, note) for the floor and both commands, plus the importtime report."""
    out = []
    base, base_mem = run([sys.executable, "-c", "pass"], repeat * 2)
    out.append(("python -c pass (start-up floor)", base, base_mem, "baseline"))
    for kind, argv in (("json", archcalc("summary", "vgg16", "--format", "json")),
                       ("table", archcalc("summary", "vgg16"))):
        t, m = run(argv, repeat)
        scaled = TARGETS[kind] / ISSUE_FLOOR * base
        note = (f"{t / base:.1f}× start-up; target {TARGETS[kind]:g} s: {'ok' if t < TARGETS[kind] else 'MISSED'}; "
                f"scaled to this floor ({TARGETS[kind] / ISSUE_FLOOR:.1f}× = {scaled:.3f} s): "
                f"{'ok' if t < scaled else 'MISSED'}")
        out.append((f"summary vgg16{' --format json' if kind == 'json' else ' (table)'}", t, m, note))
    tty_base = run_tty([sys.executable, "-c", "pass"], repeat * 2)
    out.append(("python -c pass on a terminal (its floor)", tty_base, float("nan"), "baseline of the rows below"))
    for name in ("vgg16", "resnet50"):
        t = run_tty(archcalc("summary", name), repeat)
        scaled = TARGETS["table"] / ISSUE_FLOOR * tty_base
        note = (f"{t / tty_base:.1f}× its floor; the table's target {TARGETS['table']:g} s: "
                f"{'ok' if t < TARGETS['table'] else 'MISSED'}; scaled: {'ok' if t < scaled else 'MISSED'}")
        out.append((f"summary {name} (table, on a terminal)", t, float("nan"), note))
    return out


def offenders(top: int = 12) -> str:
    """The costliest imports of `summary vgg16 --format json` and the heavy packages it loaded."""
    mods = importtime(archcalc("summary", "vgg16", "--format", "json"))
    total = sum(s for s, _ in mods.values())
    loaded = [h for h in HEAVY if h in mods]
    lines = [f"-X importtime, summary vgg16 --format json: {len(mods)} modules, {total / 1000:.1f} ms of import "
             f"(self times summed; importtime's own overhead included); heavy packages loaded: "
             f"{', '.join(loaded) or 'none'} (sympy, numpy, rich must be absent)"]
    for name, (s, c) in sorted(mods.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"    {s / 1000:6.2f} ms self  {c / 1000:6.2f} ms cumulative  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per figure (best time is kept)")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "archcalc")], env=ENV, check=False,
                   stdout=subprocess.DEVNULL)
    for label, t, m, note in rows(args.repeat):
        print(f"{label:<40}  {t:7.4f} s  {f'{m:.1f}' if m == m else '-':>6} MB  {note}", flush=True)
    print(offenders())


if __name__ == "__main__":
    main()
