"""The projection kernel: what each SKU-location's stock does week by week under one policy for unmet
demand, and the one place where units become money.

Every figure that values a shortage calls it: money at risk per gap, the latest estimate, every
countermeasure option and the joint plan (whose model writes the same arithmetic as linear rows:
:mod:`soe_lib.finance.plan`), the review app's what-if and scenarios, the week-to-week bridge and the
credit of last week's decisions. So the same change always has the same value.

**Position.** For a SKU-location and horizon week ``t`` (0 = the run week)::

    P[t] = on_hand + sum(receipts[0..t]) - sum(demand[0..t])        (the net position, < 0 = short)

with receipts and demand as the caller gives them (current ETAs, capacity-constrained, a move applied).

**Policy.** When stock runs out, a share ``b`` of the customers wait (``backorder_share``: 0 = every
unmet unit is lost, 1 = every one waits); ``b`` per series. The kernel follows both behaviours and
weighs them by ``b`` (the expectation when a customer waits with probability ``b``):

- *lost sales* (weight ``1 - b``): unmet demand is gone; stock never goes below zero; later receipts
  serve later demand only. With the running low ``low[t] = min(0, min over k <= t of P[k])``::

      stock_L[t] = P[t] - low[t]        lost_L[t] = low[t-1] - low[t]        (lost in all: -low[T-1])

- *backorders* (weight ``b``): unmet demand waits and the next receipts serve it, first come first
  served::

      backlog_B[t] = max(0, -P[t])      stock_B[t] = max(0, P[t])

Expected per week: ``lost = (1-b) lost_L``, ``backlog = b backlog_B``, ``stock = (1-b) stock_L + b
stock_B``, ``shipped = demand - lost - (backlog[t] - backlog[t-1])`` (what leaves the shelf in week t).

**Money** (price ``p``, cost ``c``, margin ``m = p - c``, ``k`` = ``delay_cost_share``: what a week of
waiting costs, as a share of the price, per unit)::

    units not delivered in the horizon     U = sum_t lost[t] + backlog[T-1]
    unit-weeks waited                      W = sum_t backlog[t]
    revenue at risk = p U                  margin at risk = m U + k p W

Per week, ``money[t] = m lost[t] + k p backlog[t]`` (plus ``m backlog[T-1]`` in the last week): the
weeks of a gap sum to the gap's money. At ``b = 0`` this is a plain lost-sales simulation; at ``b = 1``
the delay valuation plus the units still owed at the horizon's end.

**Uncertain demand.** For an intermittent or lumpy series the average week is a poor guide: a sale of
146 every ten weeks and a steady 14.6 a week lose very different amounts. Such series are valued over
``S`` demand scenarios (:func:`demand_scenarios`: per week a gamma distribution with the sensed mean
and the band's spread, stratified, the same numbers in every process and any split of the series):
``P_s = P + offset_s`` with ``offset_s[t] = sum(mean[0..t] - demand_s[0..t])``, and every flow and
amount above is the average over the scenarios (the expected lost margin under the band). A move
changes ``P`` and leaves the offsets as they are, so re-projecting a move is exact here too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .matrix import column_at

__all__ = ["Flows", "Money", "Policy", "Spread", "backorder_shares", "flows", "money", "position", "spread_of", "value"]

SCENARIOS = 32  # demand scenarios per uncertain series (stratified)


@dataclass(frozen=True)
class Policy:
    """How unmet demand is treated and what waiting costs (see the module doc)."""

    backorder_share: np.ndarray  # (N,) b per series, 0..1
    delay_cost_share: float = 0.0  # k: a unit-week of waiting costs k x price

    def shares(self, n: int, rows: np.ndarray | None = None) -> np.ndarray:
        """The share of each of ``n`` series, or of ``rows`` of them only (picked before clipping: the greedy plan
        asks for one series of a million 800k times)."""
        b = np.broadcast_to(np.asarray(self.backorder_share, dtype=float), (n,))
        return np.clip(b if rows is None else b[rows], 0.0, 1.0)


@dataclass(frozen=True)
class Spread:
    """Demand scenarios of some series: ``rows`` (n,) positions in the series axis, ``offset`` (n, S, T)
    = the cumulative difference between the mean demand and each scenario's (see the module doc)."""

    rows: np.ndarray
    offset: np.ndarray

    @staticmethod
    def none(weeks: int) -> Spread:
        return Spread(np.zeros(0, dtype=np.int64), np.zeros((0, 1, weeks)))

    def __post_init__(self) -> None:
        if len(self.rows) > 1 and not (np.diff(self.rows) > 0).all():  # kept in order: take() looks rows up by bisection
            order = np.argsort(self.rows, kind="stable")
            object.__setattr__(self, "rows", self.rows[order])
            object.__setattr__(self, "offset", self.offset[order])

    def take(self, rows: np.ndarray) -> Spread:
        """The scenarios of ``rows`` (positions in the series axis), renumbered 0..len(rows)-1."""
        rows = np.asarray(rows)
        # bisection, not a hash index: the greedy plan asks for one series at a time, 800k times at 1M
        where = np.searchsorted(self.rows, rows).clip(max=max(len(self.rows) - 1, 0))
        have = (self.rows[where] == rows) if len(self.rows) else np.zeros(len(rows), dtype=bool)
        return Spread(np.flatnonzero(have), self.offset[where[have]])


