"""Did last weeks' decisions work? Each action of the decision log, judged on what the data shows.

**Executed** (``yes`` / ``no`` / ``unknown``), comparing the inputs of the week the action was recorded
(its archived snapshot) with this week's:

| action type | yes when | no when |
|---|---|---|
| expedite, switch_mode, pull_in | the target order's ETA is earlier than when decided, or it is gone before its old ETA (arrived early) | its ETA did not move and the action is due |
| transfer | a transfer line of the item to its location appeared since | none appeared and the action is due |
| build_ahead | a production line of the item appeared since | none appeared and the action is due |
| new_order | a purchase line of the item appeared since | none appeared and the action is due |
| raise_order | the target order holds more units than when decided | it does not and the action is due |
| overtime | the target resource has more available hours over the weeks both runs cover | its hours did not rise and the action is due |
| shape_demand | the item's plan plus booked orders fell over the first three weeks both runs cover | they did not fall and the action is due |
| anything else (substitute, allocate, free text) | - | - (``unknown``) |

**Outcome**: for an action the data shows carried out, ``realised_benefit`` is a counterfactual: this
week's money at risk of the SKU-locations it moved receipts on (its item, and the donor of a transfer)
projected *without* what it did minus as they are (the risk bridge's "decisions" part, SKU-location by
SKU-location, split among the actions that moved receipts there by the units each moved): what it
saved, whatever else changed in between (a new S&OP plan, other supply). Its side effects count (the
donor's shortfall, the excess it made). Not carried out: 0, and said apart ("not executed"). When the
data cannot tell (free text, a substitute, an allocation): ``money_then - money_now``, the item's money
at risk when the action was recorded minus this week's. ``status``:

- ``too early``: not executed yet (or unknown) and its due week not past (a meeting in the due week still waits);
- ``not executed``: executed is ``no``;
- ``worked``: realised benefit >= ``worked_share`` x the expected benefit (and > 0), or the item has no gap left;
- ``partly``: some risk removed, less than that;
- ``no effect``: no risk removed.

``value_added = realised_benefit - expected_cost`` for executed actions (the cost is taken as spent),
``realised_benefit`` alone when executed is unknown, 0 when not executed. Limits: the money is a
projection (what happened to the units is not observed); the donor of a transfer is known from the
action (its target), the week it shipped taken as a week before it landed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.outputs import OUTPUTS
from ..core.weeks import parse_weeks

__all__ = ["OUTCOME_COLUMNS", "action_outcomes", "decision_credit", "decision_receipts", "executed", "value_rollup"]

OUTCOME_COLUMNS = OUTPUTS["action_outcomes"].names  # the contract's order (soe_lib/core/outputs.py)
ORDER_MOVES = ("expedite", "switch_mode", "pull_in")  # actions that bring an order's ETA forward


def _orders(actions: pd.DataFrame, then_supply: dict[str, pd.DataFrame], now_supply: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """expedite / switch_mode / pull_in: ETA of the target order when decided and now."""
    acts = actions[actions["action_type"].isin(ORDER_MOVES)]
    if acts.empty:
        return pd.DataFrame(columns=["action_id", "executed", "evidence"])
    then = pd.concat([s.assign(decided_week=w) for w, s in then_supply.items()], ignore_index=True) if then_supply else pd.DataFrame(columns=["order_id", "eta_week", "decided_week"])
    then = then.groupby(["decided_week", "order_id"], as_index=False)["eta_week"].min().rename(columns={"eta_week": "eta_then"})
    now = now_supply.groupby("order_id", as_index=False)["eta_week"].min().rename(columns={"eta_week": "eta_now"})
    j = acts.merge(then, left_on=["week", "target"], right_on=["decided_week", "order_id"], how="left").merge(now, left_on="target", right_on="order_id", how="left")
    eta_then, eta_now = pd.to_datetime(j["eta_then"]), pd.to_datetime(j["eta_now"])
    moved = eta_now.notna() & eta_then.notna() & (eta_now < eta_then)
    early = eta_now.isna() & eta_then.notna() & (eta_then >= run_week)  # gone before its old ETA: it arrived early
    due = j["due"].to_numpy()
    verdict = np.select([moved | early, eta_then.isna(), ~due], ["yes", "unknown", "unknown"], "no")
    lbl = lambda s: s.dt.strftime("%G-W%V").fillna("?")  # noqa: E731 (ISO labels for the evidence text)
    evidence = np.select(
        [moved, early, eta_then.isna()],
        ["ETA " + lbl(eta_then) + " -> " + lbl(eta_now), "received before its old ETA " + lbl(eta_then), "the order was not in the inputs when decided"],
        "ETA still " + lbl(eta_now),
    )
    return pd.DataFrame({"action_id": j["id"].to_numpy(), "executed": verdict, "evidence": evidence})


NEW_LINE_KIND = {"transfer": "transfer", "build_ahead": "production", "new_order": "purchase"}
SHAPED_WEEKS = 3  # shaping moves demand out of the next weeks


def _new_lines(actions: pd.DataFrame, then_supply: dict[str, pd.DataFrame], now_supply: pd.DataFrame) -> pd.DataFrame:
    """transfer / build_ahead: a transfer (production) line of the item at its location that was not
    there when the action was decided."""
    acts = actions[actions["action_type"].isin(list(NEW_LINE_KIND))]
    rows = []
    for a in acts.itertuples():  # a handful of actions a week: judged one by one, clearly
        kind = NEW_LINE_KIND[a.action_type]
        known = set(then_supply.get(a.week, pd.DataFrame(columns=["order_id"]))["order_id"])
        new = now_supply[now_supply["kind"].eq(kind).fillna(False).to_numpy() & (now_supply["sku"] == a.sku).to_numpy()
                         & (now_supply["location"] == a.location).to_numpy() & ~now_supply["order_id"].isin(known).to_numpy()]
        verdict = "yes" if len(new) else ("no" if a.due else "unknown")
        rows.append((a.id, verdict, f"new {kind} {', '.join(new['order_id'].astype(str))} ({new['qty'].sum():,.0f} units)" if len(new) else f"no new {kind} line"))
    return pd.DataFrame(rows, columns=["action_id", "executed", "evidence"])


def _raised(actions: pd.DataFrame, then_supply: dict[str, pd.DataFrame], now_supply: pd.DataFrame) -> pd.DataFrame:
    """raise_order: the target order holds more units than when the action was decided."""
    acts = actions[actions["action_type"] == "raise_order"]
    rows = []
    for a in acts.itertuples():
        before = then_supply.get(a.week, pd.DataFrame(columns=["order_id", "qty"]))
        b = float(before.loc[before["order_id"] == a.target, "qty"].sum())
        n = float(now_supply.loc[now_supply["order_id"] == a.target, "qty"].sum())
        verdict = "yes" if n > b + 1e-9 else ("no" if a.due else "unknown")
        rows.append((a.id, verdict, f"order {a.target}: {b:,.0f} -> {n:,.0f} units"))
    return pd.DataFrame(rows, columns=["action_id", "executed", "evidence"])


def _hours(actions: pd.DataFrame, then_capacity: dict[str, pd.DataFrame], now_capacity: pd.DataFrame) -> pd.DataFrame:
    """overtime: more available hours on the target resource over the weeks both cover."""
    acts = actions[actions["action_type"] == "overtime"]
    rows = []
    for a in acts.itertuples():
        before = then_capacity.get(a.week, pd.DataFrame(columns=["resource", "week", "available_hours"]))
        b = before[before["resource"] == a.target].set_index("week")["available_hours"]
        n = now_capacity[now_capacity["resource"] == a.target].set_index("week")["available_hours"]
        common = b.index.intersection(n.index)
        gain = float(n[common].sum() - b[common].sum()) if len(common) else 0.0
        verdict = "yes" if gain > 1e-9 else ("no" if a.due else "unknown")
        rows.append((a.id, verdict, f"{gain:+,.0f} available hours on {a.target}"))
    return pd.DataFrame(rows, columns=["action_id", "executed", "evidence"])


def _shaping(actions: pd.DataFrame, then_demand: dict[str, pd.DataFrame], now_demand: pd.DataFrame) -> pd.DataFrame:
    """shape_demand: the item's plan plus booked orders fell in the first weeks both runs cover (where
    the demand was to be moved from)."""
    acts = actions[actions["action_type"] == "shape_demand"]
    rows = []
    for a in acts.itertuples():
        before = then_demand.get(a.week, pd.DataFrame(columns=["sku", "location", "week", "qty"]))
        b = before[(before["sku"] == a.sku) & (before["location"] == a.location)].groupby("week")["qty"].sum()
        n = now_demand[(now_demand["sku"] == a.sku) & (now_demand["location"] == a.location)].groupby("week")["qty"].sum()
        common = b.index.intersection(n.index).sort_values()[:SHAPED_WEEKS]
        fell = float(b[common].sum() - n[common].sum()) if len(common) else 0.0
        verdict = "yes" if fell > 1e-9 else ("no" if a.due else "unknown")
        rows.append((a.id, verdict, f"plan and booked orders {-fell:+,.0f} units over the next {len(common)} weeks"))
    return pd.DataFrame(rows, columns=["action_id", "executed", "evidence"])


def executed(actions: pd.DataFrame, then: dict[str, dict[str, pd.DataFrame]], now: dict[str, pd.DataFrame], run_week: pd.Timestamp) -> pd.DataFrame:
    """(action_id, executed, evidence) per action (see the module doc). ``then[week]``: the inputs of the
    week an action was recorded in (supply, capacity, demand = plan + booked orders); ``now``: this week's."""
    acts = actions.assign(due=parse_weeks(actions["due_week"]).to_numpy() <= run_week.to_datetime64())
    pick = lambda name: {w: t[name] for w, t in then.items()}  # noqa: E731
    parts = [
        _orders(acts, pick("supply"), now["supply"], run_week), _new_lines(acts, pick("supply"), now["supply"]), _raised(acts, pick("supply"), now["supply"]),
        _hours(acts, pick("capacity"), now["capacity"]), _shaping(acts, pick("demand"), now["demand"]),
    ]
    found = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame(columns=["action_id", "executed", "evidence"])
    out = acts[["id"]].rename(columns={"id": "action_id"}).merge(found, on="action_id", how="left")
    out["executed"] = out["executed"].fillna("unknown")
    out["evidence"] = out["evidence"].fillna("the data cannot tell (free text, substitute or allocation)")
    return out


