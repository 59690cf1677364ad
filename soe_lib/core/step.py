"""The step protocol: what every step of the weekly cycle is, computed whole in one process or in parts.

A step (data health, sensing, supply, finance, the loop, and the steps to come) is one :class:`Step`,
declared in its own package next to its engine:

- **what it is**: ``name``, its ``notebook``, a ``title``, the parameter declarations it reads (``groups``),
  the tables of earlier steps it reads (``inputs``) and the snapshot tables and columns its kernel may read
  ahead (``reads``: ``{table: columns or None for all}``); its result tables are those the output contract
  (:mod:`soe_lib.core.outputs`) gives to its name.
- **in process**: ``run(ctx) -> result`` (a result has ``tables()`` and may have ``documents()``).
- **in parts** (a step whose work is per series): ``split(ctx, partitions, workers)`` cuts the run's series
  keys into ranges; ``in_parts(ctx, ranges)`` gives the part's ``prepare`` (what a worker reads, through a
  :class:`PartReader`, and builds for its range: :class:`Part` says where), the :class:`Round` s (each: ``work(state, carried)`` per part on a worker,
  then ``gather`` on the client, whose value the next round's work receives: the pooled decisions of sensing,
  the summed hours of supply), and ``combine`` (the step's result from the last round's value).

The run layer runs any step either way (:func:`soe_lib.run.compute_step`): whole, or on a Dask cluster, or in
parts in this process (the conformance tests); it knows nothing of what a step does. A step without a
partitioned form (``in_parts`` returns None) runs whole on the client.

Series ranges: ``series_ranges`` cuts the sorted keys into about equal ranges; ``sku_ranges`` moves each cut
to where a SKU begins (a part holds every location of its SKUs); ``light_parts`` is the number of parts for a
step whose parts are light (one per ``SERIES_PER_LIGHT_PART`` series, at least one per worker).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from .dataset import Dataset
from .outputs import tables_of_step

__all__ = ["InParts", "Part", "PartReader", "Round", "Step", "StepContext", "TablesWhenUsed", "in_order", "light_parts", "series_ranges", "sku_ranges"]


class StepContext(Protocol):
    """What a step computes from (:class:`soe_lib.run.WeekRun` is one): the snapshot, the run's parameters,
    the tables of earlier steps, the decision log's actions, and the archive of earlier weeks."""

    data: Dataset
    out_dir: Path  # the run folder (its snapshot is in inputs/, its tables in tables/)
    params: dict[str, Any]

    @property
    def horizon_weeks(self) -> int: ...

    def group(self, cls: type) -> Any: ...

    def table(self, name: str, columns: list[str] | None = None, filters: list[tuple] | None = None) -> pd.DataFrame: ...

    def rows(self, name: str, series: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame: ...

    def table_file(self, name: str) -> Path: ...

    def snapshot_rows(self, first: int, stop: int) -> Dataset:
        """The snapshot's SKU-locations of the series keys ``[first, stop)`` only (the small tables whole)."""
        ...

    def open_actions(self) -> pd.DataFrame: ...

    def actions(self) -> pd.DataFrame: ...

    def archive(self) -> list[Any]: ...


@dataclass(frozen=True)
class Part:
    """One part of a run's series: the keys ``[first, stop)`` of the snapshot's series (``_series``), and
    where a worker reads its rows (the run's snapshot and tables folders, storage every process shares)."""

    index: int
    first: int
    stop: int
    snapshot: str
    tables: str

    def state(self, reader: PartReader) -> tuple[Part, PartReader, Dataset]:
        """The part, its reader and its rows of the snapshot: the prepared state of a step that reads only those
        (``InParts(prepare=Part.state, ...)``)."""
        return self, reader, reader.snapshot()

    def rows_of(self, reader: PartReader, table: str, rows: int) -> np.ndarray:
        """Positions in the whole snapshot table ``table`` (``rows`` rows in the part) of the part's rows: its rows come
        in the whole table's order, so a line keeps the number the whole run gives it."""
        if not rows:
            return np.zeros(0, dtype=np.int64)
        keys = reader.snapshot_column(table, "_series")
        return np.flatnonzero((keys >= self.first) & (keys < self.stop))


class PartReader(Protocol):
    """What a part reads on its worker (the run layer gives one, over the run's files): its rows of the
    snapshot, and its rows of result tables of earlier steps."""

    def snapshot(self) -> Dataset:
        """The part's SKU-locations of the run's validated snapshot (the small tables whole)."""
        ...

    def snapshot_column(self, table: str, column: str) -> np.ndarray:
        """One column of a whole snapshot table, in its order (e.g. every supply line's series key)."""
        ...

    def rows(self, table: str, series: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        """The rows of result table ``table`` of the SKU-locations ``series`` (``columns``: only those)."""
        ...

    def table(self, table: str) -> pd.DataFrame:
        """A (small) result table of an earlier step, whole."""
        ...

    def write(self, table: str, frame: pd.DataFrame) -> None:
        """The part's rows of a large result table of its own step, written where it computed them: one part of
        the table's dataset (``tables/<table>/part-<index>.parquet``), read back with the others as one table."""
        ...


@dataclass(frozen=True)
class Round:
    """One round of a step in parts: ``work(state, carried)`` on each part's prepared state (on a worker),
    then ``gather(results, carried)`` on the client, ``results`` an iterable of ``(part index, result)`` as
    they arrive (:func:`in_order` puts them in order) and ``carried`` what the round's work was given; its
    value is the next round's ``carried`` (the first round's work is given None)."""

    work: Callable[[Any, Any], Any]
    gather: Callable[[Iterable[tuple[int, Any]], Any], Any]


@dataclass(frozen=True)
class InParts:
    """A step's partitioned form for one run (what :meth:`Step.in_parts` gives)."""

    prepare: Callable[[Part, PartReader], Any]  # a part's state on a worker: its rows read, what every round reuses
    rounds: tuple[Round, ...]
    combine: Callable[[Any], Any]  # the step's result from the last round's value (on the client)
    bytes_per_series: int = 0  # memory of a part's prepared state per series (the run's memory policy reads it)


class Step(ABC):
    """One step of the weekly cycle (see the module doc)."""

    name: ClassVar[str]
    notebook: ClassVar[str]
    title: ClassVar[str]
    groups: ClassVar[tuple[type, ...]] = ()  # parameter declarations it reads (besides the cycle's own)
    inputs: ClassVar[tuple[str, ...]] = ()  # tables of earlier steps it reads
    reads: ClassVar[Mapping[str, tuple[str, ...] | None]] = {}  # snapshot tables (and columns) its kernel reads ahead
    # large result tables its parts write themselves (no process holds them whole); in process it writes them whole
    written_in_parts: ClassVar[tuple[str, ...]] = ()

    @property
    def outputs(self) -> list[str]:
        """The result tables the output contract gives to this step."""
        return tables_of_step(self.name)

    @property
    def partitioned(self) -> bool:
        """Whether the step has a partitioned form (it overrides :meth:`in_parts`)."""
        return type(self).in_parts is not Step.in_parts

    @abstractmethod
    def run(self, ctx: StepContext) -> Any:
        """The step's result for the run week, every series at once in this process."""

    def split(self, ctx: StepContext, partitions: int, workers: int) -> list[tuple[int, int]]:
        """Ranges ``[first, stop)`` of the series keys, one per part (default: ``partitions`` about equal ones)."""
        return series_ranges(ctx.data.series()["_series"].to_numpy(), partitions)

    def in_parts(self, ctx: StepContext, ranges: list[tuple[int, int]]) -> InParts | None:
        """The partitioned form over the parts ``ranges`` (from :meth:`split`); None: the step runs whole, on the client."""
        return None


class TablesWhenUsed(Mapping):
    """Tables of earlier steps of ``ctx`` by name, each read the first time it is asked for (a step that may not
    need a large table does not read it: the loop's first week reads neither projection nor sensed demand)."""

    def __init__(self, ctx: StepContext, names: tuple[str, ...]) -> None:
        self.ctx, self.names, self.read = ctx, names, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.read:
            self.read[name] = self.ctx.table(name)
        return self.read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def in_order(results: Iterable[tuple[int, Any]]) -> list[Any]:
    """The results of a round in part order."""
    found = dict(results)
    return [found[i] for i in range(len(found))]


def series_ranges(keys: np.ndarray, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` consecutive ranges ``[first, stop)`` of the sorted series keys with about the same
    number of series each (never an empty one)."""
    keys = np.sort(np.asarray(keys))
    if not len(keys):
        return []
    cuts = np.unique(np.linspace(0, len(keys), min(partitions, len(keys)) + 1).astype(int))
    return [(int(keys[a]), int(keys[b - 1]) + 1) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


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


# series per part in the steps whose parts are light (supply, finance: ~1 GB at 100k series): each part reads
# its rows of files whose row groups hold ~1M rows, so parts much smaller read the same groups again and again
# (at 1M series, supply's parts took 130 s in 40 parts and 40 s in 10)
SERIES_PER_LIGHT_PART = 100_000


def light_parts(series: int, partitions: int, workers: int) -> int:
    """Parts of a light step: at most ``partitions``, one per ``SERIES_PER_LIGHT_PART`` series, at least
    one per worker: ``max(1, min(partitions, max(workers, ceil(series / 100k))))``."""
    return max(1, min(partitions, max(workers, -(-series // SERIES_PER_LIGHT_PART))))
