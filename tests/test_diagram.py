"""archcalc diagram: structure of the drawing (nodes, edges, labels) for a branched network, layout
invariants (no overlap, text inside its box) on the large networks, DOT/Mermaid, escaping, bad options.

Expected labels and totals for tests/data/branched.yaml, by hand (input 16×8×8, every conv stride 1):
  inception: b1 1×1→8 (8×8×8), b2_reduce 1×1→4, b2 3×3 p1→8, b3_pool 3×3/1 p1 (16×8×8), b3 1×1→4;
             concat 8 + 8 + 4 = 20 channels → 20×8×8.
             params: b1 16·8+8 = 136, b2_reduce 16·4+4 = 68, b2 9·4·8+8 = 296, b3 16·4+4 = 68 → 568
             MACs (×64 positions): 128·64 + 64·64 + 288·64 + 64·64 = 34,816 → "34.82K"
  residual: conv_a 3×3 20→20 (no bias), bn, relu, conv_b 3×3 20→20; add with the identity → 20×8×8
  then relu, gap 20×1×1, flatten 20, fc 10.
"""
from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from archcalc.cli import main
from archcalc.diagram import trace
from archcalc.diagram.draw import Options, draw
from archcalc.diagram.graphs import dot, edges, mermaid
from archcalc.diagram.layout import FONT, PAD_X
from archcalc.diagram.metrics import text_width
from archcalc.diagram.svg import render
from archcalc.diagram.view import view

DATA = Path(__file__).parent / "data"
BRANCHED = str(DATA / "branched.yaml")
NS = {"s": "http://www.w3.org/2000/svg"}


def _svg(spec: str, **kw: object) -> ET.Element:
    t = trace(spec)
    pic = draw(t, Options(**kw))  # type: ignore[arg-type]
    names = {n.id: ",".join(t.analysis.rows[i].layer.name for i in n.layers) or "input" for n in pic.nodes}
    return ET.fromstring(render(pic, names=names))


def _nodes(root: ET.Element) -> dict[str, dict[str, object]]:
    out = {}
    for g in root.iterfind(".//s:g[@class]", NS):
        if not g.get("class", "").startswith("node "):
            continue
        rect = g.find("s:rect", NS)
        out[g.get("id")] = {
            "kind": g.get("class").split()[1], "names": g.findtext("s:title", "", NS),
            "lines": [t.text for t in g.findall("s:text", NS)],
            "box": tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))}
    return out


def _by_name(nodes: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(v["names"]): {**v, "id": k} for k, v in nodes.items()}


def test_branched_fully_open_nodes_and_labels() -> None:
    nodes = _by_name(_nodes(_svg(BRANCHED)))
    expect = {
        "input": ["input", "16×8×8"],
        "inc.b1": ["conv 1×1, 8", "8×8×8"],
        "inc.b2_reduce": ["conv 1×1, 4", "4×8×8"],
        "inc.b2": ["conv 3×3, 8", "8×8×8"],
        "inc.b3_pool": ["maxpool 3×3", "16×8×8"],
        "inc.b3": ["conv 1×1, 4", "4×8×8"],
        "inc.out": ["concat", "20×8×8"],
        "res.conv_a,res.bn1,res.relu1": ["conv 3×3, 20 · BN · ReLU", "20×8×8"],   # BN and ReLU fold into the conv
        "res.conv_b": ["conv 3×3, 20", "20×8×8"],
    }
    for name, lines in expect.items():
        assert nodes[name]["lines"] == lines, name
    assert nodes["res.sum"]["lines"] == ["add", "20×8×8"]
    assert nodes["relu1"]["lines"] == ["ReLU", "20×8×8"]
    assert nodes["gap1"]["lines"] == ["global avgpool", "20×1×1"]
    assert nodes["flatten1"]["lines"] == ["flatten", "20"]
    assert nodes["classifier"]["lines"] == ["fc 10", "10"]
    assert len(nodes) == 14
    # the inception branches stand side by side: first nodes on one row, left to right in spec order
    firsts = [nodes[n]["box"] for n in ("inc.b1", "inc.b2_reduce", "inc.b3_pool")]
    assert len({b[1] for b in firsts}) == 1
    assert firsts[0][0] + firsts[0][2] <= firsts[1][0] and firsts[1][0] + firsts[1][2] <= firsts[2][0]
    # a sequence flows down: each branch's second node below its first, the join below both
    assert nodes["inc.b2"]["box"][1] > nodes["inc.b2_reduce"]["box"][1]
    assert nodes["inc.out"]["box"][1] > max(nodes["inc.b2"]["box"][1], nodes["inc.b3"]["box"][1])


