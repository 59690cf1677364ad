"""Demand sensing (step 2): plan accuracy, the sensed forecast and its backtest, demand exceptions."""

from .accuracy import mase_scale, metrics_from_parts, naive_forecast, rollup, series_accuracy, window_parts
from .choice import CANDIDATES, Choice, backtest_candidates, choose, live_candidates, quantile_bands, running_sums
from .deep_dive import DeepDive, deep_dive
from .engine import (
    Sensing,
    accuracy_table,
    backtest_summary,
    backtest_table,
    classify,
    fourier_seasonality,
    huber_outliers,
    one_off_weeks,
    robust_sigma,
    sense,
)
from .exceptions import (
    COLUMNS,
    bias_findings,
    demand_exceptions,
    insufficient_history,
    outlier_weeks,
    recent_shift,
    sensed_vs_plan,
    spikes_and_drops,
)
from .params import ExceptionParams, SensingParams
from .smoothing import HOLT_GRID, TSB_GRID, SmoothingFit, damped_path, fit_damped, fit_tsb, phi_sum
from .step import SensingWeek, sense_week

__all__ = [
    "CANDIDATES",
    "COLUMNS",
    "Choice",
    "DeepDive",
    "ExceptionParams",
    "HOLT_GRID",
    "Sensing",
    "SensingParams",
    "SensingWeek",
    "SmoothingFit",
    "TSB_GRID",
    "accuracy_table",
    "backtest_candidates",
    "backtest_summary",
    "backtest_table",
    "bias_findings",
    "choose",
    "classify",
    "damped_path",
    "deep_dive",
    "demand_exceptions",
    "fit_damped",
    "fit_tsb",
    "fourier_seasonality",
    "huber_outliers",
    "insufficient_history",
    "live_candidates",
    "mase_scale",
    "metrics_from_parts",
    "naive_forecast",
    "one_off_weeks",
    "outlier_weeks",
    "phi_sum",
    "quantile_bands",
    "recent_shift",
    "robust_sigma",
    "running_sums",
    "rollup",
    "sense",
    "sense_week",
    "sensed_vs_plan",
    "series_accuracy",
    "spikes_and_drops",
    "window_parts",
]
