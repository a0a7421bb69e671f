"""Start-up facts (issue 15), not timings: what a command imports, lazy command registration, and the
built-in spec document cache."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archcalc import catalog, doccache, yamlio
from archcalc.spec import load, parse

ROOT = Path(__file__).parent.parent

PROBE = """
import sys
before = set(sys.modules)   # what the interpreter and site (an editable install's finder) loaded already
import io, json, contextlib
from archcalc.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(set(sys.modules) - before)}))
"""


def _modules(*argv: str) -> set[str]:
    """The modules a command loads, run as after an install and a first run: bytecode and the built-in spec
    cache written (the first run writes them)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT,
                              env=env, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    return set(result["modules"])


def test_json_summary_imports_no_heavy_package() -> None:
    loaded = _modules("summary", "vgg16", "--format", "json")
    for heavy in ("sympy", "rich", "numpy", "matplotlib", "yaml", "click"):
        assert heavy not in loaded, f"`summary vgg16 --format json` imported {heavy}"
    for slow in ("typing", "pathlib", "dataclasses", "inspect"):   # a few ms each (cli/quick.py, record.py)
        assert slow not in loaded, f"`summary vgg16 --format json` imported {slow}"
    # other commands' modules and the training-memory model stay unloaded
    for other in ("archcalc.cli.checks", "archcalc.cli.diagram", "archcalc.latency", "archcalc.claims",
                  "archcalc.memory.training", "archcalc.report.symbolic", "archcalc.numeric"):
        assert other not in loaded, f"`summary vgg16 --format json` imported {other}"
    assert "rich" not in _modules("summary", "vgg16")   # a table into a pipe: rich's layout, written plainly


def test_every_command_is_registered_lazily() -> None:
    from archcalc.cli import cli

    cli.load_all()
    assert set(cli.commands) == set(cli.lazy), "a command module defines commands not named in cli/app.py"


def test_help_lists_every_command(cli_run) -> None:  # type: ignore[no-untyped-def]
    from archcalc.cli import cli

    code, out, _ = cli_run("--help")
    assert code == 0
    for name in cli.lazy:
        assert f"\n  {name} " in out
    code, _, err = cli_run("sumary", "vgg16")
    assert code == 2 and "summary" in err   # click's "did you mean" sees commands not yet imported


def test_builtin_lookup_matches_the_full_index() -> None:
    for name, entry in catalog.entries().items():
        assert catalog.resolve(name) == entry
        assert catalog.resolve(name.upper().replace("_", "-")) == entry


def test_document_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    for src in sorted(catalog.specs_dir().glob("*.yaml")):
        path = tmp_path / src.name
        shutil.copy(src, path)
        text = path.read_text(encoding="utf-8")
        fresh = yamlio.load_text(text, src.name)
        first = doccache.load(str(path), text, src.name)          # parses and writes the cache
        assert Path(doccache.cache_path(str(path))).is_file()
        cached = doccache.load(str(path), text, src.name)         # reads it back
        assert cached.data == fresh.data and cached.lines == fresh.lines and first.data == fresh.data
        assert repr(cached.data) == repr(fresh.data)              # Fractions stay Fractions, ints ints
        assert parse(cached) == parse(fresh)


def test_document_cache_never_serves_other_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = tmp_path / "net.yaml"
    path.write_text("archcalc: 1\nname: a\ninput: [3, 8, 8]\nbody:\n- {conv: {c: 4, k: 3}}\n", encoding="utf-8")
    assert load(path, cached=True).name == "a"
    path.write_text("archcalc: 1\nname: b\ninput: [3, 8, 8]\nbody:\n- {conv: {c: 4, k: 3}}\n", encoding="utf-8")
    assert load(path, cached=True).name == "b"                   # same size, other text: parsed again
    Path(doccache.cache_path(str(path))).write_bytes(b"\x00garbage")
    assert load(path, cached=True).name == "b"                   # an unreadable cache is ignored


def test_document_cache_not_written_without_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "net.yaml"
    path.write_text("archcalc: 1\nname: a\ninput: [3, 8, 8]\nbody:\n- relu\n", encoding="utf-8")
    load(path, cached=True)
    assert not Path(doccache.cache_path(str(path))).exists()


PLAIN_USED: list[bool] = []


