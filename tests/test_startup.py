"""Start-up facts (issue 15), not timings: what a command imports, lazy command registration, and the
built-in spec document cache."""
from __future__ import annotations

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
import io, json, sys, contextlib
from archcalc.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules(*argv: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, env=env,
                          check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0
    return set(result["modules"])


def test_json_summary_imports_no_heavy_package() -> None:
    loaded = _modules("summary", "vgg16", "--format", "json")
    for heavy in ("sympy", "rich", "numpy", "matplotlib"):
        assert heavy not in loaded, f"`summary vgg16 --format json` imported {heavy}"
    # other commands' modules and the training-memory model stay unloaded
    for other in ("archcalc.cli.checks", "archcalc.cli.diagram", "archcalc.latency", "archcalc.claims",
                  "archcalc.memory.training", "archcalc.report.symbolic", "archcalc.numeric"):
        assert other not in loaded, f"`summary vgg16 --format json` imported {other}"
    assert "rich" in _modules("summary", "vgg16")   # the table is drawn by rich


def test_every_command_is_registered_lazily() -> None:
    from archcalc.cli import cli

    cli.load_all()
    assert set(cli.commands) == set(cli.lazy), "a command module defines commands not named in cli/__init__.py"


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
