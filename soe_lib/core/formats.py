"""One way to show a number, used by the notebooks, the review app and the exports.

A column's **kind** follows from its name (the output contract's names are regular) and its type:

| kind | columns | shown as | Excel |
|---|---|---|---|
| ``week`` | datetimes, ``week``, ``*_week`` | ``2026-W48`` | text |
| ``pct`` | wape, accuracy, bias, fill rates, ``*_share``, ``*_pct``, utilization, weights | ``33.5%`` | ``0.0%`` |
| ``price`` | ``unit_price``, ``unit_cost``, ``*_per_unit``, ``price`` | ``3.78`` | ``#,##0.00`` |
| ``money`` | revenue, margin, cost, benefit, money, value, price, amount, gap, estimate, shortfall | ``12,345`` | ``#,##0`` |
| ``qty`` | ``*_qty``, ``qty``, units, on hand, safety stock, items, counts | ``1,234`` (``1,234.5`` when not whole) | ``#,##0`` / ``#,##0.0`` |
| ``hours`` | ``*_hours`` | ``1,234.5`` | ``#,##0.0`` |
| ``number`` | any other number | ``1,234.56`` | ``#,##0.00`` |

Money is in the currency of ``products.unit_price`` (the data has one currency; the ``currency``
parameter names it). Headers are made human from the names (``money_at_risk`` -> "Money at risk",
``sku`` -> "SKU"); code columns (kind, action, track...) are shown in the words of the label catalogue
(:mod:`soe_lib.core.labels`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .labels import labelled
from .weeks import week_labels

__all__ = ["EXCEL_FORMATS", "PY_FORMATS", "column_kind", "format_value", "formatted", "header", "headers", "side_by_side", "styled"]

PCT = re.compile(r"(^|[_ ])(wape|accuracy|bias|fill_rate|fill rate|share|pct|utilization|w_stat|rate)($|[_ ])")
MONEY = re.compile(r"(^|[_ ])(revenue|margin|cost|benefit|money|value|price|amount|gap|estimate|shortfall|demand_vs_plan|plan_value_vs_financial_plan)($|[_ ])")
PRICE = re.compile(r"(^unit_price$|^unit_cost$|_per_unit$|^price$|_price$)")
QTY = re.compile(r"(_qty$|^qty$|^rank$|^on_hand$|^safety_stock$|^items$|^actions$|^worked$|^series$|^lines$|^late_lines$|^gaps$|^rows$|^weeks$|^weeks_short$|units|_gaps$|_items$|_actions$|_lines$|^lines_moved$|^sku_locations$)")
EXCEL_FORMATS = {"pct": "0.0%", "price": "#,##0.00", "money": "#,##0", "qty": "#,##0", "qty1": "#,##0.0", "hours": "#,##0.0", "number": "#,##0.00"}
HEADERS = {
    "sku": "SKU", "qty": "Units", "w_stat": "Statistical weight", "wape": "WAPE", "mase": "MASE", "fva": "FVA", "eta_week": "ETA week",
    "item_id": "Item id", "gap_id": "Gap id", "kind": "Kind", "rank": "#", "abc_class": "ABC", "pct": "%", "ts": "TS",
    "eta_p50_week": "Predicted week (P50)", "eta_p90_week": "Predicted week (P90)", "p50_delay_weeks": "Delay P50 (weeks)",
    "p90_delay_weeks": "Delay P90 (weeks)", "mean_delay_weeks": "Mean delay (weeks)", "slip_weeks": "Later than stated (weeks)",
    "basis": "Lane deliveries behind it", "trend_weeks": "Trend (weeks)", "evidence": "Recency-weighted deliveries",
    "weight": "Lane's own share", "shrunk_mean_delay_weeks": "Shrunk mean delay (weeks)", "shrunk_p50_delay_weeks": "Shrunk P50 (weeks)",
    "shrunk_p90_delay_weeks": "Shrunk P90 (weeks)",
    "shortage_gaps": "Shortage gaps", "units_short": "Units short", "decision_items": "Decision items", "plan_actions": "Actions in the joint plan",
    "plan_net_benefit": "Joint plan's net benefit", "plan_cost": "Joint plan's cost", "lines_moved": "Inbound lines moved", "units_moved": "Units on them",
    "extra_shortage_qty": "Units short beyond stated ETAs", "slipping_lines": "Slipping lines", "slipping_qty": "Slipping units",
    "sku_locations": "SKU-locations", "atp_qty": "Available to promise (units)", "ctp_qty": "Capable to promise (units)",
}


def column_kind(name: str, values: pd.Series | None = None) -> str:
    """The kind of a column (see the module doc): week, pct, money, qty, hours, number or text."""
    n = str(name).lower()
    if n == "week" or n.endswith("_week") or (values is not None and pd.api.types.is_datetime64_any_dtype(values)):
        return "week"
    if values is not None and (pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values)):
        return "text"
    if n.endswith("_hours"):
        return "hours"
    if QTY.search(n) or (values is not None and pd.api.types.is_integer_dtype(values)):
        return "qty"  # whole numbers (ranks, counts, ids) are never shown with decimals
    if PCT.search(n):
        return "pct"
    if PRICE.search(n):
        return "price"  # a unit price of 3.78 is not 4
    if MONEY.search(n):
        return "money"
    return "number"


def _qty_kind(values: pd.Series) -> str:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return "qty" if len(v) == 0 or np.allclose(v, np.round(v)) else "qty1"


PY_FORMATS = {"pct": "{:.1%}", "price": "{:,.2f}", "money": "{:,.0f}", "qty": "{:,.0f}", "qty1": "{:,.1f}", "hours": "{:,.1f}", "number": "{:,.2f}"}


def format_value(value, kind: str) -> str:
    """One value as text in its kind's format; blank for a missing value."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if kind == "week":
        return week_labels(pd.Series([pd.Timestamp(value)])).iloc[0] if not isinstance(value, str) else value
    if kind in PY_FORMATS:
        try:
            return PY_FORMATS[kind].format(float(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _yes_no(values: pd.Series) -> pd.Series:
    """A flag as people read it: Yes / No (blank where missing), never True / False."""
    return values.map({True: "Yes", False: "No"}).astype(object).where(values.notna(), "")


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    kinds = {c: column_kind(c, frame[c]) for c in frame.columns}
    return {c: (_qty_kind(frame[c]) if k == "qty" else k) for c, k in kinds.items()}


def formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as display text in its kind's format (for HTML tables and the app); codes in words."""
    frame = labelled(frame)
    out = pd.DataFrame(index=frame.index)
    for col, kind in _kinds(frame).items():
        values = frame[col]
        if kind == "week":
            out[col] = week_labels(values).astype(object).where(values.notna(), "") if pd.api.types.is_datetime64_any_dtype(values) else values.fillna("").astype(str)
        elif pd.api.types.is_bool_dtype(values):
            out[col] = _yes_no(values)
        elif kind == "text":
            out[col] = values.astype(object).where(values.notna(), "").astype(str)
        else:
            out[col] = [format_value(v, kind) for v in values.to_numpy()]  # display rows only (a table a person reads)
    return out


def header(name: str) -> str:
    """A human header: ``money_at_risk`` -> "Money at risk"; known codes keep their capitals."""
    if name in HEADERS:
        return HEADERS[name]
    words = str(name).replace("_", " ").strip()
    words = re.sub(r"\bqty\b", "units", words)
    words = re.sub(r"\bpct\b", "%", words)
    return words[:1].upper() + words[1:] if words else words


def headers(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with human headers."""
    return frame.rename(columns={c: header(c) for c in frame.columns})


def styled(frame: pd.DataFrame, rows: int | None = 200):
    """A pandas Styler for notebooks: formats per column kind, ISO weeks, human headers, no index.
    Long tables show their first ``rows`` rows (the caption says how many there are)."""
    shown = labelled(frame.head(rows) if rows is not None else frame)
    default_index = isinstance(shown.index, pd.RangeIndex) and shown.index.name is None
    shown = shown if default_index else shown.reset_index()
    kinds = _kinds(shown)
    view = shown.copy()
    for col, kind in kinds.items():
        if kind == "week" and pd.api.types.is_datetime64_any_dtype(view[col]):
            view[col] = week_labels(view[col]).astype(object).where(view[col].notna(), "")
        elif pd.api.types.is_bool_dtype(view[col]):
            view[col] = _yes_no(view[col])
    view = headers(view.reset_index(drop=True))  # a meaningful index (a group) became columns above
    fmt = {header(c): PY_FORMATS[k] for c, k in kinds.items() if k in PY_FORMATS and header(c) in view.columns}
    # escape="html": a supplier, SKU or order id typed as markup is shown as text in the notebook and its HTML copy
    styler = view.style.format(fmt, na_rep="", escape="html").hide(axis="index")
    styler = styler.format_index(escape="html", axis=1)
    if rows is not None and len(frame) > rows:
        styler = styler.set_caption(f"First {rows:,} of {len(frame):,} rows (all of them in the run's tables)")
    return styler


def side_by_side(frame: pd.DataFrame, measures: list[str] | tuple[str, ...], column: str, kind: str = "kind", currency: str = "") -> pd.DataFrame:
    """Rows of ``frame`` (a base, changes, a total: ``frame[kind]`` is ``level`` or ``change``) turned into columns named
    by ``frame[column]``, one row per measure in words; each value in its measure's format, a change signed, money
    with ``currency`` (a scenario against its week, in the app and on the command line)."""
    out = {"measure": [header(m) for m in measures]}
    for _, row in frame.iterrows():
        cells = []
        for m in measures:
            k = column_kind(m)
            text = format_value(row[m], "qty" if k == "qty" else k)
            if row[kind] == "change" and isinstance(row[m], int | float) and row[m] >= 0 and text:
                text = "+" + text
            cells.append(f"{currency} {text}".strip() if k == "money" and text else text)
        out[str(row[column])] = cells
    return pd.DataFrame(out)
