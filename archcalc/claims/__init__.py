"""Slide arithmetic as checks: claim files, the one reading rule, verdicts, coverage of the documents.

Modules: `stated` (printed values and their precision), `model` (claims, tables, files), `load`
(claim files → validated claims), `compute` (what a claim computes), `verdict` (comparison, surprises,
whole runs), `coverage` (number-bearing lines of a document and the claims that cite them).
"""
from __future__ import annotations

from .compute import CACHE_SIZE, Evaluator, SpecMissing
from .coverage import Coverage, coverage, has_number, read_document
from .load import load, parse, stated_of
from .model import (
                    EXPECTED_MISMATCH,
                    MATCH,
                    MISMATCH,
                    PENDING,
                    ROUNDING,
                    UNDECIDABLE,
                    VERDICTS,
                    Claim,
                    ClaimFile,
                    Justification,
                    Table,
                    cited_lines,
)
from .stated import Quantity, Reading, Stated, parse_number, parse_stated
from .verdict import (
                    Report,
                    Result,
                    builtin_files,
                    check,
                    compare,
                    evaluate,
                    find,
                    load_files,
                    run,
                    show,
                    verify_quotes,
)

__all__ = ["CACHE_SIZE", "EXPECTED_MISMATCH", "MATCH", "MISMATCH", "PENDING", "ROUNDING", "UNDECIDABLE", "VERDICTS",
           "Claim", "ClaimFile", "Coverage", "Evaluator", "Justification", "Quantity", "Reading", "Report", "Result",
           "SpecMissing", "Stated", "Table", "builtin_files", "check", "cited_lines", "compare", "coverage", "evaluate",
           "find", "has_number", "load", "load_files", "parse", "parse_number", "parse_stated", "read_document", "run",
           "show", "stated_of", "verify_quotes"]
