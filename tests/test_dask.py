"""Scale-out on a local Dask cluster: sensing in parts on two worker processes, and whole `soe run`s on the Dask
engine, give the in-process tables (apart from tests/test_scale.py so that the two test processes share the load)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.matrix import RowsOnDemand
from soe_lib.io.sources import parquet_parts
from soe_lib.run import open_week, run_week
from soe_lib.run.distributed import OnDask, dask_client, run_in_parts
from soe_lib.run.environment import HEAP_ALLOCATOR
from soe_lib.run.steps import STEPS
from soe_lib.sample import write_sample, write_sample_parts
from soe_lib.sensing import SENSING, SensingParams
from soe_lib.sensing.engine import MATRICES, ROW_MATRICES, sense

from .golden import differences, week_digest


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask") / "data"
    write_sample(folder, skus=12)
    return folder


@pytest.mark.slow
def test_sensing_on_a_local_cluster_of_two_processes_equals_in_process(company, tmp_path):
    run = open_week(str(company), out_dir=tmp_path / "w")
    params = SensingParams()
    here = sense(run.data, params, 13)
    with dask_client(None, workers=2, memory_limit="1GB") as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
        there = run_in_parts(SENSING, run, OnDask(client), 5).sensing
        done = client.run(lambda dask_worker: len(dask_worker.state.tasks) + dask_worker.state.executed_count)
        # the workers allocate from the heap as the run's processes do (Dask's default would trim at 64 KB)
        seen = client.run(lambda: (os.environ.get("MALLOC_MMAP_MAX_"), os.environ.get("MALLOC_TRIM_THRESHOLD_")))
        assert set(seen.values()) == {(HEAP_ALLOCATOR["MALLOC_MMAP_MAX_"], HEAP_ALLOCATOR["MALLOC_TRIM_THRESHOLD_"])}
        # not held: written to the run's folder by the first round and read back (what a cluster smaller than the
        # prepared state does), the files gone at the end
        again = run_in_parts(SENSING, run, OnDask(client, hold=False), 4).sensing
        assert not (run.out_dir / ".spill").exists()
    assert len(done) == 2 and all(n > 0 for n in done.values())  # both processes did part of the work
    # the parts' matrices stayed on the workers: a series read is sensed again alone (the same row)
    assert isinstance(there.actual, RowsOnDemand) and isinstance(there.sensed, RowsOnDemand)
    assert not list(run.out_dir.glob(".sensing-*"))
    for result in (there, again):
        pd.testing.assert_frame_equal(result.series, here.series)
        for name in MATRICES:
            if name in ROW_MATRICES:
                for i in range(len(here.series)):
                    np.testing.assert_allclose(getattr(result, name)[i], getattr(here, name)[i], rtol=1e-12, atol=1e-12, err_msg=f"{name} {i}")
            else:
                np.testing.assert_allclose(getattr(result, name), getattr(here, name), rtol=1e-12, atol=1e-12, err_msg=name)
        pd.testing.assert_frame_equal(result.backtest, here.backtest)


@pytest.mark.slow
def test_the_dask_engine_writes_every_table_as_the_in_process_run(company, tmp_path):
    local = open_week(str(company), out_dir=tmp_path / "local")
    on_dask = open_week(str(company), out_dir=tmp_path / "dask", engine="dask", partitions=3)
    assert on_dask.params["engine"] == "dask" and local.params["engine"] == "local"
    for run in (local, on_dask):
        for step in STEPS:
            run.step(step.name)
    a, b = week_digest(local.out_dir), week_digest(on_dask.out_dir)
    assert len(a["tables"]) >= 30 and differences(a, b) == []


@pytest.mark.slow
def test_soe_run_on_dask_validates_the_parts_on_the_cluster_and_writes_the_in_process_tables(tmp_path):
    write_sample_parts(tmp_path / "big", skus=60, locations=2, seed=4, parts=3)
    # the same week in process, by the calls the notebooks make (a local `soe run` writes the same tables:
    # tests/test_outputs.py), and by `soe run` on the Dask engine
    local = open_week(str(tmp_path / "big"), out_dir=tmp_path / "local")
    for step in STEPS:
        local.step(step.name)
    on_dask = run_week(tmp_path / "big", out=tmp_path / "dask", overrides={"engine": "dask", "partitions": 3})
    assert on_dask.exit_code == 0, on_dask.message
    snapshot = on_dask.folder / "inputs"
    assert len(parquet_parts(snapshot / "actuals.parquet")) == 3  # the typed parts, written by the workers
    assert not list((tmp_path / "dask" / ".staging").glob(".parts-*"))
    a, b = week_digest(local.out_dir), week_digest(on_dask.folder)
    assert len(a["tables"]) >= 30 and differences(a, b) == [] and differences(b, a) == []
