"""Forecast accuracy over a window of weeks, for every series at once and rolled up by group.

``A`` = actual, ``F`` = forecast (the S&OP plan, or any other forecast), both ``(series, weeks)``;
a week counts only where both are numbers. Definitions (``../shared/domain/soe-primer.md``):

- ``WAPE = sum|A - F| / sum A``; ``accuracy = max(0, 1 - WAPE)``; undefined (NaN) when ``sum A = 0``.
- ``bias = sum(F - A) / sum A``: positive = over-forecast (the plan expected more than sold).
- ``tracking signal = sum(A - F) / MAD`` with ``MAD = mean|A - F|``; out of control when ``|TS| > 4``.
  It ranges over +-n (n = weeks): +n means every week sold more than planned.
- ``MASE = mean|A - F| / mean|A[t] - A[t-m]|``, the denominator over the history *before* the window,
  with ``m = 52`` (seasonal naive) when there are at least 60 weeks of such pairs, else ``m = 1``.
  Below 1: the forecast beat the naive method in-sample.
- ``FVA = WAPE(naive) - WAPE(F)``, naive = last week's actual (``A[t-1]``): the forecast value added,
  in WAPE points. Positive: the plan adds value over doing nothing clever.

Roll-ups sum the per-series parts (``sum|A-F|``, ``sum A``, ``sum(F-A)``) so errors do not cancel across
series; the tracking signal of a group is computed on the group's summed weekly series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.matrix import row_blocks

__all__ = ["mase_scale", "metrics_from_parts", "naive_forecast", "rollup", "rollup_of", "series_accuracy", "weekly_errors", "window_parts"]


def naive_forecast(history: np.ndarray, lag: int = 1) -> np.ndarray:
    """``F[t] = A[t - lag]`` (NaN for the first ``lag`` weeks)."""
    out = np.full(history.shape, np.nan)
    out[:, lag:] = history[:, :-lag]
    return out


def mase_scale(history: np.ndarray, end: int, season: int = 52, min_pairs: int = 60) -> np.ndarray:
    """Mean absolute naive error over ``history[:, :end]``: seasonal (m=52) when >= min_pairs pairs, else m=1."""
    past = history[:, :end]

    def mean_abs_diff(m: int) -> tuple[np.ndarray, np.ndarray]:
        if past.shape[1] <= m:
            return np.full(len(past), np.nan), np.zeros(len(past), dtype=int)
        d = np.abs(past[:, m:] - past[:, :-m])
        n = (~np.isnan(d)).sum(axis=1)
        return np.where(n > 0, np.nansum(d, axis=1) / np.maximum(n, 1), np.nan), n

    seasonal, n_seasonal = mean_abs_diff(season)
    naive, _ = mean_abs_diff(1)
    return np.where(n_seasonal >= min_pairs, seasonal, naive)


def window_parts(actual: np.ndarray, forecast: np.ndarray) -> dict[str, np.ndarray]:
    """Additive per-series parts over the window: abs error, actual, forecast-actual, error sum, weeks."""
    both = ~np.isnan(actual) & ~np.isnan(forecast)
    err = np.where(both, actual - forecast, 0.0)
    return {
        "abs_err": np.abs(err).sum(axis=1),
        "sum_actual": np.where(both, actual, 0.0).sum(axis=1),
        "sum_forecast": np.where(both, forecast, 0.0).sum(axis=1),
        "sum_err": err.sum(axis=1),  # sum(A - F)
        "weeks": both.sum(axis=1),
    }


def metrics_from_parts(parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """WAPE, accuracy, bias and tracking signal from :func:`window_parts` (or summed parts)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.where(parts["sum_actual"] > 0, parts["sum_actual"], np.nan)
        wape = parts["abs_err"] / denom
        mad = np.where(parts["weeks"] > 0, parts["abs_err"] / np.maximum(parts["weeks"], 1), np.nan)
        ts = np.where(mad > 0, parts["sum_err"] / mad, 0.0)
        ts = np.where(parts["weeks"] > 0, ts, np.nan)
    return {
        "wape": wape,
        "accuracy": np.clip(1 - wape, 0, None),
        "bias": -parts["sum_err"] / denom,
        "tracking_signal": ts,
    }


def series_accuracy(history: np.ndarray, plan: np.ndarray, lookback: int) -> pd.DataFrame:
    """Per-series accuracy of ``plan`` over the last ``lookback`` weeks of ``history`` (both (N, T)).

    Columns: wape, accuracy, bias, tracking_signal, mase, fva, naive_wape, actual_qty, plan_qty,
    abs_error_qty, weeks. Every figure is per series: computed on blocks of rows (its naive forecast and
    MASE scale are whole-matrix temporaries otherwise, 1.25 GB each at 1M series; see
    :data:`~soe_lib.core.matrix.BLOCK_ROWS`).
    """
    blocks = [_series_accuracy(history[r], plan[r], lookback) for r in row_blocks(len(history))]
    return blocks[0] if len(blocks) == 1 else pd.concat(blocks, ignore_index=True)


