"""What lanes really do: delays of past deliveries by lane, mode, supplier and carrier, shrunk where a lane has
few deliveries, and the predicted receipt week of every open line.

A delivery's delay is ``delay = receipt_week - planned_week`` in weeks (negative: early). For a group ``g`` of
deliveries (a lane ``origin -> destination by mode``, a mode, a supplier, a carrier) with ``n_g`` deliveries, its
raw figures are the mean, the median (P50) and the 90th percentile (P90) of their delays, and the on-time share
(delay <= 0). A lane with few deliveries says little, so its figures are **shrunk** towards what the deliveries
around it say (empirical Bayes with a prior worth ``k`` deliveries, ``prior_deliveries``):

    w_g       = n_g / (n_g + k)
    mode_q    = w_m * raw_q(mode) + (1 - w_m) * raw_q(all deliveries)
    effect_s  = w_s * (raw_q(supplier s) - mean of mode_q over s's deliveries)      (the supplier's own lateness)
    prior_q   = mode_q + effect_s
    lane_q    = w_l * raw_q(lane) + (1 - w_l) * prior_q

for ``q`` in mean, P50 and P90 (P90 kept at or above P50). The ``lane_reliability`` table gives every group's raw
figures and, for lanes, the figures shrunk towards their mode; an open line's prediction uses its lane, mode and
supplier together (``eta_forecast``): ``predicted P50 week = planned week + round(lane P50)``, and where the stated
ETA is already later than planned, ``max(stated ETA, that)`` (a supplier's stated delay is news the history cannot
have; without news, a lane that delivers early is predicted early); the same for P90. The trend is the mean delay of the
deliveries received in the last ``trend_weeks`` weeks minus that of the ones before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.weeks import weeks_between

__all__ = ["LANE", "FIGURES", "Learnt", "delivery_delays", "eta_forecast", "lane_reliability", "learn", "shrunk_delays"]

LANE = ["origin", "destination", "mode"]
FIGURES = ["mean_delay_weeks", "p50_delay_weeks", "p90_delay_weeks"]
_QUANTILES = {"p50_delay_weeks": 0.5, "p90_delay_weeks": 0.9}
_NONE = "(none)"
RELIABILITY_COLUMNS = ["level", *LANE, "supplier", "carrier", "deliveries", "evidence", *FIGURES, "on_time_share", "trend_weeks", "weight",
                       *(f"shrunk_{f}" for f in FIGURES)]


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Grouping keys with blanks as one named value (a lane without a carrier still counts)."""
    keys = pd.DataFrame({c: (frame[c].astype("string").fillna(_NONE).replace("", _NONE) if c in frame else _NONE) for c in columns},
                        index=frame.index)
    if "mode" in keys:  # the contract accepts "Ocean" for ocean
        keys["mode"] = keys["mode"].str.lower()
    return keys


def delivery_delays(history: pd.DataFrame, as_of: pd.Timestamp | None = None, half_life_weeks: float | None = None) -> pd.DataFrame:
    """The deliveries of ``receipts_history`` with ``delay_weeks = receipt_week - planned_week`` (whole weeks),
    ``on_time = delay_weeks <= 0`` and ``weight = 0.5 ** (weeks since received at as_of / half_life_weeks)``
    (1 without a half-life: a lane that was congested last month says more than one that was a year ago);
    blank lanes, suppliers and carriers read "(none)"."""
    out = _keys(history, [*LANE, "supplier", "carrier"])
    out["planned_week"], out["receipt_week"] = history["planned_week"], history["receipt_week"]
    out["delay_weeks"] = weeks_between(history["receipt_week"], history["planned_week"]).astype(float)
    out["on_time"] = out["delay_weeks"] <= 0
    age = weeks_between(as_of, history["receipt_week"]).astype(float).clip(lower=0) if as_of is not None else 0.0
    out["weight"] = 0.5 ** (age / half_life_weeks) if half_life_weeks else 1.0
    return out.reset_index(drop=True)


