"""archcalc report: one self-contained HTML file. Well-formed, nothing fetched, the same numbers as
`summary`, hostile spec text escaped; rendered in headless Chromium (skipped where it is absent):
the screenshot is not blank and a click on a block opens its diagram."""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from archcalc.analysis import analyze
from archcalc.cli import main
from archcalc.report import summary_json

DATA = Path(__file__).parent / "data"
BRANCHED = str(DATA / "branched.yaml")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG_LEAVES = {"rect", "path", "line", "circle", "polyline", "polygon", "stop"}


class Checker(HTMLParser):
    """Tag balance (every non-void element closed in order), ids unique, every link local."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(str(a["id"]))
        for key in ("href", "src", "xlink:href", "action", "data", "poster", "srcset"):
            if key in a:
                self.refs.append(str(a[key]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(str(a["id"]))
        for key in ("href", "src"):
            if key in a:
                self.refs.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def check_page(text: str) -> Checker:
    c = Checker()
    c.feed(text)
    c.close()
    assert not c.errors, c.errors[:5]
    assert not c.stack, c.stack
    assert len(c.ids) == len(set(c.ids)), "duplicate ids"
    assert all(r.startswith("#") for r in c.refs), [r for r in c.refs if not r.startswith("#")]
    assert not {t for t, _ in c.tags} & {"link", "img", "iframe", "object", "embed", "base", "video", "audio"}
    assert "url(" not in text.replace("url(#", "") and "@import" not in text
    return c


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "branched.html"
    assert main(["report", BRANCHED, "-o", str(out)]) == 0
    return out, out.read_text(encoding="utf-8")


def test_single_report_is_self_contained(single: tuple[Path, str]) -> None:
    _, text = single
    c = check_page(text)
    assert text.startswith("<!DOCTYPE html>")
    assert sum(1 for t, _ in c.tags if t == "script") == 1 and sum(1 for t, _ in c.tags if t == "style") == 1
    assert not any(a.get("src") for t, a in c.tags if t == "script")
    # each collapsed box names a panel that exists
    panels = [a["data-panel"] for t, a in c.tags if "data-panel" in a]
    assert panels and set(panels) <= set(c.ids)
    for section in ("Architecture", "Layers", "Profiles", "Closed forms", "Memory", "Latency"):
        assert f"<h3>{section}</h3>" in text


def test_layer_table_has_the_summary_numbers(single: tuple[Path, str]) -> None:
    _, text = single
    table = text[text.index('id="net0-layers"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):])
    want = summary_json(analyze(BRANCHED))["layers"]
    assert len(rows) == len(want) == 15
    for row, layer in zip(rows, want):
        values = re.findall(r'data-v="([^"]*)"', row)
        assert values[1] == layer["name"]
        assert [int(values[5]), int(values[6]), int(values[7])] == [layer["params"], layer["macs"], layer["activations"]]
    # closed forms: params do not depend on H. By hand: inception 568 (tests/test_diagram.py), conv_a 9·20·20 = 3600
    # (no bias), bn γ/β 40, conv_b 3600 + 20 bias, fc 20·10 + 10 = 210 → 8038
    assert '<h4>params</h4><pre class="formula">8038</pre>' in text


def test_comparison_comes_first(tmp_path: Path) -> None:
    out = tmp_path / "cmp.html"
    assert main(["report", BRANCHED, "resnet18", "--no-formulas", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    check_page(text)
    assert text.index('id="comparison"') < text.index('id="net0"') < text.index('id="net1"')
    assert 'class="chart pareto"' in text
    assert text.count('<section class="network"') == 2


def test_hostile_spec_text_is_escaped(tmp_path: Path) -> None:
    spec = DATA / "hostile_diagram.yaml"
    out = tmp_path / "h.html"
    assert main(["report", str(spec), "--no-formulas", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    c = check_page(text)
    assert sum(1 for t, _ in c.tags if t == "script") == 1
    assert "<img" not in text and "alert(1)</script>" not in text
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text


def test_report_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", BRANCHED, "-o", str(tmp_path / "r.svg")]) == 2
    assert main(["report", BRANCHED, "-o", "/nonexistent-dir/r.html"]) == 2
    assert main(["report", BRANCHED, "--depth", "-1", "-o", str(tmp_path / "r.html")]) == 2
    assert "Traceback" not in capsys.readouterr().err


# ---------------------------------------------------------------- headless Chromium
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = _chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")


def _run_chromium(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return _chromium_once(*args)
    except subprocess.TimeoutExpired:      # a browser stalled on a busy machine: one more try
        return _chromium_once(*args)


def _chromium_once(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=150, env={**os.environ, "HOME": profile})


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows[::4] for i in range(0, len(r), bpp * 4)]


@needs_chromium
def test_browser_screenshot_is_not_blank(single: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = single
    shot = tmp_path / "shot.png"
    _run_chromium(f"--screenshot={shot}", "--window-size=1100,1400", path.as_uri())
    assert shot.exists(), "chromium wrote no screenshot"
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1100, 1400)
    ink = sum(1 for p in pixels if p != b"\xff\xff\xff")
    assert ink > 0.02 * len(pixels)                         # text, boxes and charts, not a white page
    assert len(set(pixels)) > 20                            # several colours: the diagram's fills, links


@needs_chromium
def test_browser_click_opens_a_block(single: tuple[Path, str]) -> None:
    path, text = single
    panel = re.search(r'<g class="node block" id="(net0-[^"]+)" data-group="[^"]+" data-panel="([^"]+)"', text)
    assert panel, "the overview has a collapsed block"
    box, target = panel.groups()
    before = _run_chromium("--dump-dom", path.as_uri()).stdout
    assert re.search(r'<html [^>]*class="[^"]*\bjs\b', before)                   # the script ran
    closed = re.search(rf'<details class="block[^"]*" id="{target}"[^>]*>', before)
    assert closed and " open" not in closed.group(0)                             # and closed the panels
    after = _run_chromium("--dump-dom", path.as_uri() + f"#click={box}").stdout
    assert f'data-test-clicked="{box}"' in after
    opened = re.search(rf'<details class="block[^"]*" id="{target}"[^>]*>', after)
    assert opened and ' open=""' in opened.group(0)
    assert re.search(rf'<g class="node block open" id="{box}"[^>]*aria-expanded="true"', after)
    others = re.findall(r'<details class="block[^"]*" id="([^"]+)"[^>]*open=""', after)
    assert others == [target]                                                    # only the clicked block
    # the "open every block" button, then a click on the MACs heading (sorts ascending)
    both = _run_chromium("--dump-dom", path.as_uri() + "#click=net0-open-all,net0-layers-h6").stdout
    assert 'data-test-clicked="net0-open-all,net0-layers-h6"' in both
    panels = re.findall(r'<details class="block[^"]*" id="[^"]+"[^>]*>', both)
    assert panels and all(' open=""' in p for p in panels)
    body = both[both.index('id="net0-layers"'):]
    macs = [int(v) for v in re.findall(r'<tr>(?:<td[^>]*>.*?</td>){6}<td class="num" data-v="(\d+)"', body)]
    assert len(macs) == 15 and macs == sorted(macs) and macs != [int(v) for v in re.findall(
        r'<tr>(?:<td[^>]*>.*?</td>){6}<td class="num" data-v="(\d+)"', text[text.index('id="net0-layers"'):])]


def test_without_scripts_every_block_is_shown(single: tuple[Path, str]) -> None:
    """The markup itself opens every block's panel (the script closes them on load, see the browser test);
    the filter box, which needs the script, is hidden by CSS unless the script marked the page."""
    _, text = single
    panels = re.findall(r'<details class="block"[^>]*>', text)
    assert panels and all(re.search(r"\sopen[\s>]", p) for p in panels)
    assert ".filter, .controls { display: none;" in text and ".js .filter, .js .controls { display: block; }" in text
