"""Money, the countermeasure options, the joint plan, the decision list, S&OP feedback and the meeting pack.

Every option and the plan are checked against re-projecting the week with the moves applied: the
kernel for the plan's own figures, and a plain simulation written in the tests for the money."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from soe_lib.core import item_id, runs
from soe_lib.core.weeks import parse_week
from soe_lib.finance import load_catalogue
from soe_lib.finance.catalogue import ACTIONS
from soe_lib.finance.countermeasures import generate_options
from soe_lib.finance.decisions import cap_to_budget, decision_items
from soe_lib.finance.money import money_at_risk, plan_vs_estimate
from soe_lib.finance.plan import apply_plan, greedy_plan, joint_plan
from soe_lib.finance.world import make_world, profiles
from soe_lib.run import open_week

from .test_kernel import _simulate

RUN = parse_week("2026-W48")
WK = pd.DatetimeIndex([RUN + pd.Timedelta(weeks=i) for i in range(13)])
CAT = load_catalogue()
PRODUCTS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "F"], "unit_price": [20.0, 12.0, 9.0], "unit_cost": [6.0, 7.0, 5.0]})
NO_LINES = pd.DataFrame({"line_id": pd.Series(dtype="int64"), "sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str"),
                         "order_id": pd.Series(dtype="str"), "eta_week": pd.Series(dtype="datetime64[ns]"), "qty": pd.Series(dtype="float64"),
                         "kind": pd.Series(dtype="str"), "late": pd.Series(dtype="bool"), "firm": pd.Series(dtype="bool")})
NO_CAP = pd.DataFrame({"resource": pd.Series(dtype="str"), "week": pd.Series(dtype="datetime64[ns]"),
                       "available_hours": pd.Series(dtype="float64"), "slack_hours": pd.Series(dtype="float64")})
NO_ROUTE = pd.DataFrame(columns=["sku", "location", "resource", "hours_per_unit"])
NO_SUBS = pd.DataFrame(columns=["sku", "substitute_sku", "location", "ratio", "priority"])
NO_OO = pd.DataFrame({"sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str"), "week": pd.Series(dtype="datetime64[ns]"),
                      "qty": pd.Series(dtype="float64")})
RECEIPT_MOVES = ("expedite", "pull_in", "transfer", "overtime", "build_ahead", "substitute", "raise_order", "new_order")


def _series(sku, location, on_hand, demand=10.0, receipts=None, safety=5.0, cover=8.0, sd=0.0):
    """One SKU-location of the projection from its stock, demand and receipts ({week: units})."""
    d = np.broadcast_to(np.asarray(demand, dtype=float), (13,)).copy()
    r = np.zeros(13)
    for t, q in (receipts or {}).items():
        r[t] += q
    p = on_hand + np.cumsum(r - d)
    return pd.DataFrame({"sku": sku, "location": location, "week": WK, "constrained_projected_on_hand": p, "demand_qty": d,
                         "constrained_receipts_qty": r, "weeks_of_supply": cover, "safety_stock": safety, "demand_sd": sd, "plan_demand_qty": d})


def _gaps(projection: pd.DataFrame) -> pd.DataFrame:
    """The shortage gaps of a projection (runs of weeks below zero), as the supply step lists them."""
    p = projection.sort_values(["sku", "location", "week"])
    keys = p[["sku", "location"]].iloc[::13].reset_index(drop=True)
    pos = p["constrained_projected_on_hand"].to_numpy().reshape(len(keys), 13)
    r, first, last = runs(pos < -1e-9)
    out = keys.iloc[r].reset_index(drop=True).assign(
        gap_id=np.arange(len(r)), kind="shortage", first_week=WK[first], last_week=WK[last], peak_week=WK[first], weeks_short=last - first + 1,
        open_at_horizon_end=last == 12, shortage_qty=1.0, peak_shortage_qty=-pos[r, first], cause="supply late", causes="", late_orders="",
        bottleneck_resources="")
    return out


def _week(projection, lines=NO_LINES, capacity=NO_CAP, routings=NO_ROUTE, substitutes=NO_SUBS, open_orders=NO_OO, b=0.0, delay=0.0,
          products=PRODUCTS, fence=0):
    proj = pd.concat(projection, ignore_index=True)
    world = make_world(proj, products, WK, b, delay)
    w = world.with_gaps(money_at_risk(_gaps(proj), products, world))
    return w, generate_options(w, lines, capacity, routings, products, substitutes, open_orders, CAT, fence)


def _lines(*rows):
    """Supply lines: (order id, sku, location, eta week, qty, late[, firm])."""
    frame = pd.DataFrame([(k, *r) for k, r in enumerate(rows)], columns=["line_id", "order_id", "sku", "location", "eta", "qty", "late", *(["firm"] if len(rows[0]) > 6 else [])])
    frame["eta_week"] = WK[frame["eta"].to_numpy()] if (frame["eta"] < 13).all() else [RUN + pd.Timedelta(weeks=int(e)) for e in frame["eta"]]
    return frame.assign(kind="purchase").drop(columns="eta")


def _one(options, action, gap_id=0):
    rows = options[(options["action"] == action) & (options["gap_id"] == gap_id)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def _moved(w, options, x):
    """Positions of every series of ``w`` with ``x`` units of each option applied (destination +, the
    donor or substitute drawn from its pool week on), and the receipts changed (for storage)."""
    p, r = w.position.copy(), w.receipts.copy()
    rows = options["row"].to_numpy()
    prof = profiles(w, options["eff"].to_numpy(), options["stop"].to_numpy(), rows, options["by_demand"].to_numpy())
    for k in np.flatnonzero(x > 0):
        o = options.iloc[k]
        p[o["row"]] += x[k] * prof[k]
        if not o["by_demand"]:
            r[o["row"]] += x[k] * np.diff(prof[k], prepend=0.0)
        donor = {"transfer": (o["sku"], o["source_location"]), "substitute": (o["substitute_sku"], o["location"])}.get(o["action"])
        if donor:
            d = w.rows(pd.Series([donor[0]]), pd.Series([donor[1]]))[0]
            p[d, o["pool_week"]:] -= x[k] * o["pool_use"]
    return p, r


def _check_plan(w, options, x, storage=None):
    """The plan's limits, checked on the re-projected week: pools per week drawn from, donors and
    substitutes never below their safety stock from their shipping week, no location over its storage
    capacity because of a move, whole units in each move's multiple."""
    x = np.asarray(x, dtype=float)
    assert (x >= -1e-9).all() and (x <= options["cap"] + 1e-6).all()
    np.testing.assert_allclose(x / options["multiple"], np.round(x / options["multiple"]), atol=1e-9)
    p, r = _moved(w, options, x)
    drawn = options[(x > 0) & options["action"].isin(["transfer", "substitute"])]
    for o in drawn.itertuples():
        d = w.rows(pd.Series([o.sku if o.action == "transfer" else o.substitute_sku]), pd.Series([o.source_location or o.location]))[0]
        assert (p[d, o.pool_week:] >= w.safety[d] - 1e-6).all(), (o.action, o.pool, p[d])
    if storage is not None:
        on_hand = w.position[:, 0] - w.receipts[:, 0] + w.demand[:, 0]
        for moved_p, moved_r, name in ((w.position, w.receipts, "base"), (p, r, "plan")):
            before = np.concatenate([on_hand[:, None], moved_p[:, :-1]], axis=1)
            held = pd.DataFrame(np.clip(before, 0, None) + moved_r).groupby(w.keys["location"].to_numpy()).sum()
            if name == "base":
                base = held
            else:
                cap = storage.set_index("location")["storage_capacity"].reindex(held.index)
                limit = np.maximum(base.to_numpy(), cap.to_numpy()[:, None])
                assert (held.to_numpy() <= limit + 1e-6).all(), held - limit


def _simulated_gain(w, options, x):
    """What the moves recover, by the plain simulation of test_kernel (receipt moves only)."""
    p, _ = _moved(w, options, x)
    gain = 0.0
    for i in np.unique(options.loc[x > 0, "row"]):
        d = w.demand[i]
        b, k = float(w.policy.shares(len(w.keys))[i]), w.policy.delay_cost_share
        for pos, sign in ((w.position[i], 1.0), (p[i], -1.0)):
            receipts = np.diff(pos, prepend=0.0) + d  # on hand 0: the position's own receipts
            gain += sign * _simulate(0.0, list(receipts), list(d), b, w.price[i], w.cost[i], k)
    return gain


