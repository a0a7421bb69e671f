"""archcalc.record against its model, the standard library's dataclasses: the same classes declared both ways
must construct, print, compare, hash, refuse assignment and copy alike."""
from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from archcalc.record import FrozenRecordError, field, fields, record, replace


@record(slots=True)
class Base:
    where: str
    name: str | None


@record(slots=True)
class Child(Base):
    op: str
    args: dict = field(default_factory=dict)
    frozen: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class DBase:
    where: str
    name: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class DChild(DBase):
    op: str
    args: dict = dataclasses.field(default_factory=dict)
    frozen: bool = False


@record
class Hidden:
    text: str
    run: object = field(repr=False, compare=False, default=None)
    size: int = field(default=1, compare=False)


@record(frozen=False)
class Counter:
    counts: list = field(default_factory=list)
    total: int = 0


def test_fields_and_constructor_follow_dataclasses() -> None:
    assert fields(Child) == tuple(f.name for f in dataclasses.fields(DChild)) == ("where", "name", "op", "args",
                                                                                  "frozen")
    for args, kwargs in [(("f:1", "a", "conv"), {}), (("f:1",), {"name": None, "op": "relu", "frozen": True}),
                         (("f:1", "n", "fc", {"c": 3}), {})]:
        r, d = Child(*args, **kwargs), DChild(*args, **kwargs)
        assert repr(r) == repr(d).replace("DChild", "Child")
        assert [getattr(r, n) for n in fields(r)] == [getattr(d, f.name) for f in dataclasses.fields(d)]
    with pytest.raises(TypeError):
        Child("f:1", "a")          # `op` is required, as for the dataclass
    with pytest.raises(TypeError):
        DChild("f:1", "a")


def test_default_factory_gives_each_instance_its_own_value() -> None:
    a, b = Child("w", None, "x"), Child("w", None, "x")
    assert a.args == {} and a.args is not b.args
    c, d = Counter(), Counter()
    c.counts.append(1)
    assert d.counts == []


def test_equality_and_hash_by_value_and_class() -> None:
    a, b = Child("w", "n", "conv", {"k": 3}.copy()), Child("w", "n", "conv", {"k": 3})
    assert a == b and a != Child("w", "n", "fc", {"k": 3})
    assert Base("w", "n") != Child("w", "n", "conv")           # same leading fields, another class
    assert hash(Base("w", "n")) == hash(Base("w", "n")) == hash(DBase("w", "n"))  # both hash the field tuple
    with pytest.raises(TypeError):
        hash(a)                                                  # a dict field is unhashable, as for dataclasses
    assert Hidden("t", run=print, size=3) == Hidden("t", run=len, size=9)   # compare=False fields are ignored
    assert hash(Hidden("t", size=3)) == hash(Hidden("t", size=4))
    assert repr(Hidden("t", run=print)) == "Hidden(text='t', size=1)"
    assert Counter.__hash__ is None and Counter([1]) == Counter([1], 0)


def test_frozen_refuses_assignment_and_deletion() -> None:
    a = Child("w", None, "conv")
    with pytest.raises(FrozenRecordError):
        a.op = "fc"                # type: ignore[misc]
    with pytest.raises(FrozenRecordError):
        del a.op                   # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.other = 1                # type: ignore[attr-defined]   # slots: no new attributes either
    assert isinstance(FrozenRecordError(), AttributeError)
    c = Counter()
    c.total = 3
    assert c.total == 3


def test_slots_and_class_defaults() -> None:
    assert Child.__slots__ == ("op", "args", "frozen") and not hasattr(Child("w", None, "x"), "__dict__")
    assert Hidden.size == 1 and "run" in vars(Hidden) and vars(Hidden)["run"] is None   # no Field left behind


def test_replace_copy_and_pickle() -> None:
    a = Child("w", "n", "conv", {"k": 3})
    b = replace(a, op="fc")
    assert (b.op, b.args, b.where) == ("fc", {"k": 3}, "w") and a.op == "conv"
    with pytest.raises(TypeError):
        replace(a, nope=1)
    assert copy.copy(a) == a and copy.deepcopy(a) == a
    assert pickle.loads(pickle.dumps(a)) == a


