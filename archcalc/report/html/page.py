"""The page around the sections: inline CSS and a small script, nothing fetched. Without the script the
page is a plain document (every block's diagram shown, the table in execution order)."""
from __future__ import annotations

from html import escape

CSS = """
:root { --ink: #212529; --muted: #6c757d; --line: #dee2e6; --accent: #3b5bdb; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Verdana, Geneva, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1180px;
       padding: 24px 28px 80px; line-height: 1.45; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 21px; margin: 40px 0 8px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 26px 0 8px; } h4 { font-size: 13px; margin: 10px 0 4px; }
p.lead, .muted { color: var(--muted); } nav.toc a { margin-right: 14px; }
a { color: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.scroll { overflow: auto; max-width: 100%; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.diagram { max-height: 900px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; }
thead th { position: sticky; top: 0; background: #f8f9fa; }
.js thead th { cursor: pointer; } .js thead th[aria-sort="ascending"]::after { content: " ▲"; }
.js thead th[aria-sort="descending"]::after { content: " ▼"; }
.layers { max-height: 640px; }
.filter, .controls { display: none; margin: 6px 0; } .js .filter, .js .controls { display: block; }
.filter input { font: inherit; padding: 4px 8px; width: 320px; }
details.block { margin: 10px 0 10px 14px; border-left: 3px solid #d0bfff; padding-left: 10px; }
details.block > summary { cursor: pointer; font-weight: bold; }
details.block.flash > summary { background: #fff3bf; }
svg .node.block { cursor: pointer; } svg .node.block:hover rect { stroke: var(--accent); stroke-width: 3; }
svg .node.block.open rect { stroke: var(--accent); stroke-width: 3; }
pre.formula { white-space: pre-wrap; word-break: break-all; background: #f8f9fa; padding: 8px 10px;
              border-radius: 6px; font-size: 12px; max-height: 260px; overflow: auto; }
.note { font-size: 13px; color: var(--muted); } ul.notes { font-size: 13px; color: var(--muted); }
.warn { color: #c92a2a; }
@media print { .filter, .controls { display: none !important; } details.block { break-inside: avoid; } }
"""

SCRIPT = r"""
(function () {
  'use strict';
  var doc = document.documentElement;
  doc.className += ' js';
  function panelFor(el) {
    var id = el.getAttribute('data-panel');
    return id ? document.getElementById(id) : null;
  }
  function openPanel(box) {
    var panel = panelFor(box);
    if (!panel) { return; }
    var show = !panel.open;
    panel.open = show;
    box.classList.toggle('open', show);
    box.setAttribute('aria-expanded', show ? 'true' : 'false');
    for (var p = panel.parentElement; p; p = p.parentElement) {
      if (p.tagName === 'DETAILS') { p.open = true; }
    }
    if (show) {
      panel.classList.add('flash');
      setTimeout(function () { panel.classList.remove('flash'); }, 900);
      if (panel.scrollIntoView) { panel.scrollIntoView({block: 'nearest'}); }
    }
  }
  var boxes = document.querySelectorAll('svg .node.block[data-panel]');
  Array.prototype.forEach.call(boxes, function (box) {
    box.setAttribute('tabindex', '0');
    box.setAttribute('role', 'button');
    box.setAttribute('aria-expanded', 'false');
    box.addEventListener('click', function () { openPanel(box); });
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); openPanel(box); }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('details.block'), function (d) { d.open = false; });
  Array.prototype.forEach.call(document.querySelectorAll('button[data-all]'), function (b) {
    b.addEventListener('click', function () {
      var open = b.getAttribute('data-all') === 'open';
      var scope = document.getElementById(b.getAttribute('data-scope'));
      Array.prototype.forEach.call(scope.querySelectorAll('details.block'), function (d) { d.open = open; });
      Array.prototype.forEach.call(scope.querySelectorAll('svg .node.block[data-panel]'), function (box) {
        box.classList.toggle('open', open);
        box.setAttribute('aria-expanded', open ? 'true' : 'false');
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
          var nx = parseFloat(x), ny = parseFloat(y), r;
          if (!isNaN(nx) && !isNaN(ny)) { r = nx - ny; } else { r = String(x).localeCompare(String(y)); }
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input[data-filter]'), function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = q !== '' && r.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  // test hook: report.html#click=ID,ID2 clicks those elements, in order, once the page has loaded
  var m = /[#&]click=([A-Za-z0-9_,-]+)/.exec(location.hash);
  if (m) {
    var done = m[1].split(',').map(function (id) {
      var target = document.getElementById(id);
      if (target) { target.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
      return target ? id : 'missing:' + id;
    });
    doc.setAttribute('data-test-clicked', done.join(','));
  }
})();
"""


def document(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"archcalc report\">\n"
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
            f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