# --- the options --------------------------------------------------------------------------------------
def test_every_lever_is_listed_for_every_gap_and_accept_is_always_feasible():
    w, o = _week([_series("A", "L1", 30.0), _series("B", "L1", 25.0, demand=5.0)])
    assert (o.groupby("gap_id")["action"].unique().map(sorted) == [sorted(ACTIONS)] * 2).all()
    accept = o[o["action"] == "accept"]
    assert accept["feasible"].all() and (accept["net_benefit"] == 0).all()
    assert (o.loc[~o["feasible"], "reason"] != "").all() and o.loc[~o["feasible"], "rank"].isna().all()


def test_a_pull_in_is_worth_what_re_projecting_the_week_with_it_says():
    """A: 20 on hand, 10 a week; 80 arrive in week 5 and 100 in week 9: 30 units are lost in weeks 2-4.
    Pulling the week-5 order two weeks forward serves weeks 3-4 only (20 units): week 2 stays short."""
    lines = _lines(("PO-ON", "A", "L1", 5, 80.0, False), ("PO-2", "A", "L1", 9, 100.0, False))
    w, o = _week([_series("A", "L1", 20.0, receipts={5: 80.0, 9: 100.0})], lines=lines)
    pull = o[(o["action"] == "pull_in") & (o["order_id"] == "PO-ON")].iloc[0]
    assert pull["effective_week"] == WK[3] and pull["qty"] == 20.0  # the fewest whole units that recover all it can alone
    assert pull["margin_recovered"] == pytest.approx(20 * 14)
    assert pull["cost"] == pytest.approx(150 + 0.3 * 20)  # per unit moved: a split shipment
    # the same order when nothing is left over later: pulling it in only moves which weeks lose the units
    w, o = _week([_series("A", "L1", 20.0, receipts={5: 80.0})], lines=lines.iloc[:1])
    pull = o[(o["action"] == "pull_in") & (o["order_id"] == "PO-ON")].iloc[0]
    assert pull["margin_recovered"] == pytest.approx(0.0) and pull["net_benefit"] < 0
    chosen = apply_plan(o, joint_plan(o, w), w)
    pulled = chosen[(chosen["action"] == "pull_in") & (chosen["chosen_qty"] > 0)]
    # the plan takes it only beside a move that covers the later weeks (a new order): then what it adds pays
    assert pulled.empty or (pulled["reprojected_net_benefit"] > 0).all() and (chosen.loc[chosen["chosen_qty"] > 0, "action"] != "pull_in").any()


def test_an_expedite_brings_a_late_order_forward_and_the_time_phasing_holds():
    """20 on hand, 10 a week; a late order of 50 now due in week 6 (at most two weeks earlier: week 4), 100
    more in week 9: 40 units are lost in weeks 2-5."""
    lines = _lines(("PO-LATE", "A", "L1", 6, 50.0, True), ("PO-9", "A", "L1", 9, 100.0, False))
    w, o = _week([_series("A", "L1", 20.0, receipts={6: 50.0, 9: 100.0})], lines=lines)
    exp = _one(o, "expedite")
    assert exp["effective_week"] == WK[4] and exp["order_id"] == "PO-LATE"
    # weeks 2 and 3 are lost whatever happens to it; weeks 4-5 (20 units) are recovered
    assert exp["margin_recovered"] == pytest.approx(20 * 14) and exp["qty"] == 20.0
    assert not _one(o, "pull_in")["feasible"]


def _lane_week(air_cost: float, air_capacity: float, already_on_air: float = 0.0):
    """20 on hand, 10 a week; two ocean orders of 60 and 40 leave Busan in week 1 for Hamburg (6 weeks: due in week
    7) and a third is already shipped; an air lane Busan > Frankfurt (1 week, Frankfurt delivers to L1 too) at
    ``air_cost`` a unit, ``air_capacity`` a week, ``already_on_air`` of it taken by other lines in week 1."""
    lines = _lines(("PO-1", "A", "L1", 7, 60.0, False), ("PO-2", "A", "L1", 7, 40.0, False), ("PO-3", "A", "L1", 7, 30.0, False))
    lines = lines.assign(mode="ocean", origin="Busan", destination="Hamburg", ship_week=WK[1], status=["planned", None, "shipped"])
    lanes = pd.DataFrame({"origin": ["Busan", "Busan"], "destination": ["Hamburg", "Frankfurt"], "mode": ["ocean", "air"], "transit_weeks": [6.0, 1.0],
                          "cost_per_unit": [0.5, air_cost], "cost_per_kg": [np.nan, np.nan], "weekly_capacity": [np.nan, air_capacity]})
    load = pd.DataFrame({"origin": ["busan"], "destination": ["frankfurt"], "mode": ["air"], "week": [WK[1]], "shipping_qty": [already_on_air]})
    served = pd.DataFrame({"destination": ["hamburg", "frankfurt"], "location": ["L1", "L1"]})
    proj = _series("A", "L1", 20.0, receipts={7: 130.0})
    world = make_world(proj, PRODUCTS, WK)
    w = world.with_gaps(money_at_risk(_gaps(proj), PRODUCTS, world))
    return w, generate_options(w, lines, NO_CAP, NO_ROUTE, PRODUCTS, NO_SUBS, NO_OO, CAT, 0, lanes, load, served)


def test_a_mode_switch_is_chosen_only_when_it_pays_and_never_beyond_a_lanes_capacity():
    """Weeks 2-6 lose 50 units (margin 14 each). By air at 3 a unit (2.5 more than by sea) a unit switched pays: the
    plan switches what the lane has room for in the shipping week (25 - 5 already on it = 20, shared by both
    orders), never more, and the kernel re-projects it at what it says. At 30 a unit it never pays: nothing is
    switched. A line already shipped is never offered."""
    w, o = _lane_week(3.0, 25.0, already_on_air=5.0)
    switch = o[(o["action"] == "switch_mode") & o["feasible"]]
    assert sorted(switch["order_id"]) == ["PO-1", "PO-2"]  # PO-3 is on the water already
    assert (switch["effective_week"] == WK[2]).all() and np.allclose(switch["cost_per_unit"], 2.5)
    assert set(switch["pool2"]) == {"lane:busan>frankfurt:air:2026-W49"} and (switch["pool2_cap"] == 20.0).all()
    assert "by air via Frankfurt" in switch["detail"].iloc[0]
    for plan in (joint_plan(o, w), greedy_plan(o, w)):
        chosen = plan.chosen[((o["action"] == "switch_mode") & o["feasible"]).to_numpy()]
        assert chosen.sum() == pytest.approx(20.0)  # the lane's room binds: 50 units would pay
        _check_plan(w, o, plan.chosen)
        assert plan.reprojected == pytest.approx(plan.objective, rel=1e-6)
    roomy = _lane_week(3.0, 500.0)
    chosen = joint_plan(roomy[1], roomy[0]).chosen[(roomy[1]["action"] == "switch_mode").to_numpy()]
    assert 20.0 < chosen.sum() <= 100.0  # room enough: the plan switches more
    w, o = _lane_week(30.0, 500.0)
    switch = (o["action"] == "switch_mode") & o["feasible"]
    assert switch.any() and (o.loc[switch, "net_benefit"] < 0).all()
    for plan in (joint_plan(o, w), greedy_plan(o, w)):
        assert plan.chosen[switch.to_numpy()].sum() == 0.0


