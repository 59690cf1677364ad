"""Time-phased projected inventory, for all SKU-locations at once: ``(series, weeks)`` matrices.

A formula every step that reasons about stock shares (the supply step, the what-if of the review
app, the week-to-week bridge of the closed loop), so it lives in the core.

For horizon week ``t = 0..H-1`` (0 = the run week)::

    projected[t]   = on_hand + sum(receipts[0..t]) - sum(demand[0..t])      (end of week t; < 0 = backlog)
    backlog[t]     = max(0, -projected[t])                                   ("shortage_qty" of week t)
    short_new[t]   = max(0, backlog[t] - backlog[t-1])                       (demand not served on time in week t)
    fill rate      = 1 - sum(short_new) / sum(demand)
    weeks of supply[t] = max(projected[t], 0) / mean(demand[t+1 .. t+cover])  (the last weeks reuse the
                                                                               horizon's tail; 99 when no demand)
    below safety stock[t] = 0 <= projected[t] < safety_stock
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Projection", "project", "runs", "weeks_of_supply"]

MAX_WEEKS_OF_SUPPLY = 99.0


@dataclass
class Projection:
    on_hand: np.ndarray  # (N,)
    receipts: np.ndarray  # (N, H)
    demand: np.ndarray  # (N, H)
    projected: np.ndarray  # (N, H) end of week
    backlog: np.ndarray  # (N, H)
    short_new: np.ndarray  # (N, H)

    @property
    def fill_rate(self) -> np.ndarray:
        """1 - units not served on time / units demanded, per series (1 when nothing is demanded)."""
        demand = self.demand.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(demand > 0, 1 - self.short_new.sum(axis=1) / demand, 1.0)

    def held(self) -> np.ndarray:
        """Units on site when the week's receipts land: stock brought in + receipts (storage peak)."""
        brought = np.concatenate([self.on_hand[:, None], self.projected[:, :-1]], axis=1)
        return np.clip(brought, 0, None) + self.receipts


def project(on_hand: np.ndarray, receipts: np.ndarray, demand: np.ndarray) -> Projection:
    """The projection above for every series (receipts and demand are (N, H), missing = 0)."""
    receipts = np.nan_to_num(receipts)
    demand = np.nan_to_num(demand)
    projected = on_hand[:, None] + np.cumsum(receipts - demand, axis=1)
    backlog = np.clip(-projected, 0, None)
    previous = np.concatenate([np.clip(-on_hand, 0, None)[:, None], backlog[:, :-1]], axis=1)
    return Projection(on_hand, receipts, demand, projected, backlog, np.clip(backlog - previous, 0, None))


def weeks_of_supply(projected: np.ndarray, demand: np.ndarray, cover: int = 4) -> np.ndarray:
    """``max(projected, 0) / mean(demand over the next `cover` weeks)`` (see module doc), capped at 99."""
    n, h = demand.shape
    padded = np.concatenate([demand, np.repeat(demand[:, -1:], cover, axis=1)], axis=1)  # extend the tail
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(padded, axis=1)], axis=1)
    idx = np.arange(h)
    forward = (csum[:, idx + 1 + cover] - csum[:, idx + 1]) / cover
    with np.errstate(divide="ignore", invalid="ignore"):
        wos = np.where(forward > 0, np.clip(projected, 0, None) / forward, MAX_WEEKS_OF_SUPPLY)
    return np.minimum(wos, MAX_WEEKS_OF_SUPPLY)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True along each row: (row, first column, last column) of every run, vectorised."""
    padded = np.concatenate([np.zeros((len(mask), 1), bool), mask, np.zeros((len(mask), 1), bool)], axis=1)
    change = np.diff(padded.astype(np.int8), axis=1)
    rows_s, starts = np.nonzero(change == 1)
    rows_e, ends = np.nonzero(change == -1)
    # np.nonzero is row-major, so starts and ends pair up in order
    return rows_s, starts, ends - 1
