"""Logistics: what lanes really do (delays by lane, mode, supplier; shrinkage) and predicted receipt weeks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.weeks import parse_week
from soe_lib.logistics.reliability import eta_forecast, lane_reliability

W = parse_week("2026-W10")


def _history(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """Deliveries (origin, destination, mode, supplier, delay in weeks), all planned for 2026-W10."""
    frame = pd.DataFrame(rows, columns=["origin", "destination", "mode", "supplier", "delay"])
    frame["planned_week"] = W
    frame["receipt_week"] = W + pd.to_timedelta(frame.pop("delay") * 7, unit="D")
    frame["carrier"] = None
    return frame


def test_a_lane_with_few_deliveries_is_shrunk_towards_its_mode_by_hand():
    # ocean: the busy lane SH->RT (10 deliveries, 4 weeks late each) and the rare lane NB->RT (2 deliveries, 0 late)
    rows = [("SH", "RT", "ocean", "S1", 4)] * 10 + [("NB", "RT", "ocean", "S1", 0)] * 2 + [("FR", "RT", "air", "S2", 1)] * 4
    table = lane_reliability(_history(rows), as_of=W + pd.Timedelta(weeks=8), prior_deliveries=4)
    # mode ocean: raw mean (10*4 + 2*0) / 12 = 3.333, P50 4; all deliveries: mean (40 + 4) / 16 = 2.75, P50 median of
    # [0,0,1,1,1,1,4 x10] = 4; the mode shrunk with w = 12 / 16: mean 0.75 * 3.333 + 0.25 * 2.75 = 3.1875
    rare = table[(table["level"] == "lane") & (table["origin"] == "NB")].iloc[0]
    assert rare["deliveries"] == 2 and rare["mean_delay_weeks"] == 0 and rare["on_time_share"] == 1
    assert rare["weight"] == pytest.approx(2 / 6)
    # the lane shrunk: 2/6 * 0 + 4/6 * 3.1875 = 2.125 (its two on-time deliveries do not make it a reliable lane)
    assert rare["shrunk_mean_delay_weeks"] == pytest.approx(4 / 6 * (0.75 * 40 / 12 + 0.25 * 2.75))
    busy = table[(table["level"] == "lane") & (table["origin"] == "SH")].iloc[0]
    assert busy["shrunk_mean_delay_weeks"] == pytest.approx(10 / 14 * 4 + 4 / 14 * (0.75 * 40 / 12 + 0.25 * 2.75))
    assert busy["shrunk_p90_delay_weeks"] >= busy["shrunk_p50_delay_weeks"]
    assert set(table["level"]) == {"lane", "mode", "supplier", "carrier"}


def test_an_open_line_is_predicted_from_its_lane_mode_and_supplier_never_before_its_stated_eta():
    rows = [("SH", "RT", "ocean", "S1", 3)] * 20 + [("FR", "RT", "air", "S2", 0)] * 20
    history = _history(rows)
    lines = pd.DataFrame({
        "week": [W + pd.Timedelta(weeks=20)] * 4,
        "eta_week": [pd.NaT, pd.NaT, W + pd.Timedelta(weeks=26), pd.NaT],
        "origin": ["SH", "FR", "SH", "XX"], "destination": ["RT", "RT", "RT", "RT"], "mode": ["ocean", "air", "ocean", "rail"],
        "supplier": ["S1", "S2", "S1", "S9"],
    })
    eta = eta_forecast(lines, history, prior_deliveries=5)
    weeks = ((eta["eta_p50_week"] - lines["week"]).dt.days // 7).tolist()
    assert weeks[0] == 3 and weeks[1] == 0  # the lanes' own record (20 deliveries each, no supplier effect beyond its mode)
    assert weeks[2] == 6  # stated 6 weeks late: later than the lane's 3, the supplier's news wins
    # a lane, mode and supplier never seen: every delivery's figures (P50 of [0]*20 + [3]*20: the smallest delay
    # reaching half the deliveries, 0; P90: 3)
    assert eta["basis"].tolist() == [20, 20, 20, 0] and weeks[3] == 0
    assert ((eta["eta_p90_week"] - lines["week"]).dt.days // 7).tolist()[3] == 3
    assert (eta["eta_p90_week"] >= eta["eta_p50_week"]).all()


def test_without_history_the_stated_eta_is_the_prediction():
    lines = pd.DataFrame({"week": [W], "eta_week": [W + pd.Timedelta(weeks=2)], "origin": ["A"], "destination": ["B"], "mode": ["air"], "supplier": ["S"]})
    eta = eta_forecast(lines, pd.DataFrame())
    assert eta["eta_p50_week"].iloc[0] == W + pd.Timedelta(weeks=2) and eta["basis"].iloc[0] == 0


def test_recent_deliveries_weigh_more_with_a_half_life_so_a_new_congestion_shows():
    # a lane on time for a year, then 3 weeks late in the last 6 weeks
    rows = []
    for age in range(52):
        planned = W - pd.Timedelta(weeks=age + 3)
        delay = 3 if age < 6 else 0
        rows.append({"origin": "SH", "destination": "RT", "mode": "ocean", "supplier": "S1", "carrier": None,
                     "planned_week": planned, "receipt_week": planned + pd.Timedelta(weeks=delay)})
    history = pd.DataFrame(rows)
    line = pd.DataFrame({"week": [W + pd.Timedelta(weeks=4)], "eta_week": [pd.NaT], "origin": ["SH"], "destination": ["RT"],
                         "mode": ["ocean"], "supplier": ["S1"]})
    equal = eta_forecast(line, history, as_of=W, prior_deliveries=1)
    recent = eta_forecast(line, history, as_of=W, prior_deliveries=1, half_life_weeks=4)
    assert equal["p50_delay_weeks"].iloc[0] == pytest.approx(0, abs=0.1)  # 46 of 52 deliveries on time
    assert recent["p50_delay_weeks"].iloc[0] == pytest.approx(3, abs=0.1)  # the last six weigh more than the 46 before
    table = lane_reliability(history, as_of=W, trend_weeks=8)
    lane = table[table["level"] == "lane"].iloc[0]
    assert lane["trend_weeks"] == pytest.approx(3 - 0)  # mean of the last 8 weeks' receipts (all late) minus the rest's


def test_weighted_quantiles_per_group_match_numpy_with_equal_weights():
    from soe_lib.logistics.reliability import weighted_quantiles

    rng = np.random.default_rng(3)
    groups = rng.integers(0, 7, 500)
    values = rng.integers(-5, 10, 500).astype(float)
    found = weighted_quantiles(groups, values, np.ones(500), [0.5, 0.9])
    for g in range(7):
        v = values[groups == g]
        assert found[g, 0] == np.quantile(v, 0.5, method="inverted_cdf") and found[g, 1] == np.quantile(v, 0.9, method="inverted_cdf")


def test_the_planted_port_congestion_is_found_on_the_sample(tmp_path):
    """The sample's deliveries through Hamburg came 2-4 weeks late in the last 8 weeks while its open lines still
    show on-time ETAs: its lane is the first to talk about, and every line predicted later than stated is on it."""
    from soe_lib.logistics.params import LogisticsParams
    from soe_lib.logistics.step import analyse_logistics
    from soe_lib.run import open_week
    from soe_lib.sample import write_sample

    planted = write_sample(tmp_path / "data")["port_congestion"]
    run = open_week(tmp_path / "data", None, tmp_path / "out")
    week = analyse_logistics(run.data, LogisticsParams())
    top = week.lanes().iloc[0]
    assert (top["origin"], top["destination"], top["mode"]) == tuple(planted["lane"].values())
    assert top["trend_weeks"] > 1 and top["shrunk_p90_delay_weeks"] >= 2
    slipping = week.slipping()
    assert len(slipping) >= 5 and set(slipping["destination"]) == {planted["port"]}
    assert (slipping["slip_weeks"] == (slipping["eta_p50_week"] - slipping["eta_week"]).dt.days // 7).all()
    assert (slipping["basis"] > 50).all()  # the lane's own deliveries, not a guess from its mode
    # the other lanes' open lines keep their stated ETAs
    others = week.eta[week.eta["destination"].ne(planted["port"])]
    assert len(others) > 100 and (others["slip_weeks"] <= 0).all()


def _lines() -> pd.DataFrame:
    """Eight open lines: three through Hamburg (two due inside a closure W12-W13), one leaving from it, others."""
    w = [W + pd.Timedelta(weeks=k) for k in (2, 3, 5, 3, 2, 3, 4, 6)]
    return pd.DataFrame({
        "line_id": range(8), "week": w, "eta_week": [pd.NaT] * 8, "qty": [100, 50, 70, 30, 40, 60, 10, 20],
        "origin": ["Busan", "Busan", "Busan", "Hamburg", "Shanghai", "Shanghai", "Chicago", "Gothenburg"],
        "destination": ["Hamburg", "Hamburg", "Hamburg", "0100", "Rotterdam", "Rotterdam", "Frankfurt", "0200"],
        "mode": ["ocean", "ocean", "ocean", "truck", "ocean", "ocean", "air", "truck"],
        "carrier": ["MSC", "MSC", "MSC", "DB", "Maersk", "Maersk", "DHL", "DB"],
        "supplier": ["Acme", "Acme", "Acme", "Nordic", "Oceanic", "Oceanic", "Delta", "Nordic"],
        "ship_week": [W - pd.Timedelta(weeks=4), pd.NaT, pd.NaT, pd.NaT, W, pd.NaT, pd.NaT, pd.NaT],
    })


def test_a_port_closure_moves_exactly_the_lines_that_pass_through_it_while_it_is_closed():
    from soe_lib.logistics.disruption import moved_lines

    lines = _lines()  # W = 2026-W10: the closure is 2026-W12..W13
    moved = moved_lines(lines, [{"kind": "port_closed", "port": "Hamburg", "first_week": "2026-W12", "last_week": "2026-W13"}])
    # through Hamburg: lines 0, 1, 2 (arriving) and 3 (leaving); due inside the closure: 0 (W12), 1 (W13), 3 (W13)
    assert moved["line_id"].tolist() == [0, 1, 3]
    assert (moved["scenario_eta_week"] == parse_week("2026-W14")).all() and moved["moved_weeks"].tolist() == [2, 1, 1]
    assert moved["events"].tolist() == ["1", "1", "1"]


def test_events_apply_in_order_and_say_which_moved_a_line():
    from soe_lib.logistics.disruption import moved_lines

    lines = _lines()
    moved = moved_lines(lines, [
        {"kind": "lane_delay", "origin": "Shanghai", "destination": "Rotterdam", "mode": "ocean", "weeks": 2, "from_week": "2026-W13"},
        {"kind": "supplier_stop", "supplier": "Oceanic", "weeks": 3, "from_week": "2026-W12"},  # line 4 shipped already
        # MSC carries 40 % fewer units in W12-W13: line 0 (W12's 100 units) and line 1 (W13's 50) do not fit whole
        {"kind": "carrier_capacity", "carrier": "MSC", "pct": 40, "first_week": "2026-W12", "last_week": "2026-W13"},
    ])
    by_line = moved.set_index("line_id")
    assert set(by_line.index) == {0, 1, 5}  # line 4: shipped before the stop; line 2 (MSC, W15): after the window
    assert by_line.loc[5, "moved_weeks"] == 2 + 3 and by_line.loc[5, "events"] == "1, 2"  # the lane, then the supplier
    assert (by_line.loc[[0, 1], "scenario_eta_week"] == parse_week("2026-W14")).all() and set(by_line.loc[[0, 1], "events"]) == {"3"}


def test_a_carrier_short_of_capacity_keeps_the_lines_that_fit_in_line_order():
    from soe_lib.logistics.disruption import moved_lines

    lines = _lines().assign(week=W + pd.Timedelta(weeks=2), carrier="MSC")  # 380 units, all in W12
    moved = moved_lines(lines, [{"kind": "carrier_capacity", "carrier": "MSC", "pct": 50, "first_week": "2026-W12", "last_week": "2026-W12"}])
    # 190 carried: lines 0 (100) and 1 (50) fit (150), line 2 (70) would make 220: it and every later line wait
    assert moved["line_id"].tolist() == [2, 3, 4, 5, 6, 7] and (moved["scenario_eta_week"] == parse_week("2026-W13")).all()


def test_a_scenario_that_cannot_be_applied_says_which_event_and_field():
    from soe_lib.logistics.disruption import ScenarioError, moved_lines

    for event, said in (
        ({"kind": "port_shut", "port": "X"}, "event 1: kind must be one of port_closed"),
        ({"kind": "port_closed", "port": "X", "first_week": "2026-W12"}, "event 1 (port_closed): missing last_week"),
        ({"kind": "lane_delay", "origin": "A", "destination": "B", "weeks": 2, "from_week": "next friday"}, "from_week is not an ISO week"),
        ({"kind": "carrier_capacity", "carrier": "C", "pct": 140, "first_week": "2026-W12", "last_week": "2026-W13"}, "pct must be a number from 0 to 100"),
        ({"kind": "supplier_stop", "supplier": "S", "weeks": 2, "from_week": "2026-W12", "port": "X"}, "unknown field port"),
    ):
        with pytest.raises(ScenarioError, match=re.escape(said)):
            moved_lines(_lines(), [event])


def test_the_weeks_that_pass_add_their_arrivals_to_what_the_lanes_are_learnt_from():
    from soe_lib.sample.weeks import simulate_weeks

    # the sample's first receipts are due in 2026-W49: they arrive in the week that passes before 2026-W50's extract
    weeks = simulate_weeks(5, skus=8, locations=2, seed=3)
    (_, first, _), (_, second, _), (_, last, _) = weeks[1], weeks[2], weeks[4]
    before, after = first["receipts_history"], second["receipts_history"]
    came = first["supply"][pd.to_datetime(first["supply"]["eta_week"]) <= parse_week("2026-W49")]
    on_lanes = came[came["origin"].fillna("").ne("")]
    assert len(on_lanes) > 0 and len(after) == len(before) + len(on_lanes)  # production and own transfers: no lane
    added = after.iloc[len(before):]
    assert (added["receipt_week"] == "2026-11-30").all() and added["order_id"].tolist() == on_lanes["order_id"].tolist()
    # the purchases the weeks add (from 2026-W52 on, as the horizon moves past the first supply) come on a lane too
    new = last["supply"][last["supply"]["order_id"].str.contains("-R") & last["supply"]["kind"].eq("purchase")]
    assert len(new) and new["mode"].eq("truck").all() and (new["destination"] == new["location"]).all()


def test_the_congestion_puts_items_at_risk_of_slipping_and_its_money_on_its_lane_port_and_carrier(sample_cycle):
    """Under predicted ETAs the sample's Hamburg lines come later: the SKU-locations that run short only then are
    at risk of slipping, with the lane behind them; their money is the kernel's, and sums the same by lane, port and
    carrier."""
    from soe_lib.core.lanes import slipping_lines

    run, planted, results = sample_cycle
    lane = planted["port_congestion"]["lane"]
    name = f"{lane['origin']} > {lane['destination']} ({lane['mode']})"
    slips = results["supply"].slips
    assert len(slips) > 0 and set(slips["lanes"]) == {name} and set(slips["ports"]) == {planted["port_congestion"]["port"]}
    assert (slips["extra_shortage_qty"] >= 1).all() and "at risk of slipping" in set(slips["status"])
    projection = run.table("inventory_projection")
    moved = slipping_lines(run.table("eta_forecast"))
    # units leave their stated week for a later one: by the horizon's end the predicted receipts are short by exactly
    # the units stated inside it and predicted beyond it
    end = projection["week"].max()
    beyond = moved.loc[(moved["eta_week"] <= end) & (moved["eta_p50_week"] > end), "qty"].sum()
    assert projection["constrained_receipts_qty"].sum() - projection["predicted_receipts_qty"].sum() == pytest.approx(beyond)
    risk = results["finance"].logistics
    totals = risk.groupby("by")["margin_at_risk"].sum()
    assert set(totals.index) == {"lane", "port", "carrier"} and totals.max() == pytest.approx(totals.min()) and totals["lane"] > 0
    assert risk[risk["by"] == "lane"].iloc[0]["name"] == name
    # the money is the kernel's: every SKU-location with slipping lines valued with predicted minus with stated receipts
    # (the world finance values gaps and options in, under the run's policy), and shared among its lines
    from soe_lib.finance.params import FinanceParams
    from soe_lib.finance.parts import week_world

    world = week_world(run.data, projection, FinanceParams(), pd.DatetimeIndex(sorted(projection["week"].unique())))
    rows = np.unique(world.rows(moved["sku"].astype(str), moved["location"].astype(str)))
    added = world.value(rows, world.predicted[rows] - world.position[rows]) - world.value(rows)
    assert (added >= -1e-9).all() and totals["lane"] == pytest.approx(added.sum())


def _scenario_file(folder, text: str):
    path = folder / "scenario.yaml"
    path.write_text(text)
    return path


def test_a_scenario_comparison_adds_up_to_the_base_plus_the_scenarios_parts(sample_cycle, tmp_path):
    """Run against a copy of the sample week: the base is the week as run, each event's part is what it adds beside
    the ones before, and base + parts = the scenario on every measure; the port closure moves exactly the lines
    through the port due while it is closed; everything is saved with the week."""
    import shutil

    from soe_lib.app.review_data import ReviewWeek
    from soe_lib.core.outputs import check_table
    from soe_lib.io.results import read_table
    from soe_lib.run.scenario import MEASURES, run_scenario_file

    run, planted, results = sample_cycle
    week_dir = tmp_path / "week"
    shutil.copytree(run.out_dir, week_dir, ignore=shutil.ignore_patterns("scenarios"))
    path = _scenario_file(tmp_path, "name: Hamburg shut, Maersk short\nevents:\n"
                          "  - {kind: port_closed, port: Hamburg, first_week: 2026-W50, last_week: 2027-W01}\n"
                          "  - {kind: carrier_capacity, carrier: Maersk, pct: 50, first_week: 2026-W49, last_week: 2026-W52}\n")
    result = run_scenario_file(path, week_dir)
    c = result.comparison
    assert list(c["part"]) == ["base", "event 1", "event 2", "scenario"] and "port Hamburg closed 2026-W50 to 2027-W01" in c["what"].iloc[1]
    base, parts, total = c.iloc[0], c[c["kind"] == "change"], c.iloc[-1]
    for m in MEASURES:
        assert base[m] + parts[m].sum() == pytest.approx(total[m], abs=1e-6), m
    assert base["margin_at_risk"] == pytest.approx(results["finance"].impact["margin_at_risk"].sum())
    assert base["shortage_gaps"] == (results["supply"].gaps["kind"] == "shortage").sum() and base["lines_moved"] == 0
    assert total["margin_at_risk"] > base["margin_at_risk"] and total["shortage_gaps"] >= base["shortage_gaps"]
    saved = read_table(result.folder / "run" / "tables", "financial_impact")
    assert total["margin_at_risk"] == pytest.approx(saved["margin_at_risk"].sum())  # the scenario's own run, kept
    supply = run.data.supply
    eta = supply["eta_week"].fillna(supply["week"])
    through = supply["destination"].eq("Hamburg") | supply["origin"].eq("Hamburg")
    closed = through & eta.between(parse_week("2026-W50"), parse_week("2027-W01"))
    first = result.lines[result.lines["events"].str.split(", ").map(lambda e: "1" in e)]
    assert set(first["line_id"]) == set(np.flatnonzero(closed.to_numpy())) and c.iloc[1]["lines_moved"] == closed.sum()
    assert (first["scenario_eta_week"] >= parse_week("2027-W02")).all()
    for name in ("scenario_comparison", "scenario_lines"):
        check_table(name, read_table(result.folder, name))
    assert (result.folder / "scenario.yaml").read_text().startswith("name: Hamburg shut") and len(ReviewWeek(week_dir).scenarios()["Hamburg shut, Maersk short"][0]) == len(c)
    assert "Margin at risk" in result.text("USD") and "USD +" in result.text("USD")


def test_soe_scenario_run_says_what_is_wrong_and_exits_2(tmp_path, capsys):
    from soe_lib.cli import main

    week = tmp_path / "out" / "2026-W48"
    assert main(["scenario", "run", str(tmp_path / "none.yaml"), "--week", "2026-W48", "--out", str(tmp_path / "out")]) == 2
    assert "no published week 2026-W48" in capsys.readouterr().err
    (week / "inputs").mkdir(parents=True)
    (week / "manifest.json").write_text("{}")
    bad = _scenario_file(tmp_path, "name: oops\nevents:\n  - {kind: port_closed, port: Hamburg, first_week: 2026-W50}\n")
    assert main(["scenario", "run", str(bad), "--week", "2026-W48", "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr().err
    assert str(bad) in said and "event 1 (port_closed): missing last_week" in said and "Traceback" not in said
