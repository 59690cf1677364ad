"""The meeting pack: the week's decision tables as an Excel workbook, for those who live in Excel.

Each sheet has human headers (:func:`soe_lib.core.formats.header`), Excel number formats per column
kind (money ``#,##0``, units ``#,##0``, percentages ``0.0%``; :data:`soe_lib.core.formats.EXCEL_FORMATS`),
weeks as ISO labels, an autofilter, a frozen header row and column widths that fit; text that Excel
would run as a formula stays text (:func:`soe_lib.core.excel.text_cells_as_text`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..core.excel import text_cells_as_text
from ..core.formats import EXCEL_FORMATS, column_kind, header
from ..core.weeks import week_labels

__all__ = ["write_meeting_pack"]


def _kinds(frame: pd.DataFrame) -> list[str]:
    """The Excel format kind per column (units with fractions get one decimal)."""
    kinds = []
    for col in frame.columns:
        kind = column_kind(col, frame[col])
        if kind == "qty":
            values = pd.to_numeric(frame[col], errors="coerce").dropna()
            kind = "qty" if values.empty or (values.round() == values).all() else "qty1"
        kinds.append(kind)
    return kinds


def _format_sheet(sheet, frame: pd.DataFrame, kinds: list[str]) -> None:
    """Number formats, bold frozen header, autofilter and widths of one written sheet."""
    text_cells_as_text(sheet)  # a code like '=1+2' must not become a formula
    sheet.freeze_panes = "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{max(len(frame) + 1, 2)}"
    for i, (col, kind) in enumerate(zip(frame.columns, kinds, strict=True), 1):
        sheet.cell(row=1, column=i).font = Font(bold=True)
        if kind in EXCEL_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, max_row=len(frame) + 1, min_col=i, max_col=i):
                cell.number_format = EXCEL_FORMATS[kind]
        shown = [len(header(col))] + [len(str(v)) for v in frame[col].head(200).tolist()]
        sheet.column_dimensions[get_column_letter(i)].width = min(max(max(shown) + 2, 8), 60)


def write_meeting_pack(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An .xlsx for those who live in Excel: one sheet per table (see the module doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            out = frame.drop(columns=[c for c in frame.columns if str(c).startswith("_")]).copy()
            kinds = _kinds(out)
            for col, kind in zip(out.columns, kinds, strict=True):
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = week_labels(out[col]).astype(object)
                elif kind == "pct" and out[col].dtype == object:
                    out[col] = pd.to_numeric(out[col], errors="coerce")
            out.rename(columns={c: header(c) for c in out.columns}).to_excel(xw, sheet_name=name[:31], index=False)
            _format_sheet(xw.sheets[name[:31]], out, kinds)
    return path