def test_a_transfer_leaves_the_donor_its_safety_stock_from_the_shipping_week():
    """The donor L2 ends the run week at 25 (safety 20) before a receipt lifts it to 100: a transfer landing
    in week 1 ships in the run week, so only 5 can go, although 25 would be spare from week 1 on."""
    donor = _series("A", "L2", 30.0, demand=5.0, receipts={1: 80.0}, safety=20.0, cover=10.0)
    w, o = _week([_series("A", "L1", 30.0), donor])
    t = _one(o, "transfer")
    assert t["feasible"] and t["source_location"] == "L2" and t["pool"] == "stock:A@L2" and t["pool_week"] == 0
    assert t["qty"] == 5.0 and "ships 2026-W48" in t["detail"]
    plan = joint_plan(o, w)
    _check_plan(w, o, plan.chosen)
    thin = _series("A", "L2", 60.0, safety=20.0, cover=2.0)  # less than 4 weeks of cover today
    w, o = _week([_series("A", "L1", 30.0), thin])
    assert not _one(o, "transfer")["feasible"] and "no other location" in _one(o, "transfer")["reason"]


def test_two_gaps_competing_for_one_donor_never_over_claim_it():
    """A is short at L1 and at L2; L3 can spare 40. Each alone could take 30: together only 40."""
    proj = [_series("A", "L1", 20.0, demand=10.0, receipts={6: 200}), _series("A", "L2", 20.0, demand=10.0, receipts={6: 200}),
            _series("A", "L3", 300.0, demand=0.0, safety=260.0, cover=99.0)]
    w, o = _week(proj)
    transfers = o[o["action"] == "transfer"]
    assert transfers["qty"].tolist() == [40.0, 40.0] and transfers["pool"].nunique() == 1  # stand-alone: 80 promised from 40
    for plan in (joint_plan(o, w), greedy_plan(o, w)):
        _check_plan(w, o, plan.chosen)
        assert plan.chosen[(o["action"] == "transfer").to_numpy()].sum() == pytest.approx(40.0)
    chosen = apply_plan(o, joint_plan(o, w), w)
    t = chosen[chosen["action"] == "transfer"]
    np.testing.assert_allclose(t["chosen_cost"], np.where(t["chosen_qty"] > 0, 120 + 0.4 * t["chosen_qty"], 0.0))  # one fixed cost each


def test_substitution_only_from_the_substitutes_table_and_it_draws_the_substitute_down():
    # B and C have stock to spare at L1; only B is an accepted substitute, 2 units per unit of A
    proj = [_series("A", "L1", 0.0, demand=[0, 0, 0, 30] + [0] * 9), _series("B", "L1", 90.0, demand=0.0, safety=10.0),
            _series("C", "L1", 500.0, demand=0.0, safety=10.0)]
    w, o = _week(proj)
    assert not _one(o, "substitute")["feasible"] and "no substitutes table" in _one(o, "substitute")["reason"]
    subs = pd.DataFrame({"sku": ["A"], "substitute_sku": ["B"], "location": [np.nan], "ratio": [2.0], "priority": [np.nan]})
    w, o = _week(proj, substitutes=subs)
    s = _one(o, "substitute")
    assert s["substitute_sku"] == "B" and s["pool"] == "stock:B@L1" and s["qty"] == 30.0  # 80 spare / 2 per unit = 40 >= 30
    assert s["margin_recovered"] == pytest.approx(30 * 14)  # A's lost sales, valued at A's margin...
    assert s["cost"] == pytest.approx(30 * (0.05 * 12 * 2 + (14 - 2 * 5)))  # ...less the margin given up by selling 2 B at 5 instead
    assert s["net_benefit"] == pytest.approx(30 * (2 * 5 - 0.05 * 12 * 2))  # = what selling B earns
    plan = joint_plan(o, w)
    _check_plan(w, o, plan.chosen)
    assert "C" not in set(o["substitute_sku"])
    w, o = _week(proj, substitutes=subs.assign(location=["L9"]))  # accepted only at another location
    assert not _one(o, "substitute")["feasible"]


def test_overtime_and_build_ahead_use_the_resource_weeks_hours_and_never_build_in_the_run_week():
    cap = pd.DataFrame({"resource": "R", "week": WK[:6], "available_hours": 40.0, "slack_hours": [10.0, 4.0, 6.0, 0.0, 0.0, 0.0]})
    route = pd.DataFrame({"sku": ["A"], "location": ["L1"], "resource": ["R"], "hours_per_unit": [0.5]})
    w, o = _week([_series("A", "L1", 30.0, demand=[10, 10, 10, 20, 30] + [0] * 8)], capacity=cap, routings=route)
    build = o[o["action"] == "build_ahead"].sort_values("effective_week")
    assert build["effective_week"].tolist() == [WK[1], WK[2]]  # slack in weeks 1 and 2; the run week's production is scheduled
    assert build["qty"].tolist() == [8.0, 12.0] and (build["pool"] == ["slack:R:1", "slack:R:2"]).all()  # 4 h / 0.5, 6 h / 0.5
    over = o[o["action"] == "overtime"].sort_values("effective_week")
    assert over["effective_week"].tolist() == [WK[3], WK[4], WK[5]]  # weeks without slack (of those with capacity data) in the gap
    assert over["qty"].tolist()[:2] == [20.0, 20.0]  # 25 % of 40 h / 0.5 per unit
    assert over.iloc[2]["margin_recovered"] == 0  # made in week 5, after the last unit was lost: it recovers nothing
    assert over.iloc[0]["cost"] == pytest.approx(55 * 0.5 * 20)
    plan = joint_plan(o, w)
    _check_plan(w, o, plan.chosen)
    w, o = _week([_series("A", "L1", 30.0, demand=[10, 10, 10, 20, 30] + [0] * 8)])
    assert "no routing" in _one(o, "overtime")["reason"]


def test_shaping_never_moves_demand_into_weeks_that_are_short():
    gap = _series("A", "L1", 30.0, demand=[10, 10, 10, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0], receipts={5: 100.0})
    w, o = _week([gap])
    s = _one(o, "shape_demand")
    assert s["feasible"] and s["qty"] == 8.0  # 20 % of the gap weeks' demand (40); the weeks after have 70 spare
    short_later = _series("A", "L1", 30.0, demand=[10, 10, 10, 20, 20, 10, 0, 10, 10, 10, 0, 0, 0], receipts={6: 60.0})
    w, o = _week([short_later])  # short again from week 8: no week after the first gap can take its demand
    assert not _one(o, "shape_demand", gap_id=0)["feasible"]
    w, o = _week([_series("A", "L1", 30.0)])  # short to the horizon's end
    assert "horizon's end" in _one(o, "shape_demand")["reason"]


def test_allocate_names_the_booked_orders_and_recovers_no_units():
    oo = pd.DataFrame({"sku": ["A"], "location": ["L1"], "week": [WK[4]], "qty": [12.0]})
    w, o = _week([_series("A", "L1", 30.0)], open_orders=oo)
    a = _one(o, "allocate")
    assert a["feasible"] and "12 booked" in a["detail"] and a["qty"] == 0
    w, o = _week([_series("A", "L1", 30.0)])
    assert not _one(o, "allocate")["feasible"]


def test_a_new_order_respects_lead_time_fence_moq_and_multiple_and_reads_as_a_re_plan():
    products = PRODUCTS.assign(moq=[50.0, np.nan, np.nan], order_multiple=[20.0, np.nan, np.nan], lead_time_weeks=[3.0, np.nan, np.nan])
    w, o = _week([_series("A", "L1", 30.0)], products=products, fence=4)
    new = _one(o, "new_order")
    assert new["effective_week"] == WK[4]  # after the fence (4), which is later than the lead time (3); the gap starts in week 3
    assert new["qty"] % 20 == 0 and new["qty"] >= 50 and new["detail"] == "by 2026-W49 to arrive 2026-W52"
    plan = apply_plan(o, joint_plan(o, w), w)
    taken = plan.loc[plan["action"] == "new_order", "chosen_qty"].iloc[0]
    assert taken % 20 == 0 and taken >= 50
    items = decision_items(w.gaps.merge(money_at_risk(_gaps(pd.concat([_series("A", "L1", 30.0)])), products, w)[["gap_id", "margin_at_risk",
                                                                                                                 "shortage_qty", "cause", "weeks_short"]]),
                           plan, pd.DataFrame(), pd.DataFrame(), products, pd.DataFrame(),
                           pd.DataFrame(columns=["sku", "location", "kind", "week", "severity", "direction", "detail"]),
                           pd.DataFrame(columns=["sku", "location", "week", "demand_qty", "plan_demand_qty"]), RUN)
    assert items.iloc[0]["best_action"].startswith(f"re-plan: order {taken:.0f} by 2026-W49")
    w, o = _week([_series("A", "L1", 30.0)], routings=pd.DataFrame({"sku": ["A"], "location": ["L1"], "resource": ["R"], "hours_per_unit": [1.0]}))
    assert "made in-house" in _one(o, "new_order")["reason"]


