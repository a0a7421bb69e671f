"""Text widths for the font the diagrams declare (DejaVu Sans, which matplotlib also draws with).

Advance widths in em from DejaVuSans-Bold.ttf (the wider of the regular and bold faces, so a width
measured here is never short; read with matplotlib's ft2font). Characters not in the table count as
1 em, wider than any glyph above (CJK ideographs are 1 em)."""
from __future__ import annotations

FONT_FAMILY = "DejaVu Sans, Verdana, Geneva, sans-serif"

_WIDTHS = {
    " ": 0.348, "!": 0.456, '"': 0.521, "#": 0.838, "$": 0.696, "%": 1.002, "&": 0.872, "'": 0.306, "(": 0.457,
    ")": 0.457, "*": 0.523, "+": 0.838, ",": 0.38, "-": 0.415, ".": 0.38, "/": 0.365, "0": 0.696, "1": 0.696,
    "2": 0.696, "3": 0.696, "4": 0.696, "5": 0.696, "6": 0.696, "7": 0.696, "8": 0.696, "9": 0.696, ":": 0.4,
    ";": 0.4, "<": 0.838, "=": 0.838, ">": 0.838, "?": 0.58, "@": 1.0, "A": 0.774, "B": 0.762, "C": 0.734,
    "D": 0.83, "E": 0.683, "F": 0.683, "G": 0.821, "H": 0.837, "I": 0.372, "J": 0.372, "K": 0.775, "L": 0.637,
    "M": 0.995, "N": 0.837, "O": 0.85, "P": 0.733, "Q": 0.85, "R": 0.77, "S": 0.72, "T": 0.682, "U": 0.812,
    "V": 0.774, "W": 1.103, "X": 0.771, "Y": 0.724, "Z": 0.725, "[": 0.457, "\\": 0.365, "]": 0.457, "^": 0.838,
    "_": 0.5, "`": 0.5, "a": 0.675, "b": 0.716, "c": 0.593, "d": 0.716, "e": 0.678, "f": 0.435, "g": 0.716,
    "h": 0.712, "i": 0.343, "j": 0.343, "k": 0.665, "l": 0.343, "m": 1.042, "n": 0.712, "o": 0.687, "p": 0.716,
    "q": 0.716, "r": 0.493, "s": 0.595, "t": 0.478, "u": 0.712, "v": 0.652, "w": 0.924, "x": 0.645, "y": 0.652,
    "z": 0.582, "{": 0.712, "|": 0.365, "}": 0.712, "~": 0.838, "×": 0.838, "·": 0.38, "…": 1.0, "→": 0.838,
    "⊕": 0.838, "−": 0.838, "≈": 0.838, "φ": 0.782, "α": 0.687, "ρ": 0.716, "²": 0.438, "³": 0.438, "µ": 0.72,
}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in px of `text` at `size` px (bold and regular share the bold table)."""
    return sum(_WIDTHS.get(ch, 1.0) for ch in text) * size
