"""Demand sensing: formulas by hand, statsmodels parity, robustness, edge series, planted cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.params import ParameterError
from soe_lib.core.weeks import parse_week
from soe_lib.io import load_data
from soe_lib.run import open_week
from soe_lib.sensing import ExceptionParams, SensingParams, deep_dive
from soe_lib.sensing.accuracy import mase_scale, rollup, series_accuracy
from soe_lib.sensing.engine import accuracy_table, fourier_seasonality, huber_outliers, robust_sigma, sense
from soe_lib.sensing.exceptions import demand_exceptions
from soe_lib.sensing.smoothing import damped_path, fit_damped, fit_tsb
from soe_lib.sensing.step import sense_week

from .conftest import write_tables


# --- formulas on hand-computed examples -------------------------------------------------------------
def test_accuracy_formulas_by_hand():
    history = np.array([[8.0, 10, 20, 30, 40]])  # lookback = last 4 weeks
    plan = np.array([[9.0, 12, 18, 33, 35]])
    acc = series_accuracy(history, plan, lookback=4).iloc[0]
    assert acc["wape"] == pytest.approx(12 / 100)  # |−2|+|2|+|−3|+|5|
    assert acc["accuracy"] == pytest.approx(0.88)
    assert acc["bias"] == pytest.approx(-2 / 100)  # sum(F−A) = 2−2+3−5
    assert acc["tracking_signal"] == pytest.approx(2 / 3)  # sum(A−F)=2, MAD=12/4
    # naive = last week's actual: errors |10−8|,|20−10|,|30−20|,|40−30| = 2+10+10+10
    assert acc["naive_wape"] == pytest.approx(32 / 100)
    assert acc["fva"] == pytest.approx(0.32 - 0.12)
    # MASE: naive in-sample scale over the first week only has no pair -> NaN
    assert np.isnan(acc["mase"])


def test_mase_uses_seasonal_naive_with_enough_history():
    t = np.arange(200, dtype=float)
    y = (100 + 10 * np.sin(2 * np.pi * t / 52))[None, :]
    assert mase_scale(y, 150)[0] == pytest.approx(0.0, abs=1e-9)  # a pure 52-week cycle: seasonal naive is exact
    assert mase_scale(y, 100)[0] > 0.5  # < 60 seasonal pairs: falls back to m = 1


def test_rollup_sums_parts_so_errors_do_not_cancel():
    history = np.array([[10.0, 10], [10.0, 10]])
    plan = np.array([[15.0, 15], [5.0, 5]])
    per = series_accuracy(history, plan, 2)
    total = rollup(per, history, plan, 2, None).iloc[0]
    assert total["wape"] == pytest.approx(20 / 40) and total["bias"] == pytest.approx(0.0)
    assert total["tracking_signal"] == 0.0  # summed weekly errors cancel: no consistent direction


def test_candidates_by_hand_and_the_choice_of_the_least_error():
    from soe_lib.sensing.choice import CANDIDATES, backtest_candidates, choose, live_candidates

    y = np.array([[np.nan, 2.0, 4.0, 6.0, 8.0, 10.0]])
    plan = np.full((1, 6), 20.0)
    stat = np.full((1, 3), 20.0)  # the engine's lag forecasts for weeks 3..5
    c = backtest_candidates(y, plan, stat, lag=1, start=3)
    np.testing.assert_allclose(c["naive"], [[4.0, 6.0, 8.0]])  # the week before each target
    np.testing.assert_allclose(c["ma4"], [[3.0, 4.0, 5.0]])  # mean of the observed weeks up to the week before (NaN skipped)
    np.testing.assert_allclose(c["blend"], [[20.0, 20.0, 20.0]])
    np.testing.assert_allclose(c["combination"], [[11.5, 12.0, 12.5]])  # mean of statistical, MA 8, MA 13, plan
    assert np.isnan(c["seasonal_naive"]).all()
    live = live_candidates(y, np.full((1, 2), 5.0), np.full((1, 2), 7.0))
    np.testing.assert_allclose(live["naive"], [[10.0, 10.0]])
    np.testing.assert_allclose(live["ma4"], [[7.0, 7.0]])
    actual = y[:, 3:]  # 6, 8, 10: naive (4, 6, 8) misses by 2, every flat forecast by more
    pick = choose(actual, c, np.array(["smooth"]), min_weeks=2)
    assert pick.names[0] == "naive" and pick.plan_share[0] == 0.0 and set(CANDIDATES) >= {"plan", "ma8", "seasonal_naive"}
    sparse = choose(np.array([[np.nan, np.nan, 10.0]]), c, np.array(["smooth"]), min_weeks=2)
    assert sparse.names[0] in CANDIDATES  # too few weeks: the segment's pooled choice

# --- statsmodels is the reference --------------------------------------------------------------------
@pytest.mark.parametrize("alpha, beta, phi", [(0.3, 0.0, 1.0), (0.2, 0.1, 0.9), (0.5, 0.2, 0.98), (0.1, 0.05, 0.8)])
def test_vectorised_smoothing_reproduces_statsmodels(alpha, beta, phi):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(11)
    y = np.vstack([rng.gamma(5, 4, 80) + np.linspace(0, 30, 80) for _ in range(4)])
    y[1, :10] = np.nan  # a series that started later
    fit = fit_damped(y, grid=((alpha, beta, phi),), store_from=0)
    for i in range(len(y)):
        series = y[i][~np.isnan(y[i])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                series[1:], trend="add", damped_trend=True, initialization_method="known",
                initial_level=series[0], initial_trend=0.0,
            )
            ref = model.fit(smoothing_level=alpha, smoothing_trend=beta, damping_trend=phi, optimized=False).fittedvalues
        ours = fit.stored[i][~np.isnan(fit.stored[i])][: len(ref)]
        np.testing.assert_allclose(ours, ref, atol=1e-6, rtol=0)
        np.testing.assert_allclose(damped_path(series, alpha, beta, phi), ref, atol=1e-9)


def test_grid_choice_equals_a_per_series_search():
    rng = np.random.default_rng(5)
    y = rng.gamma(4, 5, (6, 60)) + np.linspace(0, 1, 60) * rng.uniform(0, 40, (6, 1))
    grid = ((0.1, 0.0, 1.0), (0.4, 0.0, 1.0), (0.2, 0.2, 0.9), (0.3, 0.1, 0.98))
    fit = fit_damped(y, grid=grid)
    for i in range(len(y)):
        sse = [((y[i, 1:] - damped_path(y[i], *g)) ** 2).sum() for g in grid]
        assert fit.choice[i] == int(np.argmin(sse))
        assert fit.sse[i] == pytest.approx(min(sse))


def test_tsb_by_hand():
    y = np.array([[0.0, 4.0, 0.0, 0.0]])
    fit = fit_tsb(y, grid=((0.5, 0.5),), store_from=0)
    # start: p = 1/4, z = 4; week 0: y=0 -> p = 0.125; week 1: y=4 -> p = 0.5625, z = 4; ...
    p, z = 0.25, 4.0
    expected = []
    for v in y[0]:
        expected.append(p * z)
        p = p + 0.5 * ((v > 0) - p)
        z = z + 0.5 * (v - z) if v > 0 else z
    # column j holds the forecast for week j, made at the end of week j - 1 (lag 1); column 4 is next week
    np.testing.assert_allclose(fit.stored[0, 1:4], expected[1:4])
    assert np.isnan(fit.stored[0, 0])
    assert fit.state["prob"][0] * fit.state["size"][0] == pytest.approx(p * z)


def test_fourier_finds_a_seasonal_series_and_not_noise():
    rng = np.random.default_rng(2)
    t = np.arange(156)
    seasonal = 100 + 40 * np.sin(2 * np.pi * t / (365.2425 / 7)) + rng.normal(0, 5, 156)
    noise = 100 + rng.normal(0, 5, 156)
    season, r2 = fourier_seasonality(np.vstack([seasonal, noise]), np.array([True, True]), end=143, min_r2=0.25, extra=13)
    assert r2[0] > 0.9 and r2[1] < 0.25
    assert np.abs(season[1]).sum() == 0 and season.shape == (2, 169)
    assert np.corrcoef(season[0, 143:156], seasonal[143:156])[0, 1] > 0.9  # it extrapolates the cycle


# --- robustness ---------------------------------------------------------------------------------------
def _company(tmp_path, y_by_series: dict[str, np.ndarray], plan_level: float = 50.0, open_orders=None, stockouts=None, any_week=False):
    """A company whose actuals are the given weekly arrays (ending the week before 2026-W48)."""
    run = parse_week("2026-W48")
    skus = list(y_by_series)
    rows = []
    for sku, y in y_by_series.items():
        weeks = pd.date_range(run - pd.Timedelta(weeks=len(y)), periods=len(y), freq="7D")
        rows += [(sku, "L1", w.strftime("%Y-%m-%d"), v) for w, v in zip(weeks, y, strict=True) if not np.isnan(v) and v > 0]
    plan_weeks = pd.date_range(run - pd.Timedelta(weeks=60), periods=73, freq="7D")
    tables = {
        "products": pd.DataFrame({"sku": skus, "family": "F", "unit_price": 10.0, "unit_cost": 6.0}),
        "locations": pd.DataFrame({"location": ["L1"]}),
        "actuals": pd.DataFrame(rows, columns=["sku", "location", "week", "qty"]),
        "demand_plan": pd.DataFrame([(s, "L1", w.strftime("%Y-%m-%d"), plan_level) for s in skus for w in plan_weeks], columns=["sku", "location", "week", "qty"]),
        "inventory": pd.DataFrame({"sku": skus, "location": "L1", "on_hand": 100, "safety_stock": 10}),
        "supply": pd.DataFrame({"sku": skus[:1], "location": ["L1"], "week": ["2026-W50"], "qty": [10]}),
    }
    if open_orders is not None:
        tables["open_orders"] = open_orders
    if stockouts is not None:
        tables["stockouts"] = stockouts
    return load_data(write_tables(tmp_path / "data", tables), week="2026-W48", week_check="warning" if any_week else "error")


def test_one_off_outlier_is_flagged_and_barely_moves_the_forecast(tmp_path):
    rng = np.random.default_rng(4)
    base = rng.normal(50, 4, 60).round()
    spiked = base.copy()
    spiked[-6] = 500  # a one-off huge order six weeks ago
    data = _company(tmp_path, {"BASE": base, "SPIKED": spiked})
    s = sense(data, SensingParams(history_weeks=60, seasonal_min_weeks=200))
    row = {sku: i for i, sku in enumerate(s.series["sku"])}
    assert s.outliers[row["SPIKED"], -6] and s.outliers[row["SPIKED"]].sum() == 1
    moved = np.abs(s.statistical[row["SPIKED"]] - s.statistical[row["BASE"]]).max()
    # documented bound: well under 5 % of the level (an unclean fit would move it by ~alpha * 450)
    assert moved < 0.05 * 50
    demand = sense_week(data, SensingParams(history_weeks=60, seasonal_min_weeks=200))
    out = demand.exceptions[(demand.exceptions["sku"] == "SPIKED") & (demand.exceptions["kind"] == "outlier")]
    assert len(out) == 1 and out.iloc[0]["actual_qty"] == 500


def test_a_sustained_shift_is_not_cleaned_away(tmp_path):
    rng = np.random.default_rng(8)
    y = rng.normal(50, 4, 60).round()
    y[-3:] = 140  # three weeks in a row: demand really moved
    data = _company(tmp_path, {"SHIFT": y})
    s = sense(data, SensingParams(history_weeks=60, seasonal_min_weeks=200))
    assert not s.outliers[0, -3:].any()
    assert s.statistical[0, 0] > 80  # sensing follows the new level


def test_edge_series_produce_valid_rows(tmp_path):
    y_gaps = np.full(40, 20.0)
    y_gaps[[5, 6, 20, 33]] = 0  # omitted weeks in the extract = zero demand
    data = _company(
        tmp_path,
        {"ZERO": np.zeros(40), "ONEWEEK": np.r_[np.full(39, np.nan), 30.0], "GAPS": y_gaps, "NORMAL": np.full(40, 50.0)},
    )
    demand = sense_week(data, SensingParams(history_weeks=40, seasonal_min_weeks=200))
    table = demand.sensed
    assert len(table) == 4 * 13 and table["sensed_qty"].notna().all() and (table["sensed_qty"] >= 0).all()
    info = demand.sensing.series.set_index("sku")
    assert info.loc["ONEWEEK", "pattern"] == "insufficient" and info.loc["ONEWEEK", "history_weeks"] == 1
    one = table[table["sku"] == "ONEWEEK"]
    assert one["statistical_qty"].isna().all() and (one["sensed_qty"] == one["plan_qty"]).all()
    assert "insufficient_history" in set(demand.exceptions.loc[demand.exceptions["sku"] == "ONEWEEK", "kind"])
    # the ZERO series was never in actuals at all: no history, plan only
    assert info.loc["ZERO", "pattern"] == "insufficient"
    gaps = demand.sensing.actual[list(info.index).index("GAPS")]
    assert (gaps[~np.isnan(gaps)] == 0).sum() == 4  # the missing weeks became zeros
    acc = demand.accuracy.set_index("sku")
    assert np.isfinite(acc.loc["GAPS", "wape"]) and np.isfinite(acc.loc["NORMAL", "wape"])


def test_open_orders_floor_the_near_weeks(tmp_path):
    oo = pd.DataFrame({"sku": ["A", "A"], "location": ["L1", "L1"], "week": ["2026-W48", "2026-W53"], "qty": [400, 400]})
    data = _company(tmp_path, {"A": np.full(40, 50.0)}, open_orders=oo)
    s = sense(data, SensingParams(history_weeks=40, seasonal_min_weeks=200, open_orders_floor_weeks=4))
    assert s.sensed[0, 0] == 400  # booked orders are a floor in the near weeks
    assert s.sensed[0, 5] < 100  # week 6 is beyond the floor window


def test_robust_sigma_ignores_one_spike():
    y = np.tile([10.0, 12.0], 30)[None, :]
    spiked = y.copy()
    spiked[0, 10] = 1000
    assert robust_sigma(spiked)[0] == pytest.approx(robust_sigma(y)[0], rel=0.1)
    iso, clean = huber_outliers(spiked, robust_sigma(spiked), z=6.0)
    assert iso[0, 10] and iso.sum() == 1 and clean[0, 10] < 20


def test_unknown_or_bad_sensing_parameter_is_an_error(tiny_dir, tmp_path):
    with pytest.raises(ParameterError, match="lookbak"):
        open_week(str(tiny_dir), out_dir=tmp_path, lookbak_weeks=4)
    with pytest.raises(ParameterError, match="lookback_weeks.*out of range"):
        open_week(str(tiny_dir), out_dir=tmp_path, lookback_weeks=0)


# --- the sample company's planted cases --------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_demand(sample_cycle):
    run, planted, results = sample_cycle
    return results["sensing"], planted, run.data


def _kinds(ex, where):
    return set(ex.loc[(ex["sku"] == where["sku"]) & (ex["location"] == where["location"]), "kind"])


def test_planted_spike_drop_and_outlier_are_found(sample_demand):
    demand, planted, _ = sample_demand
    ex = demand.exceptions
    spike = ex[(ex["sku"] == planted["demand_spike"]["sku"]) & (ex["location"] == planted["demand_spike"]["location"]) & (ex["kind"] == "spike")]
    assert len(spike) == 1 and spike.iloc[0]["severity"] == "high" and spike.iloc[0]["deviation_pct"] > 1.0
    assert "drop" in _kinds(ex, planted["demand_drop"])
    out = ex[(ex["sku"] == planted["outlier"]["sku"]) & (ex["location"] == planted["outlier"]["location"]) & (ex["kind"] == "outlier")]
    assert len(out) == 1 and out.iloc[0]["week"] == parse_week(planted["outlier"]["week"])


def test_planted_biased_plan_is_found_by_family(sample_demand):
    demand, planted, data = sample_demand
    ex = demand.exceptions.merge(data.products[["sku", "family"]], on="sku")
    bias = ex[ex["kind"] == "persistent_bias"]
    household = bias[bias["family"] == planted["biased_plan"]["family"]]
    assert len(household) > 0 and len(household) >= 0.5 * len(bias)  # the bias findings exist, and most are Household's
    assert (household["direction"] == "over-forecast").all()
    fam = demand.rollups["family"].set_index("group")
    assert fam.loc["Household", "bias"] > 0.15 and fam.drop(["Household", "Spare Parts"])["bias"].abs().max() < 0.1  # Spare Parts: intermittent noise


def test_quiet_items_stay_quiet(sample_demand):
    demand, planted, data = sample_demand
    ex = demand.exceptions.merge(data.products[["sku", "family"]], on="sku")
    noisy = {(planted[k]["sku"], planted[k]["location"]) for k in ("demand_spike", "demand_drop", "outlier", "late_inbound")}
    quiet = demand.sensing.series[
        demand.sensing.series["pattern"].isin(["smooth", "seasonal"])
        & (demand.sensing.series["family"] != "Household")
        & ~demand.sensing.series[["sku", "location"]].apply(tuple, axis=1).isin(noisy)
    ]
    keys = set(quiet[["sku", "location"]].apply(tuple, axis=1))
    on_quiet = ex[ex[["sku", "location"]].apply(tuple, axis=1).isin(keys)]
    assert len(keys) > 30
    # The weekly meeting's findings (spikes, drops, one-off weeks) on quiet items stay low and rare.
    execution = on_quiet[~on_quiet["kind"].isin(["persistent_bias", "tracking_signal"])]
    assert (execution["severity"] == "low").all(), execution[["sku", "location", "kind", "severity"]]
    assert len(on_quiet) <= 0.1 * len(keys)
    # Plan-drift findings (S&OP track) are judged on the cleaned history; on a quiet item one may only
    # appear when the summed error stands out of the noise (here 00006 @ 0300: its plan runs 14% above
    # the 13 weeks once the one-off 92 of W37 is cleaned, z = -3.8).
    drift = on_quiet[on_quiet["kind"].isin(["persistent_bias", "tracking_signal"])]
    assert len(drift) <= 0.05 * len(keys) and (drift["z_score"].abs() > ExceptionParams().bias_z).all()


def test_sensing_adds_value_on_the_sample(sample_demand):
    demand, _, _ = sample_demand
    bt = demand.backtest_view()
    assert bt.loc["sensing", "all series"] < bt.loc["plan", "all series"] < bt.loc["naive", "all series"]


def test_deep_dive_fits_statsmodels_beside_the_engine(tmp_path):
    rng = np.random.default_rng(21)
    level = 60 + np.cumsum(rng.normal(0, 1.5, 80))
    data = _company(tmp_path, {"DIVE": np.clip(level + rng.normal(0, 3, 80), 0, None).round(), "SHORT": np.r_[np.full(74, np.nan), np.full(6, 30.0)]})
    demand = sense_week(data, SensingParams(history_weeks=80, seasonal_min_weeks=200))
    dive = deep_dive(demand, "DIVE", "L1")
    assert dive.parameters.set_index("parameter")["statsmodels"].between(0, 1).all() and np.isfinite(dive.aic)
    f = dive.forecast
    assert len(f) == 13 and (f["lower_95"] <= f["lower_80"]).all() and (f["lower_80"] <= f["statsmodels_mean"]).all()
    assert (f["statsmodels_mean"] <= f["upper_80"]).all() and (f["upper_80"] < f["upper_95"]).all()
    row = list(demand.sensing.series["sku"]).index("DIVE")
    np.testing.assert_allclose(f["engine_statistical"], demand.sensing.statistical[row])
    # both see the same level: the engine's forecast sits inside statsmodels' 95 % band
    assert ((f["engine_statistical"] >= f["lower_95"]) & (f["engine_statistical"] <= f["upper_95"])).all()
    short = deep_dive(demand, "SHORT", "L1")
    assert np.isnan(short.aic) and "nothing to estimate" in short.note
    with pytest.raises(KeyError, match="NOPE"):
        deep_dive(demand, "NOPE", "L1")



# --- the backtest chooses; any history; censored demand; uncertainty ----------------------------------------
def test_the_published_backtest_never_chooses_on_its_own_weeks(tmp_path):
    """Weeks 54-66 (selection) follow a random walk: the last week is the best forecast. Weeks 67-79
    (evaluation) are noise around a level: averages are best there. The backtest's forecasts for the
    evaluation weeks must come from the choice made on the selection weeks (naive); the live forecast,
    chosen on the evaluation weeks, is an average."""
    rng = np.random.default_rng(3)
    walk = 600 + np.cumsum(rng.choice([-30.0, 30.0], 67))
    noise = walk[-1] + rng.normal(0, 25, 13)
    y = np.r_[walk, noise].clip(1).round()
    data = _company(tmp_path, {"A": y}, plan_level=0.0)
    s = sense(data, SensingParams(history_weeks=80, seasonal_min_weeks=200, lookback_weeks=13))
    np.testing.assert_allclose(s.sensed_backtest[0], y[66:79])  # naive: last week's actual, chosen before the window
    assert s.series["forecast"].iloc[0] not in ("naive", "plan")  # live: chosen on the latest weeks


def test_a_giant_order_on_eight_weeks_of_history_is_reported_and_does_not_leak(tmp_path):
    y = np.array([10.0, 12, 9, 11, 1000, 10, 12, 11])  # 100x in week 5 of 8
    data = _company(tmp_path, {"NEW": y, "OLD": np.full(60, 10.0)}, plan_level=10.0)
    s = sense(data, SensingParams(history_weeks=60, seasonal_min_weeks=200))
    row = list(s.series["sku"]).index("NEW")
    assert s.series["pattern"].iloc[row] == "insufficient" and s.outliers[row, -4] and s.outliers[row].sum() == 1
    assert s.sensed[row].max() < 15  # the 1000 never reaches the forecast
    ex = demand_exceptions(s, series_accuracy(s.cleaned, s.plan_history, 13))
    giant = ex[(ex["sku"] == "NEW") & (ex["kind"] == "outlier")]
    assert len(giant) == 1 and giant.iloc[0]["severity"] == "high" and giant.iloc[0]["actual_qty"] == 1000
    assert "x the usual week" in giant.iloc[0]["detail"] and {"insufficient_history", "outlier"} <= set(ex.loc[ex["sku"] == "NEW", "kind"])


def test_a_spike_on_an_intermittent_series_is_reported(tmp_path):
    rng = np.random.default_rng(8)
    y = np.where(rng.random(60) < 0.3, rng.integers(5, 12, 60), 0).astype(float)
    y[-1] = 433  # after mostly zero weeks and small orders
    data = _company(tmp_path, {"SPARE": y}, plan_level=8.0)
    s = sense(data, SensingParams(history_weeks=60, seasonal_min_weeks=200))
    assert s.series["pattern"].iloc[0] in ("intermittent", "lumpy")
    ex = demand_exceptions(s, series_accuracy(s.cleaned, s.plan_history, 13))
    found = ex[(ex["sku"] == "SPARE") & (ex["week"] == s.history_weeks[-1])]
    assert len(found) == 1 and found.iloc[0]["actual_qty"] == 433 and found.iloc[0]["severity"] == "high"


def test_censored_weeks_are_left_out_of_fitting_accuracy_and_exceptions(tmp_path):
    y = np.full(60, 40.0)
    out = np.arange(52, 60)  # the last eight weeks out of stock: nothing sold
    y[out] = 0.0
    weeks = pd.date_range(parse_week("2026-W48") - pd.Timedelta(weeks=60), periods=60, freq="7D")
    stockouts = pd.DataFrame({"sku": "A", "location": "L1", "week": weeks[out].strftime("%Y-%m-%d")})
    # without the table the run needs --any-week (no sales for eight weeks); with it, those weeks are reported
    plain = sense(_company(tmp_path / "a", {"A": y}, plan_level=0.0, any_week=True), SensingParams(history_weeks=60, seasonal_min_weeks=200))
    censored = sense(_company(tmp_path / "b", {"A": y}, plan_level=0.0, stockouts=stockouts), SensingParams(history_weeks=60, seasonal_min_weeks=200))
    assert censored.censored[0].sum() == 8 and np.isnan(censored.actual[0, out]).all()
    assert censored.sensed[0, 0] == pytest.approx(40.0, abs=1.0)  # demand was 40 a week all along
    assert plain.sensed[0, 0] < censored.sensed[0, 0] - 5  # without the table, the empty shelves look like low demand
    assert int(censored.series["censored_weeks"].iloc[0]) == 8
    # nor in accuracy or exceptions: no drop, and the plan's error counts only the weeks on the shelf
    for s, drop in ((plain, True), (censored, False)):
        ex = demand_exceptions(s, series_accuracy(s.cleaned, s.plan_history, 13))
        assert ("drop" in set(ex["kind"])) is drop
    # plan accuracy with a right plan of 40: the empty weeks are its error only without the table
    params = SensingParams(history_weeks=60, seasonal_min_weeks=200)
    right = {k: accuracy_table(sense(_company(tmp_path / k, {"A": y}, plan_level=40.0, **kw), params)).iloc[0]
             for k, kw in (("c", {"any_week": True}), ("d", {"stockouts": stockouts}))}
    assert right["c"]["abs_error_qty"] == 8 * 40.0 and right["c"]["plan_qty"] == 13 * 40.0
    assert right["d"]["abs_error_qty"] == 0.0 and right["d"]["plan_qty"] == right["d"]["actual_qty"] == 5 * 40.0


def test_quantile_bands_are_calibrated_on_a_synthetic_set(tmp_path):
    rng = np.random.default_rng(12)
    series = {f"S{i:03d}": rng.normal(lvl, lvl * 0.2, 80).clip(0).round() for i, lvl in enumerate(rng.uniform(20, 200, 150))}
    s = sense(_company(tmp_path, series, plan_level=100.0), SensingParams(history_weeks=80, seasonal_min_weeks=200))
    assert abs(s.coverage["below_p90"] - 0.9) < 0.05 and abs(s.coverage["below_p10"] - 0.1) < 0.05
    p10, p50, p90 = s.bands[..., 0], s.bands[..., 1], s.bands[..., 2]
    assert (p10 <= p50).all() and (p50 <= p90).all() and ((p90 - p10)[:, -1] > (p90 - p10)[:, 0]).all()  # wider further out



def test_a_prepared_part_written_between_rounds_reads_back_exactly(small_sample):
    """A part's prepared state is pickled to the run's folder between rounds at 1M (a part's spill): ``cleaned``
    travels as its one-off weeks' values only and the week masks as bits; read back, every matrix is as it was,
    and the part finishes to the same sensing."""
    import pickle

    from soe_lib.sensing.engine import band_errors_of, decide_pools, decide_quantiles, finish, pool_stats_of, prepare

    prep = prepare(load_data(small_sample))
    prep.inp.censored[::3, -5:] = True  # any bit pattern of the masks survives the packing
    prep.outliers[1, 40] = True
    prep.cleaned[1, 40] = -123.5
    back = pickle.loads(pickle.dumps(prep, protocol=pickle.HIGHEST_PROTOCOL))
    assert prep.outliers.any() and back.outliers.dtype == bool
    np.testing.assert_array_equal(back.outliers, prep.outliers)
    np.testing.assert_array_equal(back.inp.censored, prep.inp.censored)
    np.testing.assert_array_equal(back.cleaned, prep.cleaned)  # NaN weeks before the first actual included
    assert back.cleaned[1, 40] == -123.5
    pools = decide_pools([pool_stats_of(prep)])
    quantiles = decide_quantiles([band_errors_of(prep, pools)])
    np.testing.assert_array_equal(finish(back, pools, quantiles).bands, finish(prep, pools, quantiles).bands)