def test_branched_edges_follow_the_data() -> None:
    root = _svg(BRANCHED)
    names = {k: str(v["names"]) for k, v in _nodes(root).items()}
    got = {(names[p.get("data-from")], names[p.get("data-to")]) for p in root.iterfind(".//s:path[@class='edge']", NS)}
    conv_a = "res.conv_a,res.bn1,res.relu1"
    assert got == {
        ("input", "inc.b1"), ("input", "inc.b2_reduce"), ("input", "inc.b3_pool"),
        ("inc.b2_reduce", "inc.b2"), ("inc.b3_pool", "inc.b3"),
        ("inc.b1", "inc.out"), ("inc.b2", "inc.out"), ("inc.b3", "inc.out"),
        ("inc.out", conv_a), (conv_a, "res.conv_b"), ("res.conv_b", "res.sum"),
        ("inc.out", "res.sum"),                                  # the identity shortcut
        ("res.sum", "relu1"), ("relu1", "gap1"), ("gap1", "flatten1"), ("flatten1", "classifier")}
    # every edge is drawn from the bottom of its source to the top of its target with right angles
    boxes = {k: v["box"] for k, v in _nodes(root).items()}
    for p in root.iterfind(".//s:path[@class='edge']", NS):
        pts = [tuple(map(float, xy.split(","))) for xy in re.findall(r"[\d.]+,[\d.]+", p.get("d"))]
        sx, sy, sw, sh = boxes[p.get("data-from")]
        tx, ty, tw, _ = boxes[p.get("data-to")]
        assert pts[0][1] == pytest.approx(sy + sh) and sx <= pts[0][0] <= sx + sw
        assert pts[-1][1] == pytest.approx(ty) and tx <= pts[-1][0] <= tx + tw
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(pts, pts[1:]))


def test_branched_frames_and_collapsed_boxes() -> None:
    root = _svg(BRANCHED)
    titles = [t.text for t in root.iterfind(".//s:g[@class='frame']/s:text", NS)]
    assert titles == ["inc: inception", "res: residual"]
    collapsed = _by_name(_nodes(_svg(BRANCHED, depth=1)))
    inc = next(v for v in collapsed.values() if v["lines"][0] == "inc: inception")
    assert inc["kind"] == "block"
    assert inc["lines"][1:] == ["20×8×8", "params 568 · MACs 34.82K"]
    assert len(collapsed) == 7        # input, inc, res, relu, gap, flatten, fc


def test_show_and_color() -> None:
    nodes = _by_name(_nodes(_svg(BRANCHED, show=("params", "macs", "memory"), color="macs")))
    # b2: 296 params, 288·64 = 18,432 MACs, 8·8·8 = 512 outputs × 4 bytes = 2,048 B
    assert nodes["inc.b2"]["lines"][2:] == ["params 296 · MACs 18.43K", "act. 2.05KB"]


