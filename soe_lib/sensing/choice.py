"""The backtest chooses: per series, the forecast with the lowest out-of-sample error, and its uncertainty.

Candidates, each as a forecast made ``lag`` weeks before the week it is for (all series at once):

| name | forecast |
|---|---|
| ``statistical`` | the engine's smoothing model (damped / simple / seasonal; TSB for intermittent series) |
| ``plan`` | the S&OP plan |
| ``blend`` | the mean of the statistical forecast and the plan |
| ``naive`` | the last actual |
| ``ma4``, ``ma8``, ``ma13`` | the mean of the last 4 / 8 / 13 actuals |
| ``seasonal_naive`` | the actual of the same week a year (52 weeks) earlier |
| ``seasonal_level`` | seasonal naive moved by how far the level moved since: ``A[t-52] + MA13[o] - MA13[o-52]`` (``o`` the origin) |
| ``combination`` | the mean of the statistical forecast, MA 8, MA 13 and the plan (those that exist) |

**Honest choice.** The backtest scores the last ``L`` weeks (the evaluation window). The choice for
those weeks is made on the ``L`` weeks *before* them (the selection window): mean absolute error per
series, over the weeks where the candidate has a forecast (a candidate with forecasts in fewer than
half of them is not eligible). A series takes its pattern's choice (errors pooled over the segment's
series; always for intermittent, lumpy and zero series, whose windows hold too few demand events to
judge one series) unless it has ``min_weeks`` scored weeks and a candidate of its own at least 20 % better than it
(``margin``): the best of ten over 13 weeks is partly luck. Errors are averaged over forecasts made 1, 2,
3 and 4 weeks ahead: the choice is for the weeks the meeting acts on, not only the next one. For
intermittent, lumpy and zero series the error is squared: the absolute error rewards forecasting zero
(the median of mostly-zero weeks), the squared error the mean, which is what supply has to cover. The live forecast is chosen the same
way on the evaluation window (the most recent weeks, all in the past now).

**Uncertainty.** Errors of the chosen forecast, divided by the series' scale (its mean actual over the
window, at least 1), pooled per pattern: their 10 %, 50 % and 90 % quantiles ``q``. ``P_k = max(0,
forecast + q_k x scale x sqrt(h))`` for horizon week ``h`` (errors grow with the horizon). The backtest
checks calibration honestly: quantiles from the selection window, coverage on the evaluation window.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CANDIDATES", "Choice", "ChoiceErrors", "TrailingMeans", "backtest_candidates", "band_errors", "choice_errors", "choose", "choose_from",
    "live_candidates",
    "pool_stats", "pooled_choice", "quantile_bands", "running_sums", "segment_quantiles",
]

CANDIDATES = ("statistical", "plan", "blend", "naive", "ma4", "ma8", "ma13", "seasonal_naive", "seasonal_level", "combination")
PLAN_SHARE = {"plan": 1.0, "blend": 0.5, "combination": 0.25}  # the S&OP plan's share of each candidate (the rest is the actuals')
QUANTILES = (0.1, 0.5, 0.9)
# a series leaves its pattern's choice for a forecast of its own only when that is 20 % better over the
# window (measured on the real-data benchmark: per-series choices without a margin chase luck)
CLEARLY_BETTER = 0.8


Sums = tuple[np.ndarray, np.ndarray]


def running_sums(y: np.ndarray) -> Sums:
    """Cumulative sums of the observed values and of their count along the weeks (with a leading 0 column):
    computed once, they give any trailing mean at any week in two subtractions."""
    n, h = y.shape
    cs, cc = np.zeros((n, h + 1)), np.zeros((n, h + 1), dtype=np.float32)
    np.cumsum(np.nan_to_num(y), axis=1, out=cs[:, 1:])
    np.cumsum(np.isfinite(y), axis=1, out=cc[:, 1:])
    return cs, cc


def _mean_at(sums: Sums, cols: np.ndarray, k: int) -> np.ndarray:
    """``m[:, j]`` = mean of the observed values among weeks ``cols[j]-k+1 .. cols[j]`` (NaN when none or
    when ``cols[j] < 0``)."""
    cs, cc = sums
    cols = np.asarray(cols)
    if len(cols) and cols[0] + 1 - k >= 0 and (np.diff(cols) == 1).all():
        # consecutive weeks (the usual case): slices, not a gather, 8x faster at 100k series
        hi, lo = slice(cols[0] + 1, cols[-1] + 2), slice(cols[0] + 1 - k, cols[-1] + 2 - k)
        total, count = cs[:, hi] - cs[:, lo], cc[:, hi] - cc[:, lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)
    at = np.clip(cols, 0, None)
    lo = np.clip(at + 1 - k, 0, None)
    total, count = cs[:, at + 1] - cs[:, lo], cc[:, at + 1] - cc[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((count > 0) & (cols >= 0)[None, :], total / count, np.nan)


class TrailingMeans:
    """Trailing k-week means at every origin week of ``origins`` (consecutive), each k computed once: the
    backtests said 1..4 weeks ahead and the live forecast read overlapping origins (at 100k series, 25
    gathers of the running sums took 2 s; slices of four matrices take 0.2 s)."""

    def __init__(self, sums: Sums, origins: np.ndarray) -> None:
        self.sums, self.origins = sums, np.asarray(origins)
        self._done: dict[tuple[int, int], np.ndarray] = {}

    def at(self, cols: np.ndarray, k: int, shift: int = 0) -> np.ndarray:
        """``_mean_at(sums, cols - shift, k)``, sliced from the matrix of ``(k, shift)``."""
        cols = np.asarray(cols)
        lo = self.origins[0]
        inside = len(cols) and cols[0] >= lo and cols[-1] <= self.origins[-1] and (np.diff(cols) == 1).all()
        if not inside:
            return _mean_at(self.sums, cols - shift, k)
        if (k, shift) not in self._done:
            self._done[(k, shift)] = _mean_at(self.sums, self.origins - shift, k)
        return self._done[(k, shift)][:, cols[0] - lo : cols[-1] - lo + 1]


def backtest_candidates(y: np.ndarray, plan: np.ndarray, statistical: np.ndarray, lag: int, start: int,
                        sums: Sums | None = None, means: TrailingMeans | None = None) -> dict[str, np.ndarray]:
    """Each candidate's forecast for target weeks ``start .. H-1`` made ``lag`` weeks before
    (``statistical``: the engine's lag forecasts for those same weeks; ``sums``: :func:`running_sums` of ``y``
    when the caller has them; ``means``: trailing means shared with other lags)."""
    h = y.shape[1]
    targets = np.arange(start, h)
    origin = targets - lag  # the last week known when the forecast was made
    means = means or TrailingMeans(running_sums(y) if sums is None else sums, origin)
    out = {"statistical": statistical, "plan": plan[:, targets]}
    out["blend"] = 0.5 * (out["statistical"] + out["plan"])
    out["naive"] = _pick(y, origin)
    for k in (4, 8, 13):
        out[f"ma{k}"] = means.at(origin, k)
    out["seasonal_naive"] = _pick(y, targets - 52)
    out["seasonal_level"] = out["seasonal_naive"] + means.at(origin, 13) - means.at(origin, 13, shift=52)
    out["combination"] = _combination(out)
    return out


def _combination(c: dict[str, np.ndarray]) -> np.ndarray:
    """The mean of the statistical forecast, the 8- and 13-week averages and the plan (those that
    exist): combining forecasts that err differently is a robust forecast of its own."""
    total, count = np.zeros(c["ma8"].shape), np.zeros(c["ma8"].shape, dtype=np.int8)
    for part in (c["statistical"], c["ma8"], c["ma13"], c["plan"]):  # a NaN-skipping mean without a 4x stack
        ok = np.isfinite(part)
        np.add(total, part, out=total, where=ok)
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= count  # 0 / 0: NaN where no part has a forecast
    return total


def _pick(m: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Columns ``cols`` of ``m``; NaN where a column is before the first."""
    out = m[:, np.clip(cols, 0, None)]
    return np.where((cols >= 0)[None, :], out, np.nan)


