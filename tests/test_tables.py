"""Tables people want (--depth, --top, percentages, bars), exports (-o FILE), plain mode, NO_COLOR, `list`
with preset values, the `memory` command, and plots.

Branched network (tests/data/branched.yaml), derived by hand (16×8×8 input, 8×8 = 64 positions):
  inc.b1        1×1 16→8:  params 16·8 + 8 = 136,  MACs 16·8·64  = 8,192
  inc.b2_reduce 1×1 16→4:  params 64 + 4 = 68,     MACs 16·4·64  = 4,096
  inc.b2        3×3 4→8:   params 288 + 8 = 296,   MACs 288·64   = 18,432
  inc.b3        1×1 16→4:  params 68,              MACs 4,096
  res.conv_a    3×3 20→20 no bias: 3,600,          MACs 3600·64  = 230,400
  res.bn1       γ, β: 40
  res.conv_b    3×3 20→20: 3,620,                  MACs 230,400
  classifier    20→10: 210,                        MACs 200
So --depth 1: inc = 568 params / 34,816 MACs (6 layers), res = 7,260 / 460,800 (5 layers);
totals 8,038 / 495,816.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).parent.parent
BRANCHED = "tests/data/branched.yaml"
Run = Callable[..., "tuple[int, str, str]"]


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)   # the branched spec is named by a stable relative path in the goldens


@pytest.mark.parametrize("fmt, ext", [("table", "txt"), ("json", "json"), ("csv", "csv"), ("markdown", "md")])
@pytest.mark.parametrize("tag, options", [("depth1", ["--depth", "1"]), ("top3", ["--top", "3"]),
                                          ("depth1_top2", ["--depth", "1", "--top", "2"])])
def test_view_golden(tag: str, options: list[str], fmt: str, ext: str, cli_run: Run,
                     golden: Callable[[str, str], None]) -> None:
    code, out, err = cli_run("summary", BRANCHED, *options, "--format", fmt)
    assert code == 0 and err == ""
    golden(f"summary_branched_{tag}.{ext}", out)


def _csv(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_depth_collapses_blocks(cli_run: Run) -> None:
    _, out, _ = cli_run("summary", BRANCHED, "--depth", "1", "--format", "csv")
    rows = {r["layer"]: r for r in _csv(out)}
    assert list(rows) == ["inc", "res", "relu1", "gap1", "flatten1", "classifier"]
    assert (rows["inc"]["params"], rows["inc"]["macs"], rows["inc"]["op"]) == ("568", "34816", "6 layers")
    assert (rows["res"]["params"], rows["res"]["macs"], rows["res"]["op"]) == ("7260", "460800", "5 layers")
    # inc: 8·64 + 4·64 + 8·64 + 16·64 + 4·64 + 20·64 = 60·64 = 3,840 activations
    assert rows["inc"]["activations"] == "3840"
    assert rows["res"]["inputs"] == "inc.out"            # what the block reads from outside
    # shares: 460,800 / 495,816 = 92.94%; 7,260 / 8,038 = 90.32%
    assert (rows["res"]["macs_pct"], rows["res"]["params_pct"]) == ("92.9", "90.3")
    data = json.loads(cli_run("summary", BRANCHED, "--depth", "1", "--format", "json")[1])
    assert len(data["layers"]) == 15                      # `layers` always lists every leaf
    view = {r["name"]: r for r in data["view"]["rows"]}
    assert view["res"]["macs"] == 460_800 and view["res"]["layers"] == 5
    assert view["res"]["macs_share"] == round(460_800 / 495_816, 6)


def test_top_k(cli_run: Run) -> None:
    _, out, _ = cli_run("summary", BRANCHED, "--top", "3", "--format", "csv")
    # conv_a and conv_b tie at 230,400 (execution order breaks the tie), then inc.b2 at 18,432
    assert [(r["layer"], r["macs"]) for r in _csv(out)] == [("res.conv_a", "230400"), ("res.conv_b", "230400"),
                                                            ("inc.b2", "18432")]


def test_table_has_shares_and_bars(cli_run: Run) -> None:
    _, out, _ = cli_run("summary", BRANCHED)
    assert "MACs %" in out and "Memory" in out
    # res.conv_a: 230,400 / 495,816 = 46.47% of MACs → 0.4647·5 cells·8 = 18.6 → 19 eighths: ██▍
    line = next(line for line in out.splitlines() if "res.conv_a" in line)
    assert "46.5% ██▍" in line


def test_large_tables_stream_as_plain_columns(cli_run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import archcalc.report.tabular as tabular

    monkeypatch.setattr(tabular, "LARGE_TABLE", 3)   # the 15-layer test network counts as large
    _, out, _ = cli_run("summary", BRANCHED)
    lines = out.splitlines()
    assert "15 rows, drawn as plain columns" in lines[1]
    # res.conv_a: 3·3·20·20 = 3,600 params (no bias), 44.8% of 8,038; 3,600·8·8 = 230,400 MACs, 46.47% of
    # 495,816 → "46.5%" and 19 eighths "██▍", as in the rich table (test_table_has_shares_and_bars)
    row = next(line for line in lines if line.startswith("res.conv_a "))
    assert row.split()[:6] == ["res.conv_a", "conv", "20×8×8", "3.60K", "44.8%", "230.40K"]
    assert "46.5%  ██▍" in row
    assert sum(1 for line in lines if line.split() and line.split()[0] in
               ("inc.b1", "inc.b2_reduce", "inc.out", "res.sum", "relu1", "gap1", "flatten1", "classifier")) == 8
    assert "Params                        8,038 (8.04K)" in out   # the hand-derived total


def test_plain_mode(cli_run: Run) -> None:
    code, out, _ = cli_run("summary", BRANCHED, "--plain")
    assert code == 0
    assert not any(ch in out for ch in "┏━│┃╇")
    header, first = out.splitlines()[:2]
    assert header.split("\t")[:2] == ["layer", "op"]
    assert first.split("\t")[:2] == ["inc.b1", "conv"] and "8192" in first.split("\t")
    _, out, _ = cli_run("compare", "vgg16", "alexnet", "--plain")
    assert out.splitlines()[1].split("\t")[:2] == ["vgg16", "138357544"]


def test_no_color_respected() -> None:
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "160"}
    cmd = [sys.executable, "-m", "archcalc", "summary", BRANCHED]
    coloured = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True).stdout
    plain = subprocess.run(cmd, cwd=ROOT, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True).stdout
    assert "\x1b[36m" in coloured and "\x1b[32m" in coloured   # the bars' cyan and green when colour is forced
    assert "\x1b[36m" not in plain and "\x1b[32m" not in plain  # no colour with NO_COLOR


@pytest.mark.parametrize("ext, check", [
    (".json", lambda t: json.loads(t)["totals"]["macs"] == 495_816),
    (".csv", lambda t: t.startswith("layer,op,inputs")),
    (".md", lambda t: t.startswith("## branched")),
    (".txt", lambda t: "Total" in t and "\x1b" not in t),
])
def test_output_file_by_extension(ext: str, check: Callable[[str], bool], tmp_path: Path, cli_run: Run) -> None:
    target = tmp_path / f"out{ext}"
    code, out, err = cli_run("summary", BRANCHED, "-o", target)
    assert code == 0 and out == "" and "wrote" in err
    assert check(target.read_text(encoding="utf-8"))


def test_output_file_errors(tmp_path: Path, cli_run: Run) -> None:
    code, _, err = cli_run("summary", BRANCHED, "-o", tmp_path / "x.xlsx")
    assert code == 2 and "unknown extension" in err
    code, _, err = cli_run("summary", BRANCHED, "-o", tmp_path / "x.csv", "--format", "json")
    assert code == 2 and "writes csv" in err


def test_list_shows_preset_values(cli_run: Run) -> None:
    _, out, _ = cli_run("list")
    line = next(line for line in out.splitlines() if line.startswith("vgg16 "))
    assert line.split(None, 1)[1] == "preset of vgg (n1=2, n2=2, n3=3, n4=3, n5=3)"   # VGG-16 = configuration D
    data = json.loads(cli_run("list", "--format", "json")[1])
    assert {"name": "vgg16", "file": "vgg.yaml", "preset": "vgg16",
            "description": "preset of vgg (n1=2, n2=2, n3=3, n4=3, n5=3)"} in data


def test_preset_doc_key() -> None:
    from archcalc.analysis import analyze
    from archcalc.spec import loads

    spec = loads("archcalc: 1\nname: t\ninput: [1, 4, 4]\nvars: {c: 2}\n"
                 "presets:\n  wide: {c: 4, doc: four channels}\nbody:\n  - conv: {c: c, k: 1}\n")
    assert spec.presets["wide"] == {"c": 4} and spec.preset_docs == {"wide": "four channels"}
    assert analyze(spec, preset="wide").rows[0].layer.output == (4, 4, 4)


def test_memory_command(cli_run: Run) -> None:
    code, out, _ = cli_run("memory", BRANCHED, "--format", "json", "--optimizer", "momentum", "--device", "cpu")
    assert code == 0
    data = json.loads(out)
    # peak while res.bn1 runs: inc.out (kept for the shortcut) + conv_a + bn1 = 3·1,280 el × 4 B
    assert (data["totals"]["peak_activation_bytes"], data["totals"]["peak_layer"]) == (15_360, "res.bn1")
    # params 8,038 + BN buffers 40 = 8,078 × 4 B
    assert data["totals"]["param_bytes"] == 8_078 * 4
    assert data["totals"]["optimizer_bytes"] == 8_038 * 4       # one momentum copy of the trainable params
    code, out, _ = cli_run("memory", BRANCHED)
    assert code == 0 and "Training step peak (momentum" not in out and "Training step peak (adam, float32)" in out
    assert "Saved for backward" in out and "optimizer state" in out


@pytest.mark.parametrize("cmd", ["list", "summary", "compare", "scale", "memory", "formula", "conv", "plot"])
def test_help_has_examples(cmd: str, cli_run: Run) -> None:
    code, out, _ = cli_run(cmd, "--help")
    assert code == 0 and "Examples:" in out


def test_completion_script() -> None:
    env = {**os.environ, "_ARCHCALC_COMPLETE": "bash_source"}
    out = subprocess.run([str(Path(sys.executable).parent / "archcalc")], env=env, capture_output=True, text=True)
    if out.returncode != 0 and not out.stdout:
        pytest.skip("archcalc console script not installed next to this interpreter")
    assert "_archcalc_completion" in out.stdout


def test_plots(tmp_path: Path, cli_run: Run) -> None:
    pytest.importorskip("matplotlib")
    code, _, err = cli_run("plot", BRANCHED, "-o", tmp_path / "profile.png")
    assert code == 0, err
    assert (tmp_path / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = cli_run("plot", "--compare", "mobilenet_v1", "mobilenet_v2", "vgg16", "-o", tmp_path / "p.svg")
    assert code == 0, err
    assert b"<svg" in (tmp_path / "p.svg").read_bytes()[:500]


def test_cited_top1() -> None:
    from archcalc.analysis import analyze
    from archcalc.plot import top1

    # MobileNet v1 Table 8 and EfficientNet Table 2, as cited in the specs' metadata
    assert top1(analyze("mobilenet_v1"), "mobilenet_v1")[0] == 70.6      # type: ignore[index]
    assert top1(analyze("efficientnet_b0"), "efficientnet_b0")[0] == 77.1  # type: ignore[index]
    assert top1(analyze("resnet50"), "resnet50") is None


def test_plot_without_matplotlib(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cli_run: Run) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)    # import fails as if not installed
    code, _, err = cli_run("plot", BRANCHED, "-o", tmp_path / "x.png")
    assert code == 2 and "archcalc[plot]" in err
