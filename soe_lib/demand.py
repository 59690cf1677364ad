"""The demand-sensing step of the weekly run: sensing, plan accuracy, exceptions, and their tables.

``sense_week`` is what ``notebooks/02_demand_sensing.ipynb`` calls; the numbers come from
:mod:`soe_lib.sensing`, :mod:`soe_lib.accuracy` and :mod:`soe_lib.demand_exceptions`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from .accuracy import rollup
from .cycle import WeekRun
from .demand_exceptions import ExceptionParams, demand_exceptions
from .sensing import Sensing, SensingParams, accuracy_table, sense

__all__ = ["DemandWeek", "sense_week", "split_params"]

ACCURACY_COLUMNS = [
    "sku", "location", "family", "pattern", "model", "wape", "accuracy", "bias", "tracking_signal",
    "tracking_out_of_control", "mase", "fva", "naive_wape", "sensing_wape", "statistical_wape",
    "actual_qty", "plan_qty", "abs_error_qty", "error_value", "history_weeks", "w_stat", "outlier_weeks", "unit_price",
]


@dataclass
class DemandWeek:
    sensing: Sensing
    accuracy: pd.DataFrame  # per SKU-location
    rollups: dict[str, pd.DataFrame]  # total, family, location
    exceptions: pd.DataFrame

    @property
    def sensed(self) -> pd.DataFrame:
        return self.sensing.sensed_table()

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

    def save(self, run: WeekRun) -> None:
        run.save("sensed_demand", self.sensed)
        run.save("forecast_accuracy", self.accuracy)
        run.save("demand_exceptions", self.exceptions)
        run.save("sensing_backtest", self.sensing.backtest)
        for name, frame in self.rollups.items():
            run.save(f"forecast_accuracy_by_{name}", frame)


def split_params(**values: object) -> tuple[SensingParams, ExceptionParams]:
    """Route keyword parameters to the sensing and exception settings; unknown names are an error."""
    s_names = {f.name for f in fields(SensingParams)}
    e_names = {f.name for f in fields(ExceptionParams)}
    unknown = set(values) - s_names - e_names
    if unknown:
        raise TypeError(f"unknown demand-sensing parameter(s): {', '.join(sorted(unknown))}")
    return (
        SensingParams(**{k: v for k, v in values.items() if k in s_names}),
        ExceptionParams(**{k: v for k, v in values.items() if k in e_names}),
    )


def sense_week(run: WeekRun, **params: object) -> DemandWeek:
    """Sense demand for the run week, score the plan, find exceptions (parameters: see :func:`split_params`)."""
    params.setdefault("horizon_weeks", run.horizon_weeks)
    s_params, e_params = split_params(**params)
    sensing = sense(run.data, s_params)
    acc = accuracy_table(sensing)
    acc["tracking_out_of_control"] = acc["tracking_signal"].abs() > e_params.tracking_limit
    history, plan = sensing.actual.astype("float64"), sensing.plan_history
    lb = s_params.lookback_weeks
    rollups = {
        "total": rollup(acc, history, plan, lb, None),
        "family": rollup(acc, history, plan, lb, acc["family"].fillna("(unknown)")),
        "location": rollup(acc, history, plan, lb, acc["location"]),
    }
    exceptions = demand_exceptions(sensing, acc, e_params)
    return DemandWeek(sensing, acc[ACCURACY_COLUMNS], rollups, exceptions)
