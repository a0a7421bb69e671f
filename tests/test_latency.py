"""Latency: cost rules and fusion (hand-derived bytes and FLOPs), the roofline rule, device profiles
(placed errors, did-you-mean), the CLI contract, and a check against the measured H200 latencies."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from archcalc.analysis import analyze
from archcalc.errors import SpecError, UsageError
from archcalc.latency import builtin_names, kernels, latency, load
from archcalc.latency.costs import RULES, rule_for
from archcalc.latency.device import parse
from archcalc.latency.model import time_kernel

SPEC = """archcalc: 1
name: tiny
input: [8, 16, 16]
body:
  - conv: {c: 16, k: 3, p: 1, bias: false}
  - bn
  - relu
  - maxpool: {k: 2, s: 2}
  - gap
  - flatten
  - fc: {c: 10}
"""

PROFILE = """archcalc_device: 1
name: toy
peak_tflops: {float32: 1, bfloat16: 10}
bandwidth_gbs: 100
sms: 4
max_split_k: 1
kernel_overhead_us: 2
efficiency: {gemm: 0.5, vector: 0.5, depthwise: 0.5, memory: 0.5, broadcast: 0.5, norm: 0.5, pool: 0.25, reduce: 0.5}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(SPEC)
    return p


def test_bytes_and_flops_by_hand(tiny: Path) -> None:
    # conv 8→16, 3×3 pad 1 on 16×16, batch 2, bfloat16 (2 bytes):
    # FLOPs = 2 · (3·3·8·16 weights) · 256 positions · 2 images = 2·1152·256·2 = 1,179,648
    # bytes = (input 8·256 + output 16·256) · 2 images · 2 B + 1152 weights · 2 B = 24,576 + 2,304
    a = analyze(str(tiny), batch=2, dtype="bfloat16")
    ks = {k.name: k for k in kernels(a, "none")}
    conv = ks[next(n for n in ks if n.endswith("conv1") or "conv" in n)]
    assert conv.flops == 2 * 1152 * 256 * 2
    assert conv.bytes == (8 * 256 + 16 * 256) * 2 * 2 + 1152 * 2
    # BN alone: reads and writes 16·256 elements per image, reads γ, β, mean, var (4·16)
    bn = next(k for k in ks.values() if k.op == "bn")
    assert bn.bytes == 2 * 16 * 256 * 2 * 2 + 64 * 2
    # maxpool 2×2/2: reads 16·16·16, writes 16·8·8; 4 comparisons per output
    pool = next(k for k in ks.values() if k.op == "maxpool")
    assert pool.bytes == (16 * 256 + 16 * 64) * 2 * 2 and pool.flops == 4 * 16 * 64 * 2
    # flatten is a view: no kernel
    assert not any(k.op == "flatten" for k in ks.values())


def test_fusion_model(tiny: Path) -> None:
    a = analyze(str(tiny), batch=1, dtype="float32")
    eager = kernels(a, "none")
    fused = kernels(a, "inference")
    assert [k.op for k in eager] == ["conv", "bn", "relu", "maxpool", "gap", "fc"]
    assert [k.op for k in fused] == ["conv", "maxpool", "gap", "fc"]
    conv = fused[0]
    assert len(conv.fused) == 2
    # the fused kernel writes its output once: same bytes as the bare conv
    assert conv.bytes == eager[0].bytes
    assert sum(k.bytes for k in fused) < sum(k.bytes for k in eager)


def test_no_fusion_across_branches() -> None:
    # SE block: the activation feeding both the squeeze and the scaling stays fused into its producer (one
    # consumer of the pre-activation tensor), but BN never folds into a concat (DenseNet's BN after concat).
    a = analyze("densenet121", batch=1)
    names = {k.name: k for k in kernels(a, "inference")}
    assert any(k.op == "bn" for k in names.values())           # BN after a concat is its own pass
    a = analyze("resnet50", batch=1)
    fused = kernels(a, "inference")
    assert not any(k.op == "bn" for k in fused)                 # every BN follows a conv
    assert sum(1 for k in fused if k.op == "add") == 16         # residual adds each read and write


def test_every_registered_op_has_a_rule_or_documented_fallback() -> None:
    from archcalc.ops import REGISTRY

    missing = [name for name in REGISTRY if name not in RULES]
    assert missing == [], f"ops without a latency cost rule: {missing}"


