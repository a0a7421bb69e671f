"""memory --device NAME: a GPU profile's compute capability picks the cuBLAS workspace, its capacity the fits line.

Truth: PyTorch's aten/src/ATen/cuda/CublasHandlePool.cpp, `parseChosenWorkspaceSize`: the default workspace
is ":4096:8" = 4096 KiB × 8 = 33,554,432 bytes when the compute capability's major is 9, 10 or 12, and
":4096:2:16:8" = 4096 KiB × 2 + 16 KiB × 8 = 8,519,680 bytes otherwise. Nothing else in the model depends on
the GPU, so a profile changes the training peak by (its workspace − Hopper's) × 2 (the caller's and
autograd's threads) and the inference peak by one workspace, on a network with an fc.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archcalc.cli import cli
from archcalc.cli import main
from archcalc.memory.device import blas_workspace_bytes

HOPPER = 4096 * 8 * 1024
OTHER = 4096 * 1024 * 2 + 16 * 1024 * 8


@pytest.mark.parametrize("cc, expected", [((9, 0), HOPPER), ((10, 0), HOPPER), ((12, 0), HOPPER),
                                          ((8, 0), OTHER), ((8, 9), OTHER), ((7, 5), OTHER), ((8, 7), OTHER)])
def test_workspace_by_compute_capability(cc: tuple[int, int], expected: int) -> None:
    assert blas_workspace_bytes(cc) == expected


def _memory(*args: str) -> dict:
    r = CliRunner().invoke(cli, ["memory", "resnet18", "--set", "impl=torchvision", "--batch", "8",
                                 "--format", "json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.mark.parametrize("device, workspace, capacity", [("h100", HOPPER, 80 * 10**9), ("a100", OTHER, 80 * 10**9),
                                                         ("t4", OTHER, 16 * 10**9), ("l4", OTHER, 24 * 10**9)])
def test_profile_changes_only_the_workspace(device: str, workspace: int, capacity: int) -> None:
    base, d = _memory(), _memory("--device", device)
    assert d["device"] == device and d["blas_workspace_bytes"] == workspace and d["device_memory_bytes"] == capacity
    assert base["totals"]["training_bytes"] - d["totals"]["training_bytes"] == 2 * (HOPPER - workspace)
    assert base["totals"]["peak_inference_bytes"] - d["totals"]["peak_inference_bytes"] == HOPPER - workspace
    assert d["fits"] == {"training": d["totals"]["training_bytes"] <= capacity,
                         "inference": d["totals"]["peak_inference_bytes"] <= capacity}
    assert base["fits"] is None and base["device_memory_bytes"] is None


def test_fits_says_no_when_the_step_exceeds_the_card() -> None:
    # VGG-16 at 224, per image: conv inputs Σ C·H·W = 9.08M floats, max-pool inputs 6.12M floats, max-pool
    # indices 1.53M int64 (all saved for backward): at batch 256, 256 × (15.2M × 4 + 1.53M × 8) B ≈ 18.7 GB > 16 GB
    r = CliRunner().invoke(cli, ["memory", "vgg16", "--batch", "256", "--device", "t4"])
    assert r.exit_code == 0, r.output
    assert "Fits on t4" in r.output and "training NO" in r.output


def _error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["memory", "resnet18", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcalc: error: ") and err.count("\n") == 1
    return err


@pytest.mark.parametrize("device, message", [("a10", "did you mean a100"), ("no/such.yaml", "no such device profile")])
def test_bad_device(capsys: pytest.CaptureFixture[str], device: str, message: str) -> None:
    assert message in _error(capsys, "--device", device)


def test_profile_without_compute_capability(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from archcalc.latency.device import DEVICE_DIR

    text = (DEVICE_DIR / "t4.yaml").read_text(encoding="utf-8")
    lines = [x for x in text.splitlines() if not x.startswith("compute_capability")]
    p = tmp_path / "mine.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "gives no compute_capability" in _error(capsys, "--device", str(p))
    p.write_text(text.replace('compute_capability: "7.5"', "compute_capability: 7.5"), encoding="utf-8")
    err = _error(capsys, "--device", str(p))
    assert "major.minor" in err and "mine.yaml:7" in err
