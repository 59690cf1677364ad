"""Steps in parts: on a Dask cluster (``soe run --engine dask``) or one part after another in this process.

``soe run --engine dask [--scheduler ADDRESS] [--partitions N]`` (run parameters ``engine``, ``scheduler``,
``partitions``; the notebooks are the same for both engines). Any step with a partitioned form (the step
protocol, :mod:`soe_lib.core.step`) runs here the same way, whatever it computes:

1. the step cuts the run's series keys into ranges (``split``); each part reads its rows of the run's snapshot
   and of the earlier steps' tables (Parquet row filters, through :class:`soe_lib.io.RunFiles`: a local folder,
   or any fsspec URL the workers can read) and prepares its state (``prepare``);
2. each round runs ``work(state, carried)`` per part on the workers, the results fetched as each finishes and
   released on its worker, and ``gather`` makes the next round's value on the client;
3. ``combine`` makes the step's result here.

This module knows nothing of what a step does: the client, the parts, streaming results, and the **memory
policy**: a part's prepared state is held in worker memory between rounds when all parts' states take at most
half of the workers' memory (the step says how much per series); else, when the run's folder has room for them,
each part's state is written to a file there by its first round and read back by the next (at 1M, sensing's
state is about 9 KB per series: reading 25k series' state back takes 0.2 s where preparing them again takes
1.8 s; Dask's own spilling of the held states moved 18 GB through the workers' memory limits and took over 25
minutes); else each round prepares its part again (more work, but a worker holds one part at a time).

Without ``scheduler`` a ``LocalCluster`` of 2 worker processes (1 thread each) is started on 127.0.0.1, without
a dashboard, each worker limited to ``memory_limit`` (it spills to disk beyond 60 %). :class:`InProcess` runs the
same parts in this process, one after the other: the conformance tests prove a step's parts give its whole result.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ..core.step import Part, Step, StepContext
from ..io.loading import PartRunner
from ..io.results import RunFiles, clear_table
from .environment import RUN_ENVIRONMENT, give_back_memory

SPILL_FOLDER = ".spill"  # in the run's folder: parts' prepared states between rounds (removed when the step ends)

__all__ = ["InProcess", "OnDask", "dask_client", "on_cluster", "parts_on_cluster", "run_in_parts"]


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, memory_limit: str = "3GB") -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a ``LocalCluster`` of ``workers`` processes on
    127.0.0.1 (closed on exit)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # the workers start with the run's environment (Dask's own default gives memory back at 64 KB); set before
    # they spawn, as C libraries read it when a process starts
    spawn = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **{k: os.environ.get(k, v) for k, v in RUN_ENVIRONMENT.items()}}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                         memory_limit=memory_limit) as cluster, Client(cluster) as client:
        yield client


def on_cluster(step: Step, ctx: StepContext, scheduler: str | None, partitions: int) -> Any:
    """``step``'s result for ``ctx``, its parts run on the cluster at ``scheduler`` (or a local one)."""
    with dask_client(scheduler) as client:
        return run_in_parts(step, ctx, OnDask(client), partitions)


def run_in_parts(step: Step, ctx: StepContext, executor: InProcess | OnDask, partitions: int,
                 ranges: list[tuple[int, int]] | None = None) -> Any:
    """``step``'s result for ``ctx`` from its partitioned form, its parts run by ``executor`` (see the module doc);
    ``ranges``: the parts' ranges of series keys (default: the step's own split into about ``partitions``)."""
    for name in step.inputs:  # the earlier steps' tables on disk before any part reads them
        ctx.table_file(name)
    for name in step.written_in_parts:  # its parts write these: no earlier form of them may stay beside the new parts
        clear_table(Path(ctx.out_dir) / "tables", name)
    ranges = step.split(ctx, partitions, executor.workers) if ranges is None else ranges
    form = step.in_parts(ctx, ranges)
    if form is None:
        return step.run(ctx)
    folder = Path(ctx.out_dir)
    parts = [Part(i, a, b, str(folder / "inputs"), str(folder / "tables")) for i, (a, b) in enumerate(ranges)]
    nbytes = len(ctx.data.series()) * form.bytes_per_series
    held = executor.prepare(form.prepare, parts) if executor.can_hold(nbytes) else None
    spill = folder / SPILL_FOLDER / step.name if held is None and len(form.rounds) > 1 and executor.can_spill(nbytes, folder) else None
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
    carried = None
    try:
        for k, rnd in enumerate(form.rounds):
            if held is not None:
                calls = [(rnd.work, state, carried) for state in held]
            elif spill is not None:
                last = k == len(form.rounds) - 1
                calls = [(_spilled_work, form.prepare, rnd.work, part, carried, str(spill / f"part-{part.index:05d}.pickle"), k == 0, last)
                         for part in parts]
            else:
                calls = [(_prepared_work, form.prepare, rnd.work, part, carried) for part in parts]
            carried = rnd.gather(executor.each(calls), carried)
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
            with contextlib.suppress(OSError):  # and the folder of spills, unless another step's are there
                spill.parent.rmdir()
    del held  # the workers free the prepared parts
    return form.combine(carried)


