"""Scale-out: the Dask engine gives the same tables as the in-process run; the run's phases are recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.dataset import SERIES_TABLES
from soe_lib.core.problems import ValidationError
from soe_lib.core.step import light_parts, series_ranges, sku_ranges
from soe_lib.finance import FINANCE, FinanceParams
from soe_lib.finance.parts import projection_part, week_world
from soe_lib.finance.step import INPUT_TABLES as FINANCE_INPUTS
from soe_lib.finance.step import assess_week
from soe_lib.io import load_data, read_snapshot, read_table
from soe_lib.io.loading import local_parts
from soe_lib.io.sources import parquet_parts
from soe_lib.run import open_week, run_week
from soe_lib.run.distributed import OnDask, dask_client, run_in_parts
from soe_lib.sample import write_sample, write_sample_parts
from soe_lib.sensing import SensingParams
from soe_lib.sensing.engine import MATRICES, sense
from soe_lib.supply import SUPPLY, SupplyParams
from soe_lib.supply.step import analyse_supply


def test_series_ranges_split_the_keys_into_consecutive_nonempty_parts():
    keys = np.array([0, 1, 2, 5, 6, 9, 10, 11, 40])
    ranges = series_ranges(keys, 4)
    assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] == 41
    assert all(a < b for a, b in ranges) and all(ranges[i][1] <= ranges[i + 1][0] for i in range(3))
    inside = [int(((keys >= a) & (keys < b)).sum()) for a, b in ranges]
    assert sum(inside) == len(keys) and min(inside) >= 2
    assert len(series_ranges(keys[:2], 8)) == 2 and series_ranges(np.array([], dtype=int), 3) == []


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale") / "data"
    write_sample(folder, skus=12)
    return folder


def test_a_snapshot_part_holds_exactly_its_series(company, tmp_path):
    run = open_week(str(company), out_dir=tmp_path / "w")
    whole = read_snapshot(run.out_dir / "inputs")
    keys = whole.series()["_series"].to_numpy()
    first, stop = int(keys[5]), int(keys[17])
    part = read_snapshot(run.out_dir / "inputs", (first, stop))
    assert part.series()["_series"].tolist() == keys[(keys >= first) & (keys < stop)].tolist()
    for name in ("actuals", "demand_plan", "inventory", "supply", "open_orders"):
        want = whole.tables[name][whole.tables[name]["_series"].between(first, stop - 1)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.tables[name], want, check_categorical=False, obj=name)
    pd.testing.assert_frame_equal(part.tables["products"], whole.tables["products"])
    by_url = read_snapshot(f"file://{(run.out_dir / 'inputs').resolve()}", (first, stop))  # any fsspec URL the workers can read
    pd.testing.assert_frame_equal(by_url.tables["actuals"], part.tables["actuals"])


@pytest.mark.slow
def test_supply_on_a_local_cluster_in_parts_equals_supply_in_process(company, tmp_path):
    run = open_week(str(company), out_dir=tmp_path / "w")
    here = analyse_supply(run.data, run.table("sensed_demand"), SupplyParams(), 13, run.table("eta_forecast"))
    kinds = here.gaps["kind"].value_counts()
    assert kinds["shortage"] >= 3 and kinds["below_safety_stock"] >= 3 and here.capacity["overloaded"].any()  # worth splitting
    with dask_client(None, workers=2, memory_limit="1GB") as client:
        there = run_in_parts(SUPPLY, run, OnDask(client), 5, ranges=series_ranges(run.data.series()["_series"].to_numpy(), 5))
        done = client.run(lambda dask_worker: dask_worker.state.executed_count)
        # what a run asks of the steps after sensing: a part per 100k series, at least one per worker
        workers = OnDask(client).workers
        assert [light_parts(n, 40, workers) for n in (36, 250_000, 1_000_000)] == [2, 3, 10] and light_parts(10**6, 4, workers) == 4
    assert len(done) == 2 and all(n > 0 for n in done.values())
    # the gaps of 5 parts numbered as one: every shortage first, by series then week
    assert there.gaps["gap_id"].tolist() == list(range(len(here.gaps)))
    assert there.gaps["_series"].nunique() > 5
    written = {"inventory_projection", "inbound_delays"}  # the workers wrote them, in 5 parts; the client holds neither
    assert set(there.tables()) == set(here.tables()) - written and there.lines.empty and there.shortage_lines == here.shortage_lines > 0
    for name in written:
        assert len(list((run.tables_dir / name).glob("part-*.parquet"))) == 5
    for name, frame in here.tables().items():
        got = read_table(run.tables_dir, name) if name in written else there.tables()[name]
        pd.testing.assert_frame_equal(got, frame, check_categorical=False, check_dtype=False, rtol=1e-9, obj=name)
    assert there.demand_qty == pytest.approx(here.demand_qty) and there.short_qty == pytest.approx(here.short_qty)
    sku, location = here.focus(None, None)
    for a, b in zip(here.projection_frame(sku, location), there.projection_frame(sku, location), strict=True):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


@pytest.mark.slow
def test_finance_in_parts_of_whole_skus_on_a_local_cluster_equals_finance_in_process(tmp_path):
    write_sample(tmp_path / "data", skus=40)  # 120 SKU-locations: transfers and substitutes among the options
    run = open_week(str(tmp_path / "data"), out_dir=tmp_path / "w")
    upstream = {name: run.table(name) for name in FINANCE_INPUTS}
    here = assess_week(run.data, upstream, FinanceParams())
    feasible = here.options[here.options["feasible"]]
    assert {"transfer", "substitute", "expedite", "build_ahead"} <= set(feasible["action"])
    findings = upstream["demand_exceptions"][["sku", "location"]]
    weeks = pd.DatetimeIndex(sorted(upstream["inventory_projection"]["week"].unique()))
    world = week_world(run.data, upstream["inventory_projection"], FinanceParams(), weeks)
    kept = projection_part(world, upstream["inventory_projection"], run.data.products, FinanceParams(), findings).rows
    assert 0 < len(kept) < 0.6 * len(upstream["inventory_projection"])  # what the client gets back: the findings' rows, not all
    assert kept[["sku", "location"]].drop_duplicates().shape[0] == findings.drop_duplicates().shape[0]
    # as many parts as it takes for equal ranges of series to put a transfer's source (another location of
    # the gap's SKU) in another part than the gap: whole SKUs keep it in the gap's part
    series = run.data.series()
    keys = series["_series"].to_numpy()
    key_of = dict(zip(zip(series["sku"].astype(str), series["location"].astype(str), strict=True), keys, strict=True))
    move = feasible[feasible["action"] == "transfer"].iloc[0]
    ends = sorted([key_of[(str(move["sku"]), str(move["location"]))], key_of[(str(move["sku"]), str(move["source_location"]))]])
    k = next(k for k in range(2, 60) if any(ends[0] < a <= ends[1] for a, _ in series_ranges(keys, k)))
    ranges = sku_ranges(series, k)
    part = np.searchsorted([b for _, b in ranges], keys, side="right")
    assert len(ranges) >= k - 1 and series.assign(part=part).groupby("sku")["part"].nunique().max() == 1
    part_of = dict(zip(series["sku"].astype(str), part, strict=False))
    subs = feasible[feasible["action"] == "substitute"]
    assert any(part_of[a] != part_of[b] for a, b in zip(subs["sku"].astype(str), subs["substitute_sku"], strict=True))
    with dask_client(None, workers=2, memory_limit="1GB") as client:
        there = run_in_parts(FINANCE, run, OnDask(client), k, ranges=ranges)
        done = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(done) == 2 and all(n > 0 for n in done.values())
    for name, frame in here.tables().items():
        pd.testing.assert_frame_equal(there.tables()[name], frame, check_categorical=False, check_dtype=False, rtol=1e-9, obj=name)
    assert there.feedback == here.feedback and there.plan.objective == pytest.approx(here.plan.objective)


def test_sensing_in_blocks_of_series_equals_sensing_all_series_at_once(company, tmp_path, monkeypatch):
    import soe_lib.core.matrix as matrix

    data = open_week(str(company), out_dir=tmp_path / "w").data
    whole = sense(data, SensingParams(), 13)
    monkeypatch.setattr(matrix, "BLOCK_ROWS", 5)  # 36 series: blocks of 5, 5, ... 1
    blocks = sense(data, SensingParams(), 13)
    assert len(whole.series) == 36 and len(matrix.row_blocks(36)) == 8  # the blocked path ran
    assert matrix.row_blocks(0) == [slice(0, 0)] and matrix.row_blocks(10)[-1] == slice(5, 10)
    pd.testing.assert_frame_equal(blocks.series, whole.series)
    for name in MATRICES:
        np.testing.assert_allclose(getattr(blocks, name), getattr(whole, name), rtol=1e-12, atol=1e-12, err_msg=name)
    pd.testing.assert_frame_equal(blocks.backtest, whole.backtest)
    pd.testing.assert_frame_equal(blocks.backtest_by_series, whole.backtest_by_series)


@pytest.mark.slow
def test_soe_run_records_its_phases_and_runs_data_health_beside_the_chain(weekly_run):
    """The shared weekly `soe run` of the small sample (a run of its own cost the suite 25 s)."""
    res, out = weekly_run
    assert res.returncode == 0, res.stdout + res.stderr
    folder = out / "2026-W48"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["phases"]) == {"load_and_validate", "snapshot", "notebooks", "html_and_digests"}
    # each phase took time, the notebooks most of it, and the phases fit in the run's own time
    assert all(v > 0 for v in manifest["phases"].values()) and max(manifest["phases"], key=manifest["phases"].get) == "notebooks"
    assert sum(manifest["phases"].values()) <= manifest["seconds"] + 0.05
    books = {nb["name"]: nb for nb in manifest["notebooks"]}
    assert len(books) == 5 and all(nb["status"] == "succeeded" and 0 < nb["cells_seconds"] <= nb["seconds"] for nb in books.values())
    log = (folder / "run.log").read_text()
    # data health reads the snapshot only: beside the chain; 03 too computes a step that does (logistics), and one
    # that reads sensing's tables (supply): in the chain
    assert "[1/5] 01_data_health ok" in log and log.count("beside the others") == 1 and "03_supply_gaps ok (" in log


def test_a_snapshot_read_ahead_is_taken_once_and_only_for_the_same_snapshot(company, tmp_path, monkeypatch):
    from soe_lib.run import week as week_module
    from soe_lib.run.week import prefetch_snapshot

    folder = open_week(str(company), out_dir=tmp_path / "w").out_dir
    reads = []
    real = week_module.read_snapshot
    monkeypatch.setattr(week_module, "read_snapshot", lambda f: reads.append(f) or real(f))
    prefetch_snapshot(folder / "inputs")
    assert len(reads) == 1
    first = open_week(out_dir=folder)  # the notebook's open_week takes what was read ahead
    assert len(reads) == 1 and len(first.data.series()) == 36
    open_week(out_dir=folder)  # taken once: the next reads from disk
    assert len(reads) == 2
    prefetch_snapshot(folder / "inputs")
    meta = json.loads((folder / "inputs" / "snapshot.json").read_text())
    (folder / "inputs" / "snapshot.json").write_text(json.dumps({**meta, "key": "another snapshot"}))
    open_week(out_dir=folder)  # not the snapshot that was read ahead: read again
    assert len(reads) == 4


def test_a_company_written_in_parts_is_one_consistent_company(tmp_path):
    planted = write_sample_parts(tmp_path / "big", skus=60, locations=3, seed=3, parts=3)
    assert planted["skus"] == 60 and planted["parts"] == 3
    for name in SERIES_TABLES:
        assert len(parquet_parts(tmp_path / "big" / name)) == 3, name
    data = load_data(tmp_path / "big")  # the folders of parts are read as one table each
    assert data.report.errors == [] and data.sources["actuals"].label == "actuals/"
    assert data.products["sku"].is_unique and len(data.products) == 60
    assert set(data.actuals["sku"].astype(str)) <= set(data.products["sku"])
    assert data.supply["order_id"].is_unique  # each block's order ids carry its number
    assert len(data.series()) == 60 * 3
    # the shared tables are the blocks' sums: every block cut LINE-2 in weeks +2..+4, so the sum still does
    cap = data.capacity.pivot(index="week", columns="resource", values="available_hours")
    assert (cap["LINE-2"].iloc[2:5] < cap["LINE-2"].iloc[0]).all()
    products = pd.read_parquet(tmp_path / "big" / "products.parquet")
    assert planted["demand_spike"]["sku"] in set(products["sku"])


def test_a_folder_of_parts_reads_as_its_concatenation_and_a_changed_part_changes_the_hash(tmp_path):
    from soe_lib.io import file_sha256

    write_sample(tmp_path / "one", skus=12, locations=2, seed=5, fmt="parquet")
    whole = pd.read_parquet(tmp_path / "one" / "actuals.parquet")
    split = tmp_path / "split"
    shutil.copytree(tmp_path / "one", split)
    (split / "actuals.parquet").unlink()
    (split / "actuals").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(whole)), 3)):
        whole.iloc[rows].to_parquet(split / "actuals" / f"part-{i:05d}.parquet", index=False)
    a, b = load_data(tmp_path / "one"), load_data(split)
    pd.testing.assert_frame_equal(a.actuals, b.actuals)
    before = file_sha256(split / "actuals")
    whole.iloc[:5].to_parquet(split / "actuals" / "part-00001.parquet", index=False)
    assert file_sha256(split / "actuals") != before
    (split / "actuals" / "part-00001.parquet").write_bytes(b"not parquet")  # a damaged part: named, never a crash
    result = run_week(split, out=tmp_path / "out")
    assert result.exit_code != 0 and "actuals" in result.message


def _by_key(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.assign(sku=frame["sku"].astype(str), location=frame["location"].astype(str))
    return out.sort_values([c for c in ("sku", "location", "week") if c in out]).reset_index(drop=True)


def test_validated_in_parts_the_company_is_the_one_validated_whole(tmp_path):
    write_sample_parts(tmp_path / "big", skus=80, locations=3, seed=11, parts=4)
    whole = load_data(tmp_path / "big")
    split = load_data(tmp_path / "big", parts=local_parts(tmp_path / "typed"))
    assert set(split.stored) == {"actuals", "demand_plan", "open_orders", "supply", "inventory"} and not split.tables.held("actuals")
    assert len(parquet_parts(tmp_path / "typed" / "actuals.parquet")) == 4
    for name in ("actuals", "demand_plan", "open_orders", "inventory"):
        pd.testing.assert_frame_equal(_by_key(split.tables[name]), _by_key(whole.tables[name]), check_categorical=False)
        assert split.profiles[name]["rows"] == len(whole.tables[name])
    # supply in its rows' order (its lines are numbered by position): the parts one after the other
    pd.testing.assert_frame_equal(split.supply.astype({"sku": "str", "location": "str"}),
                                  whole.supply.astype({"sku": "str", "location": "str"}), check_categorical=False)
    assert split.week == whole.week
    pd.testing.assert_frame_equal(split.series(), whole.series())
    assert [p.message for p in split.report.problems] == [p.message for p in whole.report.problems]
    from soe_lib.health.step import data_health

    a, b = data_health(split), data_health(whole)  # the profile and the facts say what the rows say
    pd.testing.assert_frame_equal(a.loaded, b.loaded)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)


def test_a_bad_row_in_a_part_names_the_part_and_its_row(tmp_path):
    write_sample_parts(tmp_path / "big", skus=60, locations=2, seed=2, parts=3)
    part = tmp_path / "big" / "actuals" / "part-00001.parquet"
    frame = pd.read_parquet(part)
    frame.loc[4, "qty"] = -3
    frame.to_parquet(part, index=False)
    with pytest.raises(ValidationError) as caught:
        load_data(tmp_path / "big", parts=local_parts(tmp_path / "typed"))
    bad = [p for p in caught.value.report.errors if p.column == "qty"]
    assert len(bad) == 1 and bad[0].file == "actuals/part-00001.parquet" and bad[0].rows == (4 + 2,)


def test_the_processes_a_run_starts_get_one_blas_thread_unless_the_user_set_one(monkeypatch):
    from soe_lib.run.environment import ONE_BLAS_THREAD, run_environment

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the user's own
    with run_environment():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "3"
        seen = subprocess.run([sys.executable, "-c", "import os; print(os.environ['OPENBLAS_NUM_THREADS'])"], capture_output=True, text=True)
        assert seen.stdout.strip() == "1"
    assert "OPENBLAS_NUM_THREADS" not in os.environ and os.environ["OMP_NUM_THREADS"] == "3"
    assert set(ONE_BLAS_THREAD) >= {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}


# a 100 MB array (above glibc's 32 MB, below the run's trim threshold) freed and made again: how many pages the
# second one touched afresh
AGAIN = """
import resource, numpy as np{tune}
a = np.ones(12_500_000); del a{between}
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(12_500_000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _fresh_pages(env: dict[str, str], tune: str = "", between: str = "") -> int:
    env = {**env, "NUMPY_MADVISE_HUGEPAGE": "0"}  # pages of 4 KB, whatever the host's huge-page setting: 24k for 100 MB
    out = subprocess.run([sys.executable, "-c", AGAIN.format(tune=tune, between=between)], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout)


def test_a_runs_processes_reuse_a_freed_arrays_pages_instead_of_faulting_in_new_ones(monkeypatch):
    import soe_lib.run.environment as environment

    for k in environment.HEAP_ALLOCATOR:
        monkeypatch.delenv(k, raising=False)
    plain = dict(os.environ)
    assert _fresh_pages(plain) > 20_000  # glibc's default: a block this size gets fresh pages of its own (mmap)
    tuned = []
    monkeypatch.setattr(environment, "heap_allocator", lambda: tuned.append(True))  # this test's process is left as it is
    with environment.run_environment():
        assert {k: os.environ[k] for k in environment.HEAP_ALLOCATOR} == environment.HEAP_ALLOCATOR and tuned == [True]
        assert _fresh_pages(dict(os.environ)) < 100  # the kernels and workers a run starts: the freed pages serve again
    # the run's own process, started before the variables were set, is set by mallopt
    tune = "\nfrom soe_lib.run.environment import give_back_memory, heap_allocator; assert heap_allocator()"
    assert _fresh_pages(plain, tune) < 100
    # a Dask worker between two tasks: the freed pages go back to the system (not counted against its memory limit)
    assert _fresh_pages(plain, tune, "\nassert give_back_memory()") > 20_000


def test_accuracy_in_blocks_of_series_equals_accuracy_of_all_series_at_once(monkeypatch):
    import soe_lib.core.matrix as matrix
    import soe_lib.sensing.accuracy as accuracy

    rng = np.random.default_rng(8)
    history = rng.poisson(20, (53, 120)).astype(float)
    history[:7, :40] = np.nan  # series that started late
    plan = history + rng.normal(0, 4, history.shape)
    whole = accuracy.series_accuracy(history, plan, 13)
    monkeypatch.setattr(matrix, "BLOCK_ROWS", 10)
    blocks = accuracy.series_accuracy(history, plan, 13)
    assert len(blocks) == 53 and len(matrix.row_blocks(53)) == 6 and whole["mase"].notna().all()
    pd.testing.assert_frame_equal(blocks, whole)


def test_the_exceptions_come_in_one_order_whichever_part_found_them(company, tmp_path):
    from soe_lib.sensing.exceptions import order_exceptions

    week = open_week(str(company), out_dir=tmp_path / "w").step("sensing")
    found = week.exceptions
    assert len(found) > 5 and found["kind"].nunique() >= 3
    for seed in (1, 2, 3):  # as if found by parts in any order
        shuffled = found.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(order_exceptions(shuffled), found)
    tied = found.head(3).assign(value=0.0, severity="low")  # equal on severity and value: kind, SKU, location, week decide
    assert order_exceptions(tied.iloc[::-1].reset_index(drop=True))["sku"].tolist() == order_exceptions(tied)["sku"].tolist()
