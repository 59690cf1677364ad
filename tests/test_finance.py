"""Money, countermeasures, the capped decision list, S&OP feedback and the meeting pack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from soe_lib.core.weeks import parse_week
from soe_lib.finance import ACTIONS, cap_to_budget, generate_options, load_catalogue, plan_vs_estimate
from soe_lib.run import open_week

RUN = parse_week("2026-W48")
WK = [RUN + pd.Timedelta(weeks=i) for i in range(13)]


def _gap(**kw):
    base = dict(gap_id=0, sku="A", location="L1", first_week=WK[3], peak_week=WK[4], last_week=WK[5], shortage_qty=30.0,
                unit_price=10.0, unit_cost=6.0, capacity_shortfall_qty=0.0, weeks_short=3)
    base.update(kw)
    return pd.DataFrame([base])


def _projection(rows):
    """rows: (sku, location, projected every week, safety stock, demand per week, weeks of supply today)."""
    frames = []
    for sku, loc, proj, ss, dem, wos in rows:
        frames.append(pd.DataFrame({"sku": sku, "location": loc, "week": WK, "constrained_projected_on_hand": proj,
                                    "safety_stock": ss, "demand_qty": dem, "weeks_of_supply": wos}))
    return pd.concat(frames, ignore_index=True)


PRODUCTS = pd.DataFrame({"sku": ["A", "B"], "family": ["F", "F"], "unit_price": [10.0, 12.0], "unit_cost": [6.0, 7.0]})
NO_LINES = pd.DataFrame(columns=["sku", "location", "order_id", "week", "eta_week", "qty", "late"]).astype({"late": bool, "week": "datetime64[ns]", "eta_week": "datetime64[ns]", "qty": float})
NO_CAP = pd.DataFrame(columns=["resource", "week", "available_hours", "overloaded"])
NO_ROUTE = pd.DataFrame(columns=["sku", "location", "resource", "hours_per_unit"])
NO_OO = pd.DataFrame(columns=["sku", "location", "week", "qty"]).astype({"week": "datetime64[ns]", "qty": float})
CAT = load_catalogue()


def options(gap, lines=NO_LINES, projection=None, capacity=NO_CAP, routings=NO_ROUTE, open_orders=NO_OO):
    projection = projection if projection is not None else _projection([("A", "L1", -5.0, 5.0, 10.0, 0.0)])
    out = generate_options(gap, lines, projection, capacity, routings, PRODUCTS, open_orders, RUN, CAT)
    return out.set_index("action")


def test_every_action_is_listed_once_per_gap_and_accept_is_always_feasible():
    o = options(_gap())
    assert sorted(o.index) == sorted(ACTIONS)
    assert o.loc["accept", "feasible"] and o.loc["accept", "net_benefit"] == 0.0


def test_expedite_feasible_and_infeasible():
    late = pd.DataFrame({"sku": ["A"], "location": ["L1"], "order_id": ["PO-1"], "week": [WK[2]], "eta_week": [WK[6]], "qty": [50.0], "late": [True]})
    o = options(_gap(), lines=late)
    assert o.loc["expedite", "feasible"] and o.loc["expedite", "effective_week"] == WK[4]  # ETA - 2 weeks
    assert o.loc["expedite", "qty"] == 30.0 and o.loc["expedite", "cost"] == pytest.approx(250 + 0.6 * 50)
    assert o.loc["expedite", "margin_recovered"] == pytest.approx(30 * 4.0) and "PO-1" in o.loc["expedite", "detail"]
    too_late = late.assign(eta_week=[WK[8]])  # even 2 weeks earlier is after the peak
    o = options(_gap(), lines=too_late)
    assert not o.loc["expedite", "feasible"] and "before the peak" in o.loc["expedite", "reason"]
    assert "no late inbound" in options(_gap()).loc["expedite", "reason"]


def test_transfer_feasible_and_infeasible():
    proj = _projection([("A", "L1", -5.0, 5.0, 10.0, 0.0), ("A", "L2", 100.0, 20.0, 10.0, 10.0)])
    o = options(_gap(), projection=proj)
    assert o.loc["transfer", "feasible"] and o.loc["transfer", "qty"] == 30.0 and "L2" in o.loc["transfer", "detail"]
    assert o.loc["transfer", "cost"] == pytest.approx(120 + 0.4 * 30)
    thin = _projection([("A", "L1", -5.0, 5.0, 10.0, 0.0), ("A", "L2", 22.0, 20.0, 10.0, 2.0)])  # source cover < 4 weeks
    assert "no other location" in options(_gap(), projection=thin).loc["transfer", "reason"]
    o = options(_gap(last_week=WK[0], first_week=WK[0], peak_week=WK[0]), projection=proj)  # gap over before it arrives
    assert not o.loc["transfer", "feasible"] and "after the gap" in o.loc["transfer", "reason"]


def test_overtime_feasible_and_infeasible():
    cap = pd.DataFrame({"resource": ["R"], "week": [WK[3]], "available_hours": [40.0], "overloaded": [True]})
    route = pd.DataFrame({"sku": ["A"], "location": ["L1"], "resource": ["R"], "hours_per_unit": [0.5]})
    o = options(_gap(capacity_shortfall_qty=25.0), capacity=cap, routings=route)
    assert o.loc["overtime", "feasible"] and o.loc["overtime", "qty"] == pytest.approx(20.0)  # 10 extra hours / 0.5
    assert o.loc["overtime", "cost"] == pytest.approx(55 * 10.0) and "R" in o.loc["overtime", "detail"]
    assert "not caused by capacity" in options(_gap(), capacity=cap, routings=route).loc["overtime", "reason"]


def test_substitute_feasible_and_infeasible():
    proj = _projection([("A", "L1", -5.0, 5.0, 10.0, 0.0), ("B", "L1", 80.0, 10.0, 10.0, 8.0)])
    o = options(_gap(), projection=proj)
    assert o.loc["substitute", "feasible"] and o.loc["substitute", "qty"] == 30.0 and "B" in o.loc["substitute", "detail"]
    assert o.loc["substitute", "cost"] == pytest.approx(0.05 * 10 * 30)
    assert not options(_gap()).loc["substitute", "feasible"]


def test_allocate_and_shape_demand():
    oo = pd.DataFrame({"sku": ["A"], "location": ["L1"], "week": [WK[4]], "qty": [12.0]})
    o = options(_gap(), open_orders=oo)
    assert o.loc["allocate", "feasible"] and "12 booked" in o.loc["allocate", "detail"] and o.loc["allocate", "qty"] == 0
    assert not options(_gap()).loc["allocate", "feasible"]
    assert o.loc["shape_demand", "feasible"] and o.loc["shape_demand", "qty"] == pytest.approx(0.2 * 30)  # 3 weeks x 10
    o = options(_gap(first_week=WK[0], peak_week=WK[0], last_week=WK[0]))
    assert not o.loc["shape_demand", "feasible"]


def test_ranking_by_net_benefit():
    proj = _projection([("A", "L1", -5.0, 5.0, 10.0, 0.0), ("A", "L2", 100.0, 20.0, 10.0, 10.0)])
    o = options(_gap(), projection=proj)
    ranked = o[o["feasible"]].sort_values("rank")
    assert len(ranked) >= 3 and (~o["feasible"]).any()  # several feasible options to order, and infeasible ones
    assert ranked["net_benefit"].is_monotonic_decreasing and ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert o.loc[~o["feasible"], "rank"].isna().all()


def test_alert_budget_caps_the_list_and_reports_the_rest():
    items = pd.DataFrame({"kind": ["supply gap"] * 30 + ["spike"] * 5, "score": np.arange(35, 0, -1.0), "money_at_risk": np.ones(35)})
    top, rest = cap_to_budget(items, 25)
    assert len(top) == 25 and top["rank"].tolist() == list(range(1, 26))
    assert rest.set_index("kind")["items"].to_dict() == {"spike": 5, "supply gap": 5}
    top, rest = cap_to_budget(items.head(10), 25)
    assert len(top) == 10 and rest.empty


def test_plan_vs_estimate_split_is_exact():
    proj = pd.DataFrame({
        "sku": "A", "location": "L1", "week": WK[:3], "demand_qty": [10.0, 10.0, 10.0], "plan_demand_qty": [8.0, 8.0, 8.0],
        "constrained_shortage_qty": [0.0, 4.0, 0.0],  # 4 short in week 2, caught up in week 3
    })
    fin = pd.DataFrame({"family": "F", "week": WK[:3], "revenue_plan": [100.0, 100.0, 100.0], "margin_plan": [40.0, 40.0, 40.0]})
    pve = plan_vs_estimate(proj, PRODUCTS, fin)
    assert pve["revenue_estimate"].tolist() == [100.0, 60.0, 140.0]  # shipped 10, 6, 14
    parts = pve["plan_value_vs_financial_plan"] + pve["demand_vs_plan"] + pve["supply_shortfall"]
    np.testing.assert_allclose(parts, pve["gap"])


# --- the whole step on the sample company --------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_impact(tmp_path_factory):
    from soe_lib.sample import write_sample

    folder = tmp_path_factory.mktemp("fin") / "data"
    planted = write_sample(folder)
    run = open_week(str(folder), out_dir=tmp_path_factory.mktemp("o"), alert_budget=10)
    return run.step("finance"), planted, run


def test_money_reconciles_exactly_with_the_supply_gaps(sample_impact):
    impact, _, run = sample_impact
    gaps = pd.read_parquet(run.tables_dir / "supply_gaps.parquet")
    short = gaps[gaps["kind"] == "shortage"].merge(run.data.products, on="sku")
    assert impact.impact["revenue_at_risk"].sum() == pytest.approx((short["shortage_qty"] * short["unit_price"]).sum(), rel=1e-12)
    assert impact.impact["margin_at_risk"].sum() == pytest.approx((short["shortage_qty"] * (short["unit_price"] - short["unit_cost"])).sum(), rel=1e-12)
    assert len(impact.impact) == len(short)
    assert impact.money_by("cause")["margin_at_risk"].sum() == pytest.approx(impact.impact["margin_at_risk"].sum())


def test_decision_list_is_capped_and_says_so(sample_impact):
    impact, _, _ = sample_impact
    assert len(impact.decisions) == 10 and impact.candidates > 10
    assert impact.beyond_budget["items"].sum() == impact.candidates - 10
    assert f"top 10 of {impact.candidates}" in impact.cap_note()
    assert impact.decisions["score"].is_monotonic_decreasing
    gaps = impact.decisions[impact.decisions["kind"] == "supply gap"]
    assert len(gaps) > 0 and gaps["best_action"].notna().all()


def test_feedback_names_the_planted_problems(sample_impact):
    impact, planted, run = sample_impact
    text = (run.out_dir / "sop_feedback.md").read_text()
    assert planted["biased_plan"]["family"] in text and planted["late_supplier"] in text
    assert planted["capacity_overload"]["resource"] in text and "Financial gap to plan" in text


def test_meeting_pack_holds_the_same_numbers(sample_impact):
    impact, _, run = sample_impact
    wb = load_workbook(run.out_dir / "meeting_pack.xlsx", read_only=True)
    assert {"decision_list", "gaps", "plan_vs_estimate"} <= set(wb.sheetnames)
    sheet = pd.read_excel(run.out_dir / "meeting_pack.xlsx", sheet_name=None)
    parquet = pd.read_parquet(run.tables_dir / "decision_list.parquet")
    np.testing.assert_allclose(sheet["decision_list"]["money_at_risk"], parquet["money_at_risk"])
    assert sheet["decision_list"]["week"].tolist() == parquet["week"].tolist()  # ISO labels in both
    gaps = pd.read_parquet(run.tables_dir / "financial_impact.parquet")
    assert len(gaps) < 1000  # the sample fits in the pack whole
    assert sheet["gaps"]["revenue_at_risk"].sum() == pytest.approx(gaps["revenue_at_risk"].sum())
    about = sheet["about"].set_index("sheet")
    assert about.loc["gaps", "rows"] == about.loc["gaps", "of"] == len(gaps)
    pve = pd.read_parquet(run.tables_dir / "plan_vs_estimate.parquet")
    assert sheet["plan_vs_estimate"]["gap"].sum() == pytest.approx(pve["gap"].sum())


def test_meeting_pack_stops_at_max_rows_and_says_so(sample_impact):
    impact, _, _ = sample_impact
    sheets = impact.pack_sheets(max_rows=2)
    assert len(sheets["gaps"]) == 2 and sheets["gaps"]["margin_at_risk"].is_monotonic_decreasing
    assert set(sheets["countermeasures"]["gap_id"]) <= set(sheets["gaps"]["gap_id"]) and len(sheets["countermeasures"]) > 0
    about = sheets["about"].set_index("sheet")
    assert about.loc["gaps", "rows"] == 2 and about.loc["gaps", "of"] == len(impact.impact)
