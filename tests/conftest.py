"""Fixtures: small seeded data built in the tests (never the real data sets, never a download)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from soe_lib.sample import write_sample

ROOT = Path(__file__).resolve().parents[1]
SOE = [str(Path(sys.executable).parent / "soe")]  # the console script cron calls


# fixtures that run the whole cycle, start servers or clusters: a test using one belongs to the full tier
# (`make test`), never to `make test-fast`
HEAVY_FIXTURES = {"weekly_run", "two_weeks", "new_postgres_database"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """A valid hand-made company: 2 SKUs (one with a leading zero, one with punctuation) at 2 locations."""
    skus, locs = ["00123", "HIV 1/2, Kit"], ["0100", "DC-2"]
    weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    plan_weeks = weeks + [f"2026-W{w}" for w in range(48, 54)] + [f"2027-W{w:02d}" for w in range(1, 9)]
    rows = [(s, loc) for s in skus for loc in locs]
    return {
        "products": pd.DataFrame(
            {"sku": skus, "description": ["a", "b"], "family": ["F1", "F2"], "unit_price": ["10", "20.5"], "unit_cost": ["6", "12"]}
        ),
        "locations": pd.DataFrame({"location": locs, "region": ["N", "S"], "storage_capacity": ["1000", ""]}),
        "actuals": pd.DataFrame(
            [(s, loc, w, "5") for s, loc in rows for w in weeks], columns=["sku", "location", "week", "qty"]
        ),
        "demand_plan": pd.DataFrame(
            [(s, loc, w, "6") for s, loc in rows for w in plan_weeks], columns=["sku", "location", "week", "qty"]
        ),
        "inventory": pd.DataFrame(
            [(s, loc, "20", "5") for s, loc in rows], columns=["sku", "location", "on_hand", "safety_stock"]
        ),
        "supply": pd.DataFrame(
            [(s, loc, "2026-12-07", "2026-12-14", "30", f"PO-{i}", "Acme", "purchase") for i, (s, loc) in enumerate(rows)],
            columns=["sku", "location", "week", "eta_week", "qty", "order_id", "supplier", "kind"],
        ),
    }


def write_tables(folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        with pd.ExcelWriter(folder / "company.xlsx") as xw:
            for name, frame in tables.items():
                frame.to_excel(xw, sheet_name=name, index=False)
        return folder
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_tables(tmp_path / "data", tiny_tables())


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample company at its smallest (8 SKUs x 2 locations), seeded."""
    folder = tmp_path_factory.mktemp("small") / "data"
    write_sample(folder, skus=8, locations=2, seed=3)
    return folder


@pytest.fixture(scope="session")
def sample_cycle(tmp_path_factory: pytest.TempPathFactory):
    """The default sample company's week computed once, in-process, by every step in order (the calls the
    notebooks make): (run, planted cases, each step's result by name). Shared by the modules that read it."""
    from soe_lib.run import open_week
    from soe_lib.run.steps import STEPS

    folder = tmp_path_factory.mktemp("sample") / "data"
    planted = write_sample(folder)
    run = open_week(str(folder), out_dir=tmp_path_factory.mktemp("sample-out"))
    return run, planted, {step.name: run.step(step.name) for step in STEPS}


@pytest.fixture(scope="session")
def weekly_run(small_sample, tmp_path_factory):
    """One `soe run` of the small sample (result, outputs folder), shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("run") / "outputs"
    res = run_soe("run", "--data", str(small_sample), "--out", str(out))
    return res, out


def run_soe(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*SOE, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
