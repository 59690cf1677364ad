"""The decision list the weekly meeting works through.

Every exception of the week becomes a candidate item with money at stake:

| kind | money at stake |
|---|---|
| supply gap (shortage) | margin at risk of the gap |
| capacity overload (resource-week) | margin of the production it puts at risk |
| storage overflow (location-week) | overflow units x ``overflow_cost_per_unit`` |
| spike, drop, sensed vs plan | forward deviation: abs(sensed - plan) over the next 4 weeks x (price - cost) |
| persistent bias, drifting plan | abs(bias) x plan over the next 4 weeks x (price - cost) |

Demand exceptions are valued on what they mean *from now on*, not on past error, so they compete
fairly with the supply gaps for the meeting's attention.

``urgency = urgency_decay ^ (weeks until it starts)`` (this week = 1), ``score = money x urgency``.
Items are ranked by score and **capped at the alert budget** (default 25: what a meeting can resolve);
the rest is summarised by kind, with its count and money, so nothing is silently dropped.
Each supply gap carries its best countermeasure (rank 1); other kinds carry the standard first move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.weeks import week_labels, weeks_between

__all__ = ["FIRST_MOVE", "cap_to_budget", "capacity_items", "decision_items", "demand_items", "gap_items", "storage_items"]

FIRST_MOVE = {
    "capacity overload": "overtime or move production to another week / resource",
    "storage overflow": "delay receipts or transfer stock out",
    "spike": "confirm with sales; check supply for the next weeks",
    "drop": "confirm with sales; slow down inbound supply",
    "persistent_bias": "correct the plan at the next S&OP",
    "tracking_signal": "review the plan's trend at the next S&OP",
    "sensed_vs_plan": "align the near-term plan with sensed demand",
}
DEMAND_KINDS = ("spike", "drop", "persistent_bias", "tracking_signal", "sensed_vs_plan")
COLUMNS = [
    "kind", "sku", "location", "resource", "week", "severity", "money_at_risk", "urgency", "score", "cause",
    "best_action", "action_qty", "action_cost", "action_net_benefit", "detail",
]


def _urgency(week: pd.Series, run_week: pd.Timestamp, decay: float) -> np.ndarray:
    ahead = weeks_between(pd.to_datetime(week), run_week).clip(lower=0).to_numpy()
    return decay ** ahead


def _severity_by_weeks(weeks_short: pd.Series) -> np.ndarray:
    return np.where(weeks_short >= 3, "high", np.where(weeks_short == 2, "medium", "low"))


def gap_items(impact: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame | None:
    """One item per shortage gap: its margin at risk, with its best countermeasure (rank 1)."""
    if not len(impact):
        return None
    gaps = impact.reset_index(drop=True)
    pick = options[options["rank"] == 1].set_index("gap_id").reindex(gaps["gap_id"].to_numpy())
    return pd.DataFrame(
        {
            "kind": "supply gap",
            "sku": gaps["sku"], "location": gaps["location"], "resource": "",
            "week": gaps["first_week"],
            "severity": _severity_by_weeks(gaps["weeks_short"]),
            "money_at_risk": gaps["margin_at_risk"],
            "cause": gaps["cause"],
            "best_action": pick["action"].to_numpy(), "action_qty": pick["qty"].to_numpy(),
            "action_cost": pick["cost"].to_numpy(), "action_net_benefit": pick["net_benefit"].to_numpy(),
            "detail": (gaps["shortage_qty"].round(0).astype(int).astype(str) + " units short from " + week_labels(gaps["first_week"]).astype(object)
                       + "; " + pick["detail"].fillna("").to_numpy()),
        }
    )


def capacity_items(capacity: pd.DataFrame, lines: pd.DataFrame, margin: pd.Series) -> pd.DataFrame | None:
    """One item per overloaded resource-week: the margin of the production it puts at risk."""
    if not (len(capacity) and capacity["overloaded"].any()):
        return None
    risk = lines[lines["at_risk_qty"] > 0].assign(margin=lambda f: f["sku"].map(margin) * f["at_risk_qty"])
    money = risk.groupby(["bottleneck", "eta_week"], as_index=False)["margin"].sum()
    money = money.rename(columns={"bottleneck": "resource", "eta_week": "week"})
    over = capacity[capacity["overloaded"].astype(bool)].merge(money, on=["resource", "week"], how="left").reset_index(drop=True)
    return pd.DataFrame(
        {
            "kind": "capacity overload", "sku": "", "location": "", "resource": over["resource"],
            "week": over["week"],
            "severity": np.where(over["load_pct"] >= 1.5, "high", np.where(over["load_pct"] >= 1.2, "medium", "low")),
            "money_at_risk": over["margin"].fillna(0.0),
            "cause": "load above available hours",
            "best_action": FIRST_MOVE["capacity overload"],
            "detail": "load " + (over["load_pct"] * 100).round(0).astype(int).astype(str) + " % of available hours",
        }
    )


def storage_items(storage: pd.DataFrame, overflow_cost_per_unit: float) -> pd.DataFrame | None:
    """One item per location-week over storage capacity: overflow units x ``overflow_cost_per_unit``."""
    flow = storage[storage["overflow"].astype(bool)].reset_index(drop=True) if len(storage) else storage
    if not len(flow):
        return None
    return pd.DataFrame(
        {
            "kind": "storage overflow", "sku": "", "location": flow["location"], "resource": "", "week": flow["week"],
            "severity": np.where(flow["utilization"] >= 1.1, "high", "medium"),
            "money_at_risk": flow["overflow_qty"] * overflow_cost_per_unit,
            "cause": "units held above storage capacity",
            "best_action": FIRST_MOVE["storage overflow"],
            "detail": flow["overflow_qty"].round(0).astype(int).astype(str) + " units over capacity",
        }
    )


def demand_items(
    demand_exceptions: pd.DataFrame, projection: pd.DataFrame, margin: pd.Series, run_week: pd.Timestamp, forward_weeks: int
) -> pd.DataFrame | None:
    """One item per demand exception, valued on what it means from now on (see the module doc)."""
    dem = demand_exceptions[demand_exceptions["kind"].isin(DEMAND_KINDS)].reset_index(drop=True)
    if not len(dem):
        return None
    near = projection[projection["week"] < run_week + pd.Timedelta(weeks=forward_weeks)]
    ahead = near.groupby(["sku", "location"], as_index=False)[["demand_qty", "plan_demand_qty"]].sum()
    dem = dem.merge(ahead, on=["sku", "location"], how="left")
    unit_margin = dem["sku"].map(margin).fillna(0).to_numpy()
    deviation = (dem["demand_qty"] - dem["plan_demand_qty"]).abs().fillna(0).to_numpy()
    drift = (dem["bias"].abs() * dem["plan_demand_qty"]).fillna(0).to_numpy()
    forward = np.where(dem["kind"].isin(["persistent_bias", "tracking_signal"]), drift, deviation)
    return pd.DataFrame(
        {
            "kind": dem["kind"], "sku": dem["sku"], "location": dem["location"], "resource": "",
            "week": pd.to_datetime(dem["week"]), "severity": dem["severity"],
            "money_at_risk": forward * unit_margin,
            "cause": dem["direction"].fillna(""),
            "best_action": dem["kind"].map(FIRST_MOVE),
            "detail": dem["detail"].fillna(""),
        }
    )


def decision_items(
    impact: pd.DataFrame,
    options: pd.DataFrame,
    capacity: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    storage: pd.DataFrame,
    demand_exceptions: pd.DataFrame,
    projection: pd.DataFrame,
    run_week: pd.Timestamp,
    urgency_decay: float = 0.85,
    overflow_cost_per_unit: float = 1.0,
    forward_weeks: int = 4,
) -> pd.DataFrame:
    """Every candidate item of the week, scored (see module doc), best first."""
    margin = (products.set_index("sku")["unit_price"] - products.set_index("sku")["unit_cost"]).rename("margin")
    frames = [
        f for f in (
            gap_items(impact, options),
            capacity_items(capacity, lines, margin),
            storage_items(storage, overflow_cost_per_unit),
            demand_items(demand_exceptions, projection, margin, run_week, forward_weeks),
        )
        if f is not None
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    items = pd.concat(frames, ignore_index=True)
    items["money_at_risk"] = items["money_at_risk"].astype(float).fillna(0.0)
    items["urgency"] = _urgency(items["week"], run_week, urgency_decay)
    items["score"] = items["money_at_risk"] * items["urgency"]
    items = items.reindex(columns=COLUMNS).sort_values(["score", "money_at_risk"], ascending=False).reset_index(drop=True)
    return items


def cap_to_budget(items: pd.DataFrame, budget: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the top ``budget`` items with their rank, a summary of the rest by kind)."""
    top = items.head(budget).copy()
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    rest = items.iloc[budget:]
    summary = (
        rest.groupby("kind", as_index=False).agg(items=("score", "size"), money_at_risk=("money_at_risk", "sum"))
        if len(rest)
        else pd.DataFrame({"kind": pd.Series(dtype="str"), "items": pd.Series(dtype="int64"), "money_at_risk": pd.Series(dtype="float64")})
    )
    return top, summary
