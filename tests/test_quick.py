"""cli/quick.py reads plain `summary` command lines without click: every line it reads must give the output,
the errors and the exit status click's reading gives, and every line it cannot read exactly must go to click."""
from __future__ import annotations

from typing import Any

import pytest

from archcalc.cli import main, quick

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is in the `test` extra
    given = None


def both(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> tuple[Any, Any]:
    """(exit status, stdout, stderr) through `main` as shipped, and with `quick` switched off (click reads all)."""
    shipped = (main(argv), *capsys.readouterr())
    with monkeypatch.context() as m:
        m.setattr(quick, "run", lambda args: None)
        clicked = (main(argv), *capsys.readouterr())
    return shipped, clicked


READ = [
    ["summary", "vgg16", "--format", "json"],
    ["summary", "vgg16"],
    ["summary", "--format=csv", "alexnet"],
    ["summary", "vgg16", "--plain", "--depth", "1"],
    ["summary", "resnet50", "--format", "markdown", "--top", "3", "--batch", "8", "--dtype", "bfloat16"],
    ["summary", "alexnet", "--set", "impl=torchvision", "--input", "3x224x224", "--format", "json"],
    ["summary", "vgg16", "--convention", "keras", "--format", "json", "--format", "csv"],   # the last one wins
    ["summary", "mobilenet_v1", "--set", "alpha=0.5", "--set=rho=6/7", "--format", "csv"],
    ["summary", "vgg16", "--input", "H", "--format", "json"],
    ["summary", "vgg16", "--max-layers", "100000", "--format", "json"],
    # errors raised by the work itself, rendered once by launch.main for either reading
    ["summary", "nope"],
    ["summary", "vgg16", "--set", "nope=1"],
    ["summary", "vgg16", "--input", "0"],
    ["summary", "vgg16", "--batch", "two"],
    ["summary", "vgg16", "--convention", "nope"],
    ["summary", "vgg16", "--max-layers", "5"],
    ["summary", "lenet5", "--input", "31"],
    ["summary", "\x1b[31mred\x07"],                     # control characters in the spec word
    ["summary", "/dev/zero"],                            # not a regular file
    ["summary", "/"],                                    # a directory
    ["summary", "vgg16", "--set", "classes=1e999999"],   # a number too large to build
    ["summary", "vgg16", "--input", "H", "--set", "batch_norm=__import__('os')"],
]

DECLINED = [
    ["summary"],
    ["summary", "--help"],
    ["summary", "vgg16", "-h"],
    ["summary", "vgg16", "-o", "out.json"],
    ["summary", "vgg16", "--format", "xml"],
    ["summary", "vgg16", "--format"],
    ["summary", "vgg16", "--dtype", "float7"],
    ["summary", "vgg16", "--depth", "0"],
    ["summary", "vgg16", "--top", "+3"],
    ["summary", "vgg16", "--top", "٣"],                # a digit to str.isdigit, not to click's int()
    ["summary", "vgg16", "--max-layers", "99999999999"],
    ["summary", "vgg16", "alexnet"],
    ["summary", "vgg16", "--"],
    ["summary", "vgg16", "--input", "-3"],
    ["summary", "vgg16", "--plain=1"],
    ["summary", "vgg16", "--inp", "224"],
    ["summary", ""],
    ["--version"],
    ["compare", "vgg16", "alexnet"],
]


@pytest.mark.parametrize("argv", READ, ids=" ".join)
def test_quick_reading_equals_clicks(argv: list[str], capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert quick.read(argv) is not None
    shipped, clicked = both(capsys, monkeypatch, argv)
    assert shipped == clicked


@pytest.mark.parametrize("argv", DECLINED, ids=" ".join)
def test_lines_quick_cannot_read_exactly_go_to_click(argv: list[str], capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(str(pytest.importorskip("tempfile").mkdtemp()))
    assert quick.read(argv) is None
    shipped, clicked = both(capsys, monkeypatch, argv)
    assert shipped == clicked


def test_shell_completion_goes_to_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ARCHCALC_COMPLETE", "bash_complete")
    assert quick.read(["summary", "vgg16"]) is None


def test_read_gives_the_commands_arguments() -> None:
    spec, opts = quick.read(["summary", "--set", "a=1", "vgg16", "--set=b=2", "--top", "4", "--plain"])  # type: ignore[misc]
    assert spec == "vgg16"
    assert opts == {**quick.DEFAULTS, "sets": ("a=1", "b=2"), "top": 4, "plain": True}


WORDS = ["summary", "vgg16", "alexnet", "--format", "json", "csv", "table", "markdown", "xml", "--format=json",
         "--plain", "--set", "batch_norm=1", "impl=torchvision", "--input", "227", "H", "--depth", "--top", "1", "0",
         "2", "--max-layers", "--dtype", "bfloat16", "--batch", "--convention", "keras", "--", "-x", "=", ""]

if given is not None:
    @given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=7))
    def test_any_command_line_reads_alike(words: list[str]) -> None:
        """Random lines over a vocabulary of summary's words: both readings agree on every one."""
        import contextlib
        import io

        def run(fast: bool) -> tuple[int, str, str]:
            out, err = io.StringIO(), io.StringIO()
            saved = quick.run
            if not fast:
                quick.run = lambda args: None  # type: ignore[assignment]
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(words)
            finally:
                quick.run = saved  # type: ignore[assignment]
            return code, out.getvalue(), err.getvalue()

        assert run(True) == run(False)
