"""Countermeasure options: for every shortage gap, each lever the data allows, as a *move* on a
SKU-location (:mod:`.world`): from when, what profile, at most how many whole units, at what cost,
and which shared limit it draws on. Each option's value is the kernel's re-projection of its
SKU-location with the move applied (:meth:`.world.World.value`), never a formula of its own.

The levers (one function each, all gaps at once; ``e`` = the week the move takes effect, never before
the catalogue's lead time):

- **expedite** / **pull_in**: a late (on-time) inbound order of the item brought forward from its ETA
  to ``max(run week + lead time, ETA - max_weeks_earlier)``; window profile: the units leave their old
  week. Limit: the order's quantity. Cost: a fixed amount per order plus a premium per unit moved.
- **transfer**: stock of the same SKU at another location, shipped ``transit_weeks`` before it lands;
  the donor keeps its safety stock **from the shipping week on** (in every demand scenario). Limit:
  that SKU-location's spare stock from the shipping week.
- **substitute**: an accepted substitute (the ``substitutes`` input table only) with spare stock at the
  gap's location, ``ratio`` units of it per unit; it draws the substitute's own stock down. Cost: a
  share of its price, plus the margin given up when the substitute earns less per unit.
- **overtime** / **build_ahead**: units made with extra hours (a week without slack) or slack hours of
  a resource of the item's routing, in a week from the lead time to the gap's last week; limit: that
  resource-week's hours.
- **shape_demand**: part of the gap's demand (up to ``max_share_of_demand``) moved to the week after
  it, only when every later week keeps its safety stock with it.
- **raise_order**: more units on a planned (not firm) open order arriving beyond the frozen fence and
  by the gap's end, in the product's order multiple.
- **new_order**: a new order of a bought item arriving beyond the product's lead time and the frozen
  fence, at least its minimum order quantity, in its order multiple: "re-plan: order N by week W".
- **switch_mode**: an inbound line not yet shipped (status planned or blank) moved to a faster lane of the
  ``lanes`` table from the same origin, by another mode or through another port that delivers to its location
  (one the open lines or ``receipts_history`` show delivering there; the leg from port to location is taken
  as the same for every port): it ships when it would have (not before the lead
  time) and arrives after the faster lane's transit; window profile like expedite. Cost per unit: the faster
  lane's freight minus the current one's (``cost_per_unit``, else ``cost_per_kg x unit_weight_kg``), never
  below 0, plus a fixed cost per line rebooked. Limits: the line's quantity (shared with expedite and pull-in:
  part of a line can be switched, a split shipment) and the faster lane's weekly capacity in its shipping week
  less what open lines already ship on it then (a second pool).
- **allocate** (serve booked orders first; no units gained) and **accept** (always possible).

An option row is listed once, under the earliest gap of its SKU-location that it reaches (a move
serves every later gap of its item too); a gap without a lever of some kind gets one row saying why.
``qty`` is the most whole units the move can usefully take (beyond the deepest shortfall it reaches
no unit helps); ``margin_recovered`` = the kernel's value without minus with ``qty`` units;
``net_benefit = margin_recovered - cost``; ``rank`` orders each gap's options by that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.lanes import LANE, lane_keys
from ..core.matrix import keys_in
from ..core.outputs import OUTPUTS
from ..core.weeks import week_labels
from .world import World, profiles

__all__ = ["COLUMNS", "generate_options", "serving_ports", "substitutes_at"]

COLUMNS = OUTPUTS["countermeasures"].names  # the contract's order (soe_lib/core/outputs.py)
# what the joint plan needs besides the table columns: the move (destination row, profile) and its limits
MODEL = ["row", "eff", "stop", "by_demand", "cap", "cost_per_unit", "fixed_cost", "fixed_key", "pool_use", "pool_cap", "pool_week", "multiple", "min_qty",
         "pool2", "pool2_use", "pool2_cap"]
ACTION_ORDER = ["expedite", "switch_mode", "pull_in", "transfer", "overtime", "build_ahead", "substitute", "raise_order", "new_order", "allocate",
                "shape_demand", "accept"]


def _label(weeks: pd.DatetimeIndex, pos: np.ndarray) -> np.ndarray:
    """ISO labels of week positions (beyond the horizon too)."""
    return week_labels(pd.Series(weeks[0] + pd.to_timedelta(np.asarray(pos, dtype=np.int64) * 7, unit="D"))).astype(object).to_numpy()


def _text(values) -> np.ndarray:
    return pd.Series(values).astype(str).to_numpy(dtype=object)


def _item(frame: pd.DataFrame) -> np.ndarray:
    """``sku@location`` of each row: the names in keys and pools (never a row number of one part's world:
    the parts of a split are planned together, and their keys must not collide)."""
    return _text(frame["sku"]) + "@" + _text(frame["location"])


def _moves(w: World, pairs: pd.DataFrame, action: str, eff: np.ndarray, stop: np.ndarray, offer: np.ndarray, key: np.ndarray,
           by_demand: bool = False, multiple: np.ndarray | float = 1.0, min_qty: np.ndarray | float = 0.0, **cols) -> pd.DataFrame:
    """Feasible option rows of ``pairs`` (gap rows with a candidate each): the cap is the candidate's
    ``offer`` (whole units in its multiple) and what the move can usefully take (the deepest shortfall
    its profile reaches, rounded up to its multiple); kept when it reaches its minimum; one row per
    move ``key`` (the earliest gap it reaches: ``pairs`` come in gap order)."""
    n = len(pairs)
    rows = pairs["row"].to_numpy(dtype=np.int64)
    eff, stop = np.asarray(eff, dtype=np.int64), np.minimum(np.asarray(stop, dtype=np.int64), len(w.weeks))
    mult = np.broadcast_to(np.asarray(multiple, dtype=float), (n,)).copy()
    mult[~(mult > 0)] = 1.0
    least = np.broadcast_to(np.asarray(min_qty, dtype=float), (n,))
    prof = profiles(w, eff, stop, rows, np.full(n, by_demand))
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(prof > 1e-12, np.clip(-w.low(rows), 0, None) / prof, 0.0).max(axis=1) if n else np.zeros(0)
    useful = np.ceil(need / mult - 1e-9) * mult
    # at least the minimum order quantity once it helps at all (the units beyond the need are stock)
    wanted = np.where(useful > 0, np.maximum(useful, np.ceil(least / mult - 1e-9) * mult), 0.0)
    cap = np.minimum(np.floor(np.nan_to_num(offer, posinf=1e15) / mult + 1e-9) * mult, wanted)
    cap = np.where(cap >= np.maximum(least, 1.0) - 1e-9, cap, 0.0)
    out = pd.DataFrame({
        "gap_id": pairs["gap_id"].to_numpy(), "action": action, "row": rows, "eff": eff, "stop": stop, "by_demand": by_demand, "cap": cap,
        "cost_per_unit": 0.0, "fixed_cost": 0.0, "fixed_key": "", "pool": "", "pool_use": 1.0, "pool_cap": np.inf, "pool_week": 0,
        "multiple": mult, "min_qty": least, "pool2": "", "pool2_use": 1.0, "pool2_cap": np.inf, "source_location": "", "substitute_sku": "", "resource": "", "order_id": "", "detail": "",
        "_key": key, "_first": pairs["first"].to_numpy(),
    })
    for name, value in cols.items():
        out[name] = value
    out = out[out["cap"] > 0]
    return out.sort_values(["_first", "gap_id"], kind="stable").drop_duplicates("_key").drop(columns=["_key", "_first"]).reset_index(drop=True)


def _none_for(w: World, options: pd.DataFrame, action: str, reason: str | np.ndarray) -> pd.DataFrame:
    """One infeasible row for each gap that no option of ``action`` reaches (an option of its item that
    takes effect by the gap's last week), with the reason."""
    reason = pd.Series(reason, index=w.gaps.index)
    if len(options):
        reach = w.gaps[["gap_id", "row", "last"]].merge(options[["row", "eff"]], on="row")
        covered = w.gaps["gap_id"].isin(reach.loc[reach["eff"] <= reach["last"], "gap_id"])
    else:
        covered = pd.Series(False, index=w.gaps.index)
    return pd.DataFrame({"gap_id": w.gaps.loc[~covered, "gap_id"].to_numpy(), "action": action, "reason": reason[~covered].to_numpy()})


def order_options(w: World, lines: pd.DataFrame, c: dict, action: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """expedite (late orders) or pull_in (on-time orders), brought forward into a gap (window profile)."""
    movable = lines[~lines["kind"].eq("production").fillna(False).to_numpy() & (lines["late"] if action == "expedite" else ~lines["late"]).to_numpy()]
    pairs = w.gaps.merge(movable[["line_id", "sku", "location", "order_id", "eta_week", "qty"]], on=["sku", "location"])
    eta = w.position_at(pairs["eta_week"])
    new = np.maximum(int(c["lead_time_weeks"]), eta - int(c["max_weeks_earlier"]))
    helps = (new < eta) & (new <= pairs["last"].to_numpy()) & (eta > pairs["first"].to_numpy())
    pairs, new, eta = pairs[helps].reset_index(drop=True), new[helps], eta[helps]
    order = pairs["order_id"].fillna("(no id)").astype(str).to_numpy(dtype=object)
    line = "order:" + _text(pairs["line_id"])
    options = _moves(
        w, pairs, action, new, eta, pairs["qty"].to_numpy(dtype=float), line + "@" + _text(new), cost_per_unit=float(c["cost_per_unit"]),
        fixed_cost=float(c["fixed_cost"]), fixed_key=line, pool=line, pool_cap=np.floor(pairs["qty"].to_numpy(dtype=float) + 1e-9), order_id=order,
        detail="order " + order + " from " + _label(w.weeks, eta) + " to " + _label(w.weeks, new),
    )
    why = "no late inbound order of this item can arrive before the gap ends" if action == "expedite" else "no on-time order of this item can be moved into the gap"
    return options, _none_for(w, options, action, why)


def _freight(lanes: pd.DataFrame, weight: np.ndarray) -> np.ndarray:
    """Freight per unit on each lane row: ``cost_per_unit``, else ``cost_per_kg x unit weight`` (NaN: not known)."""
    per_unit = lanes["cost_per_unit"].to_numpy(dtype=float) if "cost_per_unit" in lanes else np.full(len(lanes), np.nan)
    per_kg = lanes["cost_per_kg"].to_numpy(dtype=float) if "cost_per_kg" in lanes else np.full(len(lanes), np.nan)
    return np.where(np.isnan(per_unit), per_kg * weight, per_unit)


def _shipping(lines: pd.DataFrame, w: World, transit: np.ndarray) -> np.ndarray:
    """Each line's shipping week (position): its ``ship_week``, else its ETA less its lane's transit."""
    eta = w.position_at(lines["eta_week"])
    if "ship_week" not in lines:
        return eta - transit
    given = pd.to_datetime(lines["ship_week"])
    return np.where(given.notna().to_numpy(), w.position_at(given.fillna(w.weeks[0])), eta - transit)


def _lane_room(lanes: pd.DataFrame, load: pd.DataFrame | None, lane: pd.MultiIndex, week: np.ndarray, w: World) -> np.ndarray:
    """Units each (lane, shipping week position) can still carry: the lane's weekly capacity less what open lines
    ship on it then (``lane_load``); infinite where the lane states no capacity."""
    cap = lanes.assign(**lane_keys(lanes)).set_index(LANE)["weekly_capacity"] if "weekly_capacity" in lanes else None
    capacity = cap.reindex(lane).to_numpy(dtype=float) if cap is not None else np.full(len(lane), np.nan)
    used = np.zeros(len(lane))
    if load is not None and len(load):
        shipping = load.assign(**lane_keys(load), t=w.position_at(load["week"])).set_index([*LANE, "t"])["shipping_qty"]
        used = shipping.reindex(pd.MultiIndex.from_arrays([*[lane.get_level_values(k) for k in range(3)], week])).fillna(0.0).to_numpy(dtype=float)
    return np.where(np.isnan(capacity), np.inf, np.clip(capacity - used, 0, None))


def serving_ports(lines: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """(destination, location) pairs: the ports (or sites) that deliver to a location, as the open lines and the
    deliveries already made show (destination matched as lanes are: lower case)."""
    frames = [f[["destination", "location"]] for f in (lines, history) if f is not None and len(f) and "destination" in f]
    if not frames:
        return pd.DataFrame({"destination": pd.Series(dtype="str"), "location": pd.Series(dtype="str")})
    both = pd.concat(frames, ignore_index=True).dropna()
    return pd.DataFrame({"destination": lane_keys(both)["destination"].astype(str).to_numpy(), "location": both["location"].astype(str).to_numpy()}).drop_duplicates()


def mode_options(w: World, lines: pd.DataFrame, lanes: pd.DataFrame | None, load: pd.DataFrame | None, products: pd.DataFrame,
                 c: dict, served: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """switch_mode: a line not yet shipped moved to a faster lane from the same origin, by another mode or through
    another port that delivers to its location (``served``: :func:`serving_ports`; module doc)."""
    if lanes is None or lanes.empty or "mode" not in lines:
        return pd.DataFrame(columns=["gap_id", "row", "eff"]), _none_for(w, pd.DataFrame(), "switch_mode", "no lanes table: no faster lane is known")
    status = lines["status"].astype("string").str.lower().fillna("planned") if "status" in lines else pd.Series("planned", index=lines.index)
    movable = lines[~lines["kind"].eq("production").fillna(False).to_numpy() & status.isin(["planned", ""]).to_numpy()
                    & lines["mode"].notna().to_numpy()].reset_index(drop=True)
    keys = lane_keys(movable)
    lane = lanes.assign(**lane_keys(lanes), destination_name=lanes["destination"].astype(str))
    own = lane.set_index(LANE).reindex(pd.MultiIndex.from_frame(keys))
    pairs = w.gaps.merge(movable.assign(**{f"_{k}": keys[k] for k in LANE})[["line_id", "sku", "location", "order_id", "eta_week", "qty", "_origin",
                                                                             "_destination", "_mode", *(["ship_week"] if "ship_week" in movable else [])]]
                         .assign(_own_transit=own["transit_weeks"].to_numpy(dtype=float)), on=["sku", "location"])
    alt = lane.rename(columns={"mode": "alt_mode", "destination": "alt_destination"})
    pairs = pairs.merge(alt, left_on="_origin", right_on="origin")
    ports = served if served is not None else serving_ports(lines, None)
    delivers = pairs[["alt_destination", "location"]].astype(str).merge(ports.rename(columns={"destination": "alt_destination"}), how="left", indicator=True)
    same = (pairs["alt_destination"] == pairs["_destination"]).to_numpy()
    other = (pairs["alt_mode"] != pairs["_mode"]).to_numpy() | ~same
    pairs = pairs[other & (same | (delivers["_merge"] == "both").to_numpy())].reset_index(drop=True)
    weight = w.product_values(products, "unit_weight_kg", pairs["row"], np.nan)
    own_lane = lane.set_index(LANE).reindex(pd.MultiIndex.from_frame(pairs[["_origin", "_destination", "_mode"]].set_axis(LANE, axis=1)))
    own_freight = np.nan_to_num(_freight(own_lane, weight))  # the current lane's freight unknown: counted as nothing saved
    per_unit = np.clip(_freight(pairs, weight) - own_freight, 0, None)
    eta = w.position_at(pairs["eta_week"])
    ship = np.maximum(_shipping(pairs, w, np.nan_to_num(pairs["_own_transit"].to_numpy()).astype(np.int64)), int(c["lead_time_weeks"]))
    new = ship + pairs["transit_weeks"].to_numpy(dtype=np.int64)
    helps = (new < eta) & (new <= pairs["last"].to_numpy()) & (eta > pairs["first"].to_numpy()) & ~np.isnan(per_unit)
    pairs, new, eta, ship, per_unit = pairs[helps].reset_index(drop=True), new[helps], eta[helps], ship[helps], per_unit[helps]
    room = _lane_room(lanes, load, pd.MultiIndex.from_arrays([pairs["_origin"], pairs["alt_destination"], pairs["alt_mode"]]), ship, w)
    order = pairs["order_id"].fillna("(no id)").astype(str).to_numpy(dtype=object)
    line = "order:" + _text(pairs["line_id"])
    alt = _text(pairs["alt_mode"]) + np.where(pairs["alt_destination"] != pairs["_destination"], " via " + _text(pairs["destination_name"]), "")
    lane_pool = "lane:" + _text(pairs["_origin"]) + ">" + _text(pairs["alt_destination"]) + ":" + _text(pairs["alt_mode"]) + ":" + _label(w.weeks, ship)
    options = _moves(
        w, pairs, "switch_mode", new, eta, pairs["qty"].to_numpy(dtype=float), line + ":" + alt, cost_per_unit=per_unit,
        fixed_cost=float(c["fixed_cost"]), fixed_key="switch:" + _text(pairs["line_id"]) + ":" + alt, pool=line,
        pool_cap=np.floor(pairs["qty"].to_numpy(dtype=float) + 1e-9), pool2=np.where(np.isfinite(room), lane_pool, ""), pool2_cap=room, order_id=order,
        detail="order " + order + " by " + alt + " instead of " + _text(pairs["_mode"]) + ": " + _label(w.weeks, new) + " instead of " + _label(w.weeks, eta),
    )
    return options, _none_for(w, options, "switch_mode", "no line of this item waiting to ship has a faster lane that lands before the gap ends")


def transfer_options(w: World, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spare stock of the same SKU at another location: shipped ``transit_weeks`` before it lands at run
    week + lead time; the donor keeps its safety stock from the shipping week on."""
    e = int(c["lead_time_weeks"])
    ship = max(0, e - int(c.get("transit_weeks", 1)))
    donors = w.keys.assign(spare=w.spare(np.arange(len(w.keys)), ship), cover=w.cover_today, donor=np.arange(len(w.keys)))
    donors = donors[(donors["spare"] >= 1) & (donors["cover"] >= c["min_source_weeks_of_supply"])].rename(columns={"location": "source"})
    pairs = w.gaps.merge(donors, on="sku")
    pairs = pairs[(pairs["source"] != pairs["location"]) & (pairs["last"] >= e)].reset_index(drop=True)
    sku, dest, source = _text(pairs["sku"]), _text(pairs["location"]), _text(pairs["source"])
    options = _moves(
        w, pairs, "transfer", np.full(len(pairs), e), np.full(len(pairs), len(w.weeks)), pairs["spare"].to_numpy(),
        "transfer:" + sku + "@" + dest + ":" + source, cost_per_unit=float(c["cost_per_unit"]), fixed_cost=float(c["fixed_cost"]),
        # one shipment per destination and source: it lands at the lead time and serves every gap of the SKU-location after it
        fixed_key="transfer:" + sku + "@" + dest + ":" + source, pool="stock:" + sku + "@" + source, pool_cap=pairs["spare"].to_numpy(),
        pool_week=ship, source_location=source, detail="from " + source + " (ships " + _label(w.weeks, np.full(len(pairs), ship)) + ")",
    )
    return options, _none_for(w, options, "transfer", "no other location has stock of this SKU it does not need from the shipping week on")


def substitutes_at(gaps: pd.DataFrame, substitutes: pd.DataFrame) -> pd.DataFrame:
    """Each gap (a row with ``sku`` and ``location``) with every accepted substitute of its SKU that holds
    at its location (a substitutes row without a location holds everywhere; its own as ``sub_location``)."""
    pairs = gaps.merge(substitutes.rename(columns={"location": "sub_location"}), on="sku")
    return pairs[pairs["sub_location"].isna() | (pairs["sub_location"] == pairs["location"])].reset_index(drop=True)


def substitute_options(w: World, substitutes: pd.DataFrame, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An accepted substitute (master data only) with spare stock at the gap's location."""
    if substitutes.empty:
        return pd.DataFrame(columns=["gap_id", "row", "eff"]), _none_for(w, pd.DataFrame(), "substitute",
                                                                        "no substitutes table: substitution is offered only from master data")
    e = int(c["lead_time_weeks"])
    subs = substitutes.assign(sku=substitutes["sku"].astype(str), substitute_sku=substitutes["substitute_sku"].astype(str),
                              ratio=substitutes["ratio"].astype(float).fillna(1.0), priority=substitutes["priority"].astype(float).fillna(1.0))
    pairs = substitutes_at(w.gaps, subs)
    sub_rows = w.rows(pairs["substitute_sku"], pairs["location"])
    pairs["spare"] = np.where(sub_rows >= 0, w.spare(np.maximum(sub_rows, 0), e), 0.0)
    pairs["sub_row"] = sub_rows
    pairs = pairs[(pairs["spare"] >= 1) & (pairs["last"] >= e)]
    pairs = pairs.sort_values(["gap_id", "priority", "spare"], ascending=[True, True, False]).groupby("gap_id").head(int(c["candidates"])).reset_index(drop=True)
    sub, ratio = pairs["sub_row"].to_numpy(dtype=np.int64), pairs["ratio"].to_numpy(dtype=float)
    own = w.margin[pairs["row"].to_numpy(dtype=np.int64)]
    # a unit served with the substitute earns its margin x ratio instead of the item's: the difference is a cost
    # (never a gain: the kernel counts only units that would be lost or late, and at the item's own margin)
    per_unit = c["cost_share_of_price"] * w.price[sub] * ratio + np.clip(own - w.margin[sub] * ratio, 0, None)
    name, loc = _text(pairs["substitute_sku"]), _text(pairs["location"])
    options = _moves(
        w, pairs, "substitute", np.full(len(pairs), e), np.full(len(pairs), len(w.weeks)), np.floor(pairs["spare"].to_numpy() / ratio + 1e-9),
        "sub:" + _item(pairs) + ":" + name, cost_per_unit=per_unit, pool="stock:" + name + "@" + loc, pool_use=ratio,
        pool_cap=pairs["spare"].to_numpy(), pool_week=e, substitute_sku=name,
        detail="with " + name + np.where(ratio != 1, " (" + pd.Series(ratio, dtype=float).map("{:g}".format).to_numpy(dtype=object) + " per unit)", ""),
    )
    return options, _none_for(w, options, "substitute", "no accepted substitute has stock to spare at this location")


def capacity_options(w: World, capacity: pd.DataFrame, routings: pd.DataFrame, c: dict, action: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """overtime (extra hours in weeks without slack) or build_ahead (slack hours), on a resource of the
    item's routing, from the lead time up to the gap's last week: units made in week t arrive in t."""
    routed = w.gaps.merge(routings[["sku", "location", "resource", "hours_per_unit"]].astype({"sku": str, "location": str}), on=["sku", "location"])
    if routed.empty or capacity.empty:
        why = "not made in-house here (no routing)" if routed.empty else "no capacity data"
        return pd.DataFrame(columns=["gap_id", "row", "eff"]), _none_for(w, pd.DataFrame(), action, why)
    rw = capacity.assign(t=w.position_at(capacity["week"]))[["resource", "t", "available_hours", "slack_hours"]]
    if action == "overtime":
        rw = rw.assign(hours=np.where(rw["slack_hours"].fillna(np.inf) <= 1e-9, rw["available_hours"] * c["max_extra_share"], 0.0), kind="overtime")
    else:
        rw = rw.assign(hours=rw["slack_hours"].fillna(0.0), kind="slack")
    pairs = routed.merge(rw[rw["hours"] > 1e-9], on="resource")
    pairs = pairs[(pairs["t"] >= int(c["lead_time_weeks"])) & (pairs["t"] <= pairs["last"])].reset_index(drop=True)
    t = pairs["t"].to_numpy(dtype=np.int64)
    hpu = pairs["hours_per_unit"].to_numpy(dtype=float)
    res = _text(pairs["resource"])
    pool = pairs["kind"].to_numpy(dtype=object) + ":" + res + ":" + _text(t)
    unit_cost = c["cost_per_hour"] * hpu if action == "overtime" else np.full(len(pairs), float(c["cost_per_unit"]))
    options = _moves(
        w, pairs, action, t, np.full(len(pairs), len(w.weeks)), np.floor(pairs["hours"].to_numpy() / hpu + 1e-9),
        action + ":" + _item(pairs) + ":" + res + ":" + _text(t), cost_per_unit=unit_cost, pool=pool, pool_use=hpu,
        pool_cap=pairs["hours"].to_numpy(), resource=res, detail=("on " if action == "overtime" else "made early on ") + res + " in " + _label(w.weeks, t),
    )
    why = "its resources have no hours to add before the gap ends" if action == "overtime" else "its resources have no slack hours before the gap ends"
    return options, _none_for(w, options, action, np.where(w.gaps["gap_id"].isin(routed["gap_id"]), why, "not made in-house here (no routing)"))


def shape_options(w: World, c: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move part of the gap's demand to the week after it, when every later week keeps its safety stock."""
    e = int(c["lead_time_weeks"])
    g = w.gaps
    rows = g["row"].to_numpy(dtype=np.int64)
    last = g["last"].to_numpy()
    start = np.maximum(g["first"].to_numpy(), e)
    t = np.arange(len(w.weeks))[None, :]
    receiving = w.spare(rows, np.minimum(last + 1, len(w.weeks) - 1))
    receiving = np.where(last < len(w.weeks) - 1, receiving, 0.0)
    movable = c["max_share_of_demand"] * np.where((t >= start[:, None]) & (t <= last[:, None]), np.clip(w.demand[rows], 0, None), 0.0).sum(axis=1)
    offer = np.where(last >= e, np.floor(np.minimum(movable, receiving) + 1e-9), 0.0)
    options = _moves(w, g, "shape_demand", start, last + 1, offer, "shape:" + _text(g["gap_id"]), by_demand=True,
                     cost_per_unit=c["cost_share_of_price"] * w.price[rows], pool="receive:" + _item(g), pool_cap=receiving,
                     detail="move demand of " + _label(w.weeks, start) + " to " + _label(w.weeks, last) + " into " + _label(w.weeks, np.minimum(last + 1, len(w.weeks) - 1)))
    why = np.select(
        [last < e, last >= len(w.weeks) - 1],
        ["the gap ends before shaping can take effect", "the gap lasts to the horizon's end: no later week has stock for the moved demand"],
        "the weeks after the gap have no stock above safety stock to serve moved demand",
    )
    return options, _none_for(w, options, "shape_demand", why)


def raise_options(w: World, lines: pd.DataFrame, products: pd.DataFrame, c: dict, fence: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """More units on a planned (not firm) open order arriving beyond the frozen fence, by the gap's end."""
    firm = lines["firm"].astype("boolean").fillna(True).to_numpy(dtype=bool) if "firm" in lines else np.ones(len(lines), dtype=bool)
    planned = lines[~firm & ~lines["kind"].eq("production").fillna(False).to_numpy()]
    pairs = w.gaps.merge(planned[["line_id", "sku", "location", "order_id", "eta_week", "qty"]], on=["sku", "location"])
    eta = w.position_at(pairs["eta_week"])
    ok = (eta >= max(fence, int(c["lead_time_weeks"]))) & (eta <= pairs["last"].to_numpy())
    pairs, eta = pairs[ok].reset_index(drop=True), eta[ok]
    order = pairs["order_id"].fillna("(no id)").astype(str).to_numpy(dtype=object)
    line = "raise:" + _text(pairs["line_id"])
    options = _moves(
        w, pairs, "raise_order", eta, np.full(len(pairs), len(w.weeks)), c["max_share_of_order"] * pairs["qty"].to_numpy(dtype=float), line,
        multiple=w.product_values(products, "order_multiple", pairs["row"], 1.0), cost_per_unit=float(c["cost_per_unit"]), fixed_cost=float(c["fixed_cost"]),
        fixed_key=line, pool=line, pool_cap=c["max_share_of_order"] * pairs["qty"].to_numpy(dtype=float), order_id=order,
        detail="raise planned order " + order + " arriving " + _label(w.weeks, eta),
    )
    why = "no planned (not firm) order of this item arrives beyond the frozen fence and by the gap's end"
    return options, _none_for(w, options, "raise_order", why)


def new_order_options(w: World, routings: pd.DataFrame, products: pd.DataFrame, c: dict, fence: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A new order of a bought item arriving beyond its lead time and the frozen fence: re-plan."""
    bought = ~keys_in(w.gaps, routings)  # made in-house: a routing at the gap's SKU-location
    lead = np.maximum(w.product_values(products, "lead_time_weeks", w.gaps["row"], c["lead_time_weeks"]), 0).astype(np.int64)
    earliest = np.maximum(lead, int(fence))
    arrive = np.maximum(earliest, w.gaps["first"].to_numpy())
    ok = bought & (arrive <= w.gaps["last"].to_numpy())
    pairs = w.gaps[ok].reset_index(drop=True)
    arrive, lead = arrive[ok], lead[ok]
    key = "new:" + _item(pairs) + ":" + _text(arrive)
    options = _moves(
        w, pairs, "new_order", arrive, np.full(len(pairs), len(w.weeks)), np.full(len(pairs), np.inf), key,
        multiple=w.product_values(products, "order_multiple", pairs["row"], 1.0), min_qty=w.product_values(products, "moq", pairs["row"], 0.0),
        cost_per_unit=float(c.get("cost_per_unit", 0.0)), fixed_cost=float(c["fixed_cost"]), fixed_key=key,
        detail="by " + _label(w.weeks, arrive - lead) + " to arrive " + _label(w.weeks, arrive),
    )
    why = np.where(bought, "no week of the gap is beyond the item's lead time and the frozen fence", "made in-house here: a production order is overtime or build-ahead")
    return options, _none_for(w, options, "new_order", why)


def _info_rows(w: World, open_orders: pd.DataFrame) -> pd.DataFrame:
    """allocate (booked orders in the gap weeks served first: no units gained) and accept (always)."""
    booked = w.gaps.merge(open_orders[["sku", "location", "week", "qty"]].astype({"sku": str, "location": str}), on=["sku", "location"])
    at = w.position_at(booked["week"])
    booked = booked[(at >= booked["first"].to_numpy()) & (at <= booked["last"].to_numpy())]
    units = w.gaps["gap_id"].map(booked.groupby("gap_id")["qty"].sum()).fillna(0).to_numpy()
    allocate = pd.DataFrame({"gap_id": w.gaps["gap_id"], "action": "allocate", "feasible": units > 0, "eff": 0,
                             "detail": np.where(units > 0, "serve " + pd.Series(units).round().astype(int).astype(str).to_numpy() + " booked units first", ""),
                             "reason": np.where(units > 0, "", "no booked orders in the gap weeks")})
    accept = pd.DataFrame({"gap_id": w.gaps["gap_id"], "action": "accept", "feasible": True, "eff": w.gaps["first"], "detail": "lose or delay the sales", "reason": ""})
    return pd.concat([allocate, accept], ignore_index=True)


def generate_options(
    w: World, lines: pd.DataFrame, capacity: pd.DataFrame, routings: pd.DataFrame, products: pd.DataFrame, substitutes: pd.DataFrame,
    open_orders: pd.DataFrame, catalogue: dict, frozen_fence_weeks: int = 0, lanes: pd.DataFrame | None = None,
    lane_load: pd.DataFrame | None = None, served: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every option of every shortage gap of ``w`` (see the module doc): the ``countermeasures`` columns
    plus the model's (:data:`MODEL`); gaps in the order of ``w.gaps``. ``lanes``: the input table of that name
    (None: no mode switch); ``lane_load``: the logistics step's table of that name (None: lanes carry nothing yet);
    ``served``: the ports that deliver to each location (:func:`serving_ports`; None: those of ``lines``)."""
    routings = routings if len(routings) else pd.DataFrame(columns=["sku", "location", "resource", "hours_per_unit"])
    parts = [
        order_options(w, lines, catalogue["expedite"], "expedite"),
        mode_options(w, lines, lanes, lane_load, products, catalogue["switch_mode"], served),
        order_options(w, lines, catalogue["pull_in"], "pull_in"),
        transfer_options(w, catalogue["transfer"]),
        capacity_options(w, capacity, routings, catalogue["overtime"], "overtime"),
        capacity_options(w, capacity, routings, catalogue["build_ahead"], "build_ahead"),
        substitute_options(w, substitutes, catalogue["substitute"]),
        raise_options(w, lines, products, catalogue["raise_order"], frozen_fence_weeks),
        new_order_options(w, routings, products, catalogue["new_order"], frozen_fence_weeks),
        shape_options(w, catalogue["shape_demand"]),
    ]
    found = [p[0] for p in parts if len(p[0])]
    # a week can have gaps and no lever that recovers a unit: only the infeasible rows (and accept) then
    feasible = pd.concat(found, ignore_index=True) if found else pd.DataFrame({"gap_id": pd.Series(dtype="int64"), "action": pd.Series(dtype="str")})
    feasible = feasible.assign(feasible=True, reason="")
    infeasible = pd.concat([p[1] for p in parts] + [_info_rows(w, open_orders)], ignore_index=True)
    return _table(w, _stand_alone(w, feasible), infeasible)


def _stand_alone(w: World, options: pd.DataFrame) -> pd.DataFrame:
    """Each feasible move on its own: ``qty``, the fewest whole units (in its multiple, at least its
    minimum) that recover all it can recover alone, and ``margin_recovered``, the kernel's value of its
    destination without minus with them. (Its ``cap`` stays the model's bound: with other moves beside
    it, a move can usefully take more than alone, e.g. when another covers an earlier week.)"""
    if options.empty:
        return options.assign(margin_recovered=pd.Series(dtype="float64"), qty=pd.Series(dtype="float64"))
    rows = options["row"].to_numpy(dtype=np.int64)
    prof = profiles(w, options["eff"].to_numpy(), options["stop"].to_numpy(), rows, options["by_demand"].to_numpy(dtype=bool))
    mult, least, cap = options["multiple"].to_numpy(), options["min_qty"].to_numpy(), options["cap"].to_numpy()
    base = w.value(rows)
    best = w.value(rows, cap[:, None] * prof)
    # bisection on whole multiples, all moves at once: the value only falls (or stays) as units are added
    lo = np.maximum(np.ceil(np.maximum(least, 1.0) / mult - 1e-9), 1.0) - 1  # a count of multiples known not to reach the best (or the minimum - 1)
    hi = np.floor(cap / mult + 1e-9)
    open_ = np.flatnonzero(hi - lo > 1)
    while len(open_):  # only the moves not yet settled are valued again (most settle in a few steps)
        mid = np.floor((lo[open_] + hi[open_]) / 2)
        at = rows[open_]
        reached = w.value(at, (mid * mult[open_])[:, None] * prof[open_]) <= best[open_] + 1e-9 * np.maximum(1.0, np.abs(best[open_]))
        hi[open_] = np.where(reached, mid, hi[open_])
        lo[open_] = np.where(reached, lo[open_], mid)
        open_ = open_[hi[open_] - lo[open_] > 1]
    qty = hi * mult
    return options.assign(qty=qty, margin_recovered=base - w.value(rows, qty[:, None] * prof))


def _table(w: World, feasible: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Both kinds of rows with the gap's keys, the stand-alone money and rank; ``chosen_*`` left for the plan."""
    out = pd.concat([feasible, other], ignore_index=True)
    for col, fill in (("cap", 0.0), ("qty", 0.0), ("cost_per_unit", 0.0), ("fixed_cost", 0.0), ("pool_use", 1.0), ("pool_cap", np.inf), ("multiple", 1.0),
                      ("min_qty", 0.0), ("margin_recovered", 0.0), ("pool2_use", 1.0), ("pool2_cap", np.inf)):
        out[col] = out[col].astype(float).fillna(fill) if col in out else fill
    for col in ("row", "eff", "stop", "pool_week"):
        out[col] = out[col].fillna(0).astype(np.int64) if col in out else 0
    out["by_demand"] = out["by_demand"].fillna(False).astype(bool) if "by_demand" in out else False
    for col in ("fixed_key", "pool", "pool2", "source_location", "substitute_sku", "resource", "order_id", "detail", "reason"):
        out[col] = out[col].fillna("").astype(str) if col in out else ""
    out["feasible"] = out["feasible"].fillna(False).astype(bool)
    key = w.gaps.assign(_order=np.arange(len(w.gaps)))[["gap_id", "_order", "sku", "location", "first_week", "row"]]
    out = out.drop(columns="row").merge(key, on="gap_id")
    out["cost"] = np.where(out["qty"] > 0, out["fixed_cost"] + out["cost_per_unit"] * out["qty"], 0.0)
    out["net_benefit"] = np.where(out["feasible"], out["margin_recovered"] - out["cost"], np.nan)
    out["effective_week"] = w.weeks[0] + pd.to_timedelta(out["eff"] * 7, unit="D")
    ranked = out[out["feasible"]].sort_values(["_order", "net_benefit"], ascending=[True, False], kind="stable")
    out["rank"] = ranked.groupby("_order").cumcount().add(1).reindex(out.index)
    out["chosen_qty"], out["chosen_cost"], out["chosen_net_benefit"], out["reprojected_net_benefit"] = 0.0, 0.0, 0.0, 0.0
    out["_a"] = out["action"].map({a: k for k, a in enumerate(ACTION_ORDER)})
    out = out.sort_values(["_order", "rank", "_a"], na_position="last", kind="stable").reset_index(drop=True)
    return out[COLUMNS + MODEL]
