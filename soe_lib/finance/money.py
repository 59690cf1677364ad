"""Money: what each supply gap puts at risk, and the latest revenue estimate against the financial plan.

Per shortage gap (units = ``shortage_qty``, the demand not served on time over the gap)::

    revenue_at_risk = shortage_qty x unit_price
    margin_at_risk  = shortage_qty x (unit_price - unit_cost)

Excess: ``excess_qty`` = the largest amount by which a SKU-location's projection exceeds
``excess_weeks`` of its mean weekly demand over the horizon; ``excess_value = excess_qty x unit_cost``.

Latest estimate (per SKU-location and week, from the capacity-constrained projection)::

    shipped[t] = demand[t] + backlog[t-1] - backlog[t]      (what can ship: demand met, or backlog caught up)
    revenue_estimate = sum(shipped x unit_price); margin_estimate = sum(shipped x (unit_price - unit_cost))

Against the financial plan (family x week), the gap is split exactly::

    revenue_estimate - revenue_plan = (demand plan value - revenue_plan)             "plan_value_vs_financial_plan"
                                    + (sensed demand - demand plan) x price          "demand_vs_plan"
                                    + (shipped - sensed demand) x price              "supply_shortfall"
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["excess_inventory", "money_at_risk", "plan_vs_estimate", "rollup_money"]


def money_at_risk(gaps: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The ``financial_impact`` table: one row per shortage gap with its revenue and margin at risk, largest margin first."""
    short = gaps[gaps["kind"] == "shortage"].merge(products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    short = short.assign(
        revenue_at_risk=short["shortage_qty"] * short["unit_price"],
        margin_at_risk=short["shortage_qty"] * (short["unit_price"] - short["unit_cost"]),
    )
    cols = [
        "gap_id", "sku", "location", "family", "first_week", "peak_week", "last_week", "weeks_short", "shortage_qty",
        "peak_shortage_qty", "revenue_at_risk", "margin_at_risk", "cause", "causes", "late_orders", "bottleneck_resources",
        "unit_price", "unit_cost",
    ]
    return short[cols].sort_values("margin_at_risk", ascending=False).reset_index(drop=True)


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
    p = projection.assign(_cover=projection.groupby(["sku", "location"])["demand_qty"].transform("mean") * excess_weeks)
    p = p.assign(_excess=(p["constrained_projected_on_hand"] - p["_cover"]).clip(lower=0))
    out = p.groupby(["sku", "location"], as_index=False)["_excess"].max().rename(columns={"_excess": "excess_qty"})
    out = out[out["excess_qty"] > 0].merge(products[["sku", "family", "unit_cost"]], on="sku", how="left")
    out["excess_value"] = out["excess_qty"] * out["unit_cost"]
    return out.sort_values("excess_value", ascending=False).reset_index(drop=True)


def plan_vs_estimate(
    projection: pd.DataFrame, products: pd.DataFrame, financial_plan: pd.DataFrame
) -> pd.DataFrame:
    """Family x week: revenue/margin plan vs estimate, the gap, and the exact split of the revenue gap."""
    p = projection.merge(products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    p = p.sort_values(["sku", "location", "week"])
    backlog = p["constrained_shortage_qty"].to_numpy()
    first = (p[["sku", "location"]] != p[["sku", "location"]].shift()).any(axis=1).to_numpy()
    previous = np.where(first, 0.0, np.roll(backlog, 1))
    shipped = p["demand_qty"].to_numpy() + previous - backlog
    margin = p["unit_price"] - p["unit_cost"]
    p = p.assign(
        revenue_estimate=shipped * p["unit_price"],
        margin_estimate=shipped * margin,
        demand_value=p["demand_qty"] * p["unit_price"],
        plan_demand_value=p["plan_demand_qty"] * p["unit_price"],
        shipped_qty=shipped,
    )
    est = p.groupby(["family", "week"], as_index=False)[
        ["revenue_estimate", "margin_estimate", "demand_value", "plan_demand_value", "shipped_qty", "demand_qty"]
    ].sum()
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
