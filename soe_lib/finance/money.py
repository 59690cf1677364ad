"""Money: what each supply gap puts at risk, excess stock, and the latest revenue estimate against the
financial plan. Every amount comes from the projection kernel (:mod:`soe_lib.core.kernel`) through the
week's :class:`~.world.World`: this module only sums its per-week money and flows.

Per shortage gap (weeks ``first..last`` of a SKU-location; ``lost``, ``backlog``, ``money`` the
kernel's expected flows and money per week)::

    at_risk_qty     = sum over the gap's weeks of lost + (backlog in the last horizon week, if the gap holds it)
    revenue_at_risk = at_risk_qty x unit_price
    margin_at_risk  = sum over the gap's weeks of money[t]      (lost margin + the delay cost of the waiting units)
    delay_cost      = the delay part of it: delay_cost_share x price x sum of the gap's backlog

For a series valued over demand scenarios (intermittent and lumpy demand), a unit can be lost in a
week where the *average* projection is not short; such a series' gap also takes the weeks after the
previous gap (the last gap: up to the horizon's end), so its gaps hold its whole expected loss.

Excess (``excess_inventory``): the largest amount by which a SKU-location's expected stock exceeds
``excess_weeks`` of its mean weekly demand over the horizon, valued at cost.

Against the financial plan (family x week), with ``shipped`` the kernel's units delivered in the week::

    revenue_estimate - revenue_plan = (demand plan value - revenue_plan)             "plan_value_vs_financial_plan"
                                    + (sensed demand - demand plan) x price          "demand_vs_plan"
                                    + (shipped - sensed demand) x price              "supply_shortfall"

so that ``sum supply_shortfall = -(revenue at risk of every series)`` over the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.matrix import column_at
from ..core.outputs import OUTPUTS
from .world import World

__all__ = ["estimate_sums", "excess_rows", "largest_excess", "money_at_risk", "plan_vs_estimate", "plan_vs_estimate_of", "rollup_money"]

IMPACT_COLUMNS = OUTPUTS["financial_impact"].names  # the contract's order (soe_lib/core/outputs.py)


def _windows(w: World, short: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(rows, (G, T) mask of the weeks each gap holds): its own weeks; for a series with demand
    scenarios, also the weeks since its previous gap and, for its last gap, up to the horizon's end."""
    rows = w.rows(short["sku"].astype(str), short["location"].astype(str))
    first = w.position_at(short["first_week"])
    last = w.position_at(short["last_week"])
    uncertain = np.isin(rows, w.spread.rows)
    if uncertain.any():
        order = np.lexsort((first, rows))
        prev_last = np.full(len(rows), -1)
        same = np.r_[False, rows[order][1:] == rows[order][:-1]]
        prev_last[order[same]] = last[order][np.flatnonzero(same) - 1]
        is_last = np.ones(len(rows), dtype=bool)
        is_last[order[:-1][rows[order][:-1] == rows[order][1:]]] = False
        first = np.where(uncertain, prev_last + 1, first)
        last = np.where(uncertain & is_last, len(w.weeks) - 1, last)
    t = np.arange(len(w.weeks))[None, :]
    return rows, (t >= first[:, None]) & (t <= last[:, None])


