"""Excel safety: text that Excel would run as a formula stays text.

A code such as ``=1+2`` or ``@SUM(A1)`` written into a cell as a formula runs when the workbook is
opened (formula injection). Every workbook the workbench writes passes its sheets through
:func:`text_cells_as_text`: text beginning with ``= + - @`` is stored as a text cell with Excel's
quote prefix (shown as typed, kept as text when edited). Numbers are untouched.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "text_cells_as_text"]

FORMULA_STARTS = ("=", "+", "-", "@")


def text_cells_as_text(sheet: Any) -> int:
    """Mark every text cell of an openpyxl worksheet that begins like a formula as text; returns how many."""
    changed = 0
    for row in sheet.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                cell.data_type = "s"
                cell.quotePrefix = True
                changed += 1
    return changed
