"""ZFNet: the slides' version (default) and Zeiler & Fergus's Fig. 3 network (`impl=paper`)."""
from __future__ import annotations

from archcalc.analysis import analyze


def test_zfnet_paper() -> None:
    # Zeiler & Fergus 2014, Fig. 3: 224 crop; 96 7×7/2 → 110; 3×3/2 pool → 55; 256 5×5/2 → 26; pool → 13;
    # 384, 384, 256 3×3/1 at 13; pool → 6; 6·6·256 = 9216 → 4096 → 4096 → 1000.
    a = analyze("zfnet", vars={"impl": "paper"})
    shapes = {r.layer.name: tuple(r.layer.output) for r in a.rows}
    assert shapes["conv1"] == (96, 110, 110) and shapes["pool1"] == (96, 55, 55)
    assert shapes["conv2"] == (256, 26, 26) and shapes["pool2"] == (256, 13, 13)
    assert shapes["conv5"] == (256, 13, 13) and shapes["pool5"] == (256, 6, 6)
    # 7·7·3·96+96 + 5·5·96·256+256 + 9·256·384+384 + 9·384·384+384 + 9·384·256+256
    # + 9216·4096+4096 + 4096·4096+4096 + 4096·1000+1000
    by_hand = (14_208 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312 + 4_097_000)
    assert a.totals.params == by_hand == 62_357_608


def test_zfnet_slides_default() -> None:
    # seed 001 L222 and its Keras summary (L270): 386,548,840; FC6 sees 13·13·512 = 86,528 inputs
    a = analyze("zfnet")
    assert a.totals.params == 386_548_840
    assert {r.layer.name: tuple(r.layer.output) for r in a.rows}["conv2"] == (256, 55, 55)
