"""The output contract, the steps' orchestration, and the golden sample week.

- every table a step writes is exactly as declared in soe_lib/core/outputs.py (columns, kinds, keys);
- tables meet through their keys (gap_id, line_id), never through row order;
- the sample week's numbers are those of the release before the package move (tests/data/sample_week_digest.json);
- a notebook run by ``soe run`` and the in-process orchestration write the same tables;
- a step whose inputs are missing computes them with the run's parameters and says so.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.outputs import OUTPUTS, OutputContractError, check_table
from soe_lib.finance.catalogue import ACTIONS
from soe_lib.io import read_table, save_table
from soe_lib.io.results import rows_of, save_part
from soe_lib.run import open_week
from soe_lib.run.steps import STEPS

from .conftest import ROOT
from .golden import differences, table_digest, week_digest

# Columns the package move changed on purpose (the digest was taken before it):
# The digest of the default sample week (tests/data/sample_week_digest.json) is re-recorded only when a
# change means to move the numbers, and the commit says why: `python -m tests.golden <week folder>`.
# Re-recorded for issue 22: the joint plan keys its pools by SKU@location (two new orders no longer share one
# fixed cost), which moves the chosen plan's net benefit by under a unit of money per line.
# Before that, recorded for issue 14 (the backtest chooses the forecast, one-off weeks on any history, P10/P50/P90
# bands and shortage probabilities): the sensed forecast moved on purpose, and the gaps, money and
# decisions with it (sample backtest WAPE 31.8 % before and after; see docs/demand-sensing.md).
# What the first release measured and that no forecast feeds (plan accuracy roll-ups, validation, input
# coverage, inbound delays by kind and supplier) is still held to its digest.
UNCHANGED_SINCE_RELEASE_1 = (
    "forecast_accuracy_by_family", "forecast_accuracy_by_location", "forecast_accuracy_by_total", "validation_issues",
    "coverage", "inbound_delays_by_kind", "inbound_delays_by_supplier",
)
RELEASE_1_CHANGED: dict[str, set] = {}  # nothing: the comparison is column by column


@pytest.fixture(scope="module")
def sample_week(sample_cycle):
    """The default sample company's week, computed in-process by the orchestration (as the notebooks do)."""
    return sample_cycle[0]


def _backtest_as_before(frame: pd.DataFrame) -> pd.DataFrame:
    """sensing_backtest as the first release wrote it (one row per method, a WAPE column per segment)."""
    wide = frame.pivot(index="method", columns="segment", values="wape")
    return wide.loc[frame["method"].unique(), frame["segment"].unique()].reset_index().rename_axis(columns=None)


def test_the_sample_week_is_as_recorded(sample_week):
    expected = json.loads((ROOT / "tests" / "data" / "sample_week_digest.json").read_text())
    assert differences(expected, week_digest(sample_week.out_dir)) == []


def test_what_no_forecast_feeds_is_as_in_the_first_release(sample_week):
    release_1 = json.loads((ROOT / "tests" / "data" / "sample_week_digest_release1.json").read_text())
    actual = week_digest(sample_week.out_dir)
    actual["tables"]["sensing_backtest"] = table_digest(_backtest_as_before(pd.read_parquet(sample_week.tables_dir / "sensing_backtest.parquet")))
    kept = {"tables": {name: release_1["tables"][name] for name in UNCHANGED_SINCE_RELEASE_1 if name in release_1["tables"]}, "files": {}}
    assert len(kept["tables"]) >= 6
    assert differences(kept, actual, RELEASE_1_CHANGED) == []


def test_the_band_always_holds_the_point_forecast(sample_week):
    """The sample company's blended series had their sensed forecast above P90 (195 of 1,560 rows before the
    band was widened to it): every row now has P10 <= sensed <= P90 and P10 <= P50 <= P90."""
    t = read_table(sample_week.tables_dir, "sensed_demand")
    assert (t["p10_qty"] <= t["sensed_qty"] + 1e-9).all() and (t["sensed_qty"] <= t["p90_qty"] + 1e-9).all()
    assert (t["p10_qty"] <= t["p50_qty"]).all() and (t["p50_qty"] <= t["p90_qty"]).all()


