"""Scarce supply allocated to order lines: who gets what, who is cut and by how much, and when the rest comes.

For every SKU-location ``i`` the units orders can draw on by the end of week ``t`` are the capacity-constrained
supply ``S[i,t] = on_hand + sum(receipts[0..t])`` (forecast demand without orders comes after booked orders). The
weeks are taken in order (a loop over the 13 weeks; every SKU-location and line at once inside it); in week ``t``
the lines requested for ``t`` (past due: the run week) share what is left, ``cap = S[i,t] - allocated before``:

1. **contractual minima** first: each line's ``min_fill x qty``, in tier order; a tier whose minima do not fit gets
   an equal share of them, and its lines say so (``minimum not honoured``);
2. then **tiers** in order (1 = highest): a tier's lines get ``min(1, cap left / what they still ask)`` of what they
   still ask: an **equal fill percentage** within the tier (fair share);
3. whole units: each line keeps the floor of its share, and the units left go one by one to the lines with the
   largest remainders, the higher **margin** first among equal ones (then the earlier line).

A line's ``cut_qty`` is what it did not get in its week; its ``confirmed_week`` is the first week from which the
supply not allocated to any line covers its cut and the cuts queued before it (request week, tier, line), in every
later week too (so no confirmed line is ever taken back): ``min(S[v] - allocated through v) >= queue`` for all
``v`` from that week on. Blank: not within the horizon.

**Available to promise** (cumulative): ``ATP[i,t] = max(0, min over v >= t of (S[v] - A[v]))`` with ``A[v]`` the
units allocated through ``v`` plus what the cuts still owed take of the spare by then (``min(cuts, min over
u >= v of spare[u])``: a line still owed has the first claim on supply that comes): what a new order may take in
week ``t`` without taking anything from a line already booked.

Policies (the same lines, the same supply): ``rule`` (tiers from the customers table or the line's priority,
minima honoured), ``fair_share`` (one tier, no minima), ``margin_first`` (tiers by margin per unit, highest first,
no minima).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["POLICIES", "Allocation", "allocate", "available_to_promise", "policy_tiers"]

POLICIES = ("rule", "fair_share", "margin_first")
EPS = 1e-9


@dataclass
class Allocation:
    """Per line (in the order given): units allocated in its week, cut, when the cut part comes, and why."""

    allocated: np.ndarray  # (L,)
    cut: np.ndarray  # (L,)
    confirmed: np.ndarray  # (L,) week position the whole line is covered (-1: not within the horizon)
    min_missed: np.ndarray  # (L,) bool: its contractual minimum was not honoured
    week_share: np.ndarray  # (L,) share of its tier's request its tier got in its week
    cumulative: np.ndarray  # (N, T) units allocated and confirmed through each week


def policy_tiers(policy: str, tier: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """The tiers a policy serves by: the rule's own, one tier for all (fair share), or margin per unit, highest
    first (dense rank)."""
    if policy == "rule":
        return np.asarray(tier, dtype=np.int64)
    if policy == "fair_share":
        return np.ones(len(tier), dtype=np.int64)
    if policy == "margin_first":
        return pd.Series(-np.asarray(margin, dtype=float)).rank(method="dense").to_numpy(dtype=np.int64)
    raise ValueError(f"unknown allocation policy {policy!r}: one of {', '.join(POLICIES)}")


def _tier_shares(row: np.ndarray, tier: np.ndarray, ask: np.ndarray, cap: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each line's share of ``ask`` when every series' ``cap`` goes to its lines tier by tier, equal fill % within a
    tier; returns (share per line, cap left per series)."""
    share = np.zeros(len(row))
    left = cap.copy()
    for k in np.unique(tier):  # a handful of tiers: every series and line at once
        at = tier == k
        want = np.bincount(row[at], weights=ask[at], minlength=n)
        fill = np.where(want > EPS, np.clip(left / np.where(want > EPS, want, 1.0), 0.0, 1.0), 0.0)
        share[at] = fill[row[at]]
        left = left - fill * want
    return share, np.clip(left, 0.0, None)


