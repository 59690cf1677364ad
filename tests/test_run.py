"""End to end: `soe run` as cron calls it, on a small seeded sample, into temp folders."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from soe_lib.core.paths import notebooks_dir

from .conftest import run_soe, tiny_tables, write_tables

pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_run(weekly_run):
    return weekly_run


def test_run_succeeds_and_says_where(first_run):
    res, out = first_run
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[1/" in res.stdout and "01_data_health ok" in res.stdout
    assert f"outputs in {out / '2026-W48'}" in res.stdout


def test_manifest_records_status_inputs_parameters_versions_timings(first_run, small_sample):
    _, out = first_run
    m = json.loads((out / "2026-W48" / "manifest.json").read_text())
    assert m["status"] == "succeeded" and m["week"] == "2026-W48" and m["exit_code"] == 0
    assert m["inputs"]["actuals"]["sha256"] == sha(small_sample / "actuals.csv")
    assert set(m["inputs"]) >= {"products", "locations", "actuals", "demand_plan", "inventory", "supply"}
    assert m["parameters"]["horizon_weeks"] == 13
    assert {"pandas", "papermill", "python"} <= set(m["versions"])
    nbs = {n["name"]: n for n in m["notebooks"]}
    assert nbs["01_data_health"]["status"] == "succeeded" and nbs["01_data_health"]["seconds"] > 0
    for name, info in m["tables"].items():
        assert sha(out / "2026-W48" / "tables" / f"{name}.parquet") == info["sha256"]


def test_run_folder_holds_notebooks_html_tables_and_archived_inputs(first_run):
    _, out = first_run
    week = out / "2026-W48"
    nb = nbformat.read(week / "notebooks" / "01_data_health.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'week = "2026-W48"' in injected[0].source
    html = (week / "notebooks" / "01_data_health.html").read_text()
    assert "Data health" in html and "open_week(" not in html  # code hidden
    loaded = pd.read_parquet(week / "tables" / "data_health.parquet")
    assert loaded.set_index("table").loc["products", "rows"] == 8
    assert (week / "inputs" / "actuals.parquet").exists()
    for step in ("01_data_health", "02_demand_sensing", "03_supply_gaps", "04_financial_impact", "05_what_changed"):
        assert (week / "notebooks" / f"{step}.ipynb").exists() and (week / "notebooks" / f"{step}.html").exists()
        # a copy names the published folder, not the staging folder it was built in (empty once published)
        assert ".staging" not in (week / "notebooks" / f"{step}.html").read_text(), step
    assert f"results in {out.resolve() / '2026-W48'}" in html  # the week's folder (a link to its run in runs/)
    for table in ("sensed_demand", "forecast_accuracy", "demand_exceptions", "inventory_projection", "supply_gaps", "financial_impact", "decision_list"):
        assert (week / "tables" / f"{table}.parquet").exists(), table
    assert (week / "meeting_pack.xlsx").exists() and "S&OP" in (week / "sop_feedback.md").read_text()
    assert not any((out / ".staging").iterdir())
    assert not (week / ".cache").exists() and (week / "inputs" / "snapshot.json").exists()
    assert "succeeded" in (out / "soe-run.log").read_text()


def test_rerun_keeps_the_previous_result_in_history(first_run, small_sample, tmp_path):
    out = tmp_path / "outputs"
    shutil.copytree(first_run[1], out, symlinks=True)  # the shared first run's outputs, as a week already published
    first = json.loads((out / "2026-W48" / "manifest.json").read_text())["run_id"]
    params = tmp_path / "p.yaml"  # a parameters file, and --set over it
    params.write_text("horizon_weeks: 6\ncover_weeks: 3\n")
    res = run_soe("run", "--data", str(small_sample), "--out", str(out), "--params", str(params), "--set", "horizon_weeks=8")
    assert res.returncode == 0, res.stderr
    m = json.loads((out / "2026-W48" / "manifest.json").read_text())
    assert m["parameters"]["horizon_weeks"] == 8 and m["parameters"]["cover_weeks"] == 3 and m["run_id"] != first
    assert (out / "runs" / "2026-W48" / first / "manifest.json").exists()  # the previous run, kept whole
    assert (out / "2026-W48").resolve() == (out / "runs" / "2026-W48" / m["run_id"]).resolve()


def test_invalid_data_exits_2_and_writes_nothing_for_the_week(tmp_path):
    t = tiny_tables()
    t["actuals"].loc[3, "qty"] = "-5"
    data = write_tables(tmp_path / "bad", t)
    out = tmp_path / "outputs"
    res = run_soe("run", "--data", str(data), "--out", str(out))
    assert res.returncode == 2
    assert "actuals.csv" in res.stdout and "qty" in res.stdout and "5" in res.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["soe-run.log"]


def test_unknown_parameter_exits_2(small_sample, tmp_path):
    res = run_soe("run", "--data", str(small_sample), "--out", str(tmp_path / "o"), "--set", "horizon_wekks=4")
    assert res.returncode == 2 and "horizon_wekks" in res.stdout


def test_params_file_sets_the_week_and_any_week_accepts_it(small_sample, tmp_path):
    """The week from a parameters file is checked before any notebook runs; --any-week accepts it (as `soe validate`
    says: the run itself goes as any run; a parameters file's values reach the manifest: the rerun test above)."""
    params = tmp_path / "p.yaml"
    params.write_text("horizon_weeks: 6\nweek: 2026-W47\n")
    out = tmp_path / "o"
    refused = run_soe("run", "--data", str(small_sample), "--out", str(out), "--params", str(params))
    assert refused.returncode == 2 and "run week follows the actuals" in refused.stdout  # W47 has actuals already
    checked = run_soe("validate", "--data", str(small_sample), "--week", "2026-W47", "--any-week")
    assert checked.returncode == 0 and "WARNING" in checked.stdout and "ERROR" not in checked.stdout, checked.stdout


def test_failing_notebook_exits_1_and_leaves_the_last_good_week_untouched(first_run, small_sample, tmp_path):
    _, good = first_run
    out = tmp_path / "outputs"
    shutil.copytree(good / "2026-W48", out / "2026-W48")
    before = {p.relative_to(out): sha(p) for p in (out / "2026-W48").rglob("*") if p.is_file()}

    books = tmp_path / "notebooks"
    books.mkdir()
    shutil.copy(notebooks_dir() / "01_data_health.ipynb", books)
    broken = new_notebook(
        cells=[
            new_code_cell("data_dir = None\nweek = None\nout_dir = None\nhorizon_weeks = 13", metadata={"tags": ["parameters"]}),
            new_code_cell("raise RuntimeError('supply extract is truncated')"),
        ]
    )
    broken.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(broken, books / "02_broken.ipynb")

    env = {**os.environ, "SOE_NOTEBOOKS": str(books)}
    res = run_soe("run", "--data", str(small_sample), "--out", str(out), env=env)
    assert res.returncode == 1
    assert "02_broken FAILED" in res.stdout and "supply extract is truncated" in res.stdout
    after = {p.relative_to(out): sha(p) for p in (out / "2026-W48").rglob("*") if p.is_file()}
    assert after == before
    failed = list((out / "failed-runs").iterdir())
    assert len(failed) == 1 and failed[0].name.startswith("2026-W48-")
    m = json.loads((failed[0] / "manifest.json").read_text())
    assert m["status"] == "failed" and m["failed_step"] == "02_broken" and m["exit_code"] == 1
    executed = nbformat.read(failed[0] / "notebooks" / "02_broken.ipynb", as_version=4)
    assert executed.metadata["papermill"]["exception"] is True


def test_second_concurrent_run_exits_3(small_sample, tmp_path):
    out = tmp_path / "outputs"
    out.mkdir()
    with open(out / ".soe-run.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        res = run_soe("run", "--data", str(small_sample), "--out", str(out))
    assert res.returncode == 3 and "another soe run" in res.stdout


def test_validate_command(small_sample, tmp_path):
    ok = run_soe("validate", "--data", str(small_sample))
    assert ok.returncode == 0 and "OK" in ok.stdout and "2026-W48" in ok.stdout
    t = tiny_tables()
    t["products"].loc[0, "unit_price"] = "free"
    bad = run_soe("validate", "--data", str(write_tables(tmp_path / "d", t)))
    assert bad.returncode == 2
    assert "products.csv, column 'unit_price', rule 'number'" in bad.stderr and "row" in bad.stderr


def test_contract_command_lists_every_table():
    res = run_soe("contract")
    for table in ("products", "locations", "actuals", "demand_plan", "inventory", "supply", "open_orders", "capacity", "routings", "financial_plan"):
        assert f"**{table}**" in res.stdout
