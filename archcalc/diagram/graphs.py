"""The same view as text for other renderers: Graphviz DOT and Mermaid flowcharts, open blocks as
clusters (subgraphs). Labels are escaped for each language."""
from __future__ import annotations

from typing import Callable

from .view import VFrame, VItem, VJoin, VNode, VSeq


def edges(v: VSeq) -> list[tuple[str, str]]:
    """Data-flow edges between the nodes of a view (an empty branch is an edge from the fork to the join)."""
    out: list[tuple[str, str]] = []

    def seq(s: VSeq, sources: list[str]) -> list[str]:
        for item in s.items:
            sources = one(item, sources)
        return sources

    def one(x: VItem, sources: list[str]) -> list[str]:
        if isinstance(x, VNode):
            out.extend((s, x.id) for s in sources)
            return [x.id]
        if isinstance(x, VJoin):
            ends: list[str] = []
            for b in x.branches:
                ends.extend(seq(b, sources))
            out.extend((e, x.node.id) for e in dict.fromkeys(ends))
            return [x.node.id]
        return seq(x.body, sources)

    seq(v, [])
    return list(dict.fromkeys(out))


def _walk(v: VSeq, node: Callable[[VNode, int], None], open_: Callable[[VFrame, int], None],
          close: Callable[[VFrame, int], None], level: int = 1) -> None:
    for item in v.items:
        if isinstance(item, VNode):
            node(item, level)
        elif isinstance(item, VJoin):
            for b in item.branches:
                _walk(b, node, open_, close, level)
            node(item.node, level)
        else:
            open_(item, level)
            _walk(item.body, node, open_, close, level + 1)
            close(item, level)


def _dot_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")


def dot(v: VSeq, name: str, lines: Callable[[VNode], list[str]], fill: Callable[[VNode], str]) -> str:
    out = [f'digraph "{_dot_text(name)}" {{',
           '  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=11, nodesep=0.3, ranksep=0.35];',
           '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=10, fillcolor="#f1f3f5"];',
           '  edge [arrowsize=0.6];']

    def node(n: VNode, level: int) -> None:
        label = "\\n".join(_dot_text(t) for t in lines(n))
        out.append(f'{"  " * level}"{n.id}" [label="{label}", fillcolor="{fill(n)}"];')

    def open_(f: VFrame, level: int) -> None:
        out.append(f'{"  " * level}subgraph "cluster_{f.group}" {{')
        out.append(f'{"  " * (level + 1)}label="{_dot_text(f.title)}"; style="rounded,dashed"; color="#adb5bd";')

    def close(f: VFrame, level: int) -> None:
        out.append(f'{"  " * level}}}')

    _walk(v, node, open_, close)
    out.extend(f'  "{a}" -> "{b}";' for a, b in edges(v))
    out.append("}")
    return "\n".join(out) + "\n"


_MERMAID = {"#": "#35;", "&": "#38;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;", "\n": " ", "\r": " "}


def _mermaid_text(s: str) -> str:
    return "".join(_MERMAID.get(ch, ch) for ch in s)


def _mid(s: str) -> str:
    return s.replace("-", "_")


def mermaid(v: VSeq, lines: Callable[[VNode], list[str]], fill: Callable[[VNode], str]) -> str:
    out = ["flowchart TB"]
    styles: list[str] = []

    def node(n: VNode, level: int) -> None:
        label = "<br/>".join(_mermaid_text(t) for t in lines(n))
        shape = ('(["', '"])') if n.kind == "join" else ('["', '"]')
        out.append(f'{"  " * level}{_mid(n.id)}{shape[0]}{label}{shape[1]}')
        if fill(n):
            styles.append(f"  style {_mid(n.id)} fill:{fill(n)},stroke:#495057")

    def open_(f: VFrame, level: int) -> None:
        out.append(f'{"  " * level}subgraph {_mid(f.group)}["{_mermaid_text(f.title)}"]')

    def close(f: VFrame, level: int) -> None:
        out.append(f'{"  " * level}end')

    _walk(v, node, open_, close)
    out.extend(f"  {_mid(a)} --> {_mid(b)}" for a, b in edges(v))
    return "\n".join(out + styles) + "\n"
