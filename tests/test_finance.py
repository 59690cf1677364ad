"""Money, the countermeasure options, the joint plan, the decision list, S&OP feedback and the meeting pack."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from soe_lib.core import item_id
from soe_lib.core.weeks import parse_week
from soe_lib.finance import (
    ACTIONS,
    apply_plan,
    cap_to_budget,
    decision_items,
    generate_options,
    greedy_plan,
    joint_plan,
    load_catalogue,
    make_world,
    plan_vs_estimate,
    shipped_qty,
)
from soe_lib.run import open_week

RUN = parse_week("2026-W48")
WK = pd.DatetimeIndex([RUN + pd.Timedelta(weeks=i) for i in range(13)])
CAT = load_catalogue()
PRODUCTS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F", "F", "F"], "unit_price": [20.0, 12.0, 9.0], "unit_cost": [6.0, 7.0, 5.0]})
NO_LINES = pd.DataFrame({"line_id": pd.Series(dtype="int64"), "sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str"),
                         "order_id": pd.Series(dtype="str"), "eta_week": pd.Series(dtype="datetime64[ns]"), "qty": pd.Series(dtype="float64"),
                         "kind": pd.Series(dtype="str"), "late": pd.Series(dtype="bool")})
NO_CAP = pd.DataFrame({"resource": pd.Series(dtype="str"), "week": pd.Series(dtype="datetime64[ns]"),
                       "available_hours": pd.Series(dtype="float64"), "slack_hours": pd.Series(dtype="float64")})
NO_ROUTE = pd.DataFrame(columns=["sku", "location", "resource", "hours_per_unit"])
NO_SUBS = pd.DataFrame(columns=["sku", "substitute_sku", "location", "ratio", "priority"])
NO_OO = pd.DataFrame({"sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str"), "week": pd.Series(dtype="datetime64[ns]"),
                      "qty": pd.Series(dtype="float64")})


def _series(sku, location, projected, backlog=0.0, safety=5.0, demand=10.0, cover=8.0):
    """One SKU-location of the projection (scalars or 13 weekly values)."""
    return pd.DataFrame({"sku": sku, "location": location, "week": WK, "constrained_projected_on_hand": projected,
                         "constrained_shortage_qty": backlog, "demand_qty": demand, "weeks_of_supply": cover, "safety_stock": safety})


def _short(sku, location, new_short: dict[int, float], **kw):
    """A SKU-location running short: ``new_short`` = {week: units newly short}; the backlog accumulates."""
    added = np.zeros(13)
    for t, q in new_short.items():
        added[t] = q
    backlog = np.cumsum(added)
    return _series(sku, location, -backlog, backlog=backlog, cover=0.0, **kw)


def _gap(gap_id, sku, location, first, last, open_end=False):
    price, cost = PRODUCTS.set_index("sku").loc[sku, ["unit_price", "unit_cost"]]
    return {"gap_id": gap_id, "sku": sku, "location": location, "first_week": WK[first], "last_week": WK[last],
            "unit_price": price, "unit_cost": cost, "open_at_horizon_end": open_end}


def _options(gaps, projection, lines=NO_LINES, capacity=NO_CAP, routings=NO_ROUTE, substitutes=NO_SUBS, open_orders=NO_OO, b=0.0):
    w = make_world(pd.DataFrame(gaps), pd.concat(projection, ignore_index=True), WK, b)
    return w, generate_options(w, lines, capacity, routings, PRODUCTS, substitutes, open_orders, RUN, CAT)


def _one(options, action, gap_id=0):
    rows = options[(options["action"] == action) & (options["gap_id"] == gap_id)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def _check_plan(options, w, chosen):
    """The joint plan's limits: every pool, every gap's weeks from each option's effective week on."""
    x = pd.Series(chosen, index=options.index)
    assert (x >= -1e-9).all() and (x <= options["qty"] + 1e-6).all()
    drawn = options[options["pool"] != ""].assign(use=x * options["pool_use"])
    used = drawn.groupby("pool").agg(use=("use", "sum"), cap=("pool_cap", "min"))
    assert (used["use"] <= used["cap"] + 1e-6).all(), used[used["use"] > used["cap"] + 1e-6]
    gap_pos = pd.Index(w.gaps["gap_id"]).get_indexer(options["gap_id"])
    for s in range(13):  # units effective from week s on cover only what is short from s on
        late = pd.Series(np.where(options["eff"] >= s, x, 0.0)).groupby(gap_pos).sum()
        assert (late.to_numpy() <= w.suffix[late.index, s] + 1e-6).all()


