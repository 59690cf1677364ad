"""Scale-out on Dask: sensing's per-series work on a cluster, the pooled decisions on the client.

``soe run --engine dask [--scheduler ADDRESS] [--partitions N]`` (run parameters ``engine``,
``scheduler``, ``partitions``; the notebooks are the same for both engines). The SKU-locations are
split into ``N`` consecutive ranges of the series key; each worker reads its range of the run's
snapshot (Parquet row filters: a local folder, or any fsspec URL the workers can read) and runs
sensing's per-series stages on it, kept in the worker's memory between the rounds:

1. ``prepare``: history, patterns, one-off weeks, seasonality, the smoothing fits, the ten candidates
   and their errors (:func:`soe_lib.sensing.prepare`);
2. the client sums each part's pool statistics and decides every segment's pooled choice;
3. the workers return the scaled errors of the chosen forecasts; the client reads the bands' quantiles;
4. ``finish``: the choice, the bands, the backtest per series, and (for the step) the part's plan
   accuracy, demand exceptions and its groups' weekly errors (:func:`soe_lib.sensing.week_part`); the
   client stacks the parts in series order and makes the roll-ups from their sums.

Supply (:func:`supply_on_cluster`) runs the same way in two rounds: each worker sums the production
hours its part's lines put on each resource and week (:func:`soe_lib.supply.due_load`); the client
adds them up into the ``capacity_load`` table (a resource's hours are what couples series, and its
load is a sum over them); then each worker projects its part against that load, finds its gaps and
their causes, its lines' delays and the stock its locations hold (:func:`soe_lib.supply.supply_part`,
reading its rows of ``sensed_demand`` from the run's tables); the client joins the parts
(:func:`soe_lib.supply.supply_week`: gaps numbered across parts, storage from summed units held).

Finance (:func:`finance_on_cluster`) reads the projection only on the workers, in parts of whole SKUs
(:func:`sku_ranges`: a transfer's source, another location of the gap's SKU, is in the gap's part):
each part gives its family x week sums (plan vs estimate), excess stock rows and the rows of its demand
findings (:func:`soe_lib.finance.projection_part`), and its gaps' money at risk and countermeasure
options (:func:`soe_lib.finance.gap_part`) from its own rows and those of the substitutes at its short
locations, which it reads from the table. The client puts the gaps and options in one order
(:func:`soe_lib.finance.join_gap_parts`), solves the joint plan over all of them (HiGHS: the shared
limits couple gaps of every part) and ranks the decision list.

When the prepared state of all parts would take more than half of the workers' memory (counted as
40 KB per series), each round prepares its part again instead of holding it (three times the
work, one part per worker in memory at a time): spilling tens of GB to disk between rounds is slower.

The pooled decisions are computed from sums and value sets that do not depend on how the series are
split, so the tables equal the in-process run's (tested on a ``LocalCluster`` of 2 processes).
Without ``scheduler`` a ``LocalCluster`` of 2 worker processes (1 thread each) is started on 127.0.0.1,
without a dashboard, each worker limited to ``memory_limit`` (it spills to disk beyond 60 %).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.matrix import keys_in
from ..finance import (
    FinanceParams,
    FinanceWeek,
    GapPart,
    ProjectionPart,
    assess_week,
    gap_part,
    projection_part,
    substitute_pairs,
    week_world,
)
from ..io.loading import PartRunner
from ..io.parts import read_rows
from ..io.results import read_table
from ..io.snapshot import read_snapshot
from ..sensing.engine import (
    Prepared,
    Sensing,
    SensingStack,
    band_errors_of,
    decide_pools,
    decide_quantiles,
    finish,
    pool_stats_of,
    prepare,
)
from ..sensing.params import ExceptionParams, SensingParams
from ..sensing.step import SensingWeek, WeekPart, sense_week, week_part
from ..supply import SupplyParams, SupplyPart, SupplyWeek, capacity_load, due_load, horizon, supply_part, supply_week

__all__ = ["dask_client", "finance_on_cluster", "parts_on_cluster", "sense_on_cluster", "sense_week_on_cluster", "series_ranges",
           "sku_ranges", "step_partitions", "supply_on_cluster"]


def series_ranges(keys: np.ndarray, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` consecutive ranges ``[first, stop)`` of the sorted series keys with about the same
    number of series each (never an empty one)."""
    keys = np.sort(np.asarray(keys))
    if not len(keys):
        return []
    cuts = np.unique(np.linspace(0, len(keys), min(partitions, len(keys)) + 1).astype(int))
    return [(int(keys[a]), int(keys[b - 1]) + 1) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, memory_limit: str = "3GB") -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a ``LocalCluster`` of ``workers`` processes on
    127.0.0.1 (closed on exit)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      memory_limit=memory_limit) as cluster, Client(cluster) as client:
        yield client


