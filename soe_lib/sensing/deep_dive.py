"""The analyst's deep dive on one SKU-location: statsmodels' view of the series beside the engine's.

The weekly engine fits every series at once from a small parameter grid (:mod:`.smoothing`). For the
one item an analyst is looking at, statsmodels fits the same model family by maximum likelihood, an
``ETSModel`` with additive error and additive damped trend, ETS(A,Ad,N)::

    y[t] = l[t-1] + phi * b[t-1] + e[t]
    l[t] = l[t-1] + phi * b[t-1] + alpha * e[t]
    b[t] = phi * b[t-1] + beta * e[t]

and gives what the grid cannot: an information criterion and prediction intervals for the horizon.
Its trend smoothing is reported in the engine's (Holt's) convention, ``beta = beta_ets / alpha``. The history is the engine's (last ``history_weeks``), from the series' first week,
with the one-off outliers the engine cleaned replaced by the median week (a single order of ten
weeks' demand would otherwise widen every interval).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .step import SensingWeek

__all__ = ["DeepDive", "deep_dive"]

MIN_WEEKS = 10  # fewer observations than this: statsmodels' estimates mean little


@dataclass
class DeepDive:
    sku: str
    location: str
    parameters: pd.DataFrame  # parameter, engine (grid choice), statsmodels (maximum likelihood)
    forecast: pd.DataFrame  # week, engine statistical forecast, statsmodels mean and 80 % / 95 % intervals
    aic: float
    note: str  # what was fitted, or why nothing was


def _history(demand: SensingWeek, i: int) -> pd.Series:
    """Weekly history from the series' first week, one-off outliers replaced by the median week."""
    s = demand.sensing
    y = s.actual[i].astype(float)
    clean = np.where(s.outliers[i], np.nan, y)
    y = np.where(s.outliers[i], np.nanmedian(clean), y)
    first = np.flatnonzero(~np.isnan(y))
    start = first[0] if len(first) else len(y)
    return pd.Series(y[start:], index=pd.DatetimeIndex(s.history_weeks[start:], freq="W-MON"))


def deep_dive(demand: SensingWeek, sku: str, location: str) -> DeepDive:
    """statsmodels' ETS(A,Ad,N) fit of one SKU-location, beside the engine's parameters and forecast."""
    s = demand.sensing
    match = ((s.series["sku"] == sku) & (s.series["location"] == location)).to_numpy()
    if not match.any():
        raise KeyError(f"no SKU-location {sku!r} @ {location!r} in this week's data")
    i = int(np.flatnonzero(match)[0])
    info = s.series.iloc[i]
    engine = pd.DataFrame({"week": s.horizon_weeks, "engine_statistical": s.statistical[i].astype(float), "engine_sensed": s.sensed[i].astype(float)})
    params = pd.DataFrame({"parameter": ["alpha", "beta", "phi"], "engine": [info["alpha"], info["beta"], info["phi"]], "statsmodels": np.nan})
    y = _history(demand, i)
    if len(y) < MIN_WEEKS or y.std() == 0:
        return DeepDive(sku, location, params, engine, np.nan, f"{len(y)} weeks of history without variation to fit: nothing to estimate")

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # only for the item being studied

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
        pred = fit.get_prediction(start=len(y), end=len(y) + len(s.horizon_weeks) - 1)
        band80, band95 = pred.summary_frame(alpha=0.2), pred.summary_frame(alpha=0.05)
    est = dict(zip(fit.param_names, np.asarray(fit.params, dtype=float), strict=True))
    # statsmodels' trend smoothing is the error-correction form (b += beta* e); the engine's is Holt's
    # (b = beta (l - l_prev) + (1 - beta) phi b_prev): beta = beta* / alpha
    alpha = est["smoothing_level"]
    params["statsmodels"] = [alpha, est["smoothing_trend"] / alpha if alpha > 0 else np.nan, est["damping_trend"]]
    forecast = engine.assign(
        statsmodels_mean=np.clip(band80["mean"].to_numpy(), 0, None),
        lower_80=np.clip(band80["pi_lower"].to_numpy(), 0, None),
        upper_80=band80["pi_upper"].to_numpy(),
        lower_95=np.clip(band95["pi_lower"].to_numpy(), 0, None),
        upper_95=band95["pi_upper"].to_numpy(),
    )
    note = f"ETS(A,Ad,N) by maximum likelihood on {len(y)} weeks ({int(s.outliers[i].sum())} one-off weeks replaced by the median)"
    return DeepDive(sku, location, params, forecast, float(fit.aic), note)
