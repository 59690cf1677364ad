"""Supply gaps: projections by hand, capacity scaling, storage, root causes of the planted problems."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soe_lib.core import project, runs, weeks_of_supply
from soe_lib.core.weeks import parse_week
from soe_lib.run import open_week
from soe_lib.supply.capacity import capacity_load, line_completion

from .conftest import write_tables

W = [f"2026-W{w}" for w in range(48, 54)] + [f"2027-W{w:02d}" for w in range(1, 8)]  # 13 horizon weeks


def test_projection_by_hand():
    p = project(np.array([10.0]), np.array([[0, 0, 20, 0]]), np.array([[5, 8, 6, 4]]))
    np.testing.assert_allclose(p.projected, [[5, -3, 11, 7]])  # 10-5, 5-8, -3+20-6, 11-4
    np.testing.assert_allclose(p.backlog, [[0, 3, 0, 0]])
    np.testing.assert_allclose(p.short_new, [[0, 3, 0, 0]])
    assert p.fill_rate[0] == pytest.approx(1 - 3 / 23)
    np.testing.assert_allclose(p.held(), [[10, 5, 20, 11]])  # brought in (>= 0) + receipts


def test_backlog_growing_and_recovering_counts_each_unserved_unit_once():
    p = project(np.array([0.0]), np.array([[0, 0, 0, 30]]), np.array([[4, 4, 4, 4]]))
    np.testing.assert_allclose(p.backlog, [[4, 8, 12, 0]])
    np.testing.assert_allclose(p.short_new, [[4, 4, 4, 0]])  # 12 units served late, not 4+8+12


def test_weeks_of_supply():
    wos = weeks_of_supply(np.array([[40.0, 20.0, 0.0, -5.0]]), np.array([[10.0, 10.0, 10.0, 10.0]]), cover=2)
    np.testing.assert_allclose(wos, [[4.0, 2.0, 0.0, 0.0]])
    assert weeks_of_supply(np.array([[5.0]]), np.array([[0.0]]), cover=2)[0, 0] == 99.0


def test_runs_finds_every_run_in_every_row():
    r, first, last = runs(np.array([[0, 1, 1, 0, 1], [1, 0, 0, 0, 0]], dtype=bool))
    assert list(zip(r, first, last, strict=True)) == [(0, 1, 2), (0, 4, 4), (1, 0, 0)]


def test_capacity_carries_what_does_not_fit_into_the_next_weeks():
    """By hand: R1 has 15 h for 20 h in week 0 and finishes the 5 h left in week 1 (first in, first out);
    R2 has 1 h for 5 h in week 1, the last week: 4 h stay at risk. A is routed on both: the slower decides."""
    weeks = pd.date_range(parse_week("2026-W48"), periods=2, freq="7D")
    supply = pd.DataFrame(
        {"sku": ["A", "B", "A"], "location": ["L"] * 3, "week": [weeks[0], weeks[0], weeks[1]], "eta_week": [weeks[0], weeks[0], weeks[1]],
         "qty": [100.0, 100.0, 50.0], "kind": ["production", "production", "production"]}
    )
    routings = pd.DataFrame({"sku": ["A", "B", "A"], "location": ["L"] * 3, "resource": ["R1", "R1", "R2"], "hours_per_unit": [0.1, 0.1, 0.1]})
    capacity = pd.DataFrame({"resource": ["R1", "R1", "R2", "R2"], "week": [weeks[0], weeks[1], weeks[0], weeks[1]], "available_hours": [15.0, 40.0, 100.0, 1.0]})
    load = capacity_load(supply, routings, capacity, weeks)
    at = load.set_index(["resource", "week"])
    assert at.loc[("R1", weeks[0]), ["load_hours", "completed_hours", "carried_out_hours"]].tolist() == pytest.approx([20.0, 15.0, 5.0])
    assert at.loc[("R1", weeks[0]), "overloaded"] and not at.loc[("R1", weeks[1]), "overloaded"]
    assert at.loc[("R1", weeks[1]), ["carried_in_hours", "completed_hours", "slack_hours"]].tolist() == pytest.approx([5.0, 10.0, 30.0])
    assert at.loc[("R2", weeks[1]), ["load_hours", "completed_hours", "carried_out_hours"]].tolist() == pytest.approx([5.0, 1.0, 4.0])
    arrivals, lines = line_completion(supply, routings, load, weeks)
    np.testing.assert_allclose(lines["on_time_qty"], [75.0, 75.0, 10.0])
    np.testing.assert_allclose(lines["late_qty"], [25.0, 25.0, 0.0])  # carried into week 1, not lost
    np.testing.assert_allclose(lines["at_risk_qty"], [0.0, 0.0, 40.0])
    assert lines["bottleneck"].tolist() == ["R1", "R1", "R2"]
    got = arrivals.assign(w=weeks.get_indexer(arrivals["week"]))[["line", "w", "qty"]].values.tolist()
    assert got == [[0, 0, 75.0], [0, 1, 25.0], [1, 0, 75.0], [1, 1, 25.0], [2, 1, 10.0]]


def _company(tmp_path, supply_rows, on_hand=20, demand=10.0, storage=None, extra=None):
    """One SKU at one location, a flat plan of `demand`/week, actuals equal to it (so sensing = plan)."""
    hist = pd.date_range(parse_week("2026-W48") - pd.Timedelta(weeks=30), periods=30, freq="7D")
    tables = {
        "products": pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [4.0]}),
        "locations": pd.DataFrame({"location": ["L"], "storage_capacity": [storage if storage is not None else ""]}),
        "actuals": pd.DataFrame({"sku": "A", "location": "L", "week": hist.strftime("%Y-%m-%d"), "qty": demand}),
        "demand_plan": pd.DataFrame({"sku": "A", "location": "L", "week": list(hist.strftime("%Y-%m-%d")) + W, "qty": demand}),
        "inventory": pd.DataFrame({"sku": ["A"], "location": ["L"], "on_hand": [on_hand], "safety_stock": [5]}),
        "supply": pd.DataFrame(supply_rows),
    }
    tables.update(extra or {})
    run = open_week(str(write_tables(tmp_path / "data", tables)), "2026-W48", tmp_path / "out")
    return run.step("supply")  # computes the sensing step first, as a notebook run on its own does


def test_a_late_receipt_causes_a_shortage_named_with_its_order(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2026-W49", "eta_week": "2026-W51", "qty": 40, "order_id": "PO-7", "supplier": "Slow Ltd"}])
    proj = s.projection.set_index("week")
    assert proj.loc[parse_week("2026-W49"), "projected_on_hand"] == pytest.approx(0.0)  # 20 - 10 - 10
    assert proj.loc[parse_week("2026-W50"), "projected_on_hand"] == pytest.approx(-10.0)
    assert proj.loc[parse_week("2026-W50"), "plan_projected_on_hand"] == pytest.approx(30.0)  # as planned: 20+40-30
    gap = s.gaps[s.gaps["kind"] == "shortage"].iloc[0]
    assert gap["first_week"] == parse_week("2026-W50") and gap["last_week"] == parse_week("2026-W50")
    assert gap["peak_shortage_qty"] == pytest.approx(10.0) and gap["shortage_qty"] == pytest.approx(10.0)
    assert gap["cause"] == "supply late" and gap["late_orders"] == "PO-7"
    assert gap["supply_late_qty"] == pytest.approx(40.0) and gap["plan_short_qty"] == 0
    line = s.lines.iloc[0]
    assert line["delay_weeks"] == 2 and line["late"] and line["creates_shortage"]
    assert s.by_supplier.set_index("supplier").loc["Slow Ltd", "on_time_share"] == 0.0


def test_an_early_receipt_is_no_gap(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2026-W51", "eta_week": "2026-W49", "qty": 200}])
    assert (s.gaps["kind"] != "shortage").all()
    assert s.lines.iloc[0]["delay_weeks"] == -2 and not s.lines.iloc[0]["late"]


def test_backlog_recovers_when_the_receipt_lands(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2026-W50", "eta_week": "2026-W52", "qty": 100}], on_hand=15)
    p = s.projection.set_index("week")["projected_on_hand"]
    assert p[parse_week("2026-W50")] == pytest.approx(-15) and p[parse_week("2026-W51")] == pytest.approx(-25)
    assert p[parse_week("2026-W52")] == pytest.approx(65)  # -25 + 100 - 10
    gap = s.gaps[s.gaps["kind"] == "shortage"].iloc[0]
    assert gap["weeks_short"] == 3 and gap["peak_week"] == parse_week("2026-W51") and gap["shortage_qty"] == pytest.approx(25)


def test_plan_already_short_and_safety_stock_gaps_are_separate(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2027-W05", "eta_week": "2027-W05", "qty": 500}], on_hand=33)
    shortage = s.gaps[s.gaps["kind"] == "shortage"].iloc[0]
    assert shortage["cause"] == "plan already short"
    below = s.gaps[s.gaps["kind"] == "below_safety_stock"]
    assert len(below) == 1 and below.iloc[0]["first_week"] == parse_week("2026-W50")  # 33-30 = 3 < 5


def test_storage_overflow(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2026-W49", "eta_week": "2026-W49", "qty": 100}], on_hand=50, storage=120)
    st = s.storage.set_index("week")
    assert st.loc[parse_week("2026-W49"), "units_held"] == pytest.approx(140.0)  # 40 brought in + 100 landing
    assert st.loc[parse_week("2026-W49"), "overflow_qty"] == pytest.approx(20.0)
    assert st.loc[parse_week("2026-W50"), "overflow_qty"] == pytest.approx(10.0)  # 130 still on site
    assert st["overflow"].sum() == 2 and not st.loc[parse_week("2026-W51"), "overflow"]  # 120 = capacity


def test_without_optional_tables_the_result_is_complete(tmp_path):
    s = _company(tmp_path, [{"sku": "A", "location": "L", "week": "2026-W49", "qty": 40}])
    assert s.capacity.empty and len(s.projection) == 13 and s.storage["overflow"].sum() == 0
    assert (s.projection["constrained_projected_on_hand"] == s.projection["projected_on_hand"]).all()
    head = s.headline().set_index("measure")["value"]
    assert head["overloaded resource-weeks"] == 0 and head["storage overflow location-weeks"] == 0
    assert (s.lines["at_risk_qty"] == 0).all() and s.by_kind["kind"].tolist() == ["(none)"]


# --- the sample company's planted problems ----------------------------------------------------------
@pytest.fixture(scope="module")
def sample_supply(sample_cycle):
    run, planted, results = sample_cycle
    return results["supply"], planted, run


def _gaps_of(s, where, kind="shortage"):
    g = s.gaps
    return g[(g["sku"] == where["sku"]) & (g["location"] == where["location"]) & (g["kind"] == kind)]


def test_planted_spike_is_a_demand_gap(sample_supply):
    s, planted, _ = sample_supply
    gap = _gaps_of(s, planted["demand_spike"])
    assert len(gap) >= 1 and gap.iloc[0]["cause"] == "demand above plan"


def test_planted_late_inbound_is_a_supply_late_gap_naming_the_order(sample_supply):
    s, planted, run = sample_supply
    gap = _gaps_of(s, planted["late_inbound"]).sort_values("first_week").iloc[0]
    assert gap["cause"] == "supply late"
    line = run.data.supply[(run.data.supply["sku"] == planted["late_inbound"]["sku"]) & (run.data.supply["location"] == planted["late_inbound"]["location"])]
    late_id = line.loc[line["eta_week"] == parse_week(planted["late_inbound"]["eta_week"]), "order_id"].iloc[0]
    assert late_id in gap["late_orders"]
    sup = s.by_supplier.set_index("supplier")
    assert sup.loc[planted["late_supplier"], "on_time_share"] < 0.5 and sup.drop(planted["late_supplier"])["on_time_share"].min() > 0.8


def test_planted_capacity_overload_is_found_and_blamed(sample_supply):
    s, planted, _ = sample_supply
    over = s.capacity[s.capacity["overloaded"]]
    assert set(over["resource"]) == {planted["capacity_overload"]["resource"]}
    planted_weeks = {parse_week(w) for w in planted["capacity_overload"]["weeks"]}
    assert planted_weeks <= set(over["week"]) and min(over["week"]) == min(planted_weeks)  # the backlog may spill on
    assert (over["carried_out_hours"] > 0).any() and over["carried_in_hours"].iloc[0] == 0
    blamed = s.gaps[s.gaps["causes"].str.contains("capacity shortfall")]
    assert len(blamed) > 0 and (blamed["bottleneck_resources"] == "LINE-2").all()


def test_the_headline_and_the_delay_summaries_say_what_the_lines_say(sample_supply):
    """Late lines, those causing a shortage, and the supplier and kind figures, all from the summed parts' sums: as
    counted and averaged over the lines themselves (the lines are in series order, then line id)."""
    s, _, run = sample_supply
    lines, head = s.lines, s.headline().set_index("measure")["value"]
    assert head["late inbound lines"] == lines["late"].sum() > 0 and head["late lines causing a shortage"] == lines["creates_shortage"].sum() > 0
    for by, summary in (("supplier", s.by_supplier), ("kind", s.by_kind)):
        own = lines.assign(_k=lines[by].fillna("(none)").replace("", "(none)")).groupby("_k")
        got = summary.set_index(by)
        pd.testing.assert_series_equal(got["avg_delay_weeks"].sort_index(), own["delay_weeks"].mean().sort_index(), check_names=False)
        assert (got["lines"].sort_index() == own.size().sort_index()).all() and got["late_lines"].sum() == lines["late"].sum()
    series = run.data.series().set_index(["sku", "location"])["_series"]
    order = series.reindex(pd.MultiIndex.from_frame(lines[["sku", "location"]].astype(str))).to_numpy()
    assert (np.diff(order) >= 0).all() and lines.groupby(order)["line_id"].apply(lambda x: x.is_monotonic_increasing).all()


def test_planted_storage_overflow(sample_supply):
    s, planted, _ = sample_supply
    assert set(s.storage.loc[s.storage["overflow"], "location"]) == {planted["storage_near_capacity"]["location"]}




# --- the cause identities ---------------------------------------------------------------------------
SIGNED_PARTS = ["plan_short_qty", "plan_cushion_qty", "demand_above_plan_qty", "supply_late_qty", "capacity_shortfall_qty"]


def _assert_causes_add_up(s):
    """Every gap: the signed parts sum to its peak shortage; every week of every gap: the week's parts
    sum to that week's shortage; a cause named in ``causes`` deepens some week of the gap."""
    gaps = s.gaps
    assert len(gaps) > 0
    np.testing.assert_allclose(gaps[SIGNED_PARTS].sum(axis=1), gaps["peak_shortage_qty"], atol=1e-8)
    assert (gaps["plan_short_qty"] >= 0).all() and (gaps["plan_cushion_qty"] <= 0).all()
    assert ((gaps["plan_short_qty"] == 0) | (gaps["plan_cushion_qty"] == 0)).all()
    weeks = s.causes.groupby(["gap_id", "week"]).agg(parts=("qty", "sum"), short=("week_shortage_qty", "first"))
    np.testing.assert_allclose(weeks["parts"], weeks["short"], atol=1e-8)
    # every week of every gap is attributed (a week with a zero shortage has no parts to list)
    expected = int(gaps["weeks_short"].sum())
    listed = s.causes.groupby("gap_id")["week"].nunique().reindex(gaps["gap_id"]).fillna(0).sum()
    assert listed == expected
    deepening = s.causes[(s.causes["qty"] > 0) & (s.causes["qty"] >= 0.1 * s.causes["week_shortage_qty"].clip(lower=1e-9))]
    named = gaps.set_index("gap_id")["causes"].str.split("; ")
    for gap_id, cause in deepening[deepening["cause"] != "plan cushion"][["gap_id", "cause"]].drop_duplicates().itertuples(index=False):
        assert cause in named[gap_id], (gap_id, cause, named[gap_id])


