"""Money: what each supply gap puts at risk, and the latest revenue estimate against the financial plan.

The projection (supply step) is the *net* view: every unit of demand not served on time is owed.
Of the units short, a share ``b`` (``backorder_share``) is backordered (the customer waits; delivered
when stock allows) and ``1 - b`` is lost. Per SKU-location and week, from the constrained backlog
``B[t]`` (``B[-1] = 0``)::

    short_new[t] = max(0, B[t] - B[t-1])        demand not served on time in week t
    recovered[t] = max(0, B[t-1] - B[t])        backlog caught up in week t
    shipped[t]   = demand[t] - short_new[t] + b x recovered[t]
    at risk      = (1 - b) x sum short_new  +  b x B[end]        (lost, and still owed at the horizon's end)

so that ``sum shipped = sum demand - at risk`` exactly. Per shortage gap: ``at_risk_qty = (1 - b) x
shortage_qty + b x (backlog at the horizon's end, when the gap is still open then)``;
``revenue_at_risk = at_risk_qty x unit_price``; ``margin_at_risk = at_risk_qty x (unit_price - unit_cost)``.
Summed over the gaps, revenue at risk equals minus the ``supply_shortfall`` of the estimate (up to
shortages smaller than a gap's minimum, which are in the estimate only).

Excess: ``excess_qty`` = the largest amount by which a SKU-location's projection exceeds
``excess_weeks`` of its mean weekly demand over the horizon; ``excess_value = excess_qty x unit_cost``.

Against the financial plan (family x week), the gap is split exactly::

    revenue_estimate - revenue_plan = (demand plan value - revenue_plan)             "plan_value_vs_financial_plan"
                                    + (sensed demand - demand plan) x price          "demand_vs_plan"
                                    + (shipped - sensed demand) x price              "supply_shortfall"
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["estimate_sums", "excess_inventory", "excess_rows", "largest_excess", "loss_factor", "money_at_risk", "plan_vs_estimate", "plan_vs_estimate_of", "rollup_money", "series_blocks", "shipped_qty"]


def loss_factor(open_at_end: pd.Series | np.ndarray, backorder_share: float) -> np.ndarray:
    """What a unit short is worth avoiding, as a share of its margin: ``(1 - b)`` (the lost part) plus
    ``b`` when the gap is still open at the horizon's end (the owed part is not delivered in it)."""
    return (1 - backorder_share) + backorder_share * np.asarray(open_at_end, dtype=float)


def _backlog_at_end(projection: pd.DataFrame) -> pd.Series:
    """Units still owed in the last horizon week, by (sku, location)."""
    last = projection[projection["week"] == projection["week"].max()]
    return last.set_index(["sku", "location"])["constrained_shortage_qty"]