def weighted_quantiles(groups: np.ndarray, values: np.ndarray, weights: np.ndarray, qs: list[float]) -> np.ndarray:
    """Per group (``groups``: codes 0..G-1, every code present) the weighted ``qs`` quantiles of ``values``: the
    smallest value whose cumulative weight within the group reaches ``q x`` the group's weight (equal weights:
    the inverted empirical distribution). One sort of all rows, no loop over groups. Shape (G, len(qs))."""
    order = np.lexsort((values, groups))
    g, v, w = groups[order], values[order], weights[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    cum = np.cumsum(w)
    within = cum - np.repeat(cum[starts] - w[starts], sizes)  # cumulative weight inside each group
    totals = np.add.reduceat(w, starts)
    out = np.empty((len(starts), len(qs)))
    for j, q in enumerate(qs):  # two quantiles: a loop over figures, not over series
        reached = within >= np.repeat(q * totals, sizes) * (1 - 1e-12)
        # first row of each group that reaches it: the group's start plus the rows before that do not
        first = starts + np.add.reduceat(~reached, starts)
        out[:, j] = v[np.minimum(first, np.r_[starts[1:], len(g)] - 1)]
    return out


def _raw(delays: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: deliveries, their weight (``evidence``: the deliveries the shrinkage counts, recent ones
    more), the weighted mean, P50 and P90 of the delays, the weighted on-time share."""
    codes, index = pd.MultiIndex.from_frame(delays[by]).factorize(sort=True) if len(by) > 1 else pd.factorize(delays[by[0]], sort=True)
    w, d = delays["weight"].to_numpy(), delays["delay_weeks"].to_numpy()
    evidence = np.bincount(codes, weights=w)
    out = pd.DataFrame({
        "deliveries": np.bincount(codes), "evidence": evidence,
        "mean_delay_weeks": np.bincount(codes, weights=w * d) / evidence,
        "on_time_share": np.bincount(codes, weights=w * delays["on_time"].to_numpy()) / evidence,
    }, index=pd.MultiIndex.from_tuples(list(index), names=by) if len(by) > 1 else pd.Index(index, name=by[0]))
    out[list(_QUANTILES)] = weighted_quantiles(codes, d, w, list(_QUANTILES.values()))
    return out


def _overall(delays: pd.DataFrame) -> pd.Series:
    raw = _raw(delays.assign(_all=0), ["_all"]).iloc[0]
    return raw[FIGURES]


def _shrink(raw: pd.DataFrame, prior: pd.DataFrame, k: float) -> pd.DataFrame:
    """``w * raw + (1 - w) * prior`` per figure, ``w = n / (n + k)`` (prior rows aligned with raw's)."""
    w = (raw["evidence"] / (raw["evidence"] + k)).to_numpy()[:, None]
    shrunk = w * raw[FIGURES].to_numpy() + (1 - w) * prior[FIGURES].to_numpy()
    shrunk[:, 2] = np.maximum(shrunk[:, 2], shrunk[:, 1])  # P90 never below P50
    return pd.DataFrame(shrunk, columns=FIGURES, index=raw.index)


def _trend(delays: pd.DataFrame, by: list[str], as_of: pd.Timestamp, trend_weeks: int) -> pd.Series:
    recent = delays["receipt_week"] >= as_of - pd.Timedelta(weeks=trend_weeks)
    means = delays.assign(_recent=recent).groupby([*by, "_recent"], observed=True)["delay_weeks"].mean().unstack("_recent")
    return means.get(True, np.nan) - means.get(False, np.nan)


def shrunk_delays(delays: pd.DataFrame, k: float = 10.0) -> dict[str, pd.DataFrame]:
    """The figures the predictions read, per the module doc: ``overall`` (every delivery), ``mode`` (shrunk towards
    overall), ``supplier`` (the supplier's effect beyond its modes, shrunk towards none) and ``lane`` (each lane's own
    figures with its evidence, shrunk per line against that line's mode and supplier by :func:`eta_forecast`)."""
    overall = _overall(delays)
    mode_raw = _raw(delays, ["mode"])
    mode = _shrink(mode_raw, pd.DataFrame([overall] * len(mode_raw), index=mode_raw.index), k)
    # each delivery's mode figures, weighted as the delivery: what the supplier's modes alone would say
    at_mode = mode.reindex(delays["mode"]).set_axis(delays.index).mul(delays["weight"], axis=0)
    sup_raw = _raw(delays, ["supplier"])
    mix = at_mode.groupby(delays["supplier"], observed=True).sum().reindex(sup_raw.index).div(sup_raw["evidence"], axis=0)
    w_s = (sup_raw["evidence"] / (sup_raw["evidence"] + k)).to_numpy()[:, None]
    supplier = pd.DataFrame(w_s * (sup_raw[FIGURES].to_numpy() - mix[FIGURES].to_numpy()), columns=FIGURES, index=sup_raw.index)
    return {"overall": overall.to_frame().T, "mode": mode, "supplier": supplier, "lane": _raw(delays, LANE)}


@dataclass(frozen=True)
class Learnt:
    """What the deliveries already made say, computed once for a run: each delivery's delay and weight, and the
    shrunk figures the predictions read (:func:`shrunk_delays`)."""

    delays: pd.DataFrame
    figures: dict[str, pd.DataFrame]


def learn(history: pd.DataFrame | None, as_of: pd.Timestamp | None = None, prior_deliveries: float = 10.0,
          half_life_weeks: float | None = None) -> Learnt | None:
    """The :class:`Learnt` of ``history`` (None without deliveries: the stated ETAs are all there is)."""
    if history is None or history.empty:
        return None
    delays = delivery_delays(history, as_of, half_life_weeks)
    return None if delays.empty else Learnt(delays, shrunk_delays(delays, prior_deliveries))


def lane_reliability(
    history: pd.DataFrame, as_of: pd.Timestamp, prior_deliveries: float = 10.0, trend_weeks: int = 13, half_life_weeks: float | None = None,
    learnt: Learnt | None = None,
) -> pd.DataFrame:
    """One row per lane, mode, supplier and carrier (``level``) of the deliveries in ``history``: deliveries, their
    ``evidence`` (weights summed), mean / P50 / P90 delay in weeks and on-time share (weighted), trend (last
    ``trend_weeks`` vs before, at ``as_of``), and for lanes the figures shrunk towards their mode (``shrunk_*``,
    ``weight = evidence / (evidence + prior_deliveries)``). ``learnt``: :func:`learn` of the same, when the caller
    has it."""
    learnt = learnt or learn(history, as_of, prior_deliveries, half_life_weeks)
    if learnt is None:
        return pd.DataFrame(columns=RELIABILITY_COLUMNS)
    delays, figures = learnt.delays, learnt.figures
    frames = []
    for level, by in (("lane", LANE), ("mode", ["mode"]), ("supplier", ["supplier"]), ("carrier", ["carrier"])):
        raw = _raw(delays, by)
        raw["trend_weeks"] = _trend(delays, by, as_of, trend_weeks)
        if level == "lane":
            prior = figures["mode"].reindex(raw.index.get_level_values("mode"))
            raw["weight"] = raw["evidence"] / (raw["evidence"] + prior_deliveries)
            raw[[f"shrunk_{f}" for f in FIGURES]] = _shrink(raw, prior.set_axis(raw.index), prior_deliveries).to_numpy()
        frames.append(raw.reset_index().assign(level=level))
    return pd.concat(frames, ignore_index=True).reindex(columns=RELIABILITY_COLUMNS)


def eta_forecast(
    lines: pd.DataFrame, history: pd.DataFrame | None, as_of: pd.Timestamp | None = None, prior_deliveries: float = 10.0,
    half_life_weeks: float | None = None, learnt: Learnt | None = None,
) -> pd.DataFrame:
    """Per open supply line (``week`` planned, ``eta_week`` stated, blank = on plan; ``origin``, ``destination``,
    ``mode``, ``supplier``): its lane's predicted delay (P50, P90: lane figures shrunk towards the line's mode and
    supplier, module doc) and the predicted receipt weeks ``eta_p50_week``, ``eta_p90_week``
    (``planned week + round(delay)``, never before a stated ETA later than planned); ``basis``: the lane's own
    deliveries behind the figure (their ``evidence``, recent ones weighing more with a half-life). ``learnt``:
    :func:`learn` of ``history`` when the caller has it (a run's parts share one)."""
    keys = _keys(lines, [*LANE, "supplier"])
    stated = lines["eta_week"].fillna(lines["week"]) if "eta_week" in lines else lines["week"]
    out = pd.DataFrame({"week": lines["week"], "eta_week": stated}, index=lines.index)
    learnt = learnt or learn(history, as_of, prior_deliveries, half_life_weeks)
    if learnt is None:  # no history: the stated ETA is all there is
        for q in ("p50", "p90"):
            out[f"{q}_delay_weeks"], out[f"eta_{q}_week"] = np.nan, stated
        out["basis"] = 0
        return out
    figures = learnt.figures
    overall = figures["overall"][FIGURES].to_numpy()[0]
    mode = figures["mode"].reindex(keys["mode"]).to_numpy()
    mode = np.where(np.isnan(mode), overall, mode)  # a mode never seen: every delivery's figures
    supplier = np.nan_to_num(figures["supplier"].reindex(keys["supplier"]).to_numpy())  # a supplier never seen: no effect
    lane = figures["lane"].reindex(pd.MultiIndex.from_frame(keys[LANE]))
    n = lane["evidence"].fillna(0).to_numpy()[:, None]
    w = n / (n + prior_deliveries)
    estimate = w * np.nan_to_num(lane[FIGURES].to_numpy()) + (1 - w) * (mode + supplier)
    estimate[:, 2] = np.maximum(estimate[:, 2], estimate[:, 1])
    for q, col in (("p50", 1), ("p90", 2)):
        out[f"{q}_delay_weeks"] = estimate[:, col]
        predicted = lines["week"] + pd.to_timedelta(np.round(estimate[:, col]) * 7, unit="D")
        news = stated > lines["week"]  # the supplier said it will be late: never predicted before that
        out[f"eta_{q}_week"] = predicted.where(~news | (predicted > stated), stated)
    out["basis"] = lane["deliveries"].fillna(0).to_numpy().astype(int)
    return out
