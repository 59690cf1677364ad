"""The decision list the weekly meeting works through: execution items, capped; S&OP findings apart.

**Execution items**, one per thing a planner acts on, each with a stable ``item_id`` (the same event
has the same id next week, so it can be followed):

| kind | one item per | money at risk |
|---|---|---|
| ``sku-location`` | SKU-location with a shortage gap, a spike or drop, or sensed demand far from plan (its facets) | the margin at risk of its shortage gaps; without one, the forward deviation: abs(sensed - plan) over the next 4 weeks x margin |
| ``capacity`` | resource overloaded in some week (with what it carries over) | margin of the production it cannot finish in the horizon |
| ``storage`` | location over its storage capacity in some week | overflow units x ``overflow_cost_per_unit``, summed over weeks |
| ``customer`` | customer whose order lines are cut in their week (the allocation step) | its share of the margin at risk of the SKU-locations it is cut at: each SKU-location's money shared among its cut lines by units cut |

``urgency = urgency_decay ^ (weeks until it starts)``, ``score = money x urgency``; the list is ranked
by score and **capped at the alert budget**; the rest is summarised by kind. An item whose open actions,
recorded in earlier weeks, cover at least ``in_hand_cover`` (80 %) of its shortage is shown **in
hand** outside the budget, unless its shortage grew since (more than 10 % and one unit), or the action
is past its due week and the shortage did not ease ("did not work": the item then leads the list). An
item covered only in part stays on the list with the part left uncovered. Each SKU-location
item carries what the joint plan chose for its gaps (:mod:`.plan`).

**S&OP items** (``track = sop``): persistent plan bias and a drifting plan (tracking signal). They are
listed apart (the top ``budget`` by money; all of them are in ``demand_exceptions``), never take an
execution place, and go into ``sop_feedback.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.items import eased, item_id, worse
from ..core.outputs import OUTPUTS
from ..core.text import joined_per_group
from ..core.weeks import week_labels, weeks_between

__all__ = ["COLUMNS", "FIRST_MOVE", "cap_to_budget", "decision_items", "sop_items", "why_ranked"]

FIRST_MOVE = {
    "capacity": "overtime, or move production to another week or resource",
    "storage": "delay receipts or transfer stock out",
    "customer": "agree the cut and the confirmed dates with the customer, or re-allocate",
    "spike": "confirm with sales; check supply for the next weeks",
    "drop": "confirm with sales; slow down inbound supply",
    "sensed_vs_plan": "align the near-term plan with sensed demand",
    "persistent_bias": "correct the plan at the next S&OP",
    "tracking_signal": "review the plan's trend at the next S&OP",
}
DEMAND_KINDS = ("spike", "drop", "sensed_vs_plan")
SOP_KINDS = ("persistent_bias", "tracking_signal")
SEVERITY = {"low": 0, "medium": 1, "high": 2}
COLUMNS = OUTPUTS["decision_list"].names  # the contract's order (soe_lib/core/outputs.py)

# weeks from the run week a demand finding is valued on (its demand vs plan, its plan ahead x bias)
FINDING_WEEKS = 4

def _urgency(week: pd.Series, run_week: pd.Timestamp, decay: float) -> np.ndarray:
    return decay ** weeks_between(pd.to_datetime(week), run_week).clip(lower=0).to_numpy()


def _plan_of_gaps(impact: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """Per SKU-location: what the joint plan chose for its gaps (text, units, cost, net benefit)."""
    chosen = options[options["chosen_qty"] > 0].merge(impact[["gap_id"]], on="gap_id")
    if chosen.empty:
        return pd.DataFrame(columns=["sku", "location", "best_action", "action_qty", "action_cost", "action_net_benefit"])
    keys = ["sku", "location"]
    # one move per lever and detail (a transfer serving three gaps of the item is one shipment)
    chosen = chosen.groupby([*keys, "action", "detail"], as_index=False)[["chosen_qty", "chosen_cost", "chosen_net_benefit"]].sum()
    chosen = chosen.sort_values("chosen_net_benefit", ascending=False, kind="stable")
    qty = chosen["chosen_qty"].round(0).astype(int).astype(str)
    chosen["text"] = np.where(chosen["action"] == "new_order", "re-plan: order " + qty + " " + chosen["detail"],
                              chosen["action"].str.replace("_", " ") + " " + chosen["detail"] + " (" + qty + ")")
    out = chosen.groupby(keys, as_index=False).agg(
        moves=("text", "size"), action_qty=("chosen_qty", "sum"), action_cost=("chosen_cost", "sum"), action_net_benefit=("chosen_net_benefit", "sum"),
    )
    # the three best moves by name, then how many more (one join over all items, not a function per item)
    named = joined_per_group(chosen[chosen.groupby(keys).cumcount() < 3], keys, "text", "; ")
    out["best_action"] = named.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy()
    more = out["moves"] - 3
    out["best_action"] = out["best_action"] + np.where(more > 0, "; +" + more.astype(str) + " more", "")
    return out.drop(columns="moves")


def _demand_facets(demand_exceptions: pd.DataFrame, projection: pd.DataFrame, margin: pd.Series, run_week: pd.Timestamp, forward_weeks: int) -> pd.DataFrame:
    """Spike, drop and sensed-vs-plan findings per SKU-location, valued on what they mean from now on."""
    dem = demand_exceptions[demand_exceptions["kind"].isin(DEMAND_KINDS)].reset_index(drop=True)
    near = projection[projection["week"] < run_week + pd.Timedelta(weeks=forward_weeks)]
    ahead = near.groupby(["sku", "location"], as_index=False)[["demand_qty", "plan_demand_qty"]].sum()
    dem = dem.merge(ahead, on=["sku", "location"], how="left")
    dem["money"] = (dem["demand_qty"] - dem["plan_demand_qty"]).abs().fillna(0).to_numpy() * dem["sku"].map(margin).astype(float).fillna(0).to_numpy()
    dem["text"] = dem["kind"].str.replace("_", " ") + ": " + dem["detail"].fillna("")
    return dem


def _per_item(text: pd.Series, keys: pd.DataFrame) -> np.ndarray:
    """Text per (sku, location) group aligned to the rows of ``keys``."""
    return text.reindex(pd.MultiIndex.from_frame(keys)).to_numpy()


def sku_location_items(impact: pd.DataFrame, options: pd.DataFrame, facets: pd.DataFrame) -> pd.DataFrame | None:
    """One item per SKU-location with a shortage gap or a demand finding (its facets in ``detail``); None when
    there is neither."""
    if not len(impact) and not len(facets):
        # nothing to list; and pandas 3.1 cannot merge two empty frames keyed by Arrow strings (ArrowInvalid)
        return None
    whole = impact["shortage_qty"].round(0).astype(int)
    gaps = impact.assign(text=whole.map("{:,}".format) + np.where(whole == 1, " unit short from ", " units short from ") + week_labels(impact["first_week"]).astype(object)
                         + " (" + impact["cause"].astype(str) + ")", sev=np.where(impact["weeks_short"] >= 3, 2, np.where(impact["weeks_short"] == 2, 1, 0)))
    keys = ["sku", "location"]
    gaps = gaps.sort_values("margin_at_risk", ascending=False)
    by_gap = gaps.groupby(keys, as_index=False).agg(
        gap_money=("margin_at_risk", "sum"), shortage_qty=("shortage_qty", "sum"), gap_week=("first_week", "min"),
        gap_cause=("cause", "first"), gap_sev=("sev", "max"))
    by_gap["gap_text"] = _per_item(joined_per_group(gaps, keys, "text", "; "), by_gap[keys])
    dem = facets.assign(sev=facets["severity"].map(SEVERITY)).sort_values("money", ascending=False)
    by_dem = dem.groupby(keys, as_index=False).agg(
        dem_money=("money", "max"), dem_week=("week", "min"), dem_kind=("kind", "first"), dem_dir=("direction", "first"),
        dem_sev=("sev", "max"))
    by_dem["dem_text"] = _per_item(joined_per_group(dem, keys, "text", "; "), by_dem[keys])
    items = by_gap.merge(by_dem, on=["sku", "location"], how="outer").merge(_plan_of_gaps(impact, options), on=["sku", "location"], how="left")
    has_gap = items["gap_money"].notna()
    items["money_at_risk"] = np.where(has_gap, items["gap_money"], items["dem_money"])
    items["week"] = pd.concat([pd.to_datetime(items["gap_week"]), pd.to_datetime(items["dem_week"])], axis=1).min(axis=1)
    items["severity"] = np.array(list(SEVERITY))[np.fmax(items["gap_sev"].astype(float).fillna(-1), items["dem_sev"].astype(float).fillna(-1)).astype(int)]
    items["cause"] = np.where(has_gap, items["gap_cause"], "demand " + items["dem_dir"].fillna(""))
    first_move = items["dem_kind"].map(FIRST_MOVE)
    items["best_action"] = items["best_action"].fillna(pd.Series(np.where(has_gap, "accept: no countermeasure pays", first_move), index=items.index))
    gap_text, dem_text = items["gap_text"].fillna(""), items["dem_text"].fillna("")
    items["detail"] = gap_text + np.where((gap_text != "") & (dem_text != ""), "; ", "") + dem_text
    items["kind"], items["resource"], items["shortage_qty"] = "sku-location", "", items["shortage_qty"].fillna(0.0)
    items["item_id"] = item_id("sku-location", items["sku"], items["location"])
    return items


def capacity_items(capacity: pd.DataFrame, lines: pd.DataFrame, margin: pd.Series) -> pd.DataFrame | None:
    """One item per overloaded resource: the margin of the production it cannot finish in the horizon."""
    over = capacity[capacity["overloaded"].astype(bool)] if len(capacity) else capacity
    if not len(over):
        return None
    risk = lines[lines["at_risk_qty"] > 0].assign(money=lambda f: f["sku"].map(margin).astype(float) * f["at_risk_qty"])
    money = risk.groupby("bottleneck")["money"].sum()
    out = over.groupby("resource", as_index=False).agg(week=("week", "min"), weeks=("week", "size"), peak=("load_pct", "max"), carried=("carried_out_hours", "max"))
    out["money_at_risk"] = out["resource"].map(money).fillna(0.0)
    out["severity"] = np.where(out["peak"] >= 1.5, "high", np.where(out["peak"] >= 1.2, "medium", "low"))
    # a week with work due and no hours at all (a shutdown) has no load share: said in words
    peak = np.where(np.isfinite(out["peak"]), (out["peak"].replace([np.inf, -np.inf], np.nan).fillna(0) * 100).round(0).astype(int).astype(str) + " % of available hours",
                    "work due in a week without hours")
    out["detail"] = ("overloaded in " + out["weeks"].astype(str) + " weeks from " + week_labels(out["week"]).astype(object) + ", peak load "
                     + peak + ", up to " + out["carried"].fillna(0).round(0).astype(int).astype(str) + " h carried into the next week")
    out["item_id"] = item_id("capacity", out["resource"])
    return out.assign(kind="capacity", sku="", location="", cause="load above available hours", best_action=FIRST_MOVE["capacity"], shortage_qty=0.0)


def storage_items(storage: pd.DataFrame, overflow_cost_per_unit: float) -> pd.DataFrame | None:
    """One item per location over its storage capacity: overflow units x cost, summed over its weeks."""
    flow = storage[storage["overflow"].astype(bool)] if len(storage) else storage
    if not len(flow):
        return None
    out = flow.groupby("location", as_index=False).agg(week=("week", "min"), weeks=("week", "size"), units=("overflow_qty", "sum"),
                                                        peak=("overflow_qty", "max"), utilization=("utilization", "max"))
    out["money_at_risk"] = out["units"] * overflow_cost_per_unit
    out["severity"] = np.where(out["utilization"] >= 1.1, "high", "medium")
    out["detail"] = ("over capacity in " + out["weeks"].astype(str) + " weeks from " + week_labels(out["week"]).astype(object) + ", up to "
                     + out["peak"].round(0).astype(int).astype(str) + " units over")
    out["item_id"] = item_id("storage", out["location"])
    return out.assign(kind="storage", sku="", resource="", cause="units held above storage capacity", best_action=FIRST_MOVE["storage"], shortage_qty=0.0)


def customer_items(allocation: pd.DataFrame | None, impact: pd.DataFrame) -> pd.DataFrame | None:
    """One item per customer cut in some week: "KEY-ACCOUNT cut 30 % in 2026-W50" (module doc)."""
    cut = allocation[allocation["cut_qty"] > 0] if allocation is not None and len(allocation) else None
    if cut is None or not len(cut):
        return None
    keys = ["sku", "location"]
    money = impact.assign(sku=impact["sku"].astype(str), location=impact["location"].astype(str)).groupby(keys)["margin_at_risk"].sum()
    cut = cut.assign(sku=cut["sku"].astype(str), location=cut["location"].astype(str))
    share = cut["cut_qty"] / cut.groupby(keys)["cut_qty"].transform("sum")
    cut = cut.assign(money=share.to_numpy() * money.reindex(pd.MultiIndex.from_frame(cut[keys])).fillna(0.0).to_numpy(),
                     week=pd.to_datetime(cut["requested_week"]))
    asked = allocation.groupby("customer")["requested_qty"].sum()
    out = cut.groupby("customer", as_index=False).agg(week=("week", "min"), money_at_risk=("money", "sum"), shortage_qty=("cut_qty", "sum"),
                                                      lines=("line_id", "size"), tier=("tier", "min"))
    pct = out["shortage_qty"] / out["customer"].map(asked).to_numpy()
    out["severity"] = np.where(pct >= 0.3, "high", np.where(pct >= 0.1, "medium", "low"))
    out["detail"] = (out["customer"].astype(str) + " (tier " + out["tier"].astype(str) + ") cut " + (pct * 100).round(0).astype(int).astype(str)
                     + " % of what it ordered, from " + week_labels(out["week"]).astype(object) + ": " + out["lines"].astype(str)
                     + np.where(out["lines"] == 1, " line", " lines"))
    out["item_id"] = item_id("customer", out["customer"].astype(str))
    return out.rename(columns={"customer": "resource"}).assign(kind="customer", sku="", location="", cause="supply short: allocated by the rule",
                                                                best_action=FIRST_MOVE["customer"])


def sop_items(demand_exceptions: pd.DataFrame, projection: pd.DataFrame, margin: pd.Series, run_week: pd.Timestamp,
              forward_weeks: int = FINDING_WEEKS, currency: str = "") -> pd.DataFrame:
    """Persistent bias and drifting plans: for next month's S&OP, valued at abs(bias) x plan ahead x margin."""
    sop = demand_exceptions[demand_exceptions["kind"].isin(SOP_KINDS)].reset_index(drop=True)
    near = projection[projection["week"] < run_week + pd.Timedelta(weeks=forward_weeks)]
    ahead = near.groupby(["sku", "location"], as_index=False)["plan_demand_qty"].sum()
    sop = sop.merge(ahead, on=["sku", "location"], how="left")
    money = (sop["bias"].abs() * sop["plan_demand_qty"]).fillna(0).to_numpy() * sop["sku"].map(margin).astype(float).fillna(0).to_numpy()
    return pd.DataFrame({
        "item_id": item_id("sop", sop["kind"], sop["sku"], sop["location"]), "track": "sop", "kind": sop["kind"], "sku": sop["sku"],
        "location": sop["location"], "resource": "", "week": pd.to_datetime(sop["week"]), "severity": sop["severity"], "money_at_risk": money,
        "shortage_qty": 0.0, "cause": sop["direction"].fillna(""), "best_action": sop["kind"].map(FIRST_MOVE), "detail": sop["detail"].fillna(""),
        "why": "for the monthly S&OP (not ranked with this week's execution): " + _money(money, currency)
               + f" of plan error over the next {forward_weeks} weeks",
    })