def _invariants(root: ET.Element) -> None:
    nodes = _nodes(root)
    boxes = list(nodes.values())
    for a, b in itertools.combinations(boxes, 2):
        ax, ay, aw, ah = a["box"]
        bx, by, bw, bh = b["box"]
        assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a["lines"], b["lines"])
    for n in boxes:
        for line in n["lines"]:
            assert text_width(line, FONT) + 2 * PAD_X <= n["box"][2] + 0.5
    width, height = float(root.get("width")), float(root.get("height"))
    for n in boxes:
        x, y, w, h = n["box"]
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
    titles = []
    for g in root.iterfind(".//s:g[@class='frame']", NS):
        (fx, fy, fw, fh), text = [(tuple(float(r.get(k)) for k in ("x", "y", "width", "height")), g.find("s:text", NS))
                                  for r in [g.find("s:rect", NS)]][0]
        tx = float(text.get("x"))
        titles.append((tx, fy + 4, text_width(text.text, FONT), 16.0))
        assert fx < tx and tx + text_width(text.text, FONT) <= fx + fw, text.text
        for n in boxes:                                     # a frame's title band holds no node
            x, y, w, h = n["box"]
            assert not (fx < x + w and x < fx + fw and fy < y + h and y < fy + 20), text.text
    # edges run between boxes: no segment crosses a node other than its own two ends, or a frame title
    for p in root.iterfind(".//s:path[@class='edge']", NS):
        pts = [tuple(map(float, xy.split(","))) for xy in re.findall(r"[\d.]+,[\d.]+", p.get("d"))]
        ends = {p.get("data-from"), p.get("data-to")}
        obstacles = [v["box"] for k, v in nodes.items() if k not in ends] + titles
        for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
            lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
            for bx, by, bw, bh in obstacles:
                assert not (bx < hi_x + 0.5 and lo_x - 0.5 < bx + bw and by < hi_y and lo_y < by + bh), \
                    (p.get("data-from"), p.get("data-to"), (bx, by, bw, bh))


@pytest.mark.parametrize("spec,depth", [("googlenet", None), ("resnet50", None), ("resnet152", 1), ("densenet121", 1),
                                        ("densenet121", 3), ("efficientnet_b7", 1), ("efficientnet_b0", None),
                                        ("se_resnet50", 3), ("squeezenet1_0", None), ("mobilenet_v2", None)])
def test_layout_never_overlaps(spec: str, depth: int | None) -> None:
    _invariants(_svg(spec, depth=depth, show=("params", "macs")))


def test_branched_layout_invariants() -> None:
    _invariants(_svg(BRANCHED))
    _invariants(_svg(BRANCHED, depth=1))


def test_resnet_shortcuts_and_repeats() -> None:
    nodes = _nodes(_svg("resnet50", depth=1))
    titles = [v["lines"][0] for v in nodes.values() if v["kind"] == "block"]
    assert titles == ["layer1: bottleneck ×3", "layer2: bottleneck ×4", "layer3: bottleneck ×6", "layer4: bottleneck ×3"]
    t = trace("resnet50")
    v = view(t.analysis, t.tree)
    joins = [b for a, b in edges(v) if b.startswith("n") and t.analysis.rows[int(b[1:])].layer.op == "add"]
    assert len(set(joins)) == 16          # 3 + 4 + 6 + 3 residual adds, each with two inputs
    assert len(joins) == 32


def test_deterministic() -> None:
    t = trace("googlenet")
    assert render(draw(t, Options(depth=2))) == render(draw(trace("googlenet"), Options(depth=2)))


def test_dot_and_mermaid_clusters() -> None:
    t = trace(BRANCHED)
    v = view(t.analysis, t.tree)
    lines = lambda n: [n.title, n.shape]
    text = dot(v, "branched", lines, lambda n: "#ffffff")
    assert text.count("subgraph \"cluster_") == 2 and 'label="inc: inception"' in text
    assert text.count(" -> ") == 16
    if shutil.which("dot"):                                  # Graphviz accepts it, where installed
        assert subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=60).returncode == 0
    m = mermaid(v, lines, lambda n: "")
    assert m.startswith("flowchart TB") and m.count("subgraph ") == 2 and m.count(" --> ") == 16


