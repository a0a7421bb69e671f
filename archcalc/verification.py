"""The shape/params cross-check (`archcalc verify`): the NumPy forward pass (`numeric.forward`) run on a
network, each layer's real output shape compared with the symbolic one and the size of its weight arrays
with the counted params + buffers."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import num
from .errors import ArchcalcError
from .graph import Network, build
from .numeric import forward
from .record import record

__all__ = ["LayerCheck", "SpecCheck", "Verification", "verify", "verify_many", "verify_name"]


@record
class LayerCheck:
    name: str
    op: str
    expected: tuple[int, ...]
    actual: tuple[int, ...]
    params: int               # params + buffers counted symbolically
    weights: int              # elements of the arrays the forward pass created

    @property
    def shape_ok(self) -> bool:
        return self.expected == self.actual

    @property
    def params_ok(self) -> bool:
        return self.params == self.weights

    @property
    def ok(self) -> bool:
        return self.shape_ok and self.params_ok


@record
class Verification:
    name: str
    network: Network
    batch: int
    seed: int
    layers: tuple[LayerCheck, ...]
    output_expected: tuple[int, ...]
    output_actual: tuple[int, ...]
    forward_seconds: float

    @property
    def failures(self) -> tuple[LayerCheck, ...]:
        return tuple(c for c in self.layers if not c.ok)

    @property
    def ok(self) -> bool:
        return not self.failures and self.output_expected == self.output_actual


def verify(network: Network, batch: int = 1, seed: int = 0, keep: bool = False, name: str | None = None,
           init: str = "tiled") -> Verification:
    """Run the forward pass and compare every layer's real shape and weight count with the symbolic ones."""
    result = forward(network, batch=batch, seed=seed, keep=keep, init=init)
    checks = tuple(LayerCheck(la.name, la.kind, tuple(la.output), result.shapes[la.name],
                              int(num.norm(la.params + la.buffers)), result.weight_sizes[la.name])
                   for la in network.layers)
    return Verification(name or network.spec.name, network, batch, seed, checks, tuple(network.output),
                        tuple(int(v) for v in result.output.shape[1:]), result.seconds)


@record
class SpecCheck:
    """One row of `verify --all`: a verification, or the error that stopped the spec from building or running."""

    name: str
    verification: Verification | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.verification is not None and self.verification.ok


def verify_name(name: str, vars: Mapping[str, Any] | None = None, input: tuple[Any, ...] | None = None,
                batch: int = 1, seed: int = 0, keep: bool = False) -> Verification:
    """Build a built-in name or YAML path (with `vars` and `input`) and verify it."""
    from .analysis import load_spec

    spec, preset = load_spec(name)
    net = build(spec, vars, input, preset)
    return verify(net, batch, seed, keep, name=preset or spec.name)


def verify_many(names: list[str], batch: int = 1, seed: int = 0) -> Iterator[SpecCheck]:
    """Verify each name in turn with bounded memory (keep=False). A spec that fails to build or run is a failed
    row carrying its error message (specs may be mid-edit), never an exception."""
    for name in names:
        try:
            yield SpecCheck(name, verify_name(name, batch=batch, seed=seed))
        except Exception as e:  # noqa: BLE001 - any failure of one spec is that spec's row
            yield SpecCheck(name, None, f"{type(e).__name__}: {e}" if not isinstance(e, ArchcalcError) else str(e))