def _in_hand(items: pd.DataFrame, open_actions: pd.DataFrame, cover: float) -> tuple[np.ndarray, pd.Series, np.ndarray, np.ndarray]:
    """(in hand, the open action per item, did not work, units covered of an item covered in part): the open actions of
    earlier weeks on an item put it in hand while they cover at least ``cover`` of its shortage (the units
    each moves; an action without units, free text, covers it all) and unless the item's shortage grew by
    more than 10 % and a unit since the action was recorded ("worse since"), or the action is past its due
    week and the shortage did not ease ("did not work": it comes back to the meeting first)."""
    none = np.zeros(len(items), dtype=bool)
    if open_actions.empty or "item_id" not in open_actions:
        return none, pd.Series("", index=items.index), none, np.zeros(len(items))
    # covered: the units of the actions of an item covered in part (those it is listed without); 0 otherwise
    acts = open_actions[open_actions["item_id"].fillna("") != ""].sort_values("id")
    qty = acts["qty"].astype(float) if "qty" in acts else pd.Series(np.nan, index=acts.index)
    covered = items["item_id"].map(qty.fillna(np.inf).groupby(acts["item_id"]).sum()).fillna(0.0).to_numpy()
    latest = acts.drop_duplicates("item_id", keep="last").set_index("item_id")
    found = items["item_id"].map(latest["id"])
    then = items["item_id"].map(latest["item_shortage_qty"]).fillna(0.0)
    overdue = items["item_id"].map(latest["overdue"] if "overdue" in latest else pd.Series(dtype=bool)).fillna(False).astype(bool).to_numpy()
    now = items["shortage_qty"].astype(float).to_numpy()
    grew = worse(now, then)
    failed = found.notna().to_numpy() & overdue & ~grew & ~eased(now, then) & (now > 0)
    share = np.where(now > 0, np.minimum(covered, now) / np.where(now > 0, now, 1.0), 1.0)
    partial = found.notna().to_numpy() & ~grew & ~failed & (share < cover - 1e-12)
    part = pd.Series(np.minimum(covered, now)).map("{:,.0f}".format).to_numpy() + " of " + pd.Series(now).map("{:,.0f}".format).to_numpy()
    note = np.select([grew, failed, partial], [" (worse since)", " (did not work)", " (covers " + part + " units)"], "")
    label = np.where(found.notna(), "#" + found.fillna(0).astype(int).astype(str) + note, "")
    return (found.notna().to_numpy() & ~grew & ~failed & ~partial), pd.Series(label, index=items.index), failed, np.where(partial, np.minimum(covered, now), 0.0)


