"""Expand a spec (blocks, repeats, tables, branches, conditions) into the layer graph.

Every size is an exact number or a sympy expression; the same code answers for a concrete
input and a symbolic one. Receptive fields are rf.py's.
"""
from __future__ import annotations

from collections.abc import Mapping as MappingABC

from . import budget, num
from .errors import ShapeError, SpecError, Where, did_you_mean, excerpt
from .expr import MAX_EVALUATIONS, Expr, charge, evaluation_budget
from .ops import REGISTRY, Args, OpResult, Shape
from .record import field, record, replace
from .rf import GLOBAL, RF
from .spec import (
    LITERALS,
    REQUIRED,
    CallNode,
    IfNode,
    JoinNode,
    Node,
    OpNode,
    RepeatNode,
    SeqNode,
    Spec,
)
from .yamlio import gc_paused

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Iterator, Mapping


@record
class Limits:
    max_layers: int = 100_000      # leaf layers after expansion (--max-layers)
    max_block_depth: int = 64      # block calls inside block calls
    max_evaluations: int = 0       # expansion steps (expr.evaluation_budget); 0: 10 per allowed layer, at least 1,000,000

    def evaluations(self) -> int:
        return self.max_evaluations or max(MAX_EVALUATIONS, 10 * self.max_layers)


@record(slots=True)
class Layer:
    name: str
    op: str                   # registry name (dwconv, conv, ...)
    kind: str                 # the JSON `op` (every convolution is `conv`)
    inputs: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    output: Shape
    params: Any
    buffers: Any
    macs: Any
    activations: Any
    rf: RF
    scope: tuple[str, ...]
    attrs: Mapping[str, Any]
    counts: Mapping[str, Any]
    where: Where
    frozen: bool = False       # params exist but are not trained
    times: Any = 1             # ideal mode: a fractional repeat's later passes stand for (n − 1) copies


@record
class Network:
    spec: Spec
    vars: Mapping[str, Any]
    input: Shape
    layers: tuple[Layer, ...]
    output: Shape
    output_source: str
    rf: RF
    obligations: tuple[tuple[str, Any, Any], ...] = ()   # symbolic input: what the sizes must satisfy (canon)


@record(frozen=False, slots=True)
class Tensor:
    shape: Shape
    source: str
    rf: RF


