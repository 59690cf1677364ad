"""The weekly cycle's steps, in order: the one place that knows which step comes after which.

Each :class:`Step` names its notebook, the parameter declarations it reads, the tables of earlier
steps it reads, and the function that computes it from a :class:`StepContext`. Steps
meet only through tables (declared in :mod:`soe_lib.core.outputs`): a step's engine never imports
another step's engine; this module is where they are put in sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ..core.dataset import Dataset
from ..core.outputs import OUTPUTS, tables_of_step
from ..core.params import EngineParams
from ..finance.params import FinanceParams
from ..finance.step import INPUT_TABLES as FINANCE_INPUTS
from ..finance.step import assess_week
from ..io.archive import ArchivedWeek
from ..io.health import data_health
from ..loop.params import LoopParams
from ..loop.step import INPUT_TABLES as LOOP_INPUTS
from ..loop.step import close_loop
from ..sensing.params import ExceptionParams, SensingParams
from ..sensing.step import sense_week
from ..supply.params import SupplyParams
from ..supply.step import analyse_supply

__all__ = ["STEPS", "Step", "StepContext", "producer_of", "step_named", "step_of_notebook"]


class StepContext(Protocol):
    """What a step computes from (:class:`~soe_lib.run.week.WeekRun` is one): the snapshot, the run's
    parameters, the tables of earlier steps, the decision log's actions, and the archive of earlier weeks."""

    data: Dataset
    out_dir: Path  # the run folder (its snapshot is in inputs/)
    params: dict[str, Any]

    @property
    def horizon_weeks(self) -> int: ...

    def group(self, cls: type) -> Any: ...

    def table(self, name: str) -> pd.DataFrame: ...

    def table_file(self, name: str) -> Path: ...

    def open_actions(self) -> pd.DataFrame: ...

    def actions(self) -> pd.DataFrame: ...

    def archive(self) -> list[ArchivedWeek]: ...


@dataclass(frozen=True)
class Step:
    name: str
    notebook: str
    title: str
    groups: tuple[type, ...]  # parameter declarations it reads (besides the cycle's)
    inputs: tuple[str, ...]  # tables of earlier steps it reads
    compute: Callable[[StepContext], Any]  # returns a result with .tables() (and maybe .documents())
    # snapshot tables its kernel reads ahead while the notebook before runs (any other is read when used);
    # "table:col,col" reads only those columns (Dataset.columns)
    reads: tuple[str, ...] = ()

    @property
    def outputs(self) -> list[str]:
        return tables_of_step(self.name)


def _health(run: StepContext) -> Any:
    return data_health(run.data, run.horizon_weeks)


def _on_dask(run: StepContext) -> bool:
    return run.group(EngineParams).engine == "dask"


def _on_cluster(run: StepContext, work: Callable[..., Any], *args: Any, light: bool = False) -> Any:
    """``work(client, *args, partitions)`` on the run's Dask cluster (run/distributed.py); ``light``: a
    step whose parts are lighter than sensing's, in parts of 100k series (``step_partitions``)."""
    from .distributed import dask_client, step_partitions

    engine = run.group(EngineParams)
    with dask_client(engine.scheduler) as client:
        parts = step_partitions(client, len(run.data.series()), engine.partitions) if light else engine.partitions
        return work(client, *args, parts)


def _sensing(run: StepContext) -> Any:
    if _on_dask(run):  # the per-series work on a cluster; the same tables
        from .distributed import sense_week_on_cluster

        return _on_cluster(run, sense_week_on_cluster, run.data, _snapshot(run), run.group(SensingParams), run.group(ExceptionParams), run.horizon_weeks)
    return sense_week(run.data, run.group(SensingParams), run.group(ExceptionParams), run.horizon_weeks)


def _supply(run: StepContext) -> Any:
    if _on_dask(run):  # projections and gaps per part, capacity from the parts' summed hours
        from .distributed import supply_on_cluster

        tables = run.table_file("sensed_demand").parent
        return _on_cluster(run, supply_on_cluster, run.data, _snapshot(run), tables, run.group(SupplyParams), run.horizon_weeks, light=True)
    return analyse_supply(run.data, run.table("sensed_demand"), run.group(SupplyParams), run.horizon_weeks)


def _finance(run: StepContext) -> Any:
    if _on_dask(run):  # the projection read per part; money at risk and options per part; the joint plan here
        from .distributed import finance_on_cluster

        upstream = {name: run.table(name) for name in FINANCE_INPUTS if name != "inventory_projection"}
        tables = run.table_file("inventory_projection").parent
        return _on_cluster(run, finance_on_cluster, run.data, _snapshot(run), tables, upstream, run.group(FinanceParams), run.open_actions(),
                           run.horizon_weeks, light=True)
    return assess_week(run.data, {name: run.table(name) for name in FINANCE_INPUTS}, run.group(FinanceParams), run.open_actions())


def _snapshot(run: StepContext) -> Path:
    return Path(run.out_dir) / "inputs"


class TablesWhenUsed(Mapping):
    """Tables of earlier steps of ``run`` by name, each read the first time it is asked for."""

    def __init__(self, run: StepContext, names: tuple[str, ...]) -> None:
        self.run, self.names, self.read = run, names, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.read:
            self.read[name] = self.run.table(name)
        return self.read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _loop(run: StepContext) -> Any:
    money = run.group(FinanceParams)  # the same backorder share and overflow cost as the money it compares
    # read when the loop first uses them: a first week (nothing archived to compare with) reads neither the
    # projection nor the sensed demand (13M rows each at 1M series)
    policy = {"backorder_share": money.backorder_share, "delay_cost_share": money.delay_cost_share}
    return close_loop(run.data, TablesWhenUsed(run, LOOP_INPUTS), run.archive(), run.actions(), run.group(LoopParams),
                      policy, money.overflow_cost_per_unit)


STEPS: tuple[Step, ...] = (
    Step("health", "01_data_health.ipynb", "data health", (), (), _health),
    Step("sensing", "02_demand_sensing.ipynb", "demand sensing", (SensingParams, ExceptionParams), (), _sensing,
         ("actuals:_series,week,qty", "demand_plan:_series,week,qty", "open_orders", "products", "stockouts")),
    Step("supply", "03_supply_gaps.ipynb", "supply gaps", (SupplyParams,), ("sensed_demand",), _supply,
         ("inventory", "supply", "routings", "capacity", "locations", "products")),
    Step("finance", "04_financial_impact.ipynb", "financial impact", (FinanceParams,), FINANCE_INPUTS, _finance,
         ("products", "open_orders", "routings", "substitutes", "financial_plan")),
    Step("loop", "05_what_changed.ipynb", "what changed", (LoopParams, FinanceParams), LOOP_INPUTS, _loop,
         ("products", "supply", "capacity", "open_orders", "financial_plan")),
)


def step_named(name: str) -> Step:
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"no step '{name}'; the steps are {', '.join(s.name for s in STEPS)}")


def step_of_notebook(notebook: str) -> Step | None:
    """The step computed by notebook file ``notebook`` (None for a notebook of no step)."""
    return next((s for s in STEPS if s.notebook == notebook), None)


def producer_of(table: str) -> Step:
    """The step that writes ``table``."""
    if table not in OUTPUTS:
        raise KeyError(f"'{table}' is not a declared result table")
    return step_named(OUTPUTS[table].step)