def _when(weeks: np.ndarray) -> np.ndarray:
    """Weeks until an item starts in words: "starts this week", "starts in 1 week", "starts in 3 weeks"."""
    n = np.maximum(weeks, 0).astype(int)
    return np.where(n == 0, "starts this week", np.where(n == 1, "starts in 1 week", "starts in " + n.astype(str) + " weeks"))


def _text(values: pd.Series | np.ndarray, fmt: str) -> np.ndarray:
    """Numbers as text in ``fmt``, an object array (also when there is none: an empty float column is not text)."""
    return pd.Series(np.asarray(values, dtype=float)).map(fmt.format).astype(object).to_numpy()


def _money(values: pd.Series | np.ndarray, currency: str) -> np.ndarray:
    return _text(values, "{:,.0f}") + (" " + currency if currency else "")


def why_ranked(items: pd.DataFrame, run_week: pd.Timestamp, failed: np.ndarray, currency: str = "") -> np.ndarray:
    """Why each execution item ranks where it does, in the score's parts in the order the list sorts by:
    an earlier action that did not work (listed first), then ``score = money at risk x urgency`` with the money, the
    weeks until it starts and the urgency weight; the units open actions cover when they cover it in part; in hand."""
    weeks = weeks_between(pd.to_datetime(items["week"]), run_week).to_numpy()
    score = (_money(items["money_at_risk"], currency) + " at risk, " + _when(weeks).astype(object) + " (x" + _text(items["urgency"], "{:.2f}")
             + "): score " + _text(items["score"], "{:,.0f}"))
    action = items["open_action"].fillna("").astype(str).str.split(" ").str[0].astype(object).to_numpy()
    covered = items["covered_qty"].astype(float).to_numpy()
    score = np.where(covered > 0, score + "; open action " + action + " covers " + _text(covered, "{:,.0f}") + " units, ranked on the rest", score)
    return np.select([items["in_hand"].astype(bool).to_numpy(), failed],
                     ["in hand: open action " + action + " covers it (not ranked)", "its action " + action + " did not work: listed first; " + score],
                     score)


