"""A parsed spec: frozen nodes of a body, var and block declarations, and the Spec that holds them (spec.py
builds them from YAML; graph.py expands them)."""
from __future__ import annotations

from fractions import Fraction

from .errors import Where
from .record import field, record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any, Mapping

    from .expr import Expr

    Raw = Any  # int | Fraction | bool | str | Expr | list | None


@record(slots=True)
class Node:
    where: Where
    name: str | None
    when: Expr | None


@record(slots=True)
class OpNode(Node):
    op: str
    args: Mapping[str, Raw]
    frozen: bool = False      # parameters fixed, not trained (LeNet-5's RBF output units)


@record(slots=True)
class CallNode(Node):
    block: str
    args: Mapping[str, Raw]


@record(slots=True)
class RepeatNode(Node):
    n: Raw
    body: tuple[Node, ...]
    vars: Mapping[str, Raw]
    first: Mapping[str, Raw]
    rest: Mapping[str, Raw]
    index: str


@record(slots=True)
class SeqNode(Node):
    body: tuple[Node, ...]


@record(slots=True)
class IfNode(Node):
    cond: Expr
    then: tuple[Node, ...]
    orelse: tuple[Node, ...]


@record(slots=True)
class JoinNode(Node):
    kind: str
    branches: tuple[tuple[Node, ...], ...]
    inplace: bool = True      # `add` may write into its first branch (`out += identity`); false: `a + b` allocates
    list: bool = False        # `concat` of a Python list of features (DenseNet): the pieces live to the caller's end


@record
class VarDecl:
    name: str
    default: Raw
    choices: tuple[str, ...] = ()
    doc: str = ""
    macs_rule: Expr | None = None    # the paper's predicted cost factor, e.g. alpha**2 (MobileNet)
    params_rule: Expr | None = None
    where: Where = field(default_factory=Where)
    domain: str = ""                 # positive | nonnegative | any; "" infers it from the default (see refuses)

    def refuses(self, value: Any) -> str | None:
        """Why an override is outside the var's domain, or None. Declared with `domain:` (α and ρ are
        `positive`: α = 0 or −1 would build a network silently clamped by its width rules); otherwise
        a var whose default is a number ≥ 0 takes only values ≥ 0 (a width, a count, a dropout rate),
        and one with a negative default (a sentinel such as EfficientNet's φ = −1) takes any value."""
        if isinstance(value, (bool, str)) or not isinstance(value, (int, Fraction)):
            return None
        domain = self.domain
        if not domain and isinstance(self.default, (int, Fraction)) and not isinstance(self.default, bool):
            domain = "nonnegative" if self.default >= 0 else "any"
        if domain == "positive" and value <= 0:
            return f"`{self.name}` must be > 0"
        if domain == "nonnegative" and value < 0:
            return f"`{self.name}` must be ≥ 0"
        return None


@record
class BlockDef:
    name: str
    params: Mapping[str, Raw]       # name -> default (REQUIRED when none)
    body: tuple[Node, ...]
    where: Where


REQUIRED = object()


@record
class Spec:
    name: str
    description: str
    source: str
    file: str
    vars: Mapping[str, VarDecl]
    presets: Mapping[str, Mapping[str, Raw]]
    input: tuple[Raw, ...]
    blocks: Mapping[str, BlockDef]
    body: tuple[Node, ...]
    round: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    where: Where = field(default_factory=Where)
    preset_docs: Mapping[str, str] = field(default_factory=dict)   # presets' optional `doc` lines
    places: Mapping[str, Where] = field(default_factory=dict)      # `vars`, `input`, `input[1]`, `presets.b3`
