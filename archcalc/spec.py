"""YAML spec → validated, frozen spec objects. Every error carries the file, line and YAML path.

A body is a list of items. An item is an op (`relu`, `{conv: {c: 64, k: 3}}`), a block call
(`{convs: {c: 64, n: 2}}`), or a construct: `repeat`, `table`, `seq`, `if`, and the joins
`concat`, `add`, `mul` (a list of branches; an empty branch is the identity). Any item may carry
`name:` and `when:` beside its head key.
"""
from __future__ import annotations

from fractions import Fraction

from .errors import SpecError, Where, did_you_mean, excerpt
from .expr import Expr, compile_expr
from .nodes import (
    REQUIRED,
    BlockDef,
    CallNode,
    IfNode,
    JoinNode,
    Node,
    OpNode,
    RepeatNode,
    SeqNode,
    Spec,
    VarDecl,
)
from .ops import REGISTRY
from .yamlio import Document, gc_paused, load_text, read_file, stem

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping

    Raw = Any  # int | Fraction | bool | str | Expr | list | None

FORMAT_VERSION = 1
JOINS = ("concat", "add", "mul")
CONSTRUCTS = ("repeat", "table", "seq", "if") + JOINS
TOP_KEYS = ("archcalc", "name", "description", "source", "vars", "presets", "input", "blocks", "body",
            "round", "metadata")
IMPL_CHOICES = ("paper", "torchvision")
MAX_NESTING = 64
META_KEYS = ("name", "when", "frozen", "inplace", "list")   # keys an item may carry beside its head
RESERVED = {"C", "H", "W", "in_c", "in_h", "in_w", "i", "True", "False", "None"}


