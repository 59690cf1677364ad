"""Demand exceptions: what a demand planner must look at this week, each with the numbers behind it.

Kinds (one row each, vectorised over all series):

- ``spike`` / ``drop``: the mean of the last k weeks (k = 1..``recent_weeks``) against what the
  statistical model expected before them, in robust standard errors:
  ``z_k = (mean(A[-k:]) - mean(E[-k:])) / (sigma / sqrt k)``, E = the model's forecast made just before
  the window (flat level plus the seasonal profile). The k with the largest ``|z|`` wins; an exception
  when ``|z| > spike_z`` (``1.5 * spike_z`` for a single week) and the shift is at least ``min_shift``
  of the expectation. Robust to a single
  outlier because ``sigma`` comes from median absolute week-to-week changes.
- ``outlier``: a one-off week in the lookback window, cleaned from the history before fitting
  (:func:`soe_lib.sensing.engine.huber_outliers` on regular series; :func:`~soe_lib.sensing.engine.one_off_weeks`
  on any series from its second week of history, whatever its pattern, also while its history is
  "insufficient"): flagged, not allowed to move the forecast; high severity from 10x the usual week.
- ``persistent_bias``: ``|bias| > bias_threshold`` and ``|TS| > tracking_limit`` over the lookback window
  and ``|sum(A - F)| / (sigma sqrt n) > bias_z`` (material, consistent and out of the noise; regular
  series with at least 1 unit/week).
- ``tracking_signal``: ``|TS| > tracking_limit`` (APICS: out of control beyond +-4) with a bias between
  half the threshold and the threshold: the plan is drifting. (TS alone fires on a third of pure-noise
  series over 13 weeks; see the comment in the code.)
- ``sensed_vs_plan``: over the next ``deviation_weeks``, ``|sum sensed - sum plan| / sum plan > deviation_threshold``
  and ``|sum sensed - sum plan| > deviation_z * sigma * sqrt(weeks)``.
- ``insufficient_history``: fewer than ``min_history_weeks`` of actuals: no statistical forecast is invented.

Severity: ``high`` / ``medium`` / ``low`` by how far past its threshold the figure is (x2 / x1.5 / x1;
tracking signal x1.5 / x1); ``value`` = units of deviation x unit price, for ranking by money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.outputs import OUTPUTS
from .engine import Sensing
from .params import ExceptionParams

__all__ = [
    "COLUMNS",
    "bias_findings",
    "demand_exceptions",
    "insufficient_history",
    "order_exceptions",
    "outlier_weeks",
    "recent_shift",
    "sensed_vs_plan",
    "spikes_and_drops",
]

COLUMNS = OUTPUTS["demand_exceptions"].names  # the contract's order (soe_lib/core/outputs.py)


def _severity(ratio: np.ndarray, high: float = 2.0, medium: float = 1.5) -> np.ndarray:
    return np.select([ratio >= high, ratio >= medium], ["high", "medium"], "low")


def recent_shift(s: Sensing, recent_weeks: int) -> dict[str, np.ndarray]:
    """For each series, the strongest shift of the last k weeks (k = 1..recent_weeks) vs the model."""
    lb = s.params.lookback_weeks
    a = s.actual
    f = s.fitted  # lag forecasts for the last 2L weeks, column j = week h_len - 2L + j
    n, h_len = a.shape
    best_z = np.zeros(n)
    best = {"k": np.zeros(n, dtype=int), "actual": np.zeros(n), "expected": np.zeros(n)}
    for k in range(1, recent_weeks + 1):  # a handful of window lengths, each vectorised over series
        col = 2 * lb - k  # the forecast for the first week of the window: made before it
        expected = np.clip(f[:, col], 0, None)
        actual = a[:, h_len - k :].mean(axis=1)
        z = (actual - expected) / (s.sigma / np.sqrt(k))
        better = np.abs(np.nan_to_num(z)) > np.abs(best_z)
        best_z = np.where(better, z, best_z)
        best["k"] = np.where(better, k, best["k"])
        best["actual"] = np.where(better, actual, best["actual"])
        best["expected"] = np.where(better, expected, best["expected"])
    best["z"] = best_z
    return best


def _rows(info: pd.DataFrame, mask: np.ndarray, **cols) -> pd.DataFrame | None:
    """Exception rows for the series in ``mask``: per-series arrays are masked, scalars broadcast."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return None
    frame = info.loc[mask, ["sku", "location"]].reset_index(drop=True)
    for name, value in cols.items():
        frame[name] = value[mask] if isinstance(value, np.ndarray) and value.shape[:1] == mask.shape else value
    return frame


