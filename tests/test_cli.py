"""The command line: list, summary in every format (golden files), compare, the one-layer conv
calculator, symbolic --input, and `python -m archcalc`.

Golden files are regression snapshots; the numbers in them are independently asserted here or in
test_classic_specs.py / test_graph.py. Regenerate with `pytest --update-golden` after a deliberate change.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from archcalc import catalog

DATA = Path(__file__).parent / "data"
Run = Callable[..., "tuple[int, str, str]"]


def test_list_names_every_builtin(cli_run: Run) -> None:
    code, out, err = cli_run("list")
    assert code == 0 and err == ""
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert set(catalog.builtin_names()) <= names
    assert {"lenet5", "alexnet", "zfnet", "vgg11", "vgg13", "vgg16", "vgg19"} <= names


def test_names_ignore_case(cli_run: Run) -> None:
    code, out, _ = cli_run("summary", "VGG16", "--format", "json")
    assert code == 0 and json.loads(out)["totals"]["params"] == 138_357_544


@pytest.mark.parametrize("spec", ["alexnet", "branched"])
@pytest.mark.parametrize("fmt, ext", [("table", "txt"), ("json", "json"), ("csv", "csv"), ("markdown", "md")])
def test_summary_golden(spec: str, fmt: str, ext: str, cli_run: Run, golden: Callable[[str, str], None],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)  # the branched spec is named by a stable relative path
    target = "tests/data/branched.yaml" if spec == "branched" else spec
    code, out, err = cli_run("summary", target, "--format", fmt)
    assert code == 0 and err == ""
    golden(f"summary_{spec}.{ext}", out)
    # the independently derived totals appear in every format
    params, macs = {"alexnet": (62_378_344, 1_135_256_096), "branched": (8_038, 495_816)}[spec]
    if fmt == "json":
        data = json.loads(out)
        assert (data["totals"]["params"], data["totals"]["macs"]) == (params, macs)
    elif fmt == "csv":
        import csv
        import io

        rows = list(csv.DictReader(io.StringIO(out)))
        assert list(rows[0]) == ["layer", "op", "inputs", "output", "params", "macs", "activations", "rf",
                                 "params_pct", "macs_pct", "activations_pct"]
        # numbers are plain integers (no thousands separators)
        assert sum(int(r["params"]) for r in rows) == params
        assert sum(int(r["macs"]) for r in rows) == macs
    else:
        assert f"{params:,}" in out and f"{macs:,}" in out


def test_branched_table_shows_from_column(cli_run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent)
    code, out, _ = cli_run("summary", "tests/data/branched.yaml")
    assert code == 0
    assert "From" in out
    assert "b1, b2, b3" in out                      # the concat's three inputs, named within its block
    assert "conv_b, inc.out" in out                 # the residual sum's two inputs: its own block's conv_b and the concat
    code, out, _ = cli_run("summary", "alexnet")
    assert "From" not in out                        # a plain chain has no From column


@pytest.mark.parametrize("fmt, ext", [("table", "txt"), ("json", "json"), ("csv", "csv"), ("markdown", "md")])
def test_compare_golden(fmt: str, ext: str, cli_run: Run, golden: Callable[[str, str], None]) -> None:
    code, out, err = cli_run("compare", "vgg16", "alexnet", "--format", fmt)
    assert code == 0 and err == ""
    golden(f"compare_vgg16_alexnet.{ext}", out)
    if fmt == "json":
        nets = json.loads(out)["networks"]
        assert [n["name"] for n in nets] == ["vgg16", "alexnet"]
        assert [n["params"] for n in nets] == [138_357_544, 62_378_344]
        assert [n["macs"] for n in nets] == [15_470_264_320, 1_135_256_096]
        assert nets[1]["params_ratio"] == pytest.approx(62_378_344 / 138_357_544)


def test_compare_own_sets(cli_run: Run) -> None:
    code, out, _ = cli_run("compare", "alexnet", "alexnet --set impl=torchvision", "alexnet --set impl=paper",
                           "--format", "json")
    assert code == 0
    assert [n["params"] for n in json.loads(out)["networks"]] == [62_378_344, 61_100_840, 60_965_224]


def conv(cli_run: Run, *args: Any) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli_run("conv", *args, "--format", "json")
    return code, json.loads(out), err


def test_conv_calculator_alexnet_conv1(cli_run: Run) -> None:
    code, data, _ = conv(cli_run, "--n", 227, "--f", 11, "--s", 4, "--p", 0)
    assert code == 0 and data["output"] == (227 - 11) // 4 + 1 == 55
    code, data, _ = conv(cli_run, "--n", 227, "--f", 11, "--s", 4, "--p", 0, "--c-in", 3, "--c-out", 96)
    assert data["params"] == 11*11*3*96 + 96 == 34_944
    assert data["macs"] == 11*11*3*96 * 55*55 == 105_415_200
    code, out, _ = cli_run("conv", "--n", 227, "--f", 11, "--s", 4, "--p", 0, "--c-in", 3, "--c-out", 96)
    assert "(227 + 2·0 − 11)/4 + 1 = 55" in out and "34,944" in out and "105,415,200" in out


def test_conv_calculator_non_integer(cli_run: Run) -> None:
    # the slides' example: (7 − 3)/3 + 1 = 2.33 is not a valid setting
    code, out, err = cli_run("conv", "--n", 7, "--f", 3, "--s", 3)
    assert code == 2
    assert "7/3 ≈ 2.333" in out
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("archcalc: error: ")
    assert "floor mode gives 2, ceil mode 3" in lines[0]
    code, data, _ = conv(cli_run, "--n", 7, "--f", 3, "--s", 3, "--round", "floor")
    assert code == 0 and data["output"] == 2      # floor(4/3) + 1
    code, data, _ = conv(cli_run, "--n", 7, "--f", 3, "--s", 3, "--round", "ceil")
    assert code == 0 and data["output"] == 3      # ceil(4/3) + 1


@pytest.mark.parametrize("n, f, s, p, a, out", [
    # Dumoulin & Visin relation 14: o' = s(i' − 1) + a + k − 2p
    (5, 3, 2, 1, 0, 2*(5 - 1) + 0 + 3 - 2*1),     # 9
    (3, 3, 2, 1, 1, 2*(3 - 1) + 1 + 3 - 2*1),     # 6 (Fig. 4.6)
    (2, 3, 1, 0, 0, 2 + 3 - 1),                   # relation 8: i' + (k − 1) = 4 (Fig. 4.1)
    (4, 4, 2, 1, 0, 2*(4 - 1) + 4 - 2),           # 8: the usual ×2 upsampling
])
def test_conv_calculator_transposed(n: int, f: int, s: int, p: int, a: int, out: int, cli_run: Run) -> None:
    code, data, _ = conv(cli_run, "--n", n, "--f", f, "--s", s, "--p", p, "--output-padding", a, "--transposed")
    assert code == 0 and data["output"] == out


def test_conv_calculator_same_and_dilation(cli_run: Run) -> None:
    code, data, _ = conv(cli_run, "--n", 224, "--f", 7, "--s", 2, "--p", "same")
    assert code == 0 and data["output"] == 112    # ceil(224/2)
    code, data, _ = conv(cli_run, "--n", 56, "--f", 1, "--s", 2, "--p", "same")
    assert code == 0 and data["output"] == 28     # ceil(56/2), though (56 − 1)/2 does not divide
    code, data, _ = conv(cli_run, "--n", 10, "--f", 3, "--d", 2)
    assert code == 0 and data["output"] == 10 - (2*(3 - 1) + 1) + 1  # 6
    code, data, _ = conv(cli_run, "--n", 8, "--f", 3, "--p", 1, "--c-in", 8, "--c-out", 16, "--groups", 4, "--no-bias")
    assert data["params"] == 3*3*(8//4)*16 and data["macs"] == 3*3*(8//4)*16 * 8*8


def test_conv_calculator_bad_values(cli_run: Run) -> None:
    for args in (["--n", "0", "--f", "3"], ["--n", "abc", "--f", "3"], ["--n", "5", "--f", "7"],
                 ["--n", "8", "--f", "3", "--c-in", "3", "--c-out", "8", "--groups", "2"]):
        code, _, err = cli_run("conv", *args)
        assert code == 2, args
        assert len(err.splitlines()) == 1 and err.startswith("archcalc: error: "), err


def test_symbolic_input_vgg16(cli_run: Run) -> None:
    import sympy

    code, out, err = cli_run("summary", "vgg16", "--input", "H", "--format", "json")
    assert code == 0, err
    H = sympy.Symbol("H", positive=True, integer=True)
    macs = sympy.sympify(json.loads(out)["totals"]["macs"], locals={"H": H})
    # conv MACs 9·C_in·C_out·(H/2^k)² per stage k = 0..4; fc6 512·(H/32)²·4096; fc7, fc8 constant
    expected = (9 * (3*64 + 64*64) * H**2 + 9 * (64*128 + 128*128) * (H/2)**2
                + 9 * (128*256 + 2*256*256) * (H/4)**2 + 9 * (256*512 + 2*512*512) * (H/8)**2
                + 9 * (3*512*512) * (H/16)**2 + 512 * (H/32)**2 * 4096 + 4096*4096 + 4096*1000)
    assert sympy.expand(macs - expected) == 0
    assert expected.subs(H, 224) == 15_470_264_320
    code, out, _ = cli_run("summary", "vgg16", "--input", "224", "--format", "json")
    assert json.loads(out)["totals"]["macs"] == 15_470_264_320


def test_batch_scales_macs_and_activations(cli_run: Run) -> None:
    code, out, _ = cli_run("summary", "alexnet", "--batch", "4", "--format", "json")
    t = json.loads(out)["totals"]
    assert t["macs"] == 4 * 1_135_256_096 and t["params"] == 62_378_344


def test_usage_errors_exit_2(cli_run: Run) -> None:
    code, _, err = cli_run("summary")
    assert code == 2 and "Traceback" not in err
    code, _, err = cli_run("nosuchcommand")
    assert code == 2
    code, _, err = cli_run("summary", "vgg16", "--format", "yaml")
    assert code == 2


def test_python_dash_m() -> None:
    run = subprocess.run([sys.executable, "-m", "archcalc", "conv", "--n", "227", "--f", "11", "--s", "4"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "= 55" in run.stdout
    run = subprocess.run([sys.executable, "-m", "archcalc", "summary", "no/such.yaml"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.startswith("archcalc: error: ") and "Traceback" not in run.stderr
