"""Consecutive weekly extracts of the sample company, in which execution happens.

Week 0 is the sample company (:func:`.company.generate_sample`). Each next week is made from the week
before, all SKU-locations at once:

- **demand happens**: the week that passed gets its actuals, drawn when the company was made (the
  same seed: the same weeks);
- **receipts arrive** at their ETA and leave the open supply; **stock** = stock + arrivals - demand
  (never below zero: what cannot be served is not shipped); the lines on a lane that arrived join
  ``receipts_history`` (what the next run learns the lanes from);
- **some orders slip**: lines of the late supplier due next week slip a week half of the time, other
  purchases 3 % of the time (a seeded draw per week);
- **the plan is revised at a month boundary**: from the first week of a new month on, the S&OP plan
  moves halfway towards the last 8 weeks' actual demand (the monthly S&OP reacting);
- **booked orders** are drawn anew for the next four weeks; **supply and capacity** are extended so
  the 13-week horizon stays covered;
- **recorded decisions are carried out**, from the week after the meeting that recorded them: an
  expedite or pull-in brings its order up to two weeks earlier (not before that week), a transfer
  ships the units from the source location (a new transfer line, landing that week), a build-ahead
  adds a production order of the units that week, a new order (re-plan) adds a purchase order arriving
  in the week decided, a raised order gets the units more, shaping moves the units of plan from the next two
  weeks to six weeks out, overtime adds 25 % to the resource's hours. One action in three (by id) is
  **not** carried out, as happens.

Written as one folder per week (``<out>/<ISO week>/``), each a complete data folder with its
``planted.json`` saying what was simulated that week.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.params import HORIZON_WEEKS
from ..core.weeks import parse_weeks, week_label
from .company import DEFAULTS, LATE_SUPPLIER, RUN_WEEK, Truth, sample_with_truth, write_company
from .customers import order_history, split_orders
from .logistics import SUPPLIER_LANES

__all__ = ["NOT_EXECUTED_EVERY", "next_week", "simulate_weeks", "write_weeks"]

NOT_EXECUTED_EVERY = 3  # action ids divisible by this are not carried out (the loop must see both)
EXTENDING_SUPPLIER = "Nordic Supply AB"  # the new weeks' purchases come by truck from Gothenburg
REPLAN_WEIGHT = 0.5
SLIP_SHARE = 0.03


def _monday(label: str) -> pd.Timestamp:
    return parse_weeks(pd.Series([label])).iloc[0]


def _realise(t: dict[str, pd.DataFrame], truth: Truth, week: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(actuals of the week that passed, per-series demand that week) from the truth."""
    col = truth.now + int((week - truth.weeks[truth.now]).days // 7)
    demand = truth.future[:, col - truth.now] if col - truth.now < truth.future.shape[1] else np.zeros(len(truth.keys))
    sold = truth.keys.assign(week=week_label(week), qty=demand.astype("int64"))
    return pd.concat([t["actuals"], sold[sold["qty"] > 0]], ignore_index=True), truth.keys.assign(qty=demand)


def _stock(t: dict[str, pd.DataFrame], demand: pd.DataFrame, week: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(inventory after the week, the open supply without what arrived)."""
    supply = t["supply"]
    eta = parse_weeks(supply["eta_week"])
    arrived = supply[eta <= week]
    inbound = arrived.groupby(["sku", "location"])["qty"].sum()
    inv = t["inventory"].set_index(["sku", "location"])
    sold = demand.set_index(["sku", "location"])["qty"].reindex(inv.index).fillna(0.0)
    on_hand = (inv["on_hand"] + inbound.reindex(inv.index).fillna(0.0) - sold).clip(lower=0).round()
    return inv.assign(on_hand=on_hand.astype("int64")).reset_index(), supply[eta > week].reset_index(drop=True)


def _slips(supply: pd.DataFrame, next_week: pd.Timestamp, rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    """Lines due next week slip a week: the late supplier's half of the time, other purchases 3 %."""
    eta = parse_weeks(supply["eta_week"])
    due = (eta == next_week).to_numpy() & (supply["kind"] != "production").to_numpy()
    share = np.where(supply["supplier"].astype(str).to_numpy() == LATE_SUPPLIER, 0.5, SLIP_SHARE)
    slip = due & (rng.random(len(supply)) < share)
    supply = supply.copy()
    supply.loc[slip, "eta_week"] = (eta[slip] + pd.Timedelta(weeks=1)).dt.strftime("%Y-%m-%d")
    return supply, supply.loc[slip, "order_id"].astype(str).tolist()


def _replan(t: dict[str, pd.DataFrame], week: pd.Timestamp, previous: pd.Timestamp) -> tuple[pd.DataFrame, bool]:
    """At a month boundary the plan for the weeks from now moves halfway to the last 8 weeks' demand."""
    if week.month == previous.month:
        return t["demand_plan"], False
    plan = t["demand_plan"].copy()
    weeks = parse_weeks(plan["week"])
    recent = t["actuals"][parse_weeks(t["actuals"]["week"]) >= week - pd.Timedelta(weeks=8)]
    level = recent.groupby(["sku", "location"])["qty"].sum() / 8.0
    ahead = (weeks >= week).to_numpy()
    target = pd.MultiIndex.from_frame(plan.loc[ahead, ["sku", "location"]])
    actual_level = level.reindex(target).fillna(0.0).to_numpy()
    plan.loc[ahead, "qty"] = np.round((1 - REPLAN_WEIGHT) * plan.loc[ahead, "qty"].to_numpy() + REPLAN_WEIGHT * actual_level).astype("int64")
    return plan, True


def _booked(plan: pd.DataFrame, week: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """Booked customer orders for the next four weeks: most of next week's plan, less further out."""
    weeks = parse_weeks(plan["week"])
    ahead = plan[(weeks >= week) & (weeks < week + pd.Timedelta(weeks=4))].copy()
    k = ((parse_weeks(ahead["week"]) - week).dt.days // 7).to_numpy()
    share = np.array([0.7, 0.4, 0.15, 0.05])[k]
    ahead["qty"] = np.round(ahead["qty"].to_numpy() * share * rng.uniform(0.8, 1.1, len(ahead))).astype("int64")
    return ahead[ahead["qty"] > 0].reset_index(drop=True)


def _extend(t: dict[str, pd.DataFrame], week: pd.Timestamp, horizon: int = HORIZON_WEEKS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Supply and capacity cover the horizon: a new week at the end gets a receipt of its planned demand
    for every series (production where the item is made) and the capacity rows of the last week."""
    supply, capacity = t["supply"], t["capacity"]
    last = week + pd.Timedelta(weeks=horizon - 1)
    covered = parse_weeks(supply["week"]).max()
    if covered >= last:
        return supply, capacity
    plan = t["demand_plan"]
    pw = parse_weeks(plan["week"])
    new = plan[(pw > covered) & (pw <= last)].copy()
    made = new.merge(t["routings"][["sku", "location"]].drop_duplicates().assign(made=True), on=["sku", "location"], how="left")["made"].fillna(False).to_numpy()
    start = len(supply) + 1
    lines = pd.DataFrame({
        "order_id": [f"{'MO' if m else 'PO'}-R{start + i:06d}" for i, m in enumerate(made)], "sku": new["sku"].to_numpy(), "location": new["location"].to_numpy(),
        "week": parse_weeks(new["week"]).dt.strftime("%Y-%m-%d").to_numpy(), "eta_week": parse_weeks(new["week"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "qty": np.maximum(new["qty"].to_numpy(), 1).astype("int64"), "supplier": np.where(made, "", EXTENDING_SUPPLIER),
        "kind": np.where(made, "production", "purchase"),
    })
    origin, port, mode, carrier, _ = SUPPLIER_LANES[EXTENDING_SUPPLIER]  # its trucks come to the location itself
    lines = lines.assign(mode=np.where(made, "", mode), origin=np.where(made, "", origin), destination=np.where(made, "", port or lines["location"]),
                         carrier=np.where(made, "", carrier), ship_week="", status=np.where(made, "", "planned"))
    cw = parse_weeks(capacity["week"])
    tail = capacity[cw == cw.max()]
    extra = [tail.assign(week=week_label(cw.max() + pd.Timedelta(weeks=k))) for k in range(1, int((last - cw.max()).days // 7) + 1)]
    return pd.concat([supply, lines], ignore_index=True), pd.concat([capacity, *extra], ignore_index=True)


def _shape(plan: pd.DataFrame, sku: str, location: str, week: pd.Timestamp, qty: float) -> pd.DataFrame:
    """Demand shaping: ``qty`` units of the item's plan leave the next two weeks for the week six out."""
    plan = plan.copy()
    weeks = parse_weeks(plan["week"])
    mine = ((plan["sku"] == sku) & (plan["location"] == location)).to_numpy()
    near = mine & ((weeks >= week) & (weeks < week + pd.Timedelta(weeks=2))).to_numpy()
    later = mine & (weeks == week + pd.Timedelta(weeks=6)).to_numpy()
    taken = np.minimum(plan.loc[near, "qty"].to_numpy(), np.ceil(qty / 2)).astype("int64")
    plan.loc[near, "qty"] = plan.loc[near, "qty"].to_numpy() - taken
    plan.loc[later, "qty"] = plan.loc[later, "qty"].to_numpy() + int(taken.sum())
    return plan


def _carry_out(t: dict[str, pd.DataFrame], actions: pd.DataFrame, week: pd.Timestamp) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The decisions recorded at last week's meeting, carried out this week (one in three is not)."""
    done: list[str] = []
    if actions is None or actions.empty:
        return t, done
    t = dict(t)
    due = actions[(actions["week"] == week_label(week - pd.Timedelta(weeks=1))) & (actions["id"] % NOT_EXECUTED_EVERY != 0)]
    supply, inventory, capacity = t["supply"].copy(), t["inventory"].copy(), t["capacity"].copy()
    for a in due.itertuples():  # a handful of decisions a week, each a different kind of change
        if a.action_type in ("expedite", "switch_mode", "pull_in") and (line := supply["order_id"] == a.target).any():
            eta = parse_weeks(supply.loc[line, "eta_week"])
            supply.loc[line, "eta_week"] = eta.sub(pd.Timedelta(weeks=2)).clip(lower=week).dt.strftime("%Y-%m-%d")
        elif a.action_type == "transfer" and a.target and a.qty and a.qty > 0:
            src = (inventory["sku"] == a.sku) & (inventory["location"] == a.target)
            qty = int(min(round(a.qty), int(inventory.loc[src, "on_hand"].sum())))
            if qty <= 0:
                continue
            inventory.loc[src, "on_hand"] -= qty
            supply = pd.concat([supply, pd.DataFrame([{"order_id": f"TO-D{a.id:05d}", "sku": a.sku, "location": a.location, "week": week.strftime("%Y-%m-%d"),
                                                       "eta_week": week.strftime("%Y-%m-%d"), "qty": qty, "supplier": "", "kind": "transfer"}])], ignore_index=True)
        elif a.action_type == "build_ahead" and a.qty and a.qty > 0:
            supply = pd.concat([supply, pd.DataFrame([{"order_id": f"MO-D{a.id:05d}", "sku": a.sku, "location": a.location, "week": week.strftime("%Y-%m-%d"),
                                                       "eta_week": week.strftime("%Y-%m-%d"), "qty": int(round(a.qty)), "supplier": "", "kind": "production"}])],
                               ignore_index=True)
        elif a.action_type == "new_order" and a.qty and a.qty > 0:  # target: the week it is to arrive
            arrive = max(parse_weeks(pd.Series([a.target or week.strftime("%Y-%m-%d")])).iloc[0], week)
            supply = pd.concat([supply, pd.DataFrame([{"order_id": f"PO-D{a.id:05d}", "sku": a.sku, "location": a.location,
                                                       "week": arrive.strftime("%Y-%m-%d"), "eta_week": arrive.strftime("%Y-%m-%d"), "qty": int(round(a.qty)),
                                                       "supplier": "", "kind": "purchase"}])], ignore_index=True)
        elif a.action_type == "raise_order" and a.qty and a.qty > 0 and (line := supply["order_id"] == a.target).any():
            supply.loc[line, "qty"] = supply.loc[line, "qty"] + int(round(a.qty))
        elif a.action_type == "shape_demand" and a.qty and a.qty > 0:
            t["demand_plan"] = _shape(t["demand_plan"], a.sku, a.location, week, float(a.qty))
        elif a.action_type == "overtime" and (res := capacity["resource"] == a.target).any():
            later = res & (parse_weeks(capacity["week"]) >= week).to_numpy()
            capacity.loc[later, "available_hours"] = np.round(capacity.loc[later, "available_hours"] * 1.25)
        else:
            continue
        done.append(f"#{a.id} {a.action_type} {a.target}")
    t.update(supply=supply, inventory=inventory, capacity=capacity)
    return t, done


def _arrivals(t: dict[str, pd.DataFrame], week: pd.Timestamp) -> pd.DataFrame:
    """``receipts_history`` with the lines on a lane (from an origin: not production, not the company's own transfers)
    that arrived in ``week`` (received then; planned when they were): what the next week's run learns the lanes from."""
    supply, history = t["supply"], t["receipts_history"]
    came = supply[(parse_weeks(supply["eta_week"]) <= week).to_numpy() & supply["origin"].fillna("").ne("").to_numpy()]
    rows = came[["order_id", "sku", "location", "supplier", "mode", "origin", "destination", "carrier", "ship_week", "qty"]].assign(
        planned_week=came["week"], receipt_week=week.strftime("%Y-%m-%d"))
    return pd.concat([history, rows[list(history.columns)]], ignore_index=True)


def next_week(t: dict[str, pd.DataFrame], truth: Truth, week: pd.Timestamp, actions: pd.DataFrame | None, seed: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """The extract of ``week`` made from the extract of the week before (see the module doc)."""
    passed = week - pd.Timedelta(weeks=1)
    rng = np.random.default_rng([seed, int(week.strftime("%G%V"))])  # one stream per week: week k does not depend on later ones
    t = dict(t)
    t["actuals"], demand = _realise(t, truth, passed)
    t["receipts_history"] = _arrivals(t, passed)
    t["inventory"], t["supply"] = _stock(t, demand, passed)
    t, done = _carry_out(t, actions, week)
    t["supply"], slipped = _slips(t["supply"], week, rng)
    t["demand_plan"], replanned = _replan(t, week, passed)
    t["open_orders"] = split_orders(_booked(t["demand_plan"], week, rng), seed + int(week.strftime("%G%V")))
    if "order_history" in t:  # the lines due by last week, from what was sold
        t["order_history"] = order_history(t["actuals"], week, seed)
    t["supply"], t["capacity"] = _extend(t, week)
    note = {"run_week": week_label(week), "simulated_from": week_label(passed), "carried_out": done, "not_carried_out_every": NOT_EXECUTED_EVERY,
            "slipped_orders": slipped, "replanned": replanned}
    return t, note


def simulate_weeks(weeks: int, actions: pd.DataFrame | None = None, skus: int = DEFAULTS["skus"], locations: int = DEFAULTS["locations"],
                   seed: int = DEFAULTS["seed"]) -> list[tuple[str, dict[str, pd.DataFrame], dict]]:
    """``weeks`` consecutive extracts from the sample company's run week: (ISO week, tables, planted)."""
    tables, planted, truth = sample_with_truth(skus, locations, seed)
    out = [(RUN_WEEK, tables, planted)]
    week = _monday(RUN_WEEK)
    for _ in range(1, weeks):
        week = week + pd.Timedelta(weeks=1)
        tables, note = next_week(tables, truth, week, actions, seed)
        out.append((week_label(week), tables, {**planted, **note}))
    return out


def write_weeks(out: str | Path, weeks: int, actions: pd.DataFrame | None = None, fmt: str = "csv", **company) -> list[Path]:
    """Write :func:`simulate_weeks` as ``<out>/<ISO week>/`` data folders; returns them in week order."""
    return [write_company(Path(out) / label, tables, planted, fmt) for label, tables, planted in simulate_weeks(weeks, actions, **company)]


