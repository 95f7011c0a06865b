"""Reading a kernel's number grid (``st.data_editor``): which cells changed, and which values are refused.

Shared by every kernel editor (the Layer stack's, and the Playground's).
"""

from __future__ import annotations

import math

GRID_LIMIT = 1e30  # a typed weight must be a finite number within ±GRID_LIMIT


def grid_edits(state: dict | None) -> tuple[list[tuple[int, int, float]], list[str]]:
    """The cells a number grid changed, from its session value ``{"edited_rows": {row: {column: value}}}``.

    Returns:
        (edits, refused): ``(row, column, value)`` for every accepted cell, and ``"w[row,column] = value"``
        for every cell that is not a finite number within ±GRID_LIMIT (its old value stays).
    """
    edits, refused = [], []
    for row, cols in (state or {}).get("edited_rows", {}).items():
        for col, v in cols.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                fv = math.nan
            if not math.isfinite(fv) or abs(fv) > GRID_LIMIT:
                refused.append(f"w[{row},{col}] = {v}")
            else:
                edits.append((int(row), int(col), fv))
    return edits, refused


def refused_text(refused: list[str]) -> str:
    """What to tell the person about refused cells."""
    return (
        f"kept the old value for {', '.join(refused)}: a weight must be a finite number between "
        f"−{GRID_LIMIT:g} and {GRID_LIMIT:g}"
    )