# --- the options --------------------------------------------------------------------------------------
def test_every_lever_is_listed_for_every_gap_and_accept_is_always_feasible():
    w, o = _options([_gap(0, "A", "L1", 3, 5), _gap(1, "B", "L1", 2, 2)], [_short("A", "L1", {3: 10, 4: 10, 5: 10}), _short("B", "L1", {2: 5})])
    assert (o.groupby("gap_id")["action"].unique().map(sorted) == [sorted(ACTIONS)] * 2).all()
    accept = o[o["action"] == "accept"]
    assert accept["feasible"].all() and (accept["net_benefit"] == 0).all()
    assert (o.loc[~o["feasible"], "reason"] != "").all() and o.loc[~o["feasible"], "rank"].isna().all()


def test_expedite_pull_in_and_the_time_phasing_of_their_cover():
    """Short 10 in week 3 and 20 more in week 5 (the gap: weeks 3-5). Orders come at most two weeks earlier."""
    proj = [_short("A", "L1", {3: 10, 5: 20})]
    gap = [_gap(0, "A", "L1", 3, 5)]

    def lines(eta_late, eta_on_time):
        return pd.DataFrame({"line_id": [0, 1], "sku": "A", "location": "L1", "order_id": ["PO-LATE", "PO-ON"], "eta_week": [WK[eta_late], WK[eta_on_time]],
                             "qty": [50.0, 80.0], "kind": "purchase", "late": [True, False]})

    w, o = _options(gap, proj, lines=lines(8, 5))
    assert not _one(o, "expedite")["feasible"] and "before the gap ends" in _one(o, "expedite")["reason"]  # week 6 at the earliest
    pull = _one(o, "pull_in")  # the on-time order of week 5 pulled in to week 3
    assert pull["feasible"] and pull["effective_week"] == WK[3] and pull["order_id"] == "PO-ON"
    assert pull["qty"] == pytest.approx(30.0) and pull["cost"] == pytest.approx(150 + 0.3 * 80)  # fixed + per unit of the order
    w, o = _options(gap, proj, lines=lines(5, 12))
    exp = _one(o, "expedite")  # lands in week 3: covers the whole gap
    assert exp["effective_week"] == WK[3] and exp["qty"] == pytest.approx(30.0) and exp["cost"] == pytest.approx(250 + 0.6 * 50)
    assert not _one(o, "pull_in")["feasible"]  # the on-time order of week 12 cannot reach the gap
    w, o = _options(gap, proj, lines=lines(6, 12))
    exp = _one(o, "expedite")  # lands in week 4: only the 20 short from week 4 on are left to cover
    assert exp["effective_week"] == WK[4] and exp["qty"] == pytest.approx(20.0)


def test_time_phased_coverage_in_the_joint_plan():
    """Two orders landing in W52 can together cover only the 20 units short from W52 on, not the 10 of W51."""
    proj = [_short("A", "L1", {3: 10, 5: 20})]
    lines = pd.DataFrame({"line_id": [0, 1], "sku": "A", "location": "L1", "order_id": ["PO-1", "PO-2"], "eta_week": [WK[6], WK[6]],
                          "qty": [30.0, 30.0], "kind": "purchase", "late": [True, True]})
    w, o = _options([_gap(0, "A", "L1", 3, 5)], proj, lines=lines)
    assert (o.loc[o["action"] == "expedite", "effective_week"] == WK[4]).all() and (o.loc[o["action"] == "expedite", "qty"] == 20.0).all()
    plan = joint_plan(o, w)
    assert plan.status == "optimal"
    _check_plan(o, w, plan.chosen)
    assert plan.chosen[(o["action"] == "expedite").to_numpy()].sum() == pytest.approx(20.0)