def _both(cli_run, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The summary table written by report.plaintable and by rich (plain_target refused)."""
    from archcalc.cli import common

    used: list[str] = []
    write = common._LazyConsole.write_plain
    with monkeypatch.context() as m:
        m.setattr(common._LazyConsole, "write_plain", lambda self, text: (used.append(text), write(self, text)))
        code, fast, err = cli_run(*argv)
    assert code == 0, err
    PLAIN_USED.append(bool(used))
    with monkeypatch.context() as m:
        m.setattr(common._LazyConsole, "plain_target", lambda self: None)
        code, slow, err = cli_run(*argv)
    assert code == 0, err
    return fast, slow


@pytest.mark.parametrize("name", sorted({Path(e.file).stem for e in catalog.entries().values()}))
def test_plain_table_is_richs_table_byte_for_byte(name: str, cli_run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COLUMNS")   # the width of a table written into a pipe (160)
    fast, slow = _both(cli_run, monkeypatch, "summary", name)
    assert fast == slow


@pytest.mark.parametrize("argv, columns", [
    (["summary", "resnet50", "--depth", "1"], "120"), (["summary", "googlenet", "--top", "5"], "80"),
    (["summary", "efficientnet_b0", "--batch", "8"], "1000"), (["summary", "alexnet"], "40"),
    (["summary", "vgg16", "--input", "H"], "160"), (["summary", "tests/data/branched.yaml"], "100"),
    (["summary", "densenet121"], "160"), (["summary", "lenet5", "--convention", "keras"], "90")])
def test_plain_table_matches_rich_at_every_width(argv: list[str], columns: str, cli_run,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", columns)
    fast, slow = _both(cli_run, monkeypatch, *argv)
    assert fast == slow
    if int(columns) >= 120:   # these tables fit: written without rich (narrower ones wrap and rich draws them)
        assert PLAIN_USED[-1]


def test_plain_table_serves_the_common_specs(cli_run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("COLUMNS")
    for name in ("vgg16", "resnet50", "googlenet", "mobilenet_v2", "efficientnet_b0", "densenet121", "lenet5"):
        _both(cli_run, monkeypatch, "summary", name)
        assert PLAIN_USED[-1], name


def test_plain_table_steps_aside_for_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    from archcalc.cli.common import console

    monkeypatch.setenv("FORCE_COLOR", "1")
    assert console().plain_target() is None
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert console().plain_target() is None


class _Terminal(io.StringIO):
    """A stdout that says it is a terminal: rich styles what it writes there."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def _both_on_terminal(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[str, str, bool]:
    """(plaintable's styled text, rich's, whether plaintable wrote it) for `argv` on a terminal."""
    from archcalc.cli import common, main

    outs, used = [], []
    write = common._LazyConsole.write_plain
    for refuse in (False, True):
        with monkeypatch.context() as m:
            term = _Terminal()
            m.setattr(sys, "stdout", term)
            m.setattr(common._LazyConsole, "write_plain", lambda self, text: (used.append(refuse), write(self, text)))
            if refuse:
                m.setattr(common._LazyConsole, "plain_target", lambda self: None)
            assert main(argv) == 0
            outs.append(term.getvalue())
    return outs[0], outs[1], bool(used) and not used[0]


@pytest.mark.parametrize("name", sorted({Path(e.file).stem for e in catalog.entries().values()}))
def test_styled_table_on_a_terminal_is_richs(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLORTERM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "160")
    fast, slow, _ = _both_on_terminal(monkeypatch, ["summary", name])
    assert fast == slow


def test_styled_table_serves_the_common_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=0: os.terminal_size((170, 50)))
    for name in ("vgg16", "resnet50", "googlenet", "mobilenet_v2", "efficientnet_b0", "vit_b_16"):
        fast, slow, plain = _both_on_terminal(monkeypatch, ["summary", name])
        assert plain and "\x1b[1mLayer" in fast and "\x1b[36m" in fast and fast == slow, name


@pytest.mark.parametrize("argv, columns, term", [
    (["summary", "googlenet"], "120", "xterm"), (["summary", "resnet50", "--depth", "2"], "100", "xterm-16color"),
    (["summary", "tests/data/branched.yaml"], "90", "screen"), (["summary", "inception_v3", "--top", "7"], "60", "xterm"),
    (["summary", "densenet121"], "1000", "xterm-kitty"), (["summary", "alexnet", "--input", "H"], "80", "vt100"),
    (["summary", "efficientnet_b0", "--batch", "8"], "170", "")])
def test_styled_table_matches_rich_at_every_width_and_term(argv: list[str], columns: str, term: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor" if term == "xterm" else "")
    monkeypatch.setenv("TERM", term)
    monkeypatch.setenv("COLUMNS", columns)
    fast, slow, plain = _both_on_terminal(monkeypatch, argv)
    assert fast == slow
    if int(columns) >= 170:
        assert plain, "a table that fits is written without rich"


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}, {"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "0"},
                                 {"COLUMNS": "20"}])
def test_terminal_settings_rich_reads_its_own_way_go_to_rich(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLUMNS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    fast, slow, plain = _both_on_terminal(monkeypatch, ["summary", "vgg16"])
    assert fast == slow and not plain


def test_styled_table_through_a_real_terminal() -> None:
    """Through a pseudo-terminal 150 columns wide (no COLUMNS: the width comes from the terminal, as rich
    reads it): the bytes archcalc writes are the bytes rich writes."""
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import struct
    import termios

    def run(refuse: bool) -> bytes:
        code = ("import archcalc.cli.common as c\n"
                + ("c._LazyConsole.plain_target = lambda self: None\n" if refuse else "")
                + "from archcalc.cli import main\nraise SystemExit(main(['summary', 'googlenet']))")
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR",
                                                                  "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
        env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
        pid, fd = pty.fork()
        if pid == 0:   # pragma: no cover - the child
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 150, 0, 0))
            os.execve(sys.executable, [sys.executable, "-c", code], env)
        out = b""
        while select.select([fd], [], [], 30)[0]:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, out[-500:]
        return out

    fast, slow = run(False), run(True)
    assert b"\x1b[1mLayer" in slow and fast == slow