def test_the_digest_sees_a_changed_number(sample_week):
    """The golden comparison can fail: one changed cell, or two rows swapped, is reported."""
    base = week_digest(sample_week.out_dir)
    frame = pd.read_parquet(sample_week.tables_dir / "financial_impact.parquet")
    bumped = frame.copy()
    bumped.loc[0, "margin_at_risk"] += 1.0  # one unit of money
    swapped = frame.iloc[[1, 0, *range(2, len(frame))]].reset_index(drop=True)
    for changed in (bumped, swapped):
        other = {**base, "tables": {**base["tables"], "financial_impact": table_digest(changed)}}
        assert any(d.startswith("financial_impact.") for d in differences(base, other))


WEEKLY = sorted(n for n, t in OUTPUTS.items() if t.step != "scenario")  # a scenario's tables: soe scenario run (tests/test_logistics.py)


@pytest.mark.parametrize("name", WEEKLY)
def test_every_table_is_exactly_as_declared(sample_week, name):
    frame = pd.read_parquet(sample_week.tables_dir / f"{name}.parquet")
    table = OUTPUTS[name]
    assert list(frame.columns) == table.names
    check_table(name, frame)  # kinds
    if table.key:
        assert not frame.duplicated(list(table.key)).any(), f"{name}: key {table.key} is not unique"
    for col in table.columns:
        if col.kind == "week" and frame[col.name].notna().any():
            assert frame[col.name].dropna().str.fullmatch(r"\d{4}-W\d{2}").all(), f"{name}.{col.name}: ISO week labels"


def test_documents_are_written(sample_week):
    assert "Feedback to S&OP" in (sample_week.out_dir / "sop_feedback.md").read_text()
    assert (sample_week.out_dir / "meeting_pack.xlsx").stat().st_size > 0


def test_tables_meet_through_their_keys(sample_week):
    t = {name: read_table(sample_week.tables_dir, name) for name in ("supply_gaps", "financial_impact", "countermeasures", "inbound_delays")}
    gaps = t["supply_gaps"].set_index("gap_id")
    impact = t["financial_impact"]
    assert len(impact) > 0 and set(impact["gap_id"]) == set(gaps.index[gaps["kind"] == "shortage"])
    joined = impact.merge(gaps.reset_index(), on="gap_id", suffixes=("", "_gap"))
    assert (joined["sku"] == joined["sku_gap"]).all() and (joined["first_week"] == joined["first_week_gap"]).all()
    np.testing.assert_allclose(joined["shortage_qty"], joined["shortage_qty_gap"])
    options = t["countermeasures"]
    assert set(options["gap_id"]) == set(impact["gap_id"])
    # every lever of the catalogue is listed for every SKU-location short (a move once, under the first gap it reaches;
    # an infeasible lever once per gap it cannot reach, with its reason)
    assert (options.groupby(["sku", "location"])["action"].nunique() == len(ACTIONS)).all()
    assert not options.duplicated(["gap_id", "action", "pool", "effective_week"]).any()
    assert (options["chosen_qty"] == options["chosen_qty"].round()).all() and (options.loc[~options["feasible"], "chosen_qty"] == 0).all()
    assert options["chosen_qty"].sum() > 0  # the sample week's plan does take something
    assert (options.merge(impact[["gap_id", "sku"]], on="gap_id", suffixes=("", "_impact")).eval("sku == sku_impact")).all()
    supply = sample_week.data.supply
    lines = t["inbound_delays"]
    assert lines["line_id"].tolist() == list(range(len(supply)))
    np.testing.assert_allclose(lines["qty"], supply["qty"])


def test_check_table_refuses_missing_extra_and_mistyped_columns(tmp_path):
    good = pd.DataFrame({"track": ["execution"], "kind": ["supply gap"], "items": [3], "money_at_risk": [12.5]})
    assert list(check_table("decision_list_beyond_budget", good.iloc[:, ::-1]).columns) == ["track", "kind", "items", "money_at_risk"]
    with pytest.raises(OutputContractError, match=r"missing columns \['items'\]"):
        check_table("decision_list_beyond_budget", good.drop(columns=["items"]))
    with pytest.raises(OutputContractError, match=r"extra columns \['oops'\]"):
        check_table("decision_list_beyond_budget", good.assign(oops=1))
    with pytest.raises(OutputContractError, match=r"items \(float64, declared int\)"):
        check_table("decision_list_beyond_budget", good.assign(items=2.5))
    with pytest.raises(OutputContractError, match="not a declared result table"):
        save_table(tmp_path, "no_such_table", good)