def test_only_planned_orders_beyond_the_fence_are_raised():
    lines = _lines(("PO-F", "A", "L1", 3, 20.0, False, "yes"), ("PO-P", "A", "L1", 3, 20.0, False, "no"), ("PO-N", "A", "L1", 1, 40.0, False, "no"))
    lines["firm"] = lines["firm"] == "yes"
    w, o = _week([_series("A", "L1", 5.0, receipts={1: 40.0, 3: 40.0})], lines=lines, fence=2)  # short in the run week and from week 8
    raised = o[(o["action"] == "raise_order") & o["feasible"]]
    assert raised["order_id"].tolist() == ["PO-P"] and raised["qty"].iloc[0] == 10  # at most half as much again (20 x 0.5)
    assert raised["effective_week"].iloc[0] == WK[3]


def test_the_backorder_share_values_a_move_by_the_kernel():
    """b = 1: the units wait; a transfer landing in week 1 saves the delay of every unit-week it removes and
    the units still owed at the end; at b = 0.6 the money is 0.4 of the lost-sales world and 0.6 of that."""
    proj = [_series("A", "L1", 30.0, receipts={6: 40.0}), _series("A", "L2", 300.0, demand=0.0, safety=20.0, cover=99.0)]
    values = {}
    for b in (0.0, 1.0, 0.6):
        w, o = _week(proj, b=b, delay=0.05)
        t = _one(o, "transfer")
        x = np.where(o.index == t.name, t["qty"], 0.0)
        assert t["margin_recovered"] == pytest.approx(_simulated_gain(w, o, x), rel=1e-9)
        values[b] = _simulated_gain(w, o, np.where(o.index == t.name, 30.0, 0.0))
    assert values[0.6] == pytest.approx(0.4 * values[0.0] + 0.6 * values[1.0])


# --- the joint plan -------------------------------------------------------------------------------------
@st.composite
def small_weeks(draw):
    """A random small week: two SKUs at three locations, orders, a donor, a resource, a substitute, storage."""
    rng = np.random.default_rng(draw(st.integers(0, 10**6)))
    proj, lines = [], []
    for sku in ("A", "B"):
        for loc in ("L1", "L2", "L3"):
            receipts = {int(t): float(rng.integers(5, 80)) for t in rng.choice(13, size=int(rng.integers(0, 3)), replace=False)}
            proj.append(_series(sku, loc, float(rng.integers(0, 60)), demand=rng.uniform(0, 14, 13).round(1), receipts=receipts,
                                safety=float(rng.integers(0, 15)), cover=float(rng.choice([2.0, 8.0]))))
            for t, q in receipts.items():
                lines.append((f"PO-{sku}{loc}{t}", sku, loc, t, q, bool(rng.random() < 0.5), bool(rng.random() < 0.7)))
    cap = pd.DataFrame({"resource": "R", "week": WK, "available_hours": 40.0, "slack_hours": np.r_[rng.uniform(0, 10, 5), np.zeros(8)]})
    route = pd.DataFrame({"sku": ["A", "B"], "location": ["L1", "L1"], "resource": "R", "hours_per_unit": [0.5, 0.25]})
    subs = pd.DataFrame({"sku": ["A"], "substitute_sku": ["B"], "location": [np.nan], "ratio": [1.5], "priority": [1.0]})
    frame = _lines(*lines) if lines else NO_LINES
    b = draw(st.sampled_from([0.0, 1.0, 0.3]))
    products = PRODUCTS.assign(moq=[float(rng.choice([0, 30])), np.nan, np.nan], order_multiple=[float(rng.choice([1, 10])), np.nan, np.nan])
    w, o = _week(proj, lines=frame, capacity=cap, routings=route, substitutes=subs, b=b, delay=0.02, products=products, fence=int(rng.integers(0, 4)))
    storage = pd.DataFrame({"location": ["L1", "L2", "L3"], "storage_capacity": rng.uniform(20, 200, 3)})
    return w, o, storage


def _storage_load(w, storage):
    on_hand = w.position[:, 0] - w.receipts[:, 0] + w.demand[:, 0]
    before = np.concatenate([on_hand[:, None], w.position[:, :-1]], axis=1)
    held = pd.DataFrame(np.clip(before, 0, None) + w.receipts, columns=WK).groupby(w.keys["location"].to_numpy()).sum()
    long = held.stack().rename("units_held").reset_index().set_axis(["location", "week", "units_held"], axis=1)
    return long.merge(storage, on="location")


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(small_weeks())
def test_every_option_and_the_joint_plan_are_worth_what_re_projecting_says_and_keep_every_limit(week):
    w, o, storage = week
    feasible = o[o["feasible"] & o["action"].isin(RECEIPT_MOVES)]
    for k, row in feasible.iterrows():  # each option alone: the table's money is the simulation's
        x = np.where(o.index == k, row["qty"], 0.0)
        assert row["margin_recovered"] == pytest.approx(_simulated_gain(w, o, x), rel=1e-6, abs=1e-6)
    load = _storage_load(w, storage)
    best, greedy = joint_plan(o, w, storage=load), greedy_plan(o, w, storage=load)
    for plan in (best, greedy):
        _check_plan(w, o, plan.chosen, storage)
    # the solver stops once proven within plan_gap (0.1 %) of the best plan: never further below greedy's than that
    assert best.objective >= greedy.objective - 0.001 * max(1.0, abs(greedy.objective)) - 1e-6
    assert best.reprojected == pytest.approx(best.objective, rel=0.005, abs=1e-6)  # the solver's figure and the kernel's agree
    table = apply_plan(o, best, w)
    assert table["chosen_net_benefit"].sum() == pytest.approx(best.objective, rel=1e-6, abs=1e-6)
    unlimited = joint_plan(o, w)
    if unlimited.status == "optimal":  # every chosen move adds at least its cost beside the others (with storage rows a move
        # may also make room for another: moving a receipt earlier frees the week it leaves)
        moves = apply_plan(o, unlimited, w)
        assert (moves.loc[moves["chosen_qty"] > 0, "reprojected_net_benefit"] >= -unlimited.gap * abs(unlimited.objective) - 1e-6).all()
    if not (table["chosen_qty"].gt(0) & table["action"].eq("shape_demand")).any():
        cost = table["chosen_cost"].sum()
        assert best.reprojected == pytest.approx(_simulated_gain(w, o, table["chosen_qty"].to_numpy()) - cost, rel=1e-6, abs=1e-6)


def test_a_solver_without_a_plan_falls_back_to_greedy_and_says_so(monkeypatch):
    import soe_lib.finance.highs as highs

    monkeypatch.setattr(highs, "_highs", lambda *a, **k: (None, np.nan, np.nan, "no feasible point found"))
    proj = [_series("A", "L1", 20.0, receipts={6: 200}), _series("A", "L2", 20.0, receipts={6: 200}), _series("A", "L3", 300.0, demand=0.0, safety=260.0, cover=99.0)]
    w, o = _week(proj)
    plan = joint_plan(o, w)
    assert plan.method.startswith("greedy") and "no feasible point" in plan.status
    assert plan.variables > 0 and np.isnan(plan.gap)  # the model's size is still said; no proven gap
    _check_plan(w, o, plan.chosen)
    assert plan.chosen[(o["action"] == "transfer").to_numpy()].sum() == pytest.approx(40.0)
    greedy = greedy_plan(o, w)  # the fallback is the greedy plan itself (it takes the model the solver's attempt built)
    np.testing.assert_array_equal(plan.chosen, greedy.chosen)
    assert plan.objective == pytest.approx(greedy.objective) and plan.reprojected == pytest.approx(greedy.reprojected)


