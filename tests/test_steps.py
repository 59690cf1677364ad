"""Every step on the step protocol (soe_lib/core/step.py): it declares what it reads, and a step with a
partitioned form gives, in parts, exactly what it gives whole, on a small company cut into parts that separate
what couples series: a transfer's two locations, a substitute and its item, the series of one resource."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soe_lib.core.contract import TABLES
from soe_lib.core.matrix import RowsOnDemand
from soe_lib.core.outputs import OUTPUTS
from soe_lib.core.paths import notebooks_dir
from soe_lib.core.step import Step, series_ranges, sku_ranges
from soe_lib.io.results import read_table, table_path
from soe_lib.run import distributed, open_week
from soe_lib.run.distributed import InProcess, run_in_parts
from soe_lib.run.steps import STEPS
from soe_lib.sample import write_sample
from soe_lib.sensing import SENSING, deep_dive
from soe_lib.sensing.engine import ROW_MATRICES


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """120 SKU-locations of the sample company (transfers, substitutes, shared resources), every step computed
    whole, and the number of parts that cuts a transfer's two locations apart."""
    folder = tmp_path_factory.mktemp("steps") / "data"
    write_sample(folder, skus=40)
    run = open_week(str(folder), out_dir=tmp_path_factory.mktemp("steps-out"))
    whole = {step.name: run.step(step.name) for step in STEPS}
    return run, whole, next(k for k in range(4, 60) if _transfer_cut(run, whole, k))


def _part_of(ranges: list[tuple[int, int]], keys: np.ndarray) -> pd.Series:
    """Each SKU-location's part (by sku, location)."""
    return pd.Series(np.searchsorted([b for _, b in ranges], keys, side="right"), index=keys)


def _parts(run, k: int) -> pd.Series:
    series = run.data.series()
    keys = series["_series"].to_numpy()
    return pd.Series(_part_of(series_ranges(keys, k), keys).to_numpy(), index=pd.MultiIndex.from_frame(series[["sku", "location"]].astype(str)))


def _transfer_cut(run, whole, k: int) -> bool:
    part, options = _parts(run, k), whole["finance"].options
    moves = options[options["feasible"] & (options["action"] == "transfer")]
    return any(part[(s, a)] != part[(s, b)] for s, a, b in zip(moves["sku"].astype(str), moves["location"], moves["source_location"], strict=True))


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
def test_a_step_declares_what_it_reads_and_writes(step):
    assert isinstance(step, Step) and (notebooks_dir() / step.notebook).exists()
    assert step.outputs and all(OUTPUTS[t].step == step.name for t in step.outputs)
    earlier = {t for s in STEPS[: STEPS.index(step)] for t in s.outputs}
    assert set(step.inputs) <= earlier, f"{step.name} reads tables no earlier step writes: {set(step.inputs) - earlier}"
    for table, columns in step.reads.items():
        assert table in TABLES, f"{step.name} reads ahead {table}, not an input table"
        known = {c.name for c in TABLES[table].columns} | {"_series"}
        assert columns is None or set(columns) <= known, f"{step.name}: {table} has no {set(columns) - known}"
    for group in step.groups:
        assert dataclasses.is_dataclass(group) and group.__name__.endswith("Params")


def test_the_parts_separate_what_couples_series(week):
    """The cut the tests below use does split coupled series (else they would prove nothing)."""
    run, whole, k = week
    series = run.data.series()
    keys = series["_series"].to_numpy()
    part, options = _parts(run, k), whole["finance"].options
    assert _transfer_cut(run, whole, k) and k >= 4
    routed = run.data.routings.astype({"sku": str, "location": str})
    per_resource = routed.assign(part=[part[k] for k in zip(routed["sku"], routed["location"], strict=True)]).groupby("resource")["part"].nunique()
    assert (per_resource > 1).any()
    by_sku = dict(zip(series["sku"].astype(str), _part_of(sku_ranges(series, k), keys).to_numpy(), strict=False))
    subs = options[options["feasible"] & (options["action"] == "substitute")]
    assert any(by_sku[a] != by_sku[b] for a, b in zip(subs["sku"].astype(str), subs["substitute_sku"].astype(str), strict=True))


# every partitioned step with its state held; the other two memory modes where they differ from it: a step of more
# than one round (its state kept between rounds: spilled to a file, or prepared again each round)
MULTI_ROUND = ("sensing", "supply")
CASES = [(s, m) for s in STEPS if s.partitioned for m in ("held", "spilled", "prepared-each-round") if m == "held" or s.name in MULTI_ROUND]


