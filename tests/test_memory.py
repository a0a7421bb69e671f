"""Memory model: every expected figure derived by hand next to the test (bytes = elements × dtype size),
from the rules stated in archcalc/memory (sources there: PyTorch derivatives.yaml, the caching allocator)."""
from __future__ import annotations

import json

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import UsageError
from archcalc.memory import RULES, memory
from archcalc.memory.rules import Ctx, saves_of
from archcalc.spec import loads


def net(body: str, input: str = "[1, 4, 4]", **kw: object) -> Analysis:
    return analyze(loads(f"archcalc: 1\nname: t\ninput: {input}\nbody:\n{body}"), **kw)  # type: ignore[arg-type]


CHAIN = ("  - {conv: {c: 2, k: 1}, name: a}\n"
         "  - {relu: {}, name: r}\n"
         "  - {conv: {c: 3, k: 1}, name: b}\n")
EXACT = {"device": "cpu", "workspace": False}     # no allocator rounding, no runtime workspaces


def test_chain_inference_inplace() -> None:
    # input 1×4×4 = 16 el (the caller's, not in `live`); a: 2×4×4 = 32; r: 32 in place on a; b: 3×4×4 = 48
    m = memory(net(CHAIN), **EXACT)
    # a: 32; r (in place): 32; b: a/r storage 32 + b 48 = 80 el; × 4 bytes
    assert [x.live_bytes for x in m.layers] == [32 * 4, 32 * 4, 80 * 4]
    assert [x.reuse for x in m.layers] == ["", "in-place", ""]
    assert (m.peak_activation_bytes, m.peak_layer) == (320, "b")
    # params: a 1·2 + 2 = 4, b 2·3 + 3 = 9 → 13 × 4 bytes = 52; input 64 bytes
    assert m.param_bytes == 52
    assert m.peak_inference_bytes == 52 + 64 + 320
    assert m.activation_bytes == (32 + 32 + 48) * 4


def test_chain_inference_not_inplace() -> None:
    m = memory(net(CHAIN), inplace=False, **EXACT)
    # a: 32; r: a 32 + r 32 = 64; b: r 32 + b 48 = 80
    assert [x.live_bytes for x in m.layers] == [32 * 4, 64 * 4, 80 * 4]


def test_chain_batch_dtype() -> None:
    m = memory(net(CHAIN, batch=8, dtype="float16"), **EXACT)
    assert m.peak_activation_bytes == 80 * 8 * 2
    assert m.param_bytes == 13 * 2   # weights do not scale with the batch


def test_chain_training_step() -> None:
    m = memory(net(CHAIN), optimizer="sgd", **EXACT)
    # saved: a saves the caller's input (not counted); r saves its output (a's storage, 32 el = 128 B);
    # b saves its input, the same storage → 0. Loss: log_softmax of the 48 outputs (192 B) + total_weight 4 B
    assert [x.saved_bytes for x in m.layers] == [0, 128, 0]
    assert [x.saved_total for x in m.layers] == [0, 128, 128]
    assert m.saved_activation_bytes == 128 + 196
    # base = weights 52 + input 64 + int64 targets 8 = 124
    # forward: a's storage (kept) 128 + b's output 192 + the loss 196 = 516 → 640
    assert m.forward_peak_bytes == 124 + 516
    # backward at b: saved 128 + output grad 192 + input grad 128 + b's param grads 9·4 = 36 → 484 → 608
    assert (m.backward_peak_bytes, m.backward_peak_layer) == (124 + 484, "b")
    # step (sgd): base + gradients 52
    assert m.step_peak_bytes == 124 + 52
    assert (m.training_bytes, m.peak_phase) == (640, "forward")


@pytest.mark.parametrize("optimizer, states", [("sgd", 0), ("momentum", 1), ("adam", 2)])
def test_optimizer_state_copies(optimizer: str, states: int) -> None:
    m = memory(net(CHAIN), optimizer=optimizer, **EXACT)
    assert m.optimizer_bytes == states * 13 * 4
    # Adam's step: base (52 + 2·52 + 72) + gradients 52 + one parameter-sized sqrt temporary 52
    if optimizer == "adam":
        assert m.step_peak_bytes == 52 + 104 + 72 + 52 + 52


