"""Inbound delays: how late each open supply line is, and how suppliers and supply kinds perform.

``delay_weeks = (eta_week - week) / 7`` per line (``eta_week`` blank = on time); on time when
``delay_weeks <= 0``; ``firm`` unless the supply's ``firm`` column says it is a planned order. By supplier and by kind: lines, units, on-time share (by lines),
average and worst delay, late units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.weeks import weeks_between

__all__ = ["LINE_COLUMNS", "delay_summary", "delay_sums", "line_delays"]

LINE_COLUMNS = ["order_id", "sku", "location", "week", "eta_week", "qty", "supplier", "kind"]
LOGISTICS_COLUMNS = ["mode", "origin", "destination", "carrier", "ship_week", "status"]  # optional in supply: blank without them


def line_delays(supply: pd.DataFrame, line_ids: np.ndarray | None = None) -> pd.DataFrame:
    """One row per supply line: ``line_id`` (its position in the input: ``line_ids`` when ``supply`` is a
    part of it), the contract's columns, ``delay_weeks`` and ``late``."""
    out = supply[LINE_COLUMNS].copy()
    out.insert(0, "line_id", np.arange(len(out)) if line_ids is None else np.asarray(line_ids, dtype=np.int64))
    for column in LOGISTICS_COLUMNS:
        values = supply[column] if column in supply else pd.Series(pd.NaT if column == "ship_week" else None, index=supply.index)
        out[column] = values.astype("datetime64[ns]") if column == "ship_week" else values.astype("string").str.lower() if column in ("mode", "status") else values.astype("string")
    out["delay_weeks"] = weeks_between(supply["eta_week"], supply["week"])
    out["late"] = out["delay_weeks"] > 0
    planned = supply["firm"].astype("string").str.lower().isin(["no", "false", "0", "planned"]) if "firm" in supply else False
    out["firm"] = ~np.asarray(planned, dtype=bool) if "firm" in supply else True  # blank: a confirmed order
    return out


def delay_sums(lines: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per ``by`` (supplier or kind; blank: "(none)") the sums :func:`delay_summary` reads: lines, qty,
    late_lines, late_qty, the sum and count of known delays, the worst delay. Sums of parts of the lines add
    up to the sums of all of them, so parts of the series give their own and the run adds them."""
    key = lines[by].fillna("(none)").replace("", "(none)")
    frame = lines.assign(_key=key, _late_qty=np.where(lines["late"], lines["qty"], 0.0), _known=lines["delay_weeks"].notna())
    out = frame.groupby("_key", as_index=False, observed=True).agg(
        lines=("qty", "size"),
        qty=("qty", "sum"),
        late_lines=("late", "sum"),
        delay_sum=("delay_weeks", "sum"),
        delay_n=("_known", "sum"),
        max_delay_weeks=("delay_weeks", "max"),
        late_qty=("_late_qty", "sum"),
    )
    return out.rename(columns={"_key": by})


def delay_summary(sums: pd.DataFrame, by: str) -> pd.DataFrame:
    """Performance by ``by`` from :func:`delay_sums` (of all lines, or stacked sums of parts): lines, qty,
    late_lines, ``avg_delay_weeks = delay_sum / delay_n``, worst delay, late_qty,
    ``on_time_share = 1 - late_lines / lines``; the least on time first."""
    out = sums.groupby(by, as_index=False).agg(
        lines=("lines", "sum"), qty=("qty", "sum"), late_lines=("late_lines", "sum"), delay_sum=("delay_sum", "sum"),
        delay_n=("delay_n", "sum"), max_delay_weeks=("max_delay_weeks", "max"), late_qty=("late_qty", "sum"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["avg_delay_weeks"] = out["delay_sum"] / out["delay_n"].where(out["delay_n"] > 0)
    out["on_time_share"] = 1 - out["late_lines"] / out["lines"]
    out = out[[by, "lines", "qty", "late_lines", "avg_delay_weeks", "max_delay_weeks", "late_qty", "on_time_share"]]
    return out.sort_values(["on_time_share", "late_qty"], ascending=[True, False]).reset_index(drop=True)