def test_fallback_rule() -> None:
    class Fake:
        op, macs, output, in_shapes, attrs = "made_up_op", 0, (4, 2, 2), ((4, 2, 2),), {}
    cls, flops, how = rule_for(Fake())  # type: ignore[arg-type]
    assert (cls, how) == ("eltwise", "fallback") and flops == 16
    Fake.macs = 100
    assert rule_for(Fake())[:3:2] == ("gemm", "fallback") and rule_for(Fake())[1] == 200  # type: ignore[arg-type]


def test_roofline_rule_by_hand(tiny: Path) -> None:
    dev = parse(__import__("yaml").safe_load(PROFILE), "toy.yaml")
    a = analyze(str(tiny), batch=1, dtype="bfloat16")
    ks = kernels(a, "none")
    pool = next(k for k in ks if k.op == "maxpool")
    t = time_kernel(pool, "bfloat16", dev)
    # memory-bound: bytes / (100 GB/s · 0.25) + 2 µs
    assert t.bound == "memory"
    assert math.isclose(t.seconds, pool.bytes / (100e9 * 0.25) + 2e-6)
    conv = ks[0]
    t = time_kernel(conv, "bfloat16", dev)
    # conv: M = 256 positions → 2 tiles of 128 × 1 tile of 16 channels on 4 SMs: fill 1/2;
    # GEMM shape N = 16 channels, K = 3·3·8 = 72: efficiency 16/(16 + 32) · 72/(72 + 32)
    compute = conv.flops / (10e12 * 0.5 * 0.5 * (16 / 48) * (72 / 104))
    memory = conv.bytes / (100e9 * 0.5)
    assert math.isclose(t.seconds, max(compute, memory) + 2e-6)
    # the network total is the sum over kernels
    e = latency(a, dev, "none")
    assert math.isclose(e.seconds, sum(r.seconds for r in e.layers))
    assert math.isclose(e.images_per_second, 1 / e.seconds)


def test_profiles_load_and_cite_a_source() -> None:
    names = builtin_names()
    assert set(names) >= {"h100", "h200", "a100", "l4", "t4", "rtx4090", "orin"}
    for n in names:
        d = load(n)
        assert d.source and "datasheet" in d.source.lower() or "whitepaper" in d.source.lower()
        assert d.bandwidth > 0 and d.peak_flops["float32"] > 0


def test_memory_bound_network_scales_with_bandwidth() -> None:
    a = analyze("mobilenet_v2", batch=64, dtype="float16")
    h200, l4 = latency(a, "h200").seconds, latency(a, "l4").seconds
    assert l4 > 5 * h200                     # 4,800 vs 300 GB/s: memory-bound kernels dominate
    assert latency(analyze("mobilenet_v2", batch=128, dtype="float16"), "h200").seconds > h200


@pytest.mark.parametrize("body, where, what", [
    ("peak_tflops: {bfloat16: -1, float32: 1}\n", "peak_tflops.bfloat16", "expected a number in"),
    ("peak_tflops: {bf16: 1, float32: 1}\n", "peak_tflops.bf16", "did you mean bfloat16"),
    ("peak_tflops: [1, 2]\n", "peak_tflops", "expected a mapping"),
])
def test_malformed_profile_is_a_placed_error(tmp_path: Path, cli_run, body: str, where: str, what: str) -> None:
    text = PROFILE.replace("peak_tflops: {float32: 1, bfloat16: 10}\n", body)
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    code, out, err = cli_run("latency", "resnet18", "--device", str(p))
    assert code == 2 and out == ""
    assert f"{p}:3 {where}" in err and what in err and "Traceback" not in err