def money_at_risk(gaps: pd.DataFrame, products: pd.DataFrame, projection: pd.DataFrame, backorder_share: float = 0.0) -> pd.DataFrame:
    """The ``financial_impact`` table: one row per shortage gap with the units and money at risk, largest margin first."""
    short = gaps[gaps["kind"] == "shortage"].merge(products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    owed = _backlog_at_end(projection).reindex(pd.MultiIndex.from_frame(short[["sku", "location"]])).fillna(0.0).to_numpy()
    b = backorder_share
    at_risk = (1 - b) * short["shortage_qty"].to_numpy() + b * np.where(short["open_at_horizon_end"], owed, 0.0)
    short = short.assign(
        at_risk_qty=at_risk,
        revenue_at_risk=at_risk * short["unit_price"],
        margin_at_risk=at_risk * (short["unit_price"] - short["unit_cost"]),
    )
    cols = [
        "gap_id", "sku", "location", "family", "first_week", "peak_week", "last_week", "weeks_short", "shortage_qty", "at_risk_qty",
        "peak_shortage_qty", "revenue_at_risk", "margin_at_risk", "cause", "causes", "late_orders", "bottleneck_resources",
        "open_at_horizon_end", "unit_price", "unit_cost",
    ]
    return short[cols].sort_values("margin_at_risk", ascending=False, kind="stable").reset_index(drop=True)


def rollup_money(impact: pd.DataFrame, by: str) -> pd.DataFrame:
    """Revenue and margin at risk summed by ``by`` (family, location, cause, first_week)."""
    return (
        impact.groupby(by, as_index=False)
        .agg(gaps=("sku", "size"), shortage_qty=("shortage_qty", "sum"), revenue_at_risk=("revenue_at_risk", "sum"), margin_at_risk=("margin_at_risk", "sum"))
        .sort_values("margin_at_risk", ascending=False)
        .reset_index(drop=True)
    )


def excess_inventory(projection: pd.DataFrame, products: pd.DataFrame, excess_weeks: float = 12.0) -> pd.DataFrame:
    """SKU-locations holding more than ``excess_weeks`` of demand at some week of the horizon, valued at cost."""
    return largest_excess(excess_rows(projection, products, excess_weeks))


def excess_rows(projection: pd.DataFrame, products: pd.DataFrame, excess_weeks: float = 12.0) -> pd.DataFrame:
    """Per SKU-location of ``projection`` with excess: ``excess_qty = max over weeks of (constrained
    projected on hand - excess_weeks x mean demand)`` and ``excess_value = excess_qty x unit cost``, in
    (sku, location) order; per series, so parts of the projection give parts of the rows."""
    p = projection.assign(_cover=projection.groupby(["sku", "location"], observed=True)["demand_qty"].transform("mean") * excess_weeks)
    p = p.assign(_excess=(p["constrained_projected_on_hand"] - p["_cover"]).clip(lower=0))
    out = p.groupby(["sku", "location"], as_index=False, observed=True)["_excess"].max().rename(columns={"_excess": "excess_qty"})
    out = out[out["excess_qty"] > 0].merge(products[["sku", "family", "unit_cost"]], on="sku", how="left")
    out["excess_value"] = out["excess_qty"] * out["unit_cost"]
    return out.astype({"sku": "str", "location": "str"})


def largest_excess(rows: pd.DataFrame) -> pd.DataFrame:
    """The ``excess_inventory`` table: :func:`excess_rows` (of one or several parts), largest value first
    (ties in SKU, location order)."""
    rows = rows.sort_values(["sku", "location"], kind="stable")
    return rows.sort_values("excess_value", ascending=False, kind="stable").reset_index(drop=True)


def series_blocks(p: pd.DataFrame) -> bool:
    """True when every series is one block of rows over all weeks in order (as the supply step writes
    the projection): then :func:`shipped_qty` needs no sort of a million rows by text keys."""
    weeks = np.sort(p["week"].unique())
    n = len(weeks)
    if n == 0 or len(p) % n:
        return False
    blocks = len(p) // n
    if not (p["week"].to_numpy().reshape(blocks, n) == weeks[None, :]).all():
        return False
    for col in ("sku", "location"):
        keys = p[col].to_numpy().reshape(blocks, n)
        if not (keys == keys[:, :1]).all():
            return False
    return True


def shipped_qty(projection: pd.DataFrame, backorder_share: float = 0.0) -> np.ndarray:
    """``shipped[t] = demand[t] - short_new[t] + b x recovered[t]`` per row of a projection in which every
    series is one block of rows over the same weeks in order, starting in the run week (see the module doc)."""
    backlog = projection["constrained_shortage_qty"].to_numpy()
    # every series starts in the run week (comparing the week is 20x faster than comparing two text keys)
    first = (projection["week"] == projection["week"].min()).to_numpy()
    previous = np.where(first, 0.0, np.roll(backlog, 1))
    short_new = np.clip(backlog - previous, 0, None)
    recovered = np.clip(previous - backlog, 0, None)
    return projection["demand_qty"].to_numpy() - short_new + backorder_share * recovered


ESTIMATE_SUMS = ["revenue_estimate", "margin_estimate", "demand_value", "plan_demand_value", "shipped_qty", "demand_qty"]


def estimate_sums(projection: pd.DataFrame, products: pd.DataFrame, backorder_share: float = 0.0) -> pd.DataFrame:
    """Family x week sums of what the projection ships and is asked for (:data:`ESTIMATE_SUMS`):
    ``revenue_estimate = sum(shipped x price)``, ``margin_estimate = sum(shipped x margin)``,
    ``demand_value = sum(demand x price)``, ``plan_demand_value = sum(plan demand x price)``. Sums over
    series: the sums of parts of the projection add up to the whole's."""
    p = projection.merge(products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")  # keeps the projection's order
    if not series_blocks(p):
        p = p.sort_values(["sku", "location", "week"], kind="stable")
    shipped = shipped_qty(p, backorder_share)
    margin = p["unit_price"] - p["unit_cost"]
    p = p.assign(
        revenue_estimate=shipped * p["unit_price"],
        margin_estimate=shipped * margin,
        demand_value=p["demand_qty"] * p["unit_price"],
        plan_demand_value=p["plan_demand_qty"] * p["unit_price"],
        shipped_qty=shipped,
    )
    return p.groupby(["family", "week"], as_index=False)[ESTIMATE_SUMS].sum()


def plan_vs_estimate(
    projection: pd.DataFrame, products: pd.DataFrame, financial_plan: pd.DataFrame, backorder_share: float = 0.0
) -> pd.DataFrame:
    """Family x week: revenue/margin plan vs estimate, the gap, and the exact split of the revenue gap."""
    return plan_vs_estimate_of(estimate_sums(projection, products, backorder_share), financial_plan)


def plan_vs_estimate_of(sums: pd.DataFrame, financial_plan: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_vs_estimate` from :func:`estimate_sums` (of the whole projection, or of its parts
    concatenated: summed again here) and the financial plan."""
    est = sums.groupby(["family", "week"], as_index=False)[ESTIMATE_SUMS].sum()
    fin = financial_plan[["family", "week", "revenue_plan", "margin_plan"]] if len(financial_plan) else pd.DataFrame(columns=["family", "week", "revenue_plan", "margin_plan"])
    out = est.merge(fin, on=["family", "week"], how="left")
    has_plan = out["revenue_plan"].notna()
    out["revenue_plan"] = out["revenue_plan"].astype(float)
    out["margin_plan"] = out["margin_plan"].astype(float)
    out["gap"] = out["revenue_estimate"] - out["revenue_plan"]
    out["margin_gap"] = out["margin_estimate"] - out["margin_plan"]
    out["plan_value_vs_financial_plan"] = np.where(has_plan, out["plan_demand_value"] - out["revenue_plan"], np.nan)
    out["demand_vs_plan"] = out["demand_value"] - out["plan_demand_value"]
    out["supply_shortfall"] = out["revenue_estimate"] - out["demand_value"]
    cols = [
        "family", "week", "revenue_plan", "revenue_estimate", "gap", "margin_plan", "margin_estimate", "margin_gap",
        "plan_value_vs_financial_plan", "demand_vs_plan", "supply_shortfall", "demand_qty", "shipped_qty",
    ]
    return out[cols].sort_values(["family", "week"]).reset_index(drop=True)