def decision_receipts(actions: pd.DataFrame, verdicts: pd.DataFrame, now_supply: pd.DataFrame, then_supply: pd.DataFrame, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Receipts moved or made by executed decisions, as (action_id, sku, location, week, qty) changes on
    this week's horizon: an expedited order's quantity leaves its old ETA and lands at its new one; a
    transfer, build-ahead or new order made lands at its ETA, and a transfer leaves its donor (the
    action's target location) the week before; a raised order's extra units land at its ETA. (For the risk bridge's "decisions" part and each action's credit.)"""
    cols = ["action_id", "sku", "location", "week", "qty"]
    if actions.empty or verdicts.empty:
        return pd.DataFrame(columns=cols)
    done = actions.merge(verdicts[verdicts["executed"] == "yes"][["action_id"]], left_on="id", right_on="action_id")
    rows = []
    orders = done[done["action_type"].isin(ORDER_MOVES)][["action_id", "target"]]
    old = then_supply[then_supply["order_id"].isin(orders["target"])][["order_id", "eta_week"]].rename(columns={"eta_week": "eta_then"})
    new = now_supply[now_supply["order_id"].isin(orders["target"])][["sku", "location", "order_id", "eta_week", "qty"]]
    both = new.merge(old, on="order_id").merge(orders.drop_duplicates("target"), left_on="order_id", right_on="target")
    rows.append(both.assign(week=both["eta_then"], qty=-both["qty"]))
    rows.append(both.assign(week=both["eta_week"]))
    known = set(then_supply["order_id"])
    raised = done[done["action_type"] == "raise_order"][["action_id", "target"]].drop_duplicates("target")
    grown = now_supply.merge(raised, left_on="order_id", right_on="target").merge(
        then_supply.groupby("order_id", as_index=False)["qty"].sum().rename(columns={"qty": "qty_then"}), on="order_id")
    rows.append(grown.assign(week=grown["eta_week"], qty=grown["qty"] - grown["qty_then"]))
    for action_type, kind in NEW_LINE_KIND.items():
        wanted = done[done["action_type"] == action_type][["action_id", "sku", "location", "target"]].drop_duplicates(["sku", "location"])
        made = now_supply[now_supply["kind"].eq(kind).fillna(False) & ~now_supply["order_id"].isin(known)].merge(wanted, on=["sku", "location"])
        rows.append(made.assign(week=made["eta_week"]))
        if action_type == "transfer":  # the donor sends them a week before they land
            donor = made[made["target"].fillna("") != ""]
            rows.append(donor.assign(location=donor["target"], week=pd.to_datetime(donor["eta_week"]) - pd.Timedelta(weeks=1), qty=-donor["qty"]))
    found = [r[cols] for r in rows if len(r)]
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=cols)
    out["week"] = pd.to_datetime(out["week"]).clip(lower=weeks[0])  # a receipt due in the past lands now
    return out[out["week"] <= weeks[-1]].reset_index(drop=True)


def decision_credit(receipts: pd.DataFrame, parts: pd.DataFrame) -> pd.Series:
    """Per action_id, what it saved this week: minus the risk bridge's "decisions" part of each
    SKU-location it moved receipts on (``parts``: sku, location, decisions_part), shared among the actions
    that moved receipts there by the units each moved."""
    if receipts.empty or parts.empty:
        return pd.Series(dtype="float64")
    moved = receipts.assign(units=receipts["qty"].abs()).groupby(["action_id", "sku", "location"], as_index=False)["units"].sum()
    moved["share"] = moved["units"] / moved.groupby(["sku", "location"])["units"].transform("sum")
    part = parts.set_index(["sku", "location"])["decisions_part"]
    moved["credit"] = -moved["share"] * part.reindex(pd.MultiIndex.from_frame(moved[["sku", "location"]])).fillna(0.0).to_numpy()
    return moved.groupby("action_id")["credit"].sum()


def action_outcomes(actions: pd.DataFrame, verdicts: pd.DataFrame, items_now: pd.DataFrame, run_week: pd.Timestamp, worked_share: float = 0.5,
                    credit: pd.Series | None = None) -> pd.DataFrame:
    """The ``action_outcomes`` table (see the module doc); ``items_now``: item_id, money_now, shortage_now;
    ``credit``: per action_id, what an executed action saved this week (:func:`decision_credit`)."""
    if actions.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in OUTCOME_COLUMNS})
    a = actions.rename(columns={"id": "action_id", "week": "decided_week", "status": "log_status", "item_money_at_risk": "money_then",
                                "item_shortage_qty": "shortage_then", "item_cause": "cause"}).merge(verdicts, on="action_id", how="left")
    now = items_now.set_index("item_id")
    a["money_now"] = a["item_id"].map(now["money_now"]).fillna(0.0)
    a["shortage_now"] = a["item_id"].map(now["shortage_now"]).fillna(0.0)
    a["money_then"] = a["money_then"].astype(float)
    saved = a["action_id"].map(credit if credit is not None else pd.Series(dtype="float64")).fillna(0.0)
    a["realised_benefit"] = np.select([a["executed"] == "yes", a["executed"] == "no"], [saved, 0.0], a["money_then"] - a["money_now"])
    cost = a["expected_cost"].astype(float).fillna(0.0)
    a["value_added"] = np.select([a["executed"] == "yes", a["executed"] == "no"], [a["realised_benefit"] - cost, 0.0], a["realised_benefit"])
    # judged once its due week has passed, as the decision list counts an action overdue (a meeting in the due week
    # still sees the action in hand: "not carried out" there would contradict the list)
    due = parse_weeks(a["due_week"]).to_numpy() < run_week.to_datetime64()
    due_now = parse_weeks(a["due_week"]).to_numpy() == run_week.to_datetime64()
    expected = a["expected_benefit"].astype(float).fillna(0.0)
    closed = (a["money_now"] <= 1e-9) & (a["money_then"] > 0)
    a["status"] = np.select(
        [(a["executed"] != "yes") & ~due, a["executed"] == "no", closed | ((a["realised_benefit"] >= worked_share * expected) & (a["realised_benefit"] > 0)),
         a["realised_benefit"] > 0],
        ["too early", "not executed", "worked", "partly"], "no effect",
    )
    still_open = ~a["log_status"].isin(["done", "cancelled"])
    # words that agree with the decision list: not carried out is not "did not work"; worked is offered for closing
    a["proposal"] = np.select(
        [still_open & closed, still_open & (a["status"] == "worked"), still_open & (a["status"] == "no effect"),
         still_open & (a["status"] == "not executed"), still_open & (a["status"] == "too early") & due_now, still_open & (a["status"] == "too early")],
        ["close it: its item has no gap left", "close it: it worked", "bring it back to the meeting: it did not work",
         "bring it back to the meeting: it was not carried out", "wait: due this week", "wait: not due yet"], "",
    )
    a["money_then"] = a["money_then"].fillna(0.0)
    return a.reindex(columns=OUTCOME_COLUMNS).sort_values(["decided_week", "action_id"]).reset_index(drop=True)


def value_rollup(outcomes: pd.DataFrame) -> pd.DataFrame:
    """``countermeasure_value``: per action type, owner and the item's cause (actions not too early)."""
    judged = outcomes[outcomes["status"] != "too early"]
    cols = ["by", "group", "actions", "worked", "worked_share", "realised_benefit", "cost", "value_added"]
    if judged.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    judged = judged.assign(worked=(judged["status"] == "worked").astype(int),
                           spent=np.where(judged["executed"] == "yes", judged["expected_cost"].astype(float).fillna(0.0), 0.0),
                           type=judged["action_type"].replace("", "(free text)"), cause=judged["cause"].replace("", "(unknown)"))
    frames = []
    for by, col in (("action type", "type"), ("owner", "owner"), ("cause", "cause")):
        g = judged.groupby(col, as_index=False).agg(actions=("action_id", "size"), worked=("worked", "sum"), realised_benefit=("realised_benefit", "sum"),
                                                    cost=("spent", "sum"), value_added=("value_added", "sum"))
        frames.append(g.rename(columns={col: "group"}).assign(by=by))
    out = pd.concat(frames, ignore_index=True)
    out["worked_share"] = out["worked"] / out["actions"]
    return out[cols].sort_values(["by", "value_added"], ascending=[True, False]).reset_index(drop=True)