def test_profile_errors(tmp_path: Path, cli_run) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("name: [unclosed\n")
    code, _, err = cli_run("latency", "resnet18", "--device", str(p))
    assert code == 2 and "malformed YAML" in err and str(p) in err
    code, _, err = cli_run("latency", "resnet18", "--device", "h20")
    assert code == 2 and "did you mean h200" in err
    code, _, err = cli_run("latency", "resnet18", "--device", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such device profile" in err
    with pytest.raises(SpecError, match="efficiency: missing reduce"):
        parse(__import__("yaml").safe_load(PROFILE.replace(", reduce: 0.5", "")), "x.yaml")
    from archcalc.formula import symbol

    with pytest.raises(UsageError, match="concrete sizes"):
        latency(analyze("vgg16", input=(3, symbol("H"), 224)), "h200")


def test_cli_json_contract(cli_run) -> None:
    code, out, _ = cli_run("latency", "resnet50", "--device", "h200", "--dtype", "bfloat16", "--batch", "256",
                           "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["device"] == "h200" and d["batch"] == 256
    for r in d["layers"]:
        assert {"name", "op", "flops", "bytes", "intensity", "bound", "seconds"} <= set(r)
        assert r["bound"] in ("compute", "memory")
    assert math.isclose(d["totals"]["seconds"], sum(r["seconds"] for r in d["layers"]))
    assert math.isclose(d["totals"]["images_per_second"], 256 / d["totals"]["seconds"])
    code, out, _ = cli_run("latency", "resnet50", "--device", "h200", "--top", "3", "--plain")
    assert code == 0 and "Images per second" in out


def test_compare_device_column(cli_run) -> None:
    code, out, _ = cli_run("compare", "resnet50", "mobilenet_v2", "--device", "a100", "--format", "json")
    assert code == 0
    rows = json.loads(out)["networks"]
    assert all(isinstance(r["latency_seconds"], float) and r["latency_seconds"] > 0 for r in rows)
    code, out, _ = cli_run("compare", "resnet50", "mobilenet_v2", "--device", "a100", "--plain")
    assert "est. latency" in out


def test_plot_roofline(tmp_path: Path, cli_run) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "roof.png"
    code, _, _ = cli_run("plot", "resnet18", "--roofline", "--device", "t4", "-o", str(out))
    assert code == 0 and out.stat().st_size > 1000


def test_device_measure_writes_a_loadable_profile(tmp_path: Path, cli_run) -> None:
    out = tmp_path / "me.yaml"
    code, _, _ = cli_run("device", "measure", "--quick", "-o", str(out))
    assert code == 0
    d = load(str(out))
    assert d.peak_flops["float32"] > 1e8 and d.bandwidth > 1e8
    code, text, _ = cli_run("latency", "resnet18", "--device", str(out), "--format", "json")
    assert code == 0 and json.loads(text)["totals"]["seconds"] > 0


DATA = [Path(__file__).resolve().parents[1] / p / "data/gpu/h200-2026-11-26" for p in ("shared", "../shared", "../../shared")]


@pytest.mark.parametrize("model", ["resnet50", "efficientnet_b0", "vgg16", "mobilenet_v2"])
def test_against_measured_h200(model: str) -> None:
    """GPU measurement (shared H200 data, CUDA graph, batch 256 bf16, PyTorch eager): within ±35%."""
    data = next((p for p in DATA if (p / "gpu_truth2.jsonl").exists()), None)
    if data is None:
        pytest.skip("shared GPU measurements not present")
    rows = {json.loads(x)["model"]: json.loads(x) for x in (data / "gpu_truth2.jsonl").read_text().splitlines()}
    measured = rows[model]["graph_bf16cl_b256"]["median_ms"] * 1e-3
    impl = {"impl": "torchvision"} if model.startswith(("resnet", "efficientnet")) else {}
    est = latency(analyze(model, input=tuple(rows[model]["input"]), vars=impl, batch=256, dtype="bfloat16"), "h200", "none")
    assert abs(est.seconds / measured - 1) <= 0.35, (est.seconds, measured)


def test_benchmark_script_prints_the_comparison() -> None:
    import subprocess
    import sys

    data = next((p for p in DATA if (p / "gpu_truth2.jsonl").exists()), None)
    if data is None:
        pytest.skip("shared GPU measurements not present")
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "benchmarks/latency_truth.py"), "--data", str(data),
                        "--models", "resnet18,vgg11,mobilenet_v2"], capture_output=True, text=True, timeout=300,
                       check=False)
    assert r.returncode in (0, 1), r.stderr
    assert "measured ms" in r.stdout and "Spearman" in r.stdout and "graph_bf16cl_b256" in r.stdout


def test_spearman_by_hand() -> None:
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("latency_truth", root / "benchmarks/latency_truth.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    # ranks 1 2 3 4 vs 1 3 2 4: Σd² = 2, ρ = 1 − 6·2/(4·15) = 0.8
    assert math.isclose(mod.spearman([1, 2, 3, 4], [10, 30, 20, 40]), 0.8)
    assert math.isclose(mod.spearman([1, 2, 3], [3, 2, 1]), -1.0)