def spikes_and_drops(s: Sensing, info: pd.DataFrame, price: np.ndarray, p: ExceptionParams) -> pd.DataFrame | None:
    """``spike`` / ``drop`` rows: the strongest recent shift beyond ``spike_z`` and ``min_shift`` (regular series)."""
    regular = info["pattern"].isin(["smooth", "seasonal"]).to_numpy()
    shift = recent_shift(s, p.recent_weeks)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (shift["actual"] - shift["expected"]) / np.where(shift["expected"] > 0, shift["expected"], np.nan)
    # a single week must be as extreme as a one-off outlier to count: it may still be one
    limit = np.where(shift["k"] == 1, 1.5 * p.spike_z, p.spike_z)
    strong = regular & (np.abs(shift["z"]) > limit) & (np.abs(np.nan_to_num(rel, nan=np.inf)) >= p.min_shift)
    week_idx = s.actual.shape[1] - shift["k"]
    weeks = s.history_weeks.to_numpy()[np.clip(week_idx, 0, len(s.history_weeks) - 1)]
    up = shift["z"] > 0
    dev_units = (shift["actual"] - shift["expected"]) * shift["k"]
    return _rows(
        info,
        strong,
        week=weeks,
        kind=np.where(up, "spike", "drop"),
        severity=_severity(np.abs(shift["z"]) / p.spike_z),
        direction=np.where(up, "up", "down"),
        actual_qty=shift["actual"] * shift["k"],
        expected_qty=shift["expected"] * shift["k"],
        deviation_qty=dev_units,
        deviation_pct=rel,
        z_score=shift["z"],
        value=np.abs(dev_units) * price,
        detail=np.char.add(
            np.char.add("last ", shift["k"].astype(str)),
            np.where(shift["k"] == 1, " week vs the model's expectation", " weeks vs the model's expectation"),
        ),
    )