def live_candidates(y: np.ndarray, plan_h: np.ndarray, statistical: np.ndarray, sums: Sums | None = None,
                    means: TrailingMeans | None = None) -> dict[str, np.ndarray]:
    """Each candidate's forecast for the horizon weeks (flat for the naive and moving averages)."""
    n, hz = statistical.shape
    h = y.shape[1]
    now = np.array([h - 1])
    means = means or TrailingMeans(running_sums(y) if sums is None else sums, now)
    flat = lambda v: np.repeat(v[:, None], hz, axis=1)  # noqa: E731
    out = {"statistical": statistical, "plan": plan_h}
    out["blend"] = 0.5 * (statistical + np.where(np.isnan(plan_h), statistical, plan_h))
    out["naive"] = flat(_last_observed(y))
    for k in (4, 8, 13):
        out[f"ma{k}"] = flat(means.at(now, k)[:, 0])
    season = h - 52 + np.arange(hz)
    out["seasonal_naive"] = np.where((season >= 0)[None, :], y[:, np.clip(season, 0, h - 1)], np.nan)
    shift = (means.at(now, 13) - means.at(now, 13, shift=52))[:, 0]  # the level now vs a year ago
    out["seasonal_level"] = out["seasonal_naive"] + shift[:, None]
    out["combination"] = _combination(out)
    return out