def decision_items(
    impact: pd.DataFrame, options: pd.DataFrame, capacity: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame, storage: pd.DataFrame,
    demand_exceptions: pd.DataFrame, projection: pd.DataFrame, run_week: pd.Timestamp, urgency_decay: float = 0.85,
    overflow_cost_per_unit: float = 1.0, open_actions: pd.DataFrame | None = None, forward_weeks: int = FINDING_WEEKS, in_hand_cover: float = 0.8,
    currency: str = "", allocation: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every execution item of the week, scored (see module doc), best first; in-hand ones flagged. An
    item its open actions cover only in part stays on the list with the part they leave: its money and
    units short scaled to the uncovered share (``covered_qty`` says how many units are in hand). ``allocation``: the
    allocation step's ``order_allocation`` (None: no customer items)."""
    margin = (products.set_index("sku")["unit_price"] - products.set_index("sku")["unit_cost"]).rename("margin")
    facets = _demand_facets(demand_exceptions, projection, margin, run_week, forward_weeks)
    frames = [f for f in (sku_location_items(impact, options, facets), capacity_items(capacity, lines, margin), storage_items(storage, overflow_cost_per_unit),
                          customer_items(allocation, impact))
              if f is not None and len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    items = pd.concat(frames, ignore_index=True)
    items["track"] = "execution"
    items["money_at_risk"] = items["money_at_risk"].astype(float).fillna(0.0)
    # the item's size, as next week's comparison judges "worse": units short, peak hours carried, units over capacity
    items["size"] = np.select([items["kind"] == "capacity", items["kind"] == "storage"],
                              [items.get("carried", pd.Series(0.0, index=items.index)).astype(float).fillna(0.0),
                               items.get("units", pd.Series(0.0, index=items.index)).astype(float).fillna(0.0)], items["shortage_qty"].astype(float))
    items["urgency"] = _urgency(items["week"], run_week, urgency_decay)
    items["in_hand"], items["open_action"], failed, covered = _in_hand(items, open_actions if open_actions is not None else pd.DataFrame(), in_hand_cover)
    short = items["shortage_qty"].astype(float).to_numpy()
    items["covered_qty"] = covered
    items["item_money"] = items["money_at_risk"]  # the whole item's (execution_items; the list shows the uncovered part)
    items["money_at_risk"] = items["money_at_risk"] * np.where(short > 0, 1.0 - covered / np.where(short > 0, short, 1.0), 1.0)
    items["shortage_qty"] = short - covered
    items["score"] = items["money_at_risk"] * items["urgency"]
    items["_first"] = failed  # an action that did not work brings its item back to the top of the list
    items["why"] = why_ranked(items, run_week, failed, currency)
    items = items.sort_values(["_first", "score", "money_at_risk"], ascending=False, kind="stable")
    return items.reindex(columns=[*COLUMNS, "item_money", "size"]).reset_index(drop=True)


def cap_to_budget(items: pd.DataFrame, sop: pd.DataFrame, budget: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the list, the rest summarised): the top ``budget`` execution items not in hand, ranked; then the
    items in hand; then the top ``budget`` S&OP items by money (a large business has thousands of drifting
    plans: they belong to the monthly S&OP, which gets the full list in ``demand_exceptions``). The
    summary counts what is beyond either budget, by track and kind."""
    todo = items[~items["in_hand"].astype(bool)]
    top = todo.head(budget).assign(rank=np.arange(1, min(budget, len(todo)) + 1))
    in_hand = items[items["in_hand"].astype(bool)]
    sop = sop.sort_values("money_at_risk", ascending=False, kind="stable")
    sop = sop.assign(in_hand=False, urgency=np.nan, score=np.nan, action_qty=np.nan, action_cost=np.nan, action_net_benefit=np.nan, open_action="",
                     covered_qty=0.0)
    listed = pd.concat([top, in_hand.assign(rank=pd.NA), sop.head(budget).assign(rank=pd.NA)], ignore_index=True).reindex(columns=COLUMNS)
    listed["rank"] = listed["rank"].astype("Int64")
    listed["in_hand"] = listed["in_hand"].fillna(False).astype(bool)
    rest = pd.concat([todo.iloc[budget:].assign(track="execution"), sop.iloc[budget:].assign(track="sop")], ignore_index=True)
    summary = (
        rest.groupby(["track", "kind"], as_index=False).agg(items=("kind", "size"), money_at_risk=("money_at_risk", "sum"))
        if len(rest)
        else pd.DataFrame({"track": pd.Series(dtype="str"), "kind": pd.Series(dtype="str"), "items": pd.Series(dtype="int64"),
                           "money_at_risk": pd.Series(dtype="float64")})
    )
    return listed, summary
