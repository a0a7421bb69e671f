"""Memory model: every expected figure derived by hand next to the test (bytes = elements × dtype size)."""
from __future__ import annotations

import pytest

from archcalc.analysis import Analysis, analyze
from archcalc.errors import UsageError
from archcalc.memory import memory
from archcalc.spec import loads


def net(body: str, input: str = "[1, 4, 4]", **kw: object) -> Analysis:
    return analyze(loads(f"archcalc: 1\nname: t\ninput: {input}\nbody:\n{body}"), **kw)  # type: ignore[arg-type]


CHAIN = ("  - {conv: {c: 2, k: 1}, name: a}\n"
         "  - {relu: {}, name: r}\n"
         "  - {conv: {c: 3, k: 1}, name: b}\n")


def test_chain_inference_inplace() -> None:
    # input 1×4×4 = 16 el; a: 2×4×4 = 32; r: 32; b: 3×4×4 = 48. float32 → ×4 bytes.
    m = memory(net(CHAIN))
    # a runs: input(16) + a(32) = 48 el; r in place on a: 32; b: a/r storage(32) + b(48) = 80 el
    assert [x.live_bytes for x in m.layers] == [48 * 4, 32 * 4, 80 * 4]
    assert [x.reuse for x in m.layers] == ["", "in-place", ""]
    assert (m.peak_activation_bytes, m.peak_layer) == (320, "b")
    # params: a 1·2 + 2 = 4, b 2·3 + 3 = 9 → 13 × 4 bytes = 52
    assert m.param_bytes == 52
    assert m.peak_inference_bytes == 52 + 320
    assert m.activation_bytes == (32 + 32 + 48) * 4


def test_chain_inference_not_inplace() -> None:
    m = memory(net(CHAIN), inplace=False)
    # a: 16 + 32 = 48; r: a(32) + r(32) = 64 (input died after a); b: r(32) + b(48) = 80
    assert [x.live_bytes for x in m.layers] == [48 * 4, 64 * 4, 80 * 4]


def test_chain_batch_dtype() -> None:
    m = memory(net(CHAIN, batch=8, dtype="float16"))
    # peak at b: 80 el × batch 8 × 2 bytes
    assert m.peak_activation_bytes == 80 * 8 * 2
    assert m.param_bytes == 13 * 2   # weights do not scale with the batch


@pytest.mark.parametrize("optimizer, states", [("sgd", 0), ("momentum", 1), ("adam", 2)])
def test_chain_training(optimizer: str, states: int) -> None:
    m = memory(net(CHAIN), optimizer=optimizer)
    # weights 13 + gradients 13 + states·13 params; saved: input 16 + a 32 + r 32 + b 48 = 128 el
    assert m.saved_activation_bytes == 128 * 4
    assert m.training_bytes == (13 + 13 + states * 13 + 128) * 4


RESIDUAL = ("  - {conv: {c: 2, k: 1}, name: stem}\n"
            "  - add:\n"
            "      - [{conv: {c: 2, k: 3, p: 1}, name: c1}, {relu: {}, name: r1}, {conv: {c: 2, k: 3, p: 1}, name: c2}]\n"
            "      - []\n"
            "    name: sum\n"
            "  - {relu: {}, name: out}\n")