def test_the_plan_never_pushes_a_full_location_over_its_storage():
    """A at L1 loses 30 units in weeks 3-5 before a receipt; pulling the week-6 order to week 4 recovers 20.
    B fills L1 to 400 of 415 units: the pull-in may bring only 15 units in early."""
    lines = _lines(("PO-1", "A", "L1", 6, 60.0, False), ("PO-2", "A", "L1", 9, 100.0, False))
    products = PRODUCTS.assign(lead_time_weeks=[13.0, 13.0, 13.0])  # no new order can arrive in the horizon
    proj = [_series("A", "L1", 30.0, receipts={6: 60.0, 9: 100.0}), _series("B", "L1", 400.0, demand=0.0, cover=99.0)]
    w, o = _week(proj, lines=lines, products=products)
    storage = pd.DataFrame({"location": ["L1"], "storage_capacity": [415.0]})
    free = joint_plan(o, w)
    assert free.chosen[(o["action"] == "pull_in").to_numpy()].sum() == 20.0  # without the limit
    limited = joint_plan(o, w, storage=_storage_load(w, storage))
    _check_plan(w, o, limited.chosen, storage)
    assert limited.chosen[(o["action"] == "pull_in").to_numpy()].sum() == 15.0 and limited.objective < free.objective


# --- money ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("b", "shipped"), [(0.0, [10.0, 6.0, 10.0]), (1.0, [10.0, 6.0, 14.0]), (0.5, [10.0, 6.0, 12.0])])
def test_plan_vs_estimate_ships_the_backordered_share_later(b, shipped):
    proj = _series("A", "L1", 0.0, receipts={0: 10.0, 1: 6.0, 2: 14.0}).head(3)  # 4 short in week 1, the receipt of week 2 catches up
    weeks = WK[:3]
    world = make_world(proj, PRODUCTS, weeks, b)
    fin = pd.DataFrame({"family": "F", "week": weeks, "revenue_plan": [200.0, 200.0, 200.0], "margin_plan": [80.0, 80.0, 80.0]})
    pve = plan_vs_estimate(world, PRODUCTS, fin)
    assert pve["shipped_qty"].tolist() == pytest.approx(shipped)
    assert pve["revenue_estimate"].tolist() == pytest.approx([20.0 * q for q in shipped])
    parts = pve["plan_value_vs_financial_plan"] + pve["demand_vs_plan"] + pve["supply_shortfall"]
    np.testing.assert_allclose(parts, pve["gap"])


def test_item_ids_do_not_depend_on_the_process():
    """The id is a hash of kind and keys, the same in another interpreter (Python's own hash is salted)."""
    here = item_id("sku-location", pd.Series(["00001", "00002"]), pd.Series(["0100", "0100"])).tolist()
    code = "import pandas as pd; from soe_lib.core import item_id; print(item_id('sku-location', pd.Series(['00001', '00002']), pd.Series(['0100', '0100'])).tolist())"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert there.strip() == str(here) and here[0] != here[1] and here[0].startswith("SL-")


def _items(n_gap=30, n_cap=3):
    return pd.DataFrame({
        "item_id": [f"SL-{k}" for k in range(n_gap)] + [f"CAP-{k}" for k in range(n_cap)], "kind": ["sku-location"] * n_gap + ["capacity"] * n_cap,
        "score": np.arange(n_gap + n_cap, 0, -1.0), "money_at_risk": np.ones(n_gap + n_cap), "in_hand": [False] * (n_gap + n_cap),
        "track": "execution", "shortage_qty": 1.0,
    })


def test_alert_budget_caps_execution_items_and_lists_in_hand_and_sop_apart():
    items = _items()
    items.loc[[0, 5], "in_hand"] = True
    sop = pd.DataFrame({"item_id": ["SOP-1"], "track": ["sop"], "kind": ["persistent_bias"], "money_at_risk": [999.0]})
    listed, rest = cap_to_budget(items, sop, 25)
    ranked = listed[listed["rank"].notna()]
    assert len(ranked) == 25 and ranked["rank"].tolist() == list(range(1, 26)) and (ranked["track"] == "execution").all()
    assert not ranked["in_hand"].any() and set(listed.loc[listed["in_hand"], "item_id"]) == {"SL-0", "SL-5"}
    assert listed[listed["track"] == "sop"]["rank"].isna().all() and "SOP-1" in set(listed["item_id"])
    assert rest.set_index("kind")["items"].to_dict() == {"capacity": 3, "sku-location": 3}  # 31 to do, 25 shown
    assert (rest["track"] == "execution").all()
    listed, rest = cap_to_budget(items.head(10), sop.head(0), 25)
    assert len(listed) == 10 and rest.empty
    many = pd.DataFrame({"item_id": [f"SOP-{k}" for k in range(40)], "track": "sop", "kind": "tracking_signal", "money_at_risk": np.arange(40.0)})
    listed, rest = cap_to_budget(items.head(10), many, 25)
    shown = listed[listed["track"] == "sop"]
    assert len(shown) == 25 and shown["money_at_risk"].min() == 15.0  # the largest 25 by money
    assert rest.set_index(["track", "kind"])["items"].to_dict() == {("sop", "tracking_signal"): 15}


# --- the whole step on the sample company ---------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_impact(tmp_path_factory):
    from soe_lib.sample import write_sample

    folder = tmp_path_factory.mktemp("fin") / "data"
    planted = write_sample(folder)
    run = open_week(str(folder), out_dir=tmp_path_factory.mktemp("o"), alert_budget=10)
    run.data_folder = folder
    return run.step("finance"), planted, run


@pytest.mark.parametrize("b", [0.0, 1.0])
def test_money_at_risk_is_the_plain_simulation_lost_sales_at_0_and_the_delay_at_1(sample_impact, b):
    """Per SKU-location with a gap and certain demand, the margin at risk of its gaps is the plain simulation's
    money of its projection: units lost at backorder share 0; the delay and the units still owed at 1."""
    from soe_lib.finance.params import FinanceParams
    from soe_lib.finance.parts import week_world

    _, _, run = sample_impact
    projection = run.table("inventory_projection")
    p = FinanceParams(backorder_share=b, delay_cost_share=0.02)
    world = week_world(run.data, projection, p, WK)
    impact = money_at_risk(run.table("supply_gaps"), run.data.products, world)
    per_series = impact.groupby(["sku", "location"])["margin_at_risk"].sum()
    checked = 0
    for (sku, location), money in per_series.items():
        i = world.rows(pd.Series([sku]), pd.Series([location]))[0]
        if i in world.spread.rows:
            continue  # valued over demand scenarios: tested in test_kernel
        pos, d = world.position[i], world.demand[i]
        if (pos[(pos < 0)] > -1.0).any() and pos.min() > -1.0:
            continue
        receipts = np.diff(pos, prepend=0.0) + d
        want = _simulate(0.0, list(receipts), list(d), b, world.price[i], world.cost[i], 0.02)
        if abs(want - money) > 1e-6 * max(1.0, want):  # only a stock-out below a gap's minimum may sit outside the gaps
            assert ((pos < 0) & (pos > -1.0)).any(), (sku, location, money, want)
            continue
        checked += 1
    assert checked >= 5 and impact["margin_at_risk"].sum() > 0


@pytest.mark.parametrize("b", [0.0, 0.5, 1.0])
def test_money_at_risk_and_the_estimate_agree_for_any_backorder_share(sample_impact, b):
    """Per SKU-location with a gap, revenue at risk is exactly what the latest estimate says supply will not
    ship; apart from stock-outs too small for a gap (in the estimate only, said in the docs)."""
    from soe_lib.finance.params import FinanceParams
    from soe_lib.finance.parts import week_world

    _, _, run = sample_impact
    world = week_world(run.data, run.table("inventory_projection"), FinanceParams(backorder_share=b), WK)
    risk = money_at_risk(run.table("supply_gaps"), run.data.products, world).groupby(["sku", "location"])["revenue_at_risk"].sum()
    f, _ = world.money()
    not_shipped = pd.Series(((f.demand - f.shipped).sum(axis=1)) * world.price, index=pd.MultiIndex.from_frame(world.keys))
    both = pd.concat([risk.rename("risk"), not_shipped.rename("estimate")], axis=1).dropna()
    close = np.isclose(both["risk"], both["estimate"], rtol=1e-9, atol=1e-6)
    assert close.sum() >= 5 and close.mean() > 0.9 and both["risk"].sum() > 0


