"""The meeting pack: the week's decision tables as an Excel workbook, for those who live in Excel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..core.excel import text_cells_as_text
from ..core.weeks import week_labels

__all__ = ["write_meeting_pack"]


def write_meeting_pack(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An .xlsx for those who live in Excel: one sheet per table, weeks as ISO labels, headers frozen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            out = frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).copy()
            for col in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = week_labels(out[col]).astype(object)
            out.to_excel(xw, sheet_name=name[:31], index=False)
            sheet = xw.sheets[name[:31]]
            text_cells_as_text(sheet)  # a code like '=1+2' must not become a formula
            sheet.freeze_panes = "A2"
            for i, col in enumerate(out.columns, 1):
                sheet.cell(row=1, column=i).font = Font(bold=True)
                width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200).tolist()])
                sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
    return path