@pytest.mark.parametrize(("step", "mode"), CASES, ids=[f"{s.name}-{m}" for s, m in CASES])
def test_a_step_in_parts_gives_its_whole_result(week, step, mode, monkeypatch):
    run, whole, k = week
    seen: list[tuple[bool, bool]] = []  # per spilled call: (its file there after the call, last round)
    spilled_work = distributed._spilled_work

    def watched(*args):
        out = spilled_work(*args)
        seen.append((Path(args[4]).exists(), args[6]))
        return out

    monkeypatch.setattr(distributed, "_spilled_work", watched)
    keys = run.data.series()["_series"].to_numpy()
    # sensing and supply cut anywhere (a transfer's locations apart); finance in parts of whole SKUs (its own
    # split: a transfer's source stays in the gap's part), substitutes across them
    ranges = sku_ranges(run.data.series(), k) if step.name == "finance" else series_ranges(keys, k)
    assert len(ranges) >= k - 1
    parts = run_in_parts(step, run, InProcess(hold=mode == "held", spill=mode == "spilled"), k, ranges=ranges)
    # spilled: every part's state written by the first round, read by the next, removed by the last (and the folder)
    rounds = len(step.in_parts(run, ranges).rounds)
    assert (rounds > 1) == (step.name in MULTI_ROUND)  # the cases above cover every mode where it matters
    assert len(seen) == (len(ranges) * rounds if mode == "spilled" and rounds > 1 else 0)
    assert all(there != last for there, last in seen) and not (run.out_dir / distributed.SPILL_FOLDER).exists()
    written = set(step.written_in_parts)
    assert set(parts.tables()) | written == set(whole[step.name].tables()) and not written & set(parts.tables())
    for name, frame in whole[step.name].tables().items():
        # a large table its parts wrote themselves: read back from the run's folder of parts, in series order
        got = read_table(run.tables_dir, name) if name in written else parts.tables()[name]
        pd.testing.assert_frame_equal(got, frame, check_categorical=False, check_dtype=False, rtol=1e-9, obj=name)
    for name in written:
        assert table_path(run.tables_dir, name).is_dir() and len(list(table_path(run.tables_dir, name).glob("part-*.parquet"))) == len(ranges)


def test_sensing_in_parts_keeps_no_matrices_and_a_series_read_is_sensed_again_as_the_parts_sensed_it(week):
    """The parts send back no matrices (5 GB at 1M); a chart's series is sensed again alone with the run's pooled
    decisions: its rows, its chart and its deep dive equal the whole run's, for a series of every pattern."""
    run, whole, k = week
    keys = run.data.series()["_series"].to_numpy()
    parts = run_in_parts(SENSING, run, InProcess(), k, ranges=series_ranges(keys, k))
    got, want = parts.sensing, whole["sensing"].sensing
    assert all(isinstance(getattr(got, name), RowsOnDemand) for name in ROW_MATRICES)
    np.testing.assert_array_equal(got.coverage_counts, want.coverage_counts)
    pattern = want.series["pattern"].to_numpy()
    rows = [int(np.flatnonzero(pattern == p)[-1]) for p in np.unique(pattern)] + [len(keys) - 1]
    assert len(rows) >= 4  # several segments, each with its own pooled choice
    for i in rows:
        for name in ROW_MATRICES:
            # to the last digits: a series fitted alone sums in another order than in a block of series
            np.testing.assert_allclose(got_row := getattr(got, name)[i], getattr(want, name)[i], rtol=1e-12, err_msg=f"{name} of series {i}")
            assert got_row.shape == getattr(want, name)[i].shape and got_row.dtype == getattr(want, name).dtype
        sku, location = (str(v) for v in want.series.loc[i, ["sku", "location"]])
        pd.testing.assert_frame_equal(parts.series_frame(sku, location), whole["sensing"].series_frame(sku, location))
        pd.testing.assert_frame_equal(deep_dive(parts, sku, location).forecast, deep_dive(whole["sensing"], sku, location).forecast)
    np.testing.assert_array_equal(got.actual[-1, -5:], want.actual[-1, -5:])
    with pytest.raises(TypeError, match="one row at a time"):
        got.actual[:3]


def test_a_step_without_a_partitioned_form_runs_whole(week):
    run, whole, _ = week
    loop = next(s for s in STEPS if s.name == "loop")
    assert not loop.partitioned and loop.in_parts(run, [(0, 10)]) is None
    again = run_in_parts(loop, run, InProcess(), 4)
    for name, frame in whole["loop"].tables().items():
        pd.testing.assert_frame_equal(again.tables()[name], frame, obj=name)