class _Parser:
    def __init__(self, doc: Document, block_names: set[str]) -> None:
        self.doc = doc
        self.block_names = block_names
        self.shared: dict[tuple[Any, ...], dict[str, Raw]] = {}   # one mapping per distinct literal argument set
        self.int_args: dict[tuple[Any, ...], dict[str, Raw]] = {}  # (op, its arguments as written, all ints) -> shared

    def at(self, path: tuple[Any, ...]) -> Where:
        return self.doc.place(path)

    def fail(self, path: tuple[Any, ...], message: str) -> SpecError:
        return SpecError(message, self.at(path))

    def raw(self, value: Any, path: tuple[Any, ...], text_ok: bool = False) -> Raw:
        """A value as written: numbers stay, strings become expressions, lists recurse."""
        if isinstance(value, str):
            if text_ok and value.isidentifier() and value in ("same", "valid", "exact", "floor", "ceil"):
                return value
            return compile_expr(value, self.at(path))
        if isinstance(value, list):
            return [self.raw(v, path + (i,), text_ok) for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, Fraction)):
            return value
        raise self.fail(path, f"expected a number, an expression or a list, got a {type(value).__name__}")

    def mapping(self, value: Any, path: tuple[Any, ...], what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping for {what}, got {_kind(value)}")
        return value

    def var_map(self, value: Any, path: tuple[Any, ...], what: str) -> dict[str, Raw]:
        out = {}
        for k, v in self.mapping(value, path, what).items():
            _check_identifier(k, self.at(path + (k,)))
            out[k] = self.raw(v, path + (k,), text_ok=True)
        return out

    def body(self, value: Any, path: tuple[Any, ...], depth: int) -> tuple[Node, ...]:
        if depth > MAX_NESTING:
            raise self.fail(path, f"nesting is deeper than {MAX_NESTING} levels")
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
            return (self.item(value[0], path, depth),)
        return tuple(self.item(v, path + (i,), depth) for i, v in enumerate(value))

    def item(self, value: Any, path: tuple[Any, ...], depth: int) -> Node:
        if isinstance(value, str):
            return self.head(value, None, {}, path, depth)
        if not isinstance(value, dict) or not value:
            raise self.fail(path, f"expected an op, a block or a construct, got {_kind(value)}")
        if len(value) == 1:
            (head, args), = value.items()
            if head != "if" and head not in META_KEYS:   # the common item: one head key alone
                return self.head(str(head), args, _NO_META, path, depth)
        value = dict(value)
        if "if" in value:
            return self.if_node(value, path, depth)
        meta = {k: value.pop(k) for k in META_KEYS if k in value}
        if len(value) != 1:
            keys = ", ".join(map(str, value))
            raise self.fail(path, f"an item has one op or block key (plus `name`, `when`, `frozen`, `inplace`, `list`), got: {keys}")
        (head, args), = value.items()
        return self.head(str(head), args, meta, path, depth)

    def meta(self, meta: dict[str, Any], path: tuple[Any, ...]) -> tuple[str | None, Expr | None]:
        name = meta.get("name")
        if name is not None and (not isinstance(name, str) or not name or any(c.isspace() for c in name)):
            raise self.fail(path + ("name",), f"expected a layer name without spaces, got {name!r}")
        when = meta.get("when")
        if when is None:
            return name, None
        if isinstance(when, bool):
            return name, compile_expr(str(when))
        if not isinstance(when, str):
            raise self.fail(path + ("when",), f"expected a condition, got {_kind(when)}")
        return name, compile_expr(when, self.at(path + ("when",)))

    def head(self, head: str, args: Any, meta: dict[str, Any], path: tuple[Any, ...], depth: int) -> Node:
        name, when = self.meta(meta, path) if meta else (None, None)
        where, hpath = self.at(path), path + (head,)
        if head in JOINS:
            least = 1 if head == "mul" else 2
            if not isinstance(args, list) or len(args) < least:
                raise self.fail(hpath, f"`{head}` takes a list of at least {'one branch' if least == 1 else 'two branches'} "
                                       f"(each a list of items; [] is the identity)")
            branches = tuple(self.body(b, hpath + (i,), depth + 1) for i, b in enumerate(args))
            inplace = meta.get("inplace", True)
            if not isinstance(inplace, bool):
                raise self.fail(path + ("inplace",), f"expected true or false, got {inplace!r}")
            listed = meta.get("list", False)
            if not isinstance(listed, bool):
                raise self.fail(path + ("list",), f"expected true or false, got {listed!r}")
            return JoinNode(where, name, when, head, branches, inplace, listed)
        if meta:
            for key in ("inplace", "list"):
                if key in meta:
                    raise self.fail(path + (key,), f"`{key}` belongs to a join (`add`, `concat`), not to `{head}`")
        if head == "seq":
            return SeqNode(where, name, when, self.body(args, hpath, depth + 1))
        if head == "repeat":
            return self.repeat(args, hpath, where, name, when, depth)
        if head == "table":
            return self.table(args, hpath, where, name, when, depth)
        if head in self.block_names:
            return CallNode(where, name, when, head, self.var_map(args, hpath, f"the arguments of block `{head}`"))
        op = REGISTRY.get(head)
        if op is None:
            known = set(REGISTRY) | self.block_names | set(CONSTRUCTS)
            alias = OP_ALIASES.get(str(head).lower())
            if alias and alias in known:
                raise self.fail(hpath, f"unknown op or block `{head}`: archcalc calls it `{alias}`")
            raise self.fail(hpath, f"unknown op or block `{head}`{did_you_mean(head, known)}")
        if op.arity == "many":
            raise self.fail(hpath, f"`{head}` joins branches: write `{head}: [[...], [...]]`")
        raw_args = args if type(args) is dict else self.mapping(args, hpath, f"the arguments of `{head}`")
        written: tuple[Any, ...] | None = None
        if not meta:   # every argument a whole number, written so before: the same checks pass, the same mapping
            for v in raw_args.values():
                if type(v) is not int:
                    break
            else:
                written = (head, tuple(raw_args.items()))
                known = self.int_args.get(written)
                if known is not None:
                    return OpNode(where, None, None, head, known, False)
        out: dict[str, Raw] = {}
        specs = op.args
        for key, v in raw_args.items():
            if type(v) is int and key in specs and specs[key].kind != "text":
                out[key] = v          # a literal whole number: nothing to compile
                continue
            if key not in specs:
                allowed = ", ".join(op.args) or "no arguments"
                raise self.fail(hpath + (key,), f"`{head}` has no argument `{key}`{did_you_mean(str(key), set(op.args))}; "
                                                 f"it takes: {allowed}")
            if op.args[key].kind == "text" and isinstance(v, str) and v in op.args[key].choices:
                out[key] = v          # a bare choice word (`mode: batch`) is that choice
                continue
            out[key] = self.raw(v, hpath + (key,), text_ok=op.args[key].kind in ("pad", "text"))
        for key in _required(op):
            if key not in out:
                raise self.fail(hpath, f"`{head}` needs `{key}`")
        frozen = meta.get("frozen", False) if meta else False
        if not isinstance(frozen, bool):
            raise self.fail(path + ("frozen",), f"expected true or false, got {frozen!r}")
        key = _literal_key(out)
        if key is not None:   # layers written alike share one argument mapping (and graph.Builder its result)
            out = self.shared.setdefault((head, key), out)
            if written is not None:
                self.int_args[written] = out
        return OpNode(where, name, when, head, out, frozen)

    def repeat(self, args: Any, path: tuple[Any, ...], where: Where, name: str | None, when: Expr | None,
               depth: int) -> RepeatNode:
        a = self.mapping(args, path, "`repeat`")
        _only(a, ("n", "body", "vars", "first", "rest", "index"), path, self)
        if "n" not in a or "body" not in a:
            raise self.fail(path, "`repeat` needs `n` (how many times) and `body` (a list of items)")
        index = a.get("index", "i")
        _check_identifier(index, self.at(path + ("index",)), allow_reserved=index == "i")
        return RepeatNode(where, name, when, self.raw(a["n"], path + ("n",)), self.body(a["body"], path + ("body",), depth + 1),
                          self.var_map(a.get("vars"), path + ("vars",), "`vars`"),
                          self.var_map(a.get("first"), path + ("first",), "`first`"),
                          self.var_map(a.get("rest"), path + ("rest",), "`rest`"), index)

    def table(self, args: Any, path: tuple[Any, ...], where: Where, name: str | None, when: Expr | None,
              depth: int) -> SeqNode:
        """A stage table (MobileNetV2's t, c, n, s): each row sets the columns as vars and repeats
        the body `repeat` times; `first`/`rest` override vars on the first/later repeats."""
        a = self.mapping(args, path, "`table`")
        _only(a, ("columns", "rows", "repeat", "body", "first", "rest"), path, self)
        columns = a.get("columns")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
            raise self.fail(path + ("columns",), "expected a list of column names, e.g. [t, c, n, s]")
        for c in columns:
            _check_identifier(c, self.at(path + ("columns",)))
        count = a.get("repeat")
        if count is not None and count not in columns:
            raise self.fail(path + ("repeat",), f"`repeat` must name a column ({', '.join(columns)}), got {count!r}")
        rows = a.get("rows")
        if not isinstance(rows, list) or not rows:
            raise self.fail(path + ("rows",), "expected a list of rows")
        body = self.body(a.get("body"), path + ("body",), depth + 1)
        first = self.var_map(a.get("first"), path + ("first",), "`first`")
        rest = self.var_map(a.get("rest"), path + ("rest",), "`rest`")
        stages = []
        for r, row in enumerate(rows):
            rpath = path + ("rows", r)
            if not isinstance(row, list) or len(row) != len(columns):
                raise self.fail(rpath, f"expected a row of {len(columns)} values ({', '.join(columns)}), got {_kind(row)}")
            values = {c: self.raw(v, rpath + (j,), text_ok=True) for j, (c, v) in enumerate(zip(columns, row))}
            n = values[count] if count else 1
            stages.append(RepeatNode(self.at(rpath), None, None, n, body, values, first, rest, "i"))
        return SeqNode(where, name, when, tuple(stages))

    def if_node(self, value: dict[str, Any], path: tuple[Any, ...], depth: int) -> IfNode:
        _only(value, ("if", "then", "else", "name"), path, self)
        cond = value["if"]
        if not isinstance(cond, (str, bool)):
            raise self.fail(path + ("if",), f"expected a condition, got {_kind(cond)}")
        expr = compile_expr(cond if isinstance(cond, str) else str(cond), self.at(path + ("if",)))
        return IfNode(self.at(path), value.get("name"), None, expr,
                      self.body(value.get("then"), path + ("then",), depth + 1),
                      self.body(value.get("else"), path + ("else",), depth + 1))


# names other frameworks use for archcalc's ops (PyTorch, Keras, TensorFlow)
OP_ALIASES = {
    "linear": "fc", "dense": "fc", "fully_connected": "fc",
    "layer_norm": "layernorm", "layer_normalization": "layernorm",
    "batchnorm": "bn", "batch_norm": "bn", "batchnorm2d": "bn", "batch_normalization": "bn",
    "conv2d": "conv", "convolution": "conv", "depthwise_conv": "dwconv", "depthwiseconv2d": "dwconv",
    "conv_transpose2d": "conv_transpose", "convtranspose2d": "conv_transpose", "deconv": "conv_transpose",
    "maxpool2d": "maxpool", "max_pool": "maxpool", "max_pool2d": "maxpool", "maxpooling2d": "maxpool",
    "avgpool2d": "avgpool", "avg_pool": "avgpool", "avg_pool2d": "avgpool", "averagepooling2d": "avgpool",
    "global_avg_pool": "gap", "globalaveragepooling2d": "gap", "adaptiveavgpool2d": "adaptive_avgpool",
    "silu": "swish", "hard_swish": "hardswish", "hard_sigmoid": "hardsigmoid", "hsigmoid": "hardsigmoid",
    "hswish": "hardswish", "chunk": "split", "narrow": "select", "center_crop": "crop", "centercrop": "crop",
    "droppath": "stochastic_depth", "drop_path": "stochastic_depth", "stochasticdepth": "stochastic_depth",
    "cat": "concat", "concatenate": "concat", "sum": "add", "multiply": "mul",
}


LITERALS = (int, bool, str, Fraction, type(None))
_NO_META: dict[str, Any] = {}


_REQUIRED: dict[int, tuple[Any, tuple[str, ...]]] = {}   # id(OpDef) -> (that OpDef, its required arguments)


def _required(op: Any) -> tuple[str, ...]:
    entry = _REQUIRED.get(id(op))
    if entry is None or entry[0] is not op:   # an op registered again (a test's stand-in) gets its own entry
        entry = _REQUIRED[id(op)] = (op, tuple(key for key, spec in op.args.items() if spec.required))
    return entry[1]


def _literal_key(args: Mapping[str, Raw]) -> tuple[Any, ...] | None:
    """A hashable key for arguments that are all literals (no expression), types included (true ≠ 1); else None."""
    out = []
    for k, v in args.items():
        if type(v) in LITERALS:
            out.append((k, type(v), v))
        elif type(v) is list and all(type(x) in LITERALS for x in v):
            out.append((k, list, tuple((type(x), x) for x in v)))
        else:
            return None
    return tuple(out)


def _only(a: Mapping[str, Any], allowed: tuple[str, ...], path: tuple[Any, ...], p: _Parser) -> None:
    for key in a:
        if key not in allowed:
            raise p.fail(path + (key,), f"unknown key `{key}`{did_you_mean(str(key), set(allowed))}; expected: {', '.join(allowed)}")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"`{excerpt(value if isinstance(value, str) else str(value))}`"   # a short excerpt: never a whole file


def _check_identifier(name: Any, where: Where, allow_reserved: bool = False) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise SpecError(f"expected a name (letters, digits, _), got {name!r}", where)
    if not allow_reserved and name in RESERVED:
        raise SpecError(f"`{name}` is reserved (it names the current tensor or a constant)", where)


def parse(doc: Document) -> Spec:
    data = doc.data
    p = _Parser(doc, set())
    if not isinstance(data, dict):
        raise p.fail((), f"expected a mapping with `name`, `input` and `body` at the top, got {_kind(data)}")
    _only(data, TOP_KEYS, (), p)
    version = data.get("archcalc", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise p.fail(("archcalc",), f"this file is format {excerpt(version)}; archcalc reads format {FORMAT_VERSION}")
    name = data.get("name") or stem(doc.file)
    if not isinstance(name, str):
        raise p.fail(("name",), "expected a name")
    for key in ("description", "source"):
        if not isinstance(data.get(key, ""), str):
            raise p.fail((key,), "expected text")
    if "body" not in data:
        raise p.fail((), "a spec needs `body`: the list of layers")
    if "input" not in data:
        raise p.fail((), "a spec needs `input`: [C, H, W] or [F]")
    rnd = data.get("round", "exact")
    if rnd not in ("exact", "floor", "ceil"):
        raise p.fail(("round",), f"expected exact, floor or ceil, got {rnd!r}")

    blocks_raw = p.mapping(data.get("blocks"), ("blocks",), "`blocks`")
    for bname in blocks_raw:
        _check_identifier(bname, p.at(("blocks", bname)))
        if bname in REGISTRY or bname in CONSTRUCTS:
            raise p.fail(("blocks", bname), f"block `{bname}` has the name of a built-in op; choose another name")
    p.block_names = set(blocks_raw)
    blocks = {b: _block(p, b, v) for b, v in blocks_raw.items()}

    vars_: dict[str, VarDecl] = {}
    for vname, v in p.mapping(data.get("vars"), ("vars",), "`vars`").items():
        vars_[vname] = _var(p, vname, v)
    if "impl" not in vars_:
        vars_["impl"] = VarDecl("impl", "paper", IMPL_CHOICES, "reference implementation", where=p.at(()))
    presets, preset_docs = {}, {}
    for pname, pv in p.mapping(data.get("presets"), ("presets",), "`presets`").items():
        if isinstance(pv, dict) and "doc" in pv:   # optional one-line description of the preset
            pv = dict(pv)
            line = pv.pop("doc")
            if not isinstance(line, str):
                raise p.fail(("presets", pname, "doc"), f"expected a one-line text, got {_kind(line)}")
            preset_docs[str(pname)] = line
        values = p.var_map(pv, ("presets", pname), f"preset `{pname}`")
        for k in values:
            if k not in vars_:
                raise p.fail(("presets", pname, k), f"preset sets `{k}`, which is not in `vars`{did_you_mean(k, set(vars_))}")
            if vars_[k].choices and isinstance(values[k], Expr) and values[k].text in vars_[k].choices:
                values[k] = values[k].text   # a bare choice word (`impl: torchvision`) is that choice
        presets[str(pname)] = values

    raw_input = data["input"]
    if isinstance(raw_input, (int, str)):
        raw_input = [raw_input]
    if not isinstance(raw_input, list) or len(raw_input) not in (1, 2, 3):
        raise p.fail(("input",), f"expected [C, H, W], [N, D] (tokens) or [F], got {_kind(raw_input)}")
    shape = tuple(p.raw(v, ("input", i)) for i, v in enumerate(raw_input))
    places = {"vars": p.at(("vars",)) if "vars" in data else p.at(()), "input": p.at(("input",)),
              **{f"input[{i}]": p.at(("input", i)) for i in range(len(shape))},
              **{f"presets.{k}": p.at(("presets", k)) for k in presets}}
    metadata = p.mapping(data.get("metadata"), ("metadata",), "`metadata`")
    return Spec(name=name, description=data.get("description", ""), source=data.get("source", ""), file=doc.file,
                vars=vars_, presets=presets, input=shape, blocks=blocks,
                body=p.body(data["body"], ("body",), 0), round=rnd, metadata=metadata, where=p.at(()),
                preset_docs=preset_docs, places=places)


def _var(p: _Parser, name: Any, v: Any) -> VarDecl:
    path = ("vars", name)
    _check_identifier(name, p.at(path))
    if isinstance(v, dict):
        _only(v, ("default", "choices", "doc", "macs_rule", "params_rule", "domain"), path, p)
        domain = v.get("domain", "")
        if domain not in ("", "positive", "nonnegative", "any"):
            raise p.fail(path + ("domain",), f"expected positive, nonnegative or any, got `{excerpt(domain)}`")
        choices = v.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise p.fail(path + ("choices",), "expected a list of names")
        default = v.get("default")
        if choices and default not in choices:
            raise p.fail(path + ("default",), f"default {default!r} is not one of {', '.join(choices)}")
        if not choices:
            default = p.raw(default, path + ("default",))
        rules = {}
        for key in ("macs_rule", "params_rule"):
            if key in v:
                rule = v[key]
                rules[key] = compile_expr(str(rule), p.at(path + (key,)))
                if not rules[key].names <= {name}:
                    raise p.fail(path + (key,), f"a rule may use only `{name}`, not {', '.join(sorted(rules[key].names - {name}))}")
        return VarDecl(name, default, tuple(choices), str(v.get("doc", "")), **rules, where=p.at(path), domain=domain)
    return VarDecl(name, p.raw(v, path), where=p.at(path))


def _block(p: _Parser, name: str, v: Any) -> BlockDef:
    path = ("blocks", name)
    v = p.mapping(v, path, f"block `{name}`")
    _only(v, ("params", "body", "doc"), path, p)
    params_raw = v.get("params") or []
    params: dict[str, Raw] = {}
    if isinstance(params_raw, list):
        for i, q in enumerate(params_raw):
            _check_identifier(q, p.at(path + ("params", i)))
            params[q] = REQUIRED
    elif isinstance(params_raw, dict):
        for q, d in params_raw.items():
            _check_identifier(q, p.at(path + ("params", q)))
            params[q] = REQUIRED if d is None else p.raw(d, path + ("params", q), text_ok=True)
    else:
        raise p.fail(path + ("params",), "expected a list of parameter names or a mapping name: default")
    if "body" not in v:
        raise p.fail(path, f"block `{name}` needs a `body`")
    return BlockDef(name, params, p.body(v["body"], path + ("body",), 1), p.at(path))


def load(path: str | Path, display: str | None = None, cached: bool = False) -> Spec:
    """A spec file; `cached` (built-in specs) reads the loaded document from its cache (archcalc.doccache)."""
    shown = display or str(path)
    try:
        text = read_file(path, shown)
    except FileNotFoundError:
        raise SpecError("no such file", Where(shown)) from None
    with gc_paused():   # an acyclic tree of spec objects: collector passes over it would only cost time
        if cached:
            from . import doccache

            return parse(doccache.load(str(path), text, shown))
        return parse(load_text(text, shown))


def loads(text: str, file: str = "<spec>") -> Spec:
    with gc_paused():
        return parse(load_text(text, file))
