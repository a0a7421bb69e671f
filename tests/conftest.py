"""Shared fixtures: golden files (`--update-golden` rewrites them) and small spec helpers."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"
DATA_DIR = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current output instead of comparing")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """golden(name, text): compare text with tests/golden/<name>, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"missing golden file {path}; run pytest --update-golden to create it")
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (pytest --update-golden rewrites it)"

    return check


@pytest.fixture
def cli_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, str]]:
    """Run `archcalc.cli.main(argv)` with a 120-column console; returns (exit code, stdout, stderr)."""
    from archcalc.cli import main

    monkeypatch.setenv("COLUMNS", "120")

    def run(*argv: Any) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


# Hypothesis profiles for tests/test_properties.py: `ci` (the default) is derandomized, so every run
# checks the same examples; `thorough` is the bigger run documented in the README.
try:
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None, print_blob=True)
    settings.register_profile("thorough", max_examples=2000, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the `test` extra
    pass
