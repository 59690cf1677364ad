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
4. ``finish``: the choice, the bands, the backtest per series; the client stacks the parts in series
   order. Accuracy, roll-ups and exceptions follow in the step as in-process.

The pooled decisions are computed from sums and value sets that do not depend on how the series are
split, so the tables equal the in-process run's (tested on a ``LocalCluster`` of 2 processes).
Without ``scheduler`` a ``LocalCluster`` of 2 worker processes (1 thread each) is started on 127.0.0.1,
without a dashboard, each worker limited to ``memory_limit`` (it spills to disk beyond 60 %).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..io.loading import PartRunner
from ..io.snapshot import read_snapshot
from ..sensing.engine import (
    Prepared,
    Sensing,
    band_errors_of,
    concat_sensing,
    decide_pools,
    decide_quantiles,
    finish,
    pool_stats_of,
    prepare,
)
from ..sensing.params import SensingParams

__all__ = ["dask_client", "parts_on_cluster", "sense_on_cluster", "series_ranges"]


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
    per part, one task each; what every task shares, the known SKUs and locations, sent to every worker
    once), the typed parts written to ``folder`` (storage the workers and this process share)."""

    def run(fn: Any, calls: list[tuple], common: dict[str, Any]) -> list[Any]:
        shared = {k: client.scatter([v], broadcast=True)[0] if k == "known" else v for k, v in common.items()}
        return client.gather(client.map(fn, *zip(*calls, strict=True), **shared, pure=False)) if calls else []

    return PartRunner(run, Path(folder))


def _prepare_part(snapshot: str, first: int, stop: int, params: SensingParams, horizon_weeks: int) -> Prepared:
    return prepare(read_snapshot(snapshot, (first, stop)), params, horizon_weeks)


def sense_on_cluster(client: Any, data: Dataset, snapshot: str | Path, params: SensingParams, horizon_weeks: int,
                     partitions: int) -> Sensing:
    """:func:`soe_lib.sensing.sense` of every series of ``data``, run on the cluster of ``client`` in
    ``partitions`` parts read from the run's ``snapshot`` (see the module doc)."""
    ranges = series_ranges(data.series()["_series"].to_numpy(), partitions)
    preps = [client.submit(_prepare_part, str(snapshot), a, b, params, horizon_weeks, pure=False) for a, b in ranges]
    pools = decide_pools(client.gather([client.submit(pool_stats_of, f) for f in preps]))
    quantiles = decide_quantiles(client.gather([client.submit(band_errors_of, f, pools) for f in preps]))
    parts = client.gather([client.submit(finish, f, pools, quantiles) for f in preps])
    del preps  # the workers free the prepared parts
    return concat_sensing(parts)