def test_transfer_keeps_the_donors_own_needs():
    # L2 holds 100, keeps 20 safety stock and its own demand: spare = min over the weeks from arrival of (projected - safety)
    donor = _series("A", "L2", np.linspace(100, 40, 13), safety=20.0, cover=10.0)
    w, o = _options([_gap(0, "A", "L1", 3, 5)], [_short("A", "L1", {3: 10, 4: 10, 5: 10}), donor])
    t = _one(o, "transfer")
    assert t["feasible"] and t["source_location"] == "L2" and t["pool"] == "stock:A@L2" and t["qty"] == pytest.approx(20.0)  # 40 - 20
    thin = _series("A", "L2", 60.0, safety=20.0, cover=2.0)  # less than 4 weeks of cover today
    w, o = _options([_gap(0, "A", "L1", 3, 5)], [_short("A", "L1", {3: 10}), thin])
    assert not _one(o, "transfer")["feasible"] and "no other location" in _one(o, "transfer")["reason"]


def test_two_gaps_competing_for_one_donor_never_over_claim_it():
    """A is short 30 at L1 and 30 at L2; L3 can spare 40. Each gap alone could take 30: together only 40."""
    proj = [_short("A", "L1", {3: 30}), _short("A", "L2", {4: 30}), _series("A", "L3", 60.0, safety=20.0, cover=10.0)]
    gaps = [_gap(0, "A", "L1", 3, 3), _gap(1, "A", "L2", 4, 4)]
    w, o = _options(gaps, proj)
    transfers = o[o["action"] == "transfer"]
    assert transfers["qty"].tolist() == [30.0, 30.0] and transfers["pool"].nunique() == 1  # stand-alone: 60 promised
    for plan in (joint_plan(o, w), greedy_plan(o, w)):
        _check_plan(o, w, plan.chosen)
        assert plan.chosen[(o["action"] == "transfer").to_numpy()].sum() == pytest.approx(40.0)
    chosen = apply_plan(o, joint_plan(o, w))
    t = chosen[chosen["action"] == "transfer"]
    # each transfer pays its own fixed cost once
    np.testing.assert_allclose(t["chosen_cost"], np.where(t["chosen_qty"] > 0, 120 + 0.4 * t["chosen_qty"], 0.0))


def test_substitution_only_from_the_substitutes_table():
    # B and C are of A's family and have stock to spare at L1; only B is an accepted substitute, 2 units per unit
    proj = [_short("A", "L1", {3: 30}), _series("B", "L1", 90.0, safety=10.0), _series("C", "L1", 500.0, safety=10.0)]
    gaps = [_gap(0, "A", "L1", 3, 3)]
    w, o = _options(gaps, proj)
    assert not _one(o, "substitute")["feasible"] and "no substitutes table" in _one(o, "substitute")["reason"]
    subs = pd.DataFrame({"sku": ["A"], "substitute_sku": ["B"], "location": [np.nan], "ratio": [2.0], "priority": [np.nan]})
    w, o = _options(gaps, proj, substitutes=subs)
    s = _one(o, "substitute")
    assert s["substitute_sku"] == "B" and s["pool"] == "stock:B@L1" and s["qty"] == pytest.approx(30.0)  # 80 spare / 2 per unit = 40 >= 30
    assert s["margin_recovered"] == pytest.approx(30 * 2 * (12 - 7))  # B's own margin, two of them per unit of A
    assert s["cost"] == pytest.approx(0.05 * 12 * 2 * 30)
    assert "C" not in set(o["substitute_sku"])
    other_place = subs.assign(location=["L9"])  # accepted only at another location
    w, o = _options(gaps, proj, substitutes=other_place)
    assert not _one(o, "substitute")["feasible"]