def parts_on_cluster(client: Any, folder: Path) -> PartRunner:
    """Validation of the parts of the large input tables on the cluster (:func:`soe_lib.io.parts.validate_part`
    per part, one task each, results fetched as they finish), the typed parts written to ``folder``
    (storage the workers and this process share). What every task shares (the known SKUs and
    locations, ~10 MB at 1M) travels with each task: replicating it from worker to worker
    (``scatter(broadcast=True)``) hung on this machine."""

    def run(fn: Any, calls: list[tuple], common: dict[str, Any]) -> list[Any]:
        return _each(client, [(partial(fn, **common), *call) for call in calls])

    return PartRunner(run, Path(folder))


def _prepare_part(snapshot: str, first: int, stop: int, params: SensingParams, horizon_weeks: int) -> Prepared:
    return prepare(read_snapshot(snapshot, (first, stop)), params, horizon_weeks)


def _stats_part(*args: Any) -> dict[str, dict]:
    return pool_stats_of(_prepare_part(*args))


def _bands_part(pools: dict, *args: Any) -> dict:
    return band_errors_of(_prepare_part(*args), pools)


def _finish_part(pools: dict, quantiles: dict, week: ExceptionParams | None, *args: Any) -> tuple[Sensing, WeekPart | None]:
    return _finish_held(_prepare_part(*args), pools, quantiles, week)


def _finish_held(prep: Prepared, pools: dict, quantiles: dict, week: ExceptionParams | None) -> tuple[Sensing, WeekPart | None]:
    """The part's sensing and, with ``week`` (the exception parameters), its accuracy and exceptions."""
    sensing = finish(prep, pools, quantiles)
    return sensing, None if week is None else week_part(sensing, prep.p, week)


# Prepared state per series (candidates said 1-4 weeks ahead, errors of both windows, the fits) at 156
# weeks, rounded up: in-process sensing peaks at ~4 GB at 100k; holding the parts of 1M on 2 x 3 GB
# workers spilled 18 GB to disk and took over 25 minutes
PREPARED_BYTES_PER_SERIES = 40_000


def _cluster_memory(client: Any) -> int:
    """Total memory limit of the cluster's workers (0 when unknown: then nothing is held)."""
    return int(sum(w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()))


def sense_on_cluster(client: Any, data: Dataset, snapshot: str | Path, params: SensingParams, horizon_weeks: int,
                     partitions: int, hold: bool | None = None) -> Sensing:
    """:func:`soe_lib.sensing.sense` of every series of ``data``, run on the cluster of ``client`` in
    ``partitions`` parts read from the run's ``snapshot`` (see the module doc).

    ``hold``: keep each part's prepared state in worker memory between the three rounds (fast), or prepare
    each part again in every round (three times the work, but a worker holds one part at a time: a
    cluster smaller than the prepared state never spills it to disk, which is far slower). Default:
    hold when the prepared state takes at most half of the workers' memory."""
    return _on_cluster(client, data, snapshot, params, horizon_weeks, partitions, hold, None)[0]


def sense_week_on_cluster(client: Any, data: Dataset, snapshot: str | Path, params: SensingParams, exception_params: ExceptionParams,
                          horizon_weeks: int, partitions: int, hold: bool | None = None) -> SensingWeek:
    """:func:`soe_lib.sensing.sense_week` with sensing, plan accuracy and the demand exceptions of each part
    made on the cluster (as :func:`sense_on_cluster`); the roll-ups from the parts' sums here."""
    sensing, parts = _on_cluster(client, data, snapshot, params, horizon_weeks, partitions, hold, exception_params)
    return sense_week(data, params, exception_params, horizon_weeks, sensing, parts)


def _on_cluster(client: Any, data: Dataset, snapshot: str | Path, params: SensingParams, horizon_weeks: int, partitions: int,
                hold: bool | None, week: ExceptionParams | None) -> tuple[Sensing, list[WeekPart] | None]:
    series = data.series()["_series"].to_numpy()
    ranges = series_ranges(series, partitions)
    if hold is None:
        hold = len(series) * PREPARED_BYTES_PER_SERIES <= 0.5 * _cluster_memory(client)
    args = [(str(snapshot), a, b, params, horizon_weeks) for a, b in ranges]
    # each part copied into the result as it arrives, then dropped; the history matrices written to the
    # run's folder and mapped, not held: here they are only read a series at a time (charts, deep dive)
    stack = SensingStack(_sizes(series, ranges), spill=_spill_folder(snapshot))
    parts: list[WeekPart | None] = [None] * len(ranges)

    def take(i: int, result: tuple[Sensing, WeekPart | None]) -> None:
        stack.put(i, result[0])
        parts[i] = result[1]

    if not hold:
        pools = decide_pools(_each(client, [(_stats_part, *a) for a in args]))
        quantiles = decide_quantiles(_each(client, [(_bands_part, pools, *a) for a in args]))
        _each(client, [(_finish_part, pools, quantiles, week, *a) for a in args], take)
    else:
        preps = [client.submit(_prepare_part, *a, pure=False) for a in args]
        pools = decide_pools(_each(client, [(pool_stats_of, f) for f in preps]))
        quantiles = decide_quantiles(_each(client, [(band_errors_of, f, pools) for f in preps]))
        _each(client, [(_finish_held, f, pools, quantiles, week) for f in preps], take)
        del preps  # the workers free the prepared parts
    result = stack.result()  # says when a part is missing
    return result, None if week is None else [p for p in parts if p is not None]


