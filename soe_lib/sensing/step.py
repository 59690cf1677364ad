"""The demand-sensing step of the weekly cycle: sensing, plan accuracy, exceptions, and their tables.

:func:`sense_week` is what the orchestration (:mod:`soe_lib.run.steps`) calls for
``notebooks/02_demand_sensing.ipynb``; the numbers come from :mod:`.engine`, :mod:`.accuracy` and
:mod:`.exceptions`. It reads the validated snapshot only, and hands on tables only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from .accuracy import rollup_of, series_accuracy, weekly_errors
from .engine import Sensing, accuracy_table, sense
from .exceptions import demand_exceptions, order_exceptions
from .params import ExceptionParams, SensingParams

__all__ = ["GROUPINGS", "SensingWeek", "WeekPart", "sense_week", "week_part"]

ACCURACY_COLUMNS = [
    "sku", "location", "family", "pattern", "model", "forecast", "wape", "accuracy", "bias", "tracking_signal",
    "tracking_out_of_control", "mase", "fva", "naive_wape", "sensing_wape", "statistical_wape",
    "actual_qty", "plan_qty", "abs_error_qty", "error_value", "history_weeks", "w_stat", "outlier_weeks", "censored_weeks", "unit_price",
]


@dataclass
class SensingWeek:
    """The sensing step's result: the engine's matrices (for charts of one series) and the step's tables."""

    sensing: Sensing
    accuracy: pd.DataFrame  # per SKU-location
    rollups: dict[str, pd.DataFrame]  # total, family, location
    exceptions: pd.DataFrame

    @property
    def sensed(self) -> pd.DataFrame:
        return self.sensing.sensed_table()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`)."""
        return {
            "sensed_demand": self.sensed,
            "forecast_accuracy": self.accuracy,
            "demand_exceptions": self.exceptions,
            "sensing_backtest": self.sensing.backtest,
            **{f"forecast_accuracy_by_{name}": frame for name, frame in self.rollups.items()},
        }

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


def sense_week(
    data: Dataset, params: SensingParams | None = None, exception_params: ExceptionParams | None = None, horizon_weeks: int = 13,
    sensing: Sensing | None = None, parts: list[WeekPart] | None = None,
) -> SensingWeek:
    """Sense demand for the run week, score the plan, find the demand exceptions (``sensing``: already
    computed elsewhere, e.g. on a Dask cluster, with the same parameters; ``parts``: its
    :func:`week_part` per part of the series, in series order, computed there too)."""
    s_params, e_params = params or SensingParams(), exception_params or ExceptionParams()
    sensing = sensing if sensing is not None else sense(data, s_params, horizon_weeks)
    parts = parts if parts is not None else [week_part(sensing, s_params, e_params)]
    acc = pd.concat([p.accuracy for p in parts], ignore_index=True)
    rollups = {name: rollup_of(acc, pd.concat([p.weekly_errors[name] for p in parts]).groupby(level=0).sum(), _grouping(acc, name))
               for name in GROUPINGS}
    exceptions = order_exceptions(pd.concat([p.exceptions for p in parts], ignore_index=True))
    return SensingWeek(sensing, acc[ACCURACY_COLUMNS], rollups, exceptions)