def test_own_methods_win_and_order_of_defaults_is_checked() -> None:
    @record
    class Shown:
        x: int

        def __repr__(self) -> str:
            return f"<{self.x}>"

    assert repr(Shown(2)) == "<2>"
    with pytest.raises(TypeError, match="without a default follows"):
        @record
        class Bad:
            x: int = 0
            y: int


def test_a_plain_subclass_builds_through_the_generic_path() -> None:
    """A frozen slotted record's own class sets its slots through their descriptors; a plain subclass that
    inherits the constructor goes through object.__setattr__ (its own descriptors first), as dataclasses do."""

    class Sub(Child):
        __slots__ = ()

    class DSub(DChild):
        __slots__ = ()

    class Shown(Child):
        __slots__ = ()

        @property
        def op(self) -> str:   # a read-only property over a field: assigning it fails in both
            return "shown"

    class DShown(DChild):
        __slots__ = ()

        @property
        def op(self) -> str:
            return "shown"

    r, d = Sub("f:1", "a", "conv"), DSub("f:1", "a", "conv")
    assert type(r) is Sub and [getattr(r, n) for n in fields(r)] == ["f:1", "a", "conv", {}, False]
    assert repr(r) == repr(d).replace("DSub", "Sub")
    with pytest.raises(AttributeError):
        DShown("f:1", "a", "conv")
    with pytest.raises(AttributeError):
        Shown("f:1", "a", "conv")


def test_a_slotted_record_over_a_base_without_slots() -> None:
    """A field of a base without slots has no slot descriptor: it is set through object.__setattr__ (into the
    instance __dict__), the others through their slots."""

    @record
    class Loose:
        a: int

    @record(slots=True)
    class Tight(Loose):
        b: int = 2

    r = Tight(1)
    assert (r.a, r.b) == (1, 2) and vars(r) == {"a": 1} and Tight.__slots__ == ("b",)
    assert r == Tight(1) and hash(r) == hash(Tight(1)) and repr(r) == "Tight(a=1, b=2)"
    with pytest.raises(FrozenRecordError):
        r.a = 3   # type: ignore[misc]


@pytest.mark.parametrize("after", [0, 10_000])   # compiled from the first instance, or never in this test
def test_generic_and_compiled_constructors_agree(after: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import archcalc.record as R

    monkeypatch.setattr(R, "COMPILE_AFTER", after)

    @record(slots=True)
    class Item(Base):
        op: str
        args: dict = field(default_factory=dict)
        frozen: bool = False

    made = [Item("w", "n", "conv"), Item("w", None, op="fc", frozen=True), Item(where="w", name="n", op="x",
                                                                                  args={"k": 1})]
    assert [(i.where, i.name, i.op, i.args, i.frozen) for i in made] == [
        ("w", "n", "conv", {}, False), ("w", None, "fc", {}, True), ("w", "n", "x", {"k": 1}, False)]
    assert made[0].args is not Item("w", "n", "conv").args
    for bad_args, bad_kwargs in [(("w",), {}), (("w", "n", "op", {}, False, 9), {}), (("w", "n", "op"), {"nope": 1}),
                                 (("w", "n", "op"), {"op": "again"})]:
        with pytest.raises(TypeError):
            Item(*bad_args, **bad_kwargs)
    compiled = "<record" in Item.__init__.__code__.co_filename
    assert compiled == (after == 0)
    with pytest.raises(FrozenRecordError):
        made[0].op = "y"    # type: ignore[misc]


def test_a_busy_record_compiles_its_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    import archcalc.record as R

    monkeypatch.setattr(R, "COMPILE_AFTER", 3)

    @record(frozen=False)
    class Count:
        n: int
        seen: list = field(default_factory=list)

    generic = Count.__init__
    items = [Count(i) for i in range(6)]
    assert Count.__init__ is not generic and Count.__init__.__qualname__.endswith("Count.__init__")
    assert [c.n for c in items] == list(range(6)) and all(c.seen == [] for c in items)