def test_the_joint_plan_on_the_sample_keeps_every_limit(sample_impact):
    impact, _, run = sample_impact
    o = impact.options
    assert impact.plan.variables > 0 and impact.plan.gap <= 0.02
    table = o.assign(x=o["chosen_qty"])
    drawn = table[table["pool"] != ""]
    for (pool, week), cap in drawn.groupby(["pool", "pool_week"])["pool_cap"].min().items():
        use = drawn[(drawn["pool"] == pool) & (drawn["pool_week"] <= week)]
        assert (use["x"] * use["pool_use"]).sum() <= cap + 1e-6, pool
    assert o["chosen_net_benefit"].sum() == pytest.approx(impact.plan.objective, rel=1e-6)
    assert impact.plan.reprojected == pytest.approx(impact.plan.objective, rel=0.005)
    chosen = impact.chosen()
    assert len(chosen) > 0 and (chosen["chosen_qty"] == chosen["chosen_qty"].round()).all()
    summary = impact.plan.summary().set_index("measure")["value"]
    assert {"net benefit", "net benefit, re-projected", "re-projected minus solver"} <= set(summary.index)
    assert "variables" in impact.plan_note() and "re-projected" in impact.plan_note()


def test_one_execution_item_per_sku_location_resource_and_location(sample_impact):
    impact, planted, run = sample_impact
    d = impact.decisions
    execution = d[d["track"] == "execution"]
    sl = execution[execution["kind"] == "sku-location"]
    assert not sl.duplicated(["sku", "location"]).any() and not execution["item_id"].duplicated().any()
    assert (execution.loc[execution["kind"] == "capacity", "resource"] == planted["capacity_overload"]["resource"]).all()
    spike = planted["demand_spike"]
    hit = sl[(sl["sku"] == spike["sku"]) & (sl["location"] == spike["location"])]
    assert len(hit) == 1 and "spike" in hit.iloc[0]["detail"]  # its spike and its gap are facets of one item


def test_bias_findings_go_to_the_sop_track_and_never_take_an_execution_place(sample_impact):
    impact, planted, _ = sample_impact
    d = impact.decisions
    sop = d[d["track"] == "sop"]
    assert len(sop) > 0 and set(sop["kind"]) <= {"persistent_bias", "tracking_signal"} and sop["rank"].isna().all()
    assert not d.loc[d["rank"].notna(), "kind"].isin(["persistent_bias", "tracking_signal"]).any()
    assert (d["rank"].notna().sum() == 10) and impact.candidates > 10
    assert planted["biased_plan"]["family"] in impact.feedback


def test_the_planted_late_order_and_spike_make_the_meeting_budget(sample_impact):
    """The planted late order (a cheap item: little money, but urgent) and the planted spike are among the
    ranked execution items the meeting sees (budget 10), the late order told as supply late."""
    impact, planted, run = sample_impact
    ranked = impact.decisions[impact.decisions["rank"].notna()]
    assert len(ranked) == 10
    for key in ("late_inbound", "demand_spike"):
        hit = ranked[(ranked["sku"] == planted[key]["sku"]) & (ranked["location"] == planted[key]["location"])]
        assert len(hit) == 1, (key, ranked[["rank", "sku", "location", "money_at_risk"]])
    late = ranked[(ranked["sku"] == planted["late_inbound"]["sku"]) & (ranked["location"] == planted["late_inbound"]["location"])]
    assert late.iloc[0]["cause"] == "supply late" and late.iloc[0]["urgency"] >= 0.8


def test_items_in_hand_leave_the_budget_unless_they_got_worse(sample_impact, tmp_path, monkeypatch):
    """Actions recorded last week in the decision log: one item no worse (in hand, off the budget),
    one whose shortage grew (back on the list, said so)."""
    from soe_lib.io import ActionLog

    impact, _, run = sample_impact
    listed = impact.decisions[impact.decisions["rank"].notna() & (impact.decisions["kind"] == "sku-location")]
    first, second = listed.iloc[0], listed.iloc[1]
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("SOE_ACTIONS_DB", url)
    log = ActionLog(url)
    third = listed.iloc[2]
    kept = log.record("2026-W47", "expedite", "ana", "2026-W49", item={"item_id": first["item_id"], "item_shortage_qty": first["shortage_qty"],
                                                                        "qty": first["shortage_qty"]})
    grew = log.record("2026-W47", "transfer", "ben", "2026-W49", item={"item_id": second["item_id"], "item_shortage_qty": second["shortage_qty"] / 2 - 5})
    little = round(third["shortage_qty"] / 10)  # an action moving a tenth of what is short does not put the item in hand
    part = log.record("2026-W47", "pull in", "cy", "2026-W49", item={"item_id": third["item_id"], "item_shortage_qty": third["shortage_qty"], "qty": little})
    week = open_week(str(run.data_folder), out_dir=tmp_path / "again", alert_budget=10).step("finance")
    d = week.decisions.set_index("item_id")
    assert bool(d.loc[first["item_id"], "in_hand"]) and pd.isna(d.loc[first["item_id"], "rank"]) and d.loc[first["item_id"], "open_action"] == f"#{kept}"
    assert not bool(d.loc[second["item_id"], "in_hand"]) and d.loc[second["item_id"], "open_action"] == f"#{grew} (worse since)"
    assert pd.notna(d.loc[second["item_id"], "rank"]) and (d["rank"].notna().sum() == 10)
    t = week.items.set_index("item_id").loc[third["item_id"]]  # ranked with the rest (it may fall beyond the budget)
    assert not bool(t["in_hand"]) and t["covered_qty"] == little
    assert t["open_action"] == f"#{part} (covers {little:,.0f} of {third['shortage_qty']:,.0f} units)"
    assert t["shortage_qty"] == pytest.approx(third["shortage_qty"] - little)  # on the list with what it leaves uncovered
    assert t["money_at_risk"] == pytest.approx(third["money_at_risk"] * (1 - little / third["shortage_qty"]))
    assert week.candidates == impact.candidates - 1


def test_an_overdue_action_whose_item_did_not_ease_brings_it_back_first(sample_impact, tmp_path, monkeypatch):
    from soe_lib.io import ActionLog

    impact, _, run = sample_impact
    listed = impact.decisions[impact.decisions["rank"].notna() & (impact.decisions["kind"] == "sku-location") & (impact.decisions["shortage_qty"] > 0)]
    last = listed.iloc[-1]  # not the first: it must move up
    assert last["rank"] > 1
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("SOE_ACTIONS_DB", url)
    old = ActionLog(url).record("2026-W45", "expedite", "ana", "2026-W46", item={"item_id": last["item_id"], "item_shortage_qty": last["shortage_qty"]})
    week = open_week(str(run.data_folder), out_dir=tmp_path / "again", alert_budget=10).step("finance")
    top = week.decisions.iloc[0]
    assert top["item_id"] == last["item_id"] and top["rank"] == 1 and top["open_action"] == f"#{old} (did not work)" and not top["in_hand"]


def test_item_ids_are_stable_across_two_runs(sample_impact, tmp_path):
    impact, _, run = sample_impact
    again = open_week(str(run.data_folder), out_dir=tmp_path / "again", alert_budget=10).step("finance")
    assert again.decisions["item_id"].tolist() == impact.decisions["item_id"].tolist()


def test_decision_items_without_any_finding_is_an_empty_list():
    empty = decision_items(pd.DataFrame(columns=["gap_id", "sku", "location", "first_week", "shortage_qty", "cause", "weeks_short", "margin_at_risk"]),
                           pd.DataFrame(columns=["gap_id", "chosen_qty"]), pd.DataFrame(), pd.DataFrame(), PRODUCTS, pd.DataFrame(),
                           pd.DataFrame(columns=["sku", "location", "kind", "week", "severity", "direction", "detail"]),
                           pd.DataFrame(columns=["sku", "location", "week", "demand_qty", "plan_demand_qty"]), RUN)
    assert empty.empty and "item_id" in empty.columns