def test_residual_block_keeps_its_input_alive() -> None:
    # every tensor after the stem is 2×4×4 = 32 el; the input 1×4×4 = 16
    m = memory(net(RESIDUAL))
    live = [x.live_bytes // 4 for x in m.layers]
    # stem: input 16 + stem 32 = 48
    # c1:   stem 32 (the shortcut keeps it) + c1 32 = 64
    # r1:   in place on c1: stem 32 + c1 32 = 64
    # c2:   stem 32 + c1/r1 32 + c2 32 = 96     ← the peak
    # sum:  `c2 += stem` in place: stem 32 + c2 32 = 64
    # out:  in place on the sum: 32
    assert live == [48, 64, 64, 96, 64, 32]
    assert [x.reuse for x in m.layers] == ["", "", "in-place", "", "in-place", "in-place"]
    assert (m.peak_activation_bytes, m.peak_layer) == (96 * 4, "c2")
    no = memory(net(RESIDUAL), inplace=False)
    # r1 own: stem + c1 + r1 = 96; c2: stem + r1 + c2 = 96; sum: stem + c2 + sum = 96; out: sum + out = 64
    assert [x.live_bytes // 4 for x in no.layers] == [48, 64, 96, 96, 96, 64]


INCEPTION = ("  - concat:\n"
             "      - [{conv: {c: 2, k: 1}, name: b1}]\n"
             "      - [{conv: {c: 1, k: 1}, name: b2r}, {conv: {c: 3, k: 3, p: 1}, name: b2}]\n"
             "      - [{maxpool: {k: 3, s: 1, p: 1}, name: pool}, {conv: {c: 1, k: 1}, name: b3}]\n"
             "    name: cat\n"
             "  - flatten\n")


def test_inception_concat() -> None:
    # input 4×4×4 = 64 el (C=4); b1 2·16 = 32; b2r 16; b2 48; pool 64; b3 16; cat (2+3+1)·16 = 96
    m = memory(net(INCEPTION, input="[4, 4, 4]"))
    live = [x.live_bytes // 4 for x in m.layers]
    # b1:   input 64 + b1 32 = 96
    # b2r:  input 64 + b1 32 + b2r 16 = 112
    # b2:   input 64 + b1 32 + b2r 16 + b2 48 = 160
    # pool: input 64 (last read here) + b1 32 + b2 48 + pool 64 = 208   ← the peak
    # b3:   b1 32 + b2 48 + pool 64 + b3 16 = 160
    # cat:  b1 32 + b2 48 + b3 16 + cat 96 = 192
    # flatten: a view of cat: 96
    assert live == [96, 112, 160, 208, 160, 192, 96]
    assert (m.peak_activation_bytes, m.peak_layer) == (208 * 4, "pool")
    assert m.layers[-1].reuse == "view" and m.layers[-1].new_bytes == 0
    # saved for backward: input 64 + 32 + 16 + 48 + 64 + 16 + 96 (the flatten view adds nothing) = 336
    assert m.saved_activation_bytes == 336 * 4


def test_fuse_bn() -> None:
    a = net("  - {conv: {c: 2, k: 1, bias: false}, name: c}\n  - {bn: {}, name: n}\n")
    # input 16 + c 32 = 48; bn: own storage c 32 + n 32 = 64, fused: 32
    assert [x.live_bytes // 4 for x in memory(a).layers] == [48, 64]
    assert [x.live_bytes // 4 for x in memory(a, fuse_bn=True).layers] == [48, 32]
    # params: conv 2, bn γ β 4 (trainable) + running mean/var 4 (buffers) → weights 10; gradients 6
    m = memory(a, optimizer="sgd")
    assert m.param_bytes == 10 * 4 and m.gradient_bytes == 6 * 4


def test_keras_convention_does_not_count_buffers_twice() -> None:
    a = net("  - {conv: {c: 2, k: 1, bias: false}}\n  - bn\n", convention="keras")
    assert memory(a).param_bytes == 10 * 4


def test_vgg16_weights() -> None:
    # 138,357,544 params (design.md) × 4 bytes; weights + gradients + 2 Adam states = 4 copies
    m = memory(analyze("vgg16"), optimizer="adam")
    assert m.param_bytes == 138_357_544 * 4
    assert m.training_bytes - m.saved_activation_bytes == 4 * 138_357_544 * 4


def test_symbolic_input_is_refused() -> None:
    import sympy

    with pytest.raises(UsageError):
        memory(net(CHAIN, batch=sympy.Symbol("B", positive=True, integer=True)))