def money_at_risk(gaps: pd.DataFrame, products: pd.DataFrame, world: World) -> pd.DataFrame:
    """The ``financial_impact`` table: one row per shortage gap with the units and money at risk (see the
    module doc), largest margin first."""
    short = gaps[gaps["kind"] == "shortage"].merge(products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    f, m = world.money()
    rows, inside = _windows(world, short)
    if len(short) and (rows < 0).any():
        raise KeyError("a gap's SKU-location is not in the projection")
    owed = np.where(inside[:, -1], f.backlog[rows, -1], 0.0) if len(short) else np.zeros(0)  # the gap holds the last week
    lost = (f.lost[rows] * inside).sum(axis=1)
    delay = world.policy.delay_cost_share * world.price[rows] * (f.backlog[rows] * inside).sum(axis=1)
    short = short.assign(
        lost_qty=lost, owed_at_end_qty=owed, at_risk_qty=lost + owed, revenue_at_risk=(lost + owed) * world.price[rows],
        margin_at_risk=(m.per_week[rows] * inside).sum(axis=1), delay_cost=delay,
    )
    return short[IMPACT_COLUMNS].sort_values("margin_at_risk", ascending=False, kind="stable").reset_index(drop=True)


def rollup_money(impact: pd.DataFrame, by: str) -> pd.DataFrame:
    """Revenue and margin at risk summed by ``by`` (family, location, cause, first_week)."""
    return (
        impact.groupby(by, as_index=False)
        .agg(gaps=("sku", "size"), shortage_qty=("shortage_qty", "sum"), revenue_at_risk=("revenue_at_risk", "sum"), margin_at_risk=("margin_at_risk", "sum"))
        .sort_values("margin_at_risk", ascending=False)
        .reset_index(drop=True)
    )


def excess_rows(world: World, products: pd.DataFrame, excess_weeks: float = 12.0) -> pd.DataFrame:
    """Per SKU-location of ``world`` with excess: ``excess_qty = max over weeks of (expected stock -
    excess_weeks x mean demand)`` and ``excess_value = excess_qty x unit cost``, in (sku, location)
    order; per series, so parts of the week give parts of the rows."""
    f, _ = world.money()
    cover = np.nan_to_num(world.demand).mean(axis=1) * excess_weeks if world.demand.shape[1] else np.zeros(len(world.keys))
    excess = np.clip(f.stock - cover[:, None], 0, None).max(axis=1, initial=0.0)
    out = world.keys.assign(excess_qty=excess)
    out = out[out["excess_qty"] > 0].merge(products[["sku", "family", "unit_cost"]].astype({"sku": str}), on="sku", how="left")
    out["excess_value"] = out["excess_qty"] * out["unit_cost"]
    return out.sort_values(["sku", "location"], kind="stable").reset_index(drop=True)[["sku", "location", "excess_qty", "family", "unit_cost", "excess_value"]]


def largest_excess(rows: pd.DataFrame) -> pd.DataFrame:
    """The ``excess_inventory`` table: :func:`excess_rows` (of one or several parts), largest value first
    (ties in SKU, location order)."""
    rows = rows.sort_values(["sku", "location"], kind="stable")
    return rows.sort_values("excess_value", ascending=False, kind="stable").reset_index(drop=True)


ESTIMATE_SUMS = ["revenue_estimate", "margin_estimate", "demand_value", "plan_demand_value", "shipped_qty", "demand_qty"]


def estimate_sums(world: World, products: pd.DataFrame) -> pd.DataFrame:
    """Family x week sums of what the kernel ships and what is asked for (:data:`ESTIMATE_SUMS`):
    ``revenue_estimate = sum(shipped x price)``, ``margin_estimate = sum(shipped x margin)``,
    ``demand_value = sum(demand x price)``, ``plan_demand_value = sum(plan demand x price)``. Sums over
    series: the sums of parts of the week add up to the whole's."""
    f, _ = world.money()
    # -1: no family (no product row): left out of the sums
    code, families = pd.factorize(column_at(products, "family", world.product), sort=True)
    n, t = f.shipped.shape
    keep = code >= 0
    # each (family, week) a cell, summed with bincount: a family x week grouping of 1.3M rows took 0.8 s a part at 1M
    cell = (code[:, None] * t + np.arange(t)[None, :])[keep].ravel()
    price, margin = world.price[:, None], world.margin[:, None]
    values = {"revenue_estimate": f.shipped * price, "margin_estimate": f.shipped * margin, "demand_value": f.demand * price,
              "plan_demand_value": np.nan_to_num(world.plan_demand) * price, "shipped_qty": f.shipped, "demand_qty": f.demand}
    sums = {name: np.bincount(cell, weights=v[keep].ravel(), minlength=len(families) * t) for name, v in values.items()}
    return pd.DataFrame({"family": np.repeat(np.asarray(families, dtype=object), t), "week": np.tile(world.weeks.to_numpy(), len(families)), **sums})


def plan_vs_estimate(world: World, products: pd.DataFrame, financial_plan: pd.DataFrame) -> pd.DataFrame:
    """Family x week: revenue/margin plan vs estimate, the gap, and the exact split of the revenue gap."""
    return plan_vs_estimate_of(estimate_sums(world, products), financial_plan)


def plan_vs_estimate_of(sums: pd.DataFrame, financial_plan: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_vs_estimate` from :func:`estimate_sums` (of the whole week, or of its parts
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