class TensorEnv(MappingABC):   # a Mapping[str, Any]
    """Names visible to an expression: vars and params, plus the current tensor's C, H, W."""

    def __init__(self, base: Mapping[str, Any], t: Tensor) -> None:
        self.base, self.t = base, t

    def _tensor(self) -> dict[str, Any]:
        shape = self.t.shape
        c = shape[-1] if len(shape) == 2 else shape[0]   # N×D tokens: C is the feature size D
        out = {"C": c, "in_c": c}
        if len(shape) == 3:
            out.update(H=shape[1], W=shape[2], in_h=shape[1], in_w=shape[2])
        if len(shape) == 2 and "N" not in self.base:   # the token count; a var or param named N wins
            out["N"] = shape[0]
        return out

    def __getitem__(self, key: str) -> Any:
        if key in ("C", "H", "W", "in_c", "in_h", "in_w") or (key == "N" and key not in self.base):
            return self._tensor()[key]
        return self.base[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.base
        yield from self._tensor()

    def __len__(self) -> int:
        return len(self.base) + len(self._tensor())


@record(frozen=False)
class Scope:
    prefix: str
    path: tuple[str, ...]
    counters: dict[str, int] = field(default_factory=dict)

    def next(self, base: str) -> str:
        self.counters[base] = self.counters.get(base, 0) + 1
        return f"{base}_{self.counters[base]}" if base[-1].isdigit() else f"{base}{self.counters[base]}"


class Builder:
    def __init__(self, spec: Spec, variables: Mapping[str, Any], limits: Limits, ideal: bool = False) -> None:
        self.spec, self.vars, self.limits, self.ideal = spec, dict(variables), limits, ideal
        self.layers: list[Layer] = []
        self.used: set[str] = {"input"}
        self.suffix: dict[str, int] = {}  # name -> the last `_k` tried for it, so repeated names cost O(1)
        self.stack: list[str] = []
        self.least: dict[int, int] = {}   # id(node) -> fewest layers it can add (see least_layers)
        # (op, id(args), input shape) -> OpResult for arguments without expressions on a concrete input:
        # a handler is a pure function of these, so layers written alike are computed once and share a result
        self.results: dict[tuple[Any, ...], tuple[OpResult, tuple[Any, ...]]] = {}
        self.literal: dict[int, bool] = {}
        self.int_shapes: dict[int, tuple[Shape, bool]] = {}   # id(shape) -> (that shape, kept alive; all ints)

    def run(self, shape: Shape) -> Network:
        self.input_shape = shape
        t = self.seq(self.spec.body, Tensor(shape, "input", RF()), self.vars, Scope("", ()))
        return Network(self.spec, self.vars, shape, tuple(self.layers), t.shape, t.source, t.rf)

    def seq(self, nodes: tuple[Node, ...], t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        for n in nodes:
            t = self.node(n, t, env, scope)
        return t

    def node(self, n: Node, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        charge(1, n.where)
        if type(n) is OpNode and n.when is None:   # the common item first
            return self.op(n, t, env, scope)
        tenv = TensorEnv(env, t)
        if n.when is not None and not self.condition(n.when, tenv, n.where):
            return t
        if isinstance(n, OpNode):
            return self.op(n, t, env, scope)
        if isinstance(n, CallNode):
            return self.call(n, t, tenv, scope)
        if isinstance(n, RepeatNode):
            return self.repeat(n, t, env, scope)
        if isinstance(n, JoinNode):
            return self.join(n, t, env, scope)
        if isinstance(n, IfNode):
            return self.seq(n.then if self.condition(n.cond, tenv, n.where) else n.orelse, t, env, scope)
        if isinstance(n, SeqNode):
            return self.seq(n.body, t, env, scope)
        raise AssertionError(n)

    def condition(self, cond: Expr, env: Mapping[str, Any], where: Where) -> bool:
        v = cond.eval(env, where)
        if not isinstance(v, bool):
            raise SpecError(f"a condition must be true or false, `{cond.text}` gives {v!r}", where)
        return v

    def value(self, raw: Any, env: Mapping[str, Any], where: Where) -> Any:
        if isinstance(raw, Expr):
            return raw.eval(env, where, self.ideal)
        if isinstance(raw, list):
            return [self.value(x, env, where) for x in raw]
        return raw

    def unique(self, name: str) -> str:
        if name in self.used:
            k = self.suffix.get(name, 1) + 1
            while f"{name}_{k}" in self.used:
                k += 1
            self.suffix[name] = k
            name = f"{name}_{k}"
        self.used.add(name)
        return name

    def add_layer(self, name: str, op: str, inputs: list[Tensor], result: OpResult, scope: Scope,
                  where: Where, rf: RF, frozen: bool = False, numbers: tuple[Any, ...] | None = None) -> Tensor:
        if len(self.layers) >= self.limits.max_layers:
            raise SpecError(f"the network expands to more than {self.limits.max_layers} layers "
                            f"(raise the limit with --max-layers for an honest giant)", where)
        opdef = REGISTRY[op]
        if len(inputs) == 1:
            sources, shapes = (inputs[0].source,), (inputs[0].shape,)
        else:
            sources, shapes = tuple(i.source for i in inputs), tuple(i.shape for i in inputs)
        params, buffers, macs, activations = numbers or _numbers(result)
        layer = Layer(name, op, opdef.kind, sources, shapes, result.output, params, buffers, macs, activations,
                      rf, scope.path, result.attrs, result.counts, where, frozen)
        self.layers.append(layer)
        return Tensor(result.output, name, rf)

    def op(self, n: OpNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        """A leaf layer; `env` holds the vars and params (the current tensor's C, H, W are added here)."""
        name = self.unique(scope.prefix + (n.name or scope.next(n.op)))
        key = self.memo_key(n, t.shape)
        entry = self.results.get(key) if key is not None else None   # type: ignore[arg-type]
        if entry is None:
            opdef = REGISTRY[n.op]
            args = Args(opdef, n.args, TensorEnv(env, t), n.where, self.spec.round, self.ideal)
            result = self.apply(opdef.handler, [t.shape], args, name, n.op, n.where)
            entry = (result, _numbers(result))
            if key is not None:
                self.results[key] = entry
        result = entry[0]
        rf = self.whole_input(t.rf) if result.rf == "input" else t.rf.step(result.rf, t.shape)
        return self.add_layer(name, n.op, [t], result, scope, n.where, rf, n.frozen, numbers=entry[1])

    def memo_key(self, n: OpNode, shape: Shape) -> tuple[Any, ...] | None:
        """The key of a handler's result when it depends only on the op, its literal arguments and a
        concrete input shape (not while steps.Probe traces a knob); None otherwise."""
        literal = self.literal.get(id(n.args))
        if literal is None:
            literal = self.literal[id(n.args)] = all(
                type(v) in LITERALS or type(v) is list and all(type(x) in LITERALS for x in v) for v in n.args.values())
        if not literal or num.PROBE is not None:
            return None
        known = self.int_shapes.get(id(shape))   # layers alike share their output shape: each is checked once
        if known is None:
            known = self.int_shapes[id(shape)] = (shape, all(type(v) is int for v in shape))
        return (n.op, id(n.args), shape) if known[1] else None

    def whole_input(self, rf: RF) -> RF:
        """The field of a layer that sees every input pixel (attention over all tokens)."""
        shape = self.input_shape
        if len(shape) != 3 or rf.size[0] == GLOBAL:
            return rf
        if not all(num.is_exact(x) for x in shape[1:]):
            return RF((GLOBAL, GLOBAL), rf.jump, (GLOBAL, GLOBAL))
        return RF((shape[1], shape[2]), rf.jump, (num.div(shape[1] - 1, 2), num.div(shape[2] - 1, 2)))

    def apply(self, handler: Any, shapes: list[Shape], args: Args, name: str, op: str, where: Where) -> OpResult:
        try:
            return handler(shapes, args)
        except ShapeError as e:
            raise ShapeError(f"layer {name} ({op}): {e.message}", e.where or where) from None
        except SpecError as e:
            if e.where is None:
                raise SpecError(f"layer {name} ({op}): {e.message}", where) from None
            raise

    def call(self, n: CallNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        block = self.spec.blocks[n.block]
        if n.block in self.stack:
            chain = " → ".join(self.stack[self.stack.index(n.block):] + [n.block])
            raise SpecError(f"block `{n.block}` calls itself ({chain}); blocks cannot recurse", n.where)
        if len(self.stack) >= self.limits.max_block_depth:
            raise SpecError(f"blocks nest deeper than {self.limits.max_block_depth} calls", n.where)
        params: dict[str, Any] = {}
        for key, raw in n.args.items():
            if key not in block.params:
                raise SpecError(f"block `{n.block}` has no parameter `{key}`{did_you_mean(key, set(block.params))}; "
                                f"it takes: {', '.join(block.params) or 'nothing'}", n.where)
            params[key] = self.value(raw, env, n.where)
        inner = dict(self.vars)
        for key, default in block.params.items():
            if key not in params:
                if default is REQUIRED:
                    raise SpecError(f"block `{n.block}` needs `{key}`", n.where)
                params[key] = self.value(default, TensorEnv({**inner, **params}, t), block.where)
            inner[key] = params[key]
        name = n.name or scope.next(n.block)
        child = Scope(scope.prefix + name + ".", scope.path + (name,))
        self.stack.append(n.block)
        try:
            return self.seq(block.body, t, inner, child)
        finally:
            self.stack.pop()

    def repeat(self, n: RepeatNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        count = self.value(n.n, TensorEnv(env, t), n.where)
        if self.ideal and not isinstance(count, bool) and not (num.is_exact(count) and num.is_integer(count)):
            return self.fractional_repeat(n, t, env, scope, count)
        if not num.is_exact(count) or isinstance(count, bool) or num.is_integer(count) is not True or count < 0:
            raise SpecError(f"repeat count must be a whole number ≥ 0, got "
                            f"{num.fmt(count) if num.is_exact(count) else repr(count)}", n.where)
        if count > self.limits.max_layers:
            raise SpecError(f"repeat count {count} exceeds the layer limit {self.limits.max_layers} "
                            f"(raise it with --max-layers)", n.where)
        least = count * self.least_body(n.body, set())
        if len(self.layers) + least > self.limits.max_layers:
            raise SpecError(f"the network expands to more than {self.limits.max_layers} layers (this repeat alone "
                            f"adds at least {least}; raise the limit with --max-layers for an honest giant)", n.where)
        for j in range(int(count)):
            t = self.one_pass(n, t, env, scope, j)
        return t

    def least_body(self, nodes: tuple[Node, ...], calling: set[str]) -> int:
        return sum(self.least_layers(n, calling) for n in nodes)

    def least_layers(self, n: Node, calling: set[str]) -> int:
        """A lower bound on the layers a node adds, without evaluating anything, so nested repeats
        whose product is in the billions fail before they expand: conditional items count 0, a
        repeat counts only when its `n` is a literal."""
        key = id(n)
        if key in self.least:
            return self.least[key]
        out = 0
        if n.when is not None:
            out = 0
        elif isinstance(n, OpNode):
            out = 1
        elif isinstance(n, SeqNode):
            out = self.least_body(n.body, calling)
        elif isinstance(n, IfNode):
            out = min(self.least_body(n.then, calling), self.least_body(n.orelse, calling))
        elif isinstance(n, JoinNode):
            out = 1 + sum(self.least_body(b, calling) for b in n.branches)
        elif isinstance(n, RepeatNode):
            literal = isinstance(n.n, int) and not isinstance(n.n, bool) and n.n > 0
            out = n.n * self.least_body(n.body, calling) if literal else 0
        elif isinstance(n, CallNode):
            if n.block in calling or n.block not in self.spec.blocks:
                return 0                      # recursion is reported when the call runs
            out = self.least_body(self.spec.blocks[n.block].body, calling | {n.block})
        out = min(out, 10**18)   # keep the numbers small
        self.least[key] = out
        return out

    def one_pass(self, n: RepeatNode, t: Tensor, env: Mapping[str, Any], scope: Scope, j: int) -> Tensor:
        charge(1, n.where)
        local = dict(env)
        local[n.index] = j
        tenv = TensorEnv(local, t)
        for key, raw in n.vars.items():
            local[key] = self.value(raw, tenv, n.where)
        for key, raw in (n.first if j == 0 else n.rest).items():
            local[key] = self.value(raw, tenv, n.where)
        return self.seq(n.body, t, local, scope)

    def fractional_repeat(self, n: RepeatNode, t: Tensor, env: Mapping[str, Any], scope: Scope, count: Any) -> Tensor:
        """Ideal mode (the papers' depth d·L without the ceil): the first pass once, then one
        shape-preserving later pass whose layers count (count − 1) times."""
        t = self.one_pass(n, t, env, scope, 0)
        mark = len(self.layers)
        after = self.one_pass(n, t, env, scope, 1)
        if len(after.shape) != len(t.shape) or any(str(a) != str(b) for a, b in zip(after.shape, t.shape)):
            raise SpecError("a fractional repeat (ideal mode) needs later passes that keep the shape", n.where)
        extra = num.norm(count - 1)
        self.layers[mark:] = [replace(layer, times=extra) for layer in self.layers[mark:]]
        return after

    def join(self, n: JoinNode, t: Tensor, env: Mapping[str, Any], scope: Scope) -> Tensor:
        outs = [self.seq(branch, t, env, scope) for branch in n.branches]
        name = self.unique(scope.prefix + (n.name or scope.next(n.kind)))
        shapes = [o.shape for o in outs]
        # a join has no arguments: on concrete shapes its handler's result depends on the shapes alone
        key = ("join", n.kind, tuple(shapes)) if num.PROBE is None and all(
            type(v) is int for shape in shapes for v in shape) else None
        entry = self.results.get(key) if key is not None else None
        if entry is None:
            opdef = REGISTRY[n.kind]
            args = Args(opdef, {}, TensorEnv(env, t), n.where, self.spec.round, self.ideal)
            result = self.apply(opdef.handler, shapes, args, name, n.kind, n.where)
            entry = (result, _numbers(result))
            if key is not None:
                self.results[key] = entry
        result = entry[0]
        # the tensor the branches fan out from: eager PyTorch holds it until the join returns
        # (`torch.cat([f(x), g(x)], 1)` keeps x in the frame); `a + b` (inplace: false) allocates
        result = replace(result, attrs={**result.attrs, "fanout": t.source,
                                                    **({} if n.inplace else {"inplace": False}),
                                                    **({"list": True} if n.list else {})})
        return self.add_layer(name, n.kind, outs, result, scope, n.where, RF.merge([o.rf for o in outs]),
                              numbers=entry[1])


def _numbers(result: OpResult) -> tuple[Any, Any, Any, Any]:
    """A layer's params, buffers, MACs and activations (output elements) from its op's result."""
    return num.norm(result.params), num.norm(result.buffers), num.norm(result.macs), num.prod(result.output)


def _approx(v: Any) -> str:
    return f" ≈ {num.approx(v)}" if num.is_exact(v) and num.is_integer(v) is False else ""


def resolve_vars(spec: Spec, overrides: Mapping[str, Any], preset: str | None = None,
                 ideal: bool = False) -> dict[str, Any]:
    """Var values in declaration order: default, then the preset, then --set overrides."""
    for key in overrides:
        if key not in spec.vars:
            raise SpecError(f"--set {key}: `{spec.name}` has no variable `{key}`{did_you_mean(key, set(spec.vars))}; "
                            f"its variables: {', '.join(spec.vars)}", spec.places.get("vars", spec.where))
    chosen = dict(spec.presets.get(preset, {})) if preset else {}
    values: dict[str, Any] = {}
    for name, decl in spec.vars.items():
        where = decl.where if decl.where.file else spec.where
        if name in overrides:
            v = overrides[name]
            shown = str(v).lower() if isinstance(v, bool) else num.fmt(v) if num.is_exact(v) else excerpt(v)
            if decl.choices and v not in decl.choices:
                raise SpecError(f"--set {name}={shown}: `{name}` must be one of {', '.join(decl.choices)}", where)
            if not decl.choices and (isinstance(v, str) or isinstance(v, bool) and not isinstance(decl.default, bool)):
                raise SpecError(f"--set {name}={shown}: `{name}` takes a number", where)
            if (why := decl.refuses(v)) is not None:
                raise SpecError(f"--set {name}={shown}: {why} (its default is {num.fmt(decl.default)})", where)
        else:
            v = chosen.get(name, decl.default)
            if isinstance(v, Expr):
                at = spec.places.get(f"presets.{preset}", where) if name in chosen else where
                v = v.eval(values, at, ideal)
        values[name] = v
    return values


def build(spec: Spec, overrides: Mapping[str, Any] | None = None, input_shape: tuple[Any, ...] | None = None,
          preset: str | None = None, limits: Limits | None = None, ideal: bool = False,
          builder: type[Builder] | None = None) -> Network:
    """Expand the spec for these var values and input into a Network of leaf layers.

    `builder` is a Builder subclass that may watch the expansion (archcalc.diagram records the nesting);
    it must not change what is built."""
    variables = resolve_vars(spec, overrides or {}, preset, ideal)
    shape = tuple(v.eval(variables, spec.places.get(f"input[{i}]", spec.where), ideal) if isinstance(v, Expr) else v
                  for i, v in enumerate(spec.input))
    if input_shape is not None:
        if len(input_shape) == 1 and len(shape) == 3:
            shape = (shape[0], input_shape[0], input_shape[0])
        elif len(input_shape) == 2 and len(shape) == 3:
            shape = (shape[0],) + tuple(input_shape)
        elif len(input_shape) == len(shape):
            shape = tuple(input_shape)
        else:
            raise SpecError(f"--input gives {len(input_shape)} sizes but `{spec.name}` takes {len(shape)}",
                            spec.places.get("input", spec.where))
    axes = {3: ("channels", "height", "width"), 2: ("tokens", "features")}.get(len(shape), ("features",))
    for i, v in enumerate(shape):
        where = spec.places.get(f"input[{i}]", spec.where) if input_shape is None else spec.places.get("input", spec.where)
        if isinstance(v, (bool, str)) or v is None:
            raise SpecError(f"input {axes[i]} must be a positive whole number, got {v!r}", where)
        if num.is_integer(v) is False or (num.is_exact(v) and v < 1):
            raw = spec.input[i]
            text = f"`{raw.text}` = " if isinstance(raw, Expr) and input_shape is None else ""
            shown = [f"{k}={num.fmt(x)}" for k, x in variables.items() if k != "impl" and num.is_exact(x)]
            raise SpecError(f"input {axes[i]} {text}{num.fmt(v)}{_approx(v)} is not a positive whole number"
                            + (f" (vars: {', '.join(shown)})" if shown and isinstance(raw, Expr) else ""), where)
    limits = limits or Limits()
    budget.renew()
    runner = (builder or Builder)(spec, variables, limits, ideal)
    if all(num.is_exact(v) for v in shape[1:]):
        with gc_paused(), evaluation_budget(limits.evaluations()):
            return runner.run(tuple(num.norm(v) for v in shape))
    from . import canon

    for v in shape[1:]:
        canon.declare_base(num.to_sympy(v))
    with gc_paused(), evaluation_budget(limits.evaluations()), canon.collecting() as obligations:
        net = runner.run(tuple(num.norm(v) for v in shape))
    return replace(net, obligations=tuple(obligations))
