"""Countermeasure options: for every shortage gap, each lever the data allows, what it can recover at
most, from when, at what cost, and which shared pool it draws on.

Time phasing: an option takes effect in week ``e`` and can only cover the gap's shortage in weeks at or
after ``e`` (``suffix[g, e]`` = units newly short in the gap from week ``e`` on). Its cap is
``min(what the lever offers, suffix[g, e])``; the joint plan (:mod:`.plan`) decides how much of it to
take given the other gaps drawing on the same pool. The levers (one function each, all gaps at once):

- **expedite**: a late inbound order (purchase or transfer) of the item brought forward to
  ``max(run week + lead time, ETA - max_weeks_earlier)``; pool: the order's quantity; cost: a fixed
  amount plus a premium per unit of the whole order, paid once per order.
- **pull_in**: the same for an on-time order arriving after the gap starts.
- **transfer**: stock of the same SKU at another location that it never needs: ``spare = min over the
  weeks from the transfer's arrival of (projected - safety stock)``, with cover today of at least
  ``min_source_weeks_of_supply``; pool: that SKU-location's spare stock.
- **substitute**: an accepted substitute (the ``substitutes`` input table only) with spare stock at the
  same location; ``ratio`` units of it per unit short; valued at the *substitute's* margin; pool: its
  spare stock (shared with transfers from it).
- **overtime**: extra hours (``max_extra_share`` of the available hours) on a resource of the item's
  routing in a week without slack, from the lead time to the gap's last week; pool: the resource-week's
  extra hours (``hours_per_unit`` per unit).
- **build_ahead**: slack hours of the resource in weeks up to the gap's last week (making the item
  earlier); pool: the resource-week's slack hours.
- **shape_demand**: move up to ``max_share_of_demand`` of the gap's demand to the weeks after it, only
  when those weeks have stock above safety stock for it (never into weeks that are short).
- **allocate** (serve booked orders first; no units gained) and **accept** (always possible): no units.

A unit covered is worth ``margin x loss_factor`` (:func:`.money.loss_factor`: the lost share, and the
owed share of a gap still open at the horizon's end). For each option: ``margin_recovered = qty x
value``, ``cost = fixed + qty x cost per unit``, ``net_benefit``; ``rank`` orders each gap's feasible
options by that stand-alone net benefit. Infeasible levers keep one row per gap with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.weeks import week_labels
from .money import loss_factor, series_blocks

__all__ = ["COLUMNS", "World", "generate_options", "make_world", "substitutes_at"]

COLUMNS = [
    "gap_id", "sku", "location", "first_week", "action", "feasible", "qty", "cost", "margin_recovered", "net_benefit",
    "effective_week", "rank", "chosen_qty", "chosen_cost", "chosen_net_benefit", "source_location", "substitute_sku",
    "resource", "order_id", "pool", "detail", "reason",
]
# what the joint plan needs besides the table columns
MODEL = ["eff", "value_per_unit", "cost_per_unit", "fixed_cost", "fixed_key", "pool_use", "pool_cap"]


@dataclass
class World:
    """What the options are computed from: the horizon, the gaps week by week, and the stock of every SKU-location."""

    weeks: pd.DatetimeIndex
    gaps: pd.DataFrame  # gap_id, sku, location, first, last (week positions), value, unit_price, margin
    short: np.ndarray  # (G, T) units newly short per gap week (0 outside the gap)
    suffix: np.ndarray  # (G, T + 1) units short from week t to the gap's end
    keys: pd.DataFrame  # sku, location of each projection row
    index: pd.MultiIndex  # (sku, location) -> row
    projected: np.ndarray  # (S, T) capacity-constrained projected on hand
    safety: np.ndarray  # (S,)
    demand: np.ndarray  # (S, T)
    cover_today: np.ndarray  # (S,) weeks of supply in the run week

    def rows(self, sku: pd.Series, location: pd.Series) -> np.ndarray:
        return self.index.get_indexer(pd.MultiIndex.from_arrays([np.asarray(sku), np.asarray(location)]))

    def spare(self, rows: np.ndarray, start: int) -> np.ndarray:
        """Stock a SKU-location never needs from week ``start`` on: ``min(projected - safety stock)``, >= 0."""
        if start >= self.projected.shape[1]:
            return np.zeros(len(rows))
        free = (self.projected[rows, start:] - self.safety[rows, None]).min(axis=1)
        return np.clip(free, 0, None)

    def position(self, weeks: pd.Series) -> np.ndarray:
        """Week positions in the horizon (0 = run week; may be beyond it)."""
        return ((pd.to_datetime(weeks) - self.weeks[0]).dt.days // 7).to_numpy()


def _matrices(projection: pd.DataFrame, n_weeks: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """(sku, location per series; the projection's columns as (series x weeks) matrices)."""
    p = projection if series_blocks(projection) else projection.sort_values(["sku", "location", "week"], kind="stable")
    keys = p[["sku", "location"]].iloc[::n_weeks].reset_index(drop=True)
    cols = ("constrained_projected_on_hand", "constrained_shortage_qty", "demand_qty", "weeks_of_supply", "safety_stock")
    return keys, {c: p[c].to_numpy(dtype=float).reshape(len(keys), n_weeks) for c in cols}


def make_world(impact: pd.DataFrame, projection: pd.DataFrame, weeks: pd.DatetimeIndex, backorder_share: float) -> World:
    """The :class:`World` of the week: shortage gaps (``financial_impact`` rows) and the projection."""
    keys, m = _matrices(projection, len(weeks))
    index = pd.MultiIndex.from_frame(keys)
    backlog = m["constrained_shortage_qty"]
    new_short = np.clip(np.diff(np.concatenate([np.zeros((len(keys), 1)), backlog], axis=1), axis=1), 0, None)
    g = impact.reset_index(drop=True)
    rows = index.get_indexer(pd.MultiIndex.from_frame(g[["sku", "location"]]))
    first = ((g["first_week"] - weeks[0]).dt.days // 7).to_numpy()
    last = ((g["last_week"] - weeks[0]).dt.days // 7).to_numpy()
    t = np.arange(len(weeks))[None, :]
    short = np.where((t >= first[:, None]) & (t <= last[:, None]), new_short[rows], 0.0)
    suffix = np.concatenate([np.cumsum(short[:, ::-1], axis=1)[:, ::-1], np.zeros((len(g), 1))], axis=1)
    margin = (g["unit_price"] - g["unit_cost"]).to_numpy()
    gaps = pd.DataFrame({
        "gap_id": g["gap_id"], "sku": g["sku"], "location": g["location"], "first_week": g["first_week"], "first": first, "last": last,
        "unit_price": g["unit_price"], "margin": margin, "value": margin * loss_factor(g["open_at_horizon_end"], backorder_share),
    })
    return World(weeks, gaps, short, suffix, keys, index, m["constrained_projected_on_hand"], m["safety_stock"][:, 0], m["demand_qty"], m["weeks_of_supply"][:, 0])


def _rows(w: World, pairs: pd.DataFrame, action: str, cap: np.ndarray, eff: np.ndarray, **cols) -> pd.DataFrame:
    """Feasible option rows (cap > 0) for ``pairs`` (gap rows with their candidates)."""
    out = pd.DataFrame({"gap_id": pairs["gap_id"].to_numpy(), "action": action, "cap": cap, "eff": eff, "value_per_unit": pairs["value"].to_numpy(),
                        "cost_per_unit": 0.0, "fixed_cost": 0.0, "fixed_key": "", "pool": "", "pool_use": 1.0, "pool_cap": np.inf, "source_location": "",
                        "substitute_sku": "", "resource": "", "order_id": "", "detail": ""})
    for name, value in cols.items():
        out[name] = value
    return out[out["cap"] > 1e-9].reset_index(drop=True)


def _none_for(w: World, options: pd.DataFrame, action: str, reason: str | np.ndarray) -> pd.DataFrame:
    """One infeasible row for each gap that has no option of ``action``, with the reason."""
    reason = pd.Series(reason, index=w.gaps.index) if not isinstance(reason, str) else pd.Series(reason, index=w.gaps.index)
    missing = ~w.gaps["gap_id"].isin(options["gap_id"])
    return pd.DataFrame({"gap_id": w.gaps.loc[missing, "gap_id"].to_numpy(), "action": action, "reason": reason[missing].to_numpy()})


def _gap_rows(w: World, pairs: pd.DataFrame) -> np.ndarray:
    """Position of each pair's gap in ``w.gaps``."""
    return pd.Index(w.gaps["gap_id"]).get_indexer(pairs["gap_id"].to_numpy())


def _label(weeks: pd.DatetimeIndex, pos: np.ndarray) -> np.ndarray:
    """ISO labels of week positions (beyond the horizon too)."""
    return week_labels(pd.Series(weeks[0] + pd.to_timedelta(np.asarray(pos, dtype=np.int64) * 7, unit="D"))).astype(object).to_numpy()


def order_options(w: World, lines: pd.DataFrame, c: dict, action: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """expedite (late orders) or pull_in (on-time orders arriving after the gap starts), brought forward."""
    movable = lines[~lines["kind"].eq("production").fillna(False).to_numpy() & (lines["late"] if action == "expedite" else ~lines["late"]).to_numpy()]
    pairs = w.gaps.merge(movable[["line_id", "sku", "location", "order_id", "eta_week", "qty"]], on=["sku", "location"])
    eta = w.position(pairs["eta_week"])
    new = np.maximum(int(c["lead_time_weeks"]), eta - int(c["max_weeks_earlier"]))
    helps = (new < eta) & (new <= pairs["last"].to_numpy()) & (eta > pairs["first"].to_numpy())
    pairs, new, eta = pairs[helps].reset_index(drop=True), new[helps], eta[helps]
    cap = np.minimum(pairs["qty"].to_numpy(), w.suffix[_gap_rows(w, pairs), np.minimum(new, w.suffix.shape[1] - 1)])
    order = pairs["order_id"].fillna("(no id)").astype(str).to_numpy()
    line = "order:" + pairs["line_id"].astype(str).to_numpy()
    options = _rows(
        w, pairs, action, cap, new, fixed_cost=c["fixed_cost"] + c["cost_per_unit"] * pairs["qty"].to_numpy(), fixed_key=line, pool=line,
        pool_cap=pairs["qty"].to_numpy(),
        order_id=order, detail="order " + order + " from " + _label(w.weeks, eta) + " to " + _label(w.weeks, new),
    )
    why = "no late inbound order of this item can arrive before the gap ends" if action == "expedite" else "no on-time order of this item can be moved into the gap"
    return options, _none_for(w, options, action, why)


def transfer_options(w: World, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spare stock of the same SKU at another location, arriving at run week + lead time."""
    e = int(c["lead_time_weeks"])
    donors = w.keys.assign(spare=w.spare(np.arange(len(w.keys)), e), cover=w.cover_today)
    donors = donors[(donors["spare"] > 1e-9) & (donors["cover"] >= c["min_source_weeks_of_supply"])].rename(columns={"location": "source"})
    pairs = w.gaps.merge(donors, on="sku")
    pairs = pairs[(pairs["source"] != pairs["location"]) & (pairs["last"] >= e)].reset_index(drop=True)
    cap = np.minimum(pairs["spare"].to_numpy(), w.suffix[_gap_rows(w, pairs), min(e, w.suffix.shape[1] - 1)])
    options = _rows(
        w, pairs, "transfer", cap, np.full(len(pairs), e), cost_per_unit=c["cost_per_unit"], fixed_cost=c["fixed_cost"],
        # one shipment per destination and source: it lands at the lead time and serves every gap of the SKU-location after it
        fixed_key="transfer:" + pairs["sku"].astype(str).to_numpy() + "@" + pairs["location"].astype(str).to_numpy() + ":" + pairs["source"].astype(str).to_numpy(),
        pool="stock:" + pairs["sku"].astype(str).to_numpy() + "@" + pairs["source"].astype(str).to_numpy(), pool_cap=pairs["spare"].to_numpy(),
        source_location=pairs["source"].astype(str).to_numpy(), detail="from " + pairs["source"].astype(str).to_numpy(),
    )
    return options, _none_for(w, options, "transfer", "no other location has stock of this SKU it does not need before the gap ends")


def substitutes_at(gaps: pd.DataFrame, substitutes: pd.DataFrame) -> pd.DataFrame:
    """Each gap (a row with ``sku`` and ``location``) with every accepted substitute of its SKU that holds
    at its location (a substitutes row without a location holds everywhere; its own as ``sub_location``)."""
    pairs = gaps.merge(substitutes.rename(columns={"location": "sub_location"}), on="sku")
    return pairs[pairs["sub_location"].isna() | (pairs["sub_location"] == pairs["location"])].reset_index(drop=True)


def substitute_options(w: World, substitutes: pd.DataFrame, products: pd.DataFrame, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An accepted substitute (master data only) with spare stock at the gap's location."""
    if substitutes.empty:
        return pd.DataFrame(columns=["gap_id"]), _none_for(w, pd.DataFrame({"gap_id": []}), "substitute",
                                                           "no substitutes table: substitution is offered only from master data")
    e = int(c["lead_time_weeks"])
    subs = substitutes.assign(ratio=substitutes["ratio"].fillna(1.0), priority=substitutes["priority"].fillna(1.0))
    pairs = substitutes_at(w.gaps, subs)
    pairs["spare"] = np.where((sub_rows := w.rows(pairs["substitute_sku"], pairs["location"])) >= 0, w.spare(np.maximum(sub_rows, 0), e), 0.0)
    pairs = pairs[(pairs["spare"] > 1e-9) & (pairs["last"] >= e)]
    pairs = pairs.sort_values(["gap_id", "priority", "spare"], ascending=[True, True, False]).groupby("gap_id").head(int(c["candidates"])).reset_index(drop=True)
    money = products.set_index("sku")[["unit_price", "unit_cost"]]
    price = pairs["substitute_sku"].map(money["unit_price"]).astype(float).to_numpy()
    margin = price - pairs["substitute_sku"].map(money["unit_cost"]).astype(float).to_numpy()
    ratio = pairs["ratio"].to_numpy()
    cap = np.minimum(pairs["spare"].to_numpy() / ratio, w.suffix[_gap_rows(w, pairs), min(e, w.suffix.shape[1] - 1)])
    factor = pairs["value"].to_numpy() / np.where(pairs["margin"] != 0, pairs["margin"], 1.0)  # the gap's loss factor
    options = _rows(
        w, pairs, "substitute", cap, np.full(len(pairs), e), cost_per_unit=c["cost_share_of_price"] * price * ratio,
        pool="stock:" + pairs["substitute_sku"].astype(str).to_numpy() + "@" + pairs["location"].astype(str).to_numpy(), pool_use=ratio,
        pool_cap=pairs["spare"].to_numpy(),
        substitute_sku=pairs["substitute_sku"].astype(str).to_numpy(),
        detail="with " + pairs["substitute_sku"].astype(str).to_numpy() + np.where(ratio != 1, " (" + pd.Series(ratio, dtype=float).map("{:g}".format).astype(str).to_numpy(dtype=object) + " per unit)", ""),
    )
    options["value_per_unit"] = factor * ratio * margin  # the substitute's own margin
    return options, _none_for(w, options, "substitute", "no accepted substitute has stock to spare at this location")


def _resource_weeks(w: World, capacity: pd.DataFrame) -> pd.DataFrame:
    """Capacity per resource and horizon week position: available, slack."""
    cap = capacity.assign(t=w.position(capacity["week"]))
    return cap[["resource", "t", "available_hours", "slack_hours"]]


def capacity_options(w: World, capacity: pd.DataFrame, routings: pd.DataFrame, c: dict, action: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """overtime (extra hours in weeks without slack) or build_ahead (slack hours), on a resource of the
    item's routing, from the lead time up to the gap's last week: units made in week t cover the gap from t."""
    routed = w.gaps.merge(routings[["sku", "location", "resource", "hours_per_unit"]], on=["sku", "location"])
    if routed.empty or capacity.empty:
        why = "not made in-house here (no routing)" if routed.empty else "no capacity data"
        return pd.DataFrame(columns=["gap_id"]), _none_for(w, pd.DataFrame({"gap_id": []}), action, why)
    rw = _resource_weeks(w, capacity)
    if action == "overtime":
        rw = rw.assign(hours=np.where(rw["slack_hours"].fillna(np.inf) <= 1e-9, rw["available_hours"] * c["max_extra_share"], 0.0), kind="overtime")
    else:
        rw = rw.assign(hours=rw["slack_hours"].fillna(0.0), kind="slack")
    pairs = routed.merge(rw[rw["hours"] > 1e-9], on="resource")
    pairs = pairs[(pairs["t"] >= int(c["lead_time_weeks"])) & (pairs["t"] <= pairs["last"])].reset_index(drop=True)
    t = pairs["t"].to_numpy(dtype=np.int64)
    cap = np.minimum(pairs["hours"].to_numpy() / pairs["hours_per_unit"].to_numpy(), w.suffix[_gap_rows(w, pairs), t])
    unit_cost = c["cost_per_hour"] * pairs["hours_per_unit"].to_numpy() if action == "overtime" else float(c["cost_per_unit"])
    res = pairs["resource"].astype(str).to_numpy()
    options = _rows(
        w, pairs, action, cap, t, cost_per_unit=unit_cost, pool=pairs["kind"].to_numpy() + ":" + res + ":" + pd.Series(t).astype(str).to_numpy(),
        pool_use=pairs["hours_per_unit"].to_numpy(), pool_cap=pairs["hours"].to_numpy(), resource=res, detail=("on " if action == "overtime" else "made early on ") + res + " in " + _label(w.weeks, t),
    )
    why = "its resources have no hours to add before the gap ends" if action == "overtime" else "its resources have no slack hours before the gap ends"
    return options, _none_for(w, options, action, np.where(w.gaps["gap_id"].isin(routed["gap_id"]), why, "not made in-house here (no routing)"))


def shape_options(w: World, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move part of the gap's demand to the weeks after it, when they have stock above safety stock for it."""
    e = int(c["lead_time_weeks"])
    g = w.gaps
    rows = w.rows(g["sku"], g["location"])
    last = g["last"].to_numpy()
    t = np.arange(len(w.weeks))[None, :]
    free = np.where(t > last[:, None], w.projected[rows] - w.safety[rows, None], np.inf).min(axis=1)
    receiving = np.where(last < len(w.weeks) - 1, np.clip(free, 0, None), 0.0)
    movable = c["max_share_of_demand"] * np.where((t >= np.maximum(g["first"].to_numpy(), e)[:, None]) & (t <= last[:, None]), w.demand[rows], 0.0).sum(axis=1)
    cap = np.where(last >= e, np.minimum(np.minimum(movable, receiving), w.suffix[np.arange(len(g)), min(e, w.suffix.shape[1] - 1)]), 0.0)
    after = _label(w.weeks, np.minimum(last + 1, len(w.weeks) - 1))
    options = _rows(w, g, "shape_demand", cap, np.full(len(g), e), cost_per_unit=c["cost_share_of_price"] * g["unit_price"].to_numpy(),
                    detail="move demand to " + after + " and later")
    why = np.select(
        [last < e, last >= len(w.weeks) - 1],
        ["the gap ends before shaping can take effect", "the gap lasts to the horizon's end: no later week has stock for the moved demand"],
        "the weeks after the gap have no stock above safety stock to serve moved demand",
    )
    return options, _none_for(w, options, "shape_demand", why)


def _info_rows(w: World, open_orders: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """allocate (booked orders in the gap weeks served first: no units gained) and accept (always)."""
    booked = w.gaps.merge(open_orders[["sku", "location", "week", "qty"]], on=["sku", "location"])
    booked = booked[(w.position(booked["week"]) >= booked["first"]) & (w.position(booked["week"]) <= booked["last"])]
    units = w.gaps["gap_id"].map(booked.groupby("gap_id")["qty"].sum()).fillna(0).to_numpy()
    allocate = pd.DataFrame({"gap_id": w.gaps["gap_id"], "action": "allocate", "feasible": units > 0, "eff": 0,
                             "detail": np.where(units > 0, "serve " + pd.Series(units).round().astype(int).astype(str).to_numpy() + " booked units first", ""),
                             "reason": np.where(units > 0, "", "no booked orders in the gap weeks")})
    accept = pd.DataFrame({"gap_id": w.gaps["gap_id"], "action": "accept", "feasible": True, "eff": w.gaps["first"], "detail": "lose or delay the sales", "reason": ""})
    return pd.concat([allocate, accept], ignore_index=True)


def generate_options(
    w: World,
    lines: pd.DataFrame,
    capacity: pd.DataFrame,
    routings: pd.DataFrame,
    products: pd.DataFrame,
    substitutes: pd.DataFrame,
    open_orders: pd.DataFrame,
    run_week: pd.Timestamp,
    catalogue: dict,
) -> pd.DataFrame:
    """Every option of every shortage gap (see the module doc): the ``countermeasures`` columns, plus
    the model columns the joint plan reads (:data:`MODEL`); gaps in the order of ``w.gaps``."""
    parts = [
        order_options(w, lines, catalogue["expedite"], "expedite"),
        order_options(w, lines, catalogue["pull_in"], "pull_in"),
        transfer_options(w, catalogue["transfer"]),
        capacity_options(w, capacity, routings, catalogue["overtime"], "overtime"),
        capacity_options(w, capacity, routings, catalogue["build_ahead"], "build_ahead"),
        substitute_options(w, substitutes, products, catalogue["substitute"]),
        shape_options(w, catalogue["shape_demand"]),
    ]
    found = [p[0] for p in parts if len(p[0])]
    # a week can have gaps and no lever that recovers a unit: only the infeasible rows (and accept) then
    feasible = pd.concat(found, ignore_index=True) if found else pd.DataFrame({"gap_id": pd.Series(dtype="int64"), "action": pd.Series(dtype="str")})
    feasible = feasible.assign(feasible=True, reason="")
    infeasible = pd.concat([p[1] for p in parts] + [_info_rows(w, open_orders, run_week)], ignore_index=True)
    return _table(w, feasible, infeasible)


def _table(w: World, feasible: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Both kinds of rows with the gap's keys, the stand-alone money and rank; ``chosen_*`` left for the plan."""
    out = pd.concat([feasible, other], ignore_index=True)
    for col, fill in (("cap", 0.0), ("value_per_unit", 0.0), ("cost_per_unit", 0.0), ("fixed_cost", 0.0), ("pool_use", 1.0), ("pool_cap", np.inf)):
        out[col] = out[col].astype(float).fillna(fill) if col in out else fill
    for col in ("fixed_key", "pool", "source_location", "substitute_sku", "resource", "order_id", "detail", "reason"):
        out[col] = out[col].fillna("").astype(str) if col in out else ""
    out["feasible"] = out["feasible"].fillna(False).astype(bool)
    out["eff"] = out["eff"].fillna(0).astype(np.int64)
    key = w.gaps.assign(_order=np.arange(len(w.gaps)))[["gap_id", "_order", "sku", "location", "first_week"]]
    out = out.merge(key, on="gap_id")
    out["qty"] = out["cap"]
    out["cost"] = np.where(out["qty"] > 0, out["fixed_cost"] + out["cost_per_unit"] * out["qty"], 0.0)
    out["margin_recovered"] = out["qty"] * out["value_per_unit"]
    out["net_benefit"] = np.where(out["feasible"], out["margin_recovered"] - out["cost"], np.nan)
    out["effective_week"] = w.weeks[0] + pd.to_timedelta(out["eff"] * 7, unit="D")
    ranked = out[out["feasible"]].sort_values(["_order", "net_benefit"], ascending=[True, False], kind="stable")
    out["rank"] = ranked.groupby("_order").cumcount().add(1).reindex(out.index)
    out["chosen_qty"], out["chosen_cost"], out["chosen_net_benefit"] = 0.0, 0.0, 0.0
    action_order = {a: k for k, a in enumerate(["expedite", "pull_in", "transfer", "overtime", "build_ahead", "substitute", "allocate", "shape_demand", "accept"])}
    out["_a"] = out["action"].map(action_order)
    out = out.sort_values(["_order", "rank", "_a"], na_position="last", kind="stable").reset_index(drop=True)
    return out[COLUMNS + MODEL]
