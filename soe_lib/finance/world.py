"""The week as finance sees it: every SKU-location's position, demand, receipts and economics on the
horizon, and the kernel's value of any change to them (:mod:`soe_lib.core.kernel`).

A countermeasure is a *move* on one SKU-location (its destination): ``x`` units times a profile over
the horizon weeks added to the net position ``P``. Profiles are 0..1 (:func:`profiles`):

- a step from the week ``e`` the units arrive (a transfer in, a substitute sold, units made, a new or
  raised order): ``1`` for ``t >= e``;
- a window ``[e, stop)`` for an order brought forward from week ``stop`` to week ``e`` (it leaves its old
  week: after it the position is as before);
- a demand shape: demand moved out of the weeks ``[e, stop)`` to week ``stop``, in proportion to each
  week's demand (cumulative share inside, 0 from ``stop`` on).

The value of a set of moves is the kernel's margin at risk of the positions without them minus with
them, so a move is worth exactly what re-projecting the week with it applied says.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..core.kernel import Policy, Spread, backorder_shares, money, spread_of
from ..core.kernel import flows as kernel_flows
from ..core.kernel import value as kernel_value
from ..core.matrix import column_at

__all__ = ["World", "make_world", "profiles", "series_blocks"]

MATRIX_COLUMNS = ("constrained_projected_on_hand", "demand_qty", "constrained_receipts_qty", "weeks_of_supply", "safety_stock", "demand_sd",
                  "plan_demand_qty", "predicted_projected_on_hand")


@dataclass
class World:
    """The series of (part of) the week on the horizon, and its shortage gaps."""

    weeks: pd.DatetimeIndex
    keys: pd.DataFrame  # sku, location per series row
    position: np.ndarray  # (S, T) P: capacity-constrained net position at each week's end
    demand: np.ndarray  # (S, T) sensed demand
    receipts: np.ndarray  # (S, T) capacity-constrained receipts
    safety: np.ndarray  # (S,)
    cover_today: np.ndarray  # (S,) weeks of supply in the run week
    price: np.ndarray  # (S,)
    cost: np.ndarray  # (S,)
    policy: Policy  # backorder share per series, delay cost share
    spread: Spread  # demand scenarios of the uncertain series
    gaps: pd.DataFrame  # gap_id, sku, location, first_week, first, last (week positions), row (series row), open_at_horizon_end
    plan_demand: np.ndarray  # (S, T) the S&OP demand plan (for the estimate)
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (S,) row in the products table (-1: none)
    predicted: np.ndarray | None = None  # (S, T) P with inbound lines in their lanes' predicted weeks (None: not known)
    _money: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def margin(self) -> np.ndarray:
        return self.price - self.cost

    def rows(self, sku: pd.Series | np.ndarray, location: pd.Series | np.ndarray) -> np.ndarray:
        """Series row of each (sku, location); -1 where absent."""
        index = pd.MultiIndex.from_frame(self.keys)
        return index.get_indexer(pd.MultiIndex.from_arrays([np.asarray(sku, dtype=object), np.asarray(location, dtype=object)]))

    def product_values(self, products: pd.DataFrame, column: str, rows: np.ndarray, default: float) -> np.ndarray:
        """``products[column]`` of the series ``rows`` (``default`` where the product has no value), by the rows in
        ``products`` found once for the world (at 1M each lookup by SKU hashed 333k SKUs again, per part)."""
        if column not in products:
            return np.full(len(rows), float(default))
        return column_at(products, column, self.product[np.asarray(rows, dtype=np.int64)], float(default))

    def position_at(self, weeks: pd.Series) -> np.ndarray:
        """Week positions in the horizon (0 = run week; may be beyond it or before it)."""
        return ((pd.to_datetime(weeks) - self.weeks[0]).dt.days // 7).to_numpy()

    def low(self, rows: np.ndarray) -> np.ndarray:
        """(K, T) the lowest position of each row over its demand scenarios (the position itself when it has none)."""
        out = self.position[rows].copy()
        sub = self.spread.take(rows)
        if len(sub.rows):
            out[sub.rows] += sub.offset.min(axis=1)
        return out

    def spare(self, rows: np.ndarray, start: np.ndarray | int) -> np.ndarray:
        """Whole units a SKU-location never needs from week ``start`` on: ``floor(min(P - safety stock))``
        over those weeks (and over its scenarios), >= 0."""
        start = np.broadcast_to(np.asarray(start), rows.shape)
        t = np.arange(len(self.weeks))[None, :]
        free = np.where(t >= start[:, None], self.low(rows) - self.safety[rows, None], np.inf).min(axis=1)
        return np.floor(np.clip(np.where(np.isfinite(free), free, 0.0), 0, None) + 1e-9)

    def value(self, rows: np.ndarray, delta: np.ndarray | None = None) -> np.ndarray:
        """The kernel's margin at risk of series ``rows`` (repeats allowed) with ``delta`` (K, T) added to their positions."""
        p = self.position[rows] if delta is None else self.position[rows] + delta
        policy = Policy(self.policy.shares(len(self.keys), rows), self.policy.delay_cost_share)
        return kernel_value(p, self.demand[rows], policy, self.price[rows], self.cost[rows], self.spread.take(rows))

    def money(self):
        """The kernel's flows and money of every series (for money at risk, the estimate, excess; once)."""
        if self._money is None:
            f = kernel_flows(self.position, self.demand, self.policy, self.spread)
            self._money = (f, money(f, self.price, self.cost, self.policy.delay_cost_share))
        return self._money

    def restrict(self, rows: np.ndarray) -> World:
        """The world of some series only (their gaps kept; ``row`` renumbered)."""
        rows = np.asarray(rows, dtype=np.int64)
        at = pd.Series(np.arange(len(rows)), index=rows)
        gaps = self.gaps[self.gaps["row"].isin(rows)].assign(row=lambda g: at.reindex(g["row"]).to_numpy())
        return replace(
            self, keys=self.keys.iloc[rows].reset_index(drop=True), position=self.position[rows], demand=self.demand[rows],
            receipts=self.receipts[rows], safety=self.safety[rows], cover_today=self.cover_today[rows], price=self.price[rows],
            cost=self.cost[rows], policy=Policy(self.policy.shares(len(self.keys), rows), self.policy.delay_cost_share),
            spread=self.spread.take(rows), gaps=gaps.reset_index(drop=True), plan_demand=self.plan_demand[rows], product=self.product[rows],
            predicted=None if self.predicted is None else self.predicted[rows], _money=None,
        )

    @staticmethod
    def concat(parts: list[World]) -> World:
        """Worlds of disjoint series (the parts of the Dask engine) as one; gaps keep their ids."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.keys) for p in parts])[:-1]
        spreads = [Spread(p.spread.rows + o, p.spread.offset) for p, o in zip(parts, offsets, strict=True) if len(p.spread.rows)]
        t = len(parts[0].weeks)
        spread = Spread(np.concatenate([s.rows for s in spreads]), np.concatenate([s.offset for s in spreads])) if spreads else Spread.none(t)
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        return World(
            parts[0].weeks, pd.concat([p.keys for p in parts], ignore_index=True), cat("position"), cat("demand"), cat("receipts"),
            cat("safety"), cat("cover_today"), cat("price"), cat("cost"),
            Policy(np.concatenate([p.policy.shares(len(p.keys)) for p in parts]), parts[0].policy.delay_cost_share), spread,
            pd.concat([p.gaps.assign(row=p.gaps["row"] + o) for p, o in zip(parts, offsets, strict=True)], ignore_index=True), cat("plan_demand"),
            cat("product"),
        )

    def with_gaps(self, gaps: pd.DataFrame) -> World:
        """This world with its shortage gaps (rows with gap_id, sku, location, first_week, last_week, open_at_horizon_end)."""
        g = gaps.reset_index(drop=True)
        frame = pd.DataFrame({
            "gap_id": g["gap_id"].to_numpy(), "sku": g["sku"].astype(str).to_numpy(), "location": g["location"].astype(str).to_numpy(),
            "first_week": pd.to_datetime(g["first_week"]).to_numpy(), "first": self.position_at(g["first_week"]),
            "last": self.position_at(g["last_week"]), "row": self.rows(g["sku"].astype(str), g["location"].astype(str)),
            "open_at_horizon_end": g["open_at_horizon_end"].astype(bool).to_numpy(),
        })
        return replace(self, gaps=frame, _money=self._money)


def series_blocks(p: pd.DataFrame) -> bool:
    """True when every series is one block of rows over all weeks in order (as the supply step writes
    the projection): then no sort of a million rows by text keys is needed."""
    weeks = np.sort(p["week"].unique())
    n = len(weeks)
    if n == 0 or len(p) % n:
        return False
    blocks = len(p) // n
    if not (p["week"].to_numpy().reshape(blocks, n) == weeks[None, :]).all():
        return False
    for col in ("sku", "location"):
        keys = pd.factorize(p[col])[0].reshape(blocks, n)  # codes: no Python string per row (1.3M rows a part at 1M)
        if not (keys == keys[:, :1]).all():
            return False
    return True


def _matrices(projection: pd.DataFrame, n_weeks: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """(sku, location per series; the projection's columns as (series x weeks) matrices)."""
    p = projection if series_blocks(projection) else projection.sort_values(["sku", "location", "week"], kind="stable")
    keys = p[["sku", "location"]].iloc[::n_weeks].astype(str).reset_index(drop=True)
    return keys, {c: p[c].to_numpy(dtype=float).reshape(len(keys), n_weeks) for c in MATRIX_COLUMNS if c in p}


def make_world(projection: pd.DataFrame, products: pd.DataFrame, weeks: pd.DatetimeIndex, backorder_share: float = 0.0,
               delay_cost_share: float = 0.0, locations: pd.DataFrame | None = None) -> World:
    """The :class:`World` of ``projection`` (``inventory_projection`` rows of whole series), without gaps
    (:meth:`World.with_gaps` adds them)."""
    keys, m = _matrices(projection, len(weeks))
    # one lookup of every series' product for both figures (at 1M, each map hashed 333k SKUs again per part)
    at = pd.Index(products["sku"].astype(str)).get_indexer(keys["sku"])
    price, cost = (column_at(products, c, at, 0.0) for c in ("unit_price", "unit_cost"))
    policy = Policy(backorder_shares(keys, products, locations, backorder_share, product_rows=at), delay_cost_share)
    zeros = np.zeros((len(keys), len(weeks)))
    none = pd.DataFrame({"gap_id": pd.Series(dtype="int64"), "sku": pd.Series(dtype="str"), "location": pd.Series(dtype="str"),
                         "first_week": pd.Series(dtype="datetime64[ns]"), "first": pd.Series(dtype="int64"), "last": pd.Series(dtype="int64"),
                         "row": pd.Series(dtype="int64"), "open_at_horizon_end": pd.Series(dtype="bool")})
    return World(
        weeks, keys, m.get("constrained_projected_on_hand", zeros), m.get("demand_qty", zeros), m.get("constrained_receipts_qty", zeros),
        m["safety_stock"][:, 0] if "safety_stock" in m else np.zeros(len(keys)),
        m["weeks_of_supply"][:, 0] if "weeks_of_supply" in m else np.zeros(len(keys)), price, cost, policy,
        spread_of(keys, m.get("demand_qty", zeros), m.get("demand_sd")), none, m.get("plan_demand_qty", zeros), at.astype(np.int64),
        m.get("predicted_projected_on_hand"),
    )


def profiles(w: World, eff: np.ndarray, stop: np.ndarray, rows: np.ndarray, by_demand: np.ndarray) -> np.ndarray:
    """(K, T) the per-unit change of each move's destination position (see the module doc)."""
    t = np.arange(len(w.weeks))[None, :]
    inside = (t >= np.asarray(eff)[:, None]) & (t < np.asarray(stop)[:, None])
    prof = inside.astype(float)
    shaped = np.asarray(by_demand, dtype=bool)
    if shaped.any():
        d = np.where(inside[shaped], np.clip(w.demand[np.asarray(rows)[shaped]], 0, None), 0.0)
        total = d.sum(axis=1, keepdims=True)
        prof[shaped] = np.where(total > 0, np.cumsum(d, axis=1) / np.where(total > 0, total, 1.0), 0.0) * inside[shaped]
    return prof
