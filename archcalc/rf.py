"""Receptive fields, after Araujo et al. (Distill 2019): size r' = r + (k_eff − 1)·j, jump j' = j·s,
start s' = s + ((k_eff − 1)/2 − p)·j; joins take the largest field over their branches."""
from __future__ import annotations

import functools
from fractions import Fraction

from . import num
from .record import record

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any

    from .ops import Shape


@record(slots=True)
class RF:
    size: tuple[Any, Any] = (1, 1)
    jump: tuple[Any, Any] = (1, 1)
    start: tuple[Any, Any] = (0, 0)  # centre of the first output's field, in input pixels

    def step(self, steps: Any, shape: Shape) -> "RF":
        if steps is None or self.size[0] == GLOBAL:
            return self
        if steps == "global":
            if len(shape) != 3:
                return self
            if not all(num.is_exact(x) for x in (*shape[1:], *self.size, *self.jump, *self.start)):
                return RF((GLOBAL, GLOBAL), self.jump, (GLOBAL, GLOBAL))  # the whole (symbolic) input
            sizes = tuple(num.norm(self.size[a] + (shape[1 + a] - 1) * self.jump[a]) for a in range(2))
            starts = tuple(num.norm(self.start[a] + num.div((shape[1 + a] - 1) * self.jump[a], 2)) for a in range(2))
            return RF(sizes, self.jump, starts)  # type: ignore[arg-type]
        if type(steps) is tuple and len(steps) == 2 and type(self.size[0]) is int:
            fast = self._step_ints(steps)
            if fast is not None:
                return fast
        size, jump, start = [], [], []
        for a, (k, s, p) in enumerate(steps):
            size.append(num.norm(self.size[a] + (k - 1) * self.jump[a]))
            known = self.start[a] is not None and num.is_exact(p) and num.is_exact(self.jump[a])
            # a 'same' padding of a symbolic size depends on the size mod the stride: start unknown
            start.append(num.norm(self.start[a] + (num.div(k - 1, 2) - p) * self.jump[a]) if known else None)
            jump.append(num.norm(self.jump[a] * s))
        return RF(tuple(size), tuple(jump), tuple(start))  # type: ignore[arg-type]

    def _step_ints(self, steps: Any) -> "RF | None":
        """`step` when every number is a Python int (concrete sizes): the same values, without the generic
        arithmetic; a 1×1, stride-1, unpadded window leaves the field itself (shared, not copied)."""
        (k0, s0, p0), (k1, s1, p1) = steps
        (r0, r1), (j0, j1), (a0, a1) = self.size, self.jump, self.start
        if type(k0) is not int or type(s0) is not int or type(p0) is not int or type(k1) is not int \
                or type(s1) is not int or type(p1) is not int or type(r1) is not int or type(j0) is not int \
                or type(j1) is not int or type(a0) is not int or type(a1) is not int:
            return None
        if k0 == k1 == 1 and s0 == s1 == 1 and p0 == p1 == 0:
            return self
        d0, d1 = (k0 - 1 - 2 * p0) * j0, (k1 - 1 - 2 * p1) * j1   # start' = start + ((k − 1)/2 − p)·j
        return RF((r0 + (k0 - 1) * j0, r1 + (k1 - 1) * j1), (j0 * s0, j1 * s1),
                  (a0 + d0 // 2 if d0 % 2 == 0 else Fraction(2 * a0 + d0, 2),
                   a1 + d1 // 2 if d1 % 2 == 0 else Fraction(2 * a1 + d1, 2)))

    @staticmethod
    def merge(fields: list["RF"]) -> "RF":
        if num.PROBE is None:
            fast = RF._merge_exact(fields)
            if fast is not None:
                return fast
        if any(f.size[0] == GLOBAL for f in fields):
            return next(f for f in fields if f.size[0] == GLOBAL)
        return RF(tuple(functools.reduce(num.vmax, [f.size[a] for f in fields]) for a in range(2)),  # type: ignore[arg-type]
                  tuple(functools.reduce(num.vmax, [f.jump[a] for f in fields]) for a in range(2)),
                  tuple(None if any(f.start[a] is None for f in fields)
                        else functools.reduce(num.vmin, [f.start[a] for f in fields]) for a in range(2)))

    @staticmethod
    def _merge_exact(fields: list[RF]) -> RF | None:
        """`merge` when every number is an int or a Fraction: the same values (the first of equal ones, as
        `max` and `min` keep), without the generic arithmetic; None otherwise."""
        (r0, r1), (j0, j1), (a0, a1) = fields[0].size, fields[0].jump, fields[0].start
        for x in (r0, r1, j0, j1, a0, a1):
            if type(x) is not int and type(x) is not Fraction:
                return None
        for f in fields[1:]:
            (x0, x1), (y0, y1), (z0, z1) = f.size, f.jump, f.start
            for x in (x0, x1, y0, y1, z0, z1):
                if type(x) is not int and type(x) is not Fraction:
                    return None
            r0, r1, j0, j1, a0, a1 = max(r0, x0), max(r1, x1), max(j0, y0), max(j1, y1), min(a0, z0), min(a1, z1)
        return RF((r0, r1), (j0, j1), (a0, a1))



GLOBAL = "global"  # a receptive field that covers the whole input of symbolic size