def test_hostile_text_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = DATA / "hostile_diagram.yaml"
    assert main(["diagram", str(spec), "-o", str(tmp_path / "h.svg")]) == 0
    root = ET.parse(tmp_path / "h.svg").getroot()          # well-formed XML
    assert not list(root.iter("{http://www.w3.org/2000/svg}script")) and not list(root.iter("script"))
    assert "x</text><script>alert(2)</script>" in "".join(root.itertext())
    capsys.readouterr()
    assert main(["diagram", str(spec), "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert 'label="x</text><script>alert(2)</script>: conv 3×3, 4 · ReLU\\n4×8×8"' in out
    assert re.search(r'(?<!\\)"\];evil', out) is None
    assert main(["diagram", str(spec), "--format", "mermaid", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "<script" not in out and "#lt;script#gt;" in out


@pytest.mark.parametrize("args,message", [
    (["--depth", "-1"], "--depth"),
    (["--depth", "0"], "--depth"),
    (["--color", "flops"], "--color"),
    (["--show", "params,speed"], "--show"),
    (["-o", "/nonexistent-dir/x.svg"], "does not exist"),
    (["-o", "x.txt"], "unknown extension"),
    (["-o", "x.svg", "--format", "dot"], "--format dot"),
])
def test_bad_options_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", BRANCHED, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    assert main(["diagram", BRANCHED, "-o", str(locked)]) == 2          # a directory
    (tmp_path / "file").write_text("")
    assert main(["diagram", BRANCHED, "-o", str(tmp_path / "file" / "x.svg")]) == 2   # under a regular file
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        assert main(["diagram", BRANCHED, "-o", str(locked / "x.svg")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_color_latency_without_estimates(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("archcalc.latency") is not None:
        pytest.skip("this build has latency estimates")
    assert main(["diagram", BRANCHED, "--color", "latency"]) == 2
    assert "latency estimates are unavailable" in capsys.readouterr().err


def test_color_latency_through_the_interface(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """--color latency reads per-layer seconds from archcalc.latency (a stand-in module here)."""
    import sys
    import types

    fake = types.ModuleType("archcalc.latency")

    def estimate(a, device):  # type: ignore[no-untyped-def]
        return {"layers": [{"name": r.layer.name, "seconds": 1e-3 if r.layer.name == "inc.b2" else 1e-6}
                           for r in a.rows]}

    fake.estimate = estimate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "archcalc.latency", fake)
    monkeypatch.setattr("archcalc.diagram.timing.available", lambda: True)
    assert main(["diagram", BRANCHED, "--color", "latency", "--show", "latency"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    darkest = [g for g in root.iterfind(".//s:g[@class='node layer']", NS)
               if g.find("s:rect", NS).get("fill") == "#e66e3c"]
    assert [t.text for t in darkest[0].findall("s:text", NS)] == ["conv 3×3, 8", "8×8×8", "time 1 ms"]


def test_svg_file_and_png(tmp_path: Path) -> None:
    assert main(["diagram", BRANCHED, "-o", str(tmp_path / "b.svg"), "--depth", "1"]) == 0
    assert ET.parse(tmp_path / "b.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
    pytest.importorskip("matplotlib")
    assert main(["diagram", BRANCHED, "-o", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("spec", ["googlenet", "resnet18", "se_resnet50", "densenet121", "efficientnet_b0",
                                  "mobilenet_v2", "squeezenet1_1", "vgg16", BRANCHED])
def test_traced_nesting_covers_every_layer_once(spec: str) -> None:
    """The recorded nesting holds each leaf layer exactly once, in execution order, and a block's layers
    carry its instance name in their scope (what the graph builder itself records)."""
    from archcalc.diagram.structure import Group, groups, leaves

    t = trace(spec)
    assert leaves(t.tree) == list(range(len(t.analysis.rows)))
    for g in groups(t.tree):
        if g.kind == "block" and g.name:
            assert all(g.name in t.analysis.rows[i].layer.scope for i in leaves(g)), g.name
        if g.kind == "repeat":
            assert isinstance(g, Group) and g.count >= 1


def test_symbolic_input_draws_formulas_but_cannot_shade(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "vgg16", "--input", "H", "--depth", "1"]) == 0
    assert "64×H/2×H/2" in capsys.readouterr().out          # convs1 ends in a 2×2/2 max pool
    assert main(["diagram", "vgg16", "--input", "H", "--color", "macs"]) == 2
    assert "needs concrete sizes" in capsys.readouterr().err