def _series_accuracy(history: np.ndarray, plan: np.ndarray, lookback: int) -> pd.DataFrame:
    start = history.shape[1] - lookback
    a, f = history[:, start:], plan[:, start:]
    parts = window_parts(a, f)
    out = metrics_from_parts(parts)
    naive = naive_forecast(history)[:, start:]
    naive_parts = window_parts(np.where(np.isnan(f), np.nan, a), naive)
    naive_wape = metrics_from_parts(naive_parts)["wape"]
    scale = mase_scale(history, start)
    with np.errstate(divide="ignore", invalid="ignore"):
        mae = parts["abs_err"] / np.where(parts["weeks"] > 0, parts["weeks"], np.nan)
        mase = np.where(scale > 0, mae / scale, np.nan)
    return pd.DataFrame(
        {
            **out,
            "mase": mase,
            "fva": naive_wape - out["wape"],
            "naive_wape": naive_wape,
            "actual_qty": parts["sum_actual"],
            "plan_qty": parts["sum_forecast"],
            "abs_error_qty": parts["abs_err"],
            "weeks": parts["weeks"],
            "_mase_scale": scale,
            "_naive_abs_err": naive_parts["abs_err"],
            "_naive_actual": naive_parts["sum_actual"],
        }
    )


def _groups(per_series: pd.DataFrame, by: pd.Series | np.ndarray | None) -> tuple[np.ndarray, pd.Index]:
    """Each series' group code and the sorted group labels (one 'total' group when ``by`` is None)."""
    groups = pd.Series("total", index=per_series.index) if by is None else pd.Series(np.asarray(by), index=per_series.index)
    codes, labels = pd.factorize(groups, sort=True)
    return codes, pd.Index(np.asarray(labels).astype(str))


def weekly_errors(per_series: pd.DataFrame, history: np.ndarray, plan: np.ndarray, lookback: int, by: pd.Series | np.ndarray | None) -> pd.DataFrame:
    """Per group (rows, by label) and week of the last ``lookback`` weeks: ``sum(A - F)`` over the group's
    series where both exist, what the group's tracking signal reads. Sums over any split of the series add up."""
    start = history.shape[1] - lookback
    codes, labels = _groups(per_series, by)
    a, f = history[:, start:], plan[:, start:]
    both = ~np.isnan(a) & ~np.isnan(f)
    weekly = np.zeros((len(labels), lookback))
    np.add.at(weekly, codes, np.where(both, a - f, 0.0))
    return pd.DataFrame(weekly, index=labels)


def rollup(
    per_series: pd.DataFrame, history: np.ndarray, plan: np.ndarray, lookback: int, by: pd.Series | None
) -> pd.DataFrame:
    """Accuracy of groups of series (``by`` gives each series' group; None = one 'total' group): see
    :func:`rollup_of`, with the weekly errors of these matrices."""
    return rollup_of(per_series, weekly_errors(per_series, history, plan, lookback, by), by)


def rollup_of(per_series: pd.DataFrame, weekly_by_group: pd.DataFrame, by: pd.Series | np.ndarray | None) -> pd.DataFrame:
    """Accuracy of groups of series from the per-series accuracy and the groups' weekly errors
    (:func:`weekly_errors`, summed over the parts of a split).

    WAPE/bias from summed parts; tracking signal on the group's weekly summed series;
    MASE = sum abs error / sum(weeks x scale); FVA = naive WAPE - WAPE.
    """
    codes, labels = _groups(per_series, by)
    n_groups = len(labels)
    weekly = weekly_by_group.reindex(labels).fillna(0.0).to_numpy()

    def total(col: str) -> np.ndarray:
        return np.bincount(codes, weights=per_series[col].fillna(0).to_numpy(), minlength=n_groups)

    parts = {
        "abs_err": total("abs_error_qty"),
        "sum_actual": total("actual_qty"),
        "sum_forecast": total("plan_qty"),
        "sum_err": weekly.sum(axis=1),
        "weeks": np.full(n_groups, weekly.shape[1]),
    }
    m = metrics_from_parts(parts)
    weekly_mad = np.abs(weekly).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ts = np.where(weekly_mad > 0, weekly.sum(axis=1) / weekly_mad, 0.0)
        scale_weeks = np.bincount(codes, weights=(per_series["_mase_scale"].fillna(0) * per_series["weeks"]).to_numpy(), minlength=n_groups)
        mase = np.where(scale_weeks > 0, parts["abs_err"] / scale_weeks, np.nan)
        naive_wape = total("_naive_abs_err") / np.where(total("_naive_actual") > 0, total("_naive_actual"), np.nan)
    return pd.DataFrame(
        {
            "group": np.asarray(labels),
            "series": np.bincount(codes, minlength=n_groups),
            "actual_qty": parts["sum_actual"],
            "plan_qty": parts["sum_forecast"],
            "wape": m["wape"],
            "accuracy": m["accuracy"],
            "bias": m["bias"],
            "tracking_signal": ts,
            "mase": mase,
            "fva": naive_wape - m["wape"],
        }
    )
