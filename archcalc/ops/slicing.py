"""Parts of a tensor: channel lists and ranges (select, split) and a centre crop."""
from __future__ import annotations

from fractions import Fraction

from .. import num
from ..errors import ShapeError
from . import Args, ArgSpec, OpResult, Shape, register, spatial

TYPE_CHECKING = False   # typing is not imported at run time: start-up (see cli/quick.py)
if TYPE_CHECKING:
    from typing import Any


@register("select", {"channels": ArgSpec("list"), "start": ArgSpec("int"), "stop": ArgSpec("int")})
def select(inputs: list[Shape], a: Args) -> OpResult:
    """Keep some input channels, either listed (LeNet-5's partial C3 connections) or the range
    [start, stop) (a slice, as torch `x[:, start:stop]`; stop defaults to C): no parameters."""
    c = inputs[0][0]
    if a.has("channels"):
        if a.has("start") or a.has("stop"):
            raise a.error("channels", "give either `channels` (a list) or `start`/`stop` (a range), not both")
        raw = a.value("channels")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise a.error("channels", "expected a non-empty list of channel indices")
        chosen = tuple(a._check_int("channels", a._eval("channels", v), 0) for v in raw)
        if num.is_exact(c) and any(i >= c for i in chosen):
            raise ShapeError(f"select: channel {max(chosen)} does not exist in a {c}-channel input")
        return OpResult(output=(len(chosen),) + tuple(inputs[0][1:]), attrs={"channels": chosen})
    if not (a.has("start") or a.has("stop")):
        raise a.error("channels", "`select` needs `channels` (a list) or `start`/`stop` (a channel range)")
    start = a.int("start", 0) if a.has("start") else 0
    stop = a.int("stop", 1) if a.has("stop") else c
    return _range(inputs[0], start, stop, "select")


def _range(shape: Shape, start: Any, stop: Any, op: str) -> OpResult:
    c = shape[0]
    if num.is_exact(start) and num.is_exact(stop) and stop <= start:
        raise ShapeError(f"{op}: the channel range [{num.fmt(start)}, {num.fmt(stop)}) is empty")
    if num.is_exact(c) and num.is_exact(stop) and stop > c:
        raise ShapeError(f"{op}: the channel range ends at {num.fmt(stop)} but the input has {num.fmt(c)} channels")
    return OpResult(output=(num.norm(stop - start),) + tuple(shape[1:]), attrs={"start": start, "stop": stop})


@register("split", {"chunks": ArgSpec("int", required=True), "index": ArgSpec("int", required=True)})
def split(inputs: list[Shape], a: Args) -> OpResult:
    """Part `index` of `torch.chunk(x, chunks, dim=1)`: chunks of ceil(C/chunks) channels, the
    last one shorter (ShuffleNetV2's `x.chunk(2, dim=1)`); no parameters."""
    c = inputs[0][0]
    chunks, index = a.int("chunks"), a.int("index", 0)
    size = num.ceil(num.div(c, chunks))
    start = num.norm(index * size)
    stop = num.vmin(num.norm(start + size), c)
    if num.is_exact(start) and num.is_exact(c) and start >= c:
        count = num.ceil(num.div(c, size))
        raise ShapeError(f"split: torch.chunk of {num.fmt(c)} channels into {num.fmt(chunks)} gives {num.fmt(count)} "
                         f"chunks of {num.fmt(size)}; there is no chunk {num.fmt(index)}")
    return _range(inputs[0], start, stop, "split")


def centre_offset(size: Any, crop: Any) -> Any:
    """torchvision.transforms.functional.center_crop: top = int(round((H − h) / 2.0)), Python's
    round (halves to even)."""
    if num.is_exact(size) and num.is_exact(crop):
        return round(Fraction(size - crop, 2))
    return num.floor(num.div(size - crop, 2))


@register("crop", {"size": ArgSpec("pair", required=True)})
def crop(inputs: list[Shape], a: Args) -> OpResult:
    """Centre crop to size h×w (U-Net's skip connections): a view, no parameters. The receptive
    field keeps its size and jump; its centre moves by the offset (top, left)."""
    c, h, w = spatial(inputs[0], "crop")
    ch, cw = a.pair("size")
    for axis, (n, k) in (("height", (h, ch)), ("width", (w, cw))):
        if num.is_exact(n) and num.is_exact(k) and k > n:
            raise ShapeError(f"crop: the {axis} {num.fmt(k)} is larger than the input's {num.fmt(n)}")
    top, left = centre_offset(h, ch), centre_offset(w, cw)
    # an RF step with kernel 1, stride 1 and padding −offset: start' = start + offset·jump
    return OpResult(output=(c, ch, cw), rf=((1, 1, num.norm(-top)), (1, 1, num.norm(-left))),
                    attrs={"size": (ch, cw), "top": top, "left": left})
