"""The spec's own nesting, recorded while the graph builder expands it: sequences, joins with their
branches, block calls and repeats, with the leaf layers (indices into `Network.layers`) at the bottom."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Union

from ..analysis import Analysis, analyze
from ..graph import Builder, Limits, Scope, Tensor
from ..record import field, record
from ..spec import CallNode, JoinNode, RepeatNode, Spec


@record
class Leaf:
    index: int                      # position in Network.layers / Analysis.rows


@record
class Join:
    kind: str                       # concat | add | mul
    branches: tuple["Seq", ...]     # an empty branch is the identity (a shortcut)
    index: int                      # the join layer


@record
class Group:
    kind: str                       # block | repeat
    name: str                       # block instance name (`layer1`) or `repeat`
    template: str                   # block name (`stage`); for a repeat, the block each pass calls, if one
    count: int                      # passes of a repeat (1 for a block)
    body: "Seq"
    path: tuple[int, ...] = ()      # position in the tree, unique: names the group in diagrams and reports


Item = Union[Leaf, Join, Group]


@record
class Seq:
    items: tuple[Item, ...] = ()


# ---------------------------------------------------------------- recording
@record(frozen=False)
class _Open:
    kind: str                       # seq | join | branch | block | repeat | pass
    name: str = ""
    template: str = ""
    items: list[Any] = field(default_factory=list)


class Tracer(Builder):
    """A Builder that records the nesting as it expands; it builds exactly what Builder builds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = _Open("seq")
        self.open: list[_Open] = [self.root]

    def _push(self, node: _Open) -> _Open:
        self.open[-1].items.append(node)
        self.open.append(node)
        return node

    def add_layer(self, *args: Any, **kwargs: Any) -> Tensor:
        out = super().add_layer(*args, **kwargs)
        top = self.open[-1]
        if top.kind == "join":
            top.name = str(len(self.layers) - 1)      # the join layer closes the join
        else:
            top.items.append(len(self.layers) - 1)
        return out

    def seq(self, nodes: Any, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        if self.open[-1].kind != "join":
            return super().seq(nodes, t, env, scope)
        self._push(_Open("branch"))
        try:
            return super().seq(nodes, t, env, scope)
        finally:
            self.open.pop()

    def join(self, n: JoinNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        self._push(_Open("join", template=n.kind))
        try:
            return super().join(n, t, env, scope)
        finally:
            self.open.pop()

    def call(self, n: CallNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        k = scope.counters.get(n.block, 0) + 1      # the name Scope.next will give it
        name = n.name or (f"{n.block}_{k}" if n.block[-1].isdigit() else f"{n.block}{k}")
        self._push(_Open("block", name, n.block))
        try:
            return super().call(n, t, env, scope)
        finally:
            self.open.pop()

    def repeat(self, n: RepeatNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        self._push(_Open("repeat", n.name or "repeat"))
        try:
            return super().repeat(n, t, env, scope)
        finally:
            self.open.pop()

    def one_pass(self, n: RepeatNode, t: Tensor, env: Mapping[str, Any], scope: Scope, j: int) -> Tensor:
        self._push(_Open("pass"))
        try:
            return super().one_pass(n, t, env, scope, j)
        finally:
            self.open.pop()

    def tree(self) -> Seq:
        return _freeze_seq(self.root.items, ())


def _freeze_seq(items: list[Any], path: tuple[int, ...]) -> Seq:
    out: list[Item] = []
    for raw in items:
        item = _freeze(raw, path + (len(out),))
        if item is not None:
            out.append(item)
    return Seq(tuple(out))


def _freeze(raw: Any, path: tuple[int, ...]) -> Item | None:
    if isinstance(raw, int):
        return Leaf(raw)
    if raw.kind == "join":
        branches = tuple(_freeze_seq(b.items, path + (i,)) for i, b in enumerate(raw.items))
        return Join(raw.template, branches, int(raw.name))
    if raw.kind in ("seq", "branch", "pass"):     # an if/seq construct is transparent
        body = _freeze_seq(raw.items, path)
        return Group("block", "", "", 1, body, path) if body.items else None
    if raw.kind == "repeat":
        passes = [_freeze_seq(p.items, path) for p in raw.items]
        flat = [item for p in passes for item in p.items]
        if not flat:
            return None
        if len(passes) == 1 and raw.name == "repeat":   # a table row without a count column: one pass, no box
            return Group("block", "", "", 1, Seq(tuple(flat)), path)
        body = Seq(tuple(flat))
        called = {p.items[0].template for p in passes if len(p.items) == 1 and isinstance(p.items[0], Group)}
        template = called.pop() if len(called) == 1 and all(len(p.items) == 1 for p in passes) else ""
        return Group("repeat", raw.name, template, len(passes), body, path)
    body = _freeze_seq(raw.items, path)
    if not body.items:
        return None                               # a block whose items were all switched off (`when`)
    return Group("block", raw.name, raw.template, 1, body, path)


def _inline(seq: Seq) -> Seq:
    """Anonymous groups (an `if` or `seq` construct) are not boxes: splice their items in place."""
    out: list[Item] = []
    for item in seq.items:
        if isinstance(item, Group) and not item.name:
            out.extend(_inline(item.body).items)
        elif isinstance(item, Group):
            out.append(Group(item.kind, item.name, item.template, item.count, _inline(item.body), item.path))
        elif isinstance(item, Join):
            out.append(Join(item.kind, tuple(_inline(b) for b in item.branches), item.index))
        else:
            out.append(item)
    return Seq(tuple(out))


def _paths(seq: Seq, parent: tuple[int, ...]) -> Seq:
    out: list[Item] = []
    for i, item in enumerate(seq.items):
        path = parent + (i,)
        if isinstance(item, Group):
            out.append(Group(item.kind, item.name, item.template, item.count, _paths(item.body, path), path))
        elif isinstance(item, Join):
            out.append(Join(item.kind, tuple(_paths(b, path + (j,)) for j, b in enumerate(item.branches)), item.index))
        else:
            out.append(item)
    return Seq(tuple(out))


@record
class Traced:
    analysis: Analysis
    tree: Seq


def trace(spec: str | Path | Spec, input: tuple[Any, ...] | None = None, vars: Mapping[str, Any] | None = None,
          convention: str = "paper", batch: Any = 1, dtype: str = "float32", limits: Limits | None = None) -> Traced:
    """Analyse a spec and record its nesting: `trace("resnet50").tree` is the top-level sequence."""
    seen: list[Tracer] = []

    class _Watch(Tracer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self)

    a = analyze(spec, input=input, vars=vars, convention=convention, batch=batch, dtype=dtype, limits=limits,
                builder=_Watch)
    return Traced(a, _paths(_inline(seen[-1].tree()), ()))


# ---------------------------------------------------------------- queries
def leaves(item: Item | Seq) -> list[int]:
    """Every leaf layer index under an item, in execution order."""
    if isinstance(item, Leaf):
        return [item.index]
    if isinstance(item, Seq):
        return [i for x in item.items for i in leaves(x)]
    if isinstance(item, Join):
        return [i for b in item.branches for i in leaves(b)] + [item.index]
    return leaves(item.body)


def last_index(item: Item | Seq) -> int | None:
    found = leaves(item)
    return found[-1] if found else None


def groups(seq: Seq) -> list[Group]:
    """Every group, outermost first."""
    out: list[Group] = []
    for item in seq.items:
        if isinstance(item, Group):
            out.append(item)
            out.extend(groups(item.body))
        elif isinstance(item, Join):
            for b in item.branches:
                out.extend(groups(b))
    return out


def group_id(g: Group) -> str:
    return "g" + "-".join(str(p) for p in g.path)