def _prepare(prepare: Callable[..., Any], part: Part) -> Any:
    """A part's state, read on the worker through the run's files."""
    return prepare(part, RunFiles(part))


def _prepared_work(prepare: Callable[..., Any], work: Callable[[Any, Any], Any], part: Part, carried: Any) -> Any:
    return work(_prepare(prepare, part), carried)


def _spilled_work(prepare: Callable[..., Any], work: Callable[[Any, Any], Any], part: Part, carried: Any, path: str,
                  first: bool, last: bool) -> Any:
    """A round's work on a part whose state the first round prepares and writes to ``path``, and the later
    rounds read back (the last one removes the file)."""
    import cloudpickle  # Dask's own

    file = Path(path)
    if first:
        state = _prepare(prepare, part)
        with open(file, "wb") as f:  # cloudpickle: a state may hold a lazy reader (a closure) of the snapshot
            cloudpickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        with open(file, "rb") as f:
            state = pickle.load(f)  # noqa: S301 - the file this run's own first round wrote a moment ago
    if last:
        file.unlink(missing_ok=True)
    return work(state, carried)


def _disk_room(nbytes: int, folder: Path) -> bool:
    """The run's folder has room for ``nbytes`` (the states' memory: on disk they take less, sensing's 16 of 40 KB
    per series, and the rest is room for the run's tables)."""
    try:
        return shutil.disk_usage(folder).free >= nbytes
    except OSError:
        return False


class InProcess:
    """Parts run one after the other in this process (``hold``: each part's state kept between rounds; else
    written to the run's folder and read back when ``spill``, else prepared again each round)."""

    workers = 1

    def __init__(self, hold: bool = True, spill: bool = False) -> None:
        self.hold, self.spill = hold, spill

    def can_hold(self, nbytes: int) -> bool:
        return self.hold

    def can_spill(self, nbytes: int, folder: Path) -> bool:
        return self.spill and _disk_room(nbytes, folder)

    def prepare(self, prepare: Callable[..., Any], parts: list[Part]) -> list[Any]:
        return [_prepare(prepare, part) for part in parts]

    def each(self, calls: list[tuple]) -> Iterator[tuple[int, Any]]:
        for i, (fn, *args) in enumerate(calls):
            yield i, fn(*args)


class OnDask:
    """Parts run on the cluster of ``client``; ``hold`` and ``spill`` (default: the memory policy of the module doc)."""

    def __init__(self, client: Any, hold: bool | None = None, spill: bool = True) -> None:
        self.client, self.hold, self.spill = client, hold, spill
        self.workers = max(1, len(client.scheduler_info()["workers"]))

    def can_spill(self, nbytes: int, folder: Path) -> bool:
        return self.spill and _disk_room(nbytes, folder)

    def can_hold(self, nbytes: int) -> bool:
        if self.hold is not None:
            return self.hold
        memory = int(sum(w.get("memory_limit") or 0 for w in self.client.scheduler_info()["workers"].values()))
        return nbytes <= 0.5 * memory

    def prepare(self, prepare: Callable[..., Any], parts: list[Part]) -> list[Any]:
        """Futures of the parts' states, held on the workers (a round's work is given the future: it runs where
        the state is)."""
        return [self.client.submit(_then_give_back, _prepare, prepare, part, pure=False) for part in parts]

    def each(self, calls: list[tuple]) -> Iterator[tuple[int, Any]]:
        """``fn(*args)`` of every call on the cluster, ``(call index, result)`` as each finishes, each result then
        released on its worker: gathering them all at the end would keep every part's result in worker memory
        until the last is done (at 1M, more than a 3 GB worker holds)."""
        from distributed import as_completed

        futures = [self.client.submit(_then_give_back, fn, *args, pure=False) for fn, *args in calls]
        order = {f.key: i for i, f in enumerate(futures)}
        pending = as_completed(futures, with_results=True)
        del futures  # only as_completed holds them now: each is released once fetched
        for future, result in pending:
            i = order[future.key]
            del future
            yield i, result
            del result


def _then_give_back(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a worker, then the pages its temporaries freed handed back (:func:`give_back_memory`)."""
    try:
        return fn(*args)
    finally:
        give_back_memory()


def parts_on_cluster(client: Any, folder: Path) -> PartRunner:
    """Validation of the parts of the large input tables on the cluster (:func:`soe_lib.io.parts.validate_part`
    per part, one task each, results fetched as they finish), the typed parts written to ``folder``
    (storage the workers and this process share). What every task shares (the known SKUs and
    locations, ~10 MB at 1M) travels with each task: replicating it from worker to worker
    (``scatter(broadcast=True)``) hung on this machine."""

    def run(fn: Any, calls: list[tuple], common: dict[str, Any]) -> list[Any]:
        done = dict(OnDask(client).each([(partial(fn, **common), *call) for call in calls]))
        return [done[i] for i in range(len(done))]

    return PartRunner(run, Path(folder))
