"""The demand-sensing step of the weekly cycle: sensing, plan accuracy, exceptions, and their tables.

:data:`SENSING` is the step (:mod:`soe_lib.core.step`) behind ``notebooks/02_demand_sensing.ipynb``: whole
(:func:`sense_week`) or in parts of the series; the numbers come from :mod:`.engine`, :mod:`.accuracy` and
:mod:`.exceptions`. It reads the validated snapshot only, and hands on tables only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.outputs import OUTPUTS
from ..core.params import HORIZON_WEEKS
from ..core.step import InParts, Part, PartReader, Round, Step, StepContext, in_order
from .accuracy import rollup_of, series_accuracy, weekly_errors
from .engine import (
    Prepared,
    Sensing,
    SensingStack,
    accuracy_table,
    band_errors_of,
    decide_pools,
    decide_quantiles,
    finish,
    pool_stats_of,
    prepare,
    sense,
    without_rows,
)
from .exceptions import demand_exceptions, order_exceptions
from .params import ExceptionParams, SensingParams

__all__ = ["GROUPINGS", "SENSING", "SensingStep", "SensingWeek", "WeekPart", "sense_week", "week_of_parts", "week_part"]

ACCURACY_COLUMNS = OUTPUTS["forecast_accuracy"].names  # the contract's order (soe_lib/core/outputs.py)


@dataclass
class SensingWeek:
    """The sensing step's result: the engine's matrices (for charts of one series) and the step's tables."""

    sensing: Sensing
    accuracy: pd.DataFrame  # per SKU-location
    rollups: dict[str, pd.DataFrame]  # total, family, location
    exceptions: pd.DataFrame
    written: frozenset[str] = frozenset()  # tables its parts wrote themselves (not held here)

    @property
    def sensed(self) -> pd.DataFrame:
        return self.sensing.sensed_table()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`) but those its parts wrote."""
        tables = {
            "forecast_accuracy": self.accuracy,
            "demand_exceptions": self.exceptions,
            "sensing_backtest": self.sensing.backtest,
            **{f"forecast_accuracy_by_{name}": frame for name, frame in self.rollups.items()},
        }
        return tables if "sensed_demand" in self.written else {"sensed_demand": self.sensed, **tables}

    def backtest_view(self) -> pd.DataFrame:
        """The backtest as a method x segment grid of WAPE (for reading; the table is long)."""
        bt = self.sensing.backtest
        view = bt.pivot(index="method", columns="segment", values="wape")
        view = view.loc[bt["method"].unique(), bt["segment"].unique()]
        # calibration of the P10-P90 band beside the errors: shares of actuals below P10 and P90 (sensing only)
        band = bt[bt["method"] == "sensing"].set_index("segment")[["below_p10", "below_p90"]].T
        band.index = ["sensing: share below P10", "sensing: share below P90"]
        return pd.concat([view, band[view.columns]])

    def worst_by_money(self, n: int = 15) -> pd.DataFrame:
        """Series whose plan error cost the most over the lookback (|A - F| x unit price)."""
        cols = ["sku", "location", "family", "pattern", "error_value", "wape", "bias", "tracking_signal", "sensing_wape"]
        return self.accuracy.nlargest(n, "error_value")[cols].reset_index(drop=True)

    def focus(self, sku: str | None, location: str | None) -> tuple[str, str]:
        """The SKU-location to chart: the one asked for, else the worst by money."""
        if sku is not None and location is not None:
            return str(sku), str(location)
        top = self.worst_by_money(1)
        return str(top.loc[0, "sku"]), str(top.loc[0, "location"])

    def series_frame(self, sku: str, location: str, weeks_back: int = 52) -> pd.DataFrame:
        """One SKU-location as a long frame (week, measure, qty, outlier): actual, plan, statistical,
        sensed and open orders; ``outlier`` marks the actual weeks cleaned before fitting."""
        s = self.sensing
        match = ((s.series["sku"] == sku) & (s.series["location"] == location)).to_numpy()
        if not match.any():
            raise KeyError(f"no SKU-location {sku!r} @ {location!r} in this week's data")
        i = int(np.flatnonzero(match)[0])
        hist = s.history_weeks[-weeks_back:]
        parts = [
            pd.DataFrame({"week": hist, "measure": "actual", "qty": s.actual[i, -weeks_back:]}),
            pd.DataFrame({"week": hist, "measure": "plan", "qty": s.plan_history[i, -weeks_back:]}),
            pd.DataFrame({"week": s.horizon_weeks, "measure": "plan", "qty": s.plan[i]}),
            pd.DataFrame({"week": s.horizon_weeks, "measure": "statistical", "qty": s.statistical[i]}),
            pd.DataFrame({"week": s.horizon_weeks, "measure": "sensed", "qty": s.sensed[i]}),
            pd.DataFrame({"week": s.horizon_weeks, "measure": "open orders", "qty": s.open_orders[i]}),
        ]
        out = pd.concat(parts, ignore_index=True).dropna(subset=["qty"])
        flagged = s.outliers[i, -weeks_back:]
        out["outlier"] = (out["measure"] == "actual") & out["week"].isin(hist[flagged])
        return out


GROUPINGS = ("total", "family", "location")  # the roll-ups of plan accuracy


def _grouping(acc: pd.DataFrame, name: str) -> pd.Series | None:
    """Each series' group in roll-up ``name`` (None: one total)."""
    if name == "total":
        return None
    return acc["family"].fillna("(unknown)") if name == "family" else acc["location"]


@dataclass
class WeekPart:
    """What the week's tables need of one part of the series: its rows of accuracy and exceptions, and
    its groups' weekly errors (the roll-ups add them up over the parts)."""

    accuracy: pd.DataFrame
    exceptions: pd.DataFrame
    weekly_errors: dict[str, pd.DataFrame]  # per grouping: sum(A - F) per group label and lookback week


def week_part(sensing: Sensing, params: SensingParams | None = None, exception_params: ExceptionParams | None = None) -> WeekPart:
    """Plan accuracy, the roll-ups' weekly errors and the demand exceptions of the series of ``sensing``
    (all of them, or one part: every row is per series). On a cluster, each worker makes its part's."""
    s_params, e_params = params or SensingParams(), exception_params or ExceptionParams()
    acc = accuracy_table(sensing)
    acc["tracking_out_of_control"] = acc["tracking_signal"].abs() > e_params.tracking_limit
    # asarray, not astype: the matrices are float64 already, and a copy of each is 1.2 GB at 1M series
    history, plan = np.asarray(sensing.actual, dtype="float64"), sensing.plan_history
    lb = s_params.lookback_weeks
    weekly = {name: weekly_errors(acc, history, plan, lb, _grouping(acc, name)) for name in GROUPINGS}
    # plan bias is judged on the cleaned history: a one-off order is flagged as an outlier, not a reason to raise the plan
    cleaned_accuracy = series_accuracy(np.asarray(sensing.cleaned, dtype="float64"), plan, lb)
    return WeekPart(acc, demand_exceptions(sensing, cleaned_accuracy, e_params), weekly)


def sense_week(data: Dataset, params: SensingParams | None = None, exception_params: ExceptionParams | None = None,
               horizon_weeks: int = HORIZON_WEEKS) -> SensingWeek:
    """Sense demand for the run week, score the plan, find the demand exceptions: every series at once."""
    s_params, e_params = params or SensingParams(), exception_params or ExceptionParams()
    sensing = sense(data, s_params, horizon_weeks)
    return week_of_parts(sensing, [week_part(sensing, s_params, e_params)])


def week_of_parts(sensing: Sensing, parts: list[WeekPart]) -> SensingWeek:
    """The step's result from sensing of every series and each part's :func:`week_part` (in series order):
    accuracy and exceptions stacked, the roll-ups from the parts' summed weekly errors."""
    acc = pd.concat([p.accuracy for p in parts], ignore_index=True)
    rollups = {name: rollup_of(acc, pd.concat([p.weekly_errors[name] for p in parts]).groupby(level=0).sum(), _grouping(acc, name))
               for name in GROUPINGS}
    exceptions = order_exceptions(pd.concat([p.exceptions for p in parts], ignore_index=True))
    return SensingWeek(sensing, acc[ACCURACY_COLUMNS], rollups, exceptions)


# Prepared state per series (candidates said 1-4 weeks ahead, errors of both windows, the fits) at 156 weeks,
# rounded up: in-process sensing peaks at ~4 GB at 100k; holding the parts of 1M on 2 x 3 GB workers spilled
# 18 GB to disk and took over 25 minutes (the run's memory policy then writes each part's state to the run's folder)
PREPARED_BYTES_PER_SERIES = 40_000


class SensingStep(Step):
    """Step 2 on the step protocol. In parts: each part prepares its series (history, patterns, one-off weeks,
    seasonality, the smoothing fits, the candidates and their errors); round 1 sums the parts' pool statistics
    and decides every segment's pooled choice; round 2 reads the bands' quantiles from the parts' scaled errors;
    round 3 finishes each part (choice, bands, backtest, accuracy, exceptions, its groups' weekly errors), taken
    into one result as each arrives. The pooled decisions come from sums and value sets that do not depend on
    how the series are split, so the tables equal the whole run's."""

    name = "sensing"
    notebook = "02_demand_sensing.ipynb"
    title = "demand sensing"
    groups = (SensingParams, ExceptionParams)
    written_in_parts = ("sensed_demand",)
    reads = {"actuals": ("_series", "week", "qty"), "demand_plan": ("_series", "week", "qty"), "open_orders": None, "products": None, "stockouts": None}

    def run(self, ctx: StepContext) -> SensingWeek:
        return sense_week(ctx.data, ctx.group(SensingParams), ctx.group(ExceptionParams), ctx.horizon_weeks)

    def in_parts(self, ctx: StepContext, ranges: list[tuple[int, int]]) -> InParts:
        keys = np.sort(ctx.data.series()["_series"].to_numpy())
        sizes = [int(np.searchsorted(keys, b) - np.searchsorted(keys, a)) for a, b in ranges]
        params, horizon = ctx.group(SensingParams), ctx.horizon_weeks
        week_parts: list[WeekPart | None] = [None] * len(ranges)

        def taken(results: Iterable[tuple[int, tuple[Sensing, WeekPart]]], decided: tuple[dict, dict]) -> tuple[Sensing, list[WeekPart]]:
            # each part copied into the result as it arrives, then dropped; its matrices stayed on its worker: a
            # series read afterwards (a chart, the deep dive) is sensed again alone, with the pooled decisions
            stack = SensingStack(sizes, one=partial(_one_series, ctx, keys, params, horizon, decided))
            for i, (sensing, part) in results:
                stack.put(i, sensing)
                week_parts[i] = part
            return stack.result(), list(week_parts)

        return InParts(
            prepare=partial(_prepare_part, params=params, horizon_weeks=horizon),
            rounds=(Round(_pool_stats, lambda results, _: decide_pools(in_order(results))),
                    Round(_band_errors, lambda results, pools: (pools, decide_quantiles(in_order(results)))),
                    Round(partial(_finish_part, ctx.group(ExceptionParams)), taken)),
            combine=lambda done: dataclasses.replace(week_of_parts(*done), written=frozenset(self.written_in_parts)),
            bytes_per_series=PREPARED_BYTES_PER_SERIES,
        )


def _one_series(ctx: StepContext, keys: np.ndarray, params: SensingParams, horizon: int, decided: tuple[dict, dict], i: int) -> Sensing:
    """Series ``i`` (in series order) sensed alone from the snapshot, with the pooled decisions of the whole run:
    every stage before them is per series, so its row is the one the parts computed."""
    key = int(keys[i])
    return finish(prepare(ctx.snapshot_rows(key, key + 1), params, horizon), *decided)


def _prepare_part(part: Part, reader: PartReader, params: SensingParams, horizon_weeks: int) -> tuple[PartReader, Prepared]:
    return reader, prepare(reader.snapshot(), params, horizon_weeks)


def _pool_stats(state: tuple[PartReader, Prepared], _carried: Any) -> dict:
    return pool_stats_of(state[1])


def _band_errors(state: tuple[PartReader, Prepared], pools: dict) -> dict:
    return band_errors_of(state[1], pools)


def _finish_part(exception_params: ExceptionParams, state: tuple[PartReader, Prepared], decided: tuple[dict, dict]) -> tuple[Sensing, WeekPart]:
    """The part's sensing (without its matrices: see :data:`~soe_lib.sensing.engine.ROW_MATRICES`), and its accuracy,
    exceptions and groups' weekly errors; its rows of ``sensed_demand`` written here, as one part of the table (the
    client never holds the 13M rows of 1M series)."""
    reader, prepared = state
    sensing = finish(prepared, *decided)
    reader.write("sensed_demand", sensing.sensed_table())
    return without_rows(sensing), week_part(sensing, prepared.p, exception_params)


SENSING = SensingStep()
