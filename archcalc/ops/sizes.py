"""Output-size arithmetic (Dumoulin & Visin, "A guide to convolution arithmetic", relations 1-15)."""
from __future__ import annotations

from .. import num
from ..errors import ShapeError

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any


def effective_kernel(k: Any, d: Any) -> Any:
    """A dilated kernel spans d·(k−1)+1 inputs."""
    return d * (k - 1) + 1


def same_padding(n: Any, k_eff: Any, s: Any) -> tuple[Any, Any]:
    """TensorFlow's 'same': output ceil(n/s); total padding max((out−1)·s + k_eff − n, 0), the
    extra pixel going after. (out−1)·s ≥ n − s, so the max is needed only when k_eff < s."""
    out = num.ceil(num.div(n, s))
    total = (out - 1) * s + k_eff - n
    if not (num.is_exact(k_eff) and num.is_exact(s) and k_eff >= s):
        total = num.vmax(total, 0)
    total = num.norm(total)
    before = total // 2 if num.is_exact(total) else num.floor(num.div(total, 2))
    return before, num.norm(total - before)


def same_out(n: Any, s: Any) -> Any:
    """'same' output size ⌈N/S⌉ (TensorFlow's definition, whatever the kernel)."""
    out = num.ceil(num.div(n, s))
    if not num.is_exact(out):
        _require("pos", out)
    return out


def _grows(size: Any) -> bool:
    """A canonical size that increases with the input (its positivity is left to the domain)."""
    from .. import canon

    form = canon.parse(num.to_sympy(size))
    return form is not None and canon.slope(form) > 0


def require_whole(quotient: Any) -> None:
    """A symbolic quotient that must be whole for the network to exist (a size divided into windows):
    recorded where the closed form's domain is decided; a number is checked by its op."""
    if not num.is_exact(quotient):
        _require("int", quotient)


def _require(kind: str, value: Any) -> None:
    from .. import canon

    canon.require(kind, num.to_sympy(value))


def _formula(n: Any, before: Any, after: Any, k_eff: Any, s: Any) -> str:
    pad = f"2·{num.fmt(before)}" if num.fmt(before) == num.fmt(after) else f"{num.fmt(before)} + {num.fmt(after)}"
    return f"({num.fmt(n)} + {pad} − {num.fmt(k_eff)})/{num.fmt(s)} + 1"


def _approx(v: Any) -> str:
    return f" ≈ {num.approx(v)}" if num.is_exact(v) and num.is_integer(v) is False else ""


def conv_out(n: Any, k_eff: Any, s: Any, before: Any, after: Any, mode: str, axis: str,
             ceil_mode: bool = False) -> Any:
    """floor((N + 2P − F)/S) + 1, with `mode` exact (non-integer is an error), floor or ceil.

    ceil_mode (PyTorch pooling): ceil, but the last window must start inside the input or the
    left padding: if (out − 1)·S ≥ N + P_before, drop it.
    """
    q = num.div(n + before + after - k_eff, s)
    if mode == "ideal":  # the papers' sizes: a size-preserving padding gives exactly N/S
        if str(num.norm(before + after)) in (str(num.norm(k_eff - 1)), str(num.norm(k_eff - s))):
            return num.div(n, s)
        return num.norm(q + 1)
    if mode == "exact" and not ceil_mode and num.is_exact(q) and q < 0:   # the real problem, before divisibility
        padded = num.norm(n + before + after)
        raise ShapeError(f"output {axis} {_formula(n, before, after, k_eff, s)} = {num.fmt(num.norm(q + 1))}{_approx(q + 1)}: "
                         f"the kernel ({num.fmt(k_eff)}) is larger than the padded input ({num.fmt(padded)})")
    if ceil_mode:
        out = num.ceil(q) + 1
        if num.is_exact(out):
            if (out - 1) * s >= n + before:
                out -= 1
        elif not (num.is_exact(after) and num.is_exact(before) and num.is_exact(k_eff) and num.is_exact(s)
                  and after + s <= k_eff + before):
            # ⌈q⌉·S < N + P_before + P_after − K + S: no window can start past the input when
            # P_after + S ≤ K + P_before; otherwise the drop rule is min(⌈q⌉ + 1, ⌈(N + P_before)/S⌉)
            out = num.vmin(out, num.ceil(num.div(n + before, s)))
    elif mode == "floor":
        out = num.floor(q) + 1
    elif mode == "ceil":
        out = num.ceil(q) + 1
    else:
        if num.is_integer(q) is False:
            value = num.norm(q + 1)
            raise ShapeError(
                f"output {axis} {_formula(n, before, after, k_eff, s)} = {num.fmt(value)} ≈ {num.approx(value)} "
                f"is not an integer; change padding or stride, or say `round: floor` (PyTorch, Keras 'valid') "
                f"or `round: ceil` explicitly")
        out = num.norm(q + 1)
        if not num.is_exact(q) and num.is_integer(q) is None:
            _require("int", q)
    if not num.is_exact(out):
        _require("pos", out)
    positive = num.is_positive(out) if num.is_exact(out) or not _grows(out) else None
    if positive is False:
        raise ShapeError(f"output {axis} {_formula(n, before, after, k_eff, s)} = {num.fmt(out)} is not positive: "
                         f"the kernel ({num.fmt(k_eff)}) is larger than the padded input")
    return out


def transposed_out(n: Any, k: Any, s: Any, p: Any, d: Any, output_padding: Any) -> Any:
    """(N − 1)·S − 2P + d·(K − 1) + output_padding + 1 (conv_arithmetic relation 14, PyTorch)."""
    out = num.norm((n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1)
    if not num.is_exact(out):
        _require("pos", out)
    if num.is_positive(out) is False:
        raise ShapeError(f"transposed output ({num.fmt(n)} − 1)·{num.fmt(s)} − 2·{num.fmt(p)} + "
                         f"{num.fmt(d)}·({num.fmt(k)} − 1) + {num.fmt(output_padding)} + 1 = {num.fmt(out)} is not positive")
    return out