# series per part in the steps after sensing (supply, finance): their parts are light (~1 GB at 100k
# series), and each part reads its rows of files whose row groups hold ~1M rows, so parts much smaller
# than that read the same groups again and again (at 1M series, supply's parts took 130 s in 40 parts
# and 40 s in 10)
STEP_SERIES_PER_PART = 100_000


def step_partitions(client: Any, series: int, partitions: int) -> int:
    """Parts for supply and finance: at most ``partitions``, one per ``STEP_SERIES_PER_PART`` series, and
    at least one per worker."""
    workers = max(1, len(client.scheduler_info()["workers"]))
    return max(1, min(partitions, max(workers, -(-series // STEP_SERIES_PER_PART))))


def supply_on_cluster(client: Any, data: Dataset, snapshot: str | Path, tables: str | Path, params: SupplyParams, horizon_weeks: int,
                      partitions: int) -> SupplyWeek:
    """:func:`soe_lib.supply.analyse_supply` of every series of ``data`` with the per-series work on the
    cluster of ``client``, in ``partitions`` parts read from the run's ``snapshot`` and its ``tables``
    folder (``sensed_demand``): see the module doc."""
    weeks = horizon(data.week, horizon_weeks)
    keys = data.series()["_series"].to_numpy()
    # the hours due in one part per worker: each part scans the supply table (kept in its input order, so
    # not sorted by series), and the result is a few rows per resource and week
    workers = max(1, len(client.scheduler_info()["workers"]))
    dues = [d for d in _each(client, [(_due_part, str(snapshot), a, b, weeks) for a, b in series_ranges(keys, workers)]) if len(d)]
    due = pd.concat(dues, ignore_index=True) if dues else due_load(pd.DataFrame(), data.routings, weeks)
    load = capacity_load(None, data.routings, data.capacity, weeks, due=due)
    args = [(str(snapshot), a, b) for a, b in series_ranges(keys, partitions)]
    parts = _each(client, [(_supply_part, *a, str(tables), params, weeks, load) for a in args])
    return supply_week(parts, weeks, load, data.locations)


def _due_part(snapshot: str, first: int, stop: int, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    data = read_snapshot(snapshot, (first, stop))
    return due_load(data.supply, data.routings, weeks)


def _supply_part(snapshot: str, first: int, stop: int, tables: str, params: SupplyParams, weeks: pd.DatetimeIndex, load: pd.DataFrame) -> SupplyPart:
    """The part's supply analysis; its lines numbered by their position in the whole supply table, as
    the in-process run numbers them (the part's rows come in the whole table's order)."""
    data = read_snapshot(snapshot, (first, stop))
    sensed = _rows_of(tables, "sensed_demand", data.series(), ["sku", "location", "week", "sensed_qty", "p10_qty", "p90_qty"])
    keys = read_rows(f"{str(snapshot).rstrip('/')}/supply.parquet", columns=["_series"])["_series"].to_numpy() if len(data.supply) else np.zeros(0, int)
    return supply_part(data, sensed, params, weeks, load, np.flatnonzero((keys >= first) & (keys < stop)))


def finance_on_cluster(client: Any, data: Dataset, snapshot: str | Path, tables: str | Path, upstream: dict[str, pd.DataFrame],
                       params: FinanceParams, open_actions: pd.DataFrame | None, horizon_weeks: int, partitions: int) -> FinanceWeek:
    """:func:`soe_lib.finance.assess_week` with the per-series work on the cluster of ``client``, in
    ``partitions`` parts of whole SKUs (see the module doc); ``upstream``: the step's other input tables."""
    weeks = horizon(data.week, horizon_weeks)
    findings = upstream["demand_exceptions"][["sku", "location"]].astype(str).drop_duplicates()  # the decision list reads their rows
    args = [(str(snapshot), a, b) for a, b in sku_ranges(data.series(), partitions)]
    both = _each(client, [(_finance_part, *a, str(tables), params, weeks, findings) for a in args])
    return assess_week(data, upstream, params, open_actions, [p for p, _ in both], weeks, [g for _, g in both])


def sku_ranges(series: pd.DataFrame, partitions: int) -> list[tuple[int, int]]:
    """As :func:`series_ranges`, each cut moved forward to where a SKU begins: a part holds every location
    of its SKUs (the keys order series by SKU, then location)."""
    order = np.argsort(series["_series"].to_numpy(), kind="stable")
    keys, skus = series["_series"].to_numpy()[order], series["sku"].astype(str).to_numpy()[order]
    if not len(keys):
        return []
    begins = np.flatnonzero(np.r_[True, skus[1:] != skus[:-1]])
    inner = np.linspace(0, len(keys), min(partitions, len(keys)) + 1).astype(int)[1:-1]
    found = np.searchsorted(begins, inner)
    cuts = np.unique(np.r_[0, np.where(found < len(begins), begins[np.minimum(found, len(begins) - 1)], len(keys)), len(keys)])
    return [(int(keys[a]), int(keys[b - 1]) + 1) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


# what the options read of a substitute's projection (World) and money at risk of a gap's
WORLD_COLUMNS = ["sku", "location", "week", "constrained_projected_on_hand", "constrained_shortage_qty", "demand_qty", "weeks_of_supply",
                 "safety_stock", "constrained_receipts_qty", "demand_sd", "plan_demand_qty"]


def _finance_part(snapshot: str, first: int, stop: int, tables: str, params: FinanceParams, weeks: pd.DatetimeIndex,
                  findings: pd.DataFrame) -> tuple[ProjectionPart, GapPart]:
    """The part's sums, excess rows and rows of ``findings`` (:func:`soe_lib.finance.projection_part`), and
    its gaps' money at risk and options (:func:`soe_lib.finance.gap_part`) from its own rows (every
    location of its SKUs) and those of the substitutes at its short locations, read from the table."""
    data = read_snapshot(snapshot, (first, stop))
    series = data.series()
    own = _rows_of(tables, "inventory_projection", series)
    gaps = _rows_of(tables, "supply_gaps", series)
    wanted = substitute_pairs(gaps, data.substitutes)
    wanted = wanted[~keys_in(wanted, series)]  # those of other parts
    projection = pd.concat([own, _rows_of(tables, "inventory_projection", wanted, WORLD_COLUMNS)], ignore_index=True) if len(wanted) else own
    # only the lines' columns the order options read: the file is in supply order, so every part scans it
    lines = _rows_of(tables, "inbound_delays", series, ["line_id", "sku", "location", "order_id", "eta_week", "qty", "kind", "late", "firm"])
    own_world = week_world(data, own, params, weeks)
    world = week_world(data, projection, params, weeks) if len(wanted) else own_world
    return (projection_part(own_world, own, data.products, params, findings),
            gap_part(data, gaps, world, lines, read_table(Path(tables), "capacity_load"), params))


def _rows_of(tables: str, name: str, series: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The rows (``columns``: only those) of result table ``name`` of a part's SKU-locations ``series``:
    read with a Parquet filter on the SKU, then only the part's locations of it (a SKU's other
    locations may be in the next part)."""
    rows = read_table(Path(tables), name, filters=[("sku", "in", series["sku"].astype(str).unique().tolist() or [""])], columns=columns)
    return rows[keys_in(rows, series)].reset_index(drop=True)


def _spill_folder(snapshot: str | Path) -> Path:
    """Where the client writes what it maps instead of holding: beside the run's snapshot when it is a
    local folder (the run's disk), else the temporary folder."""
    import tempfile

    local = str(snapshot).removeprefix("file://")
    return Path(local).parent if "://" not in local and Path(local).parent.is_dir() else Path(tempfile.gettempdir())


def _sizes(series: np.ndarray, ranges: list[tuple[int, int]]) -> list[int]:
    """Series in each range ``[first, stop)`` of the keys."""
    keys = np.sort(series)
    return [int(np.searchsorted(keys, b) - np.searchsorted(keys, a)) for a, b in ranges]


def _each(client: Any, calls: list[tuple], consume: Any = None) -> list[Any]:
    """``fn(*args)`` of every call on the cluster, the results in call order, each fetched as soon as it
    is done and then released on its worker: gathering them all at the end would keep every part's
    result in worker memory until the last is done (at 1M, more than a 3 GB worker holds).
    ``consume(i, result)``: given, each result goes to it as it arrives and none is kept here."""
    from distributed import as_completed

    futures = [client.submit(fn, *args, pure=False) for fn, *args in calls]
    order = {f.key: i for i, f in enumerate(futures)}
    done: dict[int, Any] = {}
    pending = as_completed(futures, with_results=True)
    del futures  # only as_completed holds them now: each is released once fetched
    for future, result in pending:
        if consume is not None:
            consume(order[future.key], result)
        else:
            done[order[future.key]] = result
        del future, result
    return [done[i] for i in range(len(done))]
