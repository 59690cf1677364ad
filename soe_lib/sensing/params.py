"""Parameters of demand sensing and demand exceptions (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..core.params import param

__all__ = ["ExceptionParams", "SensingParams"]


@dataclass(frozen=True)
class SensingParams:
    """Demand sensing (notebooks/02_demand_sensing.ipynb). Formulas: docs/demand-sensing.md."""

    lookback_weeks: int = param(13, "Weeks of history scored for plan accuracy, the backtest and the tracking signal.", min=2, max=104)
    history_weeks: int = param(156, "Weeks of actuals the statistical models see.", min=8, max=520)
    min_history_weeks: int = param(13, "Fewer weeks of actuals than this: \"insufficient history\", the plan is used as is.", min=2, max=104)
    seasonal_min_weeks: int = param(104, "A seasonal profile only for series with at least this many weeks of actuals.", min=52, max=520)
    seasonal_min_r2: float = param(0.25, "... and only when the profile explains at least this share of the variance the trend leaves.", min=0, max=1)
    outlier_z: float = param(6.0, "A lone week beyond this many robust standard deviations is a one-off outlier, left out of the fit.", min=1, max=50)
    open_orders_floor_weeks: int = param(4, "Sensed demand is at least the booked open orders in the first this many weeks.", min=0, max=104)
    backtest_lag_weeks: int = param(1, "The backtest scores what each method said this many weeks before each week.", min=1, max=12)
    # not a run parameter: the engine's float width (float32 halves memory at 100k series; the benchmark compares)
    dtype: str = dataclasses.field(default="float32")


@dataclass(frozen=True)
class ExceptionParams:
    """Demand exceptions: what a demand planner must look at this week (docs/demand-sensing.md)."""

    recent_weeks: int = param(4, "Spikes and drops: the mean of the last 1..this many weeks is compared with the model.", min=1, max=13)
    spike_z: float = param(4.0, "... and is a spike or drop beyond this many robust standard errors (1.5x for a single week).", min=0.5, max=50)
    min_shift: float = param(0.3, "... and when it moved at least this share of the expectation.", min=0, max=10)
    bias_threshold: float = param(0.2, "Persistent bias: |bias| over the lookback beyond this share.", min=0, max=10)
    tracking_limit: float = param(4.0, "... with |tracking signal| beyond this (APICS: 4).", min=0, max=100)
    bias_z: float = param(3.0, "... and a summed error beyond this many standard errors of the week-to-week noise.", min=0, max=50)
    deviation_threshold: float = param(0.25, "Sensed vs plan: the next weeks' sensed demand differs from the plan by more than this share.", min=0, max=10)
    deviation_weeks: int = param(4, "... over this many weeks ahead.", min=1, max=13)
    deviation_z: float = param(2.0, "... and by more than this many standard errors of the series' noise.", min=0, max=50)