def test_feedback_names_the_planted_problems(sample_impact):
    impact, planted, run = sample_impact
    text = (run.out_dir / "sop_feedback.md").read_text()
    assert planted["biased_plan"]["family"] in text and planted["late_supplier"] in text
    assert planted["capacity_overload"]["resource"] in text and "Financial gap to plan" in text


def test_meeting_pack_holds_the_same_numbers(sample_impact):
    impact, _, run = sample_impact
    wb = load_workbook(run.out_dir / "meeting_pack.xlsx", read_only=True)
    assert {"decision_list", "joint_plan", "gaps", "plan_vs_estimate"} <= set(wb.sheetnames)  # and "actions" when there are any
    sheet = pd.read_excel(run.out_dir / "meeting_pack.xlsx", sheet_name=None)
    parquet = pd.read_parquet(run.tables_dir / "decision_list.parquet")
    np.testing.assert_allclose(sheet["decision_list"]["Money at risk"], parquet["money_at_risk"])
    assert sheet["decision_list"]["Week"].tolist() == parquet["week"].tolist()  # ISO labels in both
    assert sheet["decision_list"]["Item id"].tolist() == parquet["item_id"].tolist() and sheet["decision_list"].columns[-1] == "Item id"  # ids last
    options = pd.read_parquet(run.tables_dir / "countermeasures.parquet")
    assert sheet["joint_plan"]["Chosen units"].sum() == pytest.approx(options["chosen_qty"].sum())
    gaps = pd.read_parquet(run.tables_dir / "financial_impact.parquet")
    assert len(gaps) < 1000  # the sample fits in the pack whole
    assert sheet["gaps"]["Revenue at risk"].sum() == pytest.approx(gaps["revenue_at_risk"].sum())
    about = sheet["about"].set_index("Sheet")
    assert about.loc["gaps", "Rows"] == about.loc["gaps", "Of"] == len(gaps)
    pve = pd.read_parquet(run.tables_dir / "plan_vs_estimate.parquet")
    assert sheet["plan_vs_estimate"]["Gap"].sum() == pytest.approx(pve["gap"].sum())
    assert all(len(frame) for frame in sheet.values())  # no sheet of a header over nothing: the about sheet says what is empty
    assert all(about.loc[name, "Note"] == "nothing this week (no sheet)" for name in about.index if about.loc[name, "Rows"] == 0)
    assert sheet["decision_list"]["Why"].tolist() == parquet["why"].tolist()  # why it ranks there, as the app says it
    assert "sku-location" not in set(sheet["decision_list"]["Kind"]) and "product at location" in set(sheet["decision_list"]["Kind"])


def test_meeting_pack_is_formatted_for_people(sample_impact):
    """Number formats per kind, an autofilter, a frozen bold header, human headers."""
    _, _, run = sample_impact
    ws = load_workbook(run.out_dir / "meeting_pack.xlsx")["decision_list"]
    head = {c.value: c for c in ws[1]}
    assert "Money at risk" in head and "money_at_risk" not in head and head["Money at risk"].font.bold
    col = head["Money at risk"].column
    assert ws.cell(row=2, column=col).number_format == "#,##0" and ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.cell(row=2, column=head["Urgency"].column).number_format == "#,##0.00"
    gaps = load_workbook(run.out_dir / "meeting_pack.xlsx")["gaps"]
    heads = {c.value: c.column for c in gaps[1]}
    assert gaps.cell(row=2, column=heads["Shortage units"]).number_format in ("#,##0", "#,##0.0")
    pve = load_workbook(run.out_dir / "meeting_pack.xlsx")["plan_vs_estimate"]
    assert pve.cell(row=2, column={c.value: c.column for c in pve[1]}["Week"]).value.startswith("2026-W")


def test_the_feedback_figures_add_up(sample_impact):
    import re

    impact, _, _ = sample_impact
    line = next(ln for ln in impact.feedback.splitlines() if ln.startswith("- Horizon total"))
    numbers = [float(x.replace(",", "")) for x in re.findall(r"[-+]?\d[\d,]*", line.split("vs plan", 1)[1])]
    gap, parts = numbers[1], numbers[2:]  # numbers[0]: the plan
    assert len(parts) == 3 and abs(sum(parts) - gap) <= 2  # rounded to units: the parts add up to the gap
    families = [float(m.replace(",", "")) for m in re.findall(r"^- [^:]+: ([-+][\d,]+)", impact.feedback.split("## Financial gap to plan")[1], re.M)]
    assert len(families) > 1 and abs(sum(families) - gap) <= len(families)


def test_meeting_pack_stops_at_max_rows_and_says_so(sample_impact):
    from soe_lib.finance.pack import meeting_pack

    impact, _, _ = sample_impact
    sheets = meeting_pack(impact, max_rows=2)
    assert len(sheets["gaps"]) == 2 and sheets["gaps"]["margin_at_risk"].is_monotonic_decreasing
    assert set(sheets["countermeasures"]["gap_id"]) <= set(sheets["gaps"]["gap_id"]) and len(sheets["countermeasures"]) > 0
    about = sheets["about"].set_index("sheet")  # the sheets as built (headers are made human when written)
    assert about.loc["gaps", "rows"] == 2 and about.loc["gaps", "of"] == len(impact.impact)


