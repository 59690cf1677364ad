"""The week's joint countermeasure plan: one optimisation over every move, written as the projection
kernel's own arithmetic (:mod:`soe_lib.core.kernel`), solved with HiGHS.

Variables: ``k[o]`` whole multiples of each move's order multiple (``x[o] = multiple[o] k[o]`` units,
``0 <= x[o] <= qty[o]``); ``y[f]`` in {0, 1} for each fixed cost (an order moved or raised, a transfer
from a source to a SKU-location, a new order) and each minimum order quantity; and per SKU-location
``i`` a move touches, per demand scenario ``s`` (one when its demand is certain), the kernel's units::

    z[i,s]    >= 0, z[i,s]   >= -(P[i,s,t] + sum_o x[o] prof[o,t])   every week t      units lost (lost-sales world)
    B[i,s,t]  >= 0, B[i,s,t] >= -(P[i,s,t] + sum_o x[o] prof[o,t])   every week t      units owed (backorder world)

so that ``z`` is the lost-sales world's ``-min(0, min_t P')`` and ``B`` its backlog (at the optimum
they take these values: they only cost). The objective is the kernel's money with the costs::

    minimise  sum_i 1/S sum_s [ (1-b_i) m_i z[i,s] + b_i sum_t (k p_i + m_i [t = T-1]) B[i,s,t] ]
              + sum_o cost_per_unit[o] x[o] + sum_f fixed[f] y[f]

subject to the shared limits:

- pools: ``sum_{o drawing on p, from week <= w} use[o] x[o] <= spare of p from week w`` for every pool
  ``p`` and week ``w`` one of its moves draws from (a donor's or substitute's stock above its safety
  stock from the shipping week on, in every scenario; an order's quantity; a resource-week's hours);
- storage, for every location and week a move could push over its capacity: the rise of units held
  when the week's receipts land (as ``storage_load`` counts them: ``max(P[i,t-1], 0) + receipts[i,t]``)
  over the series at the location, ``sum_i (max(P'[i,t-1], 0) - max(P[i,t-1], 0)) + sum_o x[o] dR[o,t]
  <= max(capacity, held) - held``: never above the capacity because of a move, nor further above it
  where the week already overflows (``max(P', 0)`` is linear where ``P >= 0``, else an ``h >= P'``, ``h >= 0``);
- fixed costs and minimum order quantities: ``x[o] <= qty[o] y[f(o)]``, ``x[o] >= moq[o] y[f(o)]``.

Net benefit of the plan = the kernel's money at risk of the touched SKU-locations without the moves
minus the objective. Rows that can never bind are left out (a week whose shortfall, even fully
helped by every move, stays below another week's unhelped one; a location-week with more room than
all its moves could fill). The solver stops when the plan is proven within ``plan_gap`` of the best
possible, or after ``plan_seconds`` with its best plan so far (the summary says so); the parts of the
model it gives no plan for in that time get a greedy pass valued by the kernel on their own moves (they
share no limit with the others), and without any plan from the solver the greedy pass plans every move
(:func:`greedy_plan`).

Each chosen move is then **re-projected** (:func:`reproject`): the kernel values every touched
SKU-location with all its chosen moves applied, and each move is credited with what it adds beside
the others (``reprojected_net_benefit``: the money at risk with the others only minus with all, less
its cost); the solver's own figure per move is its SKU-location's gain in the solution, split in the
same proportions (``chosen_net_benefit``). The plan's total both ways is in the summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .world import World, profiles

__all__ = ["PlanResult", "apply_plan", "greedy_plan", "joint_plan", "reproject"]

NO_UNITS = ("allocate", "accept")


@dataclass
class PlanResult:
    chosen: np.ndarray  # units per option row (0 for the rows not in the model)
    method: str
    status: str
    seconds: float
    variables: int
    binaries: int
    constraints: int
    objective: float  # the plan's net benefit as the solver (or the greedy pass) sees it
    gap: float = float("nan")  # proven: (best bound - plan) / plan; NaN when not proven (greedy)
    series_gain: dict[int, float] | None = None  # the solver's money at risk removed per touched series row
    reprojected: float = float("nan")  # the plan's net benefit re-projected through the kernel

    def summary(self) -> pd.DataFrame:
        """The ``countermeasure_plan`` table: how the plan was made, and its net benefit both ways."""
        gap = "not proven" if np.isnan(self.gap) else f"{self.gap:.3%}"
        diff = self.reprojected - self.objective
        share = f"{diff:+,.2f} ({diff / abs(self.objective):+.3%})" if abs(self.objective) > 1e-9 else f"{diff:+,.2f}"
        # no seconds here: the tables of a run are reproducible (the solve time is in the notebook's note)
        rows = [("method", self.method), ("status", self.status), ("variables", str(self.variables)),
                ("binary variables", str(self.binaries)), ("constraints", str(self.constraints)), ("net benefit", f"{self.objective:,.2f}"),
                ("net benefit, re-projected", f"{self.reprojected:,.2f}"), ("re-projected minus solver", share),
                ("within of the best plan", gap)]
        return pd.DataFrame(rows, columns=["measure", "value"])


def _unit_bound(options: pd.DataFrame, w: World) -> np.ndarray:
    """The most a unit of each move can be worth: its margin, plus, for the waiting share, a week of
    delay in every horizon week (what a unit never delivered costs at most)."""
    rows = options["row"].to_numpy(dtype=np.int64)
    b = w.policy.shares(len(w.keys), rows)
    return w.margin[rows] + b * w.policy.delay_cost_share * w.price[rows] * len(w.weeks)


def model_rows(options: pd.DataFrame, w: World) -> np.ndarray:
    """The options the model needs: moves of units on a SKU-location with a positive margin whose unit
    can be worth more than it costs, less those whose fixed cost could not be paid back even if every
    move sharing it were taken in full (no optimal plan uses them)."""
    unit = _unit_bound(options, w) - options["cost_per_unit"].to_numpy()
    rows = options["row"].to_numpy(dtype=np.int64)
    useful = (options["feasible"].to_numpy() & (options["cap"].to_numpy() >= 1 - 1e-9) & ~options["action"].isin(NO_UNITS).to_numpy()
              & (unit > 1e-12) & (w.margin[rows] > 0))
    key = options["fixed_key"].where(options["fixed_cost"] > 0, "")[useful]
    best = pd.Series(unit[useful] * options["cap"].to_numpy()[useful], index=key.index)
    payback = best.groupby(key).sum() - options.loc[key.index, "fixed_cost"].groupby(key).max()
    never = (key != "") & (key.map(payback) <= 0)
    return np.flatnonzero(useful)[~never.to_numpy()]


@dataclass
class _Columns:
    """Variables of the model in blocks; ``add`` returns the first index of a new block."""

    cost: list
    lower: list
    upper: list
    integer: list
    n: int = 0

    def add(self, cost: np.ndarray, upper: np.ndarray, integer: bool, lower: np.ndarray | None = None) -> int:
        start = self.n
        self.cost.append(np.asarray(cost, dtype=float))
        self.lower.append(np.zeros(len(cost)) if lower is None else np.asarray(lower, dtype=float))
        self.upper.append(np.asarray(upper, dtype=float))
        self.integer.append(np.full(len(cost), 1 if integer else 0))
        self.n += len(cost)
        return start


@dataclass
class _Rows:
    """Constraint rows as sparse triplets with their bounds."""

    r: list
    c: list
    v: list
    lb: list
    ub: list
    n: int = 0

    def add(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> None:
        """Rows numbered 0..len(lb)-1 in this block (``rows`` index them)."""
        self.r.append(np.asarray(rows, dtype=np.int64) + self.n)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.asarray(vals, dtype=float))
        self.lb.append(np.asarray(lb, dtype=float))
        self.ub.append(np.asarray(ub, dtype=float))
        self.n += len(lb)


@dataclass
class _Model:
    """The moves in the model and the series they touch."""

    m: pd.DataFrame  # model options (rows of the options table)
    prof: np.ndarray  # (K, T)
    series: np.ndarray  # touched series rows of the world
    si: np.ndarray  # (K,) position of each option's series in ``series``
    position: np.ndarray  # (n, S, T) positions per touched series and scenario (S = 1 without scenarios; NaN pads)
    weight: np.ndarray  # (n, S) 1/S for real scenarios, 0 for pads

    def subset(self, keep: np.ndarray) -> _Model:
        """The moves ``keep`` (a mask over ``m``) and the series they touch."""
        used, si = np.unique(self.si[keep], return_inverse=True)
        return _Model(self.m[keep].reset_index(drop=True), self.prof[keep], self.series[used], si, self.position[used], self.weight[used])


def _scenarios(w: World, series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, S, T) positions of the touched series in each of their scenarios and (n, S) their weights."""
    sub = w.spread.take(series)
    s = sub.offset.shape[1] if len(sub.rows) else 1
    pos = np.full((len(series), s, len(w.weeks)), np.nan)
    weight = np.zeros((len(series), s))
    pos[:, 0, :] = w.position[series]
    weight[:, 0] = 1.0
    if len(sub.rows):
        pos[sub.rows] = w.position[series[sub.rows]][:, None, :] + sub.offset
        weight[sub.rows] = 1.0 / s
    return pos, weight