def test_substitute_stock_is_shared_with_transfers_from_it():
    """B at L1 can spare 40: a substitute for A at L1 and a transfer of B to L2 draw on one pool."""
    proj = [_short("A", "L1", {3: 40}), _short("B", "L2", {3: 40}), _series("B", "L1", 50.0, safety=10.0, cover=10.0)]
    subs = pd.DataFrame({"sku": ["A"], "substitute_sku": ["B"], "location": ["L1"], "ratio": [1.0], "priority": [1.0]})
    w, o = _options([_gap(0, "A", "L1", 3, 3), _gap(1, "B", "L2", 3, 3)], proj, substitutes=subs)
    drawing = o[o["pool"] == "stock:B@L1"]
    assert set(drawing["action"]) == {"substitute", "transfer"} and drawing["qty"].sum() == pytest.approx(80.0)
    plan = joint_plan(o, w)
    _check_plan(o, w, plan.chosen)
    assert plan.chosen[drawing.index].sum() == pytest.approx(40.0)


def test_overtime_and_build_ahead_use_the_resource_weeks_hours():
    cap = pd.DataFrame({"resource": "R", "week": WK[:6], "available_hours": 40.0, "slack_hours": [10.0, 4.0, 0.0, 0.0, 0.0, 0.0]})
    route = pd.DataFrame({"sku": ["A"], "location": ["L1"], "resource": ["R"], "hours_per_unit": [0.5]})
    w, o = _options([_gap(0, "A", "L1", 3, 4)], [_short("A", "L1", {3: 20, 4: 30})], capacity=cap, routings=route)
    build = o[o["action"] == "build_ahead"].sort_values("effective_week")
    assert build["effective_week"].tolist() == [WK[0], WK[1]] and build["qty"].tolist() == [20.0, 8.0]  # 10 h / 0.5, 4 h / 0.5
    assert (build["pool"] == ["slack:R:0", "slack:R:1"]).all()
    over = o[o["action"] == "overtime"].sort_values("effective_week")
    assert over["effective_week"].tolist() == [WK[2], WK[3], WK[4]]  # from the lead time (1) in weeks without slack, to the gap's end
    assert over["qty"].tolist() == [20.0, 20.0, 20.0]  # 25 % of 40 h / 0.5; at most what is short from then on (50, 50, 30)
    assert over.iloc[0]["cost"] == pytest.approx(55 * 0.5 * 20)
    w, o = _options([_gap(0, "A", "L1", 3, 4)], [_short("A", "L1", {3: 20, 4: 30})])
    assert "no routing" in _one(o, "overtime")["reason"]


def test_shaping_never_moves_demand_into_weeks_that_are_short():
    gap = [_gap(0, "A", "L1", 3, 4)]
    recovering = np.r_[[20, 10, 0], [-10, -20], np.full(8, 60.0)]
    w, o = _options(gap, [_series("A", "L1", recovering, backlog=np.clip(-recovering, 0, None), safety=5.0)])
    s = _one(o, "shape_demand")
    assert s["feasible"] and s["qty"] == pytest.approx(0.2 * 20)  # 20 % of the gap weeks' demand; the weeks after have 55 spare
    still_short = np.r_[[20, 10, 0], [-10, -20], [-5], np.full(7, 60.0)]  # the week after the gap is short too
    w, o = _options(gap, [_series("A", "L1", still_short, backlog=np.clip(-still_short, 0, None))])
    assert not _one(o, "shape_demand")["feasible"]
    to_end = [_gap(0, "A", "L1", 3, 12, open_end=True)]
    w, o = _options(to_end, [_short("A", "L1", {3: 10})])
    assert "horizon's end" in _one(o, "shape_demand")["reason"]