def test_allocator_rounding_and_workspace() -> None:
    m = memory(net(CHAIN), optimizer="sgd", device="cuda", workspace=False)
    # every tensor rounded up to 512 B: saved a/r storage 512, log_softmax 512, total_weight 512
    assert m.saved_activation_bytes == 3 * 512
    # weights: 4 tensors (a.w 2, a.b 2, b.w 6, b.b 3 floats) → 4 × 512
    assert m.weight_bytes == 4 * 512
    fc = net("  - flatten\n  - {fc: {c: 2}}\n")
    # an fc means cuBLAS: one 32 MiB workspace at inference, two (caller + autograd thread) in training
    on = memory(fc, workspace=True)
    assert on.runtime_inference_bytes == 32 << 20 and on.runtime_training_bytes == 64 << 20


RESIDUAL = ("  - {conv: {c: 2, k: 1}, name: stem}\n"
            "  - add:\n"
            "      - [{conv: {c: 2, k: 3, p: 1}, name: c1}, {relu: {}, name: r1}, {conv: {c: 2, k: 3, p: 1}, name: c2}]\n"
            "      - []\n"
            "    name: sum\n"
            "  - {relu: {}, name: out}\n")


def test_residual_block_keeps_its_input_alive() -> None:
    # every tensor after the stem is 2×4×4 = 32 el
    m = memory(net(RESIDUAL), **EXACT)
    live = [x.live_bytes // 4 for x in m.layers]
    # stem 32; c1: stem (shortcut) + c1 = 64; r1 in place: 64; c2: stem + c1/r1 + c2 = 96 ← peak;
    # sum: `c2 += stem` in place: 64; out: in place on the sum: 32
    assert live == [32, 64, 64, 96, 64, 32]
    assert [x.reuse for x in m.layers] == ["", "", "in-place", "", "in-place", "in-place"]
    assert (m.peak_activation_bytes, m.peak_layer) == (96 * 4, "c2")
    # saved: c1 saves stem (32), r1 its output (32), c2 its input (same), add nothing, out its output (c2's storage, 32)
    assert [x.saved_bytes // 4 for x in memory(net(RESIDUAL), **EXACT).layers] == [0, 32, 32, 0, 0, 32]


BLOCKS = ("blocks:\n  two:\n    body:\n      - {conv: {c: 2, k: 1}, name: p}\n      - {conv: {c: 2, k: 1}, name: q}\n"
          "body:\n  - {two: {}, name: b1}\n  - {two: {}, name: b2}\n")


def test_block_input_held_by_its_caller() -> None:
    a = analyze(loads("archcalc: 1\nname: t\ninput: [2, 4, 4]\n" + BLOCKS))
    m = memory(a, **EXACT)
    # b1.p 32; b1.q: p + q = 64; b2.p: b1's output (b2's input, held until b2 returns) + p = 64;
    # b2.q: b2's input 32 + p 32 + q 32 = 96 (without the caller rule the input would die at b2.p: 64)
    assert [x.live_bytes // 4 for x in m.layers] == [32, 64, 64, 96]


def test_checkpointing() -> None:
    a = analyze(loads("archcalc: 1\nname: t\ninput: [2, 4, 4]\n" + BLOCKS))
    plain, ck = memory(a, optimizer="sgd", **EXACT), memory(a, optimizer="sgd", checkpoint=True, **EXACT)
    # plain: every conv saves its input: b1.p the caller's input (0), b1.q p's 32 el, b2.p b1.q's 32, b2.q 32
    # → 96 el = 384 B + loss (32 outputs: 128 + 4)
    assert plain.saved_activation_bytes == 384 + 132
    # checkpointed: only the blocks' inputs stay: b1's is the caller's, b2's is b1.q's output (128 B)
    assert ck.saved_activation_bytes == 128 + 132
    # one more forward of both blocks: 4 convs of 2·2 weights × 16 positions = 256 MACs
    assert ck.recompute_macs == 4 * 4 * 16


def test_checkpoint_needs_blocks() -> None:
    with pytest.raises(UsageError, match="no blocks"):
        memory(net(CHAIN), checkpoint=True)


def test_amp_saves_half_copies() -> None:
    m = memory(net(CHAIN), amp="bf16", optimizer="sgd", **EXACT)
    # a: the fp32 input is cast to half (16 el × 2 = 32 B) and its weight copy (2 el × 2 = 4 B) saved;
    # r saves a's half output (32 el × 2 = 64); b its half weight copy (6 × 2 = 12); loss 192 + 4 (float32)
    assert [x.saved_bytes for x in m.layers] == [32 + 4, 64, 12]
    assert m.weight_copy_bytes == 16
    assert m.saved_activation_bytes == 36 + 64 + 12 + 196
    assert m.gradient_bytes == 13 * 4     # float32 gradients of the float32 masters
    # backward at b (its node): saved 112 (a's cast 32 + a's copy 4 + a/r's half storage 64 + b's copy 12)
    # + output grad 48 × 2 B = 96 + r's input grad 32 × 2 = 64 + b's half weight grad 6 × 2 = 12 → 284;
    # its float32 grad (9 × 4 = 36) comes after the node freed b's copy and its output grad:
    # 100 + 64 + 12 + 36 = 212. base = weights 52 + input 64 + targets 8
    assert (m.backward_peak_bytes, m.backward_peak_layer) == (124 + 284, "b")
    with pytest.raises(UsageError, match="bf16 or fp16"):
        memory(net(CHAIN), amp="fp8")
    with pytest.raises(UsageError, match="float32"):
        memory(net(CHAIN, dtype="float16"), amp="bf16")


POOLS = ("  - {conv: {c: 2, k: 1}, name: c}\n  - {bn: {}, name: n}\n  - {relu6: {}, name: a}\n"
         "  - {maxpool: {k: 2, s: 2}, name: m}\n  - flatten\n  - {dropout: {p: 0.5}, name: d}\n  - {fc: {c: 3}, name: f}\n")


def test_rules_per_op() -> None:
    # c: 2×4×4 = 32 el; bn saves c's output (32 el) + mean, invstd (2 float32 each);
    # relu6 in place saves a clone of its input (32 el); maxpool saves its input (the bn/relu6 storage, 32 el)
    # + int64 indices 2×2×2 = 8 el × 8 B; dropout (CPU) saves its float noise 8 el; fc saves its input (8 el)
    m = memory(net(POOLS), **EXACT)
    assert [x.saved_bytes for x in m.layers] == [0, 128 + 16, 128, 128 + 64, 0, 32, 32]
    cuda = memory(net(POOLS), device="cuda", workspace=False)
    assert cuda.layers[5].saves == "mask" and cuda.layers[5].saved_bytes == 512   # 8 bool bytes → one block


class FakeLayer:
    def __init__(self, op: str, output: tuple[int, ...], inputs: tuple[str, ...] = ("x",)) -> None:
        self.op, self.output, self.inputs, self.attrs, self.counts = op, output, inputs, {}, {}


def test_rules_for_ops_other_helpers_add() -> None:
    ctx = Ctx(batch=2, act_bytes=4, inplace=False, device="cpu", amp=False)
    ln, ok = saves_of(FakeLayer("layernorm", (197, 768)), ctx)
    # native_layer_norm saves input, mean and rstd: one float32 per normalised row (2 × 197)
    assert ok and [(s.kind, s.elements) for s in ln] == [("input", 0), ("new", 394), ("new", 394)]
    assert [s.kind for s in saves_of(FakeLayer("gelu", (8,)), ctx)[0]] == ["input"]
    assert saves_of(FakeLayer("mean", (8,)), ctx)[0] == () and saves_of(FakeLayer("split", (8,)), ctx)[0] == ()
    hs, _ = saves_of(FakeLayer("hardsigmoid", (4, 2, 2)), Ctx(2, 4, True, "cpu", False))
    assert [(s.kind, s.elements) for s in hs] == [("new", 32)]     # in place: a clone of the input
    unknown, ok = saves_of(FakeLayer("frobnicate", (8,), ("x", "y")), ctx)
    assert not ok and [s.index for s in unknown] == [0, 1]        # the documented fallback: every input
    assert "conv" in RULES and "add" in RULES


def test_batch_overflow_is_refused() -> None:
    with pytest.raises(UsageError, match="too large"):
        memory(net(CHAIN, batch=10**30))


def test_vgg16_weights() -> None:
    # 138,357,544 params (design.md) × 4 bytes; Adam: 2 float32 copies of the trainable params
    m = memory(analyze("vgg16"), optimizer="adam", **EXACT)
    assert m.param_bytes == 138_357_544 * 4
    assert m.optimizer_bytes == 2 * 138_357_544 * 4 and m.gradient_bytes == 138_357_544 * 4


def test_symbolic_input_is_refused() -> None:
    import sympy

    with pytest.raises(UsageError):
        memory(net(CHAIN, batch=sympy.Symbol("B", positive=True, integer=True)))


def test_cli_training_json_and_bad_options(cli_run: object, tmp_path: object) -> None:
    run = cli_run  # type: ignore[assignment]
    flat = tmp_path / "flat.yaml"  # type: ignore[operator]
    flat.write_text(f"archcalc: 1\nname: flat\ninput: [1, 4, 4]\nbody:\n{CHAIN}")
    code, out, _ = run("memory", "resnet18", "--set", "impl=torchvision", "--input", "64", "--batch", "2",  # type: ignore[operator]
                       "--training", "--format", "json", "--device", "cpu")
    assert code == 0
    data = json.loads(out)
    layers = data["layers"]
    assert all("saved_bytes" in x and "saved_total" in x for x in layers)
    assert layers[-1]["saved_total"] + data["totals"]["loss_bytes"] == data["totals"]["saved_activation_bytes"]
    for bad in (["--amp", "fp8"], ["--checkpoint"], ["--batch", "1" + "0" * 40]):
        spec = str(flat) if bad == ["--checkpoint"] else "resnet18"
        code, out, err = run("memory", spec, *bad)  # type: ignore[operator]
        assert code == 2 and "Traceback" not in err and err.strip(), (bad, err)


def test_allocator_rounding_rules() -> None:
    from archcalc.memory.device import RUNTIMES, rounded

    cuda, mib = RUNTIMES["cuda"], 1 << 20
    assert rounded(1, cuda) == 512 and rounded(513, cuda) == 1024          # kMinBlockSize 512
    assert rounded(5 * mib + 1, cuda) == 5 * mib + 512                      # < 10 MiB: 512-byte rounding only
    # 11.5 MiB: a fresh 12 MiB segment (2 MiB steps) would leave 0.5 MiB ≤ 1 MiB: the tensor keeps it all
    assert rounded(23 * mib // 2, cuda) == 12 * mib
    # 10 MiB + 1 B → 10 MiB + 512; its 12 MiB segment leaves 2 MiB − 512 > 1 MiB: split, charged 10 MiB + 512
    assert rounded(10 * mib + 1, cuda) == 10 * mib + 512
    assert rounded(23 * mib // 2, RUNTIMES["cpu"]) == 23 * mib // 2


def test_stochastic_depth_rule() -> None:
    # torchvision.ops.stochastic_depth: input * noise; mul saves the B×1×1×1 noise ("row"), 1 element ("batch")
    ctx = Ctx(batch=8, act_bytes=4, inplace=False, device="cpu", amp=False)
    layer = FakeLayer("stochastic_depth", (4, 2, 2))
    layer.attrs = {"p": 0.2, "mode": "row"}
    assert [(s.elements, s.itemsize) for s in saves_of(layer, ctx)[0]] == [(8, 4)]
    layer.attrs = {"p": 0.2, "mode": "batch"}
    assert [s.elements for s in saves_of(layer, ctx)[0]] == [1]
    layer.attrs = {"p": 0, "mode": "row"}
    assert saves_of(layer, ctx)[0] == ()


def test_param_output_is_a_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    from archcalc.ops import REGISTRY, OpDef, OpResult

    def param(inputs: list, a: object) -> OpResult:   # a learned C×1×1 scale (as ConvNeXt's layer scale)
        return OpResult(output=(inputs[0][0], 1, 1), params=inputs[0][0])

    monkeypatch.setitem(REGISTRY, "param", OpDef("param", param, {}, "param"))
    a = net("  - {conv: {c: 2, k: 1}, name: a}\n  - mul:\n      - []\n      - [{param: {}, name: s}]\n    name: m\n",
            input="[2, 4, 4]")
    m = memory(a, **EXACT)
    # mul saves both inputs: a's output (32 el = 128 B) and the scale, a weight (0); loss 32 × 4 + 4
    assert [x.saved_bytes for x in m.layers] == [0, 0, 128]
    assert m.saved_activation_bytes == 128 + 132
    # live: a 32 el; s: a (read later by mul) + nothing; m: a + m's output 32 → 64 el
    assert [x.live_bytes // 4 for x in m.layers] == [32, 32, 64]


def test_attention_rule() -> None:
    # ViT-B/16 block at batch 2: 197 tokens × 768, 12 heads; sdpa: input, 3·T·D packed qkv, T·D output,
    # logsumexp 2·12·197 float32 (the merged heads the out-projection saves are a view of the output:
    # saved_tensors_hooks on torch 2.14.1 CPU shows out_proj's input on SDPA's output storage)
    layer = FakeLayer("attention", (197, 768))
    layer.attrs, layer.counts = {"heads": 12, "products": "sdpa"}, {"groups": 1, "tokens": 197}
    saves, ok = saves_of(layer, Ctx(2, 4, False, "cuda", False))
    td = 2 * 197 * 768
    assert ok and [(s.kind, s.elements, s.itemsize) for s in saves] == [
        ("input", 0, 0), ("new", 3 * td, 4), ("new", td, 4), ("new", 2 * 12 * 197, 4)]
    # explicit products (Swin's matmul, MaxViT's einsum): input, the three bmm operands q·scale, k, v
    # (T·D each: contiguous copies of permuted views of qkv), the probabilities (`scores`, G·heads·P·P
    # per sample), the merged heads (T·D)
    layer.attrs["products"], layer.counts["scores"] = "matmul", 12 * 197 * 197
    saves = saves_of(layer, Ctx(2, 4, False, "cuda", False))[0]
    assert [(s.kind, s.elements) for s in saves] == [
        ("input", 0), ("new", td), ("new", td), ("new", td), ("new", 2 * 12 * 197 * 197), ("new", td)]


def test_held_workspaces() -> None:
    """A process that already ran matmuls keeps its cuBLAS workspaces (CublasHandlePool.cpp: one per
    (handle, stream), never freed): counted whatever this network runs, at most 2 (caller + autograd)."""
    conv_only = net(CHAIN)
    fresh = memory(conv_only, workspace=True)
    assert fresh.runtime_training_bytes == 0
    warm = memory(conv_only, workspace=True, held_workspaces=2)
    assert warm.runtime_training_bytes == 64 << 20 and warm.training_bytes - fresh.training_bytes == 64 << 20
    assert memory(conv_only, workspace=True, held_workspaces=1).runtime_training_bytes == 32 << 20
    fc = net("  - flatten\n  - {fc: {c: 2}}\n")
    # an fc's training step needs both already: holding one more changes nothing; inference takes the max
    assert memory(fc, held_workspaces=1).runtime_training_bytes == 64 << 20
    assert memory(fc, held_workspaces=2).runtime_inference_bytes == 64 << 20
    assert memory(conv_only, workspace=False, held_workspaces=2).runtime_training_bytes == 0
    for bad in (3, -1, True):
        with pytest.raises(UsageError):
            memory(conv_only, held_workspaces=bad)  # type: ignore[arg-type]


def test_out_of_place_add_and_fanout() -> None:
    """`a + b` (inplace: false) allocates its sum; `out += x` writes into its first branch. A join's
    fan-out tensor stays alive until the join (torch.cat([f(x), g(x)]) holds x). Elements by hand, float32."""
    body = ("  - {conv: {c: 2, k: 1}, name: stem}\n"          # 2×4×4 = 32 el
            "  - {conv: {c: 2, k: 1}, name: x}\n"             # x: 32 el, fans out
            "  - INPLACE\n"
            "    add:\n"
            "      - [{conv: {c: 2, k: 1}, name: f}]\n"
            "      - [{conv: {c: 2, k: 1}, name: g}]\n"
            "    name: sum\n")
    inplace = memory(net(body.replace("INPLACE", "inplace: true")), **EXACT)
    fresh = memory(net(body.replace("INPLACE", "inplace: false")), **EXACT)
    # at the add: x (held to the join), f, g (+ the new sum when out of place): 3 or 4 × 32 el × 4 B
    assert inplace.layers[-1].live_bytes == 3 * 128 and inplace.layers[-1].reuse == "in-place"
    assert fresh.layers[-1].live_bytes == 4 * 128 and fresh.layers[-1].reuse == ""
    # while g runs, x is still alive (its last reader, g, is not the end of its life: the join is)
    assert fresh.layers[-2].live_bytes == 3 * 128


def test_inplace_key_is_checked(tmp_path: object) -> None:
    from archcalc.errors import SpecError

    with pytest.raises(SpecError, match="true or false"):
        net("  - inplace: 3\n    add: [[], []]\n")
    with pytest.raises(SpecError, match="belongs to a join"):
        net("  - inplace: false\n    relu: {}\n")


def test_attention_rule_under_autocast() -> None:
    """CUDA autocast (aten/src/ATen/autocast_mode.h): linear/matmul/bmm/einsum/SDPA in the lower-precision
    list, softmax in the float32 list. ViT-B/16-sized layer, batch 2, D = 768: the projection weights'
    half copies are 4·D² × 2 B; Swin-style products keep float32 probabilities and bmm's half copy."""
    layer = FakeLayer("attention", (197, 768))
    layer.attrs, layer.counts = {"heads": 12, "products": "sdpa"}, {"groups": 1, "tokens": 197}
    td = 2 * 197 * 768
    saves, _ = saves_of(layer, Ctx(2, 2, False, "cuda", True))
    assert [(s.elements, s.itemsize) for s in saves[1:]] == [(3 * td, 2), (td, 2), (2 * 12 * 197, 4),
                                                              (4 * 768 * 768, 2)]
    layer.attrs["products"], layer.counts["scores"] = "matmul", 12 * 197 * 197
    saves, _ = saves_of(layer, Ctx(2, 2, False, "cuda", True))
    probs = [(s.itemsize, s.elements) for s in saves if "probabilities" in s.what]
    assert probs == [(4, 2 * 12 * 197 * 197), (2, 2 * 12 * 197 * 197)]


def test_long_table_streams_as_plain_columns(tmp_path: object) -> None:
    """Past 500 rows the memory table is written line by line (as `summary` does), every layer once, its
    live figure the one in the JSON: a chain of 300 × (1×1 conv 2→2 on 2×2, in-place relu)."""
    from click.testing import CliRunner

    from archcalc.cli import cli

    spec = tmp_path / "long.yaml"  # type: ignore[operator]
    spec.write_text("archcalc: 1\nname: long\ninput: [2, 2, 2]\nbody:\n" + "  - {conv: {c: 2, k: 1}}\n  - relu\n" * 300)
    table = CliRunner().invoke(cli, ["memory", str(spec), "--device", "cpu"])
    data = json.loads(CliRunner().invoke(cli, ["memory", str(spec), "--device", "cpu", "--format", "json"]).output)
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[:2] == ["long: memory · batch 1 · float32", "600 rows, drawn as plain columns"]
    rows = [ln.split() for ln in lines[4:604]]
    assert [r[0] for r in rows] == [x["name"] for x in data["layers"]]
    # each output is 2·2·2 = 8 floats = 32 B; a conv reads the previous storage and writes a new one: 64 B live
    assert rows[0][:4] == ["conv1", "conv", "32B", "32B"] and rows[2][:4] == ["conv2", "conv", "32B", "64B"]
    assert rows[1][-1] == "in-place" and data["layers"][2]["live_bytes"] == 64
    saved = CliRunner().invoke(cli, ["memory", str(spec), "--device", "cpu", "--training"]).output.splitlines()
    assert saved[:2] == ["long: saved for backward · batch 1", "600 rows, drawn as plain columns"]