def _kernel_rows(md: _Model, w: World, cols: _Columns, rows: _Rows, x0: int, ycol: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lost (z) and owed (B) variables and their rows; returns (variable index, series, cost
    coefficient) of every such variable, to read each series' money from a solution."""
    b = w.policy.shares(len(w.keys), md.series)
    margin, price = w.margin[md.series], w.price[md.series]
    n, s, t = md.position.shape
    real = md.weight > 0
    deficit = np.where(real[:, :, None], -np.nan_to_num(md.position), -np.inf)  # (n, S, T)
    # the most help each week can get from the moves: the units lost are at least the largest shortfall
    # left with all of it (z's lower bound), so a week whose shortfall is below that needs no row
    help_max = np.zeros((n, t))
    np.add.at(help_max, md.si, md.m["cap"].to_numpy()[:, None] * md.prof)
    floor = np.max(deficit - help_max[:, None, :], axis=2, initial=0.0)
    ii, ss = np.nonzero(real & ((1 - b) > 1e-12)[:, None])
    lost_cost = ((1 - b) * margin)[ii] * md.weight[ii, ss]
    z = cols.add(lost_cost, np.full(len(ii), np.inf), False, lower=np.maximum(floor[ii, ss], 0.0)) + np.arange(len(ii))
    jj, tt = np.nonzero(deficit[ii, ss] > np.maximum(floor[ii, ss], 0.0)[:, None] + 1e-12)
    # within a stretch of weeks where no move's profile changes, only the deepest week can set z
    segment = _segments(md)
    keep = pd.DataFrame({"j": jj, "seg": segment[ii[jj], tt], "d": deficit[ii[jj], ss[jj], tt]})
    keep = keep.sort_values("d", ascending=False, kind="stable").drop_duplicates(["j", "seg"]).index.to_numpy()
    jj, tt = jj[keep], tt[keep]
    _demand_rows(md, ii[jj], tt, deficit[ii[jj], ss[jj], tt], z[jj], rows, x0, ycol)
    ib, sb, tb = np.nonzero((deficit > 1e-12) & (b > 1e-12)[:, None, None])
    owed_cost = b[ib] * md.weight[ib, sb] * (w.policy.delay_cost_share * price[ib] + margin[ib] * (tb == t - 1))
    bv = cols.add(owed_cost, np.full(len(ib), np.inf), False) + np.arange(len(ib))
    _demand_rows(md, ib, tb, deficit[ib, sb, tb], bv, rows, x0, ycol)
    return np.concatenate([z, bv]), np.concatenate([ii, ib]), np.concatenate([lost_cost, owed_cost])


def _segments(md: _Model) -> np.ndarray:
    """(n, T) per touched series, the number of the stretch of weeks each week is in: a new stretch
    starts where any of the series' move profiles changes."""
    change = np.zeros(md.prof.shape, dtype=bool)
    change[:, 1:] = np.abs(np.diff(md.prof, axis=1)) > 1e-12
    starts = np.zeros((len(md.series), md.prof.shape[1]), dtype=bool)
    np.logical_or.at(starts, md.si, change)
    return np.cumsum(starts, axis=1)


def _demand_rows(md: _Model, owner: np.ndarray, week: np.ndarray, deficit: np.ndarray, var: np.ndarray, rows: _Rows, x0: int,
                 ycol: np.ndarray) -> None:
    """One row per entry j: ``var[j] + sum over the moves o of series owner[j] of x[o] prof[o, week[j]] >= deficit[j]``,
    and, where a move of it has a fixed cost, the same row with that move's term written on its yes/no
    variable: ``min(prof[o, t] qty[o], deficit[j]) y[o]`` (valid: a move taken covers at most that much of
    the row, and none when not taken). The second form is what makes the relaxation tight: without it
    a fixed cost is paid in proportion to the units taken."""
    if not len(owner):
        return
    k = np.arange(len(owner))
    opts = pd.DataFrame({"o": np.arange(len(md.si)), "series": md.si})
    pairs = pd.DataFrame({"k": k, "series": owner, "t": week}).merge(opts, on="series")
    o = pairs["o"].to_numpy()
    prof = md.prof[o, pairs["t"].to_numpy()]
    keep = prof > 1e-12
    pairs, o, prof = pairs[keep], o[keep], prof[keep]
    pk = pairs["k"].to_numpy()
    rows.add(np.concatenate([k, pk]), np.concatenate([var, x0 + o]), np.concatenate([np.ones(len(k)), prof * md.m["multiple"].to_numpy()[o]]),
             deficit, np.full(len(k), np.inf))
    fixed = ycol[o] >= 0
    cut = np.unique(pk[fixed])
    if not len(cut):
        return
    at = np.full(len(k), -1)
    at[cut] = np.arange(len(cut))
    inside = at[pk] >= 0
    term_y = np.minimum(prof * md.m["cap"].to_numpy()[o], deficit[pk])
    col = np.where(fixed, ycol[o], x0 + o)
    val = np.where(fixed, term_y, prof * md.m["multiple"].to_numpy()[o])
    rows.add(np.concatenate([np.arange(len(cut)), at[pk][inside]]), np.concatenate([var[cut], col[inside]]),
             np.concatenate([np.ones(len(cut)), val[inside]]), deficit[cut], np.full(len(cut), np.inf))


def draws(m: pd.DataFrame) -> pd.DataFrame:
    """Every (move ``o``, pool, week, cap, use) a move draws on: its ``pool`` and, for a mode switch, its second
    pool (``pool2``: the faster lane's room in its shipping week; week 0, so it is one limit)."""
    first = pd.DataFrame({"o": np.arange(len(m)), "pool": m["pool"].to_numpy(), "pool_week": m["pool_week"].to_numpy(),
                          "pool_cap": m["pool_cap"].to_numpy(dtype=float), "use": m["pool_use"].to_numpy(dtype=float)})
    if "pool2" not in m:
        return first[first["pool"] != ""].reset_index(drop=True)
    second = pd.DataFrame({"o": np.arange(len(m)), "pool": m["pool2"].to_numpy(), "pool_week": 0, "pool_cap": m["pool2_cap"].to_numpy(dtype=float),
                           "use": m["pool2_use"].to_numpy(dtype=float)})
    # a lane with room for every move that could go on it never binds: left out (it would join their parts of the model)
    most = (second["use"] * m["cap"].to_numpy(dtype=float)).groupby(second["pool"]).transform("sum")
    second = second[most > second["pool_cap"] + 1e-9]
    both = pd.concat([first, second], ignore_index=True)
    return both[both["pool"] != ""].reset_index(drop=True)


def _pool_rows(md: _Model, rows: _Rows, x0: int) -> None:
    """Every pool and week a move draws from: the units (x use) drawn from it by then <= its spare from then."""
    drawn = draws(md.m)
    if drawn.empty:
        return
    weeks = drawn.groupby(["pool", "pool_week"], as_index=False)["pool_cap"].min()
    pairs = weeks.reset_index().merge(drawn[["pool", "pool_week", "o", "use"]].rename(columns={"pool_week": "w"}), on="pool")
    pairs = pairs[pairs["w"] <= pairs["pool_week"]]
    o = pairs["o"].to_numpy()
    coef = pairs["use"].to_numpy() * md.m["multiple"].to_numpy()[o]
    rows.add(pairs["index"].to_numpy(), x0 + o, coef, np.full(len(weeks), -np.inf), weeks["pool_cap"].to_numpy())


def _fixed_rows(md: _Model, cols: _Columns, rows: _Rows, x0: int) -> tuple[int, np.ndarray]:
    """yes/no variables of the fixed costs and minimum quantities, and their links to the moves;
    returns (their number, the yes/no column of each move, -1 for none)."""
    m = md.m
    keyed = m["fixed_key"].where((m["fixed_cost"] > 0) | (m["min_qty"] > 0), "")
    has = np.flatnonzero(keyed.to_numpy() != "")
    ycol = np.full(len(m), -1, dtype=np.int64)
    if not len(has):
        return 0, ycol
    codes, keys = pd.factorize(keyed.iloc[has])
    fixed = m["fixed_cost"].iloc[has].groupby(codes).max().to_numpy()
    y0 = cols.add(fixed, np.ones(len(keys)), True)
    ycol[has] = y0 + codes
    mult = m["multiple"].to_numpy()[has]
    k = np.arange(len(has))
    rows.add(np.concatenate([k, k]), np.concatenate([x0 + has, y0 + codes]), np.concatenate([mult, -m["cap"].to_numpy()[has]]),
             np.full(len(has), -np.inf), np.zeros(len(has)))
    least = m["min_qty"].to_numpy()[has] > 0
    if least.any():
        k = np.arange(int(least.sum()))
        rows.add(np.concatenate([k, k]), np.concatenate([x0 + has[least], y0 + codes[least]]),
                 np.concatenate([mult[least], -m["min_qty"].to_numpy()[has][least]]), np.zeros(len(k)), np.full(len(k), np.inf))
    return len(keys), ycol


def _storage_rows(md: _Model, w: World, storage: pd.DataFrame | None, cols: _Columns, rows: _Rows, x0: int) -> None:
    """Units held per location and week never pushed over the storage capacity by the moves (module doc)."""
    if storage is None or storage.empty or storage["storage_capacity"].isna().all():
        return
    t_n = len(w.weeks)
    loc = w.keys["location"].to_numpy()[md.series]
    on_hand = w.position[md.series, 0] - w.receipts[md.series, 0] + w.demand[md.series, 0]
    before = np.concatenate([on_hand[:, None], w.position[md.series, :-1]], axis=1)  # P[t-1]
    prof_before = np.concatenate([np.zeros((len(md.prof), 1)), md.prof[:, :-1]], axis=1)
    receipt = ~md.m["by_demand"].to_numpy(dtype=bool)
    d_r = np.where(receipt[:, None], md.prof - prof_before, 0.0)
    st = storage.assign(t=((pd.to_datetime(storage["week"]) - w.weeks[0]).dt.days // 7).to_numpy())
    st = st[(st["t"] >= 0) & (st["t"] < t_n) & st["storage_capacity"].notna()]
    held = st.set_index(["location", "t"])[["units_held", "storage_capacity"]]
    # the most each location-week's units held can rise: every move at it taking all its units
    reach = pd.DataFrame({"location": loc[md.si], "eff": md.m["eff"].to_numpy(), "qty": md.m["cap"].to_numpy()})
    grid = pd.DataFrame({"location": held.index.get_level_values(0), "t": held.index.get_level_values(1)}).merge(reach, on="location")
    rise = grid[grid["eff"] <= grid["t"]].groupby(["location", "t"])["qty"].sum()
    room = (np.maximum(held["storage_capacity"], held["units_held"]) - held["units_held"]).reindex(rise.index)
    tight = rise[(rise > room + 1e-9)].index
    if not len(tight):
        return
    lt = pd.DataFrame({"location": tight.get_level_values(0), "t": tight.get_level_values(1)}).reset_index(names="r")
    at = pd.MultiIndex.from_frame(lt[["location", "t"]])
    bound = (np.maximum(held["storage_capacity"], held["units_held"]) - held["units_held"]).reindex(at).to_numpy()
    opts = pd.DataFrame({"o": np.arange(len(md.si)), "i": md.si, "location": loc[md.si]})
    moves = lt.merge(opts, on="location")  # every move at the row's location
    o, t, i, r = (moves[c].to_numpy() for c in ("o", "t", "i", "r"))
    mult = md.m["multiple"].to_numpy()[o]
    rise_before = prof_before[o, t] * mult  # how x[o] moves P[i, t-1]
    # the change of units held of series i in week t: max(P[t-1] + sum x prof, 0) - max(P[t-1], 0) + sum x dR.
    # Where P[t-1] >= 0 the first part is linear (sum x prof); elsewhere it needs h >= P[t-1] + sum x prof, h >= 0
    kinked = (before[i, t] < 0) & (rise_before > 1e-12)
    pairs = moves.loc[kinked, ["r", "i", "t"]].drop_duplicates().reset_index(drop=True)
    h = cols.add(np.zeros(len(pairs)), np.full(len(pairs), np.inf), False) + np.arange(len(pairs))
    linear = ~kinked & (before[i, t] >= 0)
    coef = d_r[o, t] * mult + np.where(linear, rise_before, 0.0)
    keep = np.abs(coef) > 1e-12
    rows.add(np.concatenate([pairs["r"].to_numpy(), r[keep]]), np.concatenate([h, x0 + o[keep]]),
             np.concatenate([np.ones(len(pairs)), coef[keep]]), np.full(len(lt), -np.inf), bound)
    # each h at least what its series holds brought in: h - sum x prof[t-1] >= P[t-1]
    hm = pairs.reset_index(names="k").merge(moves.loc[kinked, ["r", "i", "o"]], on=["r", "i"])
    c2 = prof_before[hm["o"].to_numpy(), hm["t"].to_numpy()] * md.m["multiple"].to_numpy()[hm["o"].to_numpy()]
    rows.add(np.concatenate([np.arange(len(pairs)), hm["k"].to_numpy()]), np.concatenate([h, x0 + hm["o"].to_numpy()]),
             np.concatenate([np.ones(len(pairs)), -c2]), before[pairs["i"].to_numpy(), pairs["t"].to_numpy()], np.full(len(pairs), np.inf))


def _model(options: pd.DataFrame, w: World) -> _Model:
    rows = model_rows(options, w)
    # one order whatever the split of the series (parts on a cluster): HiGHS may pick another of equally good
    # plans when the same model comes in another order, and a run's plan must not depend on the split
    second = ["pool2"] if "pool2" in options else []
    canon = options.iloc[rows][["sku", "location", "action", "pool", *second, "pool_week", "eff", "stop", "fixed_key", "source_location", "substitute_sku",
                                "resource", "order_id"]].astype(str)
    rows = rows[np.lexsort([canon[c].to_numpy() for c in reversed(canon.columns)])]
    m = options.iloc[rows].reset_index(drop=True)
    # the only move on its SKU-location never usefully takes more than it recovers all it can with alone
    alone = ~m["row"].duplicated(keep=False).to_numpy()
    m["cap"] = np.where(alone, np.minimum(m["cap"], m["qty"]), m["cap"])
    prof = profiles(w, m["eff"].to_numpy(), m["stop"].to_numpy(), m["row"].to_numpy(dtype=np.int64), m["by_demand"].to_numpy(dtype=bool))
    si, series = pd.factorize(m["row"].to_numpy(dtype=np.int64))  # series in the options' order
    pos, weight = _scenarios(w, series)
    return _Model(m.assign(_option=rows), prof, series, si, pos, weight)


def joint_plan(options: pd.DataFrame, w: World, seconds: float = 10.0, gap: float = 0.001, storage: pd.DataFrame | None = None) -> PlanResult:
    """Solve the model of the module doc (to within ``gap`` of the best net benefit, or ``seconds``:
    :mod:`.highs`); the greedy plan when the solver gives none. ``storage``: the ``storage_load`` table."""
    from .highs import solve

    t0 = time.perf_counter()
    md = _model(options, w)
    if md.m.empty:
        return PlanResult(np.zeros(len(options)), "nothing to plan", "no option recovers units", 0.0, 0, 0, 0, 0.0, 0.0, {}, 0.0)
    cols, rows = _Columns([], [], [], []), _Rows([], [], [], [], [])
    mult = md.m["multiple"].to_numpy()
    x0 = cols.add(md.m["cost_per_unit"].to_numpy() * mult, np.floor(md.m["cap"].to_numpy() / mult + 1e-9), True)
    binaries, ycol = _fixed_rows(md, cols, rows, x0)
    var, owner, coef = _kernel_rows(md, w, cols, rows, x0, ycol)
    _pool_rows(md, rows, x0)
    _storage_rows(md, w, storage, cols, rows, x0)
    c = np.concatenate(cols.cost)
    a = sparse.csr_matrix((np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))), shape=(rows.n, cols.n))
    base = w.value(md.series)
    sol = solve(c, a, np.concatenate(cols.lower), np.concatenate(cols.upper), np.concatenate(rows.lb), np.concatenate(rows.ub),
                np.concatenate(cols.integer), seconds, gap)
    if sol.x is None:
        greedy = greedy_plan(options, w, storage, md)  # the same model, not built again (at 1M: 947k variables)
        return PlanResult(greedy.chosen, "greedy (the solver gave no plan)", sol.status, time.perf_counter() - t0, cols.n, binaries, rows.n,
                          greedy.objective, float("nan"), greedy.series_gain, greedy.reprojected)
    chosen = np.zeros(len(options))
    chosen[md.m["_option"].to_numpy()] = np.round(sol.x[x0 : x0 + len(md.m)]) * mult
    left = pd.Series(coef * sol.x[var]).groupby(owner).sum().reindex(np.arange(len(md.series))).fillna(0.0).to_numpy()
    gain = base - left
    net = float(base.sum() - sol.objective)
    method = f"HiGHS mixed-integer by parts ({sol.parts:,} parts, {sol.searched:,} searched)"
    late = sol.unsolved[x0 : x0 + len(md.m)]
    if late.any():  # the parts without a plan in the time: greedy on their own moves (they share no limit with the others)
        net, solved = _greedy_for(md, late, w, storage, chosen, gain, net, base)
        why = f"{sol.late:,} parts' relaxation did not finish in its share of {seconds:g} s (or was too large to try)" if sol.late else "the search's time ran out"
        method += f"; the moves of {solved:,} SKU-locations greedy ({why})"
    best = float(base.sum() - sol.bound)  # NaN when a part has no relaxation: nothing is proven
    proven = float("nan") if not np.isfinite(best) else max((best - net) / abs(net), 0.0) if abs(net) > 1e-9 else 0.0
    status = ("optimal" if proven <= gap + 1e-12 else "good plan (the gap is against the relaxation)") if sol.status == "solved" else sol.status
    plan = PlanResult(chosen, method, status, 0.0, cols.n, binaries, rows.n, net, proven,
                      {int(r): float(g) for r, g in zip(md.series, gain, strict=True)})
    reproject(options, w, plan)
    plan.seconds = time.perf_counter() - t0
    return plan


def _greedy_for(md: _Model, late: np.ndarray, w: World, storage: pd.DataFrame | None, chosen: np.ndarray, gain: np.ndarray,
                net: float, base: np.ndarray) -> tuple[float, int]:
    """The greedy plan of the moves ``late`` (whole parts of the model) written into ``chosen`` and ``gain``
    (per series of ``md``: the solver's until now); returns the plan's net benefit with theirs instead and how
    many series they touch. ``net`` counted the solver's gain on them: their moves at 0, but a series' units
    lost that no row can change (a lower bound of their own) sit in parts of their own the solver did solve."""
    sub = md.subset(late)
    at = pd.Index(md.series).get_indexer(sub.series)
    units, objective, current = _greedy(sub, w, storage, base[at])
    chosen[sub.m["_option"].to_numpy()] = units
    net -= float(gain[at].sum())
    gain[at] = base[at] - current
    return net + objective, len(sub.series)


def _costs(options: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """Each option's cost in a plan taking ``x`` units of it: per unit x units, and a fixed cost once per
    key, on the option taking the most of it."""
    used = options[(x > 0) & (options["fixed_key"] != "")].assign(_x=x[(x > 0) & (options["fixed_key"] != "").to_numpy()])
    payer = used.sort_values("_x", ascending=False, kind="stable").drop_duplicates("fixed_key").index
    return options["cost_per_unit"].to_numpy() * x + np.where(options.index.isin(payer), options["fixed_cost"].to_numpy(), 0.0)


def reproject(options: pd.DataFrame, w: World, plan: PlanResult) -> pd.DataFrame:
    """Per option with chosen units: ``chosen_cost``; ``reprojected_net_benefit``, what the move adds to
    the plan: the kernel's money at risk of its SKU-location with every other chosen move applied minus
    with all of them, less its cost (moves that only pay together, e.g. one covering the early weeks and
    one the late weeks of a lost-sales shortage, each show what they add beside the other); and
    ``chosen_net_benefit``, its SKU-location's gain in the solver's solution split among its moves in
    proportion to what they add, less its cost (these add up to the solver's net benefit). Also sets
    ``plan.reprojected``: the plan's net benefit re-projected, all moves applied, less all costs."""
    x = np.where(plan.chosen > 1e-9, plan.chosen, 0.0)
    out = pd.DataFrame({"chosen_qty": x, "chosen_cost": _costs(options, x), "reprojected_net_benefit": 0.0, "chosen_net_benefit": 0.0},
                       index=options.index)
    picked = options[x > 0].assign(_x=x[x > 0])
    if picked.empty:
        plan.reprojected = 0.0
        return out
    rows = picked["row"].to_numpy(dtype=np.int64)
    delta = profiles(w, picked["eff"].to_numpy(), picked["stop"].to_numpy(), rows, picked["by_demand"].to_numpy(dtype=bool)) * picked["_x"].to_numpy()[:, None]
    series, at = np.unique(rows, return_inverse=True)
    total = np.zeros((len(series), delta.shape[1]))
    np.add.at(total, at, delta)
    base, after = w.value(series), w.value(series, total)
    without = w.value(rows, total[at] - delta)  # each move left out, the others kept
    adds = without - after[at]
    cost = out.loc[picked.index, "chosen_cost"].to_numpy()
    out.loc[picked.index, "reprojected_net_benefit"] = adds - cost
    gain = base - after
    solver = np.array([(plan.series_gain or {}).get(int(r), np.nan) for r in series])
    solver = np.where(np.isnan(solver), gain, solver)
    share_sum = np.bincount(at, weights=adds, minlength=len(series))
    count = np.bincount(at, minlength=len(series)).astype(float)
    share = np.where(np.abs(share_sum[at]) > 1e-12, adds / np.where(np.abs(share_sum[at]) > 1e-12, share_sum[at], 1.0), 1.0 / count[at])
    out.loc[picked.index, "chosen_net_benefit"] = solver[at] * share - cost
    plan.reprojected = float(gain.sum() - out["chosen_cost"].sum())
    return out


def _storage_room(w: World, storage: pd.DataFrame | None) -> dict[tuple[str, int], float]:
    """Room per (location, week position) before a move pushes units held over the storage capacity."""
    if storage is None or storage.empty:
        return {}
    st = storage[storage["storage_capacity"].notna()]
    t = ((pd.to_datetime(st["week"]) - w.weeks[0]).dt.days // 7).to_numpy()
    room = (np.maximum(st["storage_capacity"], st["units_held"]) - st["units_held"]).to_numpy()
    return dict(zip(zip(st["location"].astype(str), t.tolist(), strict=True), room.tolist(), strict=True))


def greedy_plan(options: pd.DataFrame, w: World, storage: pd.DataFrame | None = None, md: _Model | None = None) -> PlanResult:
    """The fallback (and the benchmark's peer): moves by stand-alone net benefit per unit, each taking
    the whole multiples its pool, the storage room and the earlier choices leave, kept when the
    kernel says its increment pays for it. Storage is counted cautiously: a move's units are taken as
    held at its location in every week its profile covers. ``md``: the model of ``options`` when the solver's
    attempt built it already."""
    t0 = time.perf_counter()
    md = _model(options, w) if md is None else md
    chosen = np.zeros(len(options))
    if md.m.empty:
        return PlanResult(chosen, "greedy", "done", 0.0, 0, 0, 0, 0.0, float("nan"), {}, 0.0)
    before = w.value(md.series)
    units, objective, current = _greedy(md, w, storage, before)
    chosen[md.m["_option"].to_numpy()] = units
    plan = PlanResult(chosen, "greedy", "done", 0.0, len(md.m), 0, 0, objective, float("nan"))
    plan.series_gain = {int(r): float(v) for r, v in zip(md.series, before - current, strict=True)}
    reproject(options, w, plan)
    plan.seconds = time.perf_counter() - t0
    return plan


GREEDY_WINDOW = 512  # moves valued by the kernel in one call (then confirmed one by one)
GREEDY_READS = ["cap", "cost_per_unit", "fixed_cost", "fixed_key", "min_qty", "multiple"]


def _greedy(md: _Model, w: World, storage: pd.DataFrame | None, before: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(units per move of ``md``, the plan's net benefit, each series' money at risk after it): one pass over
    the moves by stand-alone net benefit per unit (:func:`greedy_plan`); ``before``: each series' money at risk
    without moves (the caller has it).

    The pass is sequential (each move takes what the earlier ones left), but the kernel values the moves of a
    window of :data:`GREEDY_WINDOW` at once, with the limits and series as the window found them; a move whose
    series an earlier move of the window changed, or whose pool or storage room it drew on, is valued again
    alone. The same plan to the unit as valuing every move alone (at 1M, 800k kernel calls took 37 s)."""
    m = md.m
    units = np.zeros(len(m))
    score = (m["net_benefit"] / m["qty"].clip(lower=1.0)).to_numpy()
    delta = np.zeros((len(md.series), len(w.weeks)))
    current = np.array(before, dtype=float)
    limits = _Limits.of(md, w, storage)
    objective = 0.0
    rows = m[GREEDY_READS].to_dict("records")  # what the pass reads of a move (all 37 columns: 4.6 s at 1M)
    second = zip(m["pool2"], m["pool2_use"], strict=True) if "pool2" in m else ((("", 1.0),) * len(m))
    for o, first, (pool2, use2) in zip(rows, zip(m["pool"], m["pool_week"], m["pool_use"], strict=True), second, strict=True):
        o["pools"] = [p for p in ((first[0], int(first[1]), float(first[2])), (pool2, 0, float(use2))) if p[0]]  # (pool, week, use)
    order = np.argsort(-score, kind="stable")
    for start in range(0, len(order), GREEDY_WINDOW):  # one pass over the moves (a fallback: the solver is the plan)
        window = order[start : start + GREEDY_WINDOW]
        found = [limits.units(rows[j], j) for j in window]
        xs = np.array([x for x, _, _ in found])
        ask = xs > 0
        valued = np.full(len(window), np.nan)  # each move's money at risk after it, as the window found the limits
        si = md.si[window[ask]]
        valued[ask] = w.value(md.series[si], delta[si] + xs[ask, None] * md.prof[window[ask]])
        limits.start_window()
        touched: set[int] = set()
        for k, j in enumerate(window):
            o, (x, weeks, where) = rows[j], found[k]
            if limits.changed(o, where):
                x = limits.units(o, j)[0]
            if x <= 0:
                continue
            i = int(md.si[j])
            if x == xs[k] and i not in touched:  # as the window found it (x > 0 then, so it was valued)
                after = float(valued[k])
            else:
                after = float(w.value(md.series[i : i + 1], (delta[i] + x * md.prof[j])[None, :])[0])
            gain = current[i] - after - o["cost_per_unit"] * x - limits.fixed(o)
            if gain <= 1e-9:
                continue
            limits.take(o, x, weeks, where)
            delta[i] += x * md.prof[j]
            current[i] = after
            touched.add(i)
            units[j] = x
            objective += gain
    return units, objective, current


@dataclass
class _Limits:
    """What the greedy pass has left of the pools, the storage room and the unpaid fixed costs."""

    md: _Model
    pools: dict[str, dict[int, float]]
    room: dict[tuple[str, int], float]
    location: np.ndarray
    lifted: np.ndarray  # (K, T) the weeks each move raises the units held in (its profile's, and the week after)
    paid: set
    dirty_pools: set
    dirty_room: set

    @staticmethod
    def of(md: _Model, w: World, storage: pd.DataFrame | None) -> _Limits:
        caps = draws(md.m).groupby(["pool", "pool_week"])["pool_cap"].min()
        pools: dict[str, dict[int, float]] = {}
        for (pool, week), cap in caps.items():
            pools.setdefault(pool, {})[int(week)] = float(cap)
        rises = md.prof > 1e-12
        lifted = rises.copy()
        lifted[:, 1:] |= rises[:, :-1]  # units held rise from the week after P rises too
        return _Limits(md, pools, _storage_room(w, storage), w.keys["location"].astype(str).to_numpy(), lifted, set(), set(), set())

    def units(self, o: dict, j: int) -> tuple[float, list, list]:
        """(units move ``o`` (row ``j``) can take now, 0 when below its minimum; its pool weeks; its storage keys)."""
        md = self.md
        most = float(o["cap"])
        weeks = [(pool, wk, use) for pool, week, use in o["pools"] for wk in self.pools.get(pool, {}) if wk >= week]
        for pool, wk, use in weeks:
            most = min(most, self.pools[pool][wk] / use)
        where = []
        if self.room:  # only a location with a storage capacity has room to count
            where = [(self.location[md.series[md.si[j]]], t) for t in np.flatnonzero(self.lifted[j]).tolist()]
            for key in where:
                most = min(most, self.room.get(key, np.inf))
        mult = float(o["multiple"])
        x = np.floor(most / mult + 1e-9) * mult
        return (float(x) if x >= max(1.0, float(o["min_qty"])) - 1e-9 else 0.0), weeks, where

    def start_window(self) -> None:
        self.dirty_pools.clear()
        self.dirty_room.clear()

    def changed(self, o: dict, where: list) -> bool:
        """A move of this window drew on the pool or storage room ``o`` needs since the window began."""
        return any(pool in self.dirty_pools for pool, _, _ in o["pools"]) or any(key in self.dirty_room for key in where)

    def fixed(self, o: dict) -> float:
        return float(o["fixed_cost"]) if o["fixed_key"] and o["fixed_key"] not in self.paid else 0.0

    def take(self, o: dict, x: float, weeks: list, where: list) -> None:
        self.paid.add(o["fixed_key"])
        for pool, wk, use in weeks:
            self.pools[pool][wk] -= use * x
            self.dirty_pools.add(pool)
        for key in where:
            if key in self.room:
                self.room[key] -= x
                self.dirty_room.add(key)


def apply_plan(options: pd.DataFrame, plan: PlanResult, w: World) -> pd.DataFrame:
    """``chosen_qty``, ``chosen_cost`` (its fixed cost once per key, on the option taking the most),
    ``chosen_net_benefit`` and ``reprojected_net_benefit`` of every option row (:func:`reproject`)."""
    out = options.copy()
    figures = reproject(options, w, plan)
    for col in figures:
        out[col] = figures[col]
    return out