def backorder_shares(keys: pd.DataFrame, products: pd.DataFrame, locations: pd.DataFrame | None, default: float,
                     product_rows: np.ndarray | None = None) -> np.ndarray:
    """The backorder share per series (``keys``: sku, location): the product's ``backorder_share``
    where given, else the location's, else ``default`` (the run's parameter). ``product_rows``: each key's row
    in ``products`` (-1: none) when the caller has found them already."""
    out = np.full(len(keys), float(default))
    for table, col in ((locations, "location"), (products, "sku")):  # the product's share wins: applied last
        if table is not None and "backorder_share" in table and len(table):
            if col == "sku" and product_rows is not None:
                found = column_at(table, "backorder_share", product_rows)
            else:
                share = table.set_index(table[col].astype(str))["backorder_share"].astype(float)
                found = keys[col].astype(str).map(share).to_numpy(dtype=float)
            out = np.where(np.isnan(found), out, found)
    return out


def position(on_hand: np.ndarray, receipts: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``P[t] = on_hand + sum(receipts[0..t] - demand[0..t])`` per series ((N,), (N, T), (N, T); missing = 0)."""
    return np.asarray(on_hand, dtype=float)[:, None] + np.cumsum(np.nan_to_num(receipts) - np.nan_to_num(demand), axis=1)


@dataclass
class Flows:
    """Expected units per series and week under the policy (see the module doc)."""

    demand: np.ndarray  # (N, T)
    stock: np.ndarray  # on hand at the week's end (None in the losses-only flows :func:`value` reads)
    lost: np.ndarray  # demand of the week that is gone
    backlog: np.ndarray  # owed at the week's end
    shipped: np.ndarray  # delivered in the week (the week's demand served and backlog caught up; None there too)

    @property
    def undelivered(self) -> np.ndarray:
        """U per series: units not delivered within the horizon (lost, and still owed at its end)."""
        return self.lost.sum(axis=1) + self.backlog[:, -1]

    @property
    def waited(self) -> np.ndarray:
        """W per series: unit-weeks waited."""
        return self.backlog.sum(axis=1)


def _worlds(p: np.ndarray, d: np.ndarray | None, b: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray, np.ndarray | None]:
    """(stock, lost, backlog, shipped), expected, for positions ``p`` and demand ``d`` of any leading
    shape (..., T); ``b`` broadcast against the leading shape. ``d`` None: the losses only (lost, backlog;
    stock and shipped None), all that money needs (:func:`value` asks for them thousands of times)."""
    low = np.minimum.accumulate(p, axis=-1)
    np.minimum(low, 0.0, out=low)
    # the lost-sales world's units lost each week, low[t-1] - low[t] (written in place: the scenarios' arrays
    # are 32 times the series', and each temporary of them costs more than the arithmetic)
    lost = np.empty_like(low)
    np.negative(low[..., :1], out=lost[..., :1])
    np.subtract(low[..., :-1], low[..., 1:], out=lost[..., 1:])
    stock = None if d is None else p - low
    if not np.any(b):  # every customer buys elsewhere: the lost-sales world alone (the default policy)
        return stock, lost, np.zeros_like(p), None if d is None else d - lost
    b = b[..., None]
    backlog = np.negative(p)
    np.maximum(backlog, 0.0, out=backlog)
    backlog *= b
    lost *= 1 - b
    if d is None:
        return None, lost, backlog, None
    stock = (1 - b) * stock + b * np.clip(p, 0.0, None)
    return stock, lost, backlog, d - lost - np.diff(backlog, axis=-1, prepend=0.0)


def flows(p: np.ndarray, demand: np.ndarray, policy: Policy, spread: Spread | None = None) -> Flows:
    """The expected flows of positions ``p`` (N, T) with ``demand`` (N, T) (the mean demand of series
    with scenarios in ``spread``, whose flows are averaged over them)."""
    return _flows(p, demand, policy, spread, losses_only=False)


def _flows(p: np.ndarray, demand: np.ndarray, policy: Policy, spread: Spread | None, losses_only: bool) -> Flows:
    """:func:`flows`; ``losses_only``: lost and backlog only (``stock`` and ``shipped`` left None)."""
    p = np.asarray(p, dtype=float)
    d = np.nan_to_num(np.asarray(demand, dtype=float))
    b = policy.shares(len(p))
    stock, lost, backlog, shipped = _worlds(p, None if losses_only else d, b)
    if spread is not None and len(spread.rows):
        r = spread.rows
        ps = p[r][:, None, :] + spread.offset
        # each scenario's own demand (for the shipped units: the losses do not read it)
        ds = None if losses_only else d[r][:, None, :] - np.diff(spread.offset, axis=-1, prepend=0.0)
        parts = _worlds(ps, ds, np.broadcast_to(b[r][:, None], ps.shape[:2]))
        for full, part in zip((stock, lost, backlog, shipped), parts, strict=True):
            if full is not None:
                full[r] = part.mean(axis=1)
    return Flows(d, stock, lost, backlog, shipped)


@dataclass
class Money:
    """What the flows cost per series (see the module doc)."""

    undelivered: np.ndarray  # U (N,)
    waited: np.ndarray  # W (N,)
    revenue_at_risk: np.ndarray  # p U
    lost_margin: np.ndarray  # m U
    delay_cost: np.ndarray  # k p W
    per_week: np.ndarray  # (N, T) money[t]: the weeks sum to margin_at_risk

    @property
    def margin_at_risk(self) -> np.ndarray:
        return self.lost_margin + self.delay_cost


def money(f: Flows, price: np.ndarray, cost: np.ndarray, delay_cost_share: float = 0.0) -> Money:
    """Units to money, per series and week (the only place in the workbench that does this)."""
    price = np.nan_to_num(np.asarray(price, dtype=float))
    margin = price - np.nan_to_num(np.asarray(cost, dtype=float))
    delay = delay_cost_share * price
    per_week = margin[:, None] * f.lost + delay[:, None] * f.backlog
    per_week[:, -1] += margin * f.backlog[:, -1]
    undelivered, waited = f.undelivered, f.waited
    return Money(undelivered, waited, price * undelivered, margin * undelivered, delay * waited, per_week)


def value(p: np.ndarray, demand: np.ndarray, policy: Policy, price: np.ndarray, cost: np.ndarray, spread: Spread | None = None) -> np.ndarray:
    """Margin at risk per series of positions ``p``: ``money(flows(...)).margin_at_risk``, from the losses only
    (what money reads of the flows: the same numbers, without the stock and shipped units)."""
    return money(_flows(p, demand, policy, spread, losses_only=True), price, cost, policy.delay_cost_share).margin_at_risk


# --- demand scenarios -----------------------------------------------------------------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of 64-bit integers (vectorised, wraps around)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def series_seed(keys: pd.DataFrame) -> np.ndarray:
    """A seed per (sku, location) that is the same in every process, run and split of the series."""
    return pd.util.hash_pandas_object(keys[["sku", "location"]].astype(str), index=False).to_numpy(dtype=np.uint64)


_SHAPES = np.geomspace(1e-4, 1e4, 801)  # gamma shapes the quantiles are tabled for (log-spaced)


@functools.lru_cache(maxsize=4)
def _gamma_table(scenarios: int) -> np.ndarray:
    """(S, G) quantiles of Gamma(shape, 1) at the strata's midpoints ``(j + 0.5) / S`` for each tabled shape."""
    from scipy.special import gammaincinv  # the gamma distribution's inverse

    return gammaincinv(_SHAPES[None, :], ((np.arange(scenarios) + 0.5) / scenarios)[:, None])


def demand_scenarios(seed: np.ndarray, mean: np.ndarray, sd: np.ndarray, scenarios: int = SCENARIOS) -> np.ndarray:
    """(n, S, T) weekly demand scenarios: per series and week a gamma distribution with the given mean
    and standard deviation (shape ``mean^2/sd^2``, scale ``sd^2/mean``: skewed, never negative, mostly
    small with rare large weeks when the spread is wide, as intermittent demand is), sampled at the
    stratified probabilities ``(j + 0.5) / S``, rotated by an amount per series and week drawn from a
    hash of ``seed`` (so the weeks are independent), then scaled so that each week's scenarios average
    to its mean. The gamma quantiles are read from a table over log-spaced shapes (linear in log shape
    between them; the scaling to the mean absorbs what that leaves). A week without spread (or without
    demand) takes its mean in every scenario."""
    n, t = mean.shape
    if not n:
        return np.zeros((0, scenarios, t))
    mu = np.clip(np.nan_to_num(mean), 0.0, None)
    sigma = np.clip(np.nan_to_num(sd), 0.0, None)
    spread = (mu > 0) & (sigma > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = np.where(spread, mu**2 / np.where(spread, sigma**2, 1.0), 1.0)
        scale = np.where(spread, sigma**2 / np.where(mu > 0, mu, 1.0), 0.0)
    step = np.log(_SHAPES[1] / _SHAPES[0])
    where = (np.log(np.clip(shape, _SHAPES[0], _SHAPES[-1])) - np.log(_SHAPES[0])) / step
    low = np.minimum(np.floor(where).astype(np.int64), len(_SHAPES) - 2)
    frac = where - low
    key = seed.astype(np.uint64)[:, None] * np.uint64(1_000_003) + np.arange(t, dtype=np.uint64)[None, :] * np.uint64(7919)
    shift = (_mix(key) % np.uint64(scenarios)).astype(np.int64)  # (n, T)
    j = (np.arange(scenarios)[None, :, None] + shift[:, None, :]) % scenarios  # (n, S, T): the stratum of each scenario
    table = _gamma_table(scenarios)
    draws = (table[j, low[:, None, :]] * (1 - frac[:, None, :]) + table[j, low[:, None, :] + 1] * frac[:, None, :]) * scale[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        # the midpoints of the strata miss part of a long tail: scale each week's draws to the mean exactly
        level = draws.mean(axis=1, keepdims=True)
        draws = draws * np.where(spread[:, None, :] & (level > 0), mu[:, None, :] / np.where(level > 0, level, 1.0), 1.0)
    return np.nan_to_num(np.where(spread[:, None, :], draws, mu[:, None, :]))


def scenario_offsets(mean: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """``offset_s[t] = sum(mean[0..t] - demand_s[0..t])`` (n, S, T): what a scenario adds to the position."""
    return np.cumsum(np.nan_to_num(mean)[:, None, :] - draws, axis=-1)


def spread_of(keys: pd.DataFrame, mean: np.ndarray, sd: np.ndarray | None, scenarios: int = SCENARIOS) -> Spread:
    """The demand scenarios of the uncertain series among ``keys`` (sku, location; rows of ``mean`` and
    ``sd``, (N, T)): those whose demand spread over the horizon exceeds their mean demand (a coefficient
    of variation above 1: intermittent and lumpy demand, and thin demand of a few units a month).
    ``sd`` None (a week archived before spreads were kept): no scenarios."""
    t = mean.shape[1] if mean.ndim == 2 else 0
    if sd is None or not len(keys):
        return Spread.none(t)
    sd = np.nan_to_num(np.asarray(sd, dtype=float))
    mu = np.nan_to_num(np.asarray(mean, dtype=float))
    rows = np.flatnonzero((sd.sum(axis=1) > mu.sum(axis=1)) & (mu.sum(axis=1) > 0))
    if not len(rows):
        return Spread.none(t)
    draws = demand_scenarios(series_seed(keys.iloc[rows]), mu[rows], sd[rows], scenarios)
    return Spread(rows, scenario_offsets(mu[rows], draws))
