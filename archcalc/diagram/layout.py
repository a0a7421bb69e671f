"""Deterministic layout of a view: a sequence flows top to bottom, a join's branches stand side by side
above the join node, an open block is a frame. Text is measured with a fixed width table (metrics.py),
so boxes are always wide enough for their text and nothing overlaps. The result is a list of drawing
primitives that every renderer (SVG, matplotlib) draws the same way."""
from __future__ import annotations

from typing import Callable

from ..record import field, record, replace
from .metrics import text_width
from .view import VFrame, VItem, VJoin, VNode, VSeq

FONT = 12.0          # px, every line
LINE = 16.0          # line height
PAD_X, PAD_Y = 10.0, 6.0
MIN_NODE_W = 96.0
GAP_Y = 24.0         # between items of a sequence (edges run in this band)
GAP_X = 18.0         # between branches
LANE_W = 22.0        # an empty branch (identity shortcut)
FRAME_PAD = 10.0
FRAME_TITLE = 20.0   # band for a frame's title
TITLE_CLEAR = 8.0    # between a frame's title and an edge crossing its band
MARGIN = 16.0


@record
class NodeBox:
    id: str
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]
    kind: str
    op: str
    group: str
    layers: tuple[int, ...]
    fill: str = ""
    roles: tuple[str, ...] = ()     # per line: label, contents, shape, metric


@record
class FrameBox:
    x: float
    y: float
    w: float
    h: float
    title: str
    title_x: float      # from the frame's left edge
    group: str


@record
class Edge:
    src: str
    dst: str
    points: tuple[tuple[float, float], ...]


@record
class Picture:
    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    frames: tuple[FrameBox, ...]
    edges: tuple[Edge, ...]
    header: tuple[str, ...] = ()


