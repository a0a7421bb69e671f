"""Architecture diagrams drawn from a spec's own nesting: layout once, then SVG, PNG/PDF, DOT or Mermaid."""
from __future__ import annotations

from .structure import Group, Join, Leaf, Seq, Traced, trace

__all__ = ["Group", "Join", "Leaf", "Seq", "Traced", "trace"]
