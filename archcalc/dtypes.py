"""Element types and their widths in bytes (a module of its own: the CLI's options need it at start-up)."""
from __future__ import annotations

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