def _whole_units(row: np.ndarray, exact: np.ndarray, margin: np.ndarray, order: np.ndarray, n: int) -> np.ndarray:
    """``exact`` units rounded to whole ones per series without exceeding its total: floors, then the units left to
    the largest remainders, the higher margin first, then the earlier line."""
    base = np.floor(exact + EPS)
    remainder = exact - base
    left = np.floor(np.bincount(row, weights=exact, minlength=n) + 1e-6) - np.bincount(row, weights=base, minlength=n)
    rank = np.lexsort((order, -margin, -remainder, row))  # by series, largest remainder, margin, line
    position = np.empty(len(row), dtype=np.int64)
    starts = np.searchsorted(row[rank], np.arange(n))
    position[rank] = np.arange(len(row)) - starts[row[rank]]
    return base + ((position < left[row]) & (remainder > EPS))


def allocate(supply: np.ndarray, row: np.ndarray, week: np.ndarray, qty: np.ndarray, tier: np.ndarray, margin: np.ndarray,
             min_fill: np.ndarray | None = None) -> Allocation:
    """The allocation of the module doc. ``supply``: (N, T) cumulative supply ``S``; per line: its series ``row``, the
    week position it is requested for (``week``, clipped to the horizon by the caller; past due = 0), ``qty``,
    ``tier`` (1 = first), ``margin`` per unit (the tie-break), ``min_fill`` (0..1, the contractual minimum)."""
    n, t_n = supply.shape
    lines = len(row)
    qty = np.asarray(qty, dtype=float)
    floor_share = np.zeros(lines) if min_fill is None else np.clip(np.asarray(min_fill, dtype=float), 0.0, 1.0)
    allocated, week_share, missed = np.zeros(lines), np.ones(lines), np.zeros(lines, dtype=bool)
    used = np.zeros(n)  # allocated so far per series
    cumulative = np.zeros((n, t_n))
    order = np.arange(lines)
    for t in range(t_n):
        at = np.flatnonzero(week == t)
        cap = np.clip(supply[:, t] - used, 0.0, None)
        if len(at):
            r = row[at]
            minimum = floor_share[at] * qty[at]
            got_min, cap_left = _tier_shares(r, tier[at], minimum, cap, n)
            missed[at] = (got_min < 1 - EPS) & (minimum > EPS)
            ask = qty[at] - got_min * minimum
            got, _ = _tier_shares(r, tier[at], ask, cap_left, n)
            week_share[at] = got
            exact = got_min * minimum + got * ask
            allocated[at] = np.minimum(_whole_units(r, exact, margin[at], order[at], n), qty[at])
            used += np.bincount(r, weights=allocated[at], minlength=n)
        cumulative[:, t] = used
    cut = qty - allocated
    confirmed, cumulative = _confirmed(supply, cumulative, row, week, tier, cut)
    return Allocation(allocated, cut, confirmed, missed, week_share, cumulative)


def _confirmed(supply: np.ndarray, allocated_through: np.ndarray, row: np.ndarray, week: np.ndarray, tier: np.ndarray,
               cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each line's confirmed week position, -1 when not within the horizon; units allocated and confirmed
    through each week) with the cut parts queued by request week, tier and line (module doc)."""
    n, t_n = supply.shape
    spare = supply - allocated_through
    floor_ahead = np.minimum.accumulate(spare[:, ::-1], axis=1)[:, ::-1]  # min over v >= t
    confirmed = np.where(cut > EPS, -1, week).astype(np.int64)
    short = np.flatnonzero(cut > EPS)
    cumulative = allocated_through.copy()
    if not len(short):
        return confirmed, cumulative
    queue = short[np.lexsort((short, tier[short], week[short], row[short]))]
    need = pd.Series(cut[queue]).groupby(row[queue]).cumsum().to_numpy()
    covered = (floor_ahead[row[queue]] >= need[:, None] - EPS) & (np.arange(t_n)[None, :] >= week[queue][:, None])
    first = np.where(covered.any(axis=1), covered.argmax(axis=1), -1)
    confirmed[queue] = first
    # the queue takes the spare supply as it comes (a line still owed has the first claim on it): through week t, as
    # much of the series' cuts as the spare of every week from t on allows
    owed = np.bincount(row[queue], weights=cut[queue], minlength=n)
    return confirmed, cumulative + np.minimum(owed[:, None], np.clip(floor_ahead, 0.0, None))


def available_to_promise(supply: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """(N, T) cumulative ATP: ``max(0, min over v >= t of (S[v] - A[v]))`` (module doc)."""
    spare = supply - cumulative
    return np.clip(np.minimum.accumulate(spare[:, ::-1], axis=1)[:, ::-1], 0.0, None)
