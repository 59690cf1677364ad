"""Real data no one here wrote, through the whole weekly cycle: Walmart through `soe run` (five notebooks, a
published week), the others through the same steps in process (the calls the notebooks make: `soe run` itself is
tested on many companies elsewhere, and four more runs of its notebooks cost the suite a minute and a half).

Each data set of ``../shared/data/real/`` is prepared as a company by ``tests/real_companies.py`` (what is real and
what is filled in is listed there). The files are part of the machine these tests run on (CI has ``../shared/``
beside the clone): a missing file fails the test, it never skips.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from soe_lib.cli import main
from soe_lib.io import read_table

from .conftest import run_soe
from .golden import contract_problems
from .real_companies import COMPANIES, REAL, write_company


def test_the_real_data_is_here():
    """The data sets the cycle tests read (a missing one fails here first, by name)."""
    for path in ("walmart-store-weekly/Walmart_Store_sales.csv", "m5-tiny-weekly/weekly.csv", "uci-online-retail/online_retail_daily_top100_sku.csv",
                 "uci-sales-transactions-weekly/Sales_Transactions_Dataset_Weekly.csv", "usaid-scms-delivery/SCMS_Delivery_History_Dataset.normalized.csv"):
        assert (REAL / path).is_file(), f"missing {REAL / path}"


@pytest.mark.parametrize("name", sorted(COMPANIES))
def test_each_real_company_validates_clean(name, tmp_path, capsys):
    """What the preparation gives is a valid extract (an error here is the preparation's, not the cycle's)."""
    folder = write_company(name, tmp_path / name)
    assert main(["validate", "--data", str(folder)]) == 0, capsys.readouterr().out
    assert "0 error(s)" in capsys.readouterr().out


THROUGH_SOE_RUN = ("walmart",)


def _in_process(folder, outputs):
    """Every step of the cycle on the company, as the notebooks call them, into ``outputs/<week>``; a result that
    reads like a successful `soe run` (exit 0)."""
    from types import SimpleNamespace

    from soe_lib.run import open_week
    from soe_lib.run.steps import STEPS

    run = open_week(str(folder), out_dir=outputs / "pending")
    for step in STEPS:
        run.step(step.name)
    run.out_dir.rename(outputs / run.label)
    return SimpleNamespace(returncode=0, stdout="", stderr="")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """``real_run(name)``: the company's data folder and its run (once per company for the module)."""
    runs = {}

    def run(name: str):
        if name not in runs:
            base = tmp_path_factory.mktemp(name)
            folder = write_company(name, base / "data")
            out = base / "outputs"
            res = run_soe("run", "--data", str(folder), "--out", str(out)) if name in THROUGH_SOE_RUN else _in_process(folder, out)
            runs[name] = folder, out, res
        return runs[name]
    return run


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(COMPANIES))
def test_each_real_company_runs_through_the_cycle(name, real_run):
    _, out, res = real_run(name)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "over TCP" not in res.stdout + res.stderr
    (week,) = [p for p in out.iterdir() if p.name[:2] == "20"]
    assert contract_problems(week / "tables") == []
    tables = week / "tables"
    gaps, impact = read_table(tables, "supply_gaps"), read_table(tables, "financial_impact")
    options, decisions = read_table(tables, "countermeasures"), read_table(tables, "decision_list")
    # the real demand runs short somewhere: gaps valued, a decision list, a plan that is never worse than nothing
    assert len(impact) > 0 and set(impact["gap_id"]) == set(gaps.loc[gaps["kind"] == "shortage", "gap_id"])
    assert np.isfinite(impact["margin_at_risk"]).all() and (impact["margin_at_risk"] >= 0).all() and impact["margin_at_risk"].sum() > 0
    listed = decisions[decisions["track"] == "execution"]  # ranked; S&OP findings and items in hand are not
    assert len(listed) > 0 and listed["rank"].astype(int).tolist() == list(range(1, len(listed) + 1))
    assert options["chosen_net_benefit"].sum() >= -1e-6
    assert (week / "meeting_pack.xlsx").stat().st_size > 0 and "S&OP" in (week / "sop_feedback.md").read_text()


@pytest.mark.slow
def test_the_walmart_distributor_no_longer_crashes_in_financial_impact(real_run, tmp_path):
    """The case of issue 24: 45 stores, no capacity, routings, open orders, substitutes or financial plan crashed in
    notebook 04 (a merge on an empty string-keyed frame). It runs, and its tables are as the contract declares; the
    check can fail (a dropped column and a duplicated key in a copy are both reported)."""
    folder, out, res = real_run("walmart")
    assert {p.stem for p in folder.iterdir()} == {"products", "locations", "actuals", "demand_plan", "inventory", "supply"}
    assert res.returncode == 0 and "04_financial_impact ok" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]
    tables = out / "2012-W44" / "tables"
    assert read_table(tables, "financial_impact")["location"].nunique() > 5  # stores short, each valued
    broken = shutil.copytree(tables, tmp_path / "broken")
    decisions = pd.read_parquet(broken / "decision_list.parquet")
    decisions.drop(columns=["owner"] if "owner" in decisions else decisions.columns[-1:]).to_parquet(broken / "decision_list.parquet")
    gaps = pd.read_parquet(broken / "supply_gaps.parquet")
    pd.concat([gaps, gaps.head(1)]).to_parquet(broken / "supply_gaps.parquet")
    problems = contract_problems(broken)
    assert any(p.startswith("decision_list: columns") for p in problems) and any(p.startswith("supply_gaps: key") for p in problems)