def test_soe_run_and_the_orchestration_write_the_same_tables(weekly_run, small_sample, tmp_path):
    _, out = weekly_run
    run = open_week(str(small_sample), out_dir=tmp_path / "inproc")
    for step in STEPS:
        run.step(step.name)
    by_notebooks, in_process = week_digest(out / "2026-W48"), week_digest(tmp_path / "inproc")
    assert set(by_notebooks["tables"]) == set(WEEKLY)
    assert differences(by_notebooks, in_process) == [] and differences(in_process, by_notebooks) == []


def test_a_step_computes_missing_inputs_with_the_runs_parameters(small_sample, tmp_path, capsys):
    run = open_week(str(small_sample), out_dir=tmp_path / "alone", lookback_weeks=8)
    run.step("supply")  # as notebook 03 run on its own: sensing has not run
    said = capsys.readouterr().out
    assert "'sensed_demand' is not in" in said and "computing step 'sensing' (02_demand_sensing.ipynb)" in said
    made = json.loads((tmp_path / "alone" / "steps" / "sensing.json").read_text())
    assert made["parameters"]["lookback_weeks"] == 8 and made["snapshot"] == run.key
    acc = read_table(run.tables_dir, "forecast_accuracy").set_index(["sku", "location"])
    act = run.data.actuals
    last8 = act[act["week"] >= run.week - pd.Timedelta(weeks=8)].groupby(["sku", "location"])["qty"].sum()
    np.testing.assert_allclose(acc.loc[last8.index, "actual_qty"], last8)  # scored over 8 weeks, not 13
    assert set(read_table(run.tables_dir, "sensing_backtest")["method"]) == {"sensing", "statistical", "plan", "naive"}

    # tables of other inputs are never reused: computed again
    made["snapshot"] = "another"
    (tmp_path / "alone" / "steps" / "sensing.json").write_text(json.dumps(made))
    run.table("sensed_demand")
    assert "was made from other inputs than" in capsys.readouterr().out

    # a later notebook with other defaults reads them, and says with which parameters they were made
    again = open_week(str(small_sample), out_dir=tmp_path / "alone")
    again.table("sensed_demand")
    assert "lookback_weeks" in capsys.readouterr().out


def test_a_parts_rows_are_found_whatever_range_of_skus_each_file_spans(tmp_path):
    """``rows_of`` filters by the SKUs' range (Arrow skips files by their statistics) and then by the SKUs: a
    file whose SKUs sort around the others' (a text SKU among numbered ones) is read, and only the rows asked for
    are kept, every location of a SKU too when asked and no other location."""
    def part(skus: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"sku": np.repeat(skus, 2), "location": ["L1", "L2"] * len(skus), "excess_qty": np.arange(2.0 * len(skus)),
                             "family": "F", "unit_cost": 1.0, "excess_value": 1.0})
    save_part(tmp_path, "excess_inventory", 0, part(["000001", "000002", "KIT 1/2, 50ml"]))
    save_part(tmp_path, "excess_inventory", 1, part(["000003", "000004"]))
    save_part(tmp_path, "excess_inventory", 2, part(["000005", "000006"]))
    asked = pd.DataFrame({"sku": ["KIT 1/2, 50ml", "000004", "000006", "000009"], "location": ["L2", "L1", "L2", "L1"]})
    got = rows_of(tmp_path, "excess_inventory", asked)
    assert sorted(zip(got["sku"], got["location"], strict=True)) == [("000004", "L1"), ("000006", "L2"), ("KIT 1/2, 50ml", "L2")]
    assert got.set_index(["sku", "location"]).loc[("000004", "L1"), "excess_qty"] == 2.0
    assert rows_of(tmp_path, "excess_inventory", asked.iloc[[3]]).empty  # a SKU inside the range, in no file
