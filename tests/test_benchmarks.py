"""The benchmark code must keep running (its figures are printed, never asserted: machines are noisy)."""

import json
import subprocess
import sys

import pytest

from .conftest import ROOT


def test_quick_benchmark_runs_and_prints_ratios(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "sensing", "--peers", "statsmodels", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "engine speed-up" in res.stdout and "statsmodels loop" in res.stdout and "peak RSS" in res.stdout
    assert len(list(tmp_path.glob("sensing-*.json"))) == 1


def test_logistics_benchmark_predicts_real_deliveries_against_the_scheduled_week_and_its_peers(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "logistics", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    rows = json.loads(next(tmp_path.glob("logistics-*.json")).read_text())
    by_mode = {r["mode"]: r for r in rows}
    assert {"air", "truck", "ocean", "all"} <= set(by_mode) and by_mode["all"]["deliveries"] > 3000  # the SCMS lines after the cuts
    assert all(key in by_mode["all"] for key in ("MAE scheduled week", "MAE mode median", "MAE lane median (raw)", "MAE workbench P50"))
    assert 50 < by_mode["all"]["at or before P90 %"] <= 100 and "MAE workbench P50" in res.stdout


def test_quick_plan_benchmark_compares_the_joint_plan_with_its_peers(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "plan", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "joint plan (HiGHS)" in res.stdout and "peer greedy" in res.stdout and "x the joint plan's" in res.stdout
    assert "pools promised beyond" in res.stdout and "finance step" in res.stdout
    saved = list(tmp_path.glob("plan-*.json"))
    assert len(saved) == 1 and '"binaries"' in saved[0].read_text()


@pytest.mark.slow
def test_quick_cycle_benchmark_times_every_phase(tmp_path):
    """One in-process `soe run` timed phase by phase (the same run on Dask from a company in parts: tests/test_dask.py)."""
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "cycle", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "| whole `soe run` (wall) |" in res.stdout and "02_demand_sensing" in res.stdout
    assert "peak memory, largest process" in res.stdout and "seconds per 1,000 series" in res.stdout
    assert "| phase | 300 |" in res.stdout and "peak memory, all processes of the run" in res.stdout
    saved = list(tmp_path.glob("cycle-*.json"))
    assert len(saved) == 1 and '"load_and_validate"' in saved[0].read_text()
    # each chained notebook's kernel peak (VmHWM) is recorded and shown
    runs = json.loads(saved[0].read_text())["results"]
    peaks = [r["notebooks"]["03_supply_gaps"]["kernel_gb"] for r in runs]
    assert all(p is not None and 0.05 < p < 8 for p in peaks) and "; kernel " in res.stdout


def test_quick_allocation_benchmark_compares_the_three_policies_on_real_order_lines(tmp_path):
    """The Online Retail invoices as order lines (read from the raw R data with pyreadr): the rule keeps its tier-1
    customers' lines best served, fair share spreads the cut most evenly."""
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "allocation", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads(next(tmp_path.glob("allocation-*.json")).read_text())
    by = {r["policy"]: r for r in result["policies"]}
    assert set(by) == {"rule", "fair_share", "margin_first"}
    assert by["rule"]["fill tier 1 %"] >= by["fair_share"]["fill tier 1 %"] and by["rule"]["fill all %"] < 100
    assert by["fair_share"]["cut % spread (P90-P10)"] <= by["rule"]["cut % spread (P90-P10)"]
    assert by["margin_first"]["margin kept GBP"] >= by["fair_share"]["margin kept GBP"] - 1e-6
    assert result["timing"]["lines"] == 5_000 and "x one sort of them" in res.stdout