def outlier_weeks(s: Sensing, info: pd.DataFrame, price: np.ndarray) -> pd.DataFrame | None:
    """``outlier`` rows: one-off weeks in the lookback window, cleaned from the history before fitting."""
    lb = s.params.lookback_weeks
    rows, cols = np.nonzero(s.outliers[:, -lb:])
    if not len(rows):
        return None
    col = s.actual.shape[1] - lb + cols
    out = info.loc[rows, ["sku", "location"]].reset_index(drop=True)
    # what the week would have been: the value it was cleaned to (the filter's level, the median of the
    # series' non-zero weeks, or its plan while its history is short)
    expected = np.nan_to_num(s.cleaned[rows, col])
    actual = s.actual[rows, col]
    out["week"] = s.history_weeks.to_numpy()[col]
    out["kind"] = "outlier"
    out["direction"] = np.where(actual > expected, "up", "down")
    out["actual_qty"] = actual
    out["expected_qty"] = expected
    out["deviation_qty"] = actual - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        out["deviation_pct"] = np.where(expected > 0, (actual - expected) / expected, np.nan)
    out["z_score"] = (actual - expected) / s.sigma[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(expected > 0, actual / expected, np.inf)
    # a giant order (10x the usual week) is a high-severity finding whatever the series' history
    out["severity"] = np.select([times >= 10, times >= 5], ["high", "medium"], "low")
    out["value"] = np.abs(actual - expected) * price[rows]
    size = np.where(np.isfinite(times), pd.Series(times).map("{:,.0f}x".format).to_numpy(), "far above")
    out["detail"] = np.char.add(np.char.add("one-off week: ", size.astype(str)), " the usual week; left out of the forecast (a shift would be kept)")
    return out


def bias_findings(s: Sensing, info: pd.DataFrame, accuracy: pd.DataFrame, price: np.ndarray, p: ExceptionParams) -> list[pd.DataFrame | None]:
    """``persistent_bias`` and ``tracking_signal`` rows (see the comment below for why both gates)."""
    # Over 13 weeks the tracking signal of pure noise has a standard deviation of about
    # 1.25 * sqrt(13) = 4.5, so |TS| > 4 alone would flag a third of all series (alert overload). An
    # exception needs a consistent error (|TS| > limit) that is also material (|bias| > bias_threshold:
    # persistent bias; half of it: the plan is drifting). Intermittent series are left to the family
    # roll-ups: over 13 weeks their bias is mostly noise.
    lb = s.params.lookback_weeks
    acc = accuracy.reset_index(drop=True)
    regular = info["pattern"].isin(["smooth", "seasonal"]).to_numpy()
    eligible = regular & (acc["actual_qty"].to_numpy() >= lb)
    bias = acc["bias"].to_numpy()
    ts = acc["tracking_signal"].to_numpy()
    plan_minus_actual = (acc["plan_qty"] - acc["actual_qty"]).to_numpy()
    # and the summed error must stand out of the week-to-week noise: |sum(A - F)| / (sigma * sqrt n) > bias_z
    with np.errstate(divide="ignore", invalid="ignore"):
        z_sum = -plan_minus_actual / (s.sigma * np.sqrt(np.maximum(acc["weeks"].to_numpy(), 1)))
    consistent = eligible & (np.abs(np.nan_to_num(ts)) > p.tracking_limit) & (np.abs(np.nan_to_num(z_sum)) > p.bias_z)
    abs_bias = np.abs(np.nan_to_num(bias))
    common = dict(
        week=s.horizon_weeks[0],
        direction=np.where(bias > 0, "over-forecast", "under-forecast"),
        actual_qty=acc["actual_qty"].to_numpy(),
        expected_qty=acc["plan_qty"].to_numpy(),
        deviation_qty=-plan_minus_actual,
        deviation_pct=-bias,
        bias=bias,
        tracking_signal=ts,
        z_score=z_sum,
        value=np.abs(plan_minus_actual) * price,
    )
    persistent = _rows(
        info,
        consistent & (abs_bias > p.bias_threshold),
        kind="persistent_bias",
        severity=_severity(abs_bias / p.bias_threshold),
        detail=f"plan vs actual over the last {lb} weeks: bias beyond +-{p.bias_threshold:.0%}, tracking signal beyond +-{p.tracking_limit:g}",
        **common,
    )
    drifting = _rows(
        info,
        consistent & (abs_bias > p.bias_threshold / 2) & (abs_bias <= p.bias_threshold),
        kind="tracking_signal",
        severity=_severity(np.abs(np.nan_to_num(ts)) / p.tracking_limit, high=2.0, medium=1.5),
        detail=f"tracking signal beyond +-{p.tracking_limit:g} over the last {lb} weeks: the plan is drifting",
        **common,
    )
    return [persistent, drifting]


def _near_sums(s: Sensing, p: ExceptionParams) -> tuple[int, np.ndarray, np.ndarray]:
    """(weeks k, sensed and plan summed over the next k weeks)."""
    k = min(p.deviation_weeks, s.sensed.shape[1])
    return k, s.sensed[:, :k].sum(axis=1), np.nansum(s.plan[:, :k], axis=1)


def sensed_vs_plan(s: Sensing, info: pd.DataFrame, price: np.ndarray, p: ExceptionParams) -> pd.DataFrame | None:
    """``sensed_vs_plan`` rows: the next weeks' sensed demand far from the plan, beyond the series' noise."""
    k, sensed_k, plan_k = _near_sums(s, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = (sensed_k - plan_k) / np.where(plan_k > 0, plan_k, np.nan)
    big = np.abs(np.nan_to_num(dev, nan=0.0)) > p.deviation_threshold
    big |= (plan_k == 0) & (sensed_k >= k)  # demand sensed where the plan has none
    # and beyond the series' own noise (a lumpy item's sensed and planned means differ by chance)
    big &= np.abs(sensed_k - plan_k) > p.deviation_z * s.sigma * np.sqrt(k)
    return _rows(
        info,
        big & (info["pattern"] != "insufficient").to_numpy(),
        week=s.horizon_weeks[0],
        kind="sensed_vs_plan",
        severity=_severity(np.abs(np.nan_to_num(dev, nan=np.inf)) / p.deviation_threshold),
        direction=np.where(sensed_k > plan_k, "up", "down"),
        actual_qty=sensed_k,
        expected_qty=plan_k,
        deviation_qty=sensed_k - plan_k,
        deviation_pct=dev,
        value=np.abs(sensed_k - plan_k) * price,
        detail=f"sensed vs plan over the next {k} weeks",
    )


def insufficient_history(s: Sensing, info: pd.DataFrame, p: ExceptionParams) -> pd.DataFrame | None:
    """``insufficient_history`` rows: too few weeks of actuals for a statistical forecast."""
    _, _, plan_k = _near_sums(s, p)
    return _rows(
        info,
        (info["pattern"] == "insufficient").to_numpy(),
        week=s.horizon_weeks[0],
        kind="insufficient_history",
        severity="low",
        direction="",
        actual_qty=np.nan_to_num(np.nansum(s.actual, axis=1)),
        expected_qty=plan_k,
        value=np.zeros(len(info)),
        detail=np.char.add(
            np.char.add("only ", info["history_weeks"].to_numpy().astype(str)),
            f" weeks of history (< {s.params.min_history_weeks}): the plan is used, no statistical forecast",
        ),
    )


def _empty() -> pd.DataFrame:
    text = {"sku", "location", "kind", "severity", "direction", "detail"}
    dtypes = {c: "str" if c in text else "datetime64[ns]" if c == "week" else "float64" for c in COLUMNS}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def demand_exceptions(s: Sensing, accuracy: pd.DataFrame, p: ExceptionParams | None = None) -> pd.DataFrame:
    """All demand exceptions of this week (see module doc), most severe and valuable first; columns :data:`COLUMNS`.

    ``accuracy``: the plan's accuracy per series on the outlier-cleaned history (the bias findings use it).
    """
    p = p or ExceptionParams()
    info = s.series.reset_index(drop=True)
    price = info["unit_price"].fillna(0).to_numpy()
    frames = [
        spikes_and_drops(s, info, price, p),
        outlier_weeks(s, info, price),
        *bias_findings(s, info, accuracy, price, p),
        sensed_vs_plan(s, info, price, p),
        insufficient_history(s, info, p),
    ]
    frames = [f for f in frames if f is not None]
    if not frames:
        return _empty()
    return order_exceptions(pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS))


KINDS = ("spike", "drop", "outlier", "persistent_bias", "tracking_signal", "sensed_vs_plan", "insufficient_history")


def order_exceptions(exceptions: pd.DataFrame) -> pd.DataFrame:
    """Most severe first, then most valuable; ties by kind, SKU, location and week, so the order is the
    same whichever parts of the series the rows were found in (the Dask engine finds them per part)."""
    if exceptions.empty:
        return exceptions.reset_index(drop=True)
    rank = {"high": 0, "medium": 1, "low": 2}
    key = pd.DataFrame({
        "severity": exceptions["severity"].map(rank).to_numpy(), "value": -exceptions["value"].fillna(0).to_numpy(),
        "kind": exceptions["kind"].map({k: i for i, k in enumerate(KINDS)}).fillna(len(KINDS)).to_numpy(),
        "sku": exceptions["sku"].astype(str).to_numpy(), "location": exceptions["location"].astype(str).to_numpy(),
        "week": exceptions["week"].to_numpy(),
    })
    order = key.sort_values(list(key.columns), kind="stable").index.to_numpy()
    return exceptions.iloc[order].reset_index(drop=True)
