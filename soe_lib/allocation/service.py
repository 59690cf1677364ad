"""Actual service: what customers really got, from the order lines already due (``order_history``).

A line due in a week ``w`` (its requested week) is **on time** when shipped by ``w`` and **complete** when all of it
shipped by then; over the last ``k`` weeks before the run week (4 and 13), per customer, product family and
location::

    fill rate = units shipped by their requested week / units requested
    OTIF      = lines complete and on time / lines

A line not shipped at all counts as shipped 0. The figures sit beside the projected ones of ``customer_service``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["WINDOWS", "actual_service"]

WINDOWS = (4, 13)
SERVICE_COLUMNS = {"by": "str", "name": "str", "weeks": "int64", "lines": "int64", "requested_qty": "float64", "on_time_qty": "float64",
                   "fill_rate": "float64", "otif": "float64"}


def actual_service(history: pd.DataFrame, products: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """``actual_service`` (module doc): one row per grouping (customer, family, location) and name, for each window."""
    if history is None or history.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in SERVICE_COLUMNS.items()})
    h = history.assign(sku=history["sku"].astype(str), location=history["location"].astype(str))
    h["customer"] = h["customer"].astype("string").fillna("(none)").astype(str) if "customer" in h else "(none)"
    h["family"] = h["sku"].map(products.assign(sku=products["sku"].astype(str)).set_index("sku")["family"]).fillna("(none)").astype(str)
    due = pd.to_datetime(h["requested_week"])
    shipped_week = pd.to_datetime(h["shipped_week"]) if "shipped_week" in h else pd.Series(pd.NaT, index=h.index)
    shipped = pd.to_numeric(h["shipped_qty"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    on_time = np.where((shipped_week <= due).to_numpy(), np.minimum(shipped, h["qty"].to_numpy(dtype=float)), 0.0)
    h = h.assign(_on_time=on_time, _complete=on_time >= h["qty"].to_numpy(dtype=float) - 1e-9, _due=due)
    frames = []
    for weeks in WINDOWS:
        inside = h[(h["_due"] < run_week) & (h["_due"] >= run_week - pd.Timedelta(weeks=weeks))]
        for by in ("customer", "family", "location"):
            g = inside.groupby(by, as_index=False).agg(lines=("qty", "size"), requested_qty=("qty", "sum"), on_time_qty=("_on_time", "sum"),
                                                      complete=("_complete", "sum"))
            g = g.rename(columns={by: "name"}).assign(by=by, weeks=weeks)
            g["fill_rate"] = np.where(g["requested_qty"] > 0, g["on_time_qty"] / g["requested_qty"].where(g["requested_qty"] > 0, 1.0), 1.0)
            g["otif"] = g["complete"] / g["lines"]
            frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    return out[list(SERVICE_COLUMNS)].astype(SERVICE_COLUMNS)