@record(frozen=False)
class _Block:
    w: float
    h: float
    port: float
    nodes: list[NodeBox] = field(default_factory=list)
    frames: list[FrameBox] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    entries: list[tuple[str, list[tuple[float, float]]]] = field(default_factory=list)  # dst, path from its top
    exit: tuple[str, list[tuple[float, float]]] | None = None   # src, path down to the block's bottom

    def moved(self, dx: float, dy: float) -> "_Block":
        def pts(p: list[tuple[float, float]] | tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
            return [(x + dx, y + dy) for x, y in p]
        return _Block(
            self.w, self.h, self.port,
            [replace(n, x=n.x + dx, y=n.y + dy) for n in self.nodes],
            [replace(f, x=f.x + dx, y=f.y + dy) for f in self.frames],
            [Edge(e.src, e.dst, tuple(pts(e.points))) for e in self.edges],
            [(d, pts(p)) for d, p in self.entries],
            None if self.exit is None else (self.exit[0], pts(self.exit[1])))

    def take(self, other: "_Block") -> None:
        self.nodes += other.nodes
        self.frames += other.frames
        self.edges += other.edges


def _simplify(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    out: list[tuple[float, float]] = []
    for p in points:
        if out and abs(out[-1][0] - p[0]) < 1e-9 and abs(out[-1][1] - p[1]) < 1e-9:
            continue
        if len(out) >= 2 and (abs(out[-2][0] - out[-1][0]) < 1e-9 and abs(out[-1][0] - p[0]) < 1e-9
                              or abs(out[-2][1] - out[-1][1]) < 1e-9 and abs(out[-1][1] - p[1]) < 1e-9):
            out[-1] = p
            continue
        out.append(p)
    return tuple(out)


class Layout:
    def __init__(self, extra_lines: Callable[[VNode], list[str]], fill: Callable[[VNode], str]) -> None:
        self.extra_lines, self.fill = extra_lines, fill

    def item(self, v: VItem) -> _Block:
        if isinstance(v, VNode):
            return self.node(v)
        if isinstance(v, VJoin):
            return self.join(v)
        return self.frame(v)

    def node(self, v: VNode) -> _Block:
        lines = (v.title, *((v.hint,) if v.hint else ()), v.shape, *self.extra_lines(v))
        w = max(MIN_NODE_W, max(text_width(t, FONT, bold=(i == 0)) for i, t in enumerate(lines)) + 2 * PAD_X)
        w = float(round(w + 0.49))
        h = len(lines) * LINE + 2 * PAD_Y
        roles = ("label", *(("contents",) if v.hint else ()), "shape") + ("metric",) * (len(lines) - 2 - bool(v.hint))
        box = NodeBox(v.id, 0.0, 0.0, w, h, tuple(lines), v.kind, v.op, v.group, v.layers, self.fill(v), roles)
        return _Block(w, h, w / 2, [box], [], [], [(v.id, [(w / 2, 0.0)])], (v.id, [(w / 2, h)]))

    def seq(self, v: VSeq) -> _Block:
        parts = [self.item(x) for x in v.items]
        if not parts:
            return _Block(LANE_W, 0.0, LANE_W / 2)
        left = max(p.port for p in parts)
        right = max(p.w - p.port for p in parts)
        out = _Block(left + right, 0.0, left)
        y = 0.0
        previous: _Block | None = None
        for p in parts:
            moved = p.moved(left - p.port, y)
            out.take(moved)
            if previous is None:
                out.entries = moved.entries
            else:
                out.edges += self.connect(previous.exit, moved.entries)  # type: ignore[arg-type]
            previous = moved
            y += p.h + GAP_Y
        out.h = y - GAP_Y
        out.exit = previous.exit if previous else None
        return out

    @staticmethod
    def connect(src: tuple[str, list[tuple[float, float]]], entries: list[tuple[str, list[tuple[float, float]]]]) -> list[Edge]:
        """From a node's bottom down into the band below its block, across, and down each entry's path."""
        sid, lead = src
        sx, sy = lead[-1]
        band = sy + GAP_Y / 2
        return [Edge(sid, dst, _simplify([*lead, (sx, band), (path[0][0], band), *path])) for dst, path in entries]

    def join(self, v: VJoin) -> _Block:
        branches = [self.seq(b) for b in v.branches]
        node = self.node(v.node)
        x, placed, lanes = 0.0, [], []
        for b in branches:
            placed.append(b.moved(x, 0.0))
            lanes.append(x + b.port)
            x += b.w + GAP_X
        width = x - GAP_X
        full = [p for p, b in zip(placed, v.branches) if b.items]
        top = max((p.h for p in full), default=0.0)
        # a residual add or a gating mul keeps its first (main) path straight; a concat centres its join
        straight = full and full[0].exit and (len(full) == 1 or v.kind in ("add", "mul"))
        port = full[0].exit[1][-1][0] if straight else width / 2  # type: ignore[index]
        shift = max(0.0, node.w / 2 - port)
        port += shift
        width = max(width + shift, port + node.w / 2)
        out = _Block(width, 0.0, port)
        node_y = top + GAP_Y
        bus = top + GAP_Y / 2
        jn = node.moved(port - node.w / 2, node_y)
        out.take(jn)
        for p, b, lane in zip(placed, v.branches, lanes):
            p = p.moved(shift, 0.0)
            if b.items:
                out.take(p)
                out.entries += p.entries
                sid, lead = p.exit  # type: ignore[misc]
                ex = lead[-1][0]
                out.edges.append(Edge(sid, v.node.id, _simplify([*lead, (ex, bus), (port, bus), (port, node_y)])))
            else:
                lane += shift
                out.entries.append((v.node.id, [(lane, 0.0), (lane, bus), (port, bus), (port, node_y)]))
        out.h = node_y + node.h
        out.exit = jn.exit
        return out

    def frame(self, v: VFrame) -> _Block:
        """A dashed frame with the title in a band at its top. Edges enter the frame through that band
        (at each entry's x), so the title goes left of every entry, or right of them when it does not fit."""
        inner = self.seq(v.body)
        tw = text_width(v.title, FONT, bold=True)
        crossing = [p[0][0] for _, p in inner.entries] or [inner.port]
        title_x = FRAME_PAD
        w = inner.w + 2 * FRAME_PAD
        if FRAME_PAD + tw + TITLE_CLEAR > FRAME_PAD + min(crossing):
            title_x = FRAME_PAD + max(crossing) + TITLE_CLEAR
            w = max(w, title_x + tw + FRAME_PAD)
        h = inner.h + 2 * FRAME_PAD + FRAME_TITLE
        moved = inner.moved(FRAME_PAD, FRAME_PAD + FRAME_TITLE)
        out = _Block(w, h, FRAME_PAD + inner.port)
        out.take(moved)
        out.frames.insert(0, FrameBox(0.0, 0.0, w, h, v.title, title_x, v.group))
        out.entries = [(d, [(p[0][0], 0.0), *p]) for d, p in moved.entries]
        if moved.exit:
            out.exit = (moved.exit[0], [*moved.exit[1], (moved.exit[1][-1][0], h)])
        return out


def layout(v: VSeq, extra_lines: Callable[[VNode], list[str]] | None = None,
           fill: Callable[[VNode], str] | None = None, header: tuple[str, ...] = ()) -> Picture:
    """Place every node, frame and edge; coordinates in px, origin top left."""
    lay = Layout(extra_lines or (lambda n: []), fill or (lambda n: ""))
    body = lay.seq(v)
    head = len(header) * LINE + (8.0 if header else 0.0)
    width = max(body.w, max((text_width(t, FONT, bold=(i == 0)) for i, t in enumerate(header)), default=0.0))
    moved = body.moved(MARGIN, MARGIN + head)
    return Picture(float(round(width + 2 * MARGIN + 0.49)), float(round(body.h + 2 * MARGIN + head + 0.49)),
                   tuple(moved.nodes), tuple(moved.frames), tuple(moved.edges), header)