def test_causes_add_up_on_every_gap_of_the_sample(sample_supply):
    s, _, _ = sample_supply
    _assert_causes_add_up(s)
    assert (s.gaps["plan_cushion_qty"] < 0).any()  # the plan's spare does absorb part of some gaps


def _random_company(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Three SKUs at two locations, noisy demand (sensing departs from plan), late and early purchase
    orders, production on two resources that overload in random weeks."""
    hist = pd.date_range(parse_week("2026-W48") - pd.Timedelta(weeks=40), periods=40, freq="7D")
    horizon = [_wk(n) for n in range(48, 61)]
    skus, locs = ["A", "B", "C"], ["L1", "L2"]
    pairs = [(s, loc) for s in skus for loc in locs]
    level = {p: rng.uniform(8, 40) for p in pairs}
    actuals = pd.concat([pd.DataFrame({"sku": s, "location": loc, "week": hist.strftime("%Y-%m-%d"),
                                       "qty": rng.poisson(level[(s, loc)] * rng.uniform(0.6, 1.6), len(hist))}) for s, loc in pairs])
    plan = pd.concat([pd.DataFrame({"sku": s, "location": loc, "week": list(hist.strftime("%Y-%m-%d")) + horizon,
                                    "qty": np.round(level[(s, loc)] * rng.uniform(0.8, 1.2), 1)}) for s, loc in pairs])
    rows = []
    for k in range(14):
        s, loc = pairs[rng.integers(len(pairs))]
        planned = int(rng.integers(48, 60))
        eta = planned + int(rng.choice([-1, 0, 0, 1, 2, 4]))
        kind = "production" if s == "C" else "purchase"
        rows.append({"sku": s, "location": loc, "week": _wk(planned), "eta_week": _wk(eta), "qty": float(rng.integers(20, 200)),
                     "order_id": f"O-{k}", "supplier": "" if kind == "production" else f"S{k % 3}", "kind": kind})
    cap_weeks = [_wk(w) for w in range(48, 61)]
    return {
        "products": pd.DataFrame({"sku": skus, "family": ["F", "F", "G"], "unit_price": [10.0, 12.0, 30.0], "unit_cost": [6.0, 7.0, 18.0]}),
        "locations": pd.DataFrame({"location": locs, "storage_capacity": ["", ""]}),
        "actuals": actuals, "demand_plan": plan,
        "inventory": pd.DataFrame({"sku": [p[0] for p in pairs], "location": [p[1] for p in pairs],
                                   "on_hand": rng.integers(0, 120, len(pairs)), "safety_stock": rng.integers(0, 30, len(pairs))}),
        "supply": pd.DataFrame(rows),
        "routings": pd.DataFrame({"sku": ["C", "C", "C", "C"], "location": ["L1", "L1", "L2", "L2"], "resource": ["R1", "R2", "R1", "R2"],
                                  "hours_per_unit": [0.5, 0.2, 0.5, 0.3]}),
        "capacity": pd.DataFrame({"resource": ["R1"] * 13 + ["R2"] * 13, "week": cap_weeks * 2,
                                  "available_hours": np.r_[rng.uniform(0, 80, 13), rng.uniform(0, 40, 13)].round(1)}),
    }


def _wk(n: int) -> str:
    """Week number counted on from 2026-W48 (as a date: 2026 has a W53)."""
    return (parse_week("2026-W48") + pd.Timedelta(weeks=n - 48)).strftime("%Y-%m-%d")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_causes_add_up_on_random_companies(tmp_path, seed):
    tables = _random_company(np.random.default_rng(seed))
    run = open_week(str(write_tables(tmp_path / "data", tables)), "2026-W48", tmp_path / "out")
    s = run.step("supply")
    _assert_causes_add_up(s)
    assert (s.gaps["kind"] == "shortage").sum() >= 2  # the random company does run short


def test_shortage_probability_from_the_band_by_hand():
    from scipy.stats import norm

    from soe_lib.supply.step import shortage_probability

    projected = np.array([[30.0, 10.0, -20.0], [5.0, -5.0, 0.5]])
    sd = np.array([[10.0, 10.0, 10.0], [0.0, 0.0, 0.0]])  # second row: demand known for certain
    p = shortage_probability(projected, sd)
    cum = np.sqrt([10.0**2, 2 * 10.0**2, 3 * 10.0**2])  # weekly errors add up as independent variances
    np.testing.assert_allclose(p[0], norm.cdf(-projected[0] / cum))
    assert p[0, 2] > 0.5 > p[0, 1] > p[0, 0]  # short on the projection: more likely short than not
    np.testing.assert_array_equal(p[1], [0.0, 1.0, 0.0])


def test_gaps_carry_their_shortage_probability(sample_supply):
    s, planted, _ = sample_supply
    gaps = s.gaps
    assert gaps["shortage_probability"].between(0, 1).all()
    short = gaps[gaps["kind"] == "shortage"]
    late = _gaps_of(s, planted["late_inbound"]).sort_values("first_week").iloc[0]
    assert late["shortage_probability"] > 0.5  # ~100 units short on a plan of tens a week: a fact, not a coin toss
    assert short["shortage_probability"].median() > gaps.loc[gaps["kind"] != "shortage", "shortage_probability"].median()
