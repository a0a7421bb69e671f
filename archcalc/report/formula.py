"""formula: closed forms as text, LaTeX or JSON."""
from __future__ import annotations

from typing import Any

from .common import dumps, plain


# ---------------------------------------------------------------- formula
def formula_render(f: Any, fmt: str) -> str:
    import sympy

    if fmt == "json":
        return dumps({"name": f.name, "symbols": f.symbols, "ideal": f.ideal, "notes": f.notes,
                      "formulas": {k: (plain(v) if not isinstance(v, list) else [str(x) for x in v]) for k, v in f.items()},
                      "latex": {k: (sympy.latex(v) if not isinstance(v, list) else [sympy.latex(x) for x in v])
                                for k, v in f.items()}})
    lines = [f"{f.name} in {', '.join(f.symbols)}"]
    for key, value in f.items():
        if isinstance(value, list):
            text = " × ".join(sympy.latex(x) if fmt == "latex" else str(x) for x in value)
        elif fmt == "latex":
            text = sympy.latex(value)
        else:
            text = sympy.pretty(value, use_unicode=True, wrap_line=False)
        if "\n" in text:
            lines.append(f"{key} =")
            lines += ["    " + line for line in text.splitlines()]
        else:
            lines.append(f"{key} = {text}")
    lines += [f"note: {n}" for n in f.notes]
    return "\n".join(lines) + "\n"