def _last_observed(y: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    idx = np.where(ok.any(axis=1), y.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    return np.where(ok.any(axis=1), y[np.arange(len(y)), idx], np.nan)


@dataclass
class Choice:
    index: np.ndarray  # (N,) position in CANDIDATES of the chosen forecast
    mae: np.ndarray  # (N, C) mean absolute error per candidate in the choosing window

    @property
    def names(self) -> np.ndarray:
        return np.array(CANDIDATES, dtype=object)[self.index]

    @property
    def plan_share(self) -> np.ndarray:
        return np.array([PLAN_SHARE.get(c, 0.0) for c in CANDIDATES])[self.index]

    def take(self, forecasts: dict[str, np.ndarray]) -> np.ndarray:
        """The chosen candidate's forecasts (N, W), per series."""
        out = np.full(forecasts[CANDIDATES[0]].shape, np.nan)
        for j, c in enumerate(CANDIDATES):  # ten candidates, each over all series at once (no 10x stack)
            rows = self.index == j
            out[rows] = forecasts[c][rows]
        return out


@dataclass
class ChoiceErrors:
    """Each candidate's error per series and week of a window (what a choice is made from)."""

    errors: np.ndarray  # (N, C, W) mean error over the forecast sets (squared for mostly-zero series)
    has: np.ndarray  # (N, C, W) the candidate had a forecast for a scored week
    weeks: np.ndarray  # (N,) scored weeks
    squared: np.ndarray | None

    def window(self, actual: np.ndarray, cols: slice) -> ChoiceErrors:
        """The errors of weeks ``cols`` alone (``actual``: the whole window's). Each week's error is its own,
        so one computation over the selection and the evaluation windows serves both choices."""
        return ChoiceErrors(self.errors[:, :, cols], self.has[:, :, cols], np.isfinite(actual[:, cols]).sum(axis=1), self.squared)


def choice_errors(actual: np.ndarray, forecasts: dict[str, np.ndarray] | list[dict[str, np.ndarray]],
                  squared: np.ndarray | None = None) -> ChoiceErrors:
    """The errors :func:`choose` compares. ``forecasts``: one dict of candidates, or several (the same
    weeks forecast from different lags: the errors are averaged over them)."""
    scored = np.isfinite(actual)
    errors = _mean_error(actual, forecasts if isinstance(forecasts, list) else [forecasts])  # (N, C, W)
    if squared is not None and squared.any():
        # intermittent demand: the absolute error rewards forecasting zero (the median of mostly-zero weeks);
        # the squared error rewards the mean, which is what supply must cover
        errors[squared] = errors[squared] ** 2
    return ChoiceErrors(errors, np.isfinite(errors) & scored[:, None, :], scored.sum(axis=1), squared)


# Pooling per segment is done from sums that add up over any split of the series (the Dask engine sums
# them over partitions): per segment, the scored week-cells counted by which candidates had a forecast
# (a bit mask of the C candidates) and each candidate's error summed over the cells of each mask.
MASKS = 1 << len(CANDIDATES)


def pool_stats(ce: ChoiceErrors, segment: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per segment: (cells per candidate mask (M,), error sums per mask and candidate (M, C))."""
    mask = np.zeros(ce.has.shape[::2], dtype=np.int64)  # (N, W)
    for j in range(len(CANDIDATES)):
        mask |= ce.has[:, j, :].astype(np.int64) << j
    out = {}
    for seg in np.unique(segment):
        rows = segment == seg
        m = mask[rows].ravel()
        counts = np.bincount(m, minlength=MASKS).astype(float)
        sums = np.stack([np.bincount(m, weights=np.where(ce.has[rows, j, :], ce.errors[rows, j, :], 0.0).ravel(), minlength=MASKS)
                         for j in range(len(CANDIDATES))], axis=1)
        out[str(seg)] = (counts, sums)
    return out


def pooled_choice(stats: list[dict[str, tuple[np.ndarray, np.ndarray]]]) -> dict[str, int]:
    """Per segment the candidate with the least error summed over the segment's series, among the
    candidates it has forecasts of at all (no seasonal naive before a year of history), compared on the
    weeks where every one of them had one (a fair comparison). ``stats``: :func:`pool_stats` of any
    split of the series."""
    merged: dict[str, list[np.ndarray]] = {}
    for part in stats:
        for seg, (counts, sums) in part.items():
            if seg in merged:
                merged[seg][0] = merged[seg][0] + counts
                merged[seg][1] = merged[seg][1] + sums
            else:
                merged[seg] = [counts.copy(), sums.copy()]
    bits = (np.arange(MASKS)[:, None] >> np.arange(len(CANDIDATES))[None, :]) & 1  # (M, C)
    out = {}
    for seg, (counts, sums) in merged.items():
        cover = counts @ bits  # scored weeks with a forecast, per candidate
        avail = (cover > 0) & (cover >= 0.5 * cover.max(initial=0))
        both = (bits[:, avail] == 1).all(axis=1)  # the masks where every available candidate had one
        if avail.any() and counts[both].sum() > 0:
            seg_err = sums[both][:, avail].sum(axis=0)
            out[seg] = int(np.flatnonzero(avail)[np.argmin(seg_err)])
    return out


def choose(actual: np.ndarray, forecasts: dict[str, np.ndarray] | list[dict[str, np.ndarray]], segment: np.ndarray, min_weeks: int = 6,
           fallback: str = "plan", margin: float = CLEARLY_BETTER, squared: np.ndarray | None = None) -> Choice:
    """Per series the candidate with the least mean error over ``actual``'s scored weeks (see the module
    doc): its own choice with enough weeks, else its segment's pooled choice, decided from these series."""
    ce = choice_errors(actual, forecasts, squared)
    return choose_from(ce, segment, pooled_choice([pool_stats(ce, segment)]), min_weeks, fallback, margin)


def choose_from(ce: ChoiceErrors, segment: np.ndarray, pooled: dict[str, int], min_weeks: int = 6, fallback: str = "plan",
                margin: float = CLEARLY_BETTER) -> Choice:
    """:func:`choose` from errors already computed and pooled choices already decided (the Dask engine
    decides them from every part of the series)."""
    counts = ce.has.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mae = np.where(ce.has, ce.errors, 0.0).sum(axis=2) / counts
    eligible = counts * 2 >= np.maximum(ce.weeks, 1)[:, None]
    own = np.where(eligible & np.isfinite(mae), mae, np.inf)
    index = np.argmin(own, axis=1)
    seg_index = np.full(len(own), CANDIDATES.index(fallback))
    for seg, j in pooled.items():  # a handful of pattern segments
        seg_index[segment == seg] = j
    short = (ce.weeks < min_weeks) | ~np.isfinite(own.min(axis=1))
    if ce.squared is not None:
        # mostly-zero series hold a few demand events in a window: which candidate hit them is luck (the
        # naive forecast "wins" on a lumpy series whose last week happened to sell), so they take the segment's choice
        short |= ce.squared
    # a series leaves its segment's choice only for a clearly better forecast of its own: over 13 weeks the
    # best of ten candidates is partly luck, and a margin keeps that luck out of the published forecast
    seg_mae = own[np.arange(len(own)), seg_index]
    clearly = own.min(axis=1) < margin * seg_mae
    return Choice(np.where(short | ~clearly, seg_index, index), mae)


def _mean_error(actual: np.ndarray, sets: list[dict[str, np.ndarray]]) -> np.ndarray:
    """(N, C, W): per candidate and week, the mean of ``|F - A|`` over the forecast sets that have one
    (NaN where none): accumulated set by set, never stacking all sets at once (memory at 100k series).
    In float32: a choice needs no more digits, and the passes over (N, W) arrays are half the bytes; a
    candidate that is the same array in every set (the plan, the seasonal naive) is scored once."""
    n, w = actual.shape
    total, count = np.zeros((len(CANDIDATES), n, w), dtype=np.float32), np.zeros((len(CANDIDATES), n, w), dtype=np.int8)
    e = np.empty((n, w), dtype=np.float32)
    for j, c in enumerate(CANDIDATES):  # candidate first: each += below is contiguous
        arrays = [f[c] for f in sets]
        for f in arrays[:1] if all(a is arrays[0] for a in arrays) else arrays:
            np.subtract(f, actual, out=e, casting="same_kind")
            np.abs(e, out=e)
            ok = np.isfinite(e)
            np.add(total[j], e, out=total[j], where=ok)
            count[j] += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= count  # in place (0 / 0: NaN where no set has one): no third array of this size
    return np.moveaxis(total, 0, 1)


def band_errors(actual: np.ndarray, forecast: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(scale per series: its mean actual over the window, at least 1; per segment the finite scaled
    errors ``(A - F) / scale``): what :func:`segment_quantiles` reads, from any split of the series."""
    scale = _scale(actual)
    rel = (actual - forecast) / scale[:, None]
    return scale, {str(seg): rel[segment == seg][np.isfinite(rel[segment == seg])] for seg in np.unique(segment)}


def _scale(actual: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.fmax(np.nan_to_num(np.nanmean(actual, axis=1)), 1.0)


def segment_quantiles(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per segment the 10/50/90 % quantiles of the scaled errors of all parts (a symmetric band of the
    segment's error size when fewer than 10 errors)."""
    segs = sorted({s for part in parts for s in part})
    out = {}
    for seg in segs:
        values = np.concatenate([part[seg] for part in parts if seg in part])
        if len(values) >= 10:
            out[seg] = np.quantile(values, QUANTILES)
        else:  # too few errors to read quantiles from
            spread = float(np.nanmean(np.abs(values))) if len(values) else 0.5
            out[seg] = np.array([-1.28 * spread, 0.0, 1.28 * spread])
    return out


def quantile_bands(actual: np.ndarray, forecast: np.ndarray, segment: np.ndarray,
                   quantiles: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(scale per series, quantiles per series (N, 3)): errors of ``forecast`` over the window divided by
    the series' scale (mean actual, at least 1), their 10/50/90 % quantiles pooled per segment
    (``quantiles``: decided from all series when they were split)."""
    scale = _scale(actual)
    quantiles = quantiles if quantiles is not None else segment_quantiles([band_errors(actual, forecast, segment)[1]])
    q = np.zeros((len(actual), len(QUANTILES)))
    for seg, qs in quantiles.items():
        q[segment == seg] = qs
    return scale, q
