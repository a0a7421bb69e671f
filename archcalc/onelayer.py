"""One convolution layer worked out with its numbers, as a student writes it on paper."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import num
from .ops.sizes import effective_kernel, same_padding
from .record import field, record


@record(frozen=False)
class OneLayer:
    inputs: dict[str, Any]
    size_formula: str
    size_numbers: str
    exact: Any
    output: int | None
    params: int | None = None
    params_formula: str = ""
    macs: int | None = None
    macs_formula: str = ""
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def lines(self) -> list[str]:
        out = [f"Output size = {self.size_formula}", f"            = {self.size_numbers}"]
        if isinstance(self.exact, Fraction):
            out[-1] += f" = {num.fmt(self.exact)} ≈ {float(self.exact):.4g}"
        if self.output is not None:
            out[-1] += f" → {self.output}" if isinstance(self.exact, Fraction) else f" = {self.output}"
        if self.params is not None:
            out.append(f"Params      = {self.params_formula} = {self.params:,}")
        if self.macs is not None:
            out.append(f"MACs        = {self.macs_formula} = {self.macs:,}")
        return out + [f"Note: {n}" for n in self.notes]

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "formula": self.size_formula, "with_numbers": self.size_numbers,
                "exact": self.exact, "output": self.output, "params": self.params, "macs": self.macs,
                "notes": self.notes, "error": self.error}


def compute(n: int, f: int, s: int = 1, p: int | str = 0, d: int = 1, groups: int = 1, output_padding: int = 0,
            c_in: int | None = None, c_out: int | None = None, bias: bool = True, transposed: bool = False,
            rounding: str = "exact") -> OneLayer:
    inputs = dict(n=n, f=f, s=s, p=p, d=d, groups=groups, c_in=c_in, c_out=c_out, bias=bias, transposed=transposed)
    k_eff = effective_kernel(f, d)
    kf = "F" if d == 1 else "d·(F − 1) + 1"
    kn = str(f) if d == 1 else f"{d}·({f} − 1) + 1"
    if transposed:
        if p == "same":
            return OneLayer(inputs, "", "", None, None, error="--p same is not defined for a transposed convolution")
        out = (n - 1) * s - 2 * p + d * (f - 1) + output_padding + 1
        res = OneLayer(inputs, "(N − 1)·S − 2P + d·(F − 1) + output_padding + 1",
                       f"({n} − 1)·{s} − 2·{p} + {d}·({f} − 1) + {output_padding} + 1", out, out)
        if output_padding >= s and output_padding >= d:   # the same rule as the spec op (PyTorch's ConvTranspose)
            res.output, res.error = None, f"output_padding {output_padding} must be smaller than the stride ({s}) or the dilation ({d})"
            return res
        if out < 1:
            res.output, res.error = None, (f"the output size {res.size_numbers} = {out} is not positive: "
                                           f"the padding removes more than the layer produces")
            return res
        spatial_out, positions_in = out, n * n
    else:
        if p == "same":
            before, after = same_padding(n, k_eff, s)
            res_notes = [f"'same' pads {before} before and {after} after (TensorFlow), so the output is ⌈N/S⌉"]
            pad_text, pad_total = f"{before} + {after}", before + after
        else:
            res_notes, pad_text, pad_total = [], f"2·{p}", 2 * p
        q = Fraction(n + pad_total - k_eff, s)
        exact = num.norm(q + 1)
        formula = f"(N + 2P − {kf})/S + 1"
        numbers = f"({n} + {pad_text} − {kn})/{s} + 1"
        res = OneLayer(inputs, formula, numbers, exact, None, notes=res_notes)
        if q.denominator != 1:
            floor_v, ceil_v = int(q // 1) + 1, -int(-q // 1) + 1
            if p == "same":  # padding clipped at 0 (kernel smaller than stride): the size floors to ⌈N/S⌉
                res.output = floor_v
            elif rounding == "floor":
                res.output = floor_v
                res.notes.append("floor mode (PyTorch, Keras 'valid'): the last partial window is dropped")
            elif rounding == "ceil":
                res.output = ceil_v
                res.notes.append("ceil mode: a last partial window is kept (PyTorch ceil_mode also drops one "
                                 "that would start in the right padding)")
            else:
                res.error = (f"the output size {numbers} = {num.fmt(exact)} ≈ {float(exact):.4g} is not an integer: "
                             f"this stride does not fit the input (floor mode gives {floor_v}, ceil mode {ceil_v}; "
                             f"choose with --round)")
                res.notes.append("the filter does not tile the padded input evenly")
                return res
        else:
            res.output = int(exact)
        if res.output < 1:
            res.error = f"the output size {numbers} = {res.output} is not positive: the kernel is larger than the padded input"
            return res
        spatial_out, positions_in = res.output, None
    if c_in is not None and c_out is not None:
        if c_in % groups or c_out % groups:
            res.error = f"groups={groups} must divide both C_in={c_in} and C_out={c_out}"
            return res
        per = f * f * (c_in // groups) * c_out if not transposed else f * f * c_in * (c_out // groups)
        g = "" if groups == 1 else f"/{groups}"
        res.params = per + (c_out if bias else 0)
        res.params_formula = (f"F·F·C_in{g}·C_out" + (" + C_out" if bias else "") + " = " +
                              f"{f}·{f}·{c_in}{g}·{c_out}" + (f" + {c_out}" if bias else ""))
        if transposed:
            res.macs = per * positions_in
            res.macs_formula = f"F·F·C_in·C_out{g}·N·N = {f}·{f}·{c_in}·{c_out}{g}·{n}·{n}"
        else:
            res.macs = per * spatial_out * spatial_out
            res.macs_formula = f"F·F·C_in{g}·C_out·out·out = {f}·{f}·{c_in}{g}·{c_out}·{spatial_out}·{spatial_out}"
    return res