def test_allocate_names_the_booked_orders_and_recovers_no_units():
    oo = pd.DataFrame({"sku": ["A"], "location": ["L1"], "week": [WK[3]], "qty": [12.0]})
    w, o = _options([_gap(0, "A", "L1", 3, 5)], [_short("A", "L1", {3: 30})], open_orders=oo)
    a = _one(o, "allocate")
    assert a["feasible"] and "12 booked" in a["detail"] and a["qty"] == 0
    w, o = _options([_gap(0, "A", "L1", 3, 5)], [_short("A", "L1", {3: 30})])
    assert not _one(o, "allocate")["feasible"]


def test_backorder_share_values_a_unit_covered_by_what_is_lost():
    proj = [_short("A", "L1", {3: 30}), _series("A", "L2", 100.0, safety=20.0, cover=10.0)]
    for b, open_end, factor in ((0.0, False, 1.0), (0.6, False, 0.4), (0.6, True, 1.0)):
        w, o = _options([_gap(0, "A", "L1", 3, 12 if open_end else 3, open_end)], proj, b=b)
        assert _one(o, "transfer")["margin_recovered"] == pytest.approx(30 * 14 * factor)


def test_the_joint_plan_beats_or_equals_greedy_and_both_keep_every_limit():
    """Random worlds: several gaps of two SKUs at four locations, donors, orders, a shared resource."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        proj, gaps = [], []
        for k, (sku, loc) in enumerate([("A", "L1"), ("A", "L2"), ("B", "L1"), ("B", "L3")]):
            first = int(rng.integers(1, 7))
            short = {first + d: float(rng.integers(5, 40)) for d in range(int(rng.integers(1, 4)))}
            proj.append(_short(sku, loc, short))
            gaps.append(_gap(k, sku, loc, first, max(short)))
        proj += [_series("A", "L4", float(rng.integers(30, 120)), safety=20.0, cover=10.0), _series("B", "L4", float(rng.integers(30, 90)), safety=10.0, cover=10.0)]
        lines = pd.DataFrame({"line_id": [0, 1, 2], "sku": ["A", "A", "B"], "location": ["L1", "L2", "L1"], "order_id": ["P0", "P1", "P2"],
                              "eta_week": [WK[9], WK[8], WK[7]], "qty": rng.integers(10, 60, 3).astype(float), "kind": "purchase", "late": [True, False, True]})
        cap = pd.DataFrame({"resource": "R", "week": WK, "available_hours": 40.0, "slack_hours": np.r_[rng.uniform(0, 10, 4), np.zeros(9)]})
        route = pd.DataFrame({"sku": ["A", "A", "B"], "location": ["L1", "L2", "L1"], "resource": "R", "hours_per_unit": [0.5, 0.5, 0.25]})
        subs = pd.DataFrame({"sku": ["A"], "substitute_sku": ["B"], "location": [np.nan], "ratio": [1.5], "priority": [1.0]})
        w, o = _options(gaps, proj, lines=lines, capacity=cap, routings=route, substitutes=subs)
        best, greedy = joint_plan(o, w), greedy_plan(o, w)
        for plan in (best, greedy):
            _check_plan(o, w, plan.chosen)
        assert best.status == "optimal" and best.objective >= greedy.objective - 1e-6
        net = apply_plan(o, best)["chosen_net_benefit"].sum()
        assert net == pytest.approx(best.objective, rel=1e-6, abs=1e-6)  # the table's money is the model's objective


def test_a_solver_without_a_plan_falls_back_to_greedy_and_says_so(monkeypatch):
    import scipy.optimize

    import soe_lib.finance.plan as plan_module

    class NoPlan:
        x, status, message, fun = None, 1, "time limit reached, no feasible point", None

    monkeypatch.setattr(scipy.optimize, "milp", lambda *a, **k: NoPlan())
    proj = [_short("A", "L1", {3: 30}), _short("A", "L2", {4: 30}), _series("A", "L3", 60.0, safety=20.0, cover=10.0)]
    w, o = _options([_gap(0, "A", "L1", 3, 3), _gap(1, "A", "L2", 4, 4)], proj)
    plan = plan_module.joint_plan(o, w)
    assert plan.method.startswith("greedy") and "no feasible point" in plan.status
    _check_plan(o, w, plan.chosen)
    assert plan.chosen.sum() == pytest.approx(40.0)


# --- money ----------------------------------------------------------------------------------------------
def _pve_case():
    proj = pd.DataFrame({
        "sku": "A", "location": "L1", "week": WK[:3], "demand_qty": [10.0, 10.0, 10.0], "plan_demand_qty": [8.0, 8.0, 8.0],
        "constrained_shortage_qty": [0.0, 4.0, 0.0],  # 4 short in week 2, caught up in week 3
    })
    fin = pd.DataFrame({"family": "F", "week": WK[:3], "revenue_plan": [200.0, 200.0, 200.0], "margin_plan": [80.0, 80.0, 80.0]})
    return proj, fin


@pytest.mark.parametrize(("b", "shipped"), [(0.0, [10.0, 6.0, 10.0]), (1.0, [10.0, 6.0, 14.0]), (0.5, [10.0, 6.0, 12.0])])
def test_plan_vs_estimate_ships_the_backordered_share_later(b, shipped):
    proj, fin = _pve_case()
    assert shipped_qty(proj, b).tolist() == shipped
    pve = plan_vs_estimate(proj, PRODUCTS, fin, b)
    assert pve["revenue_estimate"].tolist() == [20.0 * q for q in shipped]
    parts = pve["plan_value_vs_financial_plan"] + pve["demand_vs_plan"] + pve["supply_shortfall"]
    np.testing.assert_allclose(parts, pve["gap"])


# --- decisions --------------------------------------------------------------------------------------------
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


def test_money_reconciles_exactly_with_the_supply_gaps(sample_impact):
    impact, _, run = sample_impact
    gaps = pd.read_parquet(run.tables_dir / "supply_gaps.parquet")
    short = gaps[gaps["kind"] == "shortage"].merge(run.data.products, on="sku")
    assert impact.impact["revenue_at_risk"].sum() == pytest.approx((short["shortage_qty"] * short["unit_price"]).sum(), rel=1e-12)
    assert impact.impact["margin_at_risk"].sum() == pytest.approx((short["shortage_qty"] * (short["unit_price"] - short["unit_cost"])).sum(), rel=1e-12)
    assert len(impact.impact) == len(short)
    assert impact.money_by("cause")["margin_at_risk"].sum() == pytest.approx(impact.impact["margin_at_risk"].sum())


@pytest.mark.parametrize("b", [0.0, 0.5, 1.0])
def test_money_at_risk_and_the_estimate_agree_for_any_backorder_share(sample_impact, b):
    """Per SKU-location, revenue at risk of its gaps is exactly what the latest estimate says supply will
    not ship; the only exception (documented) are shortages smaller than a gap's minimum (1 unit)."""
    from soe_lib.finance import money_at_risk

    _, _, run = sample_impact
    projection, gaps = run.table("inventory_projection"), run.table("supply_gaps")
    risk = money_at_risk(gaps, run.data.products, projection, b).groupby(["sku", "location"])["revenue_at_risk"].sum()
    p = projection.sort_values(["sku", "location", "week"]).merge(run.data.products[["sku", "unit_price"]], on="sku", how="left")
    p["not_shipped"] = (p["demand_qty"] - shipped_qty(p, b)) * p["unit_price"]
    estimate = p.groupby(["sku", "location"])["not_shipped"].sum()
    both = pd.concat([risk.rename("risk"), estimate.rename("estimate"), p.groupby(["sku", "location"])["constrained_shortage_qty"].max().rename("worst")],
                     axis=1).fillna(0.0)
    small = both["worst"] < 1.0  # never a whole unit short: no gap, in the estimate only
    assert (~small).sum() >= 5 and both.loc[~small, "risk"].sum() > 0
    np.testing.assert_allclose(both.loc[~small, "risk"], both.loc[~small, "estimate"], rtol=1e-9, atol=1e-6)
    assert (both.loc[small, "risk"] == 0).all()


