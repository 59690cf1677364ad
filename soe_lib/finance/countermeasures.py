"""Countermeasures: for every shortage gap, the options the data allows, with units, cost and benefit.

The catalogue (``parameters/catalogues/countermeasures.yaml``, :mod:`.catalogue`) gives each action's cost
model, lead time and limit. Each action has its own function, which generates that action's option for
all gaps at once (merges and group-wise picks, no loop per gap):

- **expedite**: a late inbound order of the item, planned by the gap's peak, brought forward to
  ``max(run week + lead time, ETA - max_weeks_earlier)``; feasible when that is by the peak week.
  Covers ``min(order qty, shortage)``; costs ``fixed + per unit x order qty``.
- **transfer**: spare stock of the same SKU at another location (``spare = min over the horizon of
  projected - safety stock``, source cover today >= ``min_source_weeks_of_supply``), arriving at
  run week + lead time, before the gap ends. Covers ``min(spare, shortage)``.
- **overtime**: the gap's bottleneck resource, up to ``max_extra_share`` more hours in its overloaded
  weeks up to the peak. Covers ``min(capacity shortfall, extra hours / hours per unit)``.
- **substitute**: spare stock of another item of the same family at the same location.
- **allocate**: booked orders in the gap weeks are served first; no units gained, no cost.
- **shape_demand**: move up to ``max_share_of_demand`` of the gap weeks' demand past the gap.
- **accept**: always feasible; nothing covered, nothing spent.

For each option: ``margin_recovered = qty x (price - cost)``, ``net_benefit = margin_recovered - cost``;
feasible options are ranked per gap by net benefit (rank 1 = best). Infeasible ones are kept with the
reason, so "why not transfer?" has an answer. Options are evaluated one gap at a time: two gaps may
both count on the same spare stock or overtime hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.weeks import week_labels

__all__ = [
    "COLUMNS",
    "accept_options",
    "allocate_options",
    "expedite_options",
    "generate_options",
    "overtime_options",
    "shape_demand_options",
    "substitute_options",
    "transfer_options",
]

COLUMNS = [
    "gap_id", "sku", "location", "first_week", "action", "feasible", "qty", "cost", "margin_recovered",
    "net_benefit", "effective_week", "rank", "detail", "reason",
]
WEEK = pd.Timedelta(weeks=1)


def _spare(projection: pd.DataFrame) -> pd.DataFrame:
    """Per SKU-location: units it never needs over the horizon (above safety stock), and its cover today."""
    p = projection.assign(_free=projection["constrained_projected_on_hand"] - projection["safety_stock"])
    first = p.sort_values("week").groupby(["sku", "location"], as_index=False).first()[["sku", "location", "weeks_of_supply"]]
    spare = p.groupby(["sku", "location"], as_index=False)["_free"].min().rename(columns={"_free": "spare_qty"})
    spare["spare_qty"] = spare["spare_qty"].clip(lower=0)
    return spare.merge(first, on=["sku", "location"])


def _frame(gaps: pd.DataFrame, action: str, ok: np.ndarray, qty, cost, week, detail, reason) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gap_id": gaps["gap_id"].to_numpy(),
            "action": action,
            "feasible": ok,
            "qty": np.where(ok, qty, 0.0),
            "cost": np.where(ok, cost, 0.0),
            "effective_week": week,
            "detail": detail,
            "reason": np.where(ok, "", reason),
        }
    )


def _best(candidates: pd.DataFrame, gaps: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """The best candidate row per gap (others dropped); gaps without a candidate get NaNs."""
    best = candidates.sort_values(["gap_id", *by], ascending=[True, *ascending]).drop_duplicates("gap_id")
    return gaps[["gap_id"]].merge(best, on="gap_id", how="left")


def _label(weeks: pd.Series) -> pd.Series:
    """ISO week labels, '' where there is no week."""
    return week_labels(pd.Series(weeks)).astype(object).fillna("")


def expedite_options(g: pd.DataFrame, lines: pd.DataFrame, run_week: pd.Timestamp, c: dict) -> pd.DataFrame:
    """The best late order of the item, planned by the gap's peak, brought forward to
    ``max(run week + lead time, ETA - max_weeks_earlier)``; feasible when that is by the peak.
    Covers ``min(order qty, shortage)``; costs ``fixed + per unit x order qty``."""
    late = g[["gap_id", "sku", "location", "first_week", "peak_week", "shortage_qty"]].merge(
        lines[lines["late"]][["sku", "location", "order_id", "week", "eta_week", "qty"]], on=["sku", "location"]
    )
    late = late[(late["week"] <= late["peak_week"]) & (late["eta_week"] >= late["first_week"])]
    late["new_eta"] = (late["eta_week"] - c["max_weeks_earlier"] * WEEK).clip(lower=run_week + c["lead_time_weeks"] * WEEK)
    late["helps"] = (late["new_eta"] <= late["peak_week"]) & (late["new_eta"] < late["eta_week"])
    late["covered"] = np.minimum(late["qty"], late["shortage_qty"])
    best = _best(late, g, ["helps", "covered"], [False, False])
    ok = best["helps"].fillna(False).to_numpy(dtype=bool)
    reason = np.where(best["order_id"].isna(), "no late inbound order for this item", "cannot arrive before the peak of the gap")
    return _frame(g, "expedite", ok, best["covered"], c["fixed_cost"] + c["cost_per_unit"] * best["qty"].fillna(0), best["new_eta"],
                  "order " + best["order_id"].fillna("").astype(str) + " from " + _label(best["eta_week"]), reason)


def transfer_options(g: pd.DataFrame, spare: pd.DataFrame, run_week: pd.Timestamp, c: dict) -> pd.DataFrame:
    """Spare stock of the same SKU at another location (source cover today >= ``min_source_weeks_of_supply``),
    arriving at run week + lead time, before the gap ends. Covers ``min(spare, shortage)``."""
    src = g[["gap_id", "sku", "location", "shortage_qty"]].merge(spare.rename(columns={"location": "source"}), on="sku")
    src = src[(src["source"] != src["location"]) & (src["spare_qty"] > 0) & (src["weeks_of_supply"] >= c["min_source_weeks_of_supply"])]
    best = _best(src, g, ["spare_qty"], [False])
    arrive = run_week + c["lead_time_weeks"] * WEEK
    has = best["spare_qty"].notna().to_numpy()
    ok = has & (arrive <= g["last_week"]).to_numpy()
    covered = np.minimum(best["spare_qty"].fillna(0), g["shortage_qty"])
    return _frame(g, "transfer", ok, covered, c["fixed_cost"] + c["cost_per_unit"] * covered, arrive,
                  "from " + best["source"].fillna("").astype(str),
                  np.where(has, "arrives after the gap ends", "no other location has spare stock of this SKU"))


def overtime_options(g: pd.DataFrame, capacity: pd.DataFrame, routings: pd.DataFrame, run_week: pd.Timestamp, c: dict) -> pd.DataFrame:
    """Up to ``max_extra_share`` more hours on the gap's resource in its overloaded weeks up to the peak.
    Covers ``min(capacity shortfall, extra hours / hours per unit)``; costs ``cost_per_hour x hours``."""
    need = g[["gap_id", "sku", "location", "peak_week", "capacity_shortfall_qty"]].merge(routings, on=["sku", "location"])
    over = capacity[capacity["overloaded"].astype(bool)] if len(capacity) else capacity
    if len(need) and len(over):
        hours = need.merge(over[["resource", "week", "available_hours"]], on="resource")
        hours = hours[(hours["week"] <= hours["peak_week"]) & (hours["week"] >= run_week + c["lead_time_weeks"] * WEEK)]
        extra = hours.groupby(["gap_id", "resource", "hours_per_unit"], as_index=False)["available_hours"].sum()
        extra["extra_hours"] = extra["available_hours"] * c["max_extra_share"]
        extra = extra.merge(g[["gap_id", "capacity_shortfall_qty"]], on="gap_id")
        extra["units"] = np.minimum(extra["extra_hours"] / extra["hours_per_unit"], extra["capacity_shortfall_qty"])
        best = _best(extra, g, ["units"], [False])
    else:
        best = g[["gap_id"]].assign(units=np.nan, resource=None, hours_per_unit=np.nan)
    ok = (best["units"].fillna(0) > 0).to_numpy() & (g["capacity_shortfall_qty"] > 0).to_numpy()
    units = best["units"].fillna(0)
    return _frame(g, "overtime", ok, units, c["cost_per_hour"] * units * best["hours_per_unit"].fillna(0), run_week + c["lead_time_weeks"] * WEEK,
                  "on " + best["resource"].fillna("").astype(str),
                  np.where(g["capacity_shortfall_qty"] > 0, "no overloaded week of its resource left before the peak", "the gap is not caused by capacity"))


def substitute_options(g: pd.DataFrame, spare: pd.DataFrame, family: pd.Series, run_week: pd.Timestamp, c: dict) -> pd.DataFrame:
    """Spare stock of another item of the same family at the same location (the top ``candidates`` per
    family-location). Covers ``min(spare, shortage)``; costs ``cost_share_of_price x price x units``."""
    sib = spare.assign(family=spare["sku"].map(family))
    sib = sib[sib["spare_qty"] > 0].sort_values("spare_qty", ascending=False).groupby(["family", "location"]).head(int(c["candidates"]) + 1)
    sub = g[["gap_id", "sku", "location", "family", "shortage_qty"]].merge(sib.rename(columns={"sku": "substitute"}), on=["family", "location"])
    sub = sub[sub["substitute"] != sub["sku"]]
    best = _best(sub, g, ["spare_qty"], [False])
    has = best["spare_qty"].notna().to_numpy()
    covered = np.minimum(best["spare_qty"].fillna(0), g["shortage_qty"])
    return _frame(g, "substitute", has, covered, c["cost_share_of_price"] * g["unit_price"] * covered, run_week + c["lead_time_weeks"] * WEEK,
                  "with " + best["substitute"].fillna("").astype(str), "no item of the same family has spare stock here")


def allocate_options(g: pd.DataFrame, open_orders: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """Booked orders in the gap weeks are served first: no units gained, no cost."""
    booked = g[["gap_id", "sku", "location", "first_week", "last_week"]].merge(open_orders[["sku", "location", "week", "qty"]], on=["sku", "location"])
    booked = booked[(booked["week"] >= booked["first_week"]) & (booked["week"] <= booked["last_week"])].groupby("gap_id")["qty"].sum()
    units = g["gap_id"].map(booked).fillna(0).to_numpy()
    return _frame(g, "allocate", units > 0, 0.0, 0.0, run_week,
                  "serve " + pd.Series(units).round().astype(int).astype(str) + " booked units first", "no booked orders in the gap weeks")


def shape_demand_options(g: pd.DataFrame, projection: pd.DataFrame, run_week: pd.Timestamp, c: dict) -> pd.DataFrame:
    """Move up to ``max_share_of_demand`` of the gap weeks' demand past the gap; costs
    ``cost_share_of_price x price x units``."""
    dem = g[["gap_id", "sku", "location", "first_week", "last_week"]].merge(projection[["sku", "location", "week", "demand_qty"]], on=["sku", "location"])
    dem = dem[(dem["week"] >= dem["first_week"]) & (dem["week"] <= dem["last_week"])].groupby("gap_id")["demand_qty"].sum()
    movable = g["gap_id"].map(dem).fillna(0).to_numpy() * c["max_share_of_demand"]
    covered = np.minimum(movable, g["shortage_qty"])
    arrive = run_week + c["lead_time_weeks"] * WEEK
    ok = (covered > 0) & (arrive <= g["last_week"]).to_numpy()
    return _frame(g, "shape_demand", ok, covered, c["cost_share_of_price"] * g["unit_price"] * covered, arrive,
                  "move demand past " + _label(g["last_week"]), "the gap ends before it can take effect")


def accept_options(g: pd.DataFrame) -> pd.DataFrame:
    """Accept the shortage: always feasible, nothing covered, nothing spent."""
    return _frame(g, "accept", np.ones(len(g), dtype=bool), 0.0, 0.0, g["first_week"], "lose or delay the sales", "")


def generate_options(
    gaps: pd.DataFrame,
    lines: pd.DataFrame,
    projection: pd.DataFrame,
    capacity: pd.DataFrame,
    routings: pd.DataFrame,
    products: pd.DataFrame,
    open_orders: pd.DataFrame,
    run_week: pd.Timestamp,
    catalogue: dict,
) -> pd.DataFrame:
    """Every option for every shortage gap (``gaps``: the financial-impact rows, with ``gap_id``),
    ranked per gap by net benefit; columns :data:`COLUMNS`, gaps in the order given."""
    if gaps.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    g = gaps.reset_index(drop=True).copy()
    g["_order"] = np.arange(len(g))  # rows stay in the order of the gaps given (largest money first)
    if "capacity_shortfall_qty" not in g:
        g["capacity_shortfall_qty"] = 0.0
    family = products.set_index("sku")["family"]
    g["family"] = g["sku"].map(family)
    spare = _spare(projection)
    frames = [
        expedite_options(g, lines, run_week, catalogue["expedite"]),
        transfer_options(g, spare, run_week, catalogue["transfer"]),
        overtime_options(g, capacity, routings, run_week, catalogue["overtime"]),
        substitute_options(g, spare, family, run_week, catalogue["substitute"]),
        allocate_options(g, open_orders, run_week),
        shape_demand_options(g, projection, run_week, catalogue["shape_demand"]),
        accept_options(g),
    ]
    out = pd.concat(frames, ignore_index=True).merge(
        g[["gap_id", "_order", "sku", "location", "first_week", "unit_price", "unit_cost"]], on="gap_id"
    )
    out["margin_recovered"] = out["qty"] * (out["unit_price"] - out["unit_cost"])
    out["net_benefit"] = np.where(out["feasible"], out["margin_recovered"] - out["cost"], np.nan)
    feasible = out[out["feasible"]].sort_values(["_order", "net_benefit"], ascending=[True, False])
    out["rank"] = feasible.groupby("_order").cumcount().add(1).reindex(out.index)
    return out.sort_values(["_order", "rank"], na_position="last")[COLUMNS].reset_index(drop=True)
