"""Demand sensing: a short-term sensed forecast for every SKU-location, and its own backtest.

Everything works on ``(series, weeks)`` matrices: no per-series Python loop. Per run:

1. **History**: the last ``history_weeks`` of actuals (missing week = 0 after the first actual, NaN before).
2. **Pattern**: ``insufficient`` (fewer than ``min_history_weeks`` weeks), ``zero`` (never sold),
   ``intermittent``/``lumpy`` (ADI = weeks / non-zero weeks >= 1.32; lumpy when the squared CV of the
   non-zero sizes >= 0.49, Syntetos-Boylan), ``seasonal`` (see 4), else ``smooth``.
3. **Outliers** (regular series): a Huber-filtered simple smoothing pass (alpha 0.2) flags weeks whose
   residual exceeds ``outlier_z`` robust standard deviations (``sigma = 1.4826 * median|diff y| / sqrt 2``).
   (For intermittent series sigma is the plain standard deviation.) A flagged week that stands alone (neighbours not flagged the same way) is a one-off and is replaced
   by the filter's level before fitting; runs of flagged weeks are real shifts and are kept.
   Bound (tested): a one-off week moves the sensed forecast by at most the smoothing of one clipped
   residual, ``alpha_max * outlier_z * sigma`` (in practice well under 5 % of the level).
4. **Seasonality**: series observed for at least ``seasonal_min_weeks`` get an additive Fourier profile
   (2 harmonics of the 52.18-week year, fitted by least squares together with a linear trend on the
   last two years before the backtest window, one matrix product for all series). It is used when it
   explains at least ``seasonal_min_r2`` of the variance the trend leaves.
5. **Statistical forecast**: damped-trend / simple exponential smoothing on the deseasonalised,
   cleaned history (TSB for intermittent series), parameters chosen per series from a grid by the
   one-step squared error *before* the backtest window (:mod:`soe_lib.sensing.smoothing`). Floored at 0.
6. **Blend**: ``sensed = w * statistical + (1 - w) * plan`` with ``w = MAE_plan / (MAE_plan + MAE_stat)``
   from the last ``lookback_weeks`` of out-of-sample errors (the more accurate source gets more weight;
   equal errors give 0.5). ``w`` fades linearly to 0 over ``sensing_fade_weeks``: sensing owns the near
   weeks, the S&OP plan the far ones. Weeks without a plan take the statistical forecast; series with
   insufficient history take the plan.
7. **Open orders floor**: in the first ``open_orders_floor_weeks`` weeks, ``sensed >= booked orders``.
8. **Backtest**: for each of the last ``lookback_weeks`` weeks, what sensing would have said
   ``backtest_lag_weeks`` before it (states strictly before the week, parameters chosen before the
   window, blend weights from the errors of the ``lookback_weeks`` before each week); WAPE of sensing,
   the statistical forecast, the plan and the naive forecast on the same weeks. Historical open orders
   are not known, so the backtest blend has no floor.

:func:`sense` runs these as stages, each a small function returning a named result (``_gather``,
``_patterns``, ``_clean``, ``fourier_seasonality``, ``_fit``, ``_blend``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.matrix import history_matrix, long_frame, to_matrix
from .accuracy import metrics_from_parts, naive_forecast, series_accuracy, window_parts
from .params import SensingParams
from .smoothing import HOLT_GRID, fit_damped, fit_tsb, phi_sum

__all__ = [
    "Sensing",
    "accuracy_table",
    "backtest_summary",
    "backtest_table",
    "blend_weight",
    "classify",
    "combine",
    "fourier_seasonality",
    "huber_outliers",
    "robust_sigma",
    "sense",
]

YEAR = 365.2425 / 7  # weeks per year


@dataclass
class Sensing:
    """What sensing computed; matrices are (series, weeks) aligned with ``series``."""

    params: SensingParams
    horizon: int  # weeks ahead
    series: pd.DataFrame  # per series: sku, location, family, unit_price, pattern, model, alpha, beta, phi, w_stat, ...
    history_weeks: pd.DatetimeIndex
    horizon_weeks: pd.DatetimeIndex
    actual: np.ndarray  # (N, H) raw history
    plan_history: np.ndarray  # (N, H)
    fitted: np.ndarray  # (N, 2L) out-of-sample lag forecasts for the last 2L history weeks (statistical)
    sensed_backtest: np.ndarray  # (N, L)
    plan: np.ndarray  # (N, Hz)
    open_orders: np.ndarray  # (N, Hz)
    statistical: np.ndarray  # (N, Hz)
    sensed: np.ndarray  # (N, Hz)
    outliers: np.ndarray  # (N, H) bool: one-off weeks cleaned before fitting
    cleaned: np.ndarray  # (N, H) the history with those weeks replaced (what the models and the bias test see)
    sigma: np.ndarray  # (N,) robust noise scale
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)  # WAPE by method and segment (long)
    backtest_by_series: pd.DataFrame = field(default_factory=pd.DataFrame)  # per series, computed once

    def sensed_table(self) -> pd.DataFrame:
        """One row per SKU-location per horizon week (the ``sensed_demand`` output)."""
        n, h = self.sensed.shape
        return long_frame(
            self.series[["sku", "location"]],
            self.horizon_weeks,
            {
                "horizon": np.broadcast_to(np.arange(1, h + 1), (n, h)),
                "plan_qty": self.plan.astype("float64"),
                "open_orders_qty": self.open_orders.astype("float64"),
                "statistical_qty": self.statistical.astype("float64"),
                "sensed_qty": self.sensed.astype("float64"),
                "w_stat": self.series["w_stat"].to_numpy()[:, None] * _fade(h, self.params.sensing_fade_weeks)[None, :],
            },
        )


def _fade(h: int, fade_weeks: int) -> np.ndarray:
    """Weight multiplier per horizon week: 1 at week 1, falling linearly to 0 after ``fade_weeks``."""
    if fade_weeks <= 0:
        return np.zeros(h)
    return np.clip(1 - np.arange(h) / fade_weeks, 0, 1)


def robust_sigma(y: np.ndarray, floor_share: float = 0.05, floor_units: float = 0.5) -> np.ndarray:
    """Noise scale per series: ``1.4826 * median|y[t] - y[t-1]| / sqrt(2)``, floored at 5 % of the mean and 0.5 unit."""
    d = np.abs(np.diff(y, axis=1))
    gaps = np.isnan(d).any(axis=1)
    med = np.empty(len(d))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (no history) are expected
        med[~gaps] = np.median(d[~gaps], axis=1)  # most series: plain median, 10x faster than nanmedian
        med[gaps] = np.nanmedian(d[gaps], axis=1) if gaps.any() else med[gaps]
        sigma = 1.4826 * med / np.sqrt(2)
        mean = np.nanmean(y, axis=1)
    return np.fmax(np.fmax(np.nan_to_num(sigma), floor_share * np.nan_to_num(mean)), floor_units)


def huber_outliers(y: np.ndarray, sigma: np.ndarray, z: float, alpha: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """One-off outliers and the cleaned history (see module doc, step 3).

    Returns ``(isolated, cleaned)``: bool mask of one-off weeks, and ``y`` with them replaced by the
    filter's level. The last week is never cleaned as "isolated" unless its neighbour says so; a lone
    jump in the last week is left to the exception report (it may be the start of a shift).
    """
    n, t_len = y.shape
    level = np.full(n, np.nan)
    flag = np.zeros((n, t_len), dtype=np.int8)  # +1 high, -1 low
    lev_hist = np.full((n, t_len), np.nan)
    limit = z * sigma
    for t in range(t_len):
        yt = y[:, t]
        obs = ~np.isnan(yt)
        fresh = obs & np.isnan(level)
        level = np.where(fresh, yt, level)
        lev_hist[:, t] = level
        resid = yt - level
        over = obs & ~fresh & (np.abs(resid) > limit)
        flag[:, t] = np.where(over, np.sign(resid), 0).astype(np.int8)
        clipped = level + np.clip(resid, -limit, limit)
        level = np.where(obs & ~fresh, level + alpha * (clipped - level), level)
    prev = np.zeros_like(flag)
    prev[:, 1:] = flag[:, :-1]
    nxt = np.zeros_like(flag)
    nxt[:, :-1] = flag[:, 1:]
    isolated = (flag != 0) & (prev != flag) & (nxt != flag)
    isolated[:, -1] = False  # cannot tell a one-off from the start of a shift yet
    cleaned = np.where(isolated, lev_hist, y)
    return isolated, cleaned


def fourier_seasonality(
    y: np.ndarray, eligible: np.ndarray, end: int, window: int = 104, harmonics: int = 2, min_r2: float = 0.25, extra: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Additive seasonal profile per series over weeks ``0..T+extra-1`` and the share of variance it explains.

    Fitted on ``y[:, end-window:end]`` for ``eligible`` series that are fully observed there, by one
    least-squares solve shared by all series (the design matrix is the same for all).
    Returns ``(season (N, T+extra), r2 (N,))``; series without a useful profile get zeros.
    """
    n, t_len = y.shape
    season = np.zeros((n, t_len + extra), dtype=np.float64)
    r2 = np.zeros(n)
    start = end - window
    if start < 0:
        return season, r2
    block = y[:, start:end]
    ok = eligible & ~np.isnan(block).any(axis=1)
    if not ok.any():
        return season, r2
    t_all = np.arange(t_len + extra, dtype=np.float64)
    waves = np.column_stack(
        [f(2 * np.pi * k * t_all / YEAR) for k in range(1, harmonics + 1) for f in (np.cos, np.sin)]
    )
    t_win = t_all[start:end]
    trend = np.column_stack([np.ones(window), (t_win - t_win.mean()) / window])
    full = np.column_stack([trend, waves[start:end]])
    yb = block[ok].astype(np.float64).T  # (window, n_ok)
    coef_full, *_ = np.linalg.lstsq(full, yb, rcond=None)
    coef_trend, *_ = np.linalg.lstsq(trend, yb, rcond=None)
    sse_full = ((yb - full @ coef_full) ** 2).sum(axis=0)
    sse_trend = ((yb - trend @ coef_trend) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(sse_trend > 0, 1 - sse_full / sse_trend, 0.0)
    r2[ok] = share
    use = np.flatnonzero(ok)[share >= min_r2]
    season[use] = (waves @ coef_full[2:, share >= min_r2]).T
    return season, r2


def classify(y: np.ndarray, min_history: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pattern per series (before seasonality), weeks of history, and ADI."""
    observed = (~np.isnan(y)).sum(axis=1)
    nonzero = (y > 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series without non-zero weeks
        adi = np.where(nonzero > 0, observed / np.maximum(nonzero, 1), np.inf)
        sizes = np.where(y > 0, y, np.nan)
        cv2 = np.nanvar(sizes, axis=1) / np.nanmean(sizes, axis=1) ** 2
    pattern = np.full(len(y), "smooth", dtype=object)
    intermittent = adi >= 1.32
    pattern[intermittent] = np.where(np.nan_to_num(cv2[intermittent]) >= 0.49, "lumpy", "intermittent")
    pattern[nonzero == 0] = "zero"
    pattern[observed < min_history] = "insufficient"
    return pattern, observed, adi


def _rolling_mae(errors: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of |errors| over ``window`` columns ending at each column (NaN-aware)."""
    e = np.abs(errors)
    valid = ~np.isnan(e)
    cs = np.concatenate([np.zeros((len(e), 1)), np.cumsum(np.where(valid, e, 0.0), axis=1)], axis=1)
    cn = np.concatenate([np.zeros((len(e), 1)), np.cumsum(valid, axis=1)], axis=1)
    idx = np.arange(e.shape[1]) + 1
    lo = np.clip(idx - window, 0, None)
    total, count = cs[:, idx] - cs[:, lo], cn[:, idx] - cn[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def blend_weight(mae_stat: np.ndarray, mae_plan: np.ndarray) -> np.ndarray:
    """``w = MAE_plan / (MAE_plan + MAE_stat)``; 0.5 when both are 0; 0 without a statistical error; 1 without a plan error."""
    with np.errstate(invalid="ignore", divide="ignore"):
        w = mae_plan / (mae_plan + mae_stat)
    w = np.where((mae_plan == 0) & (mae_stat == 0), 0.5, w)
    w = np.where(np.isnan(mae_stat), 0.0, w)
    w = np.where(np.isnan(mae_plan) & ~np.isnan(mae_stat), 1.0, w)
    return np.nan_to_num(w, nan=0.0)


def combine(stat: np.ndarray, plan: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w * stat + (1 - w) * plan``, taking whichever exists where the other is missing (0 when neither)."""
    out = w * stat + (1 - w) * plan
    out = np.where(np.isnan(plan), stat, out)
    out = np.where(np.isnan(stat), plan, out)
    return np.nan_to_num(out, nan=0.0)


@dataclass
class _Inputs:
    """What sensing reads, as (series, weeks) matrices."""

    series: pd.DataFrame  # sku, location, _series, family, unit_price, unit_cost
    history: pd.DatetimeIndex
    horizon: pd.DatetimeIndex
    y: np.ndarray  # (N, H) actuals: NaN before a series' first week
    plan_hist: np.ndarray  # (N, H)
    plan_h: np.ndarray  # (N, Hz)
    open_orders: np.ndarray  # (N, Hz)


def _gather(data: Dataset, p: SensingParams, horizon_weeks: int) -> _Inputs:
    series = data.series().merge(data.products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    panel = history_matrix(data.actuals, series, data.week, p.history_weeks)
    h_len = panel.values.shape[1]
    horizon = pd.date_range(data.week, periods=horizon_weeks, freq="7D")
    plan_all = to_matrix(data.demand_plan, series, panel.weeks.append(horizon), fill=np.nan)
    oo = to_matrix(data.open_orders, series, horizon)
    return _Inputs(series, panel.weeks, horizon, panel.values, plan_all[:, :h_len], plan_all[:, h_len:], oo)


@dataclass
class _Patterns:
    pattern: np.ndarray  # per series: smooth, seasonal, intermittent, lumpy, zero, insufficient
    observed: np.ndarray  # weeks of history
    adi: np.ndarray
    sigma: np.ndarray  # noise scale
    regular: np.ndarray  # bool: smooth (before seasonality)
    intermittent: np.ndarray  # bool: intermittent, lumpy or zero


def _patterns(y: np.ndarray, p: SensingParams) -> _Patterns:
    """Pattern per series (module doc, step 2) and its noise scale: robust for regular series, the
    plain standard deviation for intermittent ones (mostly-zero weeks make the median change 0)."""
    h_len = y.shape[1]
    pattern, observed, adi = classify(y, p.min_history_weeks)
    regular = np.isin(pattern, ["smooth"])
    intermittent = np.isin(pattern, ["intermittent", "lumpy", "zero"])
    sigma = robust_sigma(y[:, : h_len - p.lookback_weeks])
    if intermittent.any():
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.nan_to_num(np.nanstd(y[intermittent, : h_len - p.lookback_weeks], axis=1))
        sigma[intermittent] = np.fmax(spread, sigma[intermittent])
    return _Patterns(pattern, observed, adi, sigma, regular, intermittent)


def _clean(y: np.ndarray, pat: _Patterns, p: SensingParams) -> tuple[np.ndarray, np.ndarray]:
    """(one-off outlier mask, cleaned history): regular series only (module doc, step 3)."""
    outliers = np.zeros(y.shape, dtype=bool)
    cleaned = y.copy()
    if pat.regular.any():
        iso, clean = huber_outliers(y[pat.regular], pat.sigma[pat.regular], p.outlier_z)
        outliers[pat.regular], cleaned[pat.regular] = iso, clean
    return outliers, cleaned


@dataclass
class _Statistical:
    fitted: np.ndarray  # (N, 2L + 2 lag) lag forecasts from week H - 2L - lag on
    forecast: np.ndarray  # (N, Hz) statistical forecast, >= 0
    model: np.ndarray  # model name per series
    params: np.ndarray  # (N, 3) alpha, beta, phi


def _fit(y: np.ndarray, cleaned: np.ndarray, pattern: np.ndarray, season: np.ndarray, p: SensingParams, hz: int) -> _Statistical:
    """Damped trend / simple smoothing (+ seasonal profile) for regular series, TSB for intermittent
    ones; parameters chosen before the backtest window (module doc, step 5)."""
    n, h_len = y.shape
    lb, lag, dtype = p.lookback_weeks, p.backtest_lag_weeks, np.dtype(p.dtype)
    select_end = h_len - lb
    store_from = h_len - 2 * lb - lag
    fitted = np.full((n, 2 * lb + lag + lag), np.nan)  # lag forecasts for weeks store_from .. h_len-1+lag
    statistical = np.full((n, hz), np.nan)
    model = np.full(n, "none", dtype=object)
    params_out = np.full((n, 3), np.nan)
    seasonal = np.abs(season).sum(axis=1) > 0
    reg = np.flatnonzero(np.isin(pattern, ["smooth", "seasonal"]))
    if len(reg):
        deseason = cleaned[reg] - season[reg, :h_len]
        fit = fit_damped(deseason, HOLT_GRID, select_end=select_end, store_from=store_from, lag=lag, dtype=dtype)
        fitted[reg] = fit.stored + season[reg, store_from : h_len + lag]
        lvl, trd, phi = fit.state["level"], fit.state["trend"], fit.params[:, 2]
        steps = np.stack([lvl + phi_sum(phi, h) * trd for h in range(1, hz + 1)], axis=1)
        statistical[reg] = steps + season[reg, h_len:]
        params_out[reg] = fit.params
        model[reg] = np.where(fit.params[:, 1] > 0, "damped trend", "simple")
        model[reg] = np.where(seasonal[reg], model[reg] + " + seasonal", model[reg])
    inter = np.flatnonzero(np.isin(pattern, ["intermittent", "lumpy", "zero"]))
    if len(inter):
        fit = fit_tsb(y[inter], select_end=select_end, store_from=store_from, lag=lag, dtype=dtype)
        fitted[inter] = fit.stored
        statistical[inter] = (fit.state["prob"] * fit.state["size"])[:, None]
        params_out[inter, :2] = fit.params
        model[inter] = "tsb"
    return _Statistical(np.clip(fitted, 0, None), np.clip(statistical, 0, None), model, params_out)


@dataclass
class _Blend:
    sensed: np.ndarray  # (N, Hz)
    sensed_backtest: np.ndarray  # (N, L)
    w_stat: np.ndarray  # (N,) weight of the statistical forecast in horizon week 1


def _blend(inp: _Inputs, stat: _Statistical, pattern: np.ndarray, p: SensingParams) -> _Blend:
    """Backtest and live blend of the statistical forecast with the plan (module doc, steps 6-8)."""
    y, n, h_len = inp.y, inp.y.shape[0], inp.y.shape[1]
    lb, lag = p.lookback_weeks, p.backtest_lag_weeks
    # errors of each source over the last 2L weeks, weights from trailing windows
    window = slice(h_len - 2 * lb, h_len)
    stat_bt = stat.fitted[:, lag : lag + 2 * lb]  # targets h_len-2L .. h_len-1
    a_bt, p_bt = y[:, window], inp.plan_hist[:, window]
    err_stat, err_plan = a_bt - stat_bt, a_bt - p_bt
    # weight for target week j uses errors known `lag` weeks before it: columns .. j - lag
    mae_s, mae_p = _rolling_mae(err_stat, lb), _rolling_mae(err_plan, lb)

    def shift(m: np.ndarray) -> np.ndarray:  # the value known `lag` weeks earlier
        return np.concatenate([np.full((n, lag), np.nan), m[:, :-lag]], axis=1)

    w_bt = blend_weight(shift(mae_s), shift(mae_p))[:, lb:]
    sensed_bt = combine(stat_bt[:, lb:], p_bt[:, lb:], w_bt)
    sensed_bt = np.where(np.isin(pattern, ["insufficient"])[:, None], np.nan_to_num(p_bt[:, lb:]), sensed_bt)

    w = blend_weight(mae_s[:, -1], mae_p[:, -1])
    w = np.where(pattern == "insufficient", 0.0, w)
    hz = stat.forecast.shape[1]
    w_h = w[:, None] * _fade(hz, p.sensing_fade_weeks)[None, :]
    sensed = combine(stat.forecast, inp.plan_h, w_h)
    near = np.arange(hz) < p.open_orders_floor_weeks
    sensed[:, near] = np.maximum(sensed[:, near], inp.open_orders[:, near])
    return _Blend(sensed, sensed_bt, w)


def sense(data: Dataset, params: SensingParams | None = None, horizon_weeks: int = 13) -> Sensing:
    """Run demand sensing on every SKU-location of ``data`` (see the module doc for each step)."""
    p = params or SensingParams()
    inp = _gather(data, p, horizon_weeks)
    y, h_len = inp.y, inp.y.shape[1]
    pat = _patterns(y, p)
    outliers, cleaned = _clean(y, pat, p)
    season, r2 = fourier_seasonality(
        cleaned, pat.regular & (pat.observed >= p.seasonal_min_weeks), h_len - p.lookback_weeks,
        min_r2=p.seasonal_min_r2, extra=horizon_weeks,
    )
    pattern = np.where(np.abs(season).sum(axis=1) > 0, "seasonal", pat.pattern)
    stat = _fit(y, cleaned, pattern, season, p, horizon_weeks)
    mix = _blend(inp, stat, pattern, p)
    lb, lag = p.lookback_weeks, p.backtest_lag_weeks
    info = inp.series.assign(
        pattern=pattern,
        model=stat.model,
        alpha=stat.params[:, 0],
        beta=stat.params[:, 1],
        phi=stat.params[:, 2],
        history_weeks=pat.observed,
        adi=np.where(np.isfinite(pat.adi), pat.adi, np.nan),
        season_r2=r2,
        sigma=pat.sigma,
        w_stat=mix.w_stat,
        outlier_weeks=outliers.sum(axis=1),
    )
    result = Sensing(
        params=p,
        horizon=horizon_weeks,
        series=info,
        history_weeks=inp.history,
        horizon_weeks=inp.horizon,
        actual=y,
        plan_history=inp.plan_hist,
        fitted=stat.fitted[:, lag : lag + 2 * lb],
        sensed_backtest=mix.sensed_backtest,
        plan=inp.plan_h,
        open_orders=inp.open_orders,
        statistical=stat.forecast,
        sensed=mix.sensed,
        outliers=outliers,
        cleaned=cleaned,
        sigma=pat.sigma,
    )
    result.backtest_by_series = backtest_table(result)
    result.backtest = backtest_summary(result)
    return result


def backtest_table(s: Sensing) -> pd.DataFrame:
    """Per series WAPE over the last ``lookback_weeks`` of sensing, statistical, plan and naive forecasts."""
    lb, lag = s.params.lookback_weeks, s.params.backtest_lag_weeks
    a = s.actual[:, -lb:]
    plan = s.plan_history[:, -lb:]
    naive = naive_forecast(s.actual, lag)[:, -lb:]
    stat = s.fitted[:, lb:]
    # score every method on the same weeks: where the plan exists and the series had started
    keep = ~np.isnan(a) & ~np.isnan(plan)
    a = np.where(keep, a, np.nan)
    out = {}
    for name, f in (("sensing", s.sensed_backtest), ("statistical", stat), ("plan", plan), ("naive", naive)):
        parts = window_parts(a, np.where(np.isnan(f) & keep, 0.0, f))
        out[f"{name}_abs_err"] = parts["abs_err"]
        out[f"{name}_wape"] = metrics_from_parts(parts)["wape"]
    out["actual_qty"] = window_parts(a, np.where(keep, 0.0, np.nan))["sum_actual"]
    return pd.DataFrame(out, index=s.series.index)


def backtest_summary(s: Sensing) -> pd.DataFrame:
    """The ``sensing_backtest`` table: per method (sensing, statistical, plan, naive) and segment (all
    series, then each pattern), ``wape = sum|A - F| / sum A`` over the same scored weeks."""
    bt = s.backtest_by_series
    segments = {"all series": np.ones(len(bt), dtype=bool)} | {
        f"pattern: {p}": (s.series["pattern"] == p).to_numpy() for p in sorted(s.series["pattern"].unique())
    }
    rows = []
    for method in ("sensing", "statistical", "plan", "naive"):
        for label, mask in segments.items():
            actual = bt.loc[mask, "actual_qty"].sum()
            error = bt.loc[mask, f"{method}_abs_err"].sum()
            rows.append(
                {"method": method, "segment": label, "series": int(mask.sum()), "actual_qty": float(actual),
                 "abs_error_qty": float(error), "wape": error / actual if actual > 0 else np.nan}
            )
    return pd.DataFrame(rows)


def accuracy_table(s: Sensing) -> pd.DataFrame:
    """The ``forecast_accuracy`` output: plan accuracy per series, with sensing's own backtest beside it."""
    acc = series_accuracy(s.actual.astype(np.float64), s.plan_history, s.params.lookback_weeks)
    bt = s.backtest_by_series
    cols = ["sku", "location", "family", "unit_price", "pattern", "model", "history_weeks", "w_stat", "outlier_weeks"]
    out = pd.concat([s.series[cols].reset_index(drop=True), acc.reset_index(drop=True)], axis=1)
    out["sensing_wape"] = bt["sensing_wape"].to_numpy()
    out["statistical_wape"] = bt["statistical_wape"].to_numpy()
    out["error_value"] = out["abs_error_qty"] * out["unit_price"]
    return out

