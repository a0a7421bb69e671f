"""Every output format lives here: rich tables, JSON, CSV and Markdown, one module per command. The core never formats."""
from __future__ import annotations

from .claims import claims_json, claims_summary, claims_table, coverage_json, coverage_text, explain_text  # noqa: F401
from .common import (  # noqa: F401
    BAR_WIDTH,
    EIGHTHS,
    FORMATS,
    csv_ratio,
    bar,
    branch_inputs,
    dumps,
    grouped,
    human,
    pct,
    plain,
    print_pairs,
    rf_str,
    rf_value,
    shape_str,
    share,
    tsv,
)
from .compare import (  # noqa: F401
    COMPARE_COLUMNS,
    _ratio,
    ratio_str,
    compare_json,
    compare_records,
    compare_render,
    compare_text_rows,
)
from .formula import formula_render  # noqa: F401
from .memory import (  # noqa: F401
    MEMORY_FIELDS,
    MEMORY_NOTES,
    memory_json,
    memory_lines,
    memory_render,
)
from .scale import _pct, _val, scale_records, scale_render  # noqa: F401
from .summary import (  # noqa: F401
    COLUMNS,
    SHARE_COLUMNS,
    View,
    _peak,
    _share_json,
    summary_csv,
    summary_json,
    summary_markdown,
    summary_plain,
    summary_records,
    summary_table,
    totals_lines,
    view_rows,
)
from .verify import verify_all_json, verify_all_table, verify_json, verify_table  # noqa: F401
