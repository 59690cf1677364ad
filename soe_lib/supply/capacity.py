"""Production capacity: load per resource-week from the production receipts, and what capacity allows.

For resource r and week t (production receipts at their current ETA, routings give hours per unit)::

    load_hours[r, t]   = sum(qty x hours_per_unit) over the production lines of r due in week t
    load_pct[r, t]     = load_hours / available_hours
    factor[r, t]       = min(1, available_hours / load_hours)       (1 when not overloaded)

A production line is scaled by the smallest factor over the resources its routing uses in its week:
``constrained_qty = qty x factor``; ``qty - constrained_qty`` is production at risk (not carried to later
weeks: the plan must decide where it goes). A resource with no capacity rows is unlimited.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["capacity_load", "constrain_production"]


def _production(supply: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    prod = supply[supply["kind"].eq("production").fillna(False).to_numpy()]
    lines = prod.reset_index().rename(columns={"index": "line"})
    return lines.merge(routings[["sku", "location", "resource", "hours_per_unit"]], on=["sku", "location"], how="inner")


def capacity_load(supply: pd.DataFrame, routings: pd.DataFrame, capacity: pd.DataFrame, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per resource and horizon week: load_hours, available_hours, load_pct, overloaded, factor."""
    cols = ["resource", "week", "load_hours", "available_hours", "load_pct", "overloaded", "factor", "lines"]
    if routings.empty or capacity.empty:
        return pd.DataFrame(columns=cols)
    routed = _production(supply, routings)
    routed = routed[routed["eta_week"].isin(weeks)]
    routed = routed.assign(hours=routed["qty"] * routed["hours_per_unit"])
    load = routed.groupby(["resource", "eta_week"], as_index=False).agg(load_hours=("hours", "sum"), lines=("line", "nunique"))
    load = load.rename(columns={"eta_week": "week"})
    grid = pd.MultiIndex.from_product([sorted(capacity["resource"].unique()), weeks], names=["resource", "week"]).to_frame(index=False)
    out = grid.merge(capacity[["resource", "week", "available_hours"]], on=["resource", "week"], how="left")
    out = out.merge(load, on=["resource", "week"], how="left")
    out["load_hours"] = out["load_hours"].fillna(0.0)
    out["lines"] = out["lines"].fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["load_pct"] = np.where(out["available_hours"] > 0, out["load_hours"] / out["available_hours"], np.where(out["load_hours"] > 0, np.inf, 0.0))
        out.loc[out["available_hours"].isna(), "load_pct"] = np.nan
        factor = np.where(out["load_hours"] > out["available_hours"], out["available_hours"] / out["load_hours"], 1.0)
    out["factor"] = np.where(out["available_hours"].isna(), 1.0, factor)  # no capacity row for that week: unlimited
    out["overloaded"] = out["factor"] < 1.0
    return out[cols]


def constrain_production(supply: pd.DataFrame, routings: pd.DataFrame, load: pd.DataFrame) -> pd.DataFrame:
    """Per supply line: ``constrained_qty`` (what capacity allows), ``at_risk_qty`` and the ``bottleneck`` resource."""
    out = pd.DataFrame({"constrained_qty": supply["qty"].to_numpy(dtype=float), "bottleneck": pd.Series([None] * len(supply), dtype="str")}, index=supply.index)
    if load.empty:
        out["at_risk_qty"] = 0.0
        return out
    routed = _production(supply, routings).merge(
        load[["resource", "week", "factor"]], left_on=["resource", "eta_week"], right_on=["resource", "week"], how="left"
    )
    routed["factor"] = routed["factor"].fillna(1.0)
    worst = routed.sort_values("factor").drop_duplicates("line")  # the tightest resource of each line
    worst = worst[worst["factor"] < 1.0]
    out.loc[worst["line"].to_numpy(), "constrained_qty"] = (worst["qty"] * worst["factor"]).to_numpy()
    out.loc[worst["line"].to_numpy(), "bottleneck"] = worst["resource"].to_numpy()
    out["at_risk_qty"] = supply["qty"].to_numpy(dtype=float) - out["constrained_qty"]
    return out
