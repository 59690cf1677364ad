"""Logistics: what lanes really do (delays by lane, mode, supplier; shrinkage) and predicted receipt weeks."""

from __future__ import annotations

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
    assert len(slipping) >= 5 and set(slipping["destination"]) == {planted["port"]} and (slipping["slip_weeks"] >= 1).all()
    assert (slipping["basis"] > 50).all()  # the lane's own deliveries, not a guess from its mode
    # the other lanes' open lines keep their stated ETAs
    others = week.eta[week.eta["destination"].ne(planted["port"])]
    assert len(others) > 100 and (others["slip_weeks"] <= 0).all()