@pytest.mark.parametrize("seed", range(4))
def test_the_solver_by_parts_finds_the_whole_models_optimum(seed, monkeypatch):
    """The plan's solver cuts the model into its connected parts and solves the relaxation and the search by
    batches of parts (:mod:`soe_lib.finance.highs`): on a random model of small parts, some joined by a shared
    limit, with batches of a few variables, it finds what HiGHS finds for the whole model at once."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, milp

    import soe_lib.finance.highs as highs

    monkeypatch.setattr(highs, "RELAX_COLUMNS", 4)
    monkeypatch.setattr(highs, "BATCH_COLUMNS", 4)
    rng = np.random.default_rng(seed)
    parts, size = 12, 3
    n = parts * size
    rows, cols, vals, lo, hi = [], [], [], [], []
    for p in range(parts):  # each part: two rows over its own variables
        for _ in range(2):
            rows += [len(lo)] * size
            cols += list(range(p * size, (p + 1) * size))
            vals += rng.uniform(0.5, 3.0, size).tolist()
            lo.append(-np.inf)
            hi.append(float(rng.uniform(4, 12)))
    shared = rng.choice(parts, 4, replace=False)  # a limit shared by four parts (a location's storage)
    for p in shared:
        rows.append(len(lo))
        cols.append(int(p * size))
        vals.append(1.0)
    lo.append(-np.inf)
    hi.append(3.0)
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(len(lo), n))
    c = -rng.uniform(1, 10, n)
    integer = (rng.uniform(size=n) < 0.7).astype(float)
    lb, ub = np.zeros(n), np.full(n, 10.0)
    got = highs.solve(c, a, lb, ub, np.array(lo), np.array(hi), integer, 30.0, 0.0)
    whole = milp(c, integrality=integer, bounds=Bounds(lb, ub), constraints=LinearConstraint(a, lo, hi), options={"mip_rel_gap": 0.0})
    assert got.x is not None and got.status == "solved" and got.parts == parts - len(shared) + 1
    assert got.objective == pytest.approx(whole.fun, rel=1e-7, abs=1e-7)
    assert got.bound <= got.objective + 1e-9
    assert (a @ got.x <= np.array(hi) + 1e-7).all() and np.allclose(got.x[integer == 1], np.round(got.x[integer == 1]))


@pytest.mark.parametrize("late_parts", ["the largest", "every one of more than one variable", "the largest, too large to try"])
def test_a_part_whose_relaxation_does_not_finish_gets_the_greedy_plan_and_the_other_parts_the_solvers(sample_impact, monkeypatch, late_parts):
    """At 1M one part of the model (242k moves joined by the locations' storage) cannot be relaxed in the plan's
    time: its moves are planned greedily (they share no limit with the other parts) and every other part keeps
    the solver's plan, instead of the whole week falling back to the greedy plan."""
    import soe_lib.finance.highs as highs
    from soe_lib.finance.params import FinanceParams
    from soe_lib.finance.parts import gap_part, join_gap_parts, week_world
    from soe_lib.finance.plan import _model

    _, _, run = sample_impact
    p = FinanceParams()
    projection = run.table("inventory_projection")
    world = week_world(run.data, projection, p, pd.DatetimeIndex(sorted(projection["week"].unique())))
    gaps = gap_part(run.data, run.table("supply_gaps"), world, run.table("inbound_delays"), run.table("capacity_load"), p)
    _, o, w = join_gap_parts([gaps])
    storage = run.table("storage_load")
    whole = joint_plan(o, w, storage=storage)
    real, solve, sizes, seen = highs._highs, highs.solve, [], []
    monkeypatch.setattr(highs, "RELAX_COLUMNS", 1)  # every part its own batch of the relaxation

    def spy(c, a, lb, ub, rl, ru, integer, gap, seconds):
        if integer is None:
            sizes.append(a.shape[1])
        return real(c, a, lb, ub, rl, ru, integer, gap, seconds)

    monkeypatch.setattr(highs, "_highs", spy)
    assert joint_plan(o, w, storage=storage).objective == pytest.approx(whole.objective)  # by parts, the same plan's worth
    largest = max(sizes)

    tried = []

    def largest_late(c, a, lb, ub, rl, ru, integer, gap, seconds):
        if integer is None:
            tried.append(a.shape[1])
        if late_parts == "the largest, too large to try":  # above the size the relaxation's time can solve: not given to HiGHS
            return real(c, a, lb, ub, rl, ru, integer, gap, seconds)
        if integer is None and (a.shape[1] == largest if late_parts == "the largest" else a.shape[1] > 1):
            return None, np.nan, np.nan, "Time limit reached"
        return real(c, a, lb, ub, rl, ru, integer, gap, seconds)

    if late_parts == "the largest, too large to try":
        monkeypatch.setattr(highs, "LARGE_PART", largest - 1)
        monkeypatch.setattr(highs, "LARGE_PART_RATE", 0)

    monkeypatch.setattr(highs, "_highs", largest_late)
    monkeypatch.setattr(highs, "solve", lambda *a: seen.append(solve(*a)) or seen[-1])
    plan = joint_plan(o, w, storage=storage)
    assert (largest in tried) == (late_parts != "the largest, too large to try")
    assert "greedy" in plan.method and "relaxation did not finish" in plan.method and plan.status.startswith("time limit")
    assert np.isnan(plan.gap)  # no bound for a part without its relaxation
    md = _model(o, w)
    late = seen[0].unsolved[: len(md.m)]  # the moves are the model's first columns
    picked = md.m["_option"].to_numpy()
    assert 0 < late.sum() and (late.sum() < len(md.m) or not late_parts.startswith("the largest")) and plan.chosen[picked[late]].sum() > 0
    greedy = greedy_plan(o, w, storage)  # the part's moves share no limit with the others: the greedy pass decides them alone
    np.testing.assert_array_equal(plan.chosen[picked[late]], greedy.chosen[picked[late]])
    np.testing.assert_array_equal(plan.chosen[picked[~late]], whole.chosen[picked[~late]])
    # the plan's net benefit adds up: the solver's parts and the greedy part, as re-projecting every move says
    assert plan.reprojected == pytest.approx(plan.objective, rel=0.005) and plan.objective <= whole.objective + 1e-6
    # per SKU-location too: a greedy one's money at risk (units lost that no move can change sit in a part of
    # their own, which the solver did solve) is counted once, by the greedy pass
    late_series = md.series[np.unique(md.si[late])]
    assert {r: plan.series_gain[r] for r in late_series} == pytest.approx({r: greedy.series_gain[r] for r in late_series})
    _check_plan(w, o, plan.chosen)


def _sample_week(run):
    from soe_lib.finance.params import FinanceParams
    from soe_lib.finance.parts import gap_part, join_gap_parts, week_world

    p = FinanceParams()
    projection = run.table("inventory_projection")
    world = week_world(run.data, projection, p, pd.DatetimeIndex(sorted(projection["week"].unique())))
    gaps = gap_part(run.data, run.table("supply_gaps"), world, run.table("inbound_delays"), run.table("capacity_load"), p)
    _, o, w = join_gap_parts([gaps])
    return o, w, run.table("storage_load")


@pytest.mark.parametrize("window", [2, 7])
def test_the_greedy_pass_valued_by_windows_of_moves_is_the_plan_of_valuing_each_move_alone(sample_impact, monkeypatch, window):
    """The kernel values a window of moves at once; a move whose series, pool or storage room an earlier move of
    the window changed is valued again: the plan is the one-by-one plan to the unit."""
    import soe_lib.finance.plan as plan_module

    _, _, run = sample_impact
    # a donor at L3 with 30 units above its safety stock for two shortages of 20: the second transfer of a
    # window finds the pool drawn on by the first; and the sample's week with its storage
    donor = [_series("A", "L1", 20.0, receipts={6: 200}), _series("A", "L2", 20.0, receipts={6: 200}),
             _series("A", "L3", 300.0, demand=0.0, safety=270.0, cover=99.0)]
    o, w, storage = _sample_week(run)
    weeks = [(*_week(donor), None), (w, o, storage), (w, o, None)]
    for w, o, limit in weeks:
        monkeypatch.setattr(plan_module, "GREEDY_WINDOW", 1)
        alone = greedy_plan(o, w, limit)
        monkeypatch.setattr(plan_module, "GREEDY_WINDOW", window)
        windows = greedy_plan(o, w, limit)
        assert (alone.chosen > 0).sum() >= 1
        np.testing.assert_array_equal(windows.chosen, alone.chosen)
        assert windows.objective == alone.objective and windows.series_gain == alone.series_gain
    w, o, _ = weeks[0]
    transfers = greedy_plan(o, w).chosen[o["action"].eq("transfer").to_numpy()]
    assert transfers.sum() == pytest.approx(30.0) and (transfers > 0).sum() == 1  # the first took the pool: none left


def test_an_items_gaps_read_as_a_person_says_them(sample_impact):
    """The decision list's gap text: whole units with thousands separators, "1 unit short" (not "1 units short")."""
    from soe_lib.finance.decisions import sku_location_items

    fin, _, _ = sample_impact
    impact = fin.impact.head(3).reset_index(drop=True).assign(shortage_qty=[1.2, 1234.4, 7.0])
    facets = pd.DataFrame({"sku": pd.Series(dtype=str), "location": pd.Series(dtype=str), "severity": pd.Series(dtype=str), "money": pd.Series(dtype=float),
                           "week": pd.Series(dtype="datetime64[ns]"), "kind": pd.Series(dtype=str), "direction": pd.Series(dtype=str), "text": pd.Series(dtype=str)})
    texts = " | ".join(sku_location_items(impact, fin.options, facets)["detail"].astype(str))
    assert "1 unit short from" in texts and "1,234 units short from" in texts and "7 units short from" in texts
    assert "1 units short" not in texts


def test_each_decision_says_why_it_ranks_there_in_the_scores_parts():
    from soe_lib.finance.decisions import why_ranked

    run = pd.Timestamp("2026-11-23")
    items = pd.DataFrame({
        "week": [run, run + pd.Timedelta(weeks=2), run + pd.Timedelta(weeks=1), run], "money_at_risk": [735.0, 6096.0, 100.0, 50.0],
        "urgency": [1.0, 0.7225, 0.85, 1.0], "in_hand": [False, False, False, True], "covered_qty": [0.0, 0.0, 9.0, 0.0],
        "open_action": ["#9 (did not work)", "", "#7 (covers 9 of 110 units)", "#3"],
    })
    items["score"] = items["money_at_risk"] * items["urgency"]
    why = why_ranked(items, run, np.array([True, False, False, False]), "EUR")
    assert why[0] == "its action #9 did not work: listed first; 735 EUR at risk, starts this week (x1.00): score 735"
    assert why[1] == "6,096 EUR at risk, starts in 2 weeks (x0.72): score 4,404"
    assert why[2].endswith("starts in 1 week (x0.85): score 85; open action #7 covers 9 units, ranked on the rest")
    assert why[3] == "in hand: open action #3 covers it (not ranked)"