def test_the_joint_plan_on_the_sample_keeps_every_limit(sample_impact):
    impact, _, _ = sample_impact
    o = impact.options
    assert impact.plan.status == "optimal" and impact.plan.variables > 0
    drawn = o[o["pool"] != ""].assign(use=o["chosen_qty"] * o["pool_use"])
    used = drawn.groupby("pool").agg(use=("use", "sum"), cap=("pool_cap", "min"))
    assert (used["use"] <= used["cap"] + 1e-6).all() and used["use"].sum() > 0
    assert o["chosen_net_benefit"].sum() == pytest.approx(impact.plan.objective, rel=1e-6)
    chosen = impact.chosen()
    assert len(chosen) > 0 and (chosen["chosen_net_benefit"] > 0).all()
    assert "optimal" in impact.plan_note() and "variables" in impact.plan_note()


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
    kept = log.record("2026-W47", "expedite", "ana", "2026-W49", item={"item_id": first["item_id"], "item_shortage_qty": first["shortage_qty"]})
    grew = log.record("2026-W47", "transfer", "ben", "2026-W49", item={"item_id": second["item_id"], "item_shortage_qty": second["shortage_qty"] / 2 - 5})
    week = open_week(str(run.data_folder), out_dir=tmp_path / "again", alert_budget=10).step("finance")
    d = week.decisions.set_index("item_id")
    assert bool(d.loc[first["item_id"], "in_hand"]) and pd.isna(d.loc[first["item_id"], "rank"]) and d.loc[first["item_id"], "open_action"] == f"#{kept}"
    assert not bool(d.loc[second["item_id"], "in_hand"]) and d.loc[second["item_id"], "open_action"] == f"#{grew} (worse since)"
    assert pd.notna(d.loc[second["item_id"], "rank"]) and (d["rank"].notna().sum() == 10)
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
    assert {"decision_list", "actions", "joint_plan", "gaps", "plan_vs_estimate"} <= set(wb.sheetnames)
    sheet = pd.read_excel(run.out_dir / "meeting_pack.xlsx", sheet_name=None)
    parquet = pd.read_parquet(run.tables_dir / "decision_list.parquet")
    np.testing.assert_allclose(sheet["decision_list"]["Money at risk"], parquet["money_at_risk"])
    assert sheet["decision_list"]["Week"].tolist() == parquet["week"].tolist()  # ISO labels in both
    assert sheet["decision_list"]["Item"].tolist() == parquet["item_id"].tolist()
    options = pd.read_parquet(run.tables_dir / "countermeasures.parquet")
    assert sheet["joint_plan"]["Chosen units"].sum() == pytest.approx(options["chosen_qty"].sum())
    gaps = pd.read_parquet(run.tables_dir / "financial_impact.parquet")
    assert len(gaps) < 1000  # the sample fits in the pack whole
    assert sheet["gaps"]["Revenue at risk"].sum() == pytest.approx(gaps["revenue_at_risk"].sum())
    about = sheet["about"].set_index("Sheet")
    assert about.loc["gaps", "Rows"] == about.loc["gaps", "Of"] == len(gaps)
    pve = pd.read_parquet(run.tables_dir / "plan_vs_estimate.parquet")
    assert sheet["plan_vs_estimate"]["Gap"].sum() == pytest.approx(pve["gap"].sum())


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
    impact, _, _ = sample_impact
    sheets = impact.pack_sheets(max_rows=2)
    assert len(sheets["gaps"]) == 2 and sheets["gaps"]["margin_at_risk"].is_monotonic_decreasing
    assert set(sheets["countermeasures"]["gap_id"]) <= set(sheets["gaps"]["gap_id"]) and len(sheets["countermeasures"]) > 0
    about = sheets["about"].set_index("sheet")  # the sheets as built (headers are made human when written)
    assert about.loc["gaps", "rows"] == 2 and about.loc["gaps", "of"] == len(impact.impact)
